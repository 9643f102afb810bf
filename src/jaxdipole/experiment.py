"""Experiments: target, mass, exposure, flux, recoil window, resolution and photon detection.

Contents
--------
* :class:`Experiment` -- an :class:`equinox.Module` parameter pytree describing one detector at
  one neutrino source. Every float field is a dynamic array (differentiable, vmappable, replaced
  without recompiling); ``name`` is static. ``decay_length`` and ``resolution`` are None in
  an experiment built without them (prompt decays, perfect resolution): the rates take their
  cheaper path from the structure of the pytree, which a replaced value changes with it.
* Presets (exposed by the package as ``jd.experiments``): :func:`nucleus_phase1`,
  :func:`nucleus_phase1_detectors`, :func:`nucleus_upgrade`, :func:`ge_reactor`, and the flux
  :func:`chooz_flux`; also collected in the namespace :data:`presets`.

Units: natural units (GeV = 1). Enter values with :mod:`jaxdipole.units`, e.g.
``target_mass=10 * u.g``, ``exposure=1 * u.year``, ``recoil_threshold=20 * u.eV``,
``decay_length=10 * u.cm``, ``background=100 / (u.kg * u.day * u.keV)``.

Example
-------
>>> import jaxdipole as jd
>>> u = jd.units
>>> exp = jd.Experiment(target=jd.material("CaWO4"), target_mass=10 * u.g,
...                     exposure=1 * u.year, flux=chooz_flux(),
...                     recoil_threshold=20 * u.eV, decay_length=None)
>>> exp2 = exp.with_(recoil_threshold=10 * u.eV)
>>> exp3 = eqx.tree_at(lambda e: e.recoil_threshold, exp, jnp.asarray(10 * u.eV))
"""

from __future__ import annotations

import math
import types
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from . import units as u
from ._checks import concrete, is_traced, require_float64
from ._deprecate import renamed_arguments
from .flux import Flux, ReactorFlux
from .nuclei import Material, Nucleus, as_material, material

__all__ = [
    "Experiment",
    "chooz_flux",
    "nucleus_phase1",
    "nucleus_phase1_detectors",
    "nucleus_phase1_target",
    "nucleus_upgrade",
    "ge_reactor",
    "presets",
    "CHOOZ_THERMAL_POWER",
    "CHOOZ_DISTANCES",
    "NUCLEUS_CAWO4_MASS",
    "NUCLEUS_AL2O3_MASS",
    "NUCLEUS_THRESHOLD",
    "NUCLEUS_THRESHOLD_OPTIMISTIC",
    "NUCLEUS_BACKGROUND",
    "NUCLEUS_BACKGROUND_PREDICTED_CAWO4",
    "NUCLEUS_RECOIL_MAX",
    "NUCLEUS_DECAY_LENGTH",
    "NUCLEUS_UPGRADE_MASS",
    "PHOTON_ENERGY_MIN",
]


def _as_float(x: ArrayLike) -> Array:
    """Dynamic physical number as a floating JAX array with a strong (non-weak) dtype.

    Python numbers become the default float dtype (float64 under x64), so an Experiment built
    from floats and one built from arrays have the same avals (no re-tracing).
    """
    a = jnp.asarray(x)
    if jnp.issubdtype(a.dtype, jnp.floating) and not a.weak_type:
        return a
    return jnp.asarray(a, dtype=jnp.result_type(float))


#: Default lower edge of the photon-energy window [GeV] [assumed; the photon cuts of
#: arXiv:2110.02233 could not be checked].
PHOTON_ENERGY_MIN = 100.0 * u.keV

# Float fields of Experiment in constructor order (after target/flux), with their defaults.
_FLOAT_DEFAULTS: dict[str, float] = {
    "recoil_max": math.inf,
    "resolution": 0.0,
    "efficiency": 1.0,
    "photon_energy_min": PHOTON_ENERGY_MIN,
    "photon_energy_max": math.inf,
    "photon_efficiency": 1.0,
    "photon_cos_min": -1.0,
    "photon_cos_max": 1.0,
    "background": 0.0,
}


