"""Solar ⁸B and hep neutrinos at Earth: spectra, normalisations and MSW oscillations.

The two solar sources that reach above the CEvNS threshold of heavy targets (E_ν ≳ 8 MeV for
xenon) are ⁸B(β⁺)⁸Be* (end point ≈ 17 MeV) and hep, ³He + p → ⁴He + e⁺ + ν_e (18.784 MeV).
Both are emitted as ν_e; at Earth they arrive as a mixture of ν_e, ν_μ and ν_τ.
:class:`SolarFlux` is a multi-flavour source: its ``components()`` are three
:class:`SolarComponent` fluxes (flavours 0, 1, 2), each carrying
dΦ_α/dE = Φ_B8 λ_B8(E) P_eα^B8(E) + Φ_hep λ_hep(E) P_eα^hep(E).

Spectra
-------
* :func:`b8_spectrum`: the ⁸B ν_e spectrum computed from the decay ⁸B(2⁺) → ⁸Be*(2⁺) e⁺ ν_e
  (allowed Gamow–Teller), an allowed β⁺ spectrum per ⁸Be excitation folded over the ⁸Be final-
  state distribution. That distribution is a two-level, one-channel (α+α, l = 2) R-matrix
  (A. M. Lane and R. G. Thomas, Rev. Mod. Phys. 30 (1958) 257; the β-feeding form used for
  ⁸B/⁸Li by E. K. Warburton, Phys. Rev. C 33 (1986) 303), see :func:`b8_spectrum`.
* :func:`hep_spectrum`: the allowed β⁺ shape of hep (Fermi function for Z = 2).

Total fluxes
------------
``B8_NORMALISATIONS`` and ``HEP_NORMALISATIONS`` (cm⁻² s⁻¹, relative 1σ):

* SNO combined three-phase NC analysis (SNO Collaboration, Phys. Rev. C 88 (2013) 025501):
  Φ_B8 = 5.25 ± 0.16 (stat) +0.11/−0.13 (syst) × 10⁶ cm⁻² s⁻¹; relative error taken as
  0.16/5.25 ⊕ 0.12/5.25 = 3.8 % (symmetrised systematic added in quadrature).
* B16 standard solar models (N. Vinyoles et al., ApJ 835 (2017) 202): GS98 composition
  Φ_B8 = 5.46 × 10⁶ (±12 %), Φ_hep = 7.98 × 10³ (±30 %); AGSS09met Φ_B8 = 4.50 × 10⁶ (±12 %),
  Φ_hep = 8.25 × 10³ (±30 %).

Oscillations
------------
:func:`survival_probability`: three-flavour adiabatic MSW conversion, averaged over the day
(no Earth regeneration) and over the production region of each source. See its docstring for
the formula, the solar model inputs and the neglected terms.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, cast

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from . import constants
from . import units as u
from ._checks import check_choice, check_interval, check_nonnegative, concrete
from ._deprecate import renamed_arguments
from ._quadrature import gauss_legendre_unit
from .flux import Flux, FluxSum, _as_float, _check_flavour, _check_n_energy, _deprecated_n_nodes

__all__ = [
    "B8_NORMALISATIONS",
    "HEP_NORMALISATIONS",
    "B8_END_POINT",
    "HEP_END_POINT",
    "OscillationParameters",
    "SolarComponent",
    "SolarFlux",
    "b8_spectrum",
    "hep_spectrum",
    "survival_probability",
    "flavour_probabilities",
    "electron_density",
    "coulomb_penetrability_shift",
    "PER_CM2_S",
]

# ------------------------------------------------------------------------------ normalisations
#: SNO combined three-phase NC ⁸B flux [cm⁻² s⁻¹] and its relative 1σ error
#: (0.16 stat ⊕ 0.12 symmetrised syst, ×10⁶): SNO Collaboration, Phys. Rev. C 88 (2013) 025501.
SNO_B8_FLUX: float = 5.25e6
SNO_B8_REL_ERROR: float = math.hypot(0.16, 0.12) / 5.25
#: ⁸B flux normalisations by name: (Φ [cm⁻² s⁻¹], relative 1σ). "sno": measured (see above);
#: "b16-gs98", "b16-agss09": B16 standard solar models, Vinyoles et al., ApJ 835 (2017) 202.
B8_NORMALISATIONS: dict[str, tuple[float, float]] = {
    "sno": (SNO_B8_FLUX, SNO_B8_REL_ERROR),
    "b16-gs98": (5.46e6, 0.12),
    "b16-agss09": (4.50e6, 0.12),
}
#: hep flux normalisations by name: (Φ [cm⁻² s⁻¹], relative 1σ), B16 standard solar models
#: (Vinyoles et al. 2017).
HEP_NORMALISATIONS: dict[str, tuple[float, float]] = {
    "b16-gs98": (7.98e3, 0.30),
    "b16-agss09": (8.25e3, 0.30),
}
#: 1 cm⁻² s⁻¹ in natural units [GeV^3].
PER_CM2_S: float = 1.0 / (u.cm2 * u.s)

# ---------------------------------------------------------------------------- nuclear inputs
_ME = constants.m_e / u.MeV  # MeV
_ALPHA = constants.alpha
_HBARC_MEV_FM = constants.hbar_c_GeV_m * 1e18  # MeV fm
#: α-particle mass [MeV] (CODATA 2022).
M_ALPHA_MEV: float = 3727.3794118
#: Q_EC of ⁸B → ⁸Be(g.s.), the atomic mass difference [MeV] (AME2020: M. Wang et al., Chin.
#: Phys. C 45 (2021) 030003).
B8_Q_EC_MEV: float = 17.9798
#: ⁸Be ground state above the α+α threshold [MeV] (91.84 keV; D. R. Tilley et al., Nucl.
#: Phys. A 745 (2004) 155).
BE8_GS_MEV: float = 0.09184
#: ⁸Be first excited state 2⁺: excitation energy and total width [MeV] (Tilley et al. 2004).
BE8_2PLUS_EX_MEV: float = 3.03
BE8_2PLUS_WIDTH_MEV: float = 1.513
#: α+α channel radius of the R-matrix [fm].
CHANNEL_RADIUS_FM: float = 4.5
#: Background 2⁺ level of the R-matrix: (E_2 above the α+α threshold [MeV], reduced width γ_2²
#: [MeV], ratio g_2/g_1 of the β-feeding amplitudes of level 2 and the 3 MeV level), fitted to
#: the ⁸B spectrum of Winter et al. (see :func:`b8_spectrum`).
B8_BACKGROUND_LEVEL: tuple[float, float, float] = (18.896, 0.2916, -4.737)
#: Largest lepton energy release of ⁸B decay [MeV]: E_ν at α+α threshold and positron at rest,
#: Q_EC − 2 m_e + E(⁸Be g.s. above 2α).
_B8_U_MEV: float = B8_Q_EC_MEV - 2.0 * _ME + BE8_GS_MEV
#: Lowest α+α energy of the final-state distribution [MeV]; below it the l = 2 penetrability
#: is < 3e-11 of its value at the 3 MeV peak and the distribution is set to 0.
_X_MIN_MEV: float = 0.05
#: End point of :func:`b8_spectrum` [GeV] (Q_EC − 2 m_e + 91.84 keV − 0.05 MeV = 17.000 MeV).
B8_END_POINT: float = (_B8_U_MEV - _X_MIN_MEV) * u.MeV
#: End point of the hep ν_e spectrum [GeV] (J. N. Bahcall, Phys. Rev. C 56 (1997) 3391).
HEP_END_POINT: float = 18.784 * u.MeV

# x-panels (α+α energy, MeV) of the final-state integral: edges at the structure of the line
# shape (threshold rise, the 3 MeV peak, the tail); the x-integral of each E uses n nodes per
# panel with the square-root map toward the panel's upper end (the positron end point).
_X_EDGES = np.array([_X_MIN_MEV, 0.6, 1.5, 2.4, 3.1, 3.8, 5.0, 7.0, 10.0, _B8_U_MEV])
_X_NODES = 16
# Chebyshev panels for log P_2 and S_2 of α+α (smooth functions of x; the resonance structure
# is in the R-matrix formula, not in them).
_CHEB_EDGES = np.array([_X_MIN_MEV, 0.2, 0.6, 1.5, 4.0, 9.0, _B8_U_MEV])
_CHEB_DEGREE = 40


# ----------------------------------------------------------------- Coulomb functions (NumPy)
def _coulomb_asymptotic(ell: int, eta: np.ndarray, rho: np.ndarray, n_terms: int = 60):
    """F, G, F', G' at large ρ from the asymptotic series (Abramowitz & Stegun 14.5.1–14.5.8),
    up to a common rotation of (F, G) (the Coulomb phase σ_l is omitted: P and S below are
    invariant under it)."""
    f, g = np.ones_like(rho), np.zeros_like(rho)
    fs, gs = np.zeros_like(rho), 1.0 - eta / rho
    F_, G_, Fs, Gs = f.copy(), g.copy(), fs.copy(), gs.copy()
    for k in range(n_terms):
        ak = (2 * k + 1) * eta / ((2 * k + 2) * rho)
        bk = (ell * (ell + 1) - k * (k + 1) + eta**2) / ((2 * k + 2) * rho)
        f1, g1 = ak * f - bk * g, ak * g + bk * f
        fs1 = ak * fs - bk * gs - f1 / rho
        gs1 = ak * gs + bk * fs - g1 / rho
        f, g, fs, gs = f1, g1, fs1, gs1
        F_, G_, Fs, Gs = F_ + f, G_ + g, Fs + fs, Gs + gs
    th = rho - eta * np.log(2.0 * rho) - ell * np.pi / 2.0
    c, s = np.cos(th), np.sin(th)
    return G_ * c + F_ * s, F_ * c - G_ * s, Gs * c + Fs * s, Fs * c - Gs * s


def coulomb_penetrability_shift(
    ell: int, eta: ArrayLike, rho: ArrayLike, *, rho_far: float = 40.0, n_steps: int = 3000
) -> tuple[np.ndarray, np.ndarray]:
    """Penetrability P_l = ρ/(F_l² + G_l²) and shift S_l = ρ (F F' + G G')/(F_l² + G_l²) of the
    Coulomb functions at (η, ρ) (NumPy, elementwise; ρ < ``rho_far``).

    (F, G, F', G') start at ``rho_far`` from the asymptotic series and are integrated inward
    (4th-order Runge–Kutta in ln ρ, ``n_steps`` steps) down to ρ: the irregular G grows inward,
    so the integration is stable where P is small. Accuracy ~1e-8 relative for η ≤ 4
    (checked against mpmath in the tests).
    """
    eta, rho = np.broadcast_arrays(np.asarray(eta, float), np.asarray(rho, float))
    y = np.stack(_coulomb_asymptotic(ell, eta, np.full_like(rho, rho_far)))
    s0 = math.log(rho_far)
    h = (np.log(rho) - s0) / n_steps
    ll = ell * (ell + 1)

    def rhs(s, y):
        r = np.exp(s)
        q = r * (ll / r**2 + 2.0 * eta / r - 1.0)
        return np.stack([r * y[2], r * y[3], q * y[0], q * y[1]])

    s = np.full_like(rho, s0)
    for _ in range(n_steps):
        k1 = rhs(s, y)
        k2 = rhs(s + h / 2, y + h / 2 * k1)
        k3 = rhs(s + h / 2, y + h / 2 * k2)
        k4 = rhs(s + h, y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        s = s + h
    F, G, dF, dG = y
    a2 = F * F + G * G
    return rho / a2, rho * (F * dF + G * dG) / a2


def _alpha_alpha_eta_rho(x_mev: np.ndarray, radius_fm: float) -> tuple[np.ndarray, np.ndarray]:
    """Sommerfeld parameter η and ρ = k a of α+α at c.m. energy x [MeV]."""
    mu = M_ALPHA_MEV / 2.0
    k = np.sqrt(2.0 * mu * x_mev) / _HBARC_MEV_FM
    return 4.0 * _ALPHA * np.sqrt(mu / (2.0 * x_mev)), k * radius_fm


def _cheb_eval(coeffs, edges, x, xp):
    """Piecewise Chebyshev series at x (xp = np/jnp): ``coeffs`` (panels, degree + 1, m) for the
    panels ``edges`` (m series evaluated together); returns x.shape + (m,)."""
    k = xp.clip(xp.searchsorted(xp.asarray(edges), x, side="right") - 1, 0, len(edges) - 2)
    a, b = xp.asarray(edges[:-1])[k], xp.asarray(edges[1:])[k]
    t = ((2.0 * x - a - b) / (b - a))[..., None]
    deg = coeffs.shape[1] - 1
    if xp is np:
        b1, b2 = np.zeros(t.shape[:-1] + coeffs.shape[2:]), 0.0
        for j in range(deg, 0, -1):
            b1, b2 = 2.0 * t * b1 - b2 + coeffs[k, j], b1
        return t * b1 - b2 + coeffs[k, 0]
    cT = jnp.asarray(np.moveaxis(coeffs, 1, 0))  # (degree + 1, panels, m): one loop body

    def step(i, carry):
        b1, b2 = carry
        return 2.0 * t * b1 - b2 + cT[deg - i][k], b1

    zero = jnp.zeros(t.shape[:-1] + coeffs.shape[2:], t.dtype)
    b1, b2 = jax.lax.fori_loop(0, deg, step, (zero, zero))
    return t * b1 - b2 + cT[0][k]


def _fermi_positron(Z: float, W, p, xp):
    """Non-relativistic Fermi function of a positron, y/(e^y − 1), y = 2π Z α W/p (p > 0)."""
    y = 2.0 * np.pi * Z * _ALPHA * W / p
    return y * xp.exp(-y) / (-xp.expm1(-y))


def _allowed_kernel(E, W0, Z: float, xp):
    """E² W p F(Z, W) for a β⁺ decay with total lepton energy W0 (positron W = W0 − E) [MeV];
    0 where W ≤ m_e."""
    W = W0 - E
    p2 = W * W - _ME * _ME
    ok = p2 > 0
    p = xp.sqrt(xp.where(ok, p2, 1.0))
    Wc = xp.where(ok, W, 2.0 * _ME)
    return xp.where(ok, E * E * Wc * p * _fermi_positron(Z, Wc, p, xp), 0.0)


# --------------------------------------------------------------------------------- ⁸B model
class _B8Model(NamedTuple):
    """Constants of the ⁸B spectrum (NumPy; built once by :func:`_b8_model`)."""

    coeffs: np.ndarray  # (panels, degree + 1, 2): Chebyshev series of log P_2 and S_2
    levels: np.ndarray  # (E_1, γ_1, E_2, γ_2, g_2/g_1), MeV and MeV^(1/2)
    boundary: float
    norm: float


def _line_shape(x, m: _B8Model, xp):
    """⁸Be final-state density (β feeding without the lepton phase space) at α+α energy x [MeV]:
    two-level, one-channel R-matrix, w = P |Σ_λ g_λ γ_λ/d_λ|² / |1 − (S − B + iP) Σ_λ γ_λ²/d_λ|²
    with d_λ = E_λ − x, g_1 = 1, boundary condition B = S(E_1), written pole-free:

        w(x) = P (γ_1 d_2 + g_2 γ_2 d_1)² / [(d_1 d_2 − (S − B) R)² + (P R)²],
        R = γ_1² d_2 + γ_2² d_1.
    """
    ps = _cheb_eval(m.coeffs, _CHEB_EDGES, x, xp)
    P, S = xp.exp(ps[..., 0]), ps[..., 1]
    e1, gam1, e2, gam2, g2 = (float(v) for v in m.levels)
    d1, d2 = e1 - x, e2 - x
    amp = gam1 * d2 + g2 * gam2 * d1
    R = gam1 * gam1 * d2 + gam2 * gam2 * d1
    return P * amp * amp / ((d1 * d2 - (S - m.boundary) * R) ** 2 + (P * R) ** 2)


def _b8_unnormalised(E_mev, m: _B8Model, xp, n: int = _X_NODES):
    """∫ dx w(x) E² W p F(4, W) over the α+α energy x [MeV], W = W0(x) − E (E in MeV; not
    normalised): per panel of ``_X_EDGES`` the square-root map x = hi − (hi − a) s² toward the
    panel's upper end hi = min(b, U − E) (the positron end point), n Gauss–Legendre nodes in s."""
    t, w = gauss_legendre_unit(n)
    a, b = _X_EDGES[:-1], _X_EDGES[1:]
    X = _B8_U_MEV - E_mev[..., None]  # largest x reachable at this E (positron at rest)
    hi = xp.clip(X, a, b)  # (..., K)
    h = hi - a
    x = hi[..., None] - h[..., None] * t * t  # (..., K, n)
    wx = 2.0 * t * w * h[..., None]
    W0 = B8_Q_EC_MEV - _ME + BE8_GS_MEV - x
    k = _allowed_kernel(E_mev[..., None, None], W0, 4.0, xp)
    return xp.sum(wx * _line_shape(x, m, xp) * k, axis=(-2, -1))


