"""Independent brute-force Monte Carlo of the chain ν A → N A, N → ν γ (or N → N' γ), in numpy.

A reference for the JAX quadrature code; deliberately does **not** import jaxdipole. Everything is
in GeV. The formulas are the closed forms also used by jaxdipole (stable recoil range, Helm form
factor with Lewin–Smith parameters, the exact spin-summed dσ/dE_R for a spin-0 nucleus, the lab
polarisation of N, the rest-frame law dΓ/dΩ* ∝ 1 + a P·n̂*), but the event generation is an
explicit chain:

1. E_R is drawn from E_R dσ/dE_R in u = ln E_R by accept–reject under a rigorous bound;
2. explicit lab 4-vectors: ν along +z, nucleus at azimuth φ_R with its direction from its own
   kinematics, N at φ_R + π with its direction from its own kinematics (independent of the
   nucleus, so that momentum conservation is a genuine check);
3. N spin: P = P_L k̂ + P_T ê_T (ν̄ beam: −P);
4. photon direction in the N rest frame by accept–reject from (1 + a P·n̂*)/(4π);
5. explicit 4×4 Lorentz boost of the photon (and of the daughter) to the lab.

Stable identity used for D (derived from the polynomials D and K below and checked in the tests):

    D = K + E_R (2 M m² + 4 M² E_R + m² E_R + 2 M E_R²),
    K = 4 s (E_R − E_R^min)(E_R^max − E_R)

(K, the quadratic under the root of the transverse polarisation P_T ∝ √K: leading coefficient
−4M(M + 2E) = −4s, roots E_R^min and E_R^max, since their sum is b/s and their product
m⁴/(4s)). K also gives the transverse momentum exactly:
p_T = √K / (2E).
"""

import numpy as np
from scipy.special import ndtr, ndtri

ALPHA = 1 / 137.035999084
HBARC_GEV_FM = 0.1973269804
GEV2_TO_CM2 = 3.893793721e-28

# Vogel–Engel shape exp(0.870 − 0.160 E − 0.091 E²), E in MeV (Vogel & Engel, PRD 39 (1989) 3378)
VE_A0, VE_A1, VE_A2 = 0.870, -0.160, -0.091

_CHUNK = 200_000


# ------------------------------------------------------------------------------------------------
# Kinematics and cross section
# ------------------------------------------------------------------------------------------------


def recoil_limits(E, m, M):
    """(E_R^min, E_R^max, ln(E_R^max/E_R^min)) with cancellation-free closed forms.

    Raises ValueError below threshold E_th = m + m²/(2M).
    """
    E = np.asarray(E, dtype=float)
    s = M * (M + 2 * E)
    b = 2 * E * E * M - (E + M) * m * m
    x = (2 * M * (E - m) - m * m) * (2 * M * (E + m) - m * m)
    if np.any(x < 0) or np.any(E - m <= 0):
        raise ValueError("neutrino energy below the N production threshold")
    r = E * np.sqrt(x)
    er_max = (b + r) / (2 * s)
    er_min = m**4 / (2 * (b + r))
    log_ratio = np.log1p(2 * r * (b + r) / (s * m**4))
    return er_min, er_max, log_ratio


def k_factor(E, E_R, m, M):
    """K = 4 s (E_R − E_R^min)(E_R^max − E_R) ≥ 0 (clipped), the stable form of K."""
    er_min, er_max, _ = recoil_limits(E, m, M)
    s = M * (M + 2 * np.asarray(E, dtype=float))
    return np.maximum(4 * s * (E_R - er_min) * (er_max - E_R), 0.0)


def d_factor(E, E_R, m, M):
    """D of dσ/dE_R = α μ² Z² F² D / (8 M E² E_R²), computed as K + E_R(2Mm² + 4M²E_R + m²E_R
    + 2ME_R²) (all terms ≥ 0)."""
    E_R = np.asarray(E_R, dtype=float)
    rest = E_R * (2 * M * m * m + 4 * M * M * E_R + m * m * E_R + 2 * M * E_R * E_R)
    return k_factor(E, E_R, m, M) + rest


