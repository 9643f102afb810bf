"""Statistics for sensitivities: Poisson likelihoods, Asimov significances and upper limits.

Everything here is pure JAX: jit-able, vmappable and differentiable, with finite values and
gradients at the boundaries (zero signal, zero background, empty bins). All counts and
expectations are numbers of events (dimensionless); confidence levels ``cl`` lie in (0, 1).
Counting limits use the classical Poisson upper limit (−ln 0.1 = 2.303 events at 90 % CL
without background); projected limits and significances use the Asimov approximation below.

Conventions
-----------
* Asimov data (Cowan, Cranmer, Gross, Vitells, EPJC 71 (2011) 1554) are the expectations
  themselves, so counts ``n`` may be non-integer.
* Upper limits are one-sided: ``z_from_cl(0.9) = 1.2816``.
* Root finders run a fixed number of safeguarded Newton/bisection steps on stopped-gradient
  inputs; derivatives of the root come from one final Newton step whose derivative is the
  implicit-function-theorem derivative ``-(dF/dp) / (dF/dx)``.
* With concrete (non-traced) input, negative counts/expectations, ``cl`` outside (0, 1) and
  incompatible shapes raise ``ValueError``. Traced out-of-domain input (negative values) is
  clamped to zero; results stay NaN-free.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax
from jax.scipy.special import gammaincc, gammaln, ndtri
from jax.typing import ArrayLike

from ._checks import check_choice, check_nonnegative, concrete
from ._math import safe_sqrt

__all__ = [
    "CL90",
    "asimov_discovery_z",
    "asimov_exclusion_z",
    "asimov_q_exclusion",
    "asimov_upper_limit",
    "binned_q",
    "counting_upper_limit",
    "dirac_majorana_z",
    "hypothesis_q",
    "hypothesis_z",
    "poisson_logpmf",
    "poisson_nll",
    "poisson_toys",
    "signal_strength_limit",
    "z_from_cl",
    "zero_background_limit",
]

#: Default confidence level (one-sided 90 %).
CL90 = 0.9

_SERIES_X = 0.05  # |x| below which the cancelling expressions use their Taylor series
_N_SERIES = 14  # terms x^2 ... x^15; truncation < 1e-18 relative for |x| < 0.05
_TINY = 1e-150  # counts below this are treated as 0 (squares stay representable)
_TINY_NU = 1e-300  # floor of expectations inside logarithms (reciprocals stay finite)
_N_ROOT = 60  # safeguarded Newton/bisection steps of the root finders
_N_PROFILE = 25  # Newton steps of the background-normalisation profile


# ------------------------------------------------------------------------------------------
# validation helpers
# ------------------------------------------------------------------------------------------


def _check_cl(cl) -> None:
    v = concrete(cl)
    if v is not None and not (np.all(np.isfinite(v)) and np.all((v > 0) & (v < 1))):
        raise ValueError(f"cl must lie in the open interval (0, 1), got {cl!r}")


def _check_shapes(names: tuple[str, ...], *arrays) -> tuple[int, ...]:
    shapes = [jnp.shape(a) for a in arrays]
    try:
        return jnp.broadcast_shapes(*shapes)
    except ValueError:
        desc = ", ".join(f"{n} {s}" for n, s in zip(names, shapes, strict=True))
        raise ValueError(f"incompatible shapes (must broadcast together): {desc}") from None


def _check_same_shape(name_a: str, a, name_b: str, b) -> None:
    if jnp.shape(a) != jnp.shape(b):
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape (same binning), "
            f"got {jnp.shape(a)} and {jnp.shape(b)}"
        )


def _f64(x: ArrayLike) -> Array:
    """Strongly typed float array (one jit cache entry for Python and NumPy scalars)."""
    return jnp.asarray(x, dtype=float)


def _clip0(x: ArrayLike) -> Array:
    """x for x >= 0, else 0 (gradient 1 on x >= 0, 0 below)."""
    x = jnp.asarray(x, dtype=float)
    return jnp.where(x >= 0, x, 0.0)


# ------------------------------------------------------------------------------------------
# numerically stable building blocks
# ------------------------------------------------------------------------------------------


def _horner(x: Array, coeffs) -> Array:
    acc = jnp.zeros_like(x) + coeffs[-1]
    for c in coeffs[-2::-1]:
        acc = acc * x + c
    return acc


# (x - log1p x) / x^2 = sum_{k>=2} (-1)^k x^(k-2) / k
_G_COEFFS = tuple((-1.0) ** k / k for k in range(2, 2 + _N_SERIES))
# ((1 + x) log1p x - x) / x^2 = sum_{k>=2} (-1)^k x^(k-2) / (k (k - 1))
_H_COEFFS = tuple((-1.0) ** k / (k * (k - 1)) for k in range(2, 2 + _N_SERIES))


def _g_over_x2(x: Array) -> Array:
    """(x - log1p(x)) / x^2 for x > -1 (1/2 at x = 0), no cancellation near 0."""
    small = jnp.abs(x) < _SERIES_X
    xs = jnp.where(small, x, 0.0)
    xd = jnp.where(small, 1.0, jnp.where(x > -1.0, x, 1.0))
    return jnp.where(small, _horner(xs, _G_COEFFS), (xd - jnp.log1p(xd)) / (xd * xd))


def _h_over_x2(x: Array) -> Array:
    """((1 + x) log1p(x) - x) / x^2 for x > -1 (1/2 at x = 0), no cancellation near 0."""
    small = jnp.abs(x) < _SERIES_X
    xs = jnp.where(small, x, 0.0)
    xd = jnp.where(small, 1.0, jnp.where(x > -1.0, x, 1.0))
    return jnp.where(small, _horner(xs, _H_COEFFS), ((1.0 + xd) * jnp.log1p(xd) - xd) / (xd * xd))


def _xlogx(x: Array) -> Array:
    """x ln x with 0 ln 0 = 0 (value and gradient finite)."""
    pos = x > 0
    return jnp.where(pos, x * jnp.log(jnp.where(pos, x, 1.0)), 0.0)


def _dev(n: Array, nu: Array, delta: Array) -> Array:
    """Deviance term n ln(n/nu) - n + nu (0 ln 0 = 0), elementwise.

    ``delta = nu - n`` is passed separately so that nu ~ n (small signals) keeps full relative
    precision. n = 0 gives nu; n > 0 with nu <= 0 gives +inf. Gradients are finite everywhere
    (at n = 0 the divergent ln(n/nu) part of the n-derivative is dropped). To keep squares and
    reciprocals finite, n <= 1e-150 counts as 0 and nu is floored at 1e-300 in the logarithm.
    """
    ok = (n > _TINY) & (nu > 0)
    n_s = jnp.where(ok, n, 1.0)
    nu_s = jnp.where(ok, jnp.maximum(nu, _TINY_NU), 1.0)
    d_s = jnp.where(ok, delta, 0.0)
    small = jnp.abs(d_s) < _SERIES_X * n_s
    xs = jnp.where(small, d_s, 0.0) / n_s
    series = d_s * xs * _horner(xs, _G_COEFFS)  # n (x - log1p x), x = delta/n
    direct = n_s * (jnp.log(n_s) - jnp.log(nu_s)) + d_s
    core = jnp.where(small, series, direct)
    # n = 0: the value is nu = delta; delta carries the -n term's derivative (-1 in n)
    return jnp.where(ok, core, jnp.where(n > _TINY, jnp.inf, delta))


def _rtsafe(fdf, x0: Array, lo: Array, hi: Array, n_iter: int = _N_ROOT):
    """Root of a decreasing function on [lo, hi] (f(lo) >= 0 >= f(hi)), elementwise.

    ``fdf(x)`` returns ``(f, df/dx, aux)``. Newton steps, replaced by bisection when they leave
    the bracket or converge too slowly (Numerical Recipes ``rtsafe``); fixed iteration count.
    Inputs should be stop-gradient. Returns the last evaluated point with its
    ``(f, df, aux)``.
    """

    def body(_, state):
        x, lo, hi, dx_old, _ = state
        f, df, aux = fdf(x)
        lo = jnp.where(f > 0, x, lo)
        hi = jnp.where(f < 0, x, hi)
        good_df = df < 0
        step = f / jnp.where(good_df, df, -1.0)
        newton = x - step
        use_newton = (
            good_df & (newton >= lo) & (newton <= hi) & (jnp.abs(2.0 * step) <= jnp.abs(dx_old))
        )
        mid = 0.5 * (lo + hi)
        x_new = jnp.where(use_newton, newton, mid)
        x_new = jnp.where(f == 0, x, x_new)
        return x_new, lo, hi, jnp.abs(x_new - x), (x, f, df, aux)

    x0 = jnp.clip(x0, lo, hi)
    last = jax.tree_util.tree_map(
        lambda a: jnp.zeros(a.shape, a.dtype), jax.eval_shape(lambda x: (x, *fdf(x)), x0)
    )
    *_, last = lax.fori_loop(0, n_iter, body, (x0, lo, hi, 2.0 * (hi - lo), last))
    return jax.tree_util.tree_map(lax.stop_gradient, last)


def _implicit_step(x_star: Array, f: Array, df: Array) -> Array:
    """x* - F/F' with stopped F': value x* (plus one Newton correction), derivative -F_p/F_x."""
    df = lax.stop_gradient(df)
    ok = df != 0
    return x_star - jnp.where(ok, f / jnp.where(ok, df, 1.0), 0.0)


# ------------------------------------------------------------------------------------------
# confidence levels
# ------------------------------------------------------------------------------------------


def z_from_cl(cl: ArrayLike) -> Array:
    """One-sided Gaussian quantile z = Φ⁻¹(cl) (1.2816 for cl = 0.9).

    Parameters
    ----------
    cl : array_like
        Confidence level in (0, 1).
    """
    _check_cl(cl)
    return ndtri(jnp.asarray(cl, dtype=float))


def zero_background_limit(cl: ArrayLike = CL90) -> Array:
    """Upper limit on the mean with zero background and zero observed events, −ln(1 − cl).

    2.3026 events at cl = 0.9.
    """
    _check_cl(cl)
    return -jnp.log1p(-jnp.asarray(cl, dtype=float))


# ------------------------------------------------------------------------------------------
# Poisson likelihood and deviance
# ------------------------------------------------------------------------------------------


def poisson_logpmf(n: ArrayLike, nu: ArrayLike) -> Array:
    """Elementwise log Poisson probability n ln ν − ν − ln Γ(n + 1).

    Parameters
    ----------
    n : array_like
        Counts [events], >= 0; non-integer values (Asimov data) are allowed.
    nu : array_like
        Expectations [events], >= 0. ``n = nu = 0`` gives 0; ``n > 0, nu = 0`` gives −inf.
    """
    check_nonnegative("n", n, "events")
    check_nonnegative("nu", nu, "events")
    _check_shapes(("n", "nu"), n, nu)
    return _logpmf_core(_f64(n), _f64(nu))


@jax.jit
def _logpmf_core(n, nu):
    n = _clip0(n)
    nu = _clip0(nu)
    nu_pos = nu > 0
    n_log_nu = jnp.where(
        nu_pos, n * jnp.log(jnp.where(nu_pos, nu, 1.0)), jnp.where(n > 0, -jnp.inf, 0.0)
    )
    return n_log_nu - nu - gammaln(n + 1.0)


def poisson_nll(n: ArrayLike, nu: ArrayLike) -> Array:
    """Poisson negative log-likelihood −Σ poisson_logpmf(n, nu) over all elements (scalar)."""
    return -jnp.sum(poisson_logpmf(n, nu))


def binned_q(n: ArrayLike, nu: ArrayLike) -> Array:
    """Poisson deviance q = 2 Σ [ν − n + n ln(n/ν)] (0 ln 0 = 0), a scalar.

    The likelihood-ratio statistic of data ``n`` against the expectation ``nu`` (saturated
    model in the denominator); with Asimov data ``n`` it is the expected test statistic.

    Parameters
    ----------
    n : array_like
        Counts per bin [events], >= 0 (may be non-integer).
    nu : array_like
        Expected counts per bin [events], >= 0; broadcast against ``n``. A bin with ``n > 0``
        and ``nu = 0`` gives +inf.
    """
    check_nonnegative("n", n, "events")
    check_nonnegative("nu", nu, "events")
    _check_shapes(("n", "nu"), n, nu)
    return _binned_q_core(_f64(n), _f64(nu))


@jax.jit
def _binned_q_core(n, nu):
    n, nu = jnp.broadcast_arrays(_clip0(n), _clip0(nu))
    return 2.0 * jnp.sum(_dev(n, nu, nu - n))


# ------------------------------------------------------------------------------------------
# counting experiments
# ------------------------------------------------------------------------------------------


def _poisson_cdf_fdf(n: Array, cl: Array):
    """F(λ) = P(N ≤ n; λ) − (1 − cl) and dF/dλ = −Pois(n; λ)."""

    def fdf(lam):
        f = gammaincc(n + 1.0, lam) - (1.0 - cl)
        lam_pos = lam > 0
        log_lam = jnp.log(jnp.where(lam_pos, lam, 1.0))
        n_log = jnp.where(lam_pos, n * log_lam, jnp.where(n > 0, -jnp.inf, 0.0))
        return f, -jnp.exp(n_log - lam - gammaln(n + 1.0)), None

    return fdf


def _poisson_mean_upper(n: Array, cl: Array) -> Array:
    """λ_up with P(N ≤ n; λ_up) = 1 − cl (classical upper limit on a Poisson mean)."""
    n_sg = lax.stop_gradient(n)
    cl_sg = lax.stop_gradient(cl)
    t = -jnp.log1p(-cl_sg)
    k = n_sg + 1.0
    # Laurent–Massart chi^2 tail bound: λ_up <= k + sqrt(2 k t) + t (and P(N <= n; 0) = 1).
    hi = k + jnp.sqrt(2.0 * k * t) + t
    z = ndtri(cl_sg)
    wh = k * (1.0 - 1.0 / (9.0 * k) + z / (3.0 * jnp.sqrt(k))) ** 3  # Wilson–Hilferty guess
    lam_star, f, df, _ = _rtsafe(_poisson_cdf_fdf(n_sg, cl_sg), wh, jnp.zeros_like(hi), hi)
    # only cl is differentiated (n is discrete): F = P(N <= n; λ*) − (1 − cl)
    return _implicit_step(lam_star, f + (cl - cl_sg), df)


def counting_upper_limit(n_obs: ArrayLike, b: ArrayLike = 0.0, cl: ArrayLike = CL90) -> Array:
    """Classical (Neyman, one-sided) Poisson upper limit on the signal mean [events].

    Solves Σ_{k≤n} Pois(k; s_up + b) = 1 − cl, i.e. s_up = λ_up(n, cl) − b with λ_up the
    classical limit on the total mean, and returns max(s_up, 0): when the background alone
    already gives P(N ≤ n; b) ≤ 1 − cl (a downward fluctuation), the limit is 0.
    Elementwise in ``n_obs``, ``b`` and ``cl`` (broadcast). Differentiable: ∂s_up/∂b = −1,
    ∂/∂cl by the implicit-function theorem; ``n_obs`` is discrete and gets zero gradient.

    Parameters
    ----------
    n_obs : array_like
        Observed counts [events], >= 0 (integers; real values interpolate via Γ functions).
    b : array_like
        Expected background [events], >= 0.
    cl : array_like
        Confidence level in (0, 1).

    Returns
    -------
    Array
        s_up [events]; 2.302585 for n_obs = 0, b = 0, cl = 0.9.
    """
    check_nonnegative("n_obs", n_obs, "events")
    check_nonnegative("b", b, "events")
    _check_cl(cl)
    _check_shapes(("n_obs", "b", "cl"), n_obs, b, cl)
    return _counting_core(_f64(n_obs), _f64(b), _f64(cl))


@jax.jit
def _counting_core(n, b, cl):
    n, b, cl = jnp.broadcast_arrays(_clip0(n), _clip0(b), jnp.asarray(cl, dtype=float))
    s = _poisson_mean_upper(n, cl) - b
    return jnp.where(s > 0, s, 0.0)


def _asimov_zq_parts(s: Array, b: Array):
    """Branches of the Asimov significances: x = s/b for s < b; r = b/s <= 1 otherwise.

    ``use_x``: s < b (and b > 1e-150); ``use_r``: the rest with s > 1e-150; neither: both
    tiny (Z < 1e-74, handled by the callers).
    """
    use_x = (s < b) & (b > _TINY)
    b_s = jnp.where(use_x, b, 1.0)
    x = jnp.where(use_x, s, 0.0) / b_s
    use_r = ~use_x & (s > _TINY)
    r = jnp.where(use_r, b, 0.0) / jnp.where(use_r, s, 1.0)
    return use_x, use_r, b_s, x, r


def _exclusion_z(s: Array, b: Array) -> Array:
    use_x, use_r, b_s, x, r = _asimov_zq_parts(s, b)
    # s < b: z = (s/√b) sqrt(2 G(x)); s >= b: q = 2 s [1 - r log1p(r) + r ln r], r = b/s <= 1
    z_x = (jnp.where(use_x, s, 0.0) / jnp.sqrt(b_s)) * jnp.sqrt(2.0 * _g_over_x2(x))
    z_r = safe_sqrt(2.0 * s * (1.0 - r * jnp.log1p(r) + _xlogx(r)))
    return jnp.where(use_x, z_x, jnp.where(use_r, z_r, safe_sqrt(2.0 * s)))


def _discovery_z(s: Array, b: Array) -> Array:
    use_x, use_r, b_s, x, r = _asimov_zq_parts(s, b)
    z_x = (jnp.where(use_x, s, 0.0) / jnp.sqrt(b_s)) * jnp.sqrt(2.0 * _h_over_x2(x))
    # s >= b: q = 2 s [(1 + r)(log1p r - ln r) - 1]; +inf for b = 0 < s (zero gradient)
    r_pos = r > 0
    log_r = jnp.log(jnp.where(r_pos, r, 1.0))
    q_r = 2.0 * s * ((1.0 + r) * (jnp.log1p(r) - log_r) - 1.0)
    z_r = jnp.where(r_pos, safe_sqrt(q_r), jnp.inf)
    z_tiny = jnp.where((b <= 0) & (s > 0), jnp.inf, 0.0)
    return jnp.where(use_x, z_x, jnp.where(use_r, z_r, z_tiny))


@functools.cache
def _elementwise_jit(fun):
    """jit(fun) on clipped, broadcast (s, b)."""

    @jax.jit
    def wrapped(s, b):
        return fun(*jnp.broadcast_arrays(_clip0(s), _clip0(b)))

    return wrapped


def asimov_exclusion_z(s: ArrayLike, b: ArrayLike) -> Array:
    """Median expected exclusion significance Z = sqrt(2[s − b ln(1 + s/b)]) (Cowan et al.).

    Background-only Asimov data tested against signal + background. Elementwise; stable for
    s ≪ b (Z → s/√b) and exact at b = 0 (Z = sqrt(2 s)). Gradients are finite everywhere
    (the b-derivative, which diverges like ln b as b → 0, is finite at b = 0 exactly).

    Parameters
    ----------
    s, b : array_like
        Expected signal and background [events], >= 0.
    """
    check_nonnegative("s", s, "events")
    check_nonnegative("b", b, "events")
    _check_shapes(("s", "b"), s, b)
    return _elementwise_jit(_exclusion_z)(_f64(s), _f64(b))


def asimov_discovery_z(s: ArrayLike, b: ArrayLike) -> Array:
    """Median expected discovery significance Z = sqrt(2[(s + b) ln(1 + s/b) − s]).

    Signal + background Asimov data tested against background only. Elementwise; stable for
    s ≪ b (Z → s/√b). For b = 0 and s > 0 the significance is unbounded: returns +inf with
    zero gradient (s = b = 0 gives 0).

    Parameters
    ----------
    s, b : array_like
        Expected signal and background [events], >= 0.
    """
    check_nonnegative("s", s, "events")
    check_nonnegative("b", b, "events")
    _check_shapes(("s", "b"), s, b)
    return _elementwise_jit(_discovery_z)(_f64(s), _f64(b))


def _asimov_upper_root(b: Array, cl: Array) -> Array:
    """s solving asimov_exclusion_z(s, b) = z_from_cl(cl) (0 if cl <= 1/2), differentiable."""
    b_sg = lax.stop_gradient(b)
    z = jnp.maximum(ndtri(lax.stop_gradient(cl)), 0.0)
    # s^2/(b + s) <= q(s) <= s^2/b bracket the root
    lo = z * jnp.sqrt(b_sg)
    hi = 0.5 * (z * z + jnp.sqrt(z**4 + 4.0 * z * z * b_sg))

    def fdf(s):
        zs = _exclusion_z(s, b_sg)
        den = (b_sg + s) * zs
        ok = den > 0
        # dz/ds = s/((b + s) z)
        return z - zs, -jnp.where(ok, s / jnp.where(ok, den, 1.0), 0.0), None

    s_star, _, df, _ = _rtsafe(fdf, lo + z * z / 3.0, lo, hi)
    f = ndtri(cl) - _exclusion_z(s_star, b)
    return _implicit_step(s_star, f, df)


def asimov_upper_limit(b: ArrayLike, cl: ArrayLike = CL90) -> Array:
    """Median expected (Asimov) counting upper limit on the signal [events].

    The s solving ``asimov_exclusion_z(s, b) = z_from_cl(cl)``, floored at the zero-background
    limit −ln(1 − cl) (the result is the larger of the two). Large b: s ≈ z √b + z²/3; b → 0:
    2.3026 at cl = 0.9. Elementwise in ``b`` and ``cl``; differentiable (implicit derivative).

    Parameters
    ----------
    b : array_like
        Expected background [events], >= 0.
    cl : array_like
        Confidence level in (0, 1).
    """
    check_nonnegative("b", b, "events")
    _check_cl(cl)
    _check_shapes(("b", "cl"), b, cl)
    return _asimov_upper_core(_f64(b), _f64(cl))


@jax.jit
def _asimov_upper_core(b, cl):
    b, cl = jnp.broadcast_arrays(_clip0(b), jnp.asarray(cl, dtype=float))
    s = _asimov_upper_root(b, cl)
    floor = -jnp.log1p(-cl)
    return jnp.where(s > floor, s, floor)


def asimov_q_exclusion(s: ArrayLike, b: ArrayLike) -> Array:
    """Binned exclusion statistic with background-only Asimov data, binned_q(b, b + s).

    q = 2 Σ [s − b ln(1 + s/b)], computed without cancellation for s ≪ b; bins with b = 0
    contribute 2 s. Scalar.

    Parameters
    ----------
    s, b : array_like
        Expected signal and background per bin [events], >= 0 (broadcast together).
    """
    check_nonnegative("s", s, "events")
    check_nonnegative("b", b, "events")
    _check_shapes(("s", "b"), s, b)
    return _q_exclusion_core(_f64(s), _f64(b))


@jax.jit
def _q_exclusion_core(s, b):
    s, b = jnp.broadcast_arrays(_clip0(s), _clip0(b))
    return 2.0 * jnp.sum(_dev(b, b + s, s))


# ------------------------------------------------------------------------------------------
# binned signal-strength limit with a profiled background normalisation
# ------------------------------------------------------------------------------------------


def _profile_objective(theta, x, s, b, sigma_b):
    """L(θ, x) = binned_q(b, θ b + x s) + ((θ − 1)/σ_b)² (penalty dropped for σ_b = 0)."""
    nu = theta * b + x * s
    delta = (theta - 1.0) * b + x * s
    sig_pos = sigma_b > 0
    sig_s = jnp.where(sig_pos, sigma_b, 1.0)
    pen = jnp.where(sig_pos, ((theta - 1.0) / sig_s) ** 2, 0.0)
    return 2.0 * jnp.sum(_dev(b, nu, delta)) + pen


@jax.jit
def _profiled_theta(x, s, b, sigma_b):
    """argmin_θ L(θ, x) by Newton steps from θ = 1 (θ stays > 0; 1 when σ_b = 0)."""
    sig_pos = sigma_b > 0
    inv_var = jnp.where(sig_pos, 1.0 / jnp.where(sig_pos, sigma_b, 1.0) ** 2, 0.0)
    b_pos = b > _TINY

    def body(_, theta):
        nu = theta * b + x * s
        nu_s = jnp.where(b_pos, nu, 1.0)
        delta = (theta - 1.0) * b + x * s
        grad = (
            2.0 * jnp.sum(jnp.where(b_pos, b * delta / nu_s, 0.0)) + 2.0 * (theta - 1.0) * inv_var
        )
        hess = 2.0 * jnp.sum(jnp.where(b_pos, b**3 / nu_s**2, 0.0)) + 2.0 * inv_var
        new = theta - grad / jnp.where(hess > 0, hess, 1.0)
        return jnp.where(hess > 0, jnp.maximum(new, 0.5 * theta), theta)

    theta = lax.fori_loop(0, _N_PROFILE, body, jnp.ones_like(x))
    return jnp.where(sig_pos, theta, 1.0)


def _profiled_q(x, s, b, sigma_b):
    """Profiled q(x) and dq/dx (envelope theorem)."""
    theta = _profiled_theta(x, s, b, sigma_b)
    q = _profile_objective(theta, x, s, b, sigma_b)
    nu = theta * b + x * s
    b_pos = b > _TINY
    nu_s = jnp.where(b_pos, nu, 1.0)
    delta = (theta - 1.0) * b + x * s
    dq = 2.0 * jnp.sum(s * jnp.where(b_pos, delta / nu_s, 1.0))
    return q, dq, theta


def signal_strength_limit(
    s: ArrayLike,
    b: ArrayLike,
    cl: ArrayLike = CL90,
    sigma_b: ArrayLike = 0.0,
) -> Array:
    """Median expected upper limit on a signal-strength (rate) multiplier x, binned.

    With expected signal ``s_i`` and background ``b_i`` per bin and Asimov data n = b,

        q(x) = min_θ [ binned_q(b, θ b + x s) + ((θ − 1)/σ_b)² ],

    the background normalisation θ profiled (θ = 1 fixed for σ_b = 0); the limit solves
    q(x) = z_from_cl(cl)². It is floored at the zero-background counting limit
    −ln(1 − cl)/Σ s (so a background-free experiment quotes 2.3 signal events at 90 %; one bin
    with σ_b = 0 reproduces ``asimov_upper_limit(b, cl) / s``). For a signal ∝ μ² the
    coupling limit is μ_lim = μ_ref sqrt(x). Differentiable in s, b, cl and σ_b (implicit
    derivative and the envelope theorem). The profile keeps θ > 0 and is meant for
    σ_b ≲ 0.5. Returns +inf if Σ s = 0 under tracing (ValueError for concrete input).

    Parameters
    ----------
    s : array_like
        Expected signal per bin at x = 1 [events], >= 0, any shape (all bins are summed).
    b : array_like
        Expected background per bin [events], >= 0, broadcast against ``s``.
    cl : float
        Confidence level in (0, 1) (scalar).
    sigma_b : float
        Relative (Gaussian) uncertainty of the background normalisation, >= 0 (scalar).

    Returns
    -------
    Array
        Scalar x: the signal ``x s`` is excluded at ``cl`` (median expectation).
    """
    check_nonnegative("s", s, "events")
    check_nonnegative("b", b, "events")
    check_nonnegative("sigma_b", sigma_b)
    _check_cl(cl)
    _check_shapes(("s", "b"), s, b)
    if jnp.ndim(cl) != 0 or jnp.ndim(sigma_b) != 0:
        raise ValueError("cl and sigma_b must be scalars (vmap for several values)")
    s_c = concrete(s)
    if s_c is not None and not np.sum(s_c) > 0:
        raise ValueError("s must have a positive total (sum over bins > 0 events)")
    s, b = _f64(s), _f64(b)
    if s.shape != b.shape:
        s, b = jnp.broadcast_arrays(s, b)
    return _signal_strength_core(s.ravel(), b.ravel(), _f64(cl), _f64(sigma_b))


@jax.jit
def _signal_strength_core(s, b, cl, sigma_b):
    s, b = _clip0(s), _clip0(b)
    cl = jnp.asarray(cl, dtype=float)
    sigma_b = _clip0(sigma_b)
    s_tot = jnp.sum(s)
    tot_pos = s_tot > 0
    x_lim = _signal_strength_root(s, b, cl, sigma_b)
    floor = -jnp.log1p(-cl) / jnp.where(tot_pos, s_tot, 1.0)
    x_lim = jnp.where(x_lim > floor, x_lim, floor)
    return jnp.where(tot_pos, x_lim, jnp.inf)


def _signal_strength_root(s, b, cl, sigma_b):
    s_sg, b_sg = lax.stop_gradient(s), lax.stop_gradient(b)
    cl_sg, sig_sg = lax.stop_gradient(cl), lax.stop_gradient(sigma_b)
    z = jnp.maximum(ndtri(cl_sg), 0.0)
    b_pos = b_sg > _TINY
    b_s = jnp.where(b_pos, b_sg, 1.0)
    # q(x) <= a x^2 + c x (fixed θ = 1, x - log1p x <= x^2/2) bounds the root from below
    a = jnp.sum(jnp.where(b_pos, s_sg**2 / b_s, 0.0))
    c = 2.0 * jnp.sum(jnp.where(b_pos, 0.0, s_sg))
    den = c + jnp.sqrt(c * c + 4.0 * a * z * z)
    lo = 2.0 * z * z / jnp.where(den > 0, den, 1.0)
    # merging all bins loses information, so the one-bin root bounds the root from above for
    # σ_b = 0: the starting point. Solve in u = ln x on [ln lo, ln lo + 60]; with a profiled
    # nuisance the root exceeds lo by a factor ~sqrt(Σb) at most (θ > 0), far below e^60.
    s_tot, b_tot = jnp.sum(s_sg), jnp.sum(b_sg)
    s_tot_s = jnp.where(s_tot > 0, s_tot, 1.0)
    x0 = 0.5 * (z * z + jnp.sqrt(z**4 + 4.0 * z * z * b_tot)) / s_tot_s
    lo = jnp.where(lo > 0, lo, 1.0)  # no signal or cl <= 1/2: any finite value
    u_lo = jnp.log(lo)

    def fdf(u):
        x = jnp.exp(u)
        q, dq, theta = _profiled_q(x, s_sg, b_sg, sig_sg)
        rq = jnp.sqrt(jnp.maximum(q, 0.0))
        ok = rq > 0
        return z - rq, jnp.where(ok, -x * dq / (2.0 * jnp.where(ok, rq, 1.0)), 0.0), theta

    u_star, _, df_u, theta_star = _rtsafe(fdf, jnp.log(jnp.maximum(x0, lo)), u_lo, u_lo + 60.0)
    x_star = jnp.exp(u_star)
    # envelope theorem: θ̂ fixed at its optimum; F = z(cl) − sqrt(L(θ̂, x*; s, b, σ_b))
    f = ndtri(cl) - safe_sqrt(_profile_objective(theta_star, x_star, s, b, sigma_b))
    return jnp.where(z > 0, _implicit_step(x_star, f, df_u / x_star), 0.0)


# ------------------------------------------------------------------------------------------
# simple-vs-simple hypothesis tests (Dirac vs Majorana)
# ------------------------------------------------------------------------------------------


@functools.partial(jax.jit, static_argnames="equal_rate")
def _hypothesis_q(true, alt, b, equal_rate: bool):
    true, alt = _clip0(true), _clip0(alt)
    b = jnp.broadcast_to(_clip0(b), true.shape)
    if equal_rate:
        t_tot, a_tot = jnp.sum(true), jnp.sum(alt)
        ok = a_tot > 0
        alt = alt * jnp.where(ok, t_tot / jnp.where(ok, a_tot, 1.0), 1.0)
    return 2.0 * jnp.sum(_dev(true + b, alt + b, alt - true))


def _prepare_hypotheses(true, alt, b):
    check_nonnegative("true", true, "events")
    check_nonnegative("alt", alt, "events")
    check_nonnegative("b", b, "events")
    _check_same_shape("true", true, "alt", alt)
    shape = _check_shapes(("true", "b"), true, b)
    if shape != jnp.shape(true):
        raise ValueError(
            f"b must broadcast to the shape of the spectra {jnp.shape(true)}, got {jnp.shape(b)}"
        )
    return _f64(true), _f64(alt), _f64(b)


def hypothesis_q(
    true: ArrayLike, alt: ArrayLike, b: ArrayLike = 0.0, *, equal_rate: bool = False
) -> Array:
    """Asimov separation statistic q_A = binned_q(true + b, alt' + b) (scalar).

    The median expected 2 ln[L(true)/L(alt)] for data drawn from ``true + b`` (two simple
    hypotheses). ``alt' = alt · Σtrue/Σalt`` if ``equal_rate`` (a shape-only test), else
    ``alt``. No background: q_A = 2 N KL(f_true ‖ f_alt) for equal rates.

    Parameters
    ----------
    true, alt : array_like
        Expected signal counts per bin [events] under the true and the alternative
        hypothesis, >= 0, same shape (any binning, e.g. a flattened 2-D histogram).
    b : array_like
        Background per bin [events], >= 0, broadcast to the spectra's shape.
    equal_rate : bool
        Normalise ``alt`` to the total of ``true`` first.
    """
    true, alt, b = _prepare_hypotheses(true, alt, b)
    return _hypothesis_q(true, alt, b, equal_rate=bool(equal_rate))


def hypothesis_z(
    true: ArrayLike, alt: ArrayLike, b: ArrayLike = 0.0, *, equal_rate: bool = False
) -> Array:
    """Expected significance sqrt(q_A) of rejecting ``alt`` when ``true`` holds.

    See :func:`hypothesis_q`. The gradient is finite (zero) at q_A = 0.
    """
    true, alt, b = _prepare_hypotheses(true, alt, b)
    return _hypothesis_z(true, alt, b, equal_rate=bool(equal_rate))


@functools.partial(jax.jit, static_argnames="equal_rate")
def _hypothesis_z(true, alt, b, equal_rate: bool):
    return safe_sqrt(_hypothesis_q(true, alt, b, equal_rate=equal_rate))


def dirac_majorana_z(
    dirac: ArrayLike,
    majorana: ArrayLike,
    b: ArrayLike = 0.0,
    *,
    truth: str = "majorana",
    equal_rate: bool = True,
) -> Array:
    """Expected significance of rejecting the other nature of N when ``truth`` holds.

    ``hypothesis_z(truth spectrum, other spectrum, b, equal_rate)`` on binned photon spectra
    (any shape, e.g. E_γ or E_γ × cos θ_γ flattened). Idealised ultra-relativistic limit
    without background: Z² = 2 N (1 − ln 2) if Majorana is true, 2 N (ln 2 − 1/2) if Dirac.

    Parameters
    ----------
    dirac, majorana : array_like
        Expected photon counts per bin [events] for a Dirac and a Majorana N, same shape.
    b : array_like
        Background per bin [events], >= 0.
    truth : {"majorana", "dirac"}
        The nature assumed true.
    equal_rate : bool
        Compare shapes only (rescale the alternative to the true total rate).
    """
    check_choice("truth", truth, {"majorana", "dirac"})
    if truth == "majorana":
        return hypothesis_z(majorana, dirac, b, equal_rate=equal_rate)
    return hypothesis_z(dirac, majorana, b, equal_rate=equal_rate)


# ------------------------------------------------------------------------------------------
# toys
# ------------------------------------------------------------------------------------------


def poisson_toys(key: Array, nu: ArrayLike, n_toys: int) -> Array:
    """Poisson pseudo-data: float array of shape (n_toys, *nu.shape) with means ``nu``.

    Parameters
    ----------
    key : jax.random key
    nu : array_like
        Expected counts [events], >= 0.
    n_toys : int
        Number of pseudo-experiments (static).
    """
    check_nonnegative("nu", nu, "events")
    if not isinstance(n_toys, int | np.integer) or n_toys < 1:
        raise ValueError(f"n_toys must be a positive integer, got {n_toys!r}")
    nu = _clip0(nu)
    draws = jax.random.poisson(key, nu, shape=(int(n_toys), *nu.shape))
    return draws.astype(nu.dtype)
