"""COHERENT at the SNS: the CENNS-10 liquid-argon data release and its Standard-Model prediction.

The release (COHERENT, PRL 126 (2021) 012002, Analysis A; Zenodo record 3903810) is read from
the folder a user downloads (:func:`load_cenns10`); nothing of it ships with jaxdipole. It holds
the observed counts and the collaboration's expectations (CEvNS, prompt and delayed beam-related
neutrons, steady-state background) in 12 energy × 8 F90 × 10 time bins, the acceptance
efficiency and the detector parameters.

:func:`cenns10_cevns` predicts the CEvNS counts per (energy, time) bin from jaxdipole's own
stopped-pion flux (:class:`~jaxdipole.spallation.SpallationFlux`), CEvNS cross section (Helm form
factor) on natural argon and the released response: quenching E_ee = (a + b E_nr) E_nr, Gaussian
resolution σ/E = c/√E [keVee], the released efficiency (read at the true electron-equivalent
energy) and the arrival-time fractions of the prompt and delayed components.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.scipy.special import ndtr
from jax.typing import ArrayLike

from . import units as u
from ._deprecate import renamed_arguments
from ._quadrature import gauss_legendre_unit
from ._release_cache import for_last_release
from .experiment import Experiment
from .kinematics import recoil_range
from .model import DipoleModel
from .nuclei import material
from .rates import cevns_recoil_spectrum, recoil_spectrum
from .spallation import SpallationFlux
from .stats import poisson_nll

__all__ = [
    "CENNS10Release",
    "load_cenns10",
    "cenns10_flux",
    "cenns10_cevns",
    "cenns10_primakoff",
    "f90_shape",
    "cenns10_expected",
    "cenns10_nll",
    "cenns10_signal_limit",
    "cenns10_mu_limit",
    "cenns10_sm_fit",
    "cenns10_mu_limits",
    "TEST_STATISTIC",
    "DataSet",
    "cenns10_data_set",
    "signal_limit",
    "signal_limit_jvp",
    "toy_coverage",
    "MU_REF",
    "mu_limits",
    "coupling_pattern",
    "make_data_set",
    "profile_fits",
    "Q_CRIT_90",
]

#: How the CENNS-10 limits are set (written into ``data-limit.json``).
TEST_STATISTIC = (
    "profile-likelihood ratio q(s) = 2[nll(s) - nll(s_hat)], s_hat >= 0, binned Poisson in "
    "energy x F90 x time (12 x 8 x 10) with the CEvNS scale (prior 1 +- 17/128), the prompt "
    "BRN, delayed BRN and steady-state scales (the release's priors) and the released shape "
    "variations (BRN energy, timing mean and width; CEvNS F90 and timing mean; unit Gaussian "
    "pulls, histosys code4p) profiled; 90% CL upper limit at q = 1.642 (one-sided: q = 0 "
    "for s_hat > s; asymptotic)"
)

_PDFS = {"cevns": "cevnspdf", "brn": "brnpdf", "delayed_brn": "delbrnpdf", "steady_state": "bkgpdf"}
#: The released ±1σ shape variations (SystErrors/): component, +1σ file, −1σ file (None:
#: one-sided, symmetrised).
_SHAPE_FILES = {
    "brn_energy": ("brn", "brnpdf+1sigEnergy.txt", "brnpdf-1sigEnergy.txt"),
    "brn_timing_mean": ("brn", "brnpdf+1sigBRNTimingMean.txt", "brnpdf-1sigBRNTimingMean.txt"),
    "brn_timing_width": ("brn", "brnpdfBRNTimingWidthSyst.txt", None),
    "cevns_f90": ("cevns", "cevnspdf+1sigF90.txt", "cevnspdf-1sigF90.txt"),
    "cevns_timing_mean": ("cevns", "cevnspdfCEvNSTimingMeanSyst.txt", None),
}


@dataclass(frozen=True)
class CENNS10Release:
    """The CENNS-10 Analysis A release, as NumPy arrays (keVee, µs, kg, m as in the release).

    ``data`` and ``expected[name]`` have shape (12, 8, 10): energy × F90 × time bins with edges
    ``energy_edges`` [keVee], ``f90_edges``, ``time_edges`` [µs]. ``expected`` holds the
    collaboration's predicted CEvNS, prompt and delayed beam-related-neutron and steady-state
    counts; ``params`` the detector and beam parameters of the release's YAML file.
    ``shape_systematics[name] = (component, up, down)``: the released ±1σ shape variations
    of the ``"brn"`` or ``"cevns"`` expectation (one-sided ones symmetrised: down = 2 nominal −
    up), empty where the release's ``SystErrors/`` folder is absent.
    """

    energy_edges: np.ndarray
    f90_edges: np.ndarray
    time_edges: np.ndarray
    data: np.ndarray
    expected: dict[str, np.ndarray]
    efficiency_kevee: np.ndarray
    efficiency: np.ndarray
    params: dict[str, float]
    shape_systematics: dict[str, tuple[str, np.ndarray, np.ndarray]] = field(default_factory=dict)


def _edges_from_centres(c: np.ndarray) -> np.ndarray:
    step = np.diff(c)
    if not np.allclose(step, step[0], rtol=1e-9):
        raise ValueError("the release's bins must be uniform")
    return np.concatenate([c - step[0] / 2, [c[-1] + step[0] / 2]])


def _grid(path: Path) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    rows = np.loadtxt(path)
    if rows.ndim != 2 or rows.shape[1] != 4:
        raise ValueError(f"{path}: expected rows 'energy F90 time value'")
    axes = tuple(np.unique(rows[:, k]) for k in range(3))
    shape = tuple(len(a) for a in axes)
    if rows.shape[0] != np.prod(shape):
        raise ValueError(f"{path}: {rows.shape[0]} rows do not fill a {shape} grid")
    order = np.lexsort((rows[:, 2], rows[:, 1], rows[:, 0]))  # energy-major, then F90, time
    return rows[order, 3].reshape(shape), axes


def load_cenns10(path: str | Path) -> CENNS10Release:
    """Read the CENNS-10 Analysis A release from the folder ``path`` (as downloaded from its
    public record: ``datanobkgsub.txt``, ``cevnspdf.txt``, ``brnpdf.txt``, ``delbrnpdf.txt``,
    ``bkgpdf.txt``, ``CENNS10AnlAEfficiency.txt``, ``LArParametersAnlA.yaml``)."""
    import yaml

    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"path must be the folder of the CENNS-10 release, got {str(path)!r}")
    data, axes = _grid(path / "datanobkgsub.txt")
    expected = {}
    for name, stem in _PDFS.items():
        values, ax = _grid(path / f"{stem}.txt")
        if any(not np.allclose(a, b) for a, b in zip(ax, axes, strict=True)):
            raise ValueError(f"{stem}.txt: bins differ from the data's")
        expected[name] = values
    eff = np.loadtxt(path / "CENNS10AnlAEfficiency.txt")
    y = yaml.safe_load((path / "LArParametersAnlA.yaml").read_text())

    def par(key, i=None):
        entry = y[key] if i is None else y[key]["parameters"][i]
        return float(entry["value"])

    params = {
        "pot": par("beamExposure") * 1e22,
        "distance_m": par("distanceToTarget"),
        "mass_kg": par("fiducialMass"),
        "qf_a": par("larQF", 0),
        "qf_b_per_kevnr": par("larQF", 1),
        "nu_per_flavour": par("neutrinosPerProton"),
        "resolution_a": par("energyResolution", 0),
        "pulse_mean_ns": par("snsPOTTraceTiming", 0),
        "pulse_width_ns": par("snsPOTTraceTiming", 1),
    }
    syst = {}
    folder = path / "SystErrors"
    for name, (component, up_file, down_file) in _SHAPE_FILES.items():
        if not (folder / up_file).is_file():
            continue
        up, ax = _grid(folder / up_file)
        if any(not np.allclose(a, b) for a, b in zip(ax, axes, strict=True)):
            raise ValueError(f"{up_file}: bins differ from the data's")
        nominal = expected[component]
        down = _grid(folder / down_file)[0] if down_file else 2.0 * nominal - up
        syst[name] = (component, up, down)
    return CENNS10Release(
        shape_systematics=syst,
        energy_edges=_edges_from_centres(axes[0]),
        f90_edges=_edges_from_centres(axes[1]),
        time_edges=_edges_from_centres(axes[2]),
        data=data,
        expected=expected,
        efficiency_kevee=eff[:, 0],
        efficiency=eff[:, 2],
        params=params,
    )


@renamed_arguments(n_nodes="n_energy")
def cenns10_flux(release: CENNS10Release, exposure: float = u.year, **kw) -> SpallationFlux:
    """The SNS stopped-pion flux of the release: its protons on target spread over ``exposure``
    [GeV^-1] (rates scale as flux × exposure, so its value drops out), distance, ν per flavour
    per proton and proton-pulse timing. Keywords override the ``SpallationFlux`` arguments."""
    p = release.params
    args: dict[str, Any] = {
        "proton_rate": p["pot"] / exposure,
        "distance": p["distance_m"] * u.m,
        "nu_per_flavour": p["nu_per_flavour"],
        "pulse_mean": p["pulse_mean_ns"] * u.ns,
        "pulse_width": p["pulse_width_ns"] * u.ns,
    }
    return SpallationFlux(**(args | kw))


#: Recoil quadrature of the response fold: log-spaced panels × Gauss–Legendre nodes per panel.
N_PANELS, N_NODES_RECOIL = 4, 32
#: Lowest true recoil folded [GeV]: the released efficiency is 0 below 0.25 keVee (~1 keVnr).
RECOIL_MIN = 1.0 * u.keV


def recoil_nodes(comp, target, m_N, x, w, recoil_min, n_panels=N_PANELS):
    """Quadrature nodes T [GeV] and weights W [GeV] in ln E_nr over the recoils that the flux
    component ``comp`` reaches at its largest energy on any isotope of ``target`` (N of mass
    ``m_N``), above ``recoil_min``, split at every isotope's kinematic ends (the line's spectrum
    stops there; the Michel ones have kinks) into ``n_panels`` panels of the Gauss–Legendre rule
    (x, w) on [0, 1]. Also returns the largest recoil reached."""
    e_top = comp.energy_max()
    ends = jnp.stack([jnp.stack(recoil_range(e_top, m_N, n.mass)) for n in target.nuclei])
    lo = jnp.maximum(jnp.min(ends), recoil_min)
    hi = jnp.maximum(jnp.max(ends), lo)
    pts = jnp.sort(jnp.concatenate([jnp.stack([lo, hi]), jnp.clip(ends.ravel(), lo, hi)]))
    la = jnp.log(pts[:-1])[:, None, None]
    L = (jnp.log(pts[1:]) - jnp.log(pts[:-1]))[:, None, None] / n_panels
    k = jnp.arange(n_panels)[None, :, None]
    T = jnp.exp(la + L * (k + x)).ravel()
    W = jnp.broadcast_to(w * L, (pts.shape[0] - 1, n_panels, x.shape[0])).ravel() * T
    return T, W, hi


def _response(release, flux, spectrum, m_N, n_recoil):
    """Σ_c f_c(t_j) ∫ dE_nr dN_c/dE_nr ε(E_ee) P(E_rec ∈ bin i | E_ee), shape (12, 10).

    ``spectrum(exp_c, T)``: dN/dE_nr [per GeV] of component c's experiment at recoils T. Per
    component, the recoil integral runs in ln E_nr over the component's kinematic range at its
    largest energy (the line: exactly its recoils), so every panel is smooth.
    """
    p = release.params
    exposure = u.year
    flux = cenns10_flux(release, exposure) if flux is None else flux
    target = material("Ar")
    x, w = (jnp.asarray(v) for v in gauss_legendre_unit(n_recoil))
    e_edges = jnp.asarray(release.energy_edges)
    times = flux.time_fractions(jnp.asarray(release.time_edges) * u.us)  # (3, 10)
    out = jnp.zeros((len(release.energy_edges) - 1, len(release.time_edges) - 1))
    for c, comp in enumerate(flux.components()):
        exp = Experiment(
            target=target,
            target_mass=p["mass_kg"] * u.kg,
            exposure=exposure,
            flux=comp,
            recoil_threshold=0.0,
        )
        T, W, _ = recoil_nodes(comp, target, m_N, x, w, RECOIL_MIN)
        t_kev = T / u.keV
        e_ee = (p["qf_a"] + p["qf_b_per_kevnr"] * t_kev) * t_kev  # [keVee]
        eff = jnp.interp(e_ee, release.efficiency_kevee, release.efficiency, left=0.0)
        sigma = p["resolution_a"] * jnp.sqrt(e_ee)
        z = (e_edges[None, :] - e_ee[:, None]) / sigma[:, None]
        p_bin = ndtr(z[:, 1:]) - ndtr(z[:, :-1])  # (nodes, 12)
        dn = spectrum(exp, T)
        energy = jnp.sum((W * dn * eff)[:, None] * p_bin, axis=0)
        out = out + energy[:, None] * times[c][None, :]  # no recoil range: all weights 0
    return out


@renamed_arguments(n_nodes="n_recoil")
def cenns10_cevns(
    release: CENNS10Release,
    flux: SpallationFlux | None = None,
    *,
    form_factor: bool | str = True,
    n_recoil: int = N_NODES_RECOIL,
) -> Array:
    """SM CEvNS counts per (energy, time) bin of the release, shape (12, 10) (summed over F90).

    N_ij = Σ_c f_c(t_j) ∫ dE_nr dN_c/dE_nr ε(E_ee) P(E_rec ∈ bin i | E_ee), with c the prompt
    ν_μ line and the delayed ν_e, ν̄_μ (``flux``, default :func:`cenns10_flux`), E_ee = (a + b
    E_nr) E_nr the released quenching, ε the released efficiency at the true E_ee and P the
    Gaussian resolution σ/E = c/√(E/keVee); ``n_recoil`` Gauss–Legendre nodes per ln E_nr panel
    (static; formerly ``n_nodes``).
    """

    def spectrum(exp, T):
        return cevns_recoil_spectrum(exp, T, apply_efficiency=False, form_factor=form_factor)

    return _response(release, flux, spectrum, 0.0, n_recoil)


@renamed_arguments(n_nodes="n_recoil")
def cenns10_primakoff(
    model: DipoleModel,
    release: CENNS10Release,
    flux: SpallationFlux | None = None,
    *,
    n_recoil: int = N_NODES_RECOIL,
) -> Array:
    """Primakoff upscattering ν A -> N A counts per (energy, time) bin, shape (12, 10), as
    :func:`cenns10_cevns` (the same response), each component through its flavour's moment
    (prompt ν_μ and delayed ν̄_μ: μ_μ; delayed ν_e: μ_e). ∝ μ²; the N decay is irrelevant.
    ``n_recoil``: Gauss–Legendre nodes per ln E_nr panel (static; formerly ``n_nodes``)."""

    def spectrum(exp, T):
        return recoil_spectrum(model, exp, T, apply_efficiency=False)

    return _response(release, flux, spectrum, model.m_N, n_recoil)


def f90_shape(release: CENNS10Release) -> np.ndarray:
    """F90 distribution of nuclear recoils per energy bin, shape (12, 8), rows summing to 1
    (0 where the release expects no nuclear recoils): the release's CEvNS expectation summed
    over time, the prompt beam-neutron one where that is empty (both are nuclear recoils)."""
    out = np.zeros(release.data.shape[:2])
    for name in ("cevns", "brn"):
        shape = release.expected[name].sum(2)
        norm = shape.sum(1, keepdims=True)
        fill = (out.sum(1, keepdims=True) == 0) & (norm > 0)
        out = np.where(fill, shape / np.where(norm > 0, norm, 1.0), out)
    return out


def _histosys(alpha: ArrayLike, up: Array | np.ndarray, down: Array | np.ndarray) -> Array:
    """HistFactory shape interpolation, pyhf's ``code4p``: α·up above +1σ, −α·down below −1σ
    (``up`` = +1σ − nominal, ``down`` = nominal − (−1σ)) and in between the 6th-order
    polynomial that joins them with continuous first and second derivatives (no kink at 0)."""
    alpha = cast(Array, alpha)  # a real pull (ArrayLike also admits complex)
    s_, a_ = 0.5 * (up + down), 0.0625 * (up - down)
    inner = alpha * (s_ + alpha * a_ * (15.0 + alpha**2 * (3.0 * alpha**2 - 10.0)))
    return jnp.where(alpha > 1.0, alpha * up, jnp.where(alpha < -1.0, alpha * down, inner))


def cenns10_expected(
    release: CENNS10Release,
    nuclear_recoils: Array,
    *,
    brn: ArrayLike = 1.0,
    delayed_brn: ArrayLike = 1.0,
    steady_state: ArrayLike = 1.0,
    shapes: dict[str, ArrayLike] | None = None,
) -> Array:
    """Expected counts per (energy, F90, time) bin, shape (12, 8, 10): ``nuclear_recoils``
    (shape (12, 10), e.g. :func:`cenns10_cevns` plus :func:`cenns10_primakoff`) spread over
    F90 by :func:`f90_shape`, plus the release's prompt and delayed beam-related-neutron and
    steady-state expectations scaled by ``brn``, ``delayed_brn``, ``steady_state``.

    ``shapes``: pulls α (in σ) of the released shape variations
    (``release.shape_systematics``), interpolated as HistFactory ``histosys`` (pyhf ``code4p``);
    the CEvNS ones move the nuclear recoils by the released relative change per bin.
    """
    nr = jnp.asarray(nuclear_recoils)[:, None, :] * jnp.asarray(f90_shape(release))[:, :, None]
    e = release.expected
    brn_shape = jnp.asarray(e["brn"])
    nr_factor = 1.0
    for name, alpha in (shapes or {}).items():
        if name not in release.shape_systematics:
            known = sorted(release.shape_systematics)
            raise ValueError(f"shapes: unknown systematic {name!r}; the release has {known}")
        component, up, down = release.shape_systematics[name]
        nominal = e[component]
        if component == "brn":
            brn_shape = brn_shape + _histosys(alpha, up - nominal, nominal - down)
        else:
            safe = np.where(nominal > 0, nominal, 1.0)
            rel_up = np.where(nominal > 0, up / safe - 1.0, 0.0)
            rel_down = np.where(nominal > 0, 1.0 - down / safe, 0.0)
            nr_factor = nr_factor + _histosys(alpha, rel_up, rel_down)
    return (
        nr * nr_factor
        + brn * brn_shape
        + delayed_brn * jnp.asarray(e["delayed_brn"])
        + steady_state * jnp.asarray(e["steady_state"])
    )


#: Relative priors on the background normalisations (the release's predictions: prompt BRN
#: 497 ± 160, delayed BRN 33 ± 33, steady state 3154 ± 25).
BACKGROUND_PRIORS = {"brn": 160 / 497, "delayed_brn": 1.0, "steady_state": 25 / 3154}


def cenns10_nll(
    release: CENNS10Release,
    expected: Array,
    norms: dict[str, Array],
    data: ArrayLike | None = None,
) -> Array:
    """Binned Poisson negative log-likelihood of the release's counts (or of ``data``, e.g. a
    pseudo-experiment) given ``expected`` (shape (12, 8, 10)), plus Gaussian constraints
    (1 ± :data:`BACKGROUND_PRIORS`) on the background scale factors in ``norms``."""
    counts = jnp.asarray(release.data if data is None else data)
    nll = jnp.sum(poisson_nll(counts, expected))
    for name, x in norms.items():
        nll = nll + 0.5 * ((x - 1.0) / BACKGROUND_PRIORS[name]) ** 2
    return nll


#: Relative prior on the SM CEvNS prediction (the release: 128 ± 17).
CEVNS_PRIOR = 17 / 128
_SCALES = ("cevns", "brn", "delayed_brn", "steady_state")


#: q of a one-sided 90 % CL upper limit (asymptotic, q = 0 for ŝ > s): Φ⁻¹(0.9)² = 1.642, as
#: every upper limit of the package (:func:`jaxdipole.stats.z_from_cl`). The Δχ² = 2.706
#: convention (the upper end of a two-sided 90 % interval) is ``q_crit=2.706``.
Q_CRIT_90 = 1.2815515655446004**2


def cenns10_signal_limit(
    release: CENNS10Release,
    sm: ArrayLike,
    signal: ArrayLike,
    *,
    q_crit: float = Q_CRIT_90,
    s_max: float = 1e6,
) -> float:
    """Upper limit on the strength s ≥ 0 of ``signal`` (shape (12, 10)) added to the SM
    nuclear recoils ``sm`` (shape (12, 10)), from the profile-likelihood ratio of the release's
    counts: q(s) = 2[nll(s, θ̂_s) − nll(ŝ, θ̂)] with ŝ ≥ 0, the CEvNS scale (prior
    1 ± :data:`CEVNS_PRIOR`) and the background scales (:data:`BACKGROUND_PRIORS`) profiled;
    the limit solves q(s) = ``q_crit`` (default :data:`Q_CRIT_90` = 1.642: one-sided 90 % CL,
    asymptotic).
    Returns inf if q(s_max) < q_crit (the signal shape is not constrained)."""
    ds = cenns10_data_set(release, sm=sm)
    return signal_limit([(ds, jnp.asarray(signal))], q_crit=q_crit, s_max=s_max)


@dataclass(frozen=True)
class DataSet:
    """A released data set as the limit machinery sees it.

    ``sm``: the SM nuclear-recoil counts in the release's binning; ``signal(m_N, mu)``: the
    Primakoff counts for an N of mass ``m_N`` [GeV] and moments ``mu`` (shape (3,), GeV⁻¹),
    compiled once; ``nll(sm, signal, s, theta)``: the negative log-likelihood at signal
    strength s and nuisance parameters θ; ``fit(sm, signal, s)``: (min_θ nll, θ̂);
    ``best(sm, signal)``: (min nll, ŝ, θ̂) over s ≥ 0 and θ. For pseudo-experiments:
    ``data`` = {"counts": the observed counts (a pytree of arrays), "aux": the centres of the
    Gaussian constraints (global observables), aligned with ``constraints[0]``};
    ``expected(sm, signal, s, theta)`` (the expected counts, the same pytree as
    data["counts"]); ``nll_data(data, sm, signal, s, theta)``; ``constraints`` = (indices into
    θ, widths) of the constrained parameters; ``flavours``: the neutrino flavours of its
    source (0 e, 1 μ, 2 τ).
    """

    name: str
    label: str
    release: object
    sm: Array
    signal: Callable[[ArrayLike, ArrayLike], Array]
    nll: Callable[[Array, Array, ArrayLike, Array], Array]
    fit: Callable[[Array, Array, ArrayLike], tuple[Array, Array]]
    best: Callable[[Array, Array], tuple[Array, Array, Array]]
    test_statistic: str
    data: dict
    expected: Callable[[Array, Array, ArrayLike, Array], object]
    nll_data: Callable[[dict, Array, Array, ArrayLike, Array], Array]
    constraints: tuple[np.ndarray, np.ndarray]
    flavours: tuple[int, ...] = (0, 1)

    def profile(self, sm: Array, signal: Array, s: ArrayLike) -> Array:
        """The profile negative log-likelihood min_θ nll(sm, signal, s, θ)."""
        return self.fit(sm, signal, jnp.asarray(s, dtype=float))[0]


@functools.cache
def _nll_slope(nll: Callable) -> Callable:
    """∂nll/∂s (sm, signal, s, θ) of a likelihood, compiled once per likelihood."""
    import jax

    return jax.jit(jax.grad(nll, argnums=2))


def _joint_minimum(parts, lo: float, hi: float) -> float:
    """The s ≥ 0 in [lo, hi] that minimises Σ_d profile_d(s), where [lo, hi] spans the single
    data sets' ŝ_d (each profile is convex, so the joint minimum lies between them): the root
    of the joint slope d/ds Σ_d profile_d(s) = Σ_d ∂nll_d/∂s at θ̂_d(s) (envelope theorem),
    increasing in s, by :func:`_illinois` (a handful of profile fits)."""

    def slope(s):
        total = 0.0
        for d, sig in parts:
            s_ = jnp.asarray(s, dtype=float)
            theta = d.fit(d.sm, sig, s_)[1]
            total += float(_nll_slope(d.nll)(d.sm, sig, s_, theta))
        return total

    if hi - lo <= 1e-9 * max(hi, 1.0):
        return lo
    g_lo = slope(lo)
    if g_lo >= 0.0:
        return lo
    g_hi = slope(hi)
    if g_hi <= 0.0:
        return hi
    return _illinois(slope, lo, hi, g_lo, g_hi)


def _limit(parts, q_crit: float, s_max: float) -> tuple[float, float]:
    """(s at q = q_crit above ŝ, ŝ) for the joint profile of ``parts``; s = inf if unbounded."""

    def profile(s):
        return sum(float(d.profile(d.sm, sig, s)) for d, sig in parts)

    bests = [d.best(d.sm, sig) for d, sig in parts]
    if len(parts) == 1:
        s_hat, nll_min = float(bests[0][1]), float(bests[0][0])
    else:
        hats = [float(b[1]) for b in bests]
        lo, hi = min(hats), max(hats)
        s_hat = _joint_minimum(parts, lo, hi)
        nll_min = profile(s_hat)
    at_zero = profile(0.0)
    if at_zero <= nll_min:
        s_hat, nll_min = 0.0, at_zero

    def q(s):
        return 2.0 * (profile(s) - nll_min)

    def g(s):  # sqrt(q) - sqrt(q_crit): nearly linear in s above ŝ (q ~ (s - ŝ)²/σ²)
        return float(np.sqrt(max(q(s), 0.0)) - np.sqrt(q_crit))

    lo, hi = s_hat, max(2.0 * s_hat, 1.0)
    g_lo, g_hi = -float(np.sqrt(q_crit)), g(hi)
    while g_hi < 0.0:
        lo, g_lo, hi = hi, g_hi, 4.0 * hi
        if hi > s_max:
            return float("inf"), s_hat
        g_hi = g(hi)
    return _illinois(g, lo, hi, g_lo, g_hi), s_hat


def _illinois(g: Callable[[float], float], a: float, b: float, ga: float, gb: float) -> float:
    """Root of an increasing ``g`` bracketed by [a, b] (g(a) < 0 <= g(b)) to 1e-9 relative:
    regula falsi with the Illinois modification (the stale end's value halved), superlinear
    (~1.44); a handful of evaluations for the nearly linear sqrt(q) instead of ~35 bisections.
    """
    side = 0
    for _ in range(200):
        if gb == 0.0:
            return b
        c = (a * gb - b * ga) / (gb - ga)
        if not a < c < b:  # round-off at the ends: bisect
            c = 0.5 * (a + b)
        gc = g(c)
        if gc < 0.0:
            a, ga = c, gc
            if side == -1:
                gb *= 0.5
            side = -1
        else:
            b, gb = c, gc
            if side == 1:
                ga *= 0.5
            side = 1
        if b - a <= 1e-9 * b or abs(gc) <= 1e-12:
            return c
    return 0.5 * (a + b)


def signal_limit(
    parts: Sequence[tuple[DataSet, Array]], *, q_crit: float = Q_CRIT_90, s_max: float = 1e6
) -> float:
    """Upper limit on a common signal strength s ≥ 0 from one or several data sets.

    ``parts``: (data set, signal counts in its binning) pairs; the nuisance parameters of each
    are independent, so the joint profile is Σ_d profile_d(s). The limit solves
    q(s) = 2[Σ_d profile_d(s) − min_{s' ≥ 0} Σ_d profile_d(s')] = ``q_crit`` (default 1.642:
    one-sided 90 % CL, asymptotic) above ŝ; inf if q(s_max) < q_crit. With several data sets
    the joint ŝ lies between the single ones (each profile is convex in s) and is found there
    as the root of the joint profile's slope.
    """
    return _limit(parts, q_crit, s_max)[0]


def signal_limit_jvp(
    parts: Sequence[tuple[DataSet, Array]],
    tangents: Sequence[tuple[ArrayLike, ArrayLike]],
    *,
    q_crit: float = Q_CRIT_90,
    s_max: float = 1e6,
) -> tuple[float, float]:
    """The limit s₉₀ of :func:`signal_limit` and its derivative along a parameter p that moves
    each part's SM prediction and signal by ``tangents`` (d sm/dp, d signal/dp), one pair per
    part (e.g. from ``jax.jvp`` of the prediction in m_N or a response parameter).

    Implicit function theorem on q(s₉₀, p) = q_crit, with the envelope theorem for the profiled
    nuisances (∂/∂p of a minimum is ∂/∂p of the function at the minimiser):
    ds₉₀/dp = −(∂q/∂p)/(∂q/∂s) with
    ∂q/∂p = 2 Σ_d [∂_p nll_d(s₉₀, θ̂_d(s₉₀)) − ∂_p nll_d(ŝ, θ̂_d(ŝ))].
    Returns (inf, 0) where the limit is unbounded.
    """
    import jax

    s_lim, s_hat = _limit(parts, q_crit, s_max)
    if not np.isfinite(s_lim):
        return s_lim, 0.0
    dq_dp, dq_ds = 0.0, 0.0
    for (d, sig), (t_sm, t_sig) in zip(parts, tangents, strict=True):
        t_sm, t_sig = jnp.asarray(t_sm, dtype=float), jnp.asarray(t_sig, dtype=float)
        for s, sign in ((s_lim, 1.0), (s_hat, -1.0)):
            s = jnp.asarray(s, dtype=float)
            theta = d.fit(d.sm, sig, s)[1]

            def f(sm_, sig_, s_, theta=theta, nll=d.nll):
                return nll(sm_, sig_, s_, theta)

            _, dp = jax.jvp(f, (d.sm, sig, s), (t_sm, t_sig, jnp.zeros(())))
            dq_dp += 2.0 * sign * float(dp)
            if sign > 0:
                dq_ds += 2.0 * float(jax.grad(f, argnums=2)(d.sm, sig, s))
    return s_lim, -dq_dp / dq_ds


def toy_coverage(
    data_set: DataSet,
    signal: ArrayLike,
    s_true: float,
    *,
    n_toys: int = 200,
    seed: int = 0,
    q_crit: float = Q_CRIT_90,
) -> dict[str, float]:
    """Coverage of the upper limit at signal strength ``s_true``, from pseudo-experiments.

    Toys are Poisson draws of the expectation at ``s_true`` with the nuisance parameters at
    their conditional fit to the data, θ̂(s_true), and Gaussian draws of the constraint centres
    (global observables) around θ̂(s_true), as HistFactory pseudo-experiments. For each toy,
    q(s_true) = 2[nll(s_true, θ̂) − nll(ŝ, θ̂')] with ŝ ≥ 0 (q = 0 when ŝ > s_true, one-sided);
    the limit covers s_true when q ≤ ``q_crit``. All toys are fitted in one compiled program.

    Returns
    -------
    dict with ``coverage`` (fraction of toys with q ≤ q_crit; 0.90 expected asymptotically:
    half a χ²₁ plus half at 0), ``coverage_error`` (binomial), ``q90`` (the toys' 90 % quantile
    of q: the critical value that gives exact coverage at s_true) and ``n_toys``.
    """
    import jax

    from .fit import minimize

    sig = jnp.asarray(signal)
    sm = data_set.sm
    s_true = float(s_true)
    theta = data_set.fit(sm, sig, jnp.asarray(s_true))[1]
    mean = data_set.expected(sm, sig, jnp.asarray(s_true), theta)
    leaves, tree = jax.tree_util.tree_flatten(mean)
    keys = jax.random.split(jax.random.PRNGKey(seed), len(leaves) + 1)
    toys = [
        jax.random.poisson(k, jnp.asarray(m), (n_toys, *jnp.shape(m))).astype(float)
        for k, m in zip(keys[1:], leaves, strict=True)
    ]
    idx, width = (jnp.asarray(a) for a in data_set.constraints)
    shifts = jax.random.normal(keys[0], (n_toys, idx.shape[0])) * width
    toys.append(theta[idx][None, :] + shifts)  # the constraint centres, aligned with idx

    def q_of(*toy_leaves):
        counts = jax.tree_util.tree_unflatten(tree, list(toy_leaves[:-1]))
        data = {"counts": counts, "aux": toy_leaves[-1]}

        def nll(s, th):
            return data_set.nll_data(data, sm, sig, s, th)

        fixed = minimize(lambda th: nll(s_true, th), theta).nll
        x0 = jnp.concatenate([jnp.sqrt(jnp.array([s_true])), theta])
        res = minimize(lambda x: nll(x[0] ** 2, x[1:]), x0)
        s_hat = res.x[0] ** 2
        q = 2.0 * (fixed - jnp.minimum(res.nll, fixed))
        return jnp.where(s_hat > s_true, 0.0, q)

    # one toy after the other inside one program (a vmap would run every toy's fits in lockstep
    # until the slowest converges)
    qs = np.asarray(jax.jit(lambda t: jax.lax.map(lambda x: q_of(*x), t))(tuple(toys)))
    cover = float(np.mean(qs <= q_crit))
    return {
        "coverage": cover,
        "coverage_error": float(np.sqrt(cover * (1.0 - cover) / n_toys)),
        "q90": float(np.quantile(qs, 0.9)),
        "n_toys": int(n_toys),
    }


#: Reference moment [GeV^-1] of the signal templates of :func:`mu_limits`: μ₉₀ = MU_REF √s₉₀.
MU_REF = 1e-9 * u.mu_B


def coupling_pattern(flavour: int | str) -> np.ndarray:
    """The moments (μ_e, μ_μ, μ_τ) [GeV^-1] of a signal template: :data:`MU_REF` in
    ``flavour`` (0, 1, 2) or in all three (``"all"``)."""
    if flavour == "all":
        return np.full(3, MU_REF)
    pattern = np.zeros(3)
    pattern[cast(int, flavour)] = MU_REF
    return pattern


def mu_limits(
    data_sets: Sequence[DataSet],
    m_N: ArrayLike,
    *,
    flavour: int | str = 1,
    progress: bool = False,
    q_crit: float = Q_CRIT_90,
) -> np.ndarray:
    """90 % CL upper limits on μ_flavour [GeV^-1] at the N masses ``m_N`` [GeV] from one data
    set or the combination of several (:func:`signal_limit` of the Primakoff counts ∝ μ², the
    other moments 0); ``inf`` where no N is produced. ``flavour``: 0 (μ_e), 1 (μ_μ), 2 (μ_τ)
    or ``"all"`` (a flavour-universal μ, all three equal). A data set whose source has no
    neutrinos of that flavour (e.g. ν_τ at a stopped-pion source) gives no signal and drops
    out of a combination (ValueError if no data set has any)."""
    if flavour not in (0, 1, 2, "all"):
        raise ValueError(f"flavour must be 0 (e), 1 (mu), 2 (tau) or 'all', got {flavour!r}")
    seen = {f for d in data_sets for f in d.flavours}
    if flavour != "all" and data_sets and flavour not in seen:
        names = ", ".join(d.name for d in data_sets)
        raise ValueError(f"flavour {flavour}: no neutrinos of that flavour in {names}")
    masses = np.atleast_1d(np.asarray(m_N, dtype=float))
    if masses.ndim != 1 or np.any(~np.isfinite(masses)) or np.any(masses <= 0):
        raise ValueError("m_N must be a 1-D array of finite, positive masses [GeV]")
    if not data_sets:
        raise ValueError("data_sets must hold at least one data set")
    mu_ref = MU_REF
    pattern = coupling_pattern(flavour)
    bar = None
    if progress:
        from .scan import _Bar

        bar = _Bar("data-limit", len(masses))
    out = np.empty(len(masses))
    for i, m in enumerate(masses):
        parts = [(d, d.signal(m, pattern)) for d in data_sets]
        parts = [(d, sig) for d, sig in parts if float(jnp.sum(sig)) > 0]
        if not parts:
            out[i] = np.inf
        else:
            out[i] = mu_ref * np.sqrt(signal_limit(parts, q_crit=q_crit))
        if bar is not None:
            bar.update(i + 1)
    if bar is not None:
        bar.close()
    return out


@for_last_release()
def _cenns10_signal_function(release: CENNS10Release) -> Callable[[DipoleModel], Array]:
    """model -> :func:`cenns10_primakoff` of ``release``, one function per release (the last
    one), so that its data sets share the compiled signal (:func:`make_data_set`)."""

    def primakoff(model):
        return cenns10_primakoff(model, release)

    return primakoff


def cenns10_data_set(release: CENNS10Release, *, sm: ArrayLike | None = None) -> DataSet:
    """The CENNS-10 release as a :class:`DataSet` (SM prediction :func:`cenns10_cevns` unless
    ``sm`` is given)."""
    return make_data_set(
        "coherent-lar",
        "CENNS-10 (LAr)",
        release,
        jnp.asarray(cenns10_cevns(release) if sm is None else sm),
        _cenns10_signal_function(release),
        _profile_functions(release),
        test_statistic=TEST_STATISTIC,
    )


def profile_fits(nll: Callable, theta0: Array) -> tuple[Callable, Callable]:
    """The compiled fits of a likelihood ``nll(sm, signal, s, θ)`` started at ``theta0``:
    ``fit(sm, signal, s)`` -> (min_θ nll, θ̂) and ``best(sm, signal)`` -> (min nll, ŝ, θ̂) over
    s = x² ≥ 0 and θ."""
    import jax

    from .fit import minimize

    @jax.jit
    def fit(sm, signal, s):
        res = minimize(lambda th: nll(sm, signal, s, th), theta0)
        return res.nll, res.x

    @jax.jit
    def best(sm, signal):
        x0 = jnp.concatenate([jnp.array([0.1]), theta0])
        res = minimize(lambda x: nll(sm, signal, x[0] ** 2, x[1:]), x0)
        return res.nll, res.x[0] ** 2, res.x[1:]

    return fit, best


def make_data_set(
    name: str,
    label: str,
    release: object,
    sm: Array,
    primakoff: Callable[[DipoleModel], Array],
    likelihood: tuple,
    *,
    test_statistic: str,
    flavours: tuple[int, ...] = (0, 1),
) -> DataSet:
    """A :class:`DataSet` from the SM prediction ``sm``, the signal ``primakoff(model)`` (compiled
    once, called with (m_N, mu)) and ``likelihood`` = (nll, fit, best, expected, nll_data,
    observed data, constraints) of a release."""
    import jax

    nll, fit, best, expected, nll_data, observed, constraints = likelihood
    # compiled once per ``primakoff`` function: data sets built on the same one (e.g. the same
    # release with another SM prediction) share it (kept on the function: freed with it)
    signal: Callable[[Array, Array], Array] | None = getattr(primakoff, "_compiled_signal", None)
    if signal is None:

        @jax.jit
        def compiled_signal(m_N, mu):
            return primakoff(DipoleModel(m_N, mu))

        signal = compiled_signal
        try:
            primakoff._compiled_signal = signal  # type: ignore[attr-defined]
        except AttributeError:  # a callable without attributes: compiled per data set
            pass

    return DataSet(
        name=name,
        label=label,
        release=release,
        sm=sm,
        signal=lambda m_N, mu: signal(jnp.asarray(m_N, dtype=float), jnp.asarray(mu, dtype=float)),
        nll=nll,
        fit=fit,
        best=best,
        test_statistic=test_statistic,
        data=observed,
        expected=expected,
        nll_data=nll_data,
        constraints=constraints,
        flavours=flavours,
    )


@for_last_release()
def _profile_functions(release: CENNS10Release):
    """The likelihood nll(sm, signal, s, θ), the compiled profile fit (sm, signal, s) ->
    (min_θ nll, θ̂) and global fit (sm, signal) -> (nll, ŝ, θ̂) of one release, compiled once
    per release object (reused over masses)."""
    names = sorted(release.shape_systematics)
    theta0 = jnp.concatenate([jnp.ones(4), jnp.zeros(len(names))])

    def expected(sm, signal, s, theta):
        a_c, a_b, a_d, a_s = theta[0], theta[1], theta[2], theta[3]
        pulls = {name: theta[4 + i] for i, name in enumerate(names)}
        return cenns10_expected(
            release, a_c * sm + s * signal, brn=a_b, delayed_brn=a_d, steady_state=a_s,
            shapes=pulls,
        )  # fmt: skip

    sigma = jnp.asarray(
        [CEVNS_PRIOR] + [BACKGROUND_PRIORS[k] for k in _SCALES[1:]] + [1.0] * len(names)
    )

    def nll_data(data, sm, signal, s, theta):
        exp = expected(sm, signal, s, theta)
        constraint = 0.5 * jnp.sum(((theta - data["aux"]) / sigma) ** 2)  # every θ constrained
        return jnp.sum(poisson_nll(data["counts"], exp)) + constraint

    observed = {"counts": jnp.asarray(release.data), "aux": theta0}

    def nll(sm, signal, s, theta):
        return nll_data(observed, sm, signal, s, theta)

    fit, best = profile_fits(nll, theta0)
    constraints = (np.arange(len(theta0)), np.asarray(sigma))
    return nll, fit, best, expected, nll_data, observed, constraints


def cenns10_sm_fit(release: CENNS10Release, sm: ArrayLike | None = None) -> dict[str, Any]:
    """The Standard-Model CEvNS count predicted and fitted to the CENNS-10 data.

    ``sm``: nuclear-recoil counts per (energy, time) bin, shape (12, 10) (default: jaxdipole's
    prediction :func:`cenns10_cevns`). The fit scales it freely (no prior, as the collaboration's
    fit) with the background scales profiled under their priors and the released shape
    variations (``release.shape_systematics``) as unit-Gaussian pulls.

    Returns
    -------
    dict with ``predicted`` and ``fitted`` events, ``error`` (1σ, Hessian), ``converged``,
    the fitted shape ``pulls`` (σ) and the fitted ``scales`` (``cevns``, ``brn``,
    ``delayed_brn``, ``steady_state``) that :func:`cenns10_expected` takes
    (``nuclear_recoils = scales["cevns"] * sm``, ``shapes = pulls``).
    """
    from .fit import minimize

    sm = jnp.asarray(cenns10_cevns(release) if sm is None else sm)
    names = sorted(release.shape_systematics)

    def nll(x):
        a_c, a_b, a_d, a_s = x[0], x[1], x[2], x[3]
        pulls = {name: x[4 + i] for i, name in enumerate(names)}
        exp = cenns10_expected(
            release, a_c * sm, brn=a_b, delayed_brn=a_d, steady_state=a_s, shapes=pulls
        )
        norms = {"brn": a_b, "delayed_brn": a_d, "steady_state": a_s}
        return cenns10_nll(release, exp, norms) + 0.5 * jnp.sum(x[4:] ** 2)

    res = minimize(nll, jnp.concatenate([jnp.ones(4), jnp.zeros(len(names))]))
    total = float(jnp.sum(sm))
    return {
        "predicted": total,
        "fitted": float(res.x[0]) * total,
        "error": float(res.errors[0]) * total,
        "converged": bool(res.converged),
        "scales": {k: float(v) for k, v in zip(_SCALES, res.x[:4], strict=True)},
        "pulls": {k: float(v) for k, v in zip(names, res.x[4:], strict=True)},
    }


def cenns10_mu_limits(
    release: CENNS10Release, m_N: ArrayLike, *, flavour: int = 1, progress: bool = False
) -> np.ndarray:
    """90 % CL upper limits on μ_flavour [GeV^-1] at the N masses ``m_N`` [GeV] from the
    CENNS-10 data (:func:`mu_limits` of :func:`cenns10_data_set`; ``inf`` where no N is
    produced). ``flavour`` 1 (μ_μ: prompt ν_μ and delayed ν̄_μ) or 0 (μ_e: delayed ν_e)."""
    return mu_limits([cenns10_data_set(release)], m_N, flavour=flavour, progress=progress)


def cenns10_mu_limit(
    model: DipoleModel, release: CENNS10Release, *, flavour: int = 1, **kwargs
) -> float:
    """90 % CL upper limit on ``model.mu[flavour]`` [GeV^-1] from the CENNS-10 data
    (:func:`cenns10_signal_limit` with the Primakoff counts ∝ μ², the other moments of
    ``model`` scaled together with it)."""
    mu_ref = float(np.abs(np.asarray(model.mu)[flavour]))
    if mu_ref == 0:
        raise ValueError(f"model.mu[{flavour}] must be non-zero (it sets the coupling pattern)")
    s = cenns10_signal_limit(
        release, cenns10_cevns(release), cenns10_primakoff(model, release), **kwargs
    )
    return mu_ref * float(np.sqrt(s))