def helm_f2(q, A):
    """Helm F²(q) (Phys. Rev. 104 (1956) 1466), Lewin–Smith parameters (Astropart. Phys. 6 (1996)
    87); q in GeV."""
    q = np.asarray(q, dtype=float)
    c = 1.23 * A ** (1 / 3) - 0.60
    a, s = 0.52, 0.9
    r_n = np.sqrt(c * c + (7 / 3) * np.pi**2 * a * a - 5 * s * s)
    x = q * r_n / HBARC_GEV_FM
    small = x < 1e-3
    xs = np.where(small, 1.0, x)
    f_full = 3 * (np.sin(xs) - xs * np.cos(xs)) / xs**3
    f = np.where(small, 1 - x * x / 10, f_full)
    f = f * np.exp(-0.5 * (q * s / HBARC_GEV_FM) ** 2)
    return f * f


def dsigma_dER(E, E_R, m, M, Z, A, helm=True, mu=1.0):
    """Exact spin-summed Primakoff dσ/dE_R in GeV⁻³ (μ in GeV⁻¹); zero outside the recoil range."""
    E = np.asarray(E, dtype=float)
    E_R = np.asarray(E_R, dtype=float)
    f2 = helm_f2(np.sqrt(2 * M * E_R), A) if helm else 1.0
    er_min, er_max, _ = recoil_limits(E, m, M)
    inside = (E_R >= er_min) & (E_R <= er_max)
    val = ALPHA * mu**2 * Z**2 * f2 * d_factor(E, E_R, m, M) / (8 * M * E * E * E_R * E_R)
    return np.where(inside, val, 0.0)


def sigma_primakoff(E, m, M, Z, A, helm=True, mu=1.0, n_recoil=64):
    """Total Primakoff σ(E) in GeV⁻² by Gauss–Legendre in u = ln E_R (vectorised over E)."""
    E = np.atleast_1d(np.asarray(E, dtype=float))
    x, w = np.polynomial.legendre.leggauss(n_recoil)
    u, w = 0.5 * (x + 1), 0.5 * w
    out = np.empty(E.shape)
    for sl in _chunks(E.size, _CHUNK // 4):
        e = E[sl][:, None]
        er_min, _, L = recoil_limits(e, m, M)
        E_R = er_min * np.exp(u[None, :] * L)
        jac = E_R * L
        out[sl] = np.sum(w * jac * dsigma_dER(e, E_R, m, M, Z, A, helm, mu), axis=1)
    return out


def polarisation(E, E_R, m, M):
    """(P_L, P_T) of N from a ν beam (lab frame, pure spin state); P_L² + P_T² = 1."""
    E = np.asarray(E, dtype=float)
    E_N = E - E_R
    k_n = np.sqrt((E_N - m) * (E_N + m))
    D = d_factor(E, E_R, m, M)
    K = k_factor(E, E_R, m, M)
    P_L = (E_N - 2 * m * m * E * E_R * (E_R + 2 * M) / D) / k_n
    P_T = -m * (2 * E * E_R - E_R * E_R + m * m) * np.sqrt(K) / (k_n * D)
    return P_L, P_T


def sample_recoil(E, m, M, A, rng, helm=True):
    """Draw E_R for each neutrino energy in E from dσ/dE_R (× Helm F²), exact accept–reject.

    Proposal: u = ln E_R uniform on [ln E_R^min, ln E_R^max]; target density in u is
    g = E_R dσ/dE_R ∝ F² D/(8 M E² E_R). With D/E_R = K/E_R + (2Mm² + E_R(4M² + m²) + 2ME_R²) and
    K/E_R = 4s(1 − E_R^min/E_R)(E_R^max − E_R) ≤ 4s(E_R^max − E_R^min), a rigorous bound is
    B = [4s(b − a) + 2Mm² + b(4M² + m²) + 2Mb²]/(8ME²) with a, b = E_R^min, E_R^max and F² ≤ 1.
    """
    E = np.atleast_1d(np.asarray(E, dtype=float))
    er_min, er_max, L = recoil_limits(E, m, M)
    s = M * (M + 2 * E)
    bound = (
        4 * s * (er_max - er_min)
        + 2 * M * m * m
        + er_max * (4 * M * M + m * m)
        + 2 * M * er_max * er_max
    ) / (8 * M * E * E)
    out = np.empty(E.shape)
    todo = np.arange(E.size)
    while todo.size:
        e, a, b, lr = E[todo], er_min[todo], er_max[todo], L[todo]
        E_R = np.clip(a * np.exp(rng.random(todo.size) * lr), a, b)
        g = d_factor(e, E_R, m, M) / (8 * M * e * e * E_R)
        if helm:
            g = g * helm_f2(np.sqrt(2 * M * E_R), A)
        if np.any(g > bound[todo] * (1 + 1e-12)):
            raise RuntimeError("accept-reject bound violated")
        acc = rng.random(todo.size) * bound[todo] < g
        out[todo[acc]] = E_R[acc]
        todo = todo[~acc]
    return out


# ------------------------------------------------------------------------------------------------
# Chain generator
# ------------------------------------------------------------------------------------------------


def _chunks(n, size):
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def boost_matrix(beta_vec):
    """General Lorentz boost Λ(β⃗) (shape (..., 4, 4)) taking rest-frame 4-vectors to the frame in
    which the particle moves with velocity β⃗: Λ00 = γ, Λ0i = Λi0 = γβ_i,
    Λij = δij + γ²/(γ + 1) β_i β_j."""
    beta_vec = np.asarray(beta_vec, dtype=float)
    b2 = np.sum(beta_vec**2, axis=-1)
    gam = 1 / np.sqrt(1 - b2)
    lam = np.zeros(beta_vec.shape[:-1] + (4, 4))
    lam[..., 0, 0] = gam
    lam[..., 0, 1:] = gam[..., None] * beta_vec
    lam[..., 1:, 0] = gam[..., None] * beta_vec
    lam[..., 1:, 1:] = np.eye(3) + (gam**2 / (gam + 1))[..., None, None] * (
        beta_vec[..., :, None] * beta_vec[..., None, :]
    )
    return lam


def _isotropic(n, rng):
    cos_t = 2 * rng.random(n) - 1
    sin_t = np.sqrt((1 - cos_t) * (1 + cos_t))
    phi = 2 * np.pi * rng.random(n)
    return np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=-1)