@functools.cache
def _b8_model() -> _B8Model:
    """Build the ⁸B constants: Chebyshev fits of log P_2, S_2 (α+α, a = 4.5 fm), level 1 from the
    adopted E_x, Γ of ⁸Be(3.03) (one-level relations, B = S(E_r)), and the normalisation."""
    logp, shift = [], []
    for a, b in zip(_CHEB_EDGES[:-1], _CHEB_EDGES[1:], strict=True):
        t = np.cos(np.pi * (np.arange(_CHEB_DEGREE + 1) + 0.5) / (_CHEB_DEGREE + 1))
        x = 0.5 * (a + b) + 0.5 * (b - a) * t
        eta, rho = _alpha_alpha_eta_rho(x, CHANNEL_RADIUS_FM)
        P, S = coulomb_penetrability_shift(2, eta, rho, n_steps=1500)
        logp.append(np.polynomial.chebyshev.chebfit(t, np.log(P), _CHEB_DEGREE))
        shift.append(np.polynomial.chebyshev.chebfit(t, S, _CHEB_DEGREE))
    coeffs = np.stack([np.array(logp), np.array(shift)], axis=-1)
    er = BE8_2PLUS_EX_MEV + BE8_GS_MEV
    dx = 1e-4
    ps = _cheb_eval(coeffs, _CHEB_EDGES, np.array([er - dx, er, er + dx]), np)
    P, S = np.exp(ps[:, 0]), ps[:, 1]
    dS = (S[2] - S[0]) / (2 * dx)
    gam = BE8_2PLUS_WIDTH_MEV
    g1sq = gam / (2.0 * P[1] - gam * dS)  # Γ = 2 P γ² / (1 + γ² S')
    e2, g2sq, ratio = B8_BACKGROUND_LEVEL
    levels = np.array([er, math.sqrt(g1sq), e2, math.sqrt(g2sq), ratio])
    m = _B8Model(coeffs, levels, float(S[1]), 1.0)
    # normalisation: ∫ dx w(x) f(x), f(x) = ∫_0^{U−x} E² W p F dE (phase-space integral)
    t, w = gauss_legendre_unit(64)
    xa, xb = _X_EDGES[:-1, None], _X_EDGES[1:, None]
    x = (xa + (xb - xa) * t).ravel()
    wx = ((xb - xa) * w).ravel()
    emax = _B8_U_MEV - x
    E = emax[:, None] * (1.0 - t * t)  # square-root map toward the end point
    wE = 2.0 * t * w * emax[:, None]
    W0 = (B8_Q_EC_MEV - _ME + BE8_GS_MEV - x)[:, None]
    f = np.sum(wE * _allowed_kernel(E, W0, 4.0, np), axis=1)
    norm = float(np.sum(wx * _line_shape(x, m, np) * f))
    return _B8Model(coeffs, levels, float(S[1]), norm)


