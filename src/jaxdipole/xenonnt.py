"""XENONnT solar ⁸B CEvNS: the science-run data release and its binned likelihood.

The release (XENON, Zenodo 10.5281/zenodo.20576156; the analysis of arXiv:2604.06002, SR0 of
PRL 133 (2024) 191002) is read from the folder a user downloads (:func:`load_xenonnt`); nothing
of it ships with jaxdipole. For each science run (SR0, SR1, SR2) it holds the selected events in
four observables -- corrected S2 (cS2), the S2-shadow quantile, the S1 and S2 BDT scores --
their 3 × 3 × 3 × 3 binning, the background templates per tonne-year (accidental coincidences
"ac", electronic recoils "er", radiogenic neutrons "rg") and mono-energetic nuclear-recoil
templates at 0.5–5.0 keV_nr in 0.1 keV steps, which give the probability that a nuclear
recoil of that energy is selected into each bin.

Any nuclear-recoil spectrum dR/dE_R [per tonne-year per keV] becomes an expectation per bin by
folding it with the mono-energetic templates (:func:`fold_recoil_spectrum`; the templates are
interpolated linearly in E_R between their energies). :func:`xenonnt_cevns` and
:func:`xenonnt_primakoff` fold jaxdipole's SM CEvNS and Primakoff-upscattering spectra of solar
neutrinos (:class:`~jaxdipole.solar.SolarFlux`) on natural xenon. The likelihood
(:func:`xenonnt_nll`) is binned Poisson over the runs' 3 × 81 bins with the ⁸B flux common to
all runs and each background's rate scaled per run under a Gaussian prior.

What the files do not hold is taken from the paper (arXiv:2604.06002): the exposure of each
run and the background uncertainties (:data:`XENONNT_PARAMETERS`). Only the nominal
light- and charge-yield templates (``tly_0.0_tqy_0.0``) are in a release as distributed with
the paper's example; where a user supplies the varied templates (``tly_±x_tqy_±y``) the loader
reads them and the likelihood profiles the light and charge yields as unit-Gaussian pulls
(:func:`interpolate_yields`); with the nominal set alone the yield uncertainties are not
modelled (they move the ⁸B expectation by ~10 % in the paper).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from . import units as u
from ._deprecate import renamed_arguments
from ._quadrature import gauss_legendre_unit
from ._release_cache import for_last_release
from .experiment import Experiment
from .model import DipoleModel
from .nuclei import material
from .rates import cevns_recoil_spectrum, recoil_spectrum
from .stats import poisson_nll

__all__ = [
    "RUNS",
    "OBSERVABLES",
    "BACKGROUNDS",
    "XENONNT_PARAMETERS",
    "XenonntRun",
    "XenonntRelease",
    "load_xenonnt",
    "recoil_weights",
    "fold_recoil_spectrum",
    "interpolate_yields",
    "xenonnt_cevns",
    "xenonnt_primakoff",
    "xenonnt_expected",
    "xenonnt_nll",
    "xenonnt_sm_fit",
    "xenonnt_data_set",
    "xenonnt_mu_limits",
    "TEST_STATISTIC",
]

#: Science runs of the release, in order.
RUNS = ("sr0", "sr1", "sr2")
#: The four observables, in the order of the template axes.
OBSERVABLES = ("cs2", "s2_shadow_s2_time_shadow_quantile", "s1_bdt_score", "s2_bdt_score")
#: Background components: accidental coincidences, electronic recoils, radiogenic neutrons.
BACKGROUNDS = ("ac", "er", "rg")

#: What the release's files do not hold: the exposure of each run [tonne-year] (arXiv:2604.06002
#: and the release's example notebook; SR0 + SR1 = 3.517 t·y, the 3.51 t·y of PRL 133 (2024)
#: 191002).
XENONNT_PARAMETERS: dict[str, dict[str, float]] = {
    "exposure_ty": {"sr0": 1.174398, "sr1": 2.342593, "sr2": 3.249665},
}


@dataclass(frozen=True)
class XenonntRun:
    """One science run of the release.

    ``edges``: the bin edges of the four :data:`OBSERVABLES`; ``events``: the selected events,
    shape (n, 4); ``data``: their counts per bin, shape (3, 3, 3, 3); ``backgrounds``: the
    expected counts per tonne-year per bin of each of :data:`BACKGROUNDS` (nominal yields);
    ``mono_energies``: the recoil energies [keV_nr] of the mono-energetic templates;
    ``yields``: {(tly, tqy): (radiogenic-neutron template per t·y, mono-energetic templates of
    shape (K, 3, 3, 3, 3))} for every light/charge-yield setting in the release, (0, 0) the
    nominal; ``exposure``: tonne-years.
    """

    name: str
    edges: tuple[np.ndarray, ...]
    events: np.ndarray
    data: np.ndarray
    backgrounds: dict[str, np.ndarray]
    mono_energies: np.ndarray
    yields: dict[tuple[float, float], tuple[np.ndarray, np.ndarray]]
    exposure: float

    @property
    def mono(self) -> np.ndarray:
        """Nominal mono-energetic templates, shape (K, 3, 3, 3, 3) (selection probability)."""
        return self.yields[(0.0, 0.0)][1]


@dataclass(frozen=True)
class XenonntRelease:
    """The release: its ``runs`` (:class:`XenonntRun`, in :data:`RUNS` order) and ``path``."""

    path: Path
    runs: tuple[XenonntRun, ...]

    @property
    def data(self) -> np.ndarray:
        """Observed counts of all runs, shape (n_runs, 3, 3, 3, 3)."""
        return np.stack([r.data for r in self.runs])

    @property
    def mono_energies(self) -> np.ndarray:
        """Recoil energies [keV_nr] of the mono-energetic templates (common to all runs)."""
        return self.runs[0].mono_energies

    @property
    def yield_settings(self) -> tuple[tuple[float, float], ...]:
        """The (tly, tqy) settings present in every run (at least the nominal (0, 0))."""
        common = set.intersection(*(set(r.yields) for r in self.runs))
        return tuple(sorted(common))


_MONO = re.compile(r"_mono_([0-9.]+)_cevns_tly_(-?[0-9.]+)_tqy_(-?[0-9.]+)\.h5$")
_RG = re.compile(r"_rg_cevns_tly_(-?[0-9.]+)_tqy_(-?[0-9.]+)\.h5$")


def _read_template(path: Path, edges: tuple[np.ndarray, ...]) -> np.ndarray:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            hist = np.asarray(cast("h5py.Dataset", f["templates/template"])[...], dtype=float)
            bins = [
                np.asarray(cast("h5py.Dataset", f[f"bins/{i}"])[...], dtype=float)
                for i in range(len(edges))
            ]
    except (OSError, KeyError) as err:
        raise ValueError(f"{path}: not a XENONnT template file ({err})") from None
    shape = tuple(len(e) - 1 for e in edges)
    if hist.shape != shape:
        raise ValueError(f"{path}: template shape {hist.shape}, the binning needs {shape}")
    for i, (b, e) in enumerate(zip(bins, edges, strict=True)):
        if b.shape != e.shape or not np.allclose(b, e, rtol=1e-9, atol=1e-9):
            raise ValueError(f"{path}: bin edges of axis {i} differ from the binning file")
    if not np.all(np.isfinite(hist)) or np.any(hist < 0):
        raise ValueError(f"{path}: template has negative or non-finite entries")
    return hist


def _read_events(path: Path) -> np.ndarray:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    missing = [k for k in OBSERVABLES if rows and k not in rows[0]]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    return np.array([[float(r[k]) for k in OBSERVABLES] for r in rows], dtype=float).reshape(
        -1, len(OBSERVABLES)
    )


def _read_run(root: Path, name: str, exposure: float) -> XenonntRun:
    import yaml

    bin_file = root / "binning" / f"{name}.yaml"
    with open(bin_file) as f:
        spec = yaml.safe_load(f)
    if not isinstance(spec, dict) or any(k not in spec for k in OBSERVABLES):
        raise ValueError(f"{bin_file}: expected bin edges for {list(OBSERVABLES)}")
    edges = tuple(np.asarray(spec[k], dtype=float) for k in OBSERVABLES)
    events = _read_events(root / "data" / f"{name}.csv")
    data, _ = np.histogramdd(events, bins=edges)
    if data.sum() != len(events):
        raise ValueError(
            f"{root / 'data' / f'{name}.csv'}: {len(events) - int(data.sum())} events lie "
            "outside the binning"
        )
    tdir = root / "templates" / name
    backgrounds = {}
    for comp in ("ac", "er"):
        backgrounds[comp] = _read_template(
            tdir / comp / f"template_XENONnT_{name}_{comp}_cevns.h5", edges
        )
    rg: dict[tuple[float, float], np.ndarray] = {}
    for p in sorted((tdir / "rg").glob("*.h5")):
        m = _RG.search(p.name)
        if m:
            rg[(float(m[1]), float(m[2]))] = _read_template(p, edges)
    mono: dict[tuple[float, float], dict[float, np.ndarray]] = {}
    for p in sorted((tdir / "mono").glob("*.h5")):
        m = _MONO.search(p.name)
        if m:
            mono.setdefault((float(m[2]), float(m[3])), {})[float(m[1])] = _read_template(p, edges)
    if (0.0, 0.0) not in rg or (0.0, 0.0) not in mono:
        raise ValueError(f"{tdir}: the nominal (tly_0.0_tqy_0.0) rg and mono templates are missing")
    energies = np.array(sorted(mono[(0.0, 0.0)]))
    if len(energies) < 2 or np.any(np.diff(energies) <= 0):
        raise ValueError(f"{tdir / 'mono'}: need >= 2 mono-energetic templates")
    yields = {}
    for key, by_e in mono.items():
        if key in rg and np.array_equal(np.array(sorted(by_e)), energies):
            yields[key] = (rg[key], np.stack([by_e[e] for e in energies]))
    backgrounds["rg"] = rg[(0.0, 0.0)]
    return XenonntRun(name, edges, events, data, backgrounds, energies, yields, float(exposure))


def load_xenonnt(
    path: str | Path,
    *,
    runs: tuple[str, ...] = RUNS,
    exposure_ty: dict[str, float] | None = None,
) -> XenonntRelease:
    """Read the XENONnT ⁸B release from its folder (``binning/``, ``data/``, ``templates/``).

    Parameters
    ----------
    path : str or Path
        The release folder as downloaded.
    runs : tuple of str
        Science runs to read (default all three, :data:`RUNS`).
    exposure_ty : dict, optional
        Exposure per run [tonne-year]; default :data:`XENONNT_PARAMETERS` (the paper's).

    Raises ValueError (naming the file) for a missing or malformed file.
    """
    root = Path(path)
    if not root.is_dir():
        raise ValueError(f"XENONnT release folder not found: {root}")
    bad = [r for r in runs if r not in RUNS]
    if bad or not runs:
        raise ValueError(f"runs must be a non-empty subset of {list(RUNS)}, got {list(runs)}")
    exposures = dict(XENONNT_PARAMETERS["exposure_ty"]) | dict(exposure_ty or {})
    for k, v in exposures.items():
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"exposure_ty[{k!r}] must be positive [tonne-year], got {v}")
    for sub in ("binning", "data", "templates"):
        if not (root / sub).is_dir():
            raise ValueError(f"{root}: not a XENONnT release (no {sub}/ folder)")
    try:
        read = tuple(_read_run(root, r, exposures[r]) for r in runs)
    except FileNotFoundError as err:
        raise ValueError(f"XENONnT release incomplete: {err.filename} not found") from None
    e0 = read[0].mono_energies
    if any(not np.array_equal(r.mono_energies, e0) for r in read[1:]):
        raise ValueError(f"{root}: the runs' mono-energetic template energies differ")
    return XenonntRelease(root, read)


# ----------------------------------------------------------------------------------- the fold
#: Gauss–Legendre nodes per interval between neighbouring mono-energetic templates.
N_NODES_RECOIL = 4


@renamed_arguments(n_nodes="n_recoil")
def recoil_weights(
    energies_kev: ArrayLike, *, n_recoil: int = N_NODES_RECOIL
) -> tuple[Array, Array]:
    """Recoil nodes T [GeV] and weights H [GeV] of shape (K−1)·n and (K, (K−1)·n), n =
    ``n_recoil`` Gauss–Legendre nodes in E_R per interval between neighbouring template
    energies (static; formerly ``n_nodes``), such that
    Σ_n H[k, n] f(T_n) = ∫ f(E) h_k(E) dE, h_k the hat function of template k (1 at its energy,
    linear to 0 at the neighbours): with linear interpolation of the templates between their
    energies, ∫ dR/dE ε_bin(E) dE = Σ_k ε_bin(E_k) Σ_n H[k, n] dR/dE(T_n)."""
    e = jnp.asarray(energies_kev, dtype=float) * u.keV
    x, w = (jnp.asarray(v) for v in gauss_legendre_unit(n_recoil))
    lo, width = e[:-1, None], jnp.diff(e)[:, None]
    T = (lo + width * x).ravel()
    ww = (width * w).ravel()
    frac = jnp.broadcast_to(x, (e.shape[0] - 1, n_recoil)).ravel()
    seg = jnp.repeat(jnp.arange(e.shape[0] - 1), n_recoil)
    K = e.shape[0]
    H = jnp.zeros((K, T.shape[0]))
    H = H.at[seg, jnp.arange(T.shape[0])].add(ww * (1.0 - frac))
    H = H.at[seg + 1, jnp.arange(T.shape[0])].add(ww * frac)
    return T, H


@renamed_arguments(n_nodes="n_recoil")
def fold_recoil_spectrum(
    release: XenonntRelease, rate: ArrayLike, *, n_recoil: int = N_NODES_RECOIL
):
    """Expected counts per bin and run, shape (n_runs, 3, 3, 3, 3), of a nuclear-recoil
    spectrum ``rate`` [per tonne-year per GeV] given at the nodes ``recoil_weights(...)[0]``
    (nominal yields; ``n_recoil`` as there, formerly ``n_nodes``). Recoils outside the
    templates' range (0.5–5.0 keV_nr) are not counted: the selection probability is 1e-4 at
    0.5 keV, and ⁸B recoils on xenon end near 4 keV."""
    _, H = recoil_weights(release.mono_energies, n_recoil=n_recoil)
    c = H @ jnp.asarray(rate)  # (K,) per t·y
    mono = jnp.stack([jnp.asarray(r.mono) for r in release.runs])  # (R, K, 3, 3, 3, 3)
    exposure = jnp.asarray([r.exposure for r in release.runs])
    return jnp.tensordot(c, mono, axes=([0], [1])) * exposure.reshape(-1, 1, 1, 1, 1)


def _experiment(flux) -> Experiment:
    return Experiment(
        target=material("Xe"),
        target_mass=1.0 * u.ton,
        exposure=u.year,
        flux=flux,
        recoil_threshold=0.0,
    )


def _yield_grid(
    release: XenonntRelease,
) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float]]]:
    """(tly values, tqy values, settings in grid order) of the release's yield templates: the
    full rectangular grid if present, else the nominal setting alone."""
    settings = release.yield_settings
    ly = np.array(sorted({k[0] for k in settings}))
    qy = np.array(sorted({k[1] for k in settings}))
    grid = [(a, b) for a in ly for b in qy]
    if not set(grid) <= set(settings):
        return np.zeros(1), np.zeros(1), [(0.0, 0.0)]
    return ly, qy, grid


def _hat(values: np.ndarray, t: Array) -> Array:
    """Linear-interpolation weights of t (clipped to the range) on the sorted ``values``."""
    if values.shape[0] == 1:
        return jnp.ones((1,), dtype=jnp.result_type(t, float))
    v = jnp.asarray(values)
    tc = jnp.clip(t, v[0], v[-1])
    k = jnp.clip(jnp.searchsorted(v, tc, side="right") - 1, 0, v.shape[0] - 2)
    f = (tc - v[k]) / (v[k + 1] - v[k])
    return jnp.zeros(v.shape, f.dtype).at[k].add(1.0 - f).at[k + 1].add(f)


def interpolate_yields(release: XenonntRelease, stack: ArrayLike, t_ly: ArrayLike, t_qy: ArrayLike):
    """Bilinear interpolation of ``stack`` (leading axis: the release's yield settings, in the
    order of its light/charge-yield grid) at the light- and charge-yield pulls ``t_ly``,
    ``t_qy`` (in σ; clipped to the grid). With the nominal templates alone it returns
    ``stack[0]``."""
    ly, qy, _ = _yield_grid(release)
    w = (_hat(ly, jnp.asarray(t_ly))[:, None] * _hat(qy, jnp.asarray(t_qy))[None, :]).ravel()
    return jnp.tensordot(w, jnp.asarray(stack), axes=1)


def _fold_all_yields(release: XenonntRelease, rate: Array, n_recoil: int) -> Array:
    """``rate`` at the recoil nodes folded with every yield setting's mono-energetic
    templates: shape (n_settings, n_runs, 3, 3, 3, 3)."""
    _, _, grid = _yield_grid(release)
    _, H = recoil_weights(release.mono_energies, n_recoil=n_recoil)
    c = H @ rate
    exposure = jnp.asarray([r.exposure for r in release.runs]).reshape(-1, 1, 1, 1, 1)
    mono = jnp.asarray(np.stack([np.stack([r.yields[g][1] for r in release.runs]) for g in grid]))
    return jnp.tensordot(c, mono, axes=([0], [2])) * exposure


def _default_flux():
    from .solar import SolarFlux

    return SolarFlux.standard()


@renamed_arguments(n_nodes="n_recoil")
def xenonnt_cevns(
    release: XenonntRelease,
    flux=None,
    *,
    form_factor: bool | str = True,
    n_recoil: int = N_NODES_RECOIL,
) -> Array:
    """SM CEvNS counts of solar neutrinos per bin, shape (n_settings, n_runs, 3, 3, 3, 3): the
    recoil spectrum on natural xenon (Helm form factor) of ``flux`` (default
    ``SolarFlux.standard()``: ⁸B at the SNO NC flux, hep at B16-GS98) folded with the
    mono-energetic templates of each light/charge-yield setting (one setting, the nominal,
    unless the release holds the varied templates) and each run's exposure. ``n_recoil``:
    Gauss–Legendre nodes in E_R per interval between template energies (static; formerly
    ``n_nodes``; see :func:`recoil_weights`)."""
    flux = _default_flux() if flux is None else flux
    T, _ = recoil_weights(release.mono_energies, n_recoil=n_recoil)
    rate = cevns_recoil_spectrum(
        _experiment(flux), T, apply_efficiency=False, form_factor=form_factor
    )
    return _fold_all_yields(release, rate, n_recoil)


@renamed_arguments(n_nodes="n_recoil")
def xenonnt_primakoff(
    model: DipoleModel,
    release: XenonntRelease,
    flux=None,
    *,
    n_recoil: int = N_NODES_RECOIL,
) -> Array:
    """Primakoff upscattering ν A → N A counts per bin, shape (n_settings, n_runs, 3, 3, 3,
    3), as :func:`xenonnt_cevns`; each flavour of the solar flux at Earth upscatters through
    its own moment ``model.mu[α]``. ∝ μ²; the N decay does not enter (recoils only).
    ``n_recoil`` as in :func:`xenonnt_cevns` (formerly ``n_nodes``)."""
    flux = _default_flux() if flux is None else flux
    T, _ = recoil_weights(release.mono_energies, n_recoil=n_recoil)
    rate = recoil_spectrum(model, _experiment(flux), T, apply_efficiency=False)
    return _fold_all_yields(release, rate, n_recoil)


# ------------------------------------------------------------------------------ likelihood
def parameter_names(release: XenonntRelease) -> tuple[str, ...]:
    """Names of the nuisance parameters θ, in order: the ⁸B flux scale, the nuclear-recoil
    efficiency scale, the light- and charge-yield pulls, the ER and neutron rate scales
    (common to all runs) and one accidental-coincidence rate scale per run."""
    return ("b8", "efficiency", "t_ly", "t_qy", "er", "rg") + tuple(
        f"ac_{r.name}" for r in release.runs
    )


def _rg_stack(release: XenonntRelease) -> np.ndarray:
    _, _, grid = _yield_grid(release)
    return np.stack([np.stack([r.yields[g][0] * r.exposure for r in release.runs]) for g in grid])


def xenonnt_expected(
    release: XenonntRelease, sm: ArrayLike, signal: ArrayLike, s: ArrayLike, theta: ArrayLike
) -> Array:
    """Expected counts per run and bin, shape (n_runs, 3, 3, 3, 3), at signal strength ``s``
    and nuisance parameters ``theta`` (:func:`parameter_names`): ε a_B8 (SM + s · signal) at
    the yield pulls, plus the backgrounds' expected counts (template × exposure) times their
    rate scales (the neutron template at the yield pulls). ``sm``, ``signal``: shape
    (n_settings, n_runs, 3, 3, 3, 3) as :func:`xenonnt_cevns`."""
    theta = jnp.asarray(theta)
    b8, eff, t_ly, t_qy, er, rg = (theta[i] for i in range(6))
    ac = theta[6:]
    nr = interpolate_yields(release, jnp.asarray(sm) + s * jnp.asarray(signal), t_ly, t_qy)
    rg_t = interpolate_yields(release, jnp.asarray(_rg_stack(release)), t_ly, t_qy)
    shape = (-1, 1, 1, 1, 1)
    bkg = jnp.stack([jnp.asarray(r.backgrounds["ac"] * r.exposure) for r in release.runs])
    er_t = jnp.stack([jnp.asarray(r.backgrounds["er"] * r.exposure) for r in release.runs])
    return eff * b8 * nr + ac.reshape(shape) * bkg + er * er_t + rg * rg_t


#: Relative 1σ priors of the nuisance parameters of the ⁸B CEvNS analysis (XENON, the
#: statistical model of the data release of PRL 134 (2025) 111802, SR0+SR1): accidental
#: coincidences per run (SR2: SR1's value, not released), ER 100 %, radiogenic neutrons 58 %,
#: nuclear-recoil efficiency 25 %, light and charge yields 1σ = 1 (the templates' units).
PRIORS: dict[str, float] = {
    "efficiency": 0.25,
    "t_ly": 1.0,
    "t_qy": 1.0,
    "er": 1.0,
    "rg": 0.58,
    "ac_sr0": 0.0904,
    "ac_sr1": 0.0576,
    "ac_sr2": 0.0576,
}


def _widths(release: XenonntRelease, b8_prior: float | None) -> tuple[np.ndarray, np.ndarray]:
    """(indices, widths) of the Gaussian constraints; the ⁸B scale only when ``b8_prior``."""
    names = parameter_names(release)
    idx = [i for i, n in enumerate(names) if n != "b8" or b8_prior is not None]
    widths = [b8_prior if names[i] == "b8" else PRIORS[names[i]] for i in idx]
    return np.asarray(idx), np.asarray(widths, dtype=float)


def _theta0(release: XenonntRelease) -> Array:
    names = parameter_names(release)
    return jnp.asarray([0.0 if n in ("t_ly", "t_qy") else 1.0 for n in names])


def xenonnt_nll(
    release: XenonntRelease,
    expected: ArrayLike,
    theta: ArrayLike,
    *,
    b8_prior: float | None = None,
    data: dict | None = None,
) -> Array:
    """Negative log-likelihood: binned Poisson of the observed counts (``data["counts"]``,
    default the release's) given ``expected`` (:func:`xenonnt_expected`), plus the Gaussian
    constraints of the nuisance parameters (:data:`PRIORS`; the ⁸B flux scale under
    ``b8_prior`` if given, free otherwise) centred on ``data["aux"]`` (default their nominal
    values)."""
    idx, width = _widths(release, b8_prior)
    theta = jnp.asarray(theta)
    counts = jnp.asarray(release.data) if data is None else data["counts"]
    aux = _theta0(release)[idx] if data is None else data["aux"]
    nu = jnp.maximum(jnp.asarray(expected), 1e-12)  # a background scale may pull a bin to 0
    return poisson_nll(counts, nu) + 0.5 * jnp.sum(((theta[idx] - aux) / width) ** 2)


#: How the XENONnT limits are set (written into ``data-limit.json``).
TEST_STATISTIC = (
    "profile-likelihood ratio q(s) = 2[nll(s) - nll(s_hat)], s_hat >= 0, binned Poisson in "
    "cS2 x S2-shadow quantile x S1 BDT x S2 BDT (3 x 3 x 3 x 3) per science run (SR0-SR2), "
    "with the 8B flux scale (prior from the chosen normalisation), the nuclear-recoil "
    "efficiency (1 +- 0.25), the light and charge yields (unit pulls, where the release holds "
    "the varied templates), the ER (1 +- 1.0) and neutron (1 +- 0.58) rates and the "
    "accidental-coincidence rate per run profiled; the 8B flux scale and efficiency multiply "
    "the SM CEvNS and the dipole signal alike; 90% CL upper limit at q = 1.642 (one-sided: "
    "q = 0 for s_hat > s; asymptotic)"
)


def xenonnt_sm_fit(
    release: XenonntRelease, sm: ArrayLike | None = None, *, flux=None
) -> dict[str, object]:
    """The SM ⁸B CEvNS counts predicted and fitted to the data (all runs of ``release``).

    ``sm``: the prediction (default :func:`xenonnt_cevns` of ``flux``, default
    ``SolarFlux.standard()``). The fit scales it freely (the ⁸B flux, no prior) with the other
    nuisance parameters under :data:`PRIORS`. Returns ``predicted`` and ``fitted`` events (all
    runs; nominal yields), ``error`` (1σ, Hessian), ``predicted_per_run``, ``fitted_per_run``,
    ``background_per_run`` (at the fit), ``b8_scale`` (fitted / assumed ⁸B flux) and its
    ``b8_scale_error``, ``converged`` and the fitted nuisance ``parameters`` by name.
    """
    from .fit import minimize

    sm = jnp.asarray(xenonnt_cevns(release, flux) if sm is None else sm)
    zero = jnp.zeros_like(sm)

    def nll(th):
        return xenonnt_nll(release, xenonnt_expected(release, sm, zero, 0.0, th), th)

    res = minimize(nll, _theta0(release))
    th = res.x
    nominal = interpolate_yields(release, sm, 0.0, 0.0)
    at_fit = interpolate_yields(release, sm, th[2], th[3]) * th[1] * th[0]
    per_run = np.asarray(jnp.sum(nominal, axis=(1, 2, 3, 4)))
    total = float(np.sum(per_run))
    bkg = xenonnt_expected(release, zero[:, :], zero, 0.0, th)
    return {
        "predicted": total,
        "fitted": float(th[0]) * total,
        "error": float(res.errors[0]) * total,
        "predicted_per_run": {r.name: float(v) for r, v in zip(release.runs, per_run, strict=True)},
        "fitted_per_run": {
            r.name: float(v)
            for r, v in zip(
                release.runs, np.asarray(jnp.sum(at_fit, axis=(1, 2, 3, 4))), strict=True
            )
        },
        "background_per_run": {
            r.name: float(v)
            for r, v in zip(release.runs, np.asarray(jnp.sum(bkg, axis=(1, 2, 3, 4))), strict=True)
        },
        "b8_scale": float(th[0]),
        "b8_scale_error": float(res.errors[0]),
        "converged": bool(res.converged),
        "parameters": dict(zip(parameter_names(release), map(float, th), strict=True)),
    }


@for_last_release(key=float)
def profile_functions(release: XenonntRelease, b8_prior: float):
    """(nll, fit, best, expected, nll_data, observed, constraints) of the release with the ⁸B
    flux scale under ``b8_prior`` (see :class:`~jaxdipole.coherent.DataSet`), compiled once per
    release and prior."""
    from .coherent import profile_fits

    theta0 = _theta0(release)
    idx, width = _widths(release, b8_prior)

    def expected(sm, signal, s, theta):
        return xenonnt_expected(release, sm, signal, s, theta)

    def nll_data(data, sm, signal, s, theta):
        return xenonnt_nll(
            release, expected(sm, signal, s, theta), theta, b8_prior=b8_prior, data=data
        )

    observed = {"counts": jnp.asarray(release.data), "aux": theta0[idx]}

    def nll(sm, signal, s, theta):
        return nll_data(observed, sm, signal, s, theta)

    fit, best = profile_fits(nll, theta0)
    return nll, fit, best, expected, nll_data, observed, (idx, width)


def xenonnt_data_set(release: XenonntRelease, *, flux=None, b8: str = "sno", sm=None):
    """The release as a :class:`~jaxdipole.coherent.DataSet` for dipole limits: SM prediction
    and signals from ``flux`` (default ``SolarFlux.standard(b8=b8)``), the ⁸B flux scale under
    the relative uncertainty of the normalisation ``b8``
    (:data:`~jaxdipole.solar.B8_NORMALISATIONS`)."""
    from .coherent import make_data_set
    from .solar import B8_NORMALISATIONS, SolarFlux

    if b8 not in B8_NORMALISATIONS:
        raise ValueError(f"b8 must be one of {sorted(B8_NORMALISATIONS)}, got {b8!r}")
    flux = SolarFlux.standard(b8=b8) if flux is None else flux
    return make_data_set(
        "xenonnt-b8",
        "XENONnT ⁸B (SR0-SR2)",
        release,
        jnp.asarray(xenonnt_cevns(release, flux) if sm is None else sm),
        lambda model: xenonnt_primakoff(model, release, flux),
        profile_functions(release, B8_NORMALISATIONS[b8][1]),
        test_statistic=TEST_STATISTIC,
        flavours=(0, 1, 2),
    )


def xenonnt_mu_limits(
    release: XenonntRelease,
    m_N: ArrayLike,
    *,
    flavour: int | str = 0,
    b8: str = "sno",
    progress: bool = False,
) -> np.ndarray:
    """90 % CL upper limits on μ_flavour [GeV^-1] (``flavour`` 0, 1, 2, or ``"all"`` for a
    flavour-universal μ) at the N masses ``m_N`` [GeV] from the XENONnT data
    (:func:`~jaxdipole.coherent.mu_limits`; ``inf`` where no N is produced)."""
    from .coherent import mu_limits

    ds = xenonnt_data_set(release, b8=b8)
    return mu_limits([ds], m_N, flavour=flavour, progress=progress)
