"""Radiative decays of N: widths, branching ratios, decay lengths and photon distributions.

Channels, Dirac N with the chiral operators of :mod:`jaxdipole.model`::

    Γ(N -> ν_β γ) = μ_β² m³ / (16π)                       (Majorana: ×2, ν_β γ + ν̄_β γ)
    Γ(N -> N' γ)  = μ'² m³ (1 − m'²/m²)³ / (16π)          (×2 for Majorana N or a "vector" operator)

Rest-frame photon law for polarisation P: dΓ/dΩ* = (Γ/4π)(1 + a P·n̂*), with the analysing
power a = −1 for a Dirac N (chiral operators), +1 for a Dirac N̄, 0 for a Majorana N or the
"vector" N -> N' γ operator. Channel index convention: 0, 1, 2 = ν_e, ν_μ, ν_τ; 3 = N'.
"""

from __future__ import annotations

import warnings

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from ._checks import check_choice, check_nonnegative
from ._jit import compiled
from ._math import safe_div, safe_sqrt
from .model import DipoleModel

#: Channel labels, in the order of :func:`partial_widths`.
CHANNELS = ("nu_e", "nu_mu", "nu_tau", "N_prime")


def _majorana_factor(model: DipoleModel) -> float:
    return 2.0 if model.is_majorana else 1.0


def _sterile_factor(model: DipoleModel) -> float:
    return 2.0 if (model.is_majorana or model.sterile_operator == "vector") else 1.0


@compiled()
def partial_widths(model: DipoleModel) -> Array:
    """Partial widths [GeV] of N -> (ν_e γ, ν_μ γ, ν_τ γ, N' γ), shape (..., 4).

    For a Majorana N the active channels include both ν_β γ and ν̄_β γ. The leading axes are
    the broadcast batch shape of the model's parameters (m_N, m_N_prime, mu_prime: (...),
    mu: (..., 3)); () for an ordinary model.
    """
    m = jnp.asarray(model.m_N)
    active = _majorana_factor(model) * model.mu**2 * (m**3)[..., None] / (16.0 * jnp.pi)
    x = model.m_N_prime / m
    sterile = (
        _sterile_factor(model) * model.mu_prime**2 * m**3 * (1.0 - x * x) ** 3 / (16.0 * jnp.pi)
    )[..., None]
    batch = jnp.broadcast_shapes(active.shape[:-1], sterile.shape[:-1])
    return jnp.concatenate(
        [jnp.broadcast_to(active, (*batch, 3)), jnp.broadcast_to(sterile, (*batch, 1))], axis=-1
    )


@compiled()
def decay_width(model: DipoleModel) -> Array:
    """Total width Γ_tot of N [GeV] (sum over all radiative channels), shape (...)."""
    return jnp.sum(partial_widths(model), axis=-1)


@compiled()
def branching_ratios(model: DipoleModel) -> Array:
    """Branching ratios of N -> (ν_e γ, ν_μ γ, ν_τ γ, N' γ), shape (..., 4); all 0 if Γ_tot = 0."""
    g = partial_widths(model)
    return safe_div(g, jnp.sum(g, axis=-1, keepdims=True))


@compiled()
def lifetime(model: DipoleModel) -> Array:
    """Rest-frame lifetime τ = 1/Γ_tot [GeV^-1] (divide by ``units.s`` for s); inf if Γ = 0."""
    g = decay_width(model)
    return jnp.where(g > 0, safe_div(1.0, g), jnp.inf)


def momentum_from_energy(model: DipoleModel, E_N: ArrayLike) -> Array:
    """|k_N| = sqrt(E_N² − m_N²) [GeV] (0 for E_N <= m_N)."""
    E_N = jnp.asarray(E_N)
    m = model.m_N
    return safe_sqrt((E_N - m) * (E_N + m))


def _check_energy(E_N, **_):
    check_nonnegative("E_N", E_N, "GeV")


def _check_probability(E_N, length, start, **_):
    check_nonnegative("E_N", E_N, "GeV")
    check_nonnegative("length", length, "GeV^-1")
    check_nonnegative("start", start, "GeV^-1")


@compiled(check=_check_energy)
def mean_decay_length(model: DipoleModel, E_N: ArrayLike) -> Array:
    """Mean lab decay length λ = (|k_N|/m_N) / Γ_tot [GeV^-1] of N with energy E_N [GeV].

    Divide by ``units.m`` for metres; inf if Γ_tot = 0. (Not to be confused with
    ``Experiment.decay_length``, the size of a detector's decay region.)
    """
    k = momentum_from_energy(model, E_N)
    g = decay_width(model)
    return jnp.where(g > 0, safe_div(k, model.m_N * g), jnp.inf)


def decay_length(model: DipoleModel, E_N: ArrayLike) -> Array:
    """Deprecated alias of :func:`mean_decay_length` (the mean lab decay length [GeV^-1])."""
    warnings.warn(
        "jaxdipole.decay_length is deprecated, use jaxdipole.mean_decay_length",
        DeprecationWarning,
        stacklevel=2,
    )
    return mean_decay_length(model, E_N)