@jax.jit
def b8_spectrum(E: ArrayLike) -> Array:
    """Normalised ⁸B ν_e spectrum λ(E) [GeV⁻¹] at E [GeV]; 0 outside [0, ``B8_END_POINT``].

    ⁸B(2⁺) → ⁸Be*(2⁺) e⁺ ν_e is allowed (Gamow–Teller). For a final state at α+α energy x the
    neutrino spectrum is E² W p F(Z = 4, W), W = Q_EC − m_e + 91.84 keV − x − E the positron
    total energy (nuclear recoil neglected, non-relativistic Fermi function: the relativistic
    and finite-size factors for Z = 4 are below 0.3 % and nearly constant). λ(E) is this kernel
    integrated over the ⁸Be final-state distribution w(x) of a one-channel (α+α, l = 2,
    a = 4.5 fm), two-level R-matrix (see ``_line_shape``):

    * level 1, the broad first excited state: E_x = 3.03 MeV, Γ = 1.513 MeV (Tilley et al.,
      Nucl. Phys. A 745 (2004) 155), converted with the one-level relations
      Γ = 2 P γ²/(1 + γ² dS/dE) and boundary condition B = S(E_r);
    * level 2, a background 2⁺ level standing for the higher 2⁺ strength (the 16.6/16.9 MeV
      doublet and the intruder states, whose interference with level 1 produces the well-known
      excess of ⁸Be excitations above 4 MeV; Warburton, Phys. Rev. C 33 (1986) 303): its
      three parameters ``B8_BACKGROUND_LEVEL`` (E_2 = 18.90 MeV above 2α, γ_2² = 0.292 MeV,
      feeding-amplitude ratio g_2/g_1 = −4.74) were fitted to the spectrum of W. T. Winter et
      al., Phys. Rev. C 73 (2006) 025503 (Table IV, 1–15.5 MeV). With level 1 alone
      (literature parameters only) the spectrum is too hard: ⟨E⟩ = 7.09 MeV instead of 6.77
      MeV, peak at 6.95 instead of 6.5 MeV, the fractions above 8, 10, 12 MeV 13 %, 20 %, 32 %
      and ∫_{E>8 MeV} λ E² (E − 8 MeV) 21 % too large.

    With both levels, against Winter's table: ⟨E⟩ = 6.762 MeV (−0.12 %), peak 6.45 MeV, λ within
    0.7 % where it exceeds 30 % of its maximum (2–11.5 MeV) and 1.4 % where it exceeds 10 %
    (1.1–12.8 MeV); fractions above 8, 10, 12 MeV within −0.5 %, −0.5 %, +0.14 %, the CEvNS
    moment ∫_{E>8 MeV} λ E² (E − 8 MeV) −0.3 %. Recoil-order and radiative corrections,
    included by Winter et al., are not modelled separately (at this level they are absorbed
    in the fitted background level). To use a published table instead, pass it to
    :class:`SolarFlux` as ``b8_table``.

    The x-integral (a Gauss–Legendre rule with E-dependent nodes: 9 panels × 16 nodes,
    square-root map at the positron end point) is computed once, in NumPy, at the Chebyshev
    nodes of 20 energy panels (degree 24); λ(E) is evaluated from that piecewise Chebyshev
    series -- a pure, differentiable jnp function of E that costs ~25 multiply-adds, agreeing
    with the x-integral to 1e-9 of the peak (1e-7 relative where λ > 1e-3 of the peak), and
    normalised to 1 (to ~1e-9).
    """
    E = jnp.asarray(E)
    E = E.astype(jnp.result_type(E, 0.0))
    coeffs, edges = _b8_chebyshev()
    lam = _cheb_eval(coeffs, edges, E / u.MeV, jnp)[..., 0] / u.MeV
    return jnp.where((E >= 0) & (E <= B8_END_POINT), jnp.maximum(lam, 0.0), 0.0)