class Experiment(eqx.Module):
    """One detector at one neutrino source (a parameter pytree).

    Parameters
    ----------
    target : Material, Nucleus or str
        Target; stored as a :class:`~jaxdipole.nuclei.Material` (``as_material``: a Nucleus
        becomes a one-component material, a name is looked up with ``material(name)``).
    target_mass : float
        Detector (target) mass [GeV], e.g. ``10 * u.g``; > 0.
    exposure : float
        Live time [GeV^-1], e.g. ``1 * u.year``; >= 0.
    flux : Flux
        Neutrino flux at the detector (a single component or a ``FluxSum``; each component
        carries its own flavour and ν/ν̄ nature).
    recoil_threshold : float
        Nuclear-recoil threshold E_thr [GeV], e.g. ``20 * u.eV``; >= 0.
    decay_length : float or None
        Size L [GeV^-1] of the instrumented region in which N must decay for the photon to be
        seen (radiative mode), e.g. ``10 * u.cm``; > 0. ``None`` (default): every N decays
        inside the detector (prompt limit); stored as None (``prompt`` is True). The
        recoil-only (Primakoff) rates do not use it.
    recoil_max : float, keyword-only
        Upper edge of the analysed recoil window [GeV], > recoil_threshold; default ``inf``
        (up to the kinematic limit). A hard cut in true recoil energy.
    resolution : float, keyword-only
        Gaussian recoil-energy resolution σ [GeV], >= 0; default 0 (perfect). With σ > 0 the
        threshold acts as the efficiency ε(E_R) = ½ erfc((E_thr − E_R)/(√2 σ)), the probability
        that a recoil of true energy E_R is reconstructed above E_thr (the spectrum itself is
        not smeared). A concrete 0 (or None) is stored as None (``smeared`` is False): the rates
        then skip the threshold turn-on quadrature.
    efficiency : float, keyword-only
        Flat signal efficiency in [0, 1] for recoil events; default 1.
    photon_energy_min, photon_energy_max : float, keyword-only
        Photon-energy window [GeV] of the radiative mode; default 100 keV and ``inf``.
    photon_efficiency : float, keyword-only
        Flat photon detection efficiency in [0, 1]; default 1.
    photon_cos_min, photon_cos_max : float, keyword-only
        Angular acceptance in cos θ_γ (photon angle to the beam), -1 <= min < max <= 1;
        default -1, 1 (no cut).
    background : float, keyword-only
        Flat recoil background rate [events per GeV of recoil energy per unit target mass per
        unit time]; in natural units its dimension is GeV^-1. Default 0.
        Enter "100 counts/(kg·day·keV)" as ``100 / (u.kg * u.day * u.keV)``. It is quoted in
        reconstructed energy after all cuts, so it is counted on [recoil_threshold, recoil_max]
        without the signal efficiency; a background > 0 therefore needs a finite
        ``recoil_max`` (the analysis window), otherwise construction raises ValueError.
    name : str, keyword-only
        Label (static).

    Notes
    -----
    All float fields are 0-d dynamic arrays (``decay_length`` and ``resolution`` may be None,
    above): ``jax.grad`` w.r.t. an Experiment returns an Experiment of gradients, and
    ``eqx.tree_at(lambda e: e.recoil_threshold, exp, value)`` or :meth:`with_` replace a value
    (``with_`` re-runs the validation; ``tree_at`` does not). ``prompt`` (``decay_length`` is
    None) and ``smeared`` (``resolution`` is not None) are read off the fields, so they cannot
    disagree with them: a resolution or decay length put in with ``tree_at`` (which replaces a
    None field given ``is_leaf=lambda x: x is None``) switches the rates to the smeared or
    finite-decay-region path. Concrete values are validated
    (``ValueError`` naming the argument and the accepted range); traced values are not.
    Experiments need float64 (the default of ``import jaxdipole``): with JAX in float32 the
    constructor raises ValueError.
    """

    target: Material
    target_mass: Array
    exposure: Array
    flux: Flux
    recoil_threshold: Array
    decay_length: Array | None
    recoil_max: Array
    resolution: Array | None
    efficiency: Array
    photon_energy_min: Array
    photon_energy_max: Array
    photon_efficiency: Array
    photon_cos_min: Array
    photon_cos_max: Array
    background: Array
    name: str = eqx.field(static=True)

    def __init__(
        self,
        target: Material | Nucleus | str,
        target_mass: ArrayLike,
        exposure: ArrayLike,
        flux: Flux,
        recoil_threshold: ArrayLike,
        decay_length: ArrayLike | None = None,
        *,
        recoil_max: ArrayLike = math.inf,
        resolution: ArrayLike | None = 0.0,
        efficiency: ArrayLike = 1.0,
        photon_energy_min: ArrayLike = PHOTON_ENERGY_MIN,
        photon_energy_max: ArrayLike = math.inf,
        photon_efficiency: ArrayLike = 1.0,
        photon_cos_min: ArrayLike = -1.0,
        photon_cos_max: ArrayLike = 1.0,
        background: ArrayLike = 0.0,
        name: str = "experiment",
    ):
        require_float64("Experiment (event rates, photon spectra, reaches and fits)")
        if not isinstance(target, Material | Nucleus | str):
            raise ValueError(
                f"Experiment: target must be a Material, Nucleus or material name, got {target!r}"
            )
        try:
            self.target = as_material(target)
        except TypeError as err:  # pragma: no cover - guarded above
            raise ValueError(str(err)) from None
        if not isinstance(flux, Flux):
            raise ValueError(f"Experiment: flux must be a jaxdipole Flux, got {type(flux)!r}")
        self.flux = flux
        self.target_mass = _as_float(target_mass)
        self.exposure = _as_float(exposure)
        self.recoil_threshold = _as_float(recoil_threshold)
        self.decay_length = None if decay_length is None else _as_float(decay_length)
        self.recoil_max = _as_float(recoil_max)
        # None without a resolution (a concrete 0): no turn-on quadrature (cheaper rates)
        res = None if resolution is None else _as_float(resolution)
        self.resolution = res if res is None or is_traced(res) or np.any(res != 0) else None
        self.efficiency = _as_float(efficiency)
        self.photon_energy_min = _as_float(photon_energy_min)
        self.photon_energy_max = _as_float(photon_energy_max)
        self.photon_efficiency = _as_float(photon_efficiency)
        self.photon_cos_min = _as_float(photon_cos_min)
        self.photon_cos_max = _as_float(photon_cos_max)
        self.background = _as_float(background)
        self.name = str(name)

    def __check_init__(self):
        fields = ("target_mass", "exposure", "recoil_threshold", "decay_length")
        for f in fields + tuple(_FLOAT_DEFAULTS):
            if getattr(self, f) is not None and jnp.ndim(getattr(self, f)) != 0:
                raise ValueError(
                    f"Experiment.{f} must be a scalar, got shape {jnp.shape(getattr(self, f))} "
                    "(use jax.vmap over Experiment.with_ for grids)"
                )
        v = {
            f: None if getattr(self, f) is None else concrete(getattr(self, f))
            for f in fields + tuple(_FLOAT_DEFAULTS)
        }

        def need(name: str, ok, rng: str) -> None:
            x = v[name]
            if x is not None and (np.isnan(x) or not ok(float(x))):
                raise ValueError(f"Experiment: {name} must be {rng}, got {float(x)!r}")

        fin = math.isfinite
        need("target_mass", lambda x: fin(x) and x > 0, "finite and > 0 [GeV] (e.g. 10 * u.g)")
        need("exposure", lambda x: fin(x) and x >= 0, "finite and >= 0 [GeV^-1] (e.g. u.year)")
        need("recoil_threshold", lambda x: fin(x) and x >= 0, "finite and >= 0 [GeV]")
        need("decay_length", lambda x: fin(x) and x > 0, "finite and > 0 [GeV^-1], or None")
        need("recoil_max", lambda x: x > 0, "> 0 [GeV] (inf allowed)")
        need("resolution", lambda x: fin(x) and x >= 0, "finite and >= 0 [GeV]")
        need("efficiency", lambda x: 0 <= x <= 1, "in [0, 1]")
        need("photon_energy_min", lambda x: fin(x) and x >= 0, "finite and >= 0 [GeV]")
        need("photon_energy_max", lambda x: x > 0, "> 0 [GeV] (inf allowed)")
        need("photon_efficiency", lambda x: 0 <= x <= 1, "in [0, 1]")
        need("photon_cos_min", lambda x: -1 <= x <= 1, "in [-1, 1]")
        need("photon_cos_max", lambda x: -1 <= x <= 1, "in [-1, 1]")
        need("background", lambda x: fin(x) and x >= 0, "finite and >= 0 [GeV^-1]")
        pairs = (
            ("recoil_threshold", "recoil_max"),
            ("photon_energy_min", "photon_energy_max"),
            ("photon_cos_min", "photon_cos_max"),
        )
        for lo, hi in pairs:
            x_lo, x_hi = v[lo], v[hi]
            if x_lo is not None and x_hi is not None and not float(x_lo) < float(x_hi):
                raise ValueError(
                    f"Experiment: need {lo} < {hi}, got {float(x_lo)!r} >= {float(x_hi)!r}"
                )
        b, rmax = v["background"], v["recoil_max"]
        if b is not None and rmax is not None and b > 0 and not math.isfinite(rmax):
            raise ValueError(
                "Experiment: background > 0 needs a finite recoil_max (upper edge of the analysis "
                "window [GeV]) so that the number of background events is finite"
            )

    # ------------------------------------------------------------------ helpers
    @property
    def nuclei_counts(self) -> Array:
        """Number of target nuclei of each species, shape (len(target.nuclei),) [dimensionless].

        ``target_mass × target.nuclei_per_mass`` (neutral-atom masses).
        """
        return self.target_mass * self.target.nuclei_per_mass

    @property
    def mass_exposure(self) -> Array:
        """target_mass × exposure (dimensionless in natural units); divide by u.kg * u.day."""
        return self.target_mass * self.exposure

    def components(self) -> tuple[Flux, ...]:
        """The elementary flux components (``flux.components()``)."""
        return self.flux.components()

    @property
    def prompt(self) -> bool:
        """True if every N decays inside the detector (``decay_length`` is None)."""
        return self.decay_length is None

    @property
    def smeared(self) -> bool:
        """True if the experiment has a recoil-energy resolution (``resolution`` not None)."""
        return self.resolution is not None

    def resolution_sigma(self) -> Array:
        """The resolution σ [GeV]: ``resolution``, or 0 without one."""
        return jnp.zeros_like(self.recoil_threshold) if self.resolution is None else self.resolution

    def decay_region(self) -> Array | None:
        """The size of the decay region [GeV^-1] for the photon rates, or None for prompt
        decays (the same as ``decay_length``)."""
        return self.decay_length

    def with_(self, **changes: Any) -> Experiment:
        """A copy with some constructor arguments replaced (validated again).

        ``exp.with_(recoil_threshold=10 * u.eV, background=0.0)``; ``decay_length=None``
        switches to the prompt limit. Works inside ``jit``/``vmap``/``grad`` (traced values are
        not validated). Unknown names raise ValueError.
        """
        kw: dict[str, Any] = {
            "target": self.target,
            "target_mass": self.target_mass,
            "exposure": self.exposure,
            "flux": self.flux,
            "recoil_threshold": self.recoil_threshold,
            "decay_length": self.decay_region(),
            "name": self.name,
        }
        kw |= {f: getattr(self, f) for f in _FLOAT_DEFAULTS}
        unknown = sorted(set(changes) - set(kw))
        if unknown:
            raise ValueError(
                f"Experiment.with_: unknown field(s) {unknown}; accepted: {sorted(kw)}"
            )
        kw |= changes
        return Experiment(**kw)


