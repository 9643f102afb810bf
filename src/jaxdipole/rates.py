"""Expected event numbers at an :class:`~jaxdipole.experiment.Experiment`: recoil spectra, totals.

Recoil-only modes: Primakoff upscattering ν A -> N A (N produced on shell; whether and where it
decays does not matter for the recoil) and the Standard-Model CEvNS expectation, plus the flat
detector background. Public functions::

    primakoff_events(model, exp)                 cevns_events(exp)
    primakoff_window_events(model, exp, a, b)    cevns_window_events(exp, a, b)
    recoil_spectrum(model, exp, E_R)             cevns_recoil_spectrum(exp, E_R)
    recoil_binned(model, exp, edges)             cevns_binned(exp, edges)
    background_events(exp)                       background_binned(exp, edges)

Building blocks, reusable for the radiative (photon) spectra:

* :func:`recoil_nodes` -- recoil-side quadrature: nodes and weights for ∫ f(E_R) ε(E_R) dE_R
  between given limits with the detector efficiency ε (flat efficiency × threshold, hard or
  Gaussian-smeared) and the recoil window built in.
* :func:`fold_experiment` -- T × Σ_components Σ_nuclei N_i × ∫_{E ≥ E_low} (…) dΦ/dE dE over the
  target species and flux components (each with its own flavour).
* :func:`fold_recoil_window` -- the two combined for any 2 -> 2 recoil process with an
  outgoing mass m_N: T Σ N_i ∫ dΦ ∫_window ε dσ(E, E_R) (…), accurate where the window edges
  cut the kinematic range (see below). ``dsigma`` may return per-node pytrees (e.g. dσ/dE_R
  times a photon spectrum), which come back integrated.

Event numbers are dimensionless floats: exposure T [GeV^-1] × number of nuclei × flux
[GeV^3 = per area per time] × cross section [GeV^-2]. Spectra are per GeV of recoil energy
(multiply by ``u.keV`` for events per keV).

Numerics
--------
* Neutrino energy: each flux component's own ``fold`` (fixed Gauss–Legendre with a square-root
  map at the lower bound). The lower bound is the smallest E_ν that can put a recoil into the
  window [A, B]: E_min(clip(T_turn, A, B)) (:func:`min_energy_for_window`), where E_min(T) is
  :func:`~jaxdipole.kinematics.min_neutrino_energy` and T_turn = m²/(2(M + m)) the recoil at
  the production threshold E_th = m + m²/2M, where E_min is smallest. A recoil threshold below
  T_turn does not raise the bound above E_th -- near E_th every recoil lies above it (using
  E_min(E_thr) there would wrongly drop the energies between E_th and E_min(E_thr)).
* Recoil energy: Gauss–Legendre in ln E_R (the Primakoff integrand ∝ 1/E_R is smooth in ln E_R;
  fixed nodes keep it vectorisable and differentiable), 32 nodes per panel by default.
* Window edges: where E_R,min(E_ν) falls below the threshold, or E_R,max(E_ν) rises above
  ``recoil_max`` or a bin edge, ∫_window dσ has a kink as a function of E_ν, which a fixed E_ν
  rule resolves only to ~1e-4. :func:`fold_recoil_window` therefore folds three pieces, each
  smooth on its own energy range with its own lower bound: the full kinematic range from
  E_low, minus [E_R,min, A] from E_min(A), minus [B, E_R,max] from E_min(B). Agreement with
  scipy double integrals split at the kinks: ~1e-12.
* Resolution σ > 0: the erfc turn-on [E_thr − 6σ, E_thr + 6σ] would be a near-kink in E_ν, so
  it is integrated in swapped order for continuous spectra, ∫ dE_R ε(E_R) S(E_R) with
  S(E_R) = ∫_{E_min(E_R)} dΦ dσ/dE_R smooth in E_R (two ln E_R panels resolving the erfc: a
  single fixed rule with nodes wider apart than the turn-on errs at the % level), and directly
  in E_R at the line energy for monochromatic components; above E_thr + 6σ, ε = ``efficiency``
  (erfc − 1 < 1e-9) and the pieces above apply. All of it is branch-free, so σ = 0 is exact:
  the turn-on has zero width, the threshold is an integration bound (exact Leibniz gradients),
  and d/dσ at σ = 0 is the σ → 0+ limit (0). Agreement with scipy: ≤ 1e-7 for σ <= E_thr.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.scipy.special import erfc
from jax.typing import ArrayLike

from . import constants
from ._checks import check_choice, check_finite, concrete, is_traced
from ._deprecate import renamed_arguments
from ._quadrature import gauss_legendre_unit
from .cevns import cevns_dsigma_dER
from .experiment import Experiment
from .flux import Flux, chunked_map, fold_options
from .kinematics import min_neutrino_energy, recoil_range, threshold_energy
from .model import DipoleModel
from .nuclei import Nucleus, SpeciesStack
from .primakoff import (
    _choose,
    _is_unit,
    _sigma_window,
    primakoff_dsigma_dER,
    series_in_range,
)

__all__ = [
    "N_NODES_RECOIL",
    "RESOLUTION_SIGMAS",
    "recoil_efficiency",
    "recoil_nodes",
    "fold_experiment",
    "recoil_window_lower",
    "min_energy_for_window",
    "fold_recoil_window",
    "primakoff_events",
    "primakoff_window_events",
    "recoil_spectrum",
    "recoil_binned",
    "cevns_events",
    "cevns_window_events",
    "cevns_recoil_spectrum",
    "cevns_binned",
    "background_events",
    "background_binned",
]

#: Gauss–Legendre nodes per ln E_R panel (three panels: below, across, above the turn-on).
N_NODES_RECOIL = 32
#: With a Gaussian resolution σ, recoils below E_thr − RESOLUTION_SIGMAS·σ are dropped
#: (efficiency ½ erfc(6/√2) = 1e-9 there) and the turn-on panel ends at E_thr + 6σ.
RESOLUTION_SIGMAS = 6.0
# Lower end of the ln E_R range when the window starts at 0 (SM CEvNS with E_thr − 6σ <= 0):
# _LOG_FLOOR × upper end (drops ~1e-10 of an integrand that is finite at 0).
_LOG_FLOOR = 1e-10
# The turn-on panel spans at most a factor _TURN_ON_SPAN in E_R below E_thr + 6σ; below it a
# tail panel (ε ≈ ε(0) slowly varying) takes the 1/E_R-like rest.
_TURN_ON_SPAN = 20.0


# ============================================================================ recoil side
def _edges(edges: ArrayLike) -> Array:
    """Bin edges as an array; ValueError for concrete edges that are not a 1-D increasing
    sequence of >= 2 non-negative energies."""
    e = jnp.asarray(edges)
    if e.ndim != 1 or e.shape[0] < 2:
        raise ValueError(f"edges must be a 1-D array of >= 2 bin edges [GeV], got shape {e.shape}")
    v = concrete(e)
    if v is not None and not (np.all(v[:-1] >= 0) and np.all(np.diff(v) > 0)):
        raise ValueError(f"edges must be >= 0 and strictly increasing [GeV], got {v!r}")
    return e


def _six_sigma(exp: Experiment) -> Array:
    """RESOLUTION_SIGMAS·σ, with zero derivative at σ = 0 (the σ → 0+ limit is O(σ²))."""
    sig = exp.resolution_sigma()
    return jnp.where(sig > 0, RESOLUTION_SIGMAS * sig, 0.0)


def recoil_efficiency(exp: Experiment, E_R: ArrayLike, *, window: bool = True) -> Array:
    """Detection efficiency ε(E_R) of a nuclear recoil of true energy E_R [GeV] (dimensionless).

    ε = ``efficiency`` × t(E_R) × [E_R <= ``recoil_max``], with the threshold behaviour
    t = ½ erfc((E_thr − E_R)/(√2 σ)) for a resolution σ > 0 and the step θ(E_R − E_thr)
    (½ at E_R = E_thr) for σ = 0. ``window=False`` gives only the smooth part (``efficiency``
    × erfc for σ > 0, ``efficiency`` for σ = 0; no step, no recoil_max cut), for integrals
    whose bounds already implement the cuts. Elementwise in E_R; finite value and gradient.
    """
    E_R = jnp.asarray(E_R)
    thr, sig = exp.recoil_threshold, exp.resolution_sigma()
    smeared = sig > 0
    sig_s = jnp.where(smeared, sig, 1.0)
    smooth = 0.5 * erfc((thr - E_R) / (math.sqrt(2.0) * sig_s))
    if not window:
        return exp.efficiency * jnp.where(smeared, smooth, 1.0)
    step = jnp.where(E_R > thr, 1.0, jnp.where(E_R == thr, 0.5, 0.0))
    t = jnp.where(smeared, smooth, step)
    return exp.efficiency * jnp.where(E_R <= exp.recoil_max, t, 0.0)


def _log_panel(a: Array, b: Array, x: Array, w: Array) -> tuple[Array, Array]:
    """GL nodes/weights in ln E_R on [a, b] (0 < a <= b < inf); zero weights otherwise."""
    ok = (a > 0) & (b >= a) & jnp.isfinite(b)
    a_s = jnp.where(ok, a, 1.0)
    b_s = jnp.where(ok, b, 1.0)
    L = jnp.log(b_s / a_s)
    E = a_s * jnp.exp(L * x)
    return E, jnp.where(ok, w * E * L, 0.0)


def _log_nodes(lo: Array, hi: Array, n_recoil: int) -> tuple[Array, Array]:
    """One GL panel in ln E_R on [lo, hi] [GeV] (zero weights if empty; lo = 0 -> 1e-10 hi)."""
    lo, hi = jnp.asarray(lo), jnp.asarray(hi)
    x, w = (jnp.asarray(v, jnp.result_type(lo, hi)) for v in gauss_legendre_unit(n_recoil))
    lo = jnp.where(lo > 0, lo, _LOG_FLOOR * hi)
    return _log_panel(lo, hi, x, w)


def recoil_window_lower(exp: Experiment) -> Array:
    """Lower edge [GeV] of the recoil integration: E_thr for σ = 0, max(E_thr − 6σ, 0) else.

    Below E_thr − 6σ the efficiency ½ erfc(6/√2) ≈ 1e-9 is neglected.
    """
    return jnp.maximum(exp.recoil_threshold - _six_sigma(exp), 0.0)


@renamed_arguments(n_nodes="n_recoil")
def recoil_nodes(
    exp: Experiment,
    E_R_lo: ArrayLike,
    E_R_hi: ArrayLike,
    *,
    n_recoil: int = N_NODES_RECOIL,
    window: bool = True,
) -> tuple[Array, Array]:
    """Quadrature for ∫_{E_R_lo}^{E_R_hi} f(E_R) ε(E_R) dE_R ≈ Σ_k w_k f(E_k).

    Parameters
    ----------
    exp : Experiment
        Provides the efficiency ε (:func:`recoil_efficiency`: flat ``efficiency``, threshold,
        ``resolution``) and the window top ``recoil_max``.
    E_R_lo, E_R_hi : float
        Kinematic recoil limits [GeV] at the neutrino energy at hand (or a bin's edges already
        intersected with them), scalars.
    n_recoil : int
        Gauss–Legendre nodes in ln E_R per panel (static; formerly ``n_nodes``); 3 panels.
    window : bool
        True (default): apply the recoil window -- the range becomes [lo, hi] with
        hi = min(E_R_hi, recoil_max), lo = max(E_R_lo, E_thr) for σ = 0 (the threshold is an
        integration bound: exact Leibniz derivative) or max(E_R_lo, E_thr − 6σ) with the erfc
        efficiency for σ > 0. False: integrate exactly over [E_R_lo, E_R_hi] with the smooth
        part of ε only (``recoil_efficiency(..., window=False)``), for callers that put the
        window edges into the bounds themselves (see :func:`fold_recoil_window`).

    Returns
    -------
    (E_R, w) : arrays of shape (3 n_recoil,), or (n_recoil,) if ``exp.smeared`` is False
        Nodes [GeV] and weights [GeV] including ε and the Jacobian E_R ln(hi/lo); all weights 0
        for an empty range.

    Notes
    -----
    Integration variable ln E_R (the Primakoff integrand ∝ 1/E_R becomes smooth; a zero lower
    limit is replaced by 1e-10·hi). Panels [lo, c1], [c1, c2], [c2, hi] with
    c2 = E_thr + 6σ and c1 = max(E_thr − 6σ, c2/20), clipped into [lo, hi]: the middle panel
    holds the erfc turn-on (width ~σ), the first the slowly varying tail below it. An
    experiment built without resolution (``exp.smeared`` False) has one panel, the whole
    range. 6σ enters with zero derivative at σ = 0, so d/dσ at σ = 0 is the σ → 0+ limit
    (0). Branch-free: jit, vmap and grad clean, no NaN for empty ranges or σ = 0.
    """
    thr, s6 = exp.recoil_threshold, _six_sigma(exp)
    lo_k, hi_k = jnp.asarray(E_R_lo), jnp.asarray(E_R_hi)
    dt = jnp.result_type(lo_k, hi_k, thr)
    if window:
        hi = jnp.minimum(hi_k, exp.recoil_max)
        lo = jnp.maximum(lo_k, thr - s6)
    else:
        hi, lo = hi_k, lo_k
    lo = jnp.where(lo > 0, lo, _LOG_FLOOR * hi)
    nonempty = (hi >= lo) & (lo > 0) & jnp.isfinite(hi)
    top = jnp.where(nonempty, hi, lo)
    c2 = jnp.clip(thr + s6, lo, top)
    c1 = jnp.clip(jnp.maximum(thr - s6, c2 / _TURN_ON_SPAN), lo, c2)
    x, w = (jnp.asarray(v, dt) for v in gauss_legendre_unit(n_recoil))
    panels = ((lo, c1), (c1, c2), (c2, top)) if exp.smeared else ((lo, top),)
    parts = [_log_panel(a, b, x, w) for a, b in panels]
    E = jnp.concatenate([p[0] for p in parts])
    W = jnp.concatenate([p[1] for p in parts])
    W = jnp.where(nonempty, W * recoil_efficiency(exp, E, window=window), 0.0)
    return E, W


# ============================================================================ flux side
def _bind(integrand: Callable, nuc: Nucleus, comp: Flux, E: Array) -> Any:
    return integrand(nuc, comp, E)


@renamed_arguments(e_low="E_low")
def fold_experiment(
    exp: Experiment,
    integrand: Callable[[Nucleus, Flux, Array], Any],
    E_low: Callable[[Nucleus], ArrayLike] | ArrayLike = 0.0,
    *,
    per_nucleus: bool = False,
    components: tuple[Flux, ...] | None = None,
    breaks: Callable[[Nucleus], ArrayLike] | None = None,
    batch_size: int | None = None,
    parts: str = "all",
    n_per_panel: int | None = None,
) -> Any:
    """T × Σ_components Σ_i N_i × ∫_{E ≥ E_low(nuc_i)} integrand(nuc_i, component, E) dΦ/dE dE.

    Parameters
    ----------
    exp : Experiment
        Exposure T [GeV^-1], target species and their numbers N_i (``exp.nuclei_counts``),
        flux components (``exp.flux.components()``).
    integrand : callable (Nucleus, Flux component, E [GeV]) -> scalar/array/pytree
        Typically a cross section [GeV^-2] (integrated over the recoil window); uses the
        component's ``flavour``/``antineutrino``. Called with a scalar E (vmapped by ``fold``).
    E_low : callable Nucleus -> float, or float
        Lower neutrino-energy bound [GeV] per species (differentiable).
    per_nucleus : bool
        If True, return the per-species results stacked on a leading axis of length
        ``len(exp.target.nuclei)`` (summed over flux components) instead of their sum.
    components : tuple of Flux, optional
        Fold only these components (default: all of ``exp.flux.components()``).
    breaks : callable Nucleus -> (B,) array, optional
        Neutrino energies [GeV] where the integrand has kinks, per species: extra panel edges
        of each component's rule (:meth:`~jaxdipole.flux.Flux.nodes`).
    batch_size : int, optional
        Evaluate the integrand on chunks of this many energy nodes (``lax.map``) to bound
        memory (default: all nodes at once).
    parts : {"all", "continuum", "lines"}
        Which part of each component to fold.
    n_per_panel : int, optional
        Nodes per panel of each component's rule instead of its own (static).

    Returns
    -------
    Same structure as ``integrand``'s output: T N_i × flux [GeV^3] × integrand.

    Notes
    -----
    Python loop over flux components only. All target species are evaluated together under
    ``jax.vmap`` (one compiled copy instead of one per species): ``integrand`` and ``E_low``
    then receive a slice of a :class:`~jaxdipole.nuclei.SpeciesStack`: the dynamic fields of
    one species (mass, ``charge``, Helm parameters, n_neutrons, ``helm_rn``), no ``Z``/``A``
    -- they must depend on the nucleus only through those (all of jaxdipole's cross sections
    do: they use ``charge``, not ``Z``). The energy nodes are vectorised by each component's
    ``fold``.
    """
    stacked = SpeciesStack.of(exp.target.nuclei)
    comps = exp.flux.components() if components is None else tuple(components)
    if not comps:
        raise ValueError("fold_experiment: no flux components to fold")
    per = None  # per species (leading axis), summed over components
    for comp in comps:

        def one(nuc, comp=comp):
            lo = E_low(nuc) if callable(E_low) else E_low
            br = None if breaks is None else breaks(nuc)
            fn = functools.partial(_bind, integrand, nuc, comp)
            kw = fold_options(br, batch_size, parts, n_per_panel)
            return comp.fold(fn, lo, **kw)

        vals = jax.vmap(one)(stacked)
        per = vals if per is None else jax.tree.map(jnp.add, per, vals)
    scale = exp.exposure * exp.nuclei_counts

    def scaled(v):
        return v * scale.reshape(scale.shape + (1,) * (v.ndim - 1))

    if per_nucleus:
        return jax.tree.map(scaled, per)
    return jax.tree.map(lambda v: jnp.sum(scaled(v), axis=0), per)


def min_energy_for_window(m_N: ArrayLike, M: ArrayLike, A: ArrayLike, B: ArrayLike) -> Array:
    """Smallest neutrino energy [GeV] that can give a recoil in [A, B] [GeV] (ν A -> N A).

    E_min(clip(T_turn, A, B)) with E_min = :func:`~jaxdipole.kinematics.min_neutrino_energy` and
    T_turn = m²/(2(M + m)) the recoil at threshold (where E_min is smallest, = E_th), never below
    E_th = m + m²/2M. For m_N = 0 (CEvNS): E_min(A), 0 for A = 0. Smooth in all arguments
    (E_min has zero slope at T_turn). B may be +inf.
    """
    m, M = jnp.asarray(m_N), jnp.asarray(M)
    A, B = jnp.asarray(A), jnp.asarray(B)
    t_turn = m * m / (2.0 * (M + m))
    T = jnp.minimum(jnp.maximum(t_turn, A), B)
    return jnp.maximum(threshold_energy(m, M), min_neutrino_energy(T, m, M))


def _edge_energy(T: Array, m: Array, M: Array) -> Array:
    """E_min(T) [GeV]: from this energy on the recoil edge T is inside the kinematic range
    (+inf for T = inf, or T = 0 with m > 0)."""
    fin = jnp.isfinite(T)
    val = min_neutrino_energy(jnp.where(fin, T, 1.0), m, M)
    return jnp.where(fin, val, jnp.inf)


@renamed_arguments(n_nodes="n_recoil")
def fold_recoil_window(
    exp: Experiment,
    dsigma: Callable[[Nucleus, Flux, Array, Array], Any],
    m_N: ArrayLike,
    E_R_lo: ArrayLike = 0.0,
    E_R_hi: ArrayLike = jnp.inf,
    *,
    per_nucleus: bool = False,
    n_recoil: int = N_NODES_RECOIL,
    sigma_window: Callable[[Nucleus, Flux, Array, Array, Array], Any] | None = None,
    breaks: Callable[[Nucleus], ArrayLike] | None = None,
    batch_size: int | None = None,
    n_per_panel: int | None = None,
    upper_cut: bool | None = None,
) -> Any:
    """T Σ_c Σ_i N_i ∫ dE dΦ_c/dE ∫_{W(E)} dE_R ε(E_R) dsigma(nuc_i, c, E, E_R) over the window.

    The generic recoil-window fold behind :func:`primakoff_events`, :func:`cevns_events` and
    the binned spectra, reusable for any process ν A -> X A with the 2 -> 2 recoil kinematics of
    an outgoing mass ``m_N`` (0 for CEvNS).

    Parameters
    ----------
    exp : Experiment
        Exposure, target, flux components, recoil threshold/resolution/efficiency/recoil_max.
    dsigma : callable (Nucleus, Flux component, E [GeV], E_R nodes [GeV] (n,)) -> pytree
        Differential cross section(s) at the recoil nodes, each leaf with leading axis n
        (e.g. dσ/dE_R [GeV^-3], or dσ/dE_R times a per-node photon spectrum of shape (n, K)).
    m_N : float
        Mass [GeV] of the outgoing neutral lepton (fixes the kinematic recoil range
        [E_R,min(E), E_R,max(E)] and the energy thresholds).
    E_R_lo, E_R_hi : float
        Optional extra restriction of the true recoil energy (a bin) [GeV].
    per_nucleus : bool
        Per target species on a leading axis (as :func:`fold_experiment`).
    n_recoil : int
        Gauss–Legendre nodes in ln E_R per recoil panel (static; formerly ``n_nodes``).
    sigma_window : callable (Nucleus, Flux component, E, lo, hi [GeV]) -> pytree, optional
        ∫ dsigma dE_R over [max(E_R,min, lo), min(E_R,max, hi)] in closed form (``hi`` may be
        +inf; 0 for an empty range). Given, it replaces the ln E_R quadrature of the three
        pieces above the turn-on (``dsigma`` is still used across a resolution turn-on).
    breaks : callable Nucleus -> (B,) array, optional
        Neutrino energies [GeV] where ``dsigma``'s recoil integral has kinks of its own (e.g.
        a photon bin edge meeting the end of the photon box), split as panel edges.
    batch_size : int, optional
        Chunk size of the neutrino-energy nodes (``lax.map``; default all at once).
    n_per_panel : int, optional
        Neutrino-energy nodes per panel instead of each flux's own rule (static).
    upper_cut : bool, optional
        Whether the window has a top (static; default: False only when E_R_hi and
        ``recoil_max`` are concrete +inf). Without one the third piece is left out.

    Returns
    -------
    pytree like ``dsigma``'s output without the node axis (per species on a leading axis if
    ``per_nucleus``): expected events (or event-weighted quantities).

    Notes
    -----
    The window W(E) = [max(E_R,min(E), A), min(E_R,max(E), B)] with A = max(E_R_lo, E_thr)
    (E_thr − 6σ with a resolution σ) and B = min(E_R_hi, recoil_max). Where an edge starts to
    cut the kinematic range, ∫_W dσ has a kink in E, which a fixed E rule resolves poorly
    (~1e-4). Above the threshold turn-on (T >= C = E_thr + 6σ; C = E_thr for σ = 0) the fold
    is written as three pieces, each smooth on its own energy range, with its own lower bound:

        ∫_{E_low} ∫_{E_R,min}^{E_R,max}  −  ∫_{E_C} ∫_{E_R,min}^{C}  −  ∫_{E_B} ∫_{B}^{E_R,max}

    with E_low = :func:`min_energy_for_window`, E_C = E_min(C), E_B = E_min(B) (the energies
    from which C and B lie inside the kinematic range; +inf if never), one ln E_R panel each,
    ε = ``efficiency``; evaluated together under ``jax.vmap`` (one compiled copy). The turn-on
    [E_thr − 6σ, C] (empty for σ = 0) is added with the erfc efficiency: for continuous spectra
    in swapped order, ∫ dE_R ε S(E_R) with S(E_R) = ∫_{E_min(E_R)} dΦ dσ (smooth in E_R; two
    ln E_R panels from :func:`recoil_nodes`), for :class:`~jaxdipole.flux.MonochromaticFlux`
    components directly at the line energy. Exact Leibniz derivatives w.r.t. all edges;
    the subtraction costs at most a factor (full range / window) of the quadrature accuracy
    (~1e-12 relative for the full range). Cost: 3 + 2 (σ turn-on) recoil quadratures of
    ``n_recoil`` nodes per flux node (or closed-form ``sigma_window`` calls instead of the 3);
    the third piece is left out when the window has no upper cut (E_R_hi and ``recoil_max``
    concrete +inf).
    """
    m = jnp.asarray(m_N)
    lo_bin, hi_bin = jnp.asarray(E_R_lo), jnp.asarray(E_R_hi)
    thr, s6 = exp.recoil_threshold, _six_sigma(exp)
    b_cut = jnp.minimum(hi_bin, exp.recoil_max)
    lower = jnp.maximum(lo_bin, jnp.maximum(thr - s6, 0.0))
    # (a) recoils above the turn-on, T >= E_thr + 6σ (E_thr for σ = 0): three smooth pieces
    a_cut = jnp.maximum(lo_bin, thr + s6)
    # no upper cut known in Python (recoil_max and E_R_hi concrete +inf): the third piece is empty
    no_top = not (_has_upper_cut(exp, E_R_hi) if upper_cut is None else upper_cut)
    fold_kw = {"breaks": breaks, "batch_size": batch_size, "n_per_panel": n_per_panel}
    part_a = _fold_window_pieces(
        exp, dsigma, m, a_cut, b_cut, per_nucleus, n_recoil, sigma_window, 2 if no_top else 3,
        fold_kw,
    )  # fmt: skip
    part_a = jax.tree.map(lambda v: jnp.where(a_cut < b_cut, v, 0.0), part_a)
    if not exp.smeared:  # built without resolution: no turn-on to add
        return jax.tree.map(lambda v: jnp.where(lower < b_cut, v, 0.0), part_a)
    # (b) the turn-on [E_thr − 6σ, E_thr + 6σ] ∩ window (zero width for σ = 0), erfc resolved by
    # the two turn-on panels of recoil_nodes (the third has zero width since t_hi <= thr + 6σ)
    t_hi = jnp.maximum(jnp.minimum(b_cut, thr + s6), lower)
    T, w = recoil_nodes(exp, lower, t_hi, n_recoil=n_recoil, window=False)
    T, w = T[: 2 * n_recoil], w[: 2 * n_recoil]
    comps = exp.flux.components()
    lines = tuple(c for c in comps if c.lines()[0].shape[0])
    spectra = tuple(c for c in comps if c.has_continuum())
    parts = [part_a]
    if spectra:  # continuous spectra: ∫ dT ε(T) S(T), S(T) = ∫_{E_min(T)} dΦ dσ/dT smooth in T

        def spectrum_at(t):
            def integrand(nuc, comp, E):
                return jax.tree.map(lambda v: v[0], dsigma(nuc, comp, E, t[None]))

            def e_low(nuc):
                return min_neutrino_energy(t, m, nuc.mass)

            return fold_experiment(
                exp,
                integrand,
                e_low,
                per_nucleus=per_nucleus,
                components=spectra,
                parts="continuum",
                **fold_kw,
            )

        vals = jax.vmap(spectrum_at)(T)
        parts.append(jax.tree.map(lambda v: jnp.tensordot(w, v, axes=1), vals))
    if lines:  # lines: a single E each, recoil quadrature over the turn-on directly

        def integrand_line(nuc, comp, E):
            e_min, e_max = recoil_range(E, m, nuc.mass)
            lo, hi = jnp.maximum(e_min, lower), jnp.minimum(e_max, t_hi)
            Tl, wl = recoil_nodes(exp, lo, hi, n_recoil=n_recoil, window=False)
            return jax.tree.map(lambda v: jnp.tensordot(wl, v, axes=1), dsigma(nuc, comp, E, Tl))

        def e_low_line(nuc):
            return min_energy_for_window(m, nuc.mass, lower, t_hi)

        parts.append(
            fold_experiment(
                exp,
                integrand_line,
                e_low_line,
                per_nucleus=per_nucleus,
                components=lines,
                parts="lines",
                **fold_kw,
            )
        )
    total = functools.reduce(lambda x, y: jax.tree.map(jnp.add, x, y), parts)
    return jax.tree.map(lambda v: jnp.where(lower < b_cut, v, 0.0), total)


def _fold_window_pieces(
    exp, dsigma, m, a_cut, b_cut, per_nucleus, n_recoil, sigma_window=None, n_pieces=3, fold_kw=None
):
    """Σ pieces (full − below a_cut − above b_cut) of the window fold; see fold_recoil_window.
    ``n_pieces=2`` drops the last piece (only for b_cut = +inf, where it is empty)."""
    b_fin = jnp.isfinite(b_cut)
    b_safe = jnp.where(b_fin, b_cut, 1.0)

    def piece(k):
        def integrand(nuc, comp, E):
            if sigma_window is not None:  # closed form over [lo, hi] ∩ kinematic range
                lo = jnp.where(k == 2, b_safe, 0.0)
                hi = jnp.where(k == 1, a_cut, jnp.where((k == 2) & ~b_fin, 0.0, jnp.inf))
                return sigma_window(nuc, comp, E, lo, hi)
            e_min, e_max = recoil_range(E, m, nuc.mass)
            lo = jnp.where(k == 2, b_safe, e_min)
            hi = jnp.where(k == 1, a_cut, e_max)
            hi = jnp.where((k == 2) & ~b_fin, lo, hi)
            T, w = _log_nodes(lo, hi, n_recoil)
            vals = dsigma(nuc, comp, E, T)
            return jax.tree.map(lambda v: jnp.tensordot(w, v, axes=1), vals)

        def e_low(nuc):
            M = nuc.mass
            bounds = jnp.stack(
                [
                    min_energy_for_window(m, M, a_cut, b_cut),
                    _edge_energy(jnp.where(a_cut > 0, a_cut, jnp.inf), m, M),
                    _edge_energy(b_cut, m, M),
                ]
            )
            return bounds[k]

        return fold_experiment(exp, integrand, e_low, per_nucleus=per_nucleus, **(fold_kw or {}))

    vals = jax.vmap(piece)(jnp.arange(n_pieces))
    return jax.tree.map(lambda v: exp.efficiency * (v[0] - jnp.sum(v[1:], axis=0)), vals)


# ============================================================================ Primakoff
@renamed_arguments(n_nodes="n_recoil")
def primakoff_window_events(
    model: DipoleModel,
    exp: Experiment,
    E_R_lo: ArrayLike,
    E_R_hi: ArrayLike,
    *,
    per_nucleus: bool = False,
    n_recoil: int = N_NODES_RECOIL,
    form_factor: bool | str = True,
    method: str = "auto",
) -> Array:
    """Expected Primakoff events with true recoil energy in [E_R_lo, E_R_hi] [GeV].

    As :func:`primakoff_events` with the recoil range further restricted to the given
    interval (the detector window and efficiency still apply). Exact integral over the
    interval (not a midpoint rule). ``n_recoil`` (formerly ``n_nodes``), ``method``: as in
    :func:`primakoff_events`.
    """
    check_scalar_model(model)
    check_choice("method", method, ("auto", "series", "quadrature"))
    applies = _closed_form_applies(exp, form_factor)
    if method == "series" and applies is False:
        raise ValueError(_SERIES_MSG)
    # the choice, static where it is known now: True series, False quadrature, None at run time
    choice = False if method == "quadrature" else (applies if isinstance(applies, bool) else None)
    lo, hi = _bounds(E_R_lo, E_R_hi)
    upper = _has_upper_cut(exp, E_R_hi)
    return _primakoff_window(
        model, exp, lo, hi, per_nucleus, n_recoil, form_factor, method, choice, upper
    )


_SERIES_MSG = (
    "method='series': q r_n > 6 at the flux end point for a target species (the "
    "form-factor series does not apply); use method='auto' or 'quadrature'"
)


def check_scalar_model(model: DipoleModel) -> None:
    """Raise ValueError unless ``model`` holds one parameter point (scalar masses, 3 moments):
    a batch of models is folded with ``jax.vmap`` or :func:`jaxdipole.scan`, not broadcast."""
    shapes = {"m_N": jnp.shape(model.m_N), "m_N_prime": jnp.shape(model.m_N_prime)}
    shapes |= {"mu": jnp.shape(model.mu), "mu_prime": jnp.shape(model.mu_prime)}
    want = {"m_N": (), "m_N_prime": (), "mu": (3,), "mu_prime": ()}
    bad = {k: v for k, v in shapes.items() if v != want[k]}
    if bad:
        raise ValueError(
            f"model must hold one parameter point (scalar masses, mu of shape (3,)), got "
            f"shapes {bad}: fold a batch of models with jax.vmap or jaxdipole.scan"
        )


def _bounds(E_R_lo: ArrayLike, E_R_hi: ArrayLike) -> tuple[Array, Array]:
    """Recoil bounds as arrays (traced, not static, under the compiled cores)."""
    lo, hi = jnp.asarray(E_R_lo), jnp.asarray(E_R_hi)
    dt = jnp.result_type(lo, hi, float)
    return lo.astype(dt), hi.astype(dt)


def _has_upper_cut(exp: Experiment, E_R_hi: ArrayLike) -> bool:
    """False only when recoil_max and E_R_hi are concrete +inf (the window has no top)."""
    vals = [concrete(v) for v in (E_R_hi, exp.recoil_max)]
    return not all(v is not None and np.all(np.isposinf(v)) for v in vals)


@eqx.filter_jit
def _primakoff_window(
    model, exp, E_R_lo, E_R_hi, per_nucleus, n_recoil, form_factor, method, choice, upper
):
    """Compiled core of :func:`primakoff_window_events` (``choice``/``upper`` static)."""

    def dsigma(nuc, comp, E, T):
        return primakoff_dsigma_dER(model, nuc, E, T, comp.flavour, form_factor=form_factor)

    def sigma_window(nuc, comp, E, lo, hi):
        return _sigma_window(model, nuc, E, lo, hi, comp.flavour, form_factor)[0]

    def fold(closed_form):
        return fold_recoil_window(
            exp,
            dsigma,
            model.m_N,
            E_R_lo,
            E_R_hi,
            per_nucleus=per_nucleus,
            n_recoil=n_recoil,
            sigma_window=sigma_window if closed_form else None,
            upper_cut=upper,
        )

    if choice is not None:
        return fold(choice)
    applies = _closed_form_applies(exp, form_factor)  # traced: decided at run time
    if method == "auto":
        return _choose(applies, lambda: fold(True), lambda: fold(False))
    return eqx.error_if(fold(True), ~applies, _SERIES_MSG)


def _closed_form_applies(exp: Experiment, form_factor: bool | str):
    """Whether the closed-form σ window (:func:`~jaxdipole.primakoff.primakoff_sigma_window`)
    holds for every target species up to every flux component's end point: a Python bool
    for concrete parameters, else a traced one (for ``lax.cond``)."""
    if _is_unit(form_factor):
        return True
    ends = [c.energy_max() for c in exp.flux.components()]  # once per component
    pairs = [(n, e) for n in exp.target.nuclei for e in ends]
    if not is_traced(pairs):
        top = max((np.max(np.asarray(e)) for e in ends), key=float)  # keeps the dtype
        return all(bool(np.all(series_in_range(n, top, np))) for n in exp.target.nuclei)
    return jnp.all(jnp.stack([series_in_range(n, e) for n, e in pairs]))


@renamed_arguments(n_nodes="n_recoil")
def primakoff_events(
    model: DipoleModel,
    exp: Experiment,
    *,
    per_nucleus: bool = False,
    n_recoil: int = N_NODES_RECOIL,
    form_factor: bool | str = True,
    method: str = "auto",
) -> Array:
    """Expected Primakoff (recoil-only) events ν A -> N A in the experiment's recoil window.

    N = T Σ_components Σ_i N_i ∫ dE dΦ/dE ∫ dE_R ε(E_R) dσ_i/dE_R(E, E_R; μ_flavour), with each
    flux component's own flavour (``model.mu[component.flavour]``), N produced on shell (its
    decay is irrelevant for the recoil), E_R in [E_thr, recoil_max] (hard cuts for σ = 0;
    Gaussian-smeared threshold for σ > 0), ``efficiency`` applied. E_ν from the smallest
    energy that can put a recoil into the window (:func:`min_energy_for_window`).

    Parameters
    ----------
    model : DipoleModel
    exp : Experiment
    per_nucleus : bool
        Return the events per target species (shape ``(len(exp.target.nuclei),)``).
    n_recoil : int
        Gauss–Legendre nodes per ln E_R panel (static; formerly ``n_nodes``).
    form_factor : bool or str
        Helm form factor (default) or F = 1.
    method : str
        Recoil integral at each neutrino energy: "series" (closed form,
        :func:`~jaxdipole.primakoff.primakoff_sigma_window`; q r_n ≤ 6 needed at the flux end
        point), "quadrature" (``n_recoil`` Gauss–Legendre nodes in ln E_R), or "auto" (default:
        "series" where it applies to every species and flux component -- decided in Python
        for concrete experiments, by ``lax.cond`` for traced ones). Across a resolution
        turn-on the quadrature is used in all cases.

    Returns
    -------
    Array
        Expected number of events (dimensionless float). ∝ μ², target_mass and exposure.
    """
    return primakoff_window_events(
        model,
        exp,
        0.0,
        jnp.inf,
        per_nucleus=per_nucleus,
        n_recoil=n_recoil,
        form_factor=form_factor,
        method=method,
    )


#: Recoil energies per chunk of a recoil spectrum on an array (bounds the live node grid).
_RECOIL_BATCH = 256


def _over_recoils(fn: Callable, E_R: Array) -> Array:
    """``fn`` (one recoil energy -> value or per-species values) over the array ``E_R``, in
    chunks of ``_RECOIL_BATCH``; shape E_R.shape (+ the species axis)."""
    flat = chunked_map(fn, E_R.ravel(), _RECOIL_BATCH)
    return flat.reshape(E_R.shape + flat.shape[1:])


def recoil_spectrum(
    model: DipoleModel,
    exp: Experiment,
    E_R: ArrayLike,
    *,
    apply_efficiency: bool = True,
    per_nucleus: bool = False,
    form_factor: bool | str = True,
) -> Array:
    """Primakoff recoil spectrum dN/dE_R [events per GeV] at true recoil energy E_R [GeV].

    dN/dE_R = ε(E_R) T Σ N_i ∫_{E ≥ E_min(E_R)} dΦ/dE dσ_i/dE_R(E, E_R) dE with
    E_min(E_R) = :func:`~jaxdipole.kinematics.min_neutrino_energy` (E_R, m_N, M_i); 0 for
    E_R <= 0. ``E_R`` may be an array (the result has its shape, plus a species axis with
    ``per_nucleus``). ``apply_efficiency=False`` omits ε (the spectrum produced in the target).
    Multiply by ``u.keV`` for events per keV.
    """
    check_scalar_model(model)
    check_finite("E_R", E_R)
    return _recoil_spectrum(
        model, exp, jnp.asarray(E_R), apply_efficiency, per_nucleus, form_factor
    )


@eqx.filter_jit
def _recoil_spectrum(model, exp, E_R, apply_efficiency, per_nucleus, form_factor):
    """Compiled core of :func:`recoil_spectrum`."""
    if E_R.ndim:
        args = (apply_efficiency, per_nucleus, form_factor)
        return _over_recoils(lambda t: _recoil_spectrum(model, exp, t, *args), E_R)
    pos = E_R > 0
    T = jnp.where(pos, E_R, 1.0)

    def integrand(nuc, comp, E):
        return primakoff_dsigma_dER(model, nuc, E, T, comp.flavour, form_factor=form_factor)

    def e_low(nuc):
        return min_neutrino_energy(T, model.m_N, nuc.mass)

    val = fold_experiment(exp, integrand, e_low, per_nucleus=per_nucleus)
    eps = recoil_efficiency(exp, E_R) if apply_efficiency else 1.0
    return jnp.where(pos, val * eps, 0.0)


@renamed_arguments(n_nodes="n_recoil")
def recoil_binned(
    model: DipoleModel,
    exp: Experiment,
    edges: ArrayLike,
    *,
    n_recoil: int = N_NODES_RECOIL,
    form_factor: bool | str = True,
    method: str = "auto",
) -> Array:
    """Expected Primakoff events per true-recoil-energy bin, shape (len(edges) − 1,).

    ``edges`` [GeV]: increasing bin edges. Each bin is the exact integral of the detected
    spectrum (efficiency, threshold and recoil_max applied) over [edges[k], edges[k+1]];
    bins covering the whole window sum to :func:`primakoff_events`. ``n_recoil`` (Gauss–Legendre
    nodes per ln E_R panel; formerly ``n_nodes``), ``form_factor``, ``method``: as in
    :func:`primakoff_events`.
    """
    edges = _edges(edges)

    def one(a, b):
        return primakoff_window_events(
            model, exp, a, b, n_recoil=n_recoil, form_factor=form_factor, method=method
        )

    return jax.vmap(one)(edges[:-1], edges[1:])


# ============================================================================ SM CEvNS
@renamed_arguments(n_nodes="n_recoil")
def cevns_window_events(
    exp: Experiment,
    E_R_lo: ArrayLike,
    E_R_hi: ArrayLike,
    *,
    per_nucleus: bool = False,
    n_recoil: int = N_NODES_RECOIL,
    form_factor: bool | str = True,
    sin2_theta_w: ArrayLike = constants.sin2_theta_W_0,
) -> Array:
    """Expected SM CEvNS events with true recoil energy in [E_R_lo, E_R_hi] [GeV] (window and
    efficiency of the experiment applied). ``n_recoil``: Gauss–Legendre nodes per ln E_R panel
    (static; formerly ``n_nodes``)."""
    lo, hi = _bounds(E_R_lo, E_R_hi)
    upper = _has_upper_cut(exp, E_R_hi)
    s2w = jnp.asarray(sin2_theta_w)
    return _cevns_window(exp, lo, hi, per_nucleus, n_recoil, form_factor, s2w, upper)


@eqx.filter_jit
def _cevns_window(exp, E_R_lo, E_R_hi, per_nucleus, n_recoil, form_factor, sin2_theta_w, upper):
    """Compiled core of :func:`cevns_window_events`."""

    def dsigma(nuc, comp, E, T):
        return cevns_dsigma_dER(nuc, E, T, form_factor=form_factor, sin2_theta_w=sin2_theta_w)

    return fold_recoil_window(
        exp, dsigma, 0.0, E_R_lo, E_R_hi, per_nucleus=per_nucleus, n_recoil=n_recoil,
        upper_cut=upper,
    )  # fmt: skip


@renamed_arguments(n_nodes="n_recoil")
def cevns_events(
    exp: Experiment,
    *,
    per_nucleus: bool = False,
    n_recoil: int = N_NODES_RECOIL,
    form_factor: bool | str = True,
    sin2_theta_w: ArrayLike = constants.sin2_theta_W_0,
) -> Array:
    """Expected Standard-Model CEvNS events in the experiment's recoil window (dimensionless).

    Same machinery as :func:`primakoff_events` (:func:`fold_recoil_window` with m_N = 0) with
    the tree-level SM cross section (:func:`~jaxdipole.cevns.cevns_dsigma_dER`, identical for
    all flavours and for ν/ν̄); E_low = E_min(E_thr) = (E_thr + sqrt(E_thr² + 2 M E_thr))/2.
    Reference: Ge74, 4 GW_th at 100 m, Vogel–Engel benchmark flux, 10 eV: 10.61 /(kg·day).
    ``n_recoil``: Gauss–Legendre nodes per ln E_R panel (static; formerly ``n_nodes``).
    """
    return cevns_window_events(
        exp,
        0.0,
        jnp.inf,
        per_nucleus=per_nucleus,
        n_recoil=n_recoil,
        form_factor=form_factor,
        sin2_theta_w=sin2_theta_w,
    )


def cevns_recoil_spectrum(
    exp: Experiment,
    E_R: ArrayLike,
    *,
    apply_efficiency: bool = True,
    per_nucleus: bool = False,
    form_factor: bool | str = True,
    sin2_theta_w: ArrayLike = constants.sin2_theta_W_0,
) -> Array:
    """SM CEvNS recoil spectrum dN/dE_R [events per GeV] at true recoil E_R [GeV] (scalar or
    array; keyword arguments as :func:`recoil_spectrum`)."""
    check_finite("E_R", E_R)
    args = (apply_efficiency, per_nucleus, form_factor, jnp.asarray(sin2_theta_w))
    return _cevns_recoil_spectrum(exp, jnp.asarray(E_R), *args)


@eqx.filter_jit
def _cevns_recoil_spectrum(exp, E_R, apply_efficiency, per_nucleus, form_factor, sin2_theta_w):
    """Compiled core of :func:`cevns_recoil_spectrum`."""
    if E_R.ndim:
        args = (apply_efficiency, per_nucleus, form_factor, sin2_theta_w)
        return _over_recoils(lambda t: _cevns_recoil_spectrum(exp, t, *args), E_R)
    pos = E_R > 0
    T = jnp.where(pos, E_R, 1.0)

    def integrand(nuc, comp, E):
        return cevns_dsigma_dER(nuc, E, T, form_factor=form_factor, sin2_theta_w=sin2_theta_w)

    def e_low(nuc):
        return min_neutrino_energy(T, 0.0, nuc.mass)

    val = fold_experiment(exp, integrand, e_low, per_nucleus=per_nucleus)
    eps = recoil_efficiency(exp, E_R) if apply_efficiency else 1.0
    return jnp.where(pos, val * eps, 0.0)


@renamed_arguments(n_nodes="n_recoil")
def cevns_binned(
    exp: Experiment,
    edges: ArrayLike,
    *,
    n_recoil: int = N_NODES_RECOIL,
    form_factor: bool | str = True,
    sin2_theta_w: ArrayLike = constants.sin2_theta_W_0,
) -> Array:
    """Expected SM CEvNS events per true-recoil-energy bin, shape (len(edges) − 1,).
    ``n_recoil``: Gauss–Legendre nodes per ln E_R panel (static; formerly ``n_nodes``)."""
    edges = _edges(edges)

    def one(a, b):
        return cevns_window_events(
            exp, a, b, n_recoil=n_recoil, form_factor=form_factor, sin2_theta_w=sin2_theta_w
        )

    return jax.vmap(one)(edges[:-1], edges[1:])


# ============================================================================ background
def background_events(exp: Experiment) -> Array:
    """Expected flat-background events: background × (recoil_max − E_thr) × mass × exposure.

    The background rate is quoted in reconstructed energy after all cuts, so neither the
    signal efficiency nor the resolution enter. A background > 0 needs a finite
    ``recoil_max`` (ValueError for concrete values, here and at Experiment construction);
    inside traced code an infinite window contributes 0.
    """
    b, rmax, thr = exp.background, exp.recoil_max, exp.recoil_threshold
    bv, rv = concrete(b), concrete(rmax)
    if bv is not None and rv is not None and bv > 0 and not math.isfinite(float(rv)):
        raise ValueError("background_events: background > 0 needs a finite recoil_max [GeV]")
    fin = jnp.isfinite(rmax)
    width = jnp.maximum(jnp.where(fin, rmax, thr) - thr, 0.0)
    return b * width * exp.target_mass * exp.exposure


def background_binned(exp: Experiment, edges: ArrayLike) -> Array:
    """Flat-background events per recoil bin, shape (len(edges) − 1,).

    Each bin counts background × |[edges[k], edges[k+1]] ∩ [E_thr, recoil_max]| × mass ×
    exposure (reconstructed-energy bins; the window is a hard cut).
    """
    edges = _edges(edges)
    a = jnp.maximum(edges[:-1], exp.recoil_threshold)
    b = jnp.minimum(edges[1:], exp.recoil_max)
    return exp.background * jnp.maximum(b - a, 0.0) * exp.target_mass * exp.exposure