#: Energy panels [MeV] and degree of the Chebyshev series of :func:`b8_spectrum`.
_B8_E_EDGES = np.r_[np.arange(0.0, 16.5, 1.0), 16.5, 16.8, 16.95, B8_END_POINT / u.MeV]
_B8_E_DEGREE = 24


@functools.cache
def _b8_chebyshev() -> tuple[np.ndarray, np.ndarray]:
    """(coefficients (panels, degree + 1, 1), panel edges [MeV]) of the normalised ⁸B spectrum
    per MeV, fitted at the Chebyshev nodes of each panel to the x-integral of the model."""
    m = _b8_model()
    t = np.cos(np.pi * (np.arange(_B8_E_DEGREE + 1) + 0.5) / (_B8_E_DEGREE + 1))
    coeffs = []
    for a, b in zip(_B8_E_EDGES[:-1], _B8_E_EDGES[1:], strict=True):
        x = 0.5 * (a + b) + 0.5 * (b - a) * t
        lam = _b8_unnormalised(x, m, np) / m.norm
        coeffs.append(np.polynomial.chebyshev.chebfit(t, lam, _B8_E_DEGREE))
    return np.asarray(coeffs)[..., None], _B8_E_EDGES


@functools.cache
def _hep_norm() -> float:
    t, w = gauss_legendre_unit(96)
    e0 = HEP_END_POINT / u.MeV
    E = e0 * (1.0 - t * t)
    return float(np.sum(2.0 * t * w * e0 * _allowed_kernel(E, e0 + _ME, 2.0, np)))


