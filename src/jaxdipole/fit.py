"""Fits of the dipole couplings and detector optimisation by gradient (optax, pure JAX).

Public functions::

    minimize(nll_fn, x0)                               -> FitResult     (L-BFGS, Hessian errors)
    fit_couplings(model, data, expected_fn)            -> CouplingFit   (Poisson fit in ln mu)
    profile_likelihood(nll_fn, x_best, index, values)  -> (delta_2nll, x_profiled)
    profile_interval(values, delta_2nll, level=1.0)    -> (lo, hi)
    maximize(fom_fn, x0, lower, upper)                 -> OptimizeResult (Adam in a box)
    expected_limit_primakoff(model, exp, edges)        -> mu_90 [GeV^-1] (figure of merit)

Every optimisation loop is one compiled ``lax.while_loop`` (L-BFGS) or ``lax.scan`` (Adam,
profile scans); the functions are jit-compiled with :func:`equinox.filter_jit` (the objective
is a static argument: pass the same function object, or an ``eqx.Module``/``eqx.Partial``
holding the data as arrays, to avoid re-tracing) and can be ``jax.vmap``-ed, e.g. over
pseudo-experiments.

Conventions: ``nll`` is a negative log-likelihood, so the 1σ errors are those of
Δnll = 1/2 (Δ(2 nll) = 1); covariance = inverse Hessian of the nll at its minimum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import optax.tree_utils as otu
from jax import Array
from jax.flatten_util import ravel_pytree
from jax.typing import ArrayLike

from . import stats
from ._checks import concrete
from ._deprecate import renamed_arguments
from .experiment import Experiment
from .model import DipoleModel
from .sensitivity import primakoff_reach

__all__ = [
    "FitResult",
    "CouplingFit",
    "OptimizeResult",
    "minimize",
    "fit_couplings",
    "profile_likelihood",
    "profile_interval",
    "maximize",
    "expected_limit_primakoff",
]


# ============================================================================ results
class FitResult(eqx.Module):
    """Result of :func:`minimize`.

    Attributes
    ----------
    x : pytree
        Best-fit parameters (same structure as ``x0``).
    nll : Array
        Objective at ``x`` (scalar).
    grad_norm : Array
        Euclidean norm of the gradient at ``x`` (over all flattened parameters).
    hessian : Array
        Hessian (P, P) of the objective at ``x`` over the flattened parameters
        (``jax.flatten_util.ravel_pytree`` order).
    cov : Array
        Inverse Hessian (P, P): the covariance for an nll (Δnll = 1/2 errors).
    errors : pytree
        sqrt(diag cov), structured like ``x0`` (NaN where the Hessian is not positive definite).
    n_iter : Array
        Number of L-BFGS iterations (int).
    converged : Array
        ``grad_norm < tol`` (bool).
    """

    x: Any
    nll: Array
    grad_norm: Array
    hessian: Array
    cov: Array
    errors: Any
    n_iter: Array
    converged: Array


class CouplingFit(eqx.Module):
    """Result of :func:`fit_couplings`.

    Attributes
    ----------
    mu : Array
        Best-fit couplings ``model.mu[free]``, shape (len(free),) [GeV^-1].
    mu_errors : Array
        1σ Hessian errors of ``mu`` [GeV^-1], propagated from ln μ: σ_μ = μ σ_lnμ.
    log_mu_errors : Array
        1σ Hessian errors of ln μ (dimensionless), shape (len(free),).
    model : DipoleModel
        The best-fit model (input model with ``mu[free]`` replaced).
    result : FitResult
        The underlying fit in the variables ln(μ / GeV^-1).
    """

    mu: Array
    mu_errors: Array
    log_mu_errors: Array
    model: DipoleModel
    result: FitResult


class OptimizeResult(eqx.Module):
    """Result of :func:`maximize`.

    Attributes
    ----------
    x : pytree
        Parameters with the largest figure of merit seen (same structure as ``x0``).
    fom : Array
        The figure of merit at ``x``.
    history_x : pytree
        Parameters at every step, leading axis ``steps + 1`` (start and after each update).
    history_fom : Array
        Figure of merit at every entry of ``history_x``, shape (steps + 1,).
    """

    x: Any
    fom: Array
    history_x: Any
    history_fom: Array


# ============================================================================ L-BFGS core
def _lbfgs(f: Callable[[Array], Array], v0: Array, maxiter: int, tol: float):
    """Minimise f over a flat vector with optax L-BFGS (zoom line search) in a while_loop.

    Stops when ||grad|| < tol, after ``maxiter`` iterations, when a step leaves the point
    unchanged (line search stalled at round-off) or when the value is not finite.
    Returns (v, value, grad_norm, n_iter).
    """
    opt = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(f)

    def step(carry):
        v, state, _ = carry
        value, grad = value_and_grad(v, state=state)
        updates, state = opt.update(grad, state, v, value=value, grad=grad, value_fn=f)
        v_new = optax.apply_updates(v, updates)
        stalled = jnp.all(v_new == v)
        return v_new, state, stalled

    def cond(carry):
        _, state, stalled = carry
        k = otu.tree_get(state, "count")
        err = otu.tree_norm(otu.tree_get(state, "grad"))
        value = otu.tree_get(state, "value")
        go = (k < maxiter) & (err >= tol) & ~stalled & jnp.isfinite(value)
        return (k == 0) | go

    carry0 = (v0, opt.init(v0), jnp.asarray(False))
    v, state, _ = jax.lax.while_loop(cond, step, carry0)
    value, grad = jax.value_and_grad(f)(v)
    return v, value, jnp.linalg.norm(grad), otu.tree_get(state, "count")


def _flat_problem(nll_fn: Callable, x: Any) -> tuple[Array, Callable, Callable]:
    flat, unravel = ravel_pytree(x)
    if not jnp.issubdtype(flat.dtype, jnp.floating):
        flat = flat.astype(jnp.result_type(float))

    def f(v):
        return jnp.asarray(nll_fn(unravel(v)), dtype=v.dtype).reshape(())

    return flat, unravel, f


def _check_iter(name: str, maxiter: Any) -> None:
    if not isinstance(maxiter, int | np.integer) or maxiter < 1:
        raise ValueError(f"{name} must be a positive int, got {maxiter!r}")


@eqx.filter_jit
def _minimize(nll_fn, x0, maxiter, tol):
    v0, unravel, f = _flat_problem(nll_fn, x0)
    v, value, gnorm, n_iter = _lbfgs(f, v0, maxiter, tol)
    hess = jax.hessian(f)(v)
    cov = jnp.linalg.inv(hess)
    var = jnp.diag(cov)
    err = jnp.sqrt(jnp.where(var >= 0, var, jnp.nan))
    return FitResult(
        x=unravel(v),
        nll=value,
        grad_norm=gnorm,
        hessian=hess,
        cov=cov,
        errors=unravel(err),
        n_iter=n_iter,
        converged=gnorm < tol,
    )


def minimize(
    nll_fn: Callable[[Any], ArrayLike], x0: Any, *, maxiter: int = 500, tol: float = 1e-9
) -> FitResult:
    """Minimise a scalar function of a pytree with L-BFGS (optax, zoom line search).

    Parameters
    ----------
    nll_fn : callable
        ``nll_fn(x) -> scalar``, differentiable (twice, for the Hessian). For a negative
        log-likelihood the errors are 1σ (Δnll = 1/2).
    x0 : pytree of float arrays
        Starting point.
    maxiter : int
        Maximal number of L-BFGS iterations (static).
    tol : float
        Stop when the Euclidean norm of the gradient (in the units of ``x``) is below ``tol``.

    Returns
    -------
    FitResult
        Best fit, Hessian (``jax.hessian`` at the optimum, over ``ravel_pytree(x)``),
        covariance (its inverse), errors, iteration count and convergence flag. The loop also
        stops (``converged = False``) if a step stalls at round-off before reaching ``tol``.

    Notes
    -----
    One compiled ``lax.while_loop``; jit-compiled (``nll_fn`` is static) and ``vmap``-able.
    """
    _check_iter("maxiter", maxiter)
    return _minimize(nll_fn, x0, int(maxiter), float(tol))


# ============================================================================ couplings
def _check_free(free: Any) -> tuple[int, ...]:
    try:
        idx = tuple(int(i) for i in free)
    except TypeError:
        raise ValueError(
            f"free must be a sequence of flavour indices (0, 1, 2), got {free!r}"
        ) from None
    if not idx or any(i not in (0, 1, 2) for i in idx) or len(set(idx)) != len(idx):
        raise ValueError(
            f"free must be a non-empty sequence of distinct flavour indices in (0, 1, 2) "
            f"(e, mu, tau), got {free!r}"
        )
    return idx


class _CouplingNLL(eqx.Module):
    """Poisson nll of binned counts as a function of ln μ_free (data held as arrays)."""

    model: DipoleModel
    data: Array
    background_events: Array
    expected_fn: Callable = eqx.field(static=True)
    free: tuple[int, ...] = eqx.field(static=True)

    def with_log_mu(self, log_mu: Array) -> DipoleModel:
        mu = self.model.mu.at[jnp.asarray(self.free)].set(jnp.exp(log_mu))
        return eqx.tree_at(lambda m: m.mu, self.model, mu)

    def __call__(self, log_mu: Array) -> Array:
        nu = self.expected_fn(self.with_log_mu(log_mu)) + self.background_events
        return stats.poisson_nll(self.data, nu)


@renamed_arguments(background="background_events")
def fit_couplings(
    model: DipoleModel,
    data: ArrayLike,
    expected_fn: Callable[[DipoleModel], Array],
    *,
    background_events: ArrayLike = 0.0,
    free: Sequence[int] = (0,),
    mu_floor: float = 1e-30,
    maxiter: int = 500,
    tol: float = 1e-9,
) -> CouplingFit:
    """Fit dipole couplings ``model.mu[free]`` to binned counts with a Poisson likelihood.

    Expected counts ν = ``expected_fn(model') + background_events`` with ``model'`` the model
    whose ``mu[free]`` are the fit parameters; the other couplings, m_N etc. stay fixed. The fit
    runs in ln(μ_i / GeV^-1) (μ_i > 0), started from ln max(|model.mu[i]|, mu_floor).

    Parameters
    ----------
    model : DipoleModel
        Starting point (``mu[free]``) and fixed parameters.
    data : array
        Observed counts per bin (any shape matching ``expected_fn``; non-integer allowed,
        e.g. Asimov data).
    expected_fn : callable
        ``expected_fn(model) -> array`` of expected signal counts per bin, e.g.
        ``lambda m: jd.rates.recoil_binned(m, exp, edges)``. Static for jit: reuse the same
        function object across calls.
    background_events : float or array
        Expected background counts per bin (fixed; the former spelling ``background`` is
        deprecated).
    free : sequence of int
        Flavour indices (0 = e, 1 = μ, 2 = τ) of the fitted couplings (static).
    mu_floor : float
        Lower bound [GeV^-1] of the starting |μ_i| (so that ln μ is finite).
    maxiter, tol : int, float
        Passed to :func:`minimize` (tol on the gradient norm w.r.t. ln μ).

    Returns
    -------
    CouplingFit
        μ̂ [GeV^-1], its Hessian errors (σ_μ = μ σ_lnμ) and those of ln μ, the best-fit model
        and the FitResult in ln μ. ``jax.vmap`` over ``data`` fits many pseudo-experiments.
    """
    idx = _check_free(free)
    _check_iter("maxiter", maxiter)
    nll = _CouplingNLL(
        model=model,
        data=jnp.asarray(data, dtype=float),
        background_events=jnp.asarray(background_events, dtype=float),
        expected_fn=expected_fn,
        free=idx,
    )
    start = jnp.log(jnp.maximum(jnp.abs(model.mu[jnp.asarray(idx)]), mu_floor))
    res = _minimize(nll, start, int(maxiter), float(tol))
    mu = jnp.exp(res.x)
    return CouplingFit(
        mu=mu,
        mu_errors=mu * res.errors,
        log_mu_errors=res.errors,
        model=nll.with_log_mu(res.x),
        result=res,
    )


# ============================================================================ profiles
@eqx.filter_jit
def _profile(nll_fn, x_best, index, values, maxiter, tol):
    flat, unravel, f = _flat_problem(nll_fn, x_best)
    values = jnp.asarray(values, dtype=flat.dtype)
    nll_best = f(flat)

    def full(nu, val):
        return jnp.concatenate([nu[:index], val[None], nu[index:]])

    if flat.size == 1:
        nll_prof = jax.vmap(lambda val: f(val[None]))(values)
        vecs = values[:, None]
    else:
        nu0 = jnp.concatenate([flat[:index], flat[index + 1 :]])

        def body(nu, val):
            nu_hat, value, _, _ = _lbfgs(lambda nu: f(full(nu, val)), nu, maxiter, tol)
            return nu_hat, (value, full(nu_hat, val))

        _, (nll_prof, vecs) = jax.lax.scan(body, nu0, values)
    return 2.0 * (nll_prof - nll_best), jax.vmap(unravel)(vecs)


def profile_likelihood(
    nll_fn: Callable[[Any], ArrayLike],
    x_best: Any,
    index: int,
    values: ArrayLike,
    *,
    maxiter: int = 200,
    tol: float = 1e-9,
) -> tuple[Array, Any]:
    """Profile likelihood along one parameter: Δ(2 nll) with all others re-minimised.

    Parameters
    ----------
    nll_fn : callable
        ``nll_fn(x) -> scalar`` negative log-likelihood.
    x_best : pytree
        The global best fit (e.g. ``minimize(...).x``); reference point of Δ and warm start.
    index : int
        Position of the scanned parameter in ``ravel_pytree(x_best)`` (static; negative
        counts from the end).
    values : 1-D array
        Values of the scanned parameter. The nuisance parameters are re-minimised with L-BFGS
        sequentially in this order, each fit warm-started from the previous one (the first
        from ``x_best``), so order the values outward or monotonically.
    maxiter, tol : int, float
        L-BFGS settings of each inner fit (gradient-norm tolerance).

    Returns
    -------
    delta_2nll : Array
        2 [nll_profiled(value) − nll_fn(x_best)], shape (len(values),); ≥ 0 up to the
        accuracy of ``x_best``. With a single parameter, the nll is just evaluated.
    x_profiled : pytree
        The profiled parameters at every value (leading axis len(values)).
    """
    _check_iter("maxiter", maxiter)
    p = ravel_pytree(x_best)[0].size
    if not isinstance(index, int | np.integer) or not -p <= index < p:
        raise ValueError(
            f"index must be an int in [-{p}, {p}) (flattened parameters), got {index!r}"
        )
    values = jnp.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"values must be a 1-D array, got shape {values.shape}")
    return _profile(nll_fn, x_best, int(index) % p, values, int(maxiter), float(tol))


def profile_interval(
    values: ArrayLike, delta_2nll: ArrayLike, level: float = 1.0
) -> tuple[Array, Array]:
    """Interval around the profile minimum where Δ(2 nll) ≤ ``level`` (1: 68.27 % for 1 dof).

    The crossings on either side of the scanned minimum are found by linear interpolation
    between the neighbouring scan points (``values`` increasing). NaN-free and jit-able.

    Returns
    -------
    (lo, hi) : tuple of Array
        Interval ends in the units of ``values``. A side that does not cross ``level`` within
        the scan returns the scan end (``values[0]`` or ``values[-1]``): the interval is open
        there. If the minimum itself lies above ``level``, both ends are the value at the
        minimum.
    """
    v = jnp.asarray(values)
    d = jnp.asarray(delta_2nll)
    if v.ndim != 1 or v.shape != d.shape or v.shape[0] < 2:
        raise ValueError(
            f"values and delta_2nll must be 1-D arrays of equal length >= 2, "
            f"got {v.shape} and {d.shape}"
        )
    vc = concrete(v)
    if vc is not None and not np.all(np.diff(vc) > 0):
        raise ValueError("profile_interval: values must be strictly increasing")
    n = v.shape[0]
    idx = jnp.arange(n)
    i0 = jnp.argmin(d)
    above = d > level

    def cross(a, b):
        den = d[b] - d[a]
        t = (level - d[a]) / jnp.where(den == 0, 1.0, den)
        return v[a] + jnp.clip(t, 0.0, 1.0) * (v[b] - v[a])

    jl = jnp.max(jnp.where(above & (idx < i0), idx, -1))
    jl_s = jnp.clip(jl, 0, n - 2)
    lo = jnp.where(jl >= 0, cross(jl_s, jl_s + 1), v[0])
    jr = jnp.min(jnp.where(above & (idx > i0), idx, n))
    jr_s = jnp.clip(jr, 1, n - 1)
    hi = jnp.where(jr < n, cross(jr_s - 1, jr_s), v[-1])
    inside = d[i0] <= level
    return jnp.where(inside, lo, v[i0]), jnp.where(inside, hi, v[i0])


# ============================================================================ maximize
def _check_box(x0: Any, lower: Any, upper: Any) -> None:
    s0, sl, su = (jax.tree.structure(t) for t in (x0, lower, upper))
    if sl != s0:
        raise ValueError(f"lower must have the structure of x0 ({s0}), got {sl}")
    if su != s0:
        raise ValueError(f"upper must have the structure of x0 ({s0}), got {su}")
    leaves = (jax.tree.leaves(x0), jax.tree.leaves(lower), jax.tree.leaves(upper))
    for a, lo, hi in zip(*leaves, strict=True):
        a, lo, hi = concrete(a), concrete(lo), concrete(hi)
        if lo is not None and hi is not None:
            if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
                raise ValueError("lower and upper must be finite")
            if not np.all(np.asarray(lo) < np.asarray(hi)):
                raise ValueError(f"lower must be < upper elementwise, got {lo!r} and {hi!r}")
            if a is not None and not np.all((lo <= a) & (a <= hi)):
                raise ValueError(f"x0 must satisfy lower <= x0 <= upper, got {a!r}")


#: maximize(grad_mode="auto") differentiates in forward mode up to this many parameters.
_FORWARD_MAX_PARAMS = 8


@eqx.filter_jit
def _maximize(fom_fn, x0, lower, upper, steps, learning_rate, grad_mode):
    def to_x(z):
        return jax.tree.map(lambda lo, hi, zz: lo + (hi - lo) * jax.nn.sigmoid(zz), lower, upper, z)

    def to_z(x):
        def one(lo, hi, a):
            t = jnp.clip((a - lo) / (hi - lo), 1e-6, 1.0 - 1e-6)
            return jnp.log(t) - jnp.log1p(-t)

        return jax.tree.map(one, lower, upper, x)

    def objective(z):
        return jnp.asarray(fom_fn(to_x(z))).reshape(())

    opt = optax.adam(learning_rate)
    z0 = to_z(jax.tree.map(lambda a: jnp.asarray(a, dtype=float), x0))
    flat0, unravel = ravel_pytree(z0)
    if grad_mode == "auto":
        grad_mode = "forward" if flat0.size <= _FORWARD_MAX_PARAMS else "reverse"

    def value_and_grad(z):
        if grad_mode == "reverse":
            return jax.value_and_grad(objective)(z)

        def one(t):  # forward mode: one jvp per parameter
            return jax.jvp(lambda v: objective(unravel(v)), (ravel_pytree(z)[0],), (t,))

        vals, tang = jax.vmap(one)(jnp.eye(flat0.size, dtype=flat0.dtype))
        return vals[0], unravel(tang)

    def body(carry, _):
        z, state = carry
        fom, g = value_and_grad(z)
        updates, state = opt.update(jax.tree.map(jnp.negative, g), state, z)
        return (optax.apply_updates(z, updates), state), (to_x(z), fom)

    (z_end, _), (hx, hf) = jax.lax.scan(body, (z0, opt.init(z0)), None, length=steps)
    x_end = to_x(z_end)
    hx = jax.tree.map(lambda h, e: jnp.concatenate([h, e[None]]), hx, x_end)
    hf = jnp.concatenate([hf, objective(z_end)[None]])
    best = jnp.argmax(jnp.where(jnp.isnan(hf), -jnp.inf, hf))
    return OptimizeResult(
        x=jax.tree.map(lambda h: h[best], hx), fom=hf[best], history_x=hx, history_fom=hf
    )


def maximize(
    fom_fn: Callable[[Any], ArrayLike],
    x0: Any,
    lower: Any,
    upper: Any,
    *,
    steps: int = 300,
    learning_rate: float | optax.Schedule = 0.05,
    grad_mode: str = "auto",
) -> OptimizeResult:
    """Maximise a differentiable figure of merit over box-bounded parameters (Adam).

    The parameters are mapped to unconstrained variables z with
    x = lower + (upper − lower)·sigmoid(z), and ``optax.adam`` ascends the figure of merit in
    z for ``steps`` steps (one compiled ``lax.scan``). The box is never left; an optimum on
    the boundary is approached asymptotically.

    Parameters
    ----------
    fom_fn : callable
        ``fom_fn(x) -> scalar`` to maximise (e.g. ``-log(mu_90)``; static for jit).
    x0, lower, upper : pytrees of float arrays
        Start and box (same structure; lower < upper, lower <= x0 <= upper, finite). A start
        on the boundary is moved inside by 1e-6 of the box width.
    steps : int
        Number of Adam steps (static).
    learning_rate : float or optax schedule
        Adam step size in z (z is dimensionless; 0.05 moves x by ~1 % of the box per step
        at the centre). A decaying schedule, e.g.
        ``optax.cosine_decay_schedule(0.05, steps, alpha=0.01)``, settles more precisely.
    grad_mode : {"auto", "forward", "reverse"}
        How the gradient is taken: forward mode (one ``jax.jvp`` per parameter, vmapped;
        cheaper to compile for a few detector parameters) or reverse mode
        (``jax.value_and_grad``). "auto": forward for <= 8 flattened parameters.

    Returns
    -------
    OptimizeResult
        The best point seen (``x``, ``fom``) and the whole trajectory.
    """
    _check_iter("steps", steps)
    if grad_mode not in ("auto", "forward", "reverse"):
        raise ValueError(f"grad_mode must be 'auto', 'forward' or 'reverse', got {grad_mode!r}")
    _check_box(x0, lower, upper)
    return _maximize(fom_fn, x0, lower, upper, int(steps), learning_rate, grad_mode)


# ============================================================================ figure of merit
def expected_limit_primakoff(
    model: DipoleModel,
    exp: Experiment,
    edges: int | ArrayLike = 12,
    *,
    cl: float = 0.9,
    sigma_b: float = 0.0,
    include_cevns: bool = True,
    flavour: int = 0,
    upper: ArrayLike | None = None,
) -> Array:
    """Median expected upper limit on μ_flavour [GeV^-1] from the binned Primakoff recoils.

    A differentiable figure of merit for detector optimisation (smaller is better): the
    signal s_k = ``rates.recoil_binned(model, exp, E)`` is tested against the background
    b_k = ``rates.background_binned(exp, E)`` (+ ``rates.cevns_binned(exp, E)``) with
    :func:`jaxdipole.stats.signal_strength_limit`, giving the signal-strength limit x; since
    s ∝ μ², μ_90 = |model.mu[flavour]| · sqrt(x) (all couplings scaled together, so the
    model's coupling pattern is kept; ``model.mu[flavour]`` must be non-zero).

    Bin edges follow the window, so μ_90 is differentiable w.r.t. ``exp.recoil_threshold``
    and ``exp.recoil_max``: E_k = E_thr (E_top / E_thr)^{f_k}, with E_top = ``exp.recoil_max``
    (or ``upper``).

    Parameters
    ----------
    model : DipoleModel
        m_N, nature and couplings (reference value ``mu[flavour]`` ≠ 0).
    exp : Experiment
        Target, exposure, flux, threshold (> 0), window and flat background.
    edges : int or 1-D array
        Number of log-spaced bins (default 12), or increasing fractions f_k in [0, 1] of the
        logarithmic window.
    cl : float
        Confidence level (one-sided; default 0.9).
    sigma_b : float
        Relative background-normalisation uncertainty (passed to signal_strength_limit).
    include_cevns : bool
        Count the SM CEvNS recoils as background (default True).
    flavour : int
        Index of the reported coupling: 0 = e (the reactor ν̄_e flux; static).
    upper : float, optional
        Top of the binned window [GeV] when ``exp.recoil_max`` is infinite (e.g. the
        kinematic end point). Signal and background above it are not used.

    Returns
    -------
    Array
        μ_90 [GeV^-1] (scalar); ``inf`` if no Primakoff event falls in the window.
    """
    return primakoff_reach(
        model, exp, flavour=flavour, cl=cl, edges=edges, sigma_b=sigma_b,
        include_cevns=include_cevns, upper=upper,
    )  # fmt: skip
