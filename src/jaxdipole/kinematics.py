"""Kinematics of ν(E) + A(M, at rest) -> N(m) + A with massive N and finite nuclear mass.

All functions are scalar-first, jit/vmap/grad clean and numerically stable at E >> m and at
threshold (closed forms free of cancellations: E_R_min = m⁴/(2(b + r)), never (b − r)/(2s)).
Energies in GeV.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from ._checks import check_nonnegative, check_positive
from ._math import safe_div, safe_sqrt


def threshold_energy(m_N: ArrayLike, M: ArrayLike) -> Array:
    """Neutrino energy threshold for ν A -> N A: E_th = m_N + m_N^2 / (2M) [GeV]."""
    m_N, M = jnp.asarray(m_N), jnp.asarray(M)
    return m_N + m_N * m_N / (2.0 * M)


def _bsr(E, m, M):
    """Pieces of the recoil range: b, r (= sqrt(b^2 - s m^4), 0 below threshold), s."""
    s = M * (M + 2.0 * E)
    b = 2.0 * E * E * M - (E + M) * m * m
    # factorised b^2 - s m^4 = E^2 (2M(E-m) - m^2)(2M(E+m) - m^2): no cancellation at threshold
    x = (2.0 * M * (E - m) - m * m) * (2.0 * M * (E + m) - m * m)
    above = (x > 0) & (E > m)
    r = jnp.where(above, E * safe_sqrt(x), 0.0)
    return b, r, s, above


def recoil_range(E_nu: ArrayLike, m_N: ArrayLike, M: ArrayLike) -> tuple[Array, Array]:
    """Exact nuclear-recoil range (E_R_min, E_R_max) [GeV] for ν(E_nu) A -> N(m_N) A.

    E_R_max = (b + r) / (2s) and E_R_min = m^4 / (2(b + r)), with s = M(M + 2E),
    b = 2E^2 M - (E + M) m^2, r = E sqrt[(2M(E-m) - m^2)(2M(E+m) - m^2)]; exact to float64
    rounding for m << E and at threshold. Below threshold (E < m + m^2/2M) both are 0.

    Parameters
    ----------
    E_nu : neutrino energy [GeV]
    m_N : mass of the outgoing neutral lepton [GeV] (0 allowed: SM-like kinematics)
    M : nuclear mass [GeV]
    """
    check_nonnegative("E_nu", E_nu, "GeV")
    check_nonnegative("m_N", m_N, "GeV")
    check_positive("M", M, "GeV")
    E, m, M = jnp.asarray(E_nu), jnp.asarray(m_N), jnp.asarray(M)
    b, r, s, above = _bsr(E, m, M)
    bpr = jnp.where(above, b + r, 0.0)
    e_max = jnp.where(bpr > 0, bpr / (2.0 * s), 0.0)
    e_min = safe_div(m**4, 2.0 * bpr)
    return e_min, e_max


def log_recoil_ratio(E_nu: ArrayLike, m_N: ArrayLike, M: ArrayLike) -> Array:
    """ln(E_R_max / E_R_min), stable: log1p(2 r (b + r) / (s m^4)); 0 below threshold."""
    E, m, M = jnp.asarray(E_nu), jnp.asarray(m_N), jnp.asarray(M)
    b, r, s, above = _bsr(E, m, M)
    return jnp.where(above, jnp.log1p(safe_div(2.0 * r * (b + r), s * m**4)), 0.0)


def min_neutrino_energy(E_R: ArrayLike, m_N: ArrayLike, M: ArrayLike) -> Array:
    """Smallest neutrino energy [GeV] that gives a nuclear recoil E_R [GeV] with an N of mass m_N.

    E_min = (2 M E_R + m^2)(p_R + E_R) / (4 M E_R), p_R = sqrt(E_R (E_R + 2M)); for m = 0 this is
    the CEvNS value (E_R + sqrt(E_R^2 + 2 M E_R)) / 2. Returns +inf at E_R = 0 for m > 0.
    """
    T, m, M = jnp.asarray(E_R), jnp.asarray(m_N), jnp.asarray(M)
    p_R = safe_sqrt(T * (T + 2.0 * M))
    pos = T > 0
    T_s = jnp.where(pos, T, 1.0)
    val = (2.0 * M * T_s + m * m) * (p_R + T_s) / (4.0 * M * T_s)
    return jnp.where(pos, val, jnp.where(m > 0, jnp.inf, 0.0))


def n_kinematics(E_nu: ArrayLike, E_R: ArrayLike, m_N: ArrayLike, M: ArrayLike):
    """Outgoing N for given (E_nu, E_R): (E_N, |k_N|, cos θ_N) [GeV, GeV, 1].

    E_N = E - E_R, |k_N| = sqrt(E_N^2 - m^2), and
    cos θ_N = (2E^2 - 2(E + M) E_R - m^2) / (2E |k_N|) is the N angle to the beam (clipped to
    [-1, 1]; 1 when |k_N| = 0).
    """
    E, T, m, M = jnp.asarray(E_nu), jnp.asarray(E_R), jnp.asarray(m_N), jnp.asarray(M)
    E_N = E - T
    k = safe_sqrt((E_N - m) * (E_N + m))
    num = 2.0 * E * E - 2.0 * (E + M) * T - m * m
    cos = jnp.where(k > 0, safe_div(num, 2.0 * E * k), 1.0)
    return E_N, k, jnp.clip(cos, -1.0, 1.0)