@jax.jit
def hep_spectrum(E: ArrayLike) -> Array:
    """Normalised hep ν_e spectrum λ(E) [GeV⁻¹] at E [GeV]; 0 outside [0, ``HEP_END_POINT``].

    ³He + p → ⁴He + e⁺ + ν_e as an allowed β⁺ spectrum: λ ∝ E² W p F(Z = 2, W) with positron
    total energy W = E_0 + m_e − E, E_0 = 18.784 MeV, non-relativistic Fermi function; agrees
    with J. N. Bahcall's table (Phys. Rev. C 56 (1997) 3391) to 6e-4 where the table exceeds
    10 % of its maximum (the table's 5-digit rounding), ⟨E⟩ = 9.630 MeV.
    """
    E = jnp.asarray(E)
    E = E.astype(jnp.result_type(E, 0.0))
    e0 = HEP_END_POINT / u.MeV
    lam = _allowed_kernel(E / u.MeV, e0 + _ME, 2.0, jnp) / (_hep_norm() * u.MeV)
    return jnp.where((E >= 0) & (E <= HEP_END_POINT), lam, 0.0)


# ------------------------------------------------------------------------------ oscillations
class OscillationParameters(eqx.Module):
    """Three-flavour oscillation parameters of the solar sector (a differentiable pytree).

    Defaults: NuFIT 6.0 (2024) normal-ordering best fit, I. Esteban et al., JHEP 12 (2024) 216:
    sin²θ₁₂ = 0.307, sin²θ₁₃ = 0.02195, sin²θ₂₃ = 0.561, Δm²₂₁ = 7.49 × 10⁻⁵ eV². θ₂₃ (octant
    not established) only splits the converted flux between ν_μ and ν_τ.

    Parameters
    ----------
    sin2_theta12, sin2_theta13, sin2_theta23 : float
        sin² of the mixing angles, in [0, 1].
    dm2_21 : float
        Δm²₂₁ [GeV²] (e.g. ``7.49e-5 * units.eV**2``), > 0.
    """

    sin2_theta12: Array
    sin2_theta13: Array
    sin2_theta23: Array
    dm2_21: Array

    def __init__(
        self,
        sin2_theta12: ArrayLike = 0.307,
        sin2_theta13: ArrayLike = 0.02195,
        sin2_theta23: ArrayLike = 0.561,
        dm2_21: ArrayLike = 7.49e-5 * u.eV**2,
    ):
        self.sin2_theta12 = _as_float(sin2_theta12)
        self.sin2_theta13 = _as_float(sin2_theta13)
        self.sin2_theta23 = _as_float(sin2_theta23)
        self.dm2_21 = _as_float(dm2_21)

    def __check_init__(self):
        for name in ("sin2_theta12", "sin2_theta13", "sin2_theta23"):
            check_interval(name, getattr(self, name), 0.0, 1.0)
        v = concrete(self.dm2_21)
        if v is not None and not (np.all(np.isfinite(v)) and np.all(v > 0)):
            raise ValueError(f"dm2_21 must be finite and > 0 [GeV^2], got {self.dm2_21!r}")


#: Avogadro's number (exact, SI 2019).
_N_A = 6.02214076e23
#: Fit to the electron density of the BS05 standard solar model, log10(n_e/N_A [cm⁻³]) =
#: 2.36 − 4.52 x − 0.33 exp[−(x/0.075)^1.1], x = r/R☉ (J. N. Bahcall, A. M. Serenelli,
#: S. Basu, ApJS 165 (2006) 400): n_e(0)/N_A = 107, n_e(0.05)/N_A = 91.
_NE_FIT = (2.36, 4.52, 0.33, 0.075, 1.1)
#: Production distributions dF/dx ∝ x² exp(−x²/x₀²) (x = r/R☉), peaked at x₀: ⁸B at
#: 0.045 R☉ and hep at 0.15 R☉, approximating the peaks of the standard-solar-model profiles
#: (⁸B is made in the innermost core; hep, fed by ³He, further out). Sensitivity: x₀ ± 30 %
#: moves P_ee(⁸B, 10 MeV) by ±0.006 (2 %); hep x₀ = 0.10–0.20 moves P_ee(hep, 10 MeV) over
#: 0.36–0.45 (hep is 0.15 % of the flux).
PRODUCTION_PEAK: Mapping[str, float] = MappingProxyType({"b8": 0.045, "hep": 0.15})
_N_RADIAL = 16