# ============================================================================ presets
# Chooz B reactor site of NUCLEUS (NUCLEUS collaboration,
# Eur. Phys. J. C 79 (2019) 1018, arXiv:1905.10258): two cores of 4.25 GW_th each, the
# "Very Near Site" at 72 m and 102 m from them.
#: Thermal power of each Chooz B core [GeV^2] (1905.10258).
CHOOZ_THERMAL_POWER = 4.25 * u.GW
#: Distances of the NUCLEUS Very Near Site to the two Chooz B cores [GeV^-1] (1905.10258).
CHOOZ_DISTANCES = (72.0 * u.m, 102.0 * u.m)

#: CaWO4 mass of NUCLEUS phase 1 [GeV]: 3×3 array of 5 mm cubes, 6.84 g (commonly quoted
#: split of "NUCLEUS-10g", 1905.10258 [assumed]).
NUCLEUS_CAWO4_MASS = 6.84 * u.g
#: Al2O3 mass of NUCLEUS phase 1 [GeV]: 3×3 array of 5 mm cubes, 4.41 g (idem).
NUCLEUS_AL2O3_MASS = 4.41 * u.g
#: Target mass of the NUCLEUS upgrade [GeV]: ~1 kg (1905.10258 [literature]; same CaWO4:Al2O3
#: mass ratio as phase 1 [assumed]).
NUCLEUS_UPGRADE_MASS = 1.0 * u.kg
#: NUCLEUS design recoil threshold [GeV]: 20 eV nuclear recoil (1905.10258).
NUCLEUS_THRESHOLD = 20.0 * u.eV
#: Optimistic NUCLEUS threshold variant [GeV]: 10 eV (1905.10258).
NUCLEUS_THRESHOLD_OPTIMISTIC = 10.0 * u.eV
#: Default NUCLEUS background: flat 100 counts/(kg·day·keV), the level assumed in the original
#: sensitivity study (1905.10258) [assumed].
NUCLEUS_BACKGROUND = 100.0 / (u.kg * u.day * u.keV)
#: Predicted NUCLEUS background for CaWO4 in 10–100 eV: ≈ 250 counts/(kg·day·keV)
#: (arXiv:2509.03559) [literature]; pass ``background=NUCLEUS_BACKGROUND_PREDICTED_CAWO4``.
NUCLEUS_BACKGROUND_PREDICTED_CAWO4 = 250.0 / (u.kg * u.day * u.keV)
#: Upper edge of the default NUCLEUS recoil analysis window [GeV]: 1 keV [assumed]. Contains the
#: tungsten recoils of reactor neutrinos (E_R,max ≈ 1.2 keV at 10 MeV, ≈ 0.2 keV at 4 MeV) and
#: bounds the flat background (quoted for 10–100 eV, extrapolated flat [assumed]).
NUCLEUS_RECOIL_MAX = 1.0 * u.keV
#: Size of the instrumented region in which N must decay (radiative mode) [GeV^-1]: 10 cm
#: (Si inner / Ge outer vetoes around the targets; the acceptance of arXiv:2110.02233 is
#: unverified [assumed]).
NUCLEUS_DECAY_LENGTH = 10.0 * u.cm
#: Default reactor-on live time [GeV^-1]: 1 year [assumed].
_ONE_YEAR = 1.0 * u.year


