"""COHERENT at the SNS: the CsI[Na] full data set (2021 release) and its Standard-Model prediction.

The release (COHERENT, PRL 129 (2022) 081801, ancillary files of arXiv:2110.07730) is read from
the folder a user downloads (:func:`load_csi2021`); nothing of it ships with jaxdipole. It holds
the selected beam-on events of the coincidence (C) and anti-coincidence (AC) windows, unbinned in
reconstructed photo-electrons (PE) and arrival time t_rec [µs], the PE and time distributions
of the beam-related (BRN) and neutrino-induced (NIN) neutron backgrounds, the energy-dependent
efficiency and the scintillation response (quenching), each with ±1σ variations.

What the release's files do not hold is taken from the paper (PRL 129 (2022) 081801 and its
supplemental material): 3.198 × 10²³ protons on target, 0.0848 ν per flavour per proton,
19.3 m, 14.6 kg of CsI, 13.35 PE/keVee, the PE resolution (a Gamma distribution with
a = 0.0749/E_ee, b = 9.56 E_ee, E_ee in keVee) and the timing efficiency (1 below 0.52 µs,
exp(−0.0494 (t − 0.52)/µs) above). The proton-pulse timing is fitted to the released NIN time
distribution, which follows the neutrino arrival times.

:func:`csi2021_cevns` and :func:`csi2021_primakoff` predict counts per (PE, time) bin from
jaxdipole's stopped-pion flux and cross sections on Cs133 and I127; the likelihood
(:func:`csi2021_nll`) is binned Poisson in the C and AC windows, the steady-state background
being one free rate per PE bin, common to both windows (the AC window measures it), with the
BRN and NIN normalisations under Gaussian priors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.scipy.special import gammainc
from jax.typing import ArrayLike

from . import units as u
from ._deprecate import renamed_arguments
from ._quadrature import gauss_legendre_unit
from ._release_cache import for_last_release
from .experiment import Experiment
from .model import DipoleModel
from .nuclei import material
from .rates import cevns_recoil_spectrum, recoil_spectrum
from .spallation import SpallationFlux
from .stats import poisson_nll

__all__ = [
    "CsI2021Release",
    "CSI2021_PARAMETERS",
    "PE_EDGES",
    "TIME_EDGES",
    "load_csi2021",
    "csi2021_flux",
    "timing_efficiency",
    "energy_efficiency",
    "quenching",
    "csi2021_cevns",
    "csi2021_primakoff",
    "csi2021_expected",
    "csi2021_nll",
    "csi2021_sm_fit",
    "BACKGROUND_PRIORS",
    "CEVNS_PRIOR",
    "SM_PREDICTED",
    "SM_FITTED",
    "TEST_STATISTIC",
    "csi2021_data_set",
    "csi2021_cevns_variations",
    "csi2021_primakoff_variations",
    "interpolate_variations",
    "VARIATIONS",
    "csi2021_mu_limits",
]

#: Beam, target and response parameters of the CsI 2021 data set that its files do not hold
#: (COHERENT, PRL 129 (2022) 081801 and supplemental material).
CSI2021_PARAMETERS: dict[str, float] = {
    "pot": 3.198e23,
    "distance_m": 19.3,
    "mass_kg": 14.6,
    "nu_per_flavour": 0.0848,
    "light_yield_pe_per_kevee": 13.35,
    "resolution_a_kevee": 0.0749,
    "resolution_b_per_kevee": 9.56,
    "timing_onset_us": 0.52,
    "timing_decay_per_us": 0.0494,
}

#: The collaboration's SM CEvNS prediction 341 ± 11 (theory) ± 42 (experiment) and fitted
#: count 306 ± 20 (PRL 129 (2022) 081801).
SM_PREDICTED = (341.0, float(np.hypot(11.0, 42.0)))
SM_FITTED = (306.0, 20.0)

#: Default analysis binning: reconstructed PE (the CEvNS region in 4-PE bins to 60 PE, then
#: wider bins to 250 PE that constrain the neutron backgrounds) × arrival time [µs].
PE_EDGES = np.array([8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 60, 80, 100, 150, 250.0])
TIME_EDGES = np.array([0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0])

#: Relative priors on the neutron-background normalisations (BRN 25 %, NIN 35 %) and on the SM
#: CEvNS prediction (√(11² + 42²)/341: theory and experiment).
BACKGROUND_PRIORS = {"brn": 0.25, "nin": 0.35}
CEVNS_PRIOR = SM_PREDICTED[1] / SM_PREDICTED[0]

#: How the CsI 2021 limits are set (written into ``data-limit.json``).
TEST_STATISTIC = (
    "profile-likelihood ratio q(s) = 2[nll(s) - nll(s_hat)], s_hat >= 0, binned Poisson in "
    "PE x arrival time (17 x 12) of the coincidence and anti-coincidence windows, with the CEvNS "
    "scale (prior 1 +- 0.127), the BRN (1 +- 0.25) and NIN (1 +- 0.35) scales, the released "
    "efficiency and two quenching variations (unit Gaussian pulls, histosys code4p, on the SM "
    "and the signal) and one steady-state rate per PE bin (free, common to both windows) "
    "profiled; 90% CL upper limit at q = 1.642 (one-sided: q = 0 for s_hat > s; asymptotic)"
)


@dataclass(frozen=True)
class CsI2021Release:
    """The CsI 2021 release binned for the analysis (PE, µs as in the release).

    ``data`` (C window) and ``anticoincidence`` (AC window) have shape (n_pe, n_t) with edges
    ``pe_edges`` and ``time_edges``; ``brn`` and ``nin`` are the expected neutron-background
    counts per bin (the released PE distribution × the released time distribution × the timing
    efficiency). ``efficiency`` holds the released efficiency coefficients (a, b, c, d) as rows
    nominal, +1σ, −1σ; ``quenching`` the scintillation-response coefficients as rows nominal,
    model 0 ±1σ, model 1 ±1σ. ``pulse_mean_us``, ``pulse_width_us``: the proton-pulse timing
    fitted to the released NIN arrival times.
    """

    pe_edges: np.ndarray
    time_edges: np.ndarray
    data: np.ndarray
    anticoincidence: np.ndarray
    brn: np.ndarray
    nin: np.ndarray
    efficiency: np.ndarray
    quenching: np.ndarray
    pulse_mean_us: float
    pulse_width_us: float
    params: dict[str, float]


def _coefficients(path: Path, n_rows: int) -> np.ndarray:
    rows = np.loadtxt(path, comments="#", ndmin=2)
    if rows.shape != (n_rows, 4):
        raise ValueError(f"{path.name}: expected {n_rows} rows of 4 coefficients, got {rows.shape}")
    return rows


def _events(path: Path) -> np.ndarray:
    ev = np.loadtxt(path, comments="#", ndmin=2)
    if ev.ndim != 2 or ev.shape[1] != 2:
        raise ValueError(f"{path.name}: expected rows 'PE t_rec[us]'")
    return ev


def _rebin(centres: np.ndarray, values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Sum of ``values`` whose ``centres`` lie in each bin of ``edges``."""
    idx = np.searchsorted(edges, centres, side="right") - 1
    ok = (idx >= 0) & (idx < len(edges) - 1)
    return np.bincount(idx[ok], weights=values[ok], minlength=len(edges) - 1)