def electron_density(x: ArrayLike) -> Array:
    """Solar electron density n_e [GeV³] at x = r/R☉ (the BS05 fit of ``_NE_FIT``)."""
    c0, c1, c2, x0, pw = _NE_FIT
    x = jnp.asarray(x, dtype=float)
    log10 = c0 - c1 * x - c2 * jnp.exp(-((x / x0) ** pw))
    return _N_A * 10.0**log10 / u.cm**3


@functools.cache
def _production_nodes(source: str) -> tuple[np.ndarray, np.ndarray]:
    """(x_k, w_k): radial nodes and normalised weights of the production distribution."""
    x0 = PRODUCTION_PEAK[source]
    t, w = gauss_legendre_unit(_N_RADIAL)
    x = 5.0 * x0 * t
    f = w * x * x * np.exp(-((x / x0) ** 2))
    return x, f / f.sum()


def _matter_cos2theta(E, params: OscillationParameters, x):
    """cos 2θ₁₂ᵐ at production radius x for energy E [GeV] (effective density cos²θ₁₃ n_e)."""
    c13sq = 1.0 - params.sin2_theta13
    c2 = 1.0 - 2.0 * params.sin2_theta12
    s2sq = 4.0 * params.sin2_theta12 * (1.0 - params.sin2_theta12)
    V = math.sqrt(2.0) * constants.G_F * electron_density(x)
    beta = 2.0 * V * c13sq * E / params.dm2_21
    d = c2 - beta
    return d / jnp.sqrt(jnp.maximum(d * d + s2sq, 1e-300))


@functools.partial(jax.jit, static_argnames="source")
def survival_probability(
    E: ArrayLike, params: OscillationParameters | None = None, *, source: str = "b8"
) -> Array:
    """Day-averaged ν_e survival probability P_ee(E) at Earth (E [GeV], elementwise).

    Three-flavour adiabatic MSW (Δm²₃₁ ≫ matter potential: the third state decouples with the
    effective density cos²θ₁₃ n_e):

        P_ee = cos⁴θ₁₃ [½ + ½ ⟨cos 2θ₁₂ᵐ⟩ cos 2θ₁₂] + sin⁴θ₁₃,
        cos 2θ₁₂ᵐ = (cos 2θ₁₂ − β)/√((cos 2θ₁₂ − β)² + sin² 2θ₁₂),  β = 2√2 G_F cos²θ₁₃ n_e E/Δm²₂₁,

    with ⟨·⟩ the average over the production region of ``source`` ("b8" or "hep", see
    ``PRODUCTION_PEAK``; 16-node Gauss–Legendre in r, within 1e-9 (⁸B) and 4e-6 (hep) of 48
    nodes), n_e the BS05 fit of Bahcall, Serenelli & Basu, ApJS 165 (2006) 400.
    Incoherent propagation (the mass-eigenstate interference averages out over the Sun–Earth
    distance) and no Earth matter (day-time, or neglecting the few-% night regeneration).
    Limits: E → 0 gives the vacuum average cos⁴θ₁₃ (1 − ½ sin²2θ₁₂) + sin⁴θ₁₃; E → ∞ gives
    cos⁴θ₁₃ sin²θ₁₂ + sin⁴θ₁₃. Measured: SNO (Phys. Rev. C 88 (2013) 025501) P_ee(10 MeV) =
    0.317 ± 0.016 (stat) ± 0.009 (syst); this function gives 0.325 there for ⁸B.
    """
    check_choice("source", source, set(PRODUCTION_PEAK))
    params = OscillationParameters() if params is None else params
    E = jnp.asarray(E)
    E = E.astype(jnp.result_type(E, 0.0))
    xk, wk = _production_nodes(source)
    cos2m = _matter_cos2theta(E[..., None], params, jnp.asarray(xk))
    avg = jnp.sum(jnp.asarray(wk) * cos2m, axis=-1)
    c2 = 1.0 - 2.0 * params.sin2_theta12
    s13 = params.sin2_theta13
    return (1.0 - s13) ** 2 * (0.5 + 0.5 * avg * c2) + s13 * s13


def flavour_probabilities(
    E: ArrayLike, params: OscillationParameters | None = None, *, source: str = "b8"
) -> Array:
    """(P_ee, P_eμ, P_eτ)(E), shape (3,) + E.shape, summing to 1.

    P_eμ = (1 − P_ee) cos²θ₂₃ and P_eτ = (1 − P_ee) sin²θ₂₃: the O(sin θ₁₃) δ_CP interference
    term, ±2 s₁₃ s₂₃ c₂₃ s₁₂ c₁₂ cos δ ⟨cos 2θ₁₂ᵐ⟩ c₁₃² (opposite signs in P_eμ and P_eτ, so
    the sum is unaffected), and the O(sin²θ₁₃) redistribution between ν_μ and ν_τ are
    neglected (a few % of P_eμ, P_eτ individually; CEvNS is flavour blind).
    """
    params = OscillationParameters() if params is None else params
    pee = survival_probability(E, params, source=source)
    c23sq = 1.0 - params.sin2_theta23
    return jnp.stack([pee, (1.0 - pee) * c23sq, (1.0 - pee) * params.sin2_theta23])


# ------------------------------------------------------------------------------------ fluxes
def _table_fields(table: Any) -> tuple[Array | None, Array | None]:
    if table is None:
        return None, None
    try:
        e, lam = table
    except (TypeError, ValueError):
        raise ValueError("b8_table must be a pair (energies [GeV], spectrum [GeV^-1])") from None
    return _as_float(e), _as_float(lam)


