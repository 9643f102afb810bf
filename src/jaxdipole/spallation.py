"""Stopped-pion (π-DAR) neutrino source: the prompt ν_μ line, the delayed ν_e and ν̄_μ Michel
spectra, and their arrival times (e.g. the SNS for COHERENT, the ESS, Lujan for CCM).

π⁺ → μ⁺ ν_μ at rest gives a line at E = (m_π² − m_μ²)/(2 m_π) = 29.79 MeV, within τ_π = 26 ns of
the proton hit ("prompt"); μ⁺ → e⁺ ν_e ν̄_μ at rest (τ_μ = 2.197 µs, "delayed") gives, with
x = E/m_μ ≤ 1/2 and each spectrum normalised to 1 (e.g. Bouchiat & Michel, Phys. Rev. 106
(1957) 170; Louis, Los Alamos Sci. 25 (1997) 16)::

    ν_e:  dN/dE = (192/m_μ) x² (1/2 − x)        ⟨E⟩ = 0.30 m_μ
    ν̄_μ: dN/dE = (64/m_μ)  x² (3/4 − x)        ⟨E⟩ = 0.35 m_μ

Each flavour carries Φ = r · (protons per time) / (4π L²), with r the neutrinos per flavour per
proton on target. ν_μ and ν̄_μ upscatter through μ_μ, ν_e through μ_e (each component carries
its flavour). π⁻ and μ⁻ are captured in the target before decaying and are neglected.

Arrival times: the proton pulse (Gaussian, mean t_p, width σ_p) convolved with the pion decay
(prompt) and with the pion then the muon decay (delayed); :meth:`SpallationFlux.time_cdf` and
:meth:`SpallationFlux.time_fractions` give them in closed form (exponentially modified
Gaussians), differentiable in the pulse parameters.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax.numpy as jnp
from jax import Array
from jax.scipy.special import log_ndtr, ndtr
from jax.typing import ArrayLike

from . import constants
from . import units as u
from ._checks import check_finite, check_positive
from ._deprecate import renamed_arguments
from .flux import Flux, FluxSum, MonochromaticFlux, _as_float, _check_flavour, _deprecated_n_nodes

__all__ = ["MichelFlux", "SpallationFlux", "PION_LINE_ENERGY", "MICHEL_END_POINT"]

#: Energy of the ν_μ from π⁺ decay at rest [GeV]: (m_π² − m_μ²)/(2 m_π) = 29.79 MeV.
PION_LINE_ENERGY: float = (constants.m_pi**2 - constants.m_mu**2) / (2.0 * constants.m_pi)
#: End point of the Michel spectra [GeV]: m_μ/2 = 52.83 MeV.
MICHEL_END_POINT: float = constants.m_mu / 2.0
#: Pion and muon lifetimes [GeV^-1].
TAU_PI: float = constants.tau_pi_s * u.s
TAU_MU: float = constants.tau_mu_s * u.s

_SHAPES = ("nu_e", "nubar_mu")


class MichelFlux(Flux):
    """ν_e or ν̄_μ from μ⁺ decay at rest: ``flux`` × the normalised Michel spectrum.

    Parameters
    ----------
    flux : float
        Integrated flux [GeV^3 = per area per time], ≥ 0.
    shape : {"nu_e", "nubar_mu"} (static)
        Which spectrum; sets the flavour (0 / 1) and ν/ν̄ (False / True).
    n_energy : int (static)
        Gauss–Legendre nodes in the neutrino energy of the fold over [0, m_μ/2] (default 32;
        formerly ``n_nodes``).
    """

    flux: Array
    shape: str = eqx.field(static=True)
    n_energy: int = eqx.field(static=True)
    flavour: int = eqx.field(static=True)
    antineutrino: bool = eqx.field(static=True)

    @renamed_arguments(n_nodes="n_energy")
    def __init__(self, flux: ArrayLike, shape: str = "nu_e", *, n_energy: int = 32):
        if shape not in _SHAPES:
            raise ValueError(f"shape must be one of {list(_SHAPES)}, got {shape!r}")
        self.flux = _as_float(flux)
        self.shape, self.n_energy = shape, int(n_energy)
        self.flavour, self.antineutrino = (0, False) if shape == "nu_e" else (1, True)

    @property
    def n_nodes(self) -> int:
        """Deprecated spelling of ``n_energy`` (read-only; warns)."""
        return _deprecated_n_nodes(self)

    def __check_init__(self):
        _check_flavour(self.flavour)
        check_finite("flux", self.flux)
        if self.n_energy < 1:
            raise ValueError(f"n_energy must be >= 1, got {self.n_energy}")

    def spectrum(self, E: ArrayLike) -> Array:
        """Normalised spectrum dN/dE [GeV^-1] (0 outside [0, m_μ/2])."""
        E = jnp.asarray(E)
        m = constants.m_mu
        x = E / m
        if self.shape == "nu_e":
            f = (192.0 / m) * x * x * (0.5 - x)
        else:
            f = (64.0 / m) * x * x * (0.75 - x)
        return jnp.where((E >= 0) & (E <= MICHEL_END_POINT), f, 0.0)

    def dphi_dE(self, E: ArrayLike) -> Array:
        """dΦ/dE [GeV^2]."""
        return self.flux * self.spectrum(E)

    def support(self) -> tuple[Array, Array]:
        """(0, m_μ/2) [GeV]."""
        z = jnp.zeros_like(self.flux)
        return z, z + MICHEL_END_POINT


def _exp_gauss_term(t, mean, width, tau):
    """exp(−(t − mean)/τ + σ²/(2τ²)) Φ((t − mean)/σ − σ/τ), in log form (no overflow)."""
    z = (t - mean) / width
    return jnp.exp(-(t - mean) / tau + 0.5 * (width / tau) ** 2 + log_ndtr(z - width / tau))


class SpallationFlux(Flux):
    """A stopped-pion source: prompt ν_μ line, delayed ν_e and ν̄_μ (see the module docstring).

    Parameters
    ----------
    proton_rate : float
        Protons on target per unit time [GeV] (e.g. ``pot / exposure``; 1 s = ``units.s``).
    distance : float
        Source–detector distance [GeV^-1].
    nu_per_flavour : float
        Neutrinos of each flavour per proton, r (e.g. 0.08 for the COHERENT CsI 2017 release,
        0.09 ± 0.009 for the CENNS-10 release).
    pulse_mean, pulse_width : float
        Mean and Gaussian width of the proton pulse [GeV^-1] (1 ns = ``units.ns``); default
        440 ns and 150 ns (the CENNS-10 release's description of the SNS pulse).
    n_energy : int (static)
        Gauss–Legendre nodes in the neutrino energy of the Michel folds (default 32; formerly
        ``n_nodes``).

    ``components()`` = (ν_μ line, ν_e Michel, ν̄_μ Michel): each rate takes its flavour's moment.
    The line is folded exactly (one node at its energy).
    """

    proton_rate: Array
    distance: Array
    nu_per_flavour: Array
    pulse_mean: Array
    pulse_width: Array
    n_energy: int = eqx.field(static=True)

    @renamed_arguments(n_nodes="n_energy")
    def __init__(
        self,
        proton_rate: ArrayLike,
        distance: ArrayLike,
        nu_per_flavour: ArrayLike = 0.08,
        pulse_mean: ArrayLike = 440.0 * u.ns,
        pulse_width: ArrayLike = 150.0 * u.ns,
        *,
        n_energy: int = 32,
    ):
        self.proton_rate, self.distance = _as_float(proton_rate), _as_float(distance)
        self.nu_per_flavour = _as_float(nu_per_flavour)
        self.pulse_mean, self.pulse_width = _as_float(pulse_mean), _as_float(pulse_width)
        self.n_energy = int(n_energy)

    @property
    def n_nodes(self) -> int:
        """Deprecated spelling of ``n_energy`` (read-only; warns)."""
        return _deprecated_n_nodes(self)

    def __check_init__(self):
        check_positive("proton_rate", self.proton_rate, "[GeV = per time]")
        check_positive("distance", self.distance, "[GeV^-1]")
        check_positive("nu_per_flavour", self.nu_per_flavour)
        check_finite("pulse_mean", self.pulse_mean)
        check_positive("pulse_width", self.pulse_width, "[GeV^-1]")

    # ------------------------------------------------------------------- the Flux interface
    def flux_per_flavour(self) -> Array:
        """Φ per flavour [GeV^3 = per area per time]: r · proton_rate / (4π L²)."""
        return self.nu_per_flavour * self.proton_rate / (4.0 * jnp.pi * self.distance**2)

    def components(self) -> tuple[Flux, ...]:
        phi = self.flux_per_flavour()
        return (
            MonochromaticFlux(PION_LINE_ENERGY, phi, flavour=1, antineutrino=False),
            MichelFlux(phi, "nu_e", n_energy=self.n_energy),
            MichelFlux(phi, "nubar_mu", n_energy=self.n_energy),
        )

    def _sum(self) -> FluxSum:
        return FluxSum(self.components())

    @property
    def flavour(self) -> int:
        """Mixed (ValueError): iterate ``components()``."""
        return self._sum().flavour

    @property
    def antineutrino(self) -> bool:
        """Mixed (ValueError): iterate ``components()``."""
        return self._sum().antineutrino

    def dphi_dE(self, E: ArrayLike) -> Array:
        """Σ of the Michel densities [GeV^2] (the line has no finite density)."""
        return self._sum().dphi_dE(E)

    def support(self) -> tuple[Array, Array]:
        return self._sum().support()

    def lines(self) -> tuple[Array, Array]:
        return self._sum().lines()

    def panel_edges(self) -> Array:
        return self._sum().panel_edges()

    def nodes(self, E_low=0.0, breaks=None, parts="all", n_per_panel=None):
        return self._sum().nodes(E_low, breaks, parts, n_per_panel)

    def fold(self, fn: Any, E_low: ArrayLike = 0.0, **kw) -> Any:
        """Σ over the components of their folds (the line exactly; see :meth:`Flux.fold`)."""
        return self._sum().fold(fn, E_low, **kw)

    # ------------------------------------------------------------------------------ timing
    def time_cdf(self, t: ArrayLike) -> Array:
        """Fraction of each component's neutrinos arriving before time ``t`` [GeV^-1] after
        the nominal pulse start, shape (3,) + t.shape in the order of ``components()``.

        Prompt: Gaussian pulse ⊗ Exp(τ_π); delayed: Gaussian ⊗ Exp(τ_π) ⊗ Exp(τ_μ), i.e.
        Φ(z) − [τ_μ G(τ_μ) − τ_π G(τ_π)]/(τ_μ − τ_π) with G the exponentially modified
        Gaussian term (time of flight omitted: a common shift of ~0.1 ns per 20 m).
        """
        t = jnp.asarray(t, dtype=float)
        mean, width = self.pulse_mean, self.pulse_width
        gauss = ndtr((t - mean) / width)
        g_pi = _exp_gauss_term(t, mean, width, TAU_PI)
        g_mu = _exp_gauss_term(t, mean, width, TAU_MU)
        prompt = gauss - g_pi
        delayed = gauss - (TAU_MU * g_mu - TAU_PI * g_pi) / (TAU_MU - TAU_PI)
        return jnp.stack([prompt, delayed, delayed])

    def time_fractions(self, t_edges: ArrayLike) -> Array:
        """Fraction of each component's neutrinos in each time bin [GeV^-1 edges], shape
        (3, len(t_edges) − 1), components in the order of ``components()``."""
        F = self.time_cdf(t_edges)
        return F[:, 1:] - F[:, :-1]