@renamed_arguments(n_nodes="n_energy")
def chooz_flux(*, spectrum: str = "huber-mueller", **kwargs: Any) -> ReactorFlux:
    """ν̄_e flux at the NUCLEUS Very Near Site: two 4.25 GW_th Chooz B cores at 72 m and 102 m.

    Parameters
    ----------
    spectrum : {"huber-mueller", "vogel-engel"}
        Spectral model of :class:`~jaxdipole.flux.ReactorFlux` (default Huber–Mueller with its
        low-energy extension below 2 MeV).
    **kwargs
        Passed to ReactorFlux (``fission_fractions``, ``n_energy``, ...; ``thermal_power`` and
        ``distance`` override the Chooz values).

    Returns
    -------
    ReactorFlux
        One component with ``thermal_power`` and ``distance`` arrays of shape (2,).
        Flux above 1.8 MeV (HM, default fission fractions): 3.712e11 + 1.849e11 cm^-2 s^-1
        (independent numerical integration of the Huber–Mueller spectra).
    """
    kwargs.setdefault("thermal_power", jnp.full(2, CHOOZ_THERMAL_POWER))
    kwargs.setdefault("distance", jnp.asarray(CHOOZ_DISTANCES))
    return ReactorFlux(spectrum=spectrum, **kwargs)


