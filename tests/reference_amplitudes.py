"""Independent numpy reference: explicit Dirac-matrix helicity amplitudes for ν A -> N A.

Builds the amplitude ū_N(k, λ) σ^{μν} q_ν P_L u_ν(p) · Z e F (P + P')_μ / t with explicit
4x4 Dirac matrices and helicity spinors (Dirac representation), for a left-handed massless
neutrino along +z and a spin-0 nucleus at rest. Used only in tests, as a second code path for
the spin-summed cross section, the helicity fractions and the N polarisation vector.
"""

import numpy as np

I2 = np.eye(2)
SIG = [
    np.array([[0, 1], [1, 0]], complex),
    np.array([[0, -1j], [1j, 0]]),
    np.array([[1, 0], [0, -1]], complex),
]
Z2 = np.zeros((2, 2))
G0 = np.block([[I2, Z2], [Z2, -I2]]).astype(complex)
GI = [np.block([[Z2, s], [-s, Z2]]) for s in SIG]
GAMMA = [G0, *GI]
G5 = np.block([[Z2, I2], [I2, Z2]]).astype(complex)
METRIC = np.diag([1.0, -1.0, -1.0, -1.0])
PL = (np.eye(4) - G5) / 2


def sigma_munu(mu, nu):
    return 0.5j * (GAMMA[mu] @ GAMMA[nu] - GAMMA[nu] @ GAMMA[mu])


def helicity_chi(theta, phi, lam):
    if lam > 0:
        return np.array([np.cos(theta / 2), np.exp(1j * phi) * np.sin(theta / 2)])
    return np.array([-np.exp(-1j * phi) * np.sin(theta / 2), np.cos(theta / 2)])


def spinor_u(E, p, theta, phi, lam):
    """Dirac spinor u(p, λ) with helicity λ = ±1, |p| = p, normalisation ū u = 2m."""
    chi = helicity_chi(theta, phi, lam)
    return np.concatenate(
        [
            np.sqrt(E + np.sqrt(max(E * E - p * p, 0.0))) * chi,
            lam * p / np.sqrt(E + np.sqrt(max(E * E - p * p, 0.0))) * chi,
        ]
    )


def amplitudes(E, E_R, m, M, Z=1.0, mu=1.0, F=1.0, alpha=1 / 137.035999177):
    """Helicity amplitudes (M_+, M_-), the N direction and ê_T at (E, E_R)."""
    e = np.sqrt(4 * np.pi * alpha)
    E_N = E - E_R
    k = np.sqrt(E_N**2 - m**2)
    cos_n = (2 * E * E - 2 * (E + M) * E_R - m * m) / (2 * E * k)
    # sin θ_N from transverse-momentum balance with the nucleus (accurate for forward N)
    p_R = np.sqrt(E_R * (E_R + 2 * M))
    cos_r = (2 * E * E_R + 2 * M * E_R + m * m) / (2 * E * p_R)
    sin_n = p_R * np.sqrt(max((1 - cos_r) * (1 + cos_r), 0.0)) / k
    theta_n = np.arctan2(sin_n, cos_n)
    phi_n = np.pi  # nucleus recoils at azimuth 0, N at pi
    khat = np.array([np.sin(theta_n) * np.cos(phi_n), np.sin(theta_n) * np.sin(phi_n), cos_n])
    p4 = np.array([E, 0, 0, E])
    k4 = np.concatenate([[E_N], k * khat])
    # momentum given to the nucleus, from its own kinematics (p - k would cancel for small E_R)
    q4 = np.array([E_R, p_R * np.sqrt(max((1 - cos_r) * (1 + cos_r), 0.0)), 0.0, p_R * cos_r])
    assert np.allclose(q4, p4 - k4, rtol=0, atol=1e-9 * E)
    P4 = np.array([M, 0, 0, 0])
    Pp4 = P4 + q4
    t = q4 @ METRIC @ q4
    u_in = spinor_u(E, E, 0.0, 0.0, -1)  # massless left-handed neutrino along +z
    q_low = METRIC @ q4
    J_low = METRIC @ (P4 + Pp4)
    Gam = sum(sigma_munu(a, b) * J_low[a] * q_low[b] for a in range(4) for b in range(4))
    amps = []
    for lam in (+1, -1):
        u_out = spinor_u(E_N, k, theta_n, phi_n, lam)
        ubar = u_out.conj() @ G0
        amps.append(e * Z * F * mu / t * (ubar @ Gam @ PL @ u_in))
    zhat = np.array([0.0, 0.0, 1.0])
    # ê_T = (ẑ − cos θ k̂)/sin θ = (cos θ, 0, sin θ) for k̂ = (−sin θ, 0, cos θ): no 0/0 forward
    e_T = np.array([cos_n, 0.0, np.sin(theta_n)])
    assert abs(e_T @ khat) < 1e-12 and e_T @ zhat >= 0
    return np.array(amps), khat, e_T, theta_n, phi_n


def dsigma_dER(E, E_R, m, M, Z=1.0, mu=1.0, F=1.0):
    """Spin-summed dσ/dE_R from |M|²: dσ/dt = |M|²/(16π (2ME)²), dσ/dE_R = 2M dσ/dt."""
    amps, *_ = amplitudes(E, E_R, m, M, Z, mu, F)
    msq = np.sum(np.abs(amps) ** 2)
    return 2 * M * msq / (16 * np.pi * (2 * M * E) ** 2)


def polarisation(E, E_R, m, M):
    """(P_L, P_T, P_normal) of N: spin vector of the produced pure state Σ_λ M_λ χ_λ."""
    amps, khat, e_T, theta_n, phi_n = amplitudes(E, E_R, m, M)
    chi = amps[0] * helicity_chi(theta_n, phi_n, +1) + amps[1] * helicity_chi(theta_n, phi_n, -1)
    chi = chi / np.linalg.norm(chi)
    P = np.real(np.array([chi.conj() @ s @ chi for s in SIG]))
    n_hat = np.cross(khat, e_T)
    return P @ khat, P @ e_T, P @ n_hat