def timing_efficiency(t_us: ArrayLike, params: dict[str, float] = CSI2021_PARAMETERS) -> Array:
    """Timing-cut efficiency at arrival time ``t_us`` [µs]: 1 before the onset (0.52 µs), then
    exp(−0.0494 (t − 0.52)/µs) (PRL 129 (2022) 081801)."""
    t = jnp.asarray(t_us, dtype=float)
    t0, lam = params["timing_onset_us"], params["timing_decay_per_us"]
    return jnp.where(t < t0, 1.0, jnp.exp(-lam * (t - t0)))


def energy_efficiency(pe: ArrayLike, coefficients: ArrayLike) -> Array:
    """The released efficiency at ``pe`` reconstructed photo-electrons:
    max(a/(1 + exp(−b (x − c))) + d, 0) with ``coefficients`` (a, b, c, d)."""
    a, b, c, d = (jnp.asarray(coefficients)[i] for i in range(4))
    x = jnp.asarray(pe, dtype=float)
    return jnp.maximum(a / (1.0 + jnp.exp(-b * (x - c))) + d, 0.0)


def quenching(recoil: ArrayLike, coefficients: ArrayLike) -> Array:
    """Electron-equivalent energy [keVee] of a nuclear recoil ``recoil`` [GeV]: the released
    scintillation response a x + b x² + c x³ + d x⁴ with x in MeVnr (clipped at 0)."""
    a, b, c, d = (jnp.asarray(coefficients)[i] for i in range(4))
    x = jnp.asarray(recoil, dtype=float) / u.MeV
    return jnp.maximum(x * (a + x * (b + x * (c + x * d))), 0.0) * 1e3