def nucleus_phase1_target(
    cawo4_mass: float = NUCLEUS_CAWO4_MASS, al2o3_mass: float = NUCLEUS_AL2O3_MASS
) -> Material:
    """One Material mixing CaWO4 and Al2O3 by mass (NUCLEUS phase 1: 6.84 g + 4.41 g).

    The isotopes of ``material("CaWO4")`` and ``material("Al2O3")`` are concatenated (oxygen
    appears twice, once per compound) with their mass fractions scaled by
    ``cawo4_mass / total`` and ``al2o3_mass / total``. Rates per detector are additive, so this
    single target gives exactly the sum of the two detectors when both share all other settings.
    """
    m1, m2 = float(cawo4_mass), float(al2o3_mass)
    if not (m1 >= 0 and m2 >= 0 and m1 + m2 > 0):
        raise ValueError(
            f"nucleus_phase1_target: masses must be >= 0 with a positive sum, got {m1}, {m2}"
        )
    cawo4, al2o3 = material("CaWO4"), material("Al2O3")
    fractions = jnp.concatenate(
        [cawo4.mass_fractions * (m1 / (m1 + m2)), al2o3.mass_fractions * (m2 / (m1 + m2))]
    )
    return Material(
        "CaWO4+Al2O3", cawo4.nuclei + al2o3.nuclei, fractions / jnp.sum(fractions), None
    )