def _sample_direction(c, rng):
    """Unit vectors n̂ with density (1 + c·n̂)/(4π), |c| ≤ 1, by accept–reject (rows of c)."""
    out = np.empty(c.shape)
    todo = np.arange(c.shape[0])
    while todo.size:
        n_hat = _isotropic(todo.size, rng)
        acc = 2 * rng.random(todo.size) < 1 + np.sum(c[todo] * n_hat, axis=-1)
        out[todo[acc]] = n_hat[acc]
        todo = todo[~acc]
    return out


def analysing_power_sign(nature, antineutrino=False, chiral=True):
    """a in dΓ/dΩ* ∝ 1 + a P·n̂*: Dirac N −1, Dirac N̄ +1, Majorana/vector 0."""
    nature = nature.lower()
    if nature not in ("dirac", "majorana"):
        raise ValueError(f"nature must be 'dirac' or 'majorana', got {nature!r}")
    if nature == "majorana" or not chiral:
        return 0.0
    return 1.0 if antineutrino else -1.0


def sample_chain(
    E_nu,
    m_N,
    M,
    Z,
    A,
    nature,
    n,
    rng,
    antineutrino=False,
    m_daughter=0.0,
    chiral=True,
    helm=True,
    transverse=True,
    E_R=None,
    return_all=False,
):
    """Brute-force MC of ν A → N A, N → ν γ (N → N' γ if m_daughter > 0).

    E_nu: scalar or array of per-event neutrino energies [GeV] (broadcast to n events).
    m_N, M: N and nuclear masses [GeV]; Z, A: nuclear charge and mass number (Z only sets the
    normalisation, which does not enter the sampling). nature: "dirac" or "majorana".
    antineutrino: ν̄ beam (N̄ gets −P; a Dirac N̄ has a = +1). chiral=False: non-chiral vector
    N → N' γ operator (a = 0). helm: include Helm F². transverse=False: drop P_T (helicity-only).
    E_R: optional fixed recoil energy (scalar or per-event array) instead of sampling it.

    Returns (E_gamma, cos_gamma) with cos_gamma the photon–beam angle, or, if return_all, a dict
    with E_gamma, cos_gamma, E_nu, E_R, E_N, k_N, P_L, P_T (polarisation of the produced N or N̄),
    cos_theta_star (rest-frame photon angle to k̂_N), and the lab 4-vectors p_nu, p_A_in, p_N,
    p_A_out, p_gamma, p_daughter (shape (n, 4), (E, px, py, pz)).
    """
    m = float(m_N)
    m_d = float(m_daughter)
    if not 0 <= m_d < m:
        raise ValueError("need 0 <= m_daughter < m_N")
    a_sign = analysing_power_sign(nature, antineutrino, chiral)
    E_all = np.broadcast_to(np.asarray(E_nu, dtype=float), (n,)).copy()
    if E_R is None:
        ER_all = None
    else:
        ER_all = np.broadcast_to(np.asarray(E_R, dtype=float), (n,)).copy()
        er_min, er_max, _ = recoil_limits(E_all, m, M)
        if np.any(ER_all < er_min) or np.any(ER_all > er_max):
            raise ValueError("fixed E_R outside the kinematic range")

    omega = (m - m_d) * (m + m_d) / (2 * m)  # rest-frame photon energy
    E_d_star = (m * m + m_d * m_d) / (2 * m)  # rest-frame daughter energy

    keys = ["E_gamma", "cos_gamma"]
    if return_all:
        keys += ["E_nu", "E_R", "E_N", "k_N", "P_L", "P_T", "cos_theta_star"]
        keys += ["p_nu", "p_A_in", "p_N", "p_A_out", "p_gamma", "p_daughter"]
    res = {k: [] for k in keys}

    for sl in _chunks(n, _CHUNK):
        E = E_all[sl]
        nn = E.size
        ER = sample_recoil(E, m, M, A, rng, helm) if ER_all is None else ER_all[sl]

        # --- production kinematics --------------------------------------------------------------
        E_N = E - ER
        k_n = np.sqrt((E_N - m) * (E_N + m))
        p_A = np.sqrt(ER * (ER + 2 * M))
        K = k_factor(E, ER, m, M)
        p_perp = np.sqrt(K) / (2 * E)  # transverse momentum of nucleus (and of N), exact
        # nucleus: from its own kinematics (no p_ν − k_N subtraction)
        cos_A = (ER * (E + M) + m * m / 2) / (E * p_A)
        sin_A = p_perp / p_A
        # N: from its own kinematics (cos θ_N = (2E² − 2(E + M)E_R − m²) / (2E|k_N|))
        cos_N = (2 * E * E - 2 * (E + M) * ER - m * m) / (2 * E * k_n)
        sin_N = p_perp / k_n
        phi_R = 2 * np.pi * rng.random(nn)
        cph, sph = np.cos(phi_R), np.sin(phi_R)
        A_hat = np.stack([sin_A * cph, sin_A * sph, cos_A], axis=-1)
        k_hat = np.stack([-sin_N * cph, -sin_N * sph, cos_N], axis=-1)
        # ê_T = (ẑ − cos θ_N k̂)/sin θ_N written without the 0/0: −cos θ_N ĥ + sin θ_N ẑ, where
        # ĥ = (−cos φ_R, −sin φ_R, 0) is the transverse direction of N
        e_T = np.stack([cos_N * cph, cos_N * sph, sin_N], axis=-1)

        p_nu = np.stack([E, np.zeros(nn), np.zeros(nn), E], axis=-1)
        p_A_in = np.zeros((nn, 4))
        p_A_in[:, 0] = M
        p_A_out = np.concatenate([(M + ER)[:, None], p_A[:, None] * A_hat], axis=-1)
        p_N = np.concatenate([E_N[:, None], k_n[:, None] * k_hat], axis=-1)

        # --- N spin state -----------------------------------------------------------------------
        P_L, P_T = polarisation(E, ER, m, M)
        if not transverse:
            P_T = np.zeros_like(P_T)
        if antineutrino:  # N̄ from a ν̄ beam: mirrored polarisation
            P_L, P_T = -P_L, -P_T
        P_vec = P_L[:, None] * k_hat + P_T[:, None] * e_T  # same components in the rest frame

        # --- decay in the N rest frame (pure boost along k̂ from the lab: axes parallel) --------
        n_star = _sample_direction(a_sign * P_vec, rng)
        cos_star = np.sum(n_star * k_hat, axis=-1)
        p_gam_rest = np.concatenate([np.full((nn, 1), omega), omega * n_star], axis=-1)
        p_d_rest = np.concatenate([np.full((nn, 1), E_d_star), -omega * n_star], axis=-1)

        lam = boost_matrix((k_n / E_N)[:, None] * k_hat)
        p_gamma = np.einsum("nij,nj->ni", lam, p_gam_rest)
        p_daughter = np.einsum("nij,nj->ni", lam, p_d_rest)

        vals = {
            "E_gamma": p_gamma[:, 0],
            "cos_gamma": p_gamma[:, 3] / p_gamma[:, 0],
        }
        if return_all:
            vals.update(
                E_nu=E,
                E_R=ER,
                E_N=E_N,
                k_N=k_n,
                P_L=P_L,
                P_T=P_T,
                cos_theta_star=cos_star,
                p_nu=p_nu,
                p_A_in=p_A_in,
                p_N=p_N,
                p_A_out=p_A_out,
                p_gamma=p_gamma,
                p_daughter=p_daughter,
            )
        for k in keys:
            res[k].append(vals[k])

    out = {k: np.concatenate(v, axis=0) for k, v in res.items()}
    if return_all:
        return out
    return out["E_gamma"], out["cos_gamma"]