def _check_table(energies: Array | None, values: Array | None) -> None:
    if energies is None:
        return
    shape = jnp.shape(energies)
    if len(shape) != 1 or shape[0] < 2:
        raise ValueError(f"b8_table energies must be a 1-D array of >= 2 points, got {shape}")
    values = cast(Array, values)  # None only together with energies (_table_fields)
    if jnp.shape(values) != shape:
        raise ValueError(
            f"b8_table spectrum must have the shape of its energies {shape}, "
            f"got {jnp.shape(values)}"
        )
    check_nonnegative("b8_table energies", energies, "[GeV]")
    check_nonnegative("b8_table spectrum", values, "[GeV^-1]")
    e, v = concrete(energies), concrete(values)
    if e is not None and not np.all(np.diff(e) > 0):
        raise ValueError("b8_table energies must be strictly increasing")
    if e is not None and v is not None and not np.sum(np.diff(e) * (v[1:] + v[:-1])) > 0:
        raise ValueError("b8_table spectrum must have a positive integral")


def _table_spectrum(energies: Array, values: Array, E: Array) -> Array:
    """Linear interpolation of the table, 0 outside it, normalised to unit integral."""
    norm = jnp.sum(0.5 * jnp.diff(energies) * (values[1:] + values[:-1]))
    lam = jnp.interp(E, energies, values, left=0.0, right=0.0)
    return lam / norm


_MODEL_EDGES_MEV = (0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0)
_HEP_EDGES_MEV = (17.5, 18.4, 18.7)


class SolarComponent(Flux):
    """One flavour of the solar ⁸B + hep flux at Earth (built by :meth:`SolarFlux.components`).

    dΦ_α/dE = Φ_B8 λ_B8(E) P_eα^B8(E) + Φ_hep λ_hep(E) P_eα^hep(E) [GeV²], α = ``flavour``,
    neutrinos (``antineutrino`` False). ``b8_energies``/``b8_values``: an optional ⁸B table
    (see :class:`SolarFlux`), else :func:`b8_spectrum`. ``n_energy``: Gauss–Legendre nodes in
    the neutrino energy per panel (static; formerly ``n_nodes``).
    """

    b8_flux: Array
    hep_flux: Array
    oscillation: OscillationParameters
    b8_energies: Array | None
    b8_values: Array | None
    flavour: int = eqx.field(static=True)
    n_energy: int = eqx.field(static=True)
    antineutrino: bool = eqx.field(static=True, default=False)

    @renamed_arguments(n_nodes="n_energy")
    def __init__(
        self,
        b8_flux: Array,
        hep_flux: Array,
        oscillation: OscillationParameters,
        b8_energies: Array | None,
        b8_values: Array | None,
        flavour: int,
        *,
        n_energy: int,
        antineutrino: bool = False,
    ):
        self.b8_flux, self.hep_flux, self.oscillation = b8_flux, hep_flux, oscillation
        self.b8_energies, self.b8_values = b8_energies, b8_values
        self.flavour, self.n_energy, self.antineutrino = flavour, n_energy, antineutrino

    @property
    def n_nodes(self) -> int:
        """Deprecated spelling of ``n_energy`` (read-only; warns)."""
        return _deprecated_n_nodes(self)

    def __check_init__(self):
        _check_flavour(self.flavour)
        _check_n_energy(self.n_energy)

    def b8_shape(self, E: ArrayLike) -> Array:
        """Normalised ⁸B spectrum [GeV⁻¹]: the table if given, else :func:`b8_spectrum`."""
        E = jnp.asarray(E)
        if self.b8_energies is None:
            return b8_spectrum(E)
        E = E.astype(jnp.result_type(E, self.b8_energies))
        # b8_values is set together with b8_energies (_table_fields)
        return _table_spectrum(self.b8_energies, cast(Array, self.b8_values), E)

    def dphi_dE(self, E: ArrayLike) -> Array:
        """dΦ/dE [GeV²] of this flavour at E [GeV]; 0 outside the support."""
        E = jnp.asarray(E)
        E = E.astype(jnp.result_type(E, 0.0))
        p_b8 = flavour_probabilities(E, self.oscillation, source="b8")[self.flavour]
        p_hep = flavour_probabilities(E, self.oscillation, source="hep")[self.flavour]
        b8 = self.b8_flux * self.b8_shape(E) * p_b8
        return b8 + self.hep_flux * hep_spectrum(E) * p_hep

    def support(self) -> tuple[Array, Array]:
        """(0, max(hep end point, last table energy)) [GeV]."""
        hi = jnp.asarray(HEP_END_POINT)
        if self.b8_energies is not None:
            hi = jnp.maximum(hi, self.b8_energies[-1])
        return jnp.zeros_like(hi), hi

    def panel_edges(self) -> Array:
        """Model: 0, 2, …, 16 MeV, the ⁸B end point, 17.5, 18.4, 18.7 MeV (square-root end of
        hep), the hep end point. Table: 0, every table energy, 17.5, 18.4, 18.7 MeV, the hep end
        point (the linear interpolant is kinked at each knot), sorted."""
        hep = jnp.asarray([e * u.MeV for e in _HEP_EDGES_MEV] + [HEP_END_POINT])
        if self.b8_energies is None:
            model = jnp.asarray([e * u.MeV for e in _MODEL_EDGES_MEV] + [B8_END_POINT])
            return jnp.concatenate([model, hep])
        e = self.b8_energies
        return jnp.sort(jnp.concatenate([jnp.zeros((1,), e.dtype), e, hep.astype(e.dtype)]))

    @property
    def nodes_per_panel(self) -> int:
        return self.n_energy