def _nucleus_defaults(target, target_mass, name) -> dict[str, Any]:
    return {
        "target": target,
        "target_mass": target_mass,
        "exposure": _ONE_YEAR,
        "flux": None,
        "recoil_threshold": NUCLEUS_THRESHOLD,
        "decay_length": NUCLEUS_DECAY_LENGTH,
        "recoil_max": NUCLEUS_RECOIL_MAX,
        "background": NUCLEUS_BACKGROUND,
        "photon_energy_min": PHOTON_ENERGY_MIN,
        "name": name,
    }


def _build(defaults: dict[str, Any], overrides: dict[str, Any]) -> Experiment:
    kw = defaults | overrides
    if kw.get("flux") is None:
        kw["flux"] = chooz_flux()
    return Experiment(**kw)


def nucleus_phase1(**overrides: Any) -> Experiment:
    """NUCLEUS phase 1 ("NUCLEUS-10g") at Chooz, as one Experiment.

    Defaults (sources in the module constants):

    * target: :func:`nucleus_phase1_target` -- 6.84 g CaWO4 + 4.41 g Al2O3 as one Material
      mixed by mass (an Experiment has one target; rates are additive). Use
      :func:`nucleus_phase1_detectors` for the two detectors separately.
    * target_mass 11.25 g; exposure 1 year reactor-on [assumed];
    * flux :func:`chooz_flux` (Huber–Mueller, 2 × 4.25 GW_th at 72 m and 102 m);
    * recoil_threshold 20 eV (design; 10 eV optimistic), recoil_max 1 keV [assumed window];
    * background 100 counts/(kg·day·keV) flat [assumed; 250 predicted for CaWO4, 2509.03559];
    * decay_length 10 cm, photon_energy_min 100 keV, no angular cut, photon efficiency 1
      [unverified/assumed].

    Any :class:`Experiment` argument can be overridden by keyword, e.g.
    ``nucleus_phase1(recoil_threshold=10 * u.eV, exposure=5 * u.year)``.
    """
    d = _nucleus_defaults(
        nucleus_phase1_target(), NUCLEUS_CAWO4_MASS + NUCLEUS_AL2O3_MASS, "NUCLEUS phase 1"
    )
    return _build(d, overrides)