# ------------------------------------------------------------------------------------------------
# Reactor flux
# ------------------------------------------------------------------------------------------------


def vogel_engel(E):
    """Vogel–Engel shape exp(0.870 − 0.160 E − 0.091 E²) per MeV, E in GeV."""
    e = np.asarray(E, dtype=float) * 1e3
    return np.exp(VE_A0 + VE_A1 * e + VE_A2 * e * e)


def sample_reactor_energies(n, rng, E_min, E_max=10e-3):
    """E_ν [GeV] from the Vogel–Engel shape on [E_min, E_max], exact inverse CDF.

    exp(0.870 − 0.160E − 0.091E²) is a Gaussian in E (MeV) with mean μ = −0.160/(2·0.091) and
    width σ = (2·0.091)^(−1/2); sampled as a truncated normal through its survival function
    (stable deep in the tail).
    """
    mu = VE_A1 / (-2 * VE_A2)
    sig = 1 / np.sqrt(-2 * VE_A2)
    lo = (max(E_min, 0.0) * 1e3 - mu) / sig
    hi = (E_max * 1e3 - mu) / sig
    s_lo, s_hi = ndtr(-lo), ndtr(-hi)  # survival functions
    surv = s_lo - rng.random(n) * (s_lo - s_hi)
    z = -ndtri(surv)
    return np.clip(mu + sig * z, max(E_min, 0.0) * 1e3, E_max * 1e3) * 1e-3


