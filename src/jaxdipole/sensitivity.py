"""Sensitivity (reach) of an experiment in the (m_N, μ) plane: the 90 % CL coupling μ_90.

Two modes (Poisson likelihoods and Asimov data, :mod:`jaxdipole.stats`):

* **Primakoff** (recoil only): the expected signal is exactly ∝ μ² (all couplings scaled
  together), so one evaluation of the binned recoil spectrum gives μ_90 = μ sqrt(x_90), with
  x_90 the median expected limit on the signal strength against the flat background and the
  SM CEvNS recoils (:func:`jaxdipole.stats.signal_strength_limit`, binned Asimov likelihood).
* **Radiative** (recoil + photon in coincidence, essentially background free): the signal is
  ∝ μ⁴ while N is long-lived, ∝ μ² × BR once it decays promptly; in between the decay
  probability makes it non-linear. μ_90 solves N_γ(μ) = s_up (s_up = 2.303 without
  background) by Newton iterations in ln μ, started from the long-lived scaling; the last
  step carries the implicit-function derivative, so μ_90 is differentiable w.r.t. the model
  and the experiment.

Every function takes one model (one m_N) and returns a scalar; map over masses with
``jax.vmap`` or :func:`jaxdipole.scan`. The coupling *pattern* of the model (ratios of
``mu`` and ``mu_prime``) is kept; the returned μ_90 is the value of ``model.mu[flavour]`` at
the limit, all couplings scaled with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from . import stats
from ._checks import check_choice, check_nonnegative, concrete
from ._deprecate import renamed_arguments
from ._jit import compiled
from .experiment import Experiment
from .model import DipoleModel
from .offshell_rates import radiative_events_mc
from .photon_rates import radiative_events
from .radiative import CHANNEL_CHOICES
from .rates import (
    background_binned,
    background_events,
    cevns_binned,
    cevns_events,
    primakoff_events,
    recoil_binned,
)

__all__ = [
    "scale_couplings",
    "check_scale",
    "SCALES",
    "primakoff_reach",
    "combined_primakoff_reach",
    "radiative_reach",
    "recoil_edges",
]

#: Default number of log-spaced recoil bins of the Primakoff likelihood.
N_RECOIL_BINS = 12
#: Most root-find iterations in ln μ for the radiative reach (it stops at 1e-11: 2-4 where the
#: rate is a power of μ, ≲ 10 in the prompt transition or before a saturating rate).
N_NEWTON = 40


#: Coupling scalings of :func:`radiative_reach` (besides a flavour index 0/1/2 and a callable).
SCALES = ("all", "active")


def scale_couplings(
    model: DipoleModel,
    k: ArrayLike,
    *,
    scale: str | int | np.integer | Callable[[DipoleModel, Any], DipoleModel] = "all",
) -> DipoleModel:
    """The model with its couplings multiplied by ``k``.

    ``scale``: ``"all"`` (default: ``mu`` and ``mu_prime``), ``"active"`` (``mu`` only, the
    sterile-to-sterile ``mu_prime`` fixed), a flavour index 0/1/2 (only ``mu[flavour]``, the
    other moments fixed), or a callable ``(model, k) -> model``.
    """
    check_scale(scale)
    if callable(scale):
        return scale(model, k)
    if scale == "all":
        return eqx.tree_at(lambda m: (m.mu, m.mu_prime), model, (model.mu * k, model.mu_prime * k))
    if scale == "active":
        return eqx.tree_at(lambda m: m.mu, model, model.mu * k)
    return eqx.tree_at(lambda m: m.mu, model, model.mu.at[scale].multiply(k))


def check_scale(scale) -> None:
    """ValueError unless ``scale`` is "all", "active", a flavour index 0/1/2 or a callable."""
    if callable(scale) or (isinstance(scale, str) and scale in SCALES):
        return
    if isinstance(scale, (int, np.integer)) and not isinstance(scale, bool) and 0 <= scale <= 2:
        return
    raise ValueError(
        f"scale must be 'all', 'active', a flavour index 0/1/2 or a callable (model, k) -> model, "
        f"got {scale!r}"
    )


def _check_flavour(flavour: int) -> None:
    check_choice("flavour", flavour, (0, 1, 2))


def _check_binned(
    exp=None, exps=None, edges=N_RECOIL_BINS, upper=None, cl=0.9, sigma_b=0.0, scale="all", **_
):
    """Concrete-input checks of the binned reaches (run before the compiled body)."""
    if not (isinstance(scale, str) and scale in SCALES):
        raise ValueError(
            f"scale must be 'all' or 'active' for a Primakoff reach (the recoil signal is "
            f"exactly ∝ the scaled moments squared only when every moment that produces N "
            f"scales), got {scale!r}"
        )
    stats._check_cl(cl)
    check_nonnegative("sigma_b", sigma_b)
    if edges is not None:
        # a single-experiment reach always passes exp; a combined one passes exps
        for e in [cast(Experiment, exp)] if exps is None else list(exps):
            recoil_edges(e, edges, upper)


def _reference(model: DipoleModel, flavour: int) -> Array:
    return model.mu[flavour]


def recoil_edges(
    exp: Experiment, edges: int | ArrayLike = N_RECOIL_BINS, upper: ArrayLike | None = None
) -> Array:
    """Recoil bin edges [GeV] placed logarithmically from the threshold to the window top.

    ``edges``: a number of log-spaced bins, or increasing fractions f_k in [0, 1] of the
    logarithmic window: E_k = E_thr (E_top / E_thr)^{f_k}, E_top = ``exp.recoil_max`` (or
    ``upper`` [GeV], needed when ``recoil_max`` is infinite). Differentiable w.r.t. both
    window edges (the bins follow the threshold).
    """
    if isinstance(edges, int | np.integer):
        if edges < 1:
            raise ValueError(f"edges: the number of bins must be >= 1, got {edges}")
        frac = jnp.linspace(0.0, 1.0, int(edges) + 1)
    else:
        frac = jnp.asarray(edges, dtype=float)
        fc = concrete(frac)
        if frac.ndim != 1 or frac.shape[0] < 2:
            raise ValueError(f"edges must be an int or a 1-D array of >= 2 fractions, got {edges}")
        if fc is not None and not (fc[0] >= 0 and fc[-1] <= 1 and np.all(np.diff(fc) > 0)):
            raise ValueError(f"edges fractions must increase within [0, 1], got {fc!r}")
    top = exp.recoil_max if upper is None else jnp.asarray(upper, dtype=float)
    thr = exp.recoil_threshold
    tc, uc = concrete(thr), concrete(top)
    if uc is not None and not math.isfinite(float(uc)):
        raise ValueError(
            "recoil_edges: the recoil window needs a finite top: set exp.recoil_max or pass "
            "upper= [GeV]"
        )
    if tc is not None and uc is not None and not 0 < float(tc) < float(uc):
        raise ValueError(
            f"recoil_edges: need 0 < recoil_threshold < upper edge, got {float(tc)!r} and "
            f"{float(uc)!r}"
        )
    ok = (thr > 0) & (top > thr) & jnp.isfinite(top)
    lo = jnp.log(jnp.where(ok, thr, 1.0))
    hi = jnp.log(jnp.where(ok, top, math.e))
    return jnp.exp(lo + frac * (hi - lo))


@compiled(check=_check_binned)
def primakoff_reach(
    model: DipoleModel,
    exp: Experiment,
    *,
    flavour: int = 0,
    cl: float = stats.CL90,
    edges: int | ArrayLike | None = N_RECOIL_BINS,
    sigma_b: float = 0.0,
    include_cevns: bool = True,
    upper: ArrayLike | None = None,
    scale: str = "all",
) -> Array:
    """Median expected upper limit on ``model.mu[flavour]`` [GeV^-1] from the recoil spectrum.

    Parameters
    ----------
    model : DipoleModel
        m_N and the coupling pattern (any non-zero value of ``mu[flavour]``).
    exp : Experiment
        Its flat background and (if ``include_cevns``) the SM CEvNS recoils are the background.
    flavour : int
        Which coupling is reported (0 = e for a reactor).
    cl : float
        Confidence level (one-sided; 0.9 → Z = 1.2816, floored at 2.303 signal events).
    edges : int, 1-D array of fractions, or None
        Recoil bins (static count, or fractions of the log window; :func:`recoil_edges`)
        between the threshold and ``recoil_max`` (or ``upper``); ``None``: one counting
        window (also allowed for an infinite ``recoil_max`` without background). The bins
        follow the threshold, so μ_90 is differentiable w.r.t. it (a detector figure of
        merit, see :func:`jaxdipole.fit.maximize`).
    sigma_b : float
        Relative uncertainty of the background normalisation (profiled nuisance).
    include_cevns : bool
        Count the SM CEvNS recoils as background (default True).
    upper : float, optional
        Top of the binned window [GeV] when ``exp.recoil_max`` is infinite.
    scale : {"all", "active"}
        Which couplings the limit scales (as :func:`radiative_reach`). The recoil signal does
        not depend on μ_NN', so both give the same limit; one flavour at fixed others is not
        a signal-strength limit and is refused.

    Returns
    -------
    Array
        μ_90 [GeV^-1]; ``inf`` where the experiment sees no Primakoff events (m_N beyond the
        flux end point or the recoil window).
    """
    _check_flavour(flavour)
    s, b = _primakoff_bins(model, exp, edges, include_cevns, upper)
    return _limit_from_bins(model, flavour, s, b, cl, sigma_b)


def _primakoff_bins(model, exp, edges, include_cevns, upper):
    if edges is None:
        s = primakoff_events(model, exp)[None]
        b = background_events(exp)[None]
        if include_cevns:
            b = b + cevns_events(exp)[None]
        return s, b
    e = recoil_edges(exp, edges, upper)
    s = recoil_binned(model, exp, e)
    b = background_binned(exp, e)
    if include_cevns:
        b = b + cevns_binned(exp, e)
    return s, b


@compiled(check=_check_binned)
def combined_primakoff_reach(
    model: DipoleModel,
    exps,
    *,
    flavour: int = 0,
    cl: float = stats.CL90,
    edges: int | ArrayLike | None = N_RECOIL_BINS,
    sigma_b: float = 0.0,
    include_cevns: bool = True,
    scale: str = "all",
) -> Array:
    """μ_90 [GeV^-1] of several detectors analysed together (one binned likelihood).

    As :func:`primakoff_reach`, with the recoil bins of every experiment in ``exps`` (e.g. the
    CaWO4 and Al2O3 detectors of NUCLEUS, :func:`jaxdipole.experiments.nucleus_phase1_detectors`)
    concatenated. Differentiable w.r.t. every experiment's parameters, e.g. the split of a
    fixed total target mass between materials.
    """
    _check_flavour(flavour)
    parts = [_primakoff_bins(model, e, edges, include_cevns, None) for e in exps]
    if not parts:
        raise ValueError("exps: need at least one Experiment")
    s = jnp.concatenate([p[0] for p in parts])
    b = jnp.concatenate([p[1] for p in parts])
    return _limit_from_bins(model, flavour, s, b, cl, sigma_b)


def _limit_from_bins(model, flavour, s, b, cl, sigma_b):
    seen = jnp.sum(s) > 0
    s_safe = jnp.where(seen, s, jnp.ones_like(s))
    x = stats.signal_strength_limit(s_safe, b, cl, sigma_b)
    mu_ref = jnp.abs(_reference(model, flavour))
    return jnp.where(seen, mu_ref * jnp.sqrt(jnp.where(seen, x, 1.0)), jnp.inf)


def _check_radiative(model=None, cl=0.9, background_events=0.0, scale="all", flavour=None, **_):
    stats._check_cl(cl)
    check_nonnegative("background_events", background_events, "events")
    check_scale(scale)
    if flavour is not None:
        _check_flavour(flavour)
    if not callable(scale) and not isinstance(scale, str) and flavour not in (None, scale):
        raise ValueError(
            f"flavour={flavour} with scale={scale}: only mu[{scale}] is scaled, so the limit is "
            f"reported on it; leave flavour out or pass flavour={scale}"
        )
    if flavour is None:
        flavour = scale if not callable(scale) and not isinstance(scale, str) else 0
    mu = concrete(model.mu) if model is not None else None
    if mu is not None and np.ndim(mu) == 1 and mu[flavour] == 0:
        raise ValueError(
            f"model.mu[{flavour}] is 0: the limit is reported on (and scales) the moment of "
            f"flavour {flavour}; give it a nonzero reference value"
        )


#: Largest |ln k| the radiative root find explores around the model's couplings (k from
#: e^-60 ~ 1e-26 to e^60): beyond it the limit is reported as 0 or inf.
LN_K_SPAN = 60.0
#: Largest step in ln k of one root-find iteration (a factor e^8 ~ 3000 in the couplings).
LN_K_STEP = 8.0


def _solve_log_rate(log_rate, log_s, max_iter):
    """Root t of ln N(e^t) = log_s for an increasing ln N, and whether it lies inside the span.

    Newton steps in t safeguarded by a bracket (bisection when a step leaves it, at most
    ``LN_K_STEP`` per step while one side is open), so every regime converges: ∝ k⁴
    (long-lived N), ∝ k² (prompt), the transition, and a rate that saturates (a fixed coupling
    limits the branching ratio), for which no root exists. Stops when the step or the residual
    falls below 1e-11. Returns (t, state, slope): state 0 root found, +1 the rate stays below
    ``log_s`` up to t = +``LN_K_SPAN`` (no limit: inf), −1 above it down to −``LN_K_SPAN``
    (limit 0); slope = d ln N/dt at t. Not differentiable (the caller takes the implicit
    derivative).
    """

    def eval_at(t):
        (lr, pos), (slope, _) = jax.jvp(log_rate, (t,), (jnp.ones_like(t),))
        lr = jnp.where(pos, lr, -jnp.inf)
        slope = jnp.where(pos & jnp.isfinite(slope), slope, 0.0)
        return lr, slope

    def body(carry):
        t, lo, hi, lr, slope, it, _ = carry
        first = it == 0  # the first pass evaluates the start t = 0 (one copy of the rate)
        g = lr - log_s
        newton = t - g / jnp.where(slope > 1e-8, slope, 1.0)
        good = (slope > 1e-8) & jnp.isfinite(g)
        direction = jnp.where(g < 0, 1.0, -1.0)
        step = jnp.where(good, newton, t + direction * LN_K_STEP)
        step = jnp.clip(step, t - LN_K_STEP, t + LN_K_STEP)
        both = jnp.isfinite(lo) & jnp.isfinite(hi)
        outside = (step <= lo) | (step >= hi)
        step = jnp.where(both & outside, 0.5 * (lo + hi), step)
        step = jnp.where(first, t, step)
        lr_n, slope_n = eval_at(step)
        above = lr_n > log_s
        hi = jnp.where(above, step, hi)
        lo = jnp.where(above, lo, step)
        done = (~first & (jnp.abs(step - t) < 1e-11)) | (jnp.abs(lr_n - log_s) < 1e-11)
        return step, lo, hi, lr_n, slope_n, it + 1, done

    def cond(carry):
        t, *_, it, done = carry
        return (~done) & (it <= max_iter) & (jnp.abs(t) <= LN_K_SPAN)

    t0 = jnp.zeros(())
    nan = jnp.full((), jnp.nan)
    carry = (t0, -jnp.inf, jnp.inf, nan, nan, 0, jnp.zeros((), bool))
    t, lo, hi, lr, slope, *_ = jax.lax.while_loop(cond, body, carry)
    state = jnp.where(t > LN_K_SPAN, 1, jnp.where(t < -LN_K_SPAN, -1, 0))
    # out of iterations without a bracketed root: decide by the side the rate stays on
    state = jnp.where((state == 0) & ~jnp.isfinite(hi) & (lr < log_s - 1e-6), 1, state)
    state = jnp.where((state == 0) & ~jnp.isfinite(lo) & (lr > log_s + 1e-6), -1, state)
    return t, state, slope


@renamed_arguments(background="background_events", n_nodes="n_recoil", n_nodes_cos="n_cos")
@compiled(check=_check_radiative)
def radiative_reach(
    model: DipoleModel,
    exp: Experiment,
    *,
    flavour: int | None = None,
    cl: float = stats.CL90,
    background_events: ArrayLike = 0.0,
    channels="all",
    scale: str | int | np.integer | Callable[[DipoleModel, Any], DipoleModel] = "all",
    n_newton: int = N_NEWTON,
    method: str = "narrow_width",
    **rate_kwargs,
) -> Array:
    """Median expected upper limit on ``model.mu[flavour]`` [GeV^-1] from radiative events.

    Solves N_γ(scaled couplings) = s_up for the scale k of the couplings that ``scale``
    selects, with N_γ = :func:`jaxdipole.radiative_events` (recoil in the window, N decaying
    inside ``exp.decay_length``, photon in the photon window) and s_up the median expected
    counting limit for ``background_events`` expected photon-coincidence events (2.303 at
    90 % CL when 0). Returns k · |mu[flavour]|.

    Parameters
    ----------
    model : DipoleModel
        m_N, nature, N' and the couplings: the pattern that is scaled, and the values held
        fixed (e.g. ``mu_prime`` with ``scale="active"``).
    exp : Experiment
    flavour : int, optional
        Which moment is reported: ``scale`` when it is a flavour index, else 0 (μ_e).
    cl : float
        Confidence level.
    background_events : float
        Expected background events in the coincidence window (default 0; the former
        spelling ``background`` is deprecated).
    channels : "all" | "active" | "sterile" | 0 | 1 | 2
        Photon channels counted (as :func:`jaxdipole.radiative_events`).
    scale : "all" | "active" | 0 | 1 | 2 | callable
        Which couplings the limit scales (:func:`scale_couplings`). ``"all"`` (default): every
        moment, the pattern kept (with μ_NN' = μ_e and only N' γ photons the result is the
        reach in sqrt(μ_e μ_NN')). ``"active"``: μ_e, μ_μ, μ_τ with μ_NN' fixed -- the N -> N' γ
        reach in μ_e at a given sterile-to-sterile moment. A flavour index: only that moment,
        the others fixed (flavour products such as μ_e μ_μ at fixed μ_e). A callable
        ``(model, k) -> model``: any one-parameter family, N_γ increasing in k.
    n_newton : int
        Most root-find iterations (static; default 40). The safeguarded Newton iteration in
        ln k stops at 1e-11; it takes 2-4 iterations where N_γ ∝ k² or k⁴, ≲ 10 in
        transitions, and ends with inf when the rate saturates below s_up.
    method : {"narrow_width", "full"}
        ``"narrow_width"`` (default): the on-shell chain :func:`jaxdipole.radiative_events`
        (decay-in-detector probability, every photon channel). ``"full"``: the full 2 -> 3
        amplitude by Monte Carlo, :func:`jaxdipole.radiative_events_mc` (prompt experiments
        only, N -> ν γ photons; also where N cannot be produced on shell, e.g. m_N above the
        flux end point). Its fixed quasi-random points make the rate a smooth function of μ.
    **rate_kwargs
        Passed to the rate function (e.g. ``precise=False, n_recoil=8`` for fast narrow-width
        scans: totals agree with the precise fold to ~1e-5; ``n_points=...`` for "full").

    Returns
    -------
    Array
        μ_90 [GeV^-1]; ``inf`` where the scaled couplings never give s_up events (nothing
        produced, or a rate that saturates: with ``scale="active"`` and ``channels="sterile"``
        the N' γ branching ratio falls as μ_e grows), 0 where the fixed couplings alone give
        more than s_up. Differentiable (implicit derivative of the root) w.r.t. the model and
        the experiment.
    """
    if flavour is None:
        is_index = isinstance(scale, (int, np.integer)) and not callable(scale)
        flavour = cast(int, scale) if is_index else 0  # a flavour index 0/1/2 (np.integer too)
    _check_flavour(flavour)
    check_choice("channels", channels, CHANNEL_CHOICES)
    check_choice("method", method, ("narrow_width", "full"))
    if method == "full" and channels not in ("all", "active"):
        raise ValueError("method='full' counts N -> nu gamma photons: channels must be 'all'")
    s_up = stats.asimov_upper_limit(jnp.asarray(background_events, dtype=float), cl)
    log_s = jnp.log(s_up)

    def log_rate_of(md, xp):
        def log_rate(t):
            k = jnp.exp(t)
            md_k = scale_couplings(md, k, scale=scale)
            if method == "full":
                n = radiative_events_mc(md_k, xp, **rate_kwargs).events
            else:
                n = radiative_events(md_k, xp, channels=channels, **rate_kwargs)
            pos = n > 0
            return jnp.where(pos, jnp.log(jnp.where(pos, n, 1.0)), -jnp.inf), pos

        return log_rate

    # the root find runs on constants; the last Newton step carries the implicit derivative
    md_c, exp_c, log_s_c = jax.lax.stop_gradient((model, exp, log_s))
    t, state, slope = _solve_log_rate(log_rate_of(md_c, exp_c), log_s_c, n_newton)
    t = jnp.where(state == 0, t, 0.0)
    # one more rate at the root, differentiable in the model and experiment (its slope in t is
    # the root find's last one): the Newton correction ~0 carries the implicit derivative
    lr, pos = log_rate_of(model, exp)(jax.lax.stop_gradient(t))
    ok = (state == 0) & pos
    slope = jax.lax.stop_gradient(jnp.where(ok & (slope > 0), slope, 1.0))
    t = t - jnp.where(ok, lr - log_s, 0.0) / slope
    mu_ref = jnp.abs(_reference(model, flavour))
    limit = jnp.where(state < 0, 0.0, mu_ref * jnp.exp(t))
    return jnp.where(state > 0, jnp.inf, limit)