def nucleus_phase1_detectors(**overrides: Any) -> tuple[Experiment, Experiment]:
    """The two NUCLEUS phase-1 detectors separately: (6.84 g CaWO4, 4.41 g Al2O3).

    Same defaults as :func:`nucleus_phase1`; ``overrides`` apply to both (``target`` and
    ``target_mass`` are fixed per detector and cannot be overridden here).
    """
    bad = sorted({"target", "target_mass"} & set(overrides))
    if bad:
        raise ValueError(f"nucleus_phase1_detectors: {bad} cannot be overridden")
    flux = overrides.pop("flux", None) or chooz_flux()
    overrides["flux"] = flux
    a = _nucleus_defaults(material("CaWO4"), NUCLEUS_CAWO4_MASS, "NUCLEUS phase 1 CaWO4")
    b = _nucleus_defaults(material("Al2O3"), NUCLEUS_AL2O3_MASS, "NUCLEUS phase 1 Al2O3")
    return _build(a, overrides), _build(b, overrides)


def nucleus_upgrade(**overrides: Any) -> Experiment:
    """NUCLEUS upgrade: ~1 kg of CaWO4 + Al2O3 (phase-1 mass ratio) at Chooz.

    As :func:`nucleus_phase1` but ``target_mass`` 1 kg [literature: "upgrade to ~1 kg";
    composition assumed], exposure 1 year [assumed]. Keyword overrides as for phase 1.
    """
    d = _nucleus_defaults(nucleus_phase1_target(), NUCLEUS_UPGRADE_MASS, "NUCLEUS upgrade")
    return _build(d, overrides)


def ge_reactor(
    target: Material | Nucleus | str = "Ge74",
    thermal_power: float = 4.0 * u.GW,
    distance: float = 100.0 * u.m,
    **overrides: Any,
) -> Experiment:
    """Generic CONUS-like germanium detector at a reactor (the CEvNS/Primakoff benchmark set-up).

    Defaults: 1 kg of Ge74 (``target="Ge"`` for natural germanium, expanded into isotopes),
    4 GW_th at 100 m with the Vogel–Engel benchmark flux
    (:meth:`ReactorFlux.vogel_engel_benchmark`: 6.14102 ν̄/fission on 0–10 MeV,
    3.0921e16 fissions/s/MW), recoil_threshold 10 eV (nuclear recoil), exposure 1 year,
    prompt decays (``decay_length=None``), no background, no recoil_max. Reference values:
    SM CEvNS 10.61 /(kg·day) (sin²θ_W = 0.23857, Helm form factor, no radiative corrections);
    Primakoff 2.452e-5 /(kg·day) at m_N = 5 MeV, μ = 1e-9 GeV^-1 (both from independent
    numerical integrations of the same formulas, agreeing with independent reference tables).
    The realistic CONUS set-up (4 × 1 kg HPGe at 17.1 m from the 3.9 GW_th Brokdorf core,
    ionisation thresholds ≈ 210 eV_ee) needs a quenching model and is not the default.
    ``flux=`` overrides the flux (then thermal_power/distance are unused).
    """
    d = {
        "target": target,
        "target_mass": 1.0 * u.kg,
        "exposure": _ONE_YEAR,
        "flux": None,
        "recoil_threshold": 10.0 * u.eV,
        "decay_length": None,
        "name": "Ge reactor",
    }
    kw = d | overrides
    if kw["flux"] is None:
        kw["flux"] = ReactorFlux.vogel_engel_benchmark(thermal_power, distance)
    return Experiment(**kw)


#: Namespace of the preset constructors (exposed by the package as ``jd.experiments``).
presets = types.SimpleNamespace(
    nucleus_phase1=nucleus_phase1,
    nucleus_phase1_detectors=nucleus_phase1_detectors,
    nucleus_phase1_target=nucleus_phase1_target,
    nucleus_upgrade=nucleus_upgrade,
    ge_reactor=ge_reactor,
    chooz_flux=chooz_flux,
)