class _PulseLoss(eqx.Module):
    """Least squares of the prompt + delayed arrival-time fractions against a released time
    distribution (a Module: its data are arguments of the compiled fit, which is then
    compiled once per process, not once per release loaded)."""

    edges: Array
    target: Array

    def __call__(self, x: Array) -> Array:
        import jax

        flux = SpallationFlux(1.0, 1.0, pulse_mean=x[0] * u.us, pulse_width=jnp.exp(x[1]) * u.us)
        fr = flux.time_fractions(self.edges)
        f = jax.nn.sigmoid(x[2])
        model = f * fr[0] + (1.0 - f) * 0.5 * (fr[1] + fr[2])
        return 1e4 * jnp.sum((model - self.target) ** 2)


def _fit_pulse(t: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Proton-pulse mean and width [µs] whose prompt + delayed arrival times (free prompt
    fraction) best match the released NIN time distribution (least squares)."""
    from .fit import minimize

    edges = jnp.asarray(np.concatenate([t - 0.005, [t[-1] + 0.005]]) * u.us)
    loss = _PulseLoss(edges, jnp.asarray(w / w.sum()))
    res = minimize(loss, jnp.array([0.5, np.log(0.15), -1.0]))
    return float(res.x[0]), float(np.exp(res.x[1]))


def load_csi2021(
    path: str | Path, *, pe_edges: ArrayLike = PE_EDGES, time_edges: ArrayLike = TIME_EDGES
) -> CsI2021Release:
    """Read the CsI 2021 release from the folder ``path`` (as downloaded with the paper's
    ancillary files: ``dataBeamOnC.txt``, ``dataBeamOnAC.txt``, ``brnPE.txt``, ``brnTrec.txt``,
    ``ninPE.txt``, ``ninTrec.txt``, ``effCoefficients.txt``, ``scintRespCoefficients.txt``) and
    bin it in ``pe_edges`` [PE] × ``time_edges`` [µs] (increasing; PE within 0–250, time
    within 0–6 µs, the release's ranges)."""
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"path must be the folder of the CsI 2021 release, got {str(path)!r}")
    pe_edges = np.asarray(pe_edges, dtype=float)
    time_edges = np.asarray(time_edges, dtype=float)
    for name, e, lo, hi in (("pe_edges", pe_edges, 0, 250), ("time_edges", time_edges, 0, 6)):
        if e.ndim != 1 or len(e) < 2 or np.any(np.diff(e) <= 0) or e[0] < lo or e[-1] > hi:
            raise ValueError(f"{name} must be increasing edges within [{lo}, {hi}], got {e}")
    on, ac = _events(path / "dataBeamOnC.txt"), _events(path / "dataBeamOnAC.txt")
    data = np.histogram2d(on[:, 0], on[:, 1], bins=(pe_edges, time_edges))[0]
    anti = np.histogram2d(ac[:, 0], ac[:, 1], bins=(pe_edges, time_edges))[0]
    params = dict(CSI2021_PARAMETERS)
    templates = {}
    for name in ("brn", "nin"):
        pe = np.loadtxt(path / f"{name}PE.txt")
        tr = np.loadtxt(path / f"{name}Trec.txt")
        pe_frac = _rebin(pe[:, 0], pe[:, 1], pe_edges) / pe[:, 1].sum()
        eff_t = np.asarray(timing_efficiency(tr[:, 0], params))
        templates[name] = pe_frac[:, None] * _rebin(tr[:, 0], tr[:, 1] * eff_t, time_edges)[None]
    nin_t = np.loadtxt(path / "ninTrec.txt")
    mean, width = _fit_pulse(nin_t[:, 0], nin_t[:, 1])
    return CsI2021Release(
        pe_edges=pe_edges,
        time_edges=time_edges,
        data=data,
        anticoincidence=anti,
        brn=templates["brn"],
        nin=templates["nin"],
        efficiency=_coefficients(path / "effCoefficients.txt", 3),
        quenching=_coefficients(path / "scintRespCoefficients.txt", 5),
        pulse_mean_us=mean,
        pulse_width_us=width,
        params=params,
    )


@renamed_arguments(n_nodes="n_energy")
def csi2021_flux(release: CsI2021Release, exposure: float = u.year, **kw) -> SpallationFlux:
    """The SNS stopped-pion flux of the data set: its protons on target spread over
    ``exposure`` [GeV^-1] (rates scale as flux × exposure, so its value drops out), 19.3 m,
    0.0848 ν per flavour per proton and the fitted pulse timing. Keywords override the
    ``SpallationFlux`` arguments."""
    p = release.params
    args: dict[str, Any] = {
        "proton_rate": p["pot"] / exposure,
        "distance": p["distance_m"] * u.m,
        "nu_per_flavour": p["nu_per_flavour"],
        "pulse_mean": release.pulse_mean_us * u.us,
        "pulse_width": release.pulse_width_us * u.us,
    }
    return SpallationFlux(**(args | kw))


#: Recoil quadrature of the response fold: log-spaced panels × Gauss–Legendre nodes per panel.
N_PANELS, N_NODES_RECOIL = 4, 32
#: Lowest true recoil folded [GeV]: 1 keVnr gives ~0.06 keVee (< 1 PE), far below threshold.
RECOIL_MIN = 1.0 * u.keV
#: Log-spaced recoils of the tabulated detector response (interpolated linearly in ln E_nr):
#: bins above 1e-3 of the largest within 3.5e-4 (SM) and 2.7e-4 (m_N = 20 MeV) of a 4096-point
#: table (256 points: 7e-4 and 1.6e-3).
N_TABLE = 512
#: Sub-bin widths of the PE (resolution × efficiency) and time (timing efficiency) folds.
PE_STEP, TIME_STEP_US = 0.5, 0.01


def _time_weights(release: CsI2021Release, flux: SpallationFlux) -> Array:
    """Σ over 10-ns sub-bins of each component's arrival fraction × timing efficiency, per
    analysis time bin, shape (3, n_t)."""
    te = release.time_edges
    n = int(round((te[-1] - te[0]) / TIME_STEP_US))
    fine = np.linspace(te[0], te[-1], n + 1)
    frac = flux.time_fractions(jnp.asarray(fine) * u.us)  # (3, n)
    w = frac * timing_efficiency(0.5 * (fine[1:] + fine[:-1]), release.params)
    idx = np.clip(np.searchsorted(te, 0.5 * (fine[1:] + fine[:-1]), side="right") - 1, 0, None)
    onehot = jnp.asarray(idx[:, None] == np.arange(len(te) - 1)[None, :], dtype=float)
    return w @ onehot


def _pe_response(release: CsI2021Release, e_ee: Array, eff_coefficients: Array) -> Array:
    """P(reconstructed PE in bin i and accepted | E_ee), shape (len(e_ee), n_pe): the Gamma
    resolution integrated over 0.5-PE sub-bins (regularised incomplete Γ) times the released
    efficiency, linear across each sub-bin (its value and slope at the centre, weighted by the
    Gamma distribution's mass and first moment in the sub-bin)."""
    import jax

    p = release.params
    pe_edges = release.pe_edges
    n = int(round((pe_edges[-1] - pe_edges[0]) / PE_STEP))
    fine = np.linspace(pe_edges[0], pe_edges[-1], n + 1)
    mid = jnp.asarray(0.5 * (fine[1:] + fine[:-1]))
    e = jnp.maximum(e_ee, 1e-6)[:, None]  # keVee
    k = 1.0 + p["resolution_b_per_kevee"] * e
    theta = e / (p["resolution_a_kevee"] * k)  # [PE]: mean k θ = E_ee/a = 13.35 PE/keVee × E_ee
    x = jnp.asarray(fine)[None, :] / theta
    mass = jnp.diff(gammainc(k, x), axis=1)  # ∫ Γ over each sub-bin
    moment = k * theta * jnp.diff(gammainc(k + 1.0, x), axis=1)  # ∫ PE Γ over each sub-bin
    eff = energy_efficiency(mid, eff_coefficients)
    slope = jax.vmap(jax.grad(lambda q: energy_efficiency(q, eff_coefficients)))(mid)
    prob = mass * (eff - slope * mid)[None, :] + moment * slope[None, :]
    idx = np.clip(np.searchsorted(pe_edges, fine[1:] - 0.5 * PE_STEP, side="right") - 1, 0, None)
    onehot = jnp.asarray(idx[:, None] == np.arange(len(pe_edges) - 1)[None, :], dtype=float)
    return prob @ onehot


def _coeffs(release, efficiency, quenching_coefficients):
    eff = release.efficiency[0] if efficiency is None else efficiency
    qf = release.quenching[0] if quenching_coefficients is None else quenching_coefficients
    return jnp.asarray(eff, dtype=float), jnp.asarray(qf, dtype=float)


def _response_table(release, flux, eff, qf) -> tuple[Array, Array]:
    """The detector response P(PE ∈ bin i, accepted | E_nr) tabulated on :data:`N_TABLE`
    recoils log-spaced from :data:`RECOIL_MIN` to the largest recoil any component of ``flux``
    reaches (a massless N, as CEvNS; a massive N recoils less): (ln E_nr grid, table of shape
    (N_TABLE, n_pe)). Independent of the model, so a data set computes it once per response
    variation (it costs ~10× the rest of a signal)."""
    from .kinematics import recoil_range

    flux = csi2021_flux(release, u.year) if flux is None else flux
    ends = [
        recoil_range(c.energy_max(), 0.0, n.mass)[1]
        for c in flux.components()
        for n in material("CsI").nuclei
    ]
    top = jnp.maximum(jnp.max(jnp.stack(ends)), 2.0 * RECOIL_MIN)
    ln_grid = jnp.linspace(jnp.log(RECOIL_MIN), jnp.log(top), N_TABLE)
    return ln_grid, _pe_response(release, quenching(jnp.exp(ln_grid), qf), eff)


def _response(release, flux, spectrum, m_N, n_recoil, eff, qf, table=None):
    """Σ_c w_c(t_j) ∫ dE_nr dN_c/dE_nr P(PE ∈ bin i, accepted | E_ee(E_nr)), shape (n_pe, n_t).

    Per component the recoil integral runs in ln E_nr over its kinematic range at its largest
    energy, split at every isotope's kinematic ends, so every panel is smooth. The detector
    response P(PE bin | E_nr) (:func:`_response_table`, or ``table`` = its precomputed value)
    is interpolated linearly in ln E_nr (it is smooth there).
    """
    import jax

    from .coherent import recoil_nodes

    p = release.params
    exposure = u.year
    flux = csi2021_flux(release, exposure) if flux is None else flux
    target = material("CsI")
    x, w = (jnp.asarray(v) for v in gauss_legendre_unit(n_recoil))
    times = _time_weights(release, flux)
    ln_grid, table = _response_table(release, flux, eff, qf) if table is None else table
    interp = jax.vmap(lambda col, lt: jnp.interp(lt, ln_grid, col), in_axes=(1, None), out_axes=1)
    out = jnp.zeros((len(release.pe_edges) - 1, len(release.time_edges) - 1))
    for c, comp in enumerate(flux.components()):
        T, W, _ = recoil_nodes(comp, target, m_N, x, w, RECOIL_MIN, N_PANELS)
        exp = Experiment(
            target=target,
            target_mass=p["mass_kg"] * u.kg,
            exposure=exposure,
            flux=comp,
            recoil_threshold=0.0,
        )
        p_bin = interp(table, jnp.log(T))  # (nodes, n_pe)
        energy = jnp.sum((W * spectrum(exp, T))[:, None] * p_bin, axis=0)
        out = out + energy[:, None] * times[c][None, :]
    return out


def _cevns_spectrum(form_factor):
    def spectrum(exp, T):
        return cevns_recoil_spectrum(exp, T, apply_efficiency=False, form_factor=form_factor)

    return spectrum


def _primakoff_spectrum(model):
    def spectrum(exp, T):
        return recoil_spectrum(model, exp, T, apply_efficiency=False)

    return spectrum


@renamed_arguments(n_nodes="n_recoil")
def csi2021_cevns(
    release: CsI2021Release,
    flux: SpallationFlux | None = None,
    *,
    efficiency: ArrayLike | None = None,
    quenching_coefficients: ArrayLike | None = None,
    form_factor: bool | str = True,
    n_recoil: int = N_NODES_RECOIL,
) -> Array:
    """SM CEvNS counts per (PE, time) bin of the release, shape (n_pe, n_t).

    N_ij = Σ_c w_c(t_j) ∫ dE_nr dN_c/dE_nr ∫_PE-bin i Γ(PE | E_ee) ε(PE) dPE over the prompt
    ν_μ line and the delayed ν_e, ν̄_μ (``flux``, default :func:`csi2021_flux`) on Cs133 and
    I127 (Helm form factor), E_ee the released quenching (``quenching_coefficients``, default
    nominal; differentiable), Γ the Gamma resolution, ε the released efficiency
    (``efficiency`` (a, b, c, d), default nominal) and w_c the arrival fractions × timing
    efficiency; ``n_recoil`` Gauss–Legendre nodes per ln E_nr panel (static; formerly
    ``n_nodes``).
    """
    eff, qf = _coeffs(release, efficiency, quenching_coefficients)
    return _response(release, flux, _cevns_spectrum(form_factor), 0.0, n_recoil, eff, qf)


@renamed_arguments(n_nodes="n_recoil")
def csi2021_primakoff(
    model: DipoleModel,
    release: CsI2021Release,
    flux: SpallationFlux | None = None,
    *,
    efficiency: ArrayLike | None = None,
    quenching_coefficients: ArrayLike | None = None,
    n_recoil: int = N_NODES_RECOIL,
) -> Array:
    """Primakoff upscattering ν A -> N A counts per (PE, time) bin, shape (n_pe, n_t), with the
    response of :func:`csi2021_cevns`; prompt ν_μ and delayed ν̄_μ through μ_μ, delayed ν_e
    through μ_e. ∝ μ²; the N decay is irrelevant. ``n_recoil``: Gauss–Legendre nodes per
    ln E_nr panel (static; formerly ``n_nodes``)."""
    eff, qf = _coeffs(release, efficiency, quenching_coefficients)
    return _response(release, flux, _primakoff_spectrum(model), model.m_N, n_recoil, eff, qf)


#: The released response variations, each a ±1σ pair: the efficiency curve and the two
#: independent scintillation-response (quenching) modes.
VARIATIONS = ("efficiency", "quenching_0", "quenching_1")


def _variation_coefficients(release: CsI2021Release) -> tuple[Array, Array]:
    """Efficiency and quenching coefficients of the 7 variants: nominal, then +1σ, −1σ of each
    of :data:`VARIATIONS`, shapes (7, 4)."""
    e, q = jnp.asarray(release.efficiency), jnp.asarray(release.quenching)
    effs = jnp.stack([e[0], e[1], e[2], e[0], e[0], e[0], e[0]])
    qfs = jnp.stack([q[0], q[0], q[0], q[1], q[2], q[3], q[4]])
    return effs, qfs


@renamed_arguments(n_nodes="n_recoil")
def csi2021_cevns_variations(
    release: CsI2021Release, flux: SpallationFlux | None = None, **kw
) -> Array:
    """:func:`csi2021_cevns` for the nominal response and each ±1σ variation of
    :data:`VARIATIONS`, shape (7, n_pe, n_t) (nominal, +1σ, −1σ per variation)."""
    import jax

    effs, qfs = _variation_coefficients(release)
    return jax.vmap(
        lambda e, q: csi2021_cevns(release, flux, efficiency=e, quenching_coefficients=q, **kw)
    )(effs, qfs)


@renamed_arguments(n_nodes="n_recoil")
def csi2021_primakoff_variations(
    model: DipoleModel, release: CsI2021Release, flux: SpallationFlux | None = None, **kw
) -> Array:
    """:func:`csi2021_primakoff` for the nominal response and each ±1σ variation of
    :data:`VARIATIONS`, shape (7, n_pe, n_t)."""
    import jax

    effs, qfs = _variation_coefficients(release)
    return jax.vmap(
        lambda e, q: csi2021_primakoff(
            model, release, flux, efficiency=e, quenching_coefficients=q, **kw
        )
    )(effs, qfs)


def _steady_state_shape(release: CsI2021Release) -> np.ndarray:
    """Time distribution of the steady-state background: flat × timing efficiency, per time
    bin, normalised to 1 over the window."""
    te = release.time_edges
    n = int(round((te[-1] - te[0]) / TIME_STEP_US))
    fine = np.linspace(te[0], te[-1], n + 1)
    mid = 0.5 * (fine[1:] + fine[:-1])
    t0, lam = release.params["timing_onset_us"], release.params["timing_decay_per_us"]
    w = _rebin(mid, np.where(mid < t0, 1.0, np.exp(-lam * (mid - t0))), te)
    return w / w.sum()


@renamed_arguments(steady_state="steady_state_counts")
def csi2021_expected(
    release: CsI2021Release,
    nuclear_recoils: ArrayLike,
    steady_state_counts: ArrayLike,
    *,
    brn: ArrayLike = 1.0,
    nin: ArrayLike = 1.0,
) -> tuple[Array, Array]:
    """Expected counts (C window, AC window), each of shape (n_pe, n_t): ``nuclear_recoils``
    (e.g. :func:`csi2021_cevns` plus :func:`csi2021_primakoff`) plus the BRN and NIN
    templates scaled by ``brn``, ``nin`` (dimensionless) in C; ``steady_state_counts`` (shape
    (n_pe,): expected steady-state counts per PE bin in each window, not a scale factor as
    ``steady_state`` of :func:`jaxdipole.coherent.cenns10_expected`; formerly
    ``steady_state``) spread in time as flat × timing efficiency in both."""
    shape = jnp.asarray(_steady_state_shape(release))  # (n_t,), sums to 1
    ss = jnp.asarray(steady_state_counts)[:, None] * shape[None, :]
    c = (
        jnp.asarray(nuclear_recoils)
        + brn * jnp.asarray(release.brn)
        + nin * jnp.asarray(release.nin)
    )
    return c + ss, ss


def csi2021_nll(
    release: CsI2021Release,
    expected: tuple[Array, Array],
    norms: dict[str, Array],
    data: tuple[ArrayLike, ArrayLike] | None = None,
) -> Array:
    """Binned Poisson negative log-likelihood of the C and AC counts (or of ``data`` = (C, AC),
    e.g. a pseudo-experiment) given ``expected`` (as :func:`csi2021_expected` returns), plus
    Gaussian constraints (1 ± :data:`BACKGROUND_PRIORS`) on the background scales in ``norms``."""
    c, ac = expected
    n_c, n_ac = (release.data, release.anticoincidence) if data is None else data
    nll = jnp.sum(poisson_nll(jnp.asarray(n_c), c))
    nll = nll + jnp.sum(poisson_nll(jnp.asarray(n_ac), ac))
    for name, x in norms.items():
        nll = nll + 0.5 * ((x - 1.0) / BACKGROUND_PRIORS[name]) ** 2
    return nll


_SCALES = ("cevns", "brn", "nin")


def _ss_reference(release: CsI2021Release) -> np.ndarray:
    return np.maximum(release.anticoincidence.sum(1), 0.5)


def interpolate_variations(stack: ArrayLike, pulls: Array | np.ndarray | Sequence[float]) -> Array:
    """Counts at response pulls α (σ, one per entry of :data:`VARIATIONS`) from a stack
    (nominal, +1σ, −1σ per variation) as :func:`csi2021_cevns_variations` returns: nominal +
    Σ_k histosys(α_k) (HistFactory shape interpolation, pyhf ``code4p``). A 2-D ``stack`` is
    the nominal alone and is returned unchanged."""
    from .coherent import _histosys

    x = jnp.asarray(stack)
    if x.ndim == 2:
        return x
    out = x[0]
    for k in range(len(VARIATIONS)):
        out = out + _histosys(pulls[k], x[2 * k + 1] - x[0], x[0] - x[2 * k + 2])
    return out


_N_PULLS = len(VARIATIONS)


def _expected_theta(release, sm, signal, s, theta):
    """(C, AC) expectation at CEvNS scale θ0, BRN θ1, NIN θ2, response pulls θ3:6 and steady
    state ss_ref · exp(θ6:)."""
    pulls = theta[3 : 3 + _N_PULLS]
    nr = theta[0] * interpolate_variations(sm, pulls) + s * interpolate_variations(signal, pulls)
    ss = jnp.asarray(_ss_reference(release)) * jnp.exp(theta[3 + _N_PULLS :])
    return csi2021_expected(release, nr, ss, brn=theta[1], nin=theta[2])


def _nll_theta(release, sm, signal, s, theta, cevns_prior: bool):
    """nll at the parameters of :func:`_expected_theta`."""
    pulls = theta[3 : 3 + _N_PULLS]
    exp = _expected_theta(release, sm, signal, s, theta)
    nll = csi2021_nll(release, exp, {"brn": theta[1], "nin": theta[2]})
    nll = nll + 0.5 * jnp.sum(pulls**2)
    if cevns_prior:
        nll = nll + 0.5 * ((theta[0] - 1.0) / CEVNS_PRIOR) ** 2
    return nll


def _theta0(release):
    return jnp.concatenate([jnp.ones(3), jnp.zeros(_N_PULLS + len(release.pe_edges) - 1)])


@for_last_release()
def profile_functions(release: CsI2021Release):
    """The likelihood nll(sm, signal, s, θ) (CEvNS scale under its prior), the compiled profile
    fit (sm, signal, s) -> (min_θ nll, θ̂), global fit (sm, signal) -> (nll, ŝ, θ̂), the
    expectation (sm, signal, s, θ) -> (C, AC) and nll_data(data, sm, signal, s, θ) of one
    release, compiled once per release."""
    from .coherent import profile_fits

    n_c = 3 + _N_PULLS  # constrained: CEvNS, BRN, NIN scales and the response pulls
    sigma = jnp.asarray([CEVNS_PRIOR, BACKGROUND_PRIORS["brn"], BACKGROUND_PRIORS["nin"]]
                        + [1.0] * _N_PULLS)  # fmt: skip
    observed = {
        "counts": (jnp.asarray(release.data), jnp.asarray(release.anticoincidence)),
        "aux": jnp.asarray([1.0, 1.0, 1.0] + [0.0] * _N_PULLS),
    }

    def expected(sm, signal, s, theta):
        return _expected_theta(release, sm, signal, s, theta)

    def nll_data(data, sm, signal, s, theta):
        c, ac = expected(sm, signal, s, theta)
        n_on, n_off = data["counts"]
        nll = jnp.sum(poisson_nll(n_on, c)) + jnp.sum(poisson_nll(n_off, ac))
        return nll + 0.5 * jnp.sum(((theta[:n_c] - data["aux"]) / sigma) ** 2)

    def nll(sm, signal, s, theta):
        return nll_data(observed, sm, signal, s, theta)

    fit, best = profile_fits(nll, _theta0(release))
    constraints = (np.arange(n_c), np.asarray(sigma))
    return nll, fit, best, expected, nll_data, observed, constraints


def csi2021_sm_fit(release: CsI2021Release, sm: ArrayLike | None = None) -> dict[str, Any]:
    """The Standard-Model CEvNS count predicted and fitted to the CsI 2021 data.

    ``sm``: nuclear-recoil counts per (PE, time) bin, or their response variations (default
    :func:`csi2021_cevns_variations`). The fit scales it freely, with the BRN and NIN scales
    under their priors, the response variations as unit-Gaussian pulls and the steady-state
    rates free. Returns a dict with ``predicted`` and ``fitted`` events, ``error`` (1σ,
    Hessian), ``converged``, the fitted ``scales`` (``cevns``, ``brn``, ``nin``) and ``pulls``.
    """
    from .fit import minimize

    sm = jnp.asarray(csi2021_cevns_variations(release) if sm is None else sm)
    zero = jnp.zeros_like(sm)
    res = minimize(lambda th: _nll_theta(release, sm, zero, 0.0, th, False), _theta0(release))
    total = float(jnp.sum(sm if sm.ndim == 2 else sm[0]))
    pulls = res.x[3 : 3 + _N_PULLS] if sm.ndim == 3 else jnp.zeros(_N_PULLS)
    return {
        "pulls": {k: float(v) for k, v in zip(VARIATIONS, pulls, strict=True)},
        "predicted": total,
        "fitted": float(res.x[0]) * total,
        "error": float(res.errors[0]) * total,
        "converged": bool(res.converged),
        "scales": {k: float(v) for k, v in zip(_SCALES, res.x[:3], strict=True)},
    }


@for_last_release(key=bool)
def _data_set_pieces(release: CsI2021Release, systematics: bool) -> dict[str, Any]:
    """The response tables, the fold on them and the signal function of a release (and, once
    computed, its SM prediction, under "sm"), kept for the last release given to
    :func:`csi2021_data_set`: another data set of that release (e.g. with a new ``sm``) reuses
    them instead of tracing and computing them again."""
    # the response tables (nominal, or nominal and the ±1σ variations) once for all signals
    effs, qfs = _variation_coefficients(release)
    if not systematics:
        effs, qfs = effs[:1], qfs[:1]
    flux = csi2021_flux(release, u.year)
    tables = jax.jit(jax.vmap(lambda e, q: _response_table(release, flux, e, q)))(effs, qfs)

    def folded(spectrum, m_N):
        def one(e, q, ln_grid, table):
            return _response(release, flux, spectrum, m_N, N_NODES_RECOIL, e, q, (ln_grid, table))

        out = jax.vmap(one)(effs, qfs, *tables)
        return out if systematics else out[0]

    def primakoff(model):
        return folded(_primakoff_spectrum(model), model.m_N)

    return {"folded": folded, "primakoff": primakoff}


def csi2021_data_set(
    release: CsI2021Release, *, sm: ArrayLike | None = None, systematics: bool = True
):
    """The CsI 2021 release as a :class:`~jaxdipole.coherent.DataSet`: with ``systematics``
    its SM prediction and signals carry the response variations (:data:`VARIATIONS`, profiled
    as unit-Gaussian pulls), otherwise the nominal response alone. ``sm`` replaces the SM
    prediction (shape (n_pe, n_t), or (7, n_pe, n_t) with the variations)."""
    from .coherent import make_data_set

    pieces = _data_set_pieces(release, systematics)
    folded = pieces["folded"]
    if sm is None:
        if "sm" not in pieces:
            pieces["sm"] = jax.jit(lambda: folded(_cevns_spectrum(True), 0.0))()
        sm = pieces["sm"]

    return make_data_set(
        "coherent-csi",
        "CsI[Na] 2021",
        release,
        jnp.asarray(sm),
        pieces["primakoff"],
        profile_functions(release),
        test_statistic=TEST_STATISTIC,
    )


def csi2021_mu_limits(
    release: CsI2021Release, m_N: ArrayLike, *, flavour: int = 1, progress: bool = False
) -> np.ndarray:
    """90 % CL upper limits on μ_flavour [GeV^-1] at the N masses ``m_N`` [GeV] from the CsI
    2021 data (:func:`~jaxdipole.coherent.mu_limits`; ``inf`` where no N is produced)."""
    from .coherent import mu_limits

    return mu_limits([csi2021_data_set(release)], m_N, flavour=flavour, progress=progress)