@compiled(check=_check_probability)
def decay_probability(
    model: DipoleModel, E_N: ArrayLike, length: ArrayLike, start: ArrayLike = 0.0
) -> Array:
    """Probability that N of energy E_N [GeV] decays between distances ``start`` and
    ``start + length`` [GeV^-1] from its production point: e^{−L1/λ}(1 − e^{−L/λ}).

    Computed with expm1, accurate for L/λ down to 1e-300 (no underflow to 0); 1 for N at rest
    with Γ > 0 and length > 0; 0 if Γ_tot = 0.
    """
    k = momentum_from_energy(model, E_N)
    g_m = decay_width(model) * model.m_N  # 1/λ = m Γ / k
    length, start = jnp.asarray(length), jnp.asarray(start)
    moving = k > 0
    k_s = jnp.where(moving, k, 1.0)
    x = jnp.where(moving, g_m * length / k_s, jnp.where((g_m > 0) & (length > 0), jnp.inf, 0.0))
    x1 = jnp.where(moving, g_m * start / k_s, 0.0)
    p = -jnp.expm1(-jnp.where(jnp.isfinite(x), x, 0.0))
    p = jnp.where(jnp.isfinite(x), p, 1.0)
    return jnp.exp(-x1) * p


def analysing_power(model: DipoleModel, channel: int = 0, antiparticle: bool = False) -> float:
    """Analysing power a of the rest-frame photon law (1 + a P·n̂*) for a decay channel.

    Dirac N: a = −1 (N -> ν_L γ, and N -> N' γ with the chiral operator), Dirac N̄: +1;
    Majorana N: 0; N -> N' γ with the "vector" operator: 0. ``channel`` 0–2 active, 3 = N'.
    """
    check_choice("channel", channel, (0, 1, 2, 3))
    if model.is_majorana or (channel == 3 and model.sterile_operator == "vector"):
        return 0.0
    return 1.0 if antiparticle else -1.0


def rest_frame_photon_energy(model: DipoleModel, channel: int = 0) -> Array:
    """Photon energy in the N rest frame [GeV]: m/2 (N -> ν γ) or (m² − m'²)/(2m) (N -> N' γ)."""
    check_choice("channel", channel, (0, 1, 2, 3))
    m = model.m_N
    if channel == 3:
        return (m * m - model.m_N_prime**2) / (2.0 * m)
    return m / 2.0


def rest_frame_angular_distribution(cos_theta_star: ArrayLike, analysing_pl: ArrayLike) -> Array:
    """(1/Γ) dΓ/dcos θ* = (1 + c_L cos θ*)/2 on [−1, 1], with c_L = a P_L [dimensionless].

    θ* is the photon angle to the N polarisation axis (its flight direction for P_L) in the N
    rest frame. 0 outside [−1, 1]. Integrates to 1 for |c_L| <= 1.
    """
    c = jnp.asarray(cos_theta_star)
    inside = (c >= -1.0) & (c <= 1.0)
    return jnp.where(inside, 0.5 * (1.0 + analysing_pl * c), 0.0)


def photon_energy_range(
    model: DipoleModel, E_N: ArrayLike, channel: int = 0
) -> tuple[Array, Array]:
    """Lab photon-energy range [GeV] from N of energy E_N: ω*(E_N ∓ |k_N|)/m_N."""
    w = rest_frame_photon_energy(model, channel)
    k = momentum_from_energy(model, E_N)
    E_N = jnp.asarray(E_N)
    return w * (E_N - k) / model.m_N, w * (E_N + k) / model.m_N


def photon_energy_distribution(
    model: DipoleModel,
    E_gamma: ArrayLike,
    E_N: ArrayLike,
    analysing_pl: ArrayLike,
    channel: int = 0,
) -> Array:
    """Lab photon-energy density (1/Γ) dΓ/dE_γ [GeV^-1] from N with energy E_N [GeV].

    A linear ramp on [ω*(E_N − k)/m, ω*(E_N + k)/m]: (1/(2γβω*)) (1 + c_L cos θ*(E_γ)), with
    cos θ* = (E_γ m/(ω* E_N) − 1)/β and c_L = a P_L. A flat box for c_L = 0 (Majorana); for
    N -> ν γ it is (1/k)[1 + c_L (2E_γ − E_N)/k]. Zero outside the range and for N at rest.
    """
    E_g, E_N = jnp.asarray(E_gamma), jnp.asarray(E_N)
    m = model.m_N
    w = rest_frame_photon_energy(model, channel)
    k = momentum_from_energy(model, E_N)
    lo, hi = w * (E_N - k) / m, w * (E_N + k) / m
    ok = (k > 0) & (E_g >= lo) & (E_g <= hi)
    half_width = jnp.where(ok, w * k / m, 1.0)  # γβω*
    cos_star = (E_g - w * E_N / m) / half_width
    return jnp.where(ok, (1.0 + analysing_pl * cos_star) / (2.0 * half_width), 0.0)


def ctau(model: DipoleModel) -> Array:
    """Proper decay length c τ [GeV^-1] (divide by ``units.cm`` for cm)."""
    return lifetime(model)


__all__ = [
    "CHANNELS",
    "partial_widths",
    "decay_width",
    "branching_ratios",
    "lifetime",
    "ctau",
    "mean_decay_length",
    "decay_length",
    "decay_probability",
    "analysing_power",
    "rest_frame_photon_energy",
    "rest_frame_angular_distribution",
    "photon_energy_range",
    "photon_energy_distribution",
    "momentum_from_energy",
]