class SolarFlux(Flux):
    """Solar ⁸B + hep neutrinos at Earth, oscillated: a multi-flavour source.

    Parameters
    ----------
    b8_flux, hep_flux : float
        Integrated fluxes [GeV³ = per area per time], ≥ 0: Φ [cm⁻² s⁻¹] × ``PER_CM2_S``.
        :meth:`standard` picks them by name from ``B8_NORMALISATIONS``/``HEP_NORMALISATIONS``.
    oscillation : OscillationParameters, optional
        Default NuFIT 6.0 (normal ordering); a differentiable pytree.
    b8_table : (energies [GeV], spectrum [GeV⁻¹]), optional
        A tabulated ⁸B spectrum instead of :func:`b8_spectrum`: linearly interpolated, 0
        outside the table and renormalised to unit integral (prepend (0, 0) to a table that
        starts above 0 and should vanish there). E.g. Winter et al.'s table:
        ``(E_MeV * units.MeV, lam_per_MeV / units.MeV)``.
    n_energy : int, optional (static)
        Gauss–Legendre nodes in the neutrino energy per panel (formerly ``n_nodes``); default
        16 for the model spectrum (13 panels, 208 nodes per flavour: a fold of E² (E − E_low)
        above E_low agrees with adaptive quadrature to < 1e-8 relative for E_low ≤ 16 MeV, 5e-7
        at 18.5 MeV) and 4 for a table (one panel per table interval: exact for the linear
        pieces times polynomials of degree ≤ 6).

    ``components()`` = the (ν_e, ν_μ, ν_τ) :class:`SolarComponent` fluxes; ``fold`` and
    ``total`` sum them (Σ_α P_eα = 1: ``total()`` = ``b8_flux + hep_flux``). ``flavour`` raises
    (mixed flavours: rates iterate ``components()``); ``antineutrino`` is False (all components
    are neutrinos).
    """

    b8_flux: Array
    hep_flux: Array
    oscillation: OscillationParameters
    b8_energies: Array | None
    b8_values: Array | None
    n_energy: int = eqx.field(static=True)

    @renamed_arguments(n_nodes="n_energy")
    def __init__(
        self,
        b8_flux: ArrayLike,
        hep_flux: ArrayLike,
        oscillation: OscillationParameters | None = None,
        b8_table: Any = None,
        *,
        n_energy: int | None = None,
    ):
        self.b8_flux, self.hep_flux = _as_float(b8_flux), _as_float(hep_flux)
        self.oscillation = OscillationParameters() if oscillation is None else oscillation
        self.b8_energies, self.b8_values = _table_fields(b8_table)
        if n_energy is None:
            n_energy = 16 if b8_table is None else 4
        self.n_energy = n_energy

    @property
    def n_nodes(self) -> int:
        """Deprecated spelling of ``n_energy`` (read-only; warns)."""
        return _deprecated_n_nodes(self)

    def __check_init__(self):
        check_nonnegative("b8_flux", self.b8_flux, "[GeV^3]")
        check_nonnegative("hep_flux", self.hep_flux, "[GeV^3]")
        for name in ("b8_flux", "hep_flux"):
            if jnp.ndim(getattr(self, name)) != 0:
                shape = jnp.shape(getattr(self, name))
                raise ValueError(f"{name} must be a scalar, got shape {shape}")
        if not isinstance(self.oscillation, OscillationParameters):
            raise ValueError(
                "oscillation must be an OscillationParameters, got "
                f"{type(self.oscillation).__name__}"
            )
        _check_table(self.b8_energies, self.b8_values)
        _check_n_energy(self.n_energy)

    @classmethod
    @renamed_arguments(n_nodes="n_energy")
    def standard(cls, b8: str = "sno", hep: str = "b16-gs98", **kwargs: Any) -> SolarFlux:
        """The flux with named normalisations: ``b8`` from ``B8_NORMALISATIONS`` ("sno",
        "b16-gs98", "b16-agss09"), ``hep`` from ``HEP_NORMALISATIONS`` ("b16-gs98",
        "b16-agss09"). ``kwargs``: further SolarFlux arguments (oscillation, b8_table,
        n_energy)."""
        check_choice("b8", b8, set(B8_NORMALISATIONS))
        check_choice("hep", hep, set(HEP_NORMALISATIONS))
        return cls(
            B8_NORMALISATIONS[b8][0] * PER_CM2_S, HEP_NORMALISATIONS[hep][0] * PER_CM2_S, **kwargs
        )

    # ------------------------------------------------------------------- the Flux interface
    def components(self) -> tuple[Flux, ...]:
        return tuple(
            SolarComponent(
                b8_flux=self.b8_flux,
                hep_flux=self.hep_flux,
                oscillation=self.oscillation,
                b8_energies=self.b8_energies,
                b8_values=self.b8_values,
                flavour=f,
                n_energy=self.n_energy,
            )
            for f in (0, 1, 2)
        )

    def _sum(self) -> FluxSum:
        return FluxSum(self.components())

    @property
    def flavour(self) -> int:
        """Mixed (ValueError): iterate ``components()``."""
        return self._sum().flavour

    @property
    def antineutrino(self) -> bool:
        """False: all components are neutrinos."""
        return self._sum().antineutrino

    def flux_by_flavour(self, E: ArrayLike) -> Array:
        """dΦ_α/dE [GeV²] for α = e, μ, τ: shape (3,) + E.shape."""
        return jnp.stack([c.dphi_dE(E) for c in self.components()])

    def dphi_dE(self, E: ArrayLike) -> Array:
        """Σ_α dΦ_α/dE [GeV²] (= the unoscillated Φ_B8 λ_B8 + Φ_hep λ_hep)."""
        return self._sum().dphi_dE(E)

    def support(self) -> tuple[Array, Array]:
        return self._sum().support()

    def lines(self) -> tuple[Array, Array]:
        return self._sum().lines()

    def panel_edges(self) -> Array:
        return self.components()[0].panel_edges()

    @property
    def nodes_per_panel(self) -> int:
        return self.n_energy

    def nodes(self, E_low=0.0, breaks=None, parts="all", n_per_panel=None):
        return self._sum().nodes(E_low, breaks, parts, n_per_panel)

    def fold(self, fn: Any, E_low: ArrayLike = 0.0, **kw) -> Any:
        """Σ over the three flavour components of their folds (see :meth:`Flux.fold`)."""
        return self._sum().fold(fn, E_low, **kw)