def sample_reactor_chain(m_N, M, Z, A, nature, n, rng, E_max=10e-3, helm=True, **kwargs):
    """Reactor chain: E_ν from Vogel–Engel above threshold, events weighted by σ(E_ν) [GeV⁻²,
    μ = 1 GeV⁻¹]. Returns sample_chain(..., return_all=True) plus 'weight' and 'flux_fraction'
    (∫_{E_th}^{E_max} S / ∫_0^{E_max} S)."""
    E_th = m_N + m_N * m_N / (2 * M)
    E = sample_reactor_energies(n, rng, E_th * (1 + 1e-12), E_max)
    out = sample_chain(E, m_N, M, Z, A, nature, n, rng, helm=helm, return_all=True, **kwargs)
    out["weight"] = sigma_primakoff(E, m_N, M, Z, A, helm=helm)
    mu = VE_A1 / (-2 * VE_A2)
    sig = 1 / np.sqrt(-2 * VE_A2)
    z0, zt, z1 = (0 - mu) / sig, (E_th * 1e3 - mu) / sig, (E_max * 1e3 - mu) / sig
    out["flux_fraction"] = (ndtr(-zt) - ndtr(-z1)) / (ndtr(-z0) - ndtr(-z1))
    return out


def weighted_mean(x, w):
    """Weighted mean and its MC standard error (ratio estimator)."""
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    sw = np.sum(w)
    mean = np.sum(w * x) / sw
    err = np.sqrt(np.sum(w * w * (x - mean) ** 2)) / sw
    return mean, err
