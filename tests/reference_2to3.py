"""Independent numpy reference for ν A -> ν A γ: explicit helicity spinors and photon vectors.

Second code path for the 2 -> 3 |M|²: instead of traces with Σ u ū = k̸ and Σ ε ε* -> −g, it
evaluates ū(k', λ') A(ε) u(k, λ) for explicit helicity spinors (``reference_amplitudes``) and the
two physical (transverse) linear photon polarisations, and sums the squares. Chain structure
as in jaxdipole.matrix_elements: dipole vertices σ^{ab} x_a y_b, N propagator (p̸ + m)/D.
"""

import numpy as np
from reference_amplitudes import G0, G5, GAMMA, METRIC, sigma_munu, spinor_u

ALPHA = 1 / 137.035999177
SIG = np.array([[sigma_munu(a, b) for b in range(4)] for a in range(4)])
PL = (np.eye(4) - G5) / 2
PR = (np.eye(4) + G5) / 2


def dot(a, b):
    return a @ METRIC @ b


def vertex(x, y):
    xl, yl = METRIC @ x, METRIC @ y
    return sum(SIG[a, b] * xl[a] * yl[b] for a in range(4) for b in range(4))


def pslash(p):
    return sum(GAMMA[a] * (METRIC @ p)[a] for a in range(4))


def angles(p):
    v = np.asarray(p[1:], float)
    r = np.linalg.norm(v)
    return np.arccos(np.clip(v[2] / r, -1, 1)), np.arctan2(v[1], v[0])


def photon_polarisations(q):
    th, ph = angles(q)
    e1 = np.array([0, np.cos(th) * np.cos(ph), np.cos(th) * np.sin(ph), -np.sin(th)])
    e2 = np.array([0, -np.sin(ph), np.cos(ph), 0.0])
    return e1, e2


def amplitude_matrix(k, P, kp, Pp, q, eps, m, width, Z, F, lnv=False, antineutrino=False,
                     diagram_a=True, diagram_b=True):  # fmt: skip
    """A(ε) with M = μ_α μ_β ū(k') A u(k); ε real (linear polarisation)."""
    e = np.sqrt(4 * np.pi * ALPHA)
    l = P - Pp
    l = -l  # l = P' − P
    J = e * Z * F * (P + Pp)
    p_in, p_other = (PR, PL) if antineutrino else (PL, PR)
    p_mid = p_in if lnv else p_other
    pa, pb = kp + q, k - q
    Da = dot(pa, pa) - m * m + 1j * m * width
    Db = dot(pb, pb) - m * m + 1j * m * width
    Vq, VJ = vertex(np.conj(eps), q), vertex(J, l)
    A = np.zeros((4, 4), complex)
    if diagram_a:
        A += Vq @ p_mid @ (pslash(pa) + m * np.eye(4)) @ VJ @ p_in / Da
    if diagram_b:
        A += VJ @ p_mid @ (pslash(pb) + m * np.eye(4)) @ Vq @ p_in / Db
    return A / dot(l, l)


def msq(k, P, kp, Pp, q, m, width, Z, F, mu_in, mu_out, lnv=False, antineutrino=False,
        diagram_a=True, diagram_b=True):  # fmt: skip
    """Σ over helicities (both for the beam; the projector selects) and photon polarisations."""
    th_k, ph_k = angles(k)
    th_p, ph_p = angles(kp)
    total = 0.0
    for eps in photon_polarisations(q):
        A = amplitude_matrix(k, P, kp, Pp, q, eps, m, width, Z, F, lnv, antineutrino,
                             diagram_a, diagram_b)  # fmt: skip
        for lam in (+1, -1):
            u_in = spinor_u(k[0], k[0], th_k, ph_k, lam)
            for lamp in (+1, -1):
                ubar = spinor_u(kp[0], kp[0], th_p, ph_p, lamp).conj() @ G0
                total += abs(mu_in * mu_out * (ubar @ A @ u_in)) ** 2
    return total
