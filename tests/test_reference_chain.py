"""Tests of the brute-force chain generator tests/reference_chain.py against reference values.

The generator is a reference for the JAX quadrature code, so it is itself checked against
(i) closed forms / mpmath, (ii) an independent numpy quadrature of the narrow-width chain
(closed-form E_γ, cos θ_γ instead of explicit boosts) and (iii) independently computed reference
numbers (sources at each test). Statistical
tolerances are 3σ of the MC error unless stated; all seeds are fixed.
"""

import mpmath as mp
import numpy as np
import pytest
import reference_chain as rc
from scipy import stats
from scipy.integrate import cumulative_simpson

# targets: nuclear masses from AME2020 atomic masses minus electrons plus electron binding
CA40 = dict(M=37.214716, Z=20, A=40)
GE74 = dict(M=68.840846, Z=32, A=74)
GE74_ATOMIC_MASS_U = 73.9211778
N_AVOGADRO = 6.02214076e23

E8, M4 = 8e-3, 4e-3  # fixed-energy benchmark: Ca40, m = 4 MeV, E = 8 MeV


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------


def _exact_fixed_energy(E, m, M, Z, A, a_sign, transverse=True, helm=True):
    """(⟨E_γ⟩/⟨E_N⟩, ⟨cos θ_γ⟩) by deterministic quadrature of the narrow-width chain
    (closed-form lab kinematics, no boosts): GL in ln E_R (200), GL in cos θ* (100), midpoint
    in φ* (32)."""
    er_min, _, L = rc.recoil_limits(E, m, M)
    x, w = np.polynomial.legendre.leggauss(200)
    E_R = er_min * np.exp(0.5 * (x + 1) * L)
    w_R = 0.5 * w * E_R * L * rc.dsigma_dER(E, E_R, m, M, Z, A, helm)
    E_N = E - E_R
    k = np.sqrt(E_N**2 - m**2)
    P_L, P_T = rc.polarisation(E, E_R, m, M)
    if not transverse:
        P_T = 0 * P_T
    c_L, c_T = (a_sign * P_L)[:, None, None], (a_sign * P_T)[:, None, None]
    cos_n = ((2 * E * E - 2 * (E + M) * E_R - m * m) / (2 * E * k))[:, None, None]
    sin_n = (np.sqrt(rc.k_factor(E, E_R, m, M)) / (2 * E * k))[:, None, None]
    xc, wc = np.polynomial.legendre.leggauss(100)
    ct, st = xc[None, :, None], np.sqrt(1 - xc**2)[None, :, None]
    cp = np.cos(2 * np.pi * (np.arange(32) + 0.5) / 32)[None, None, :]
    gam, beta = (E_N / m)[:, None, None], (k / E_N)[:, None, None]
    E_g = gam * (m / 2) * (1 + beta * ct)
    cos_g = (gam * (m / 2) * (ct + beta) * cos_n + (m / 2) * st * cp * sin_n) / E_g
    wt = w_R[:, None, None] * wc[None, :, None] * (1 + c_L * ct + c_T * st * cp)
    return (np.sum(wt * E_g) / np.sum(wt)) / (np.sum(w_R * E_N) / np.sum(w_R)), np.sum(
        wt * cos_g
    ) / np.sum(wt)


def _ratio_of_means(x, y):
    """⟨x⟩/⟨y⟩ and its MC error."""
    r = x.mean() / y.mean()
    return r, np.std(x - r * y) / np.sqrt(x.size) / y.mean()


def _mean_err(x):
    return x.mean(), x.std() / np.sqrt(x.size)


# ------------------------------------------------------------------------------------------------
# building blocks: kinematics, D identity, σ, E_R sampler, flux sampler
# ------------------------------------------------------------------------------------------------


def test_recoil_limits_and_D_identity_vs_mpmath():
    mp.mp.dps = 50
    for E, m, M in [(E8, M4, CA40["M"]), (50e-3, 1e-8, 171.311835), (5.5e-3, 5e-3, GE74["M"])]:
        er_min, er_max, L = rc.recoil_limits(E, m, M)
        Em, mm, MM = mp.mpf(E), mp.mpf(m), mp.mpf(M)
        # K polynomial (P_T ∝ √K) has the recoil limits as roots: compare to mpmath roots
        s = MM * (MM + 2 * Em)
        bb = (8 * Em**2 * MM - 4 * Em * mm**2 - 4 * MM * mm**2) / (4 * s)
        disc = mp.sqrt(bb**2 - 4 * mm**4 / (4 * s))
        assert er_max == pytest.approx(float((bb + disc) / 2), rel=1e-12)
        assert er_min == pytest.approx(float(mm**4 / (4 * s) / ((bb + disc) / 2)), rel=1e-12)
        assert L == pytest.approx(float(mp.log((bb + disc) ** 2 / (mm**4 / s))), rel=1e-12)
        # stable D = K + E_R(...) vs the direct dσ/dE_R polynomial D in mpmath, incl. near both ends
        for t in [1e-9, 1e-3, 0.3, 0.9, 1 - 1e-9]:
            E_R = er_min * np.exp(t * L)
            Rm = mp.mpf(E_R)
            D_mp = (
                8 * Em**2 * Rm * MM
                - 8 * Em * Rm**2 * MM
                - 4 * Em * Rm * mm**2
                + 2 * Rm**3 * MM
                + Rm**2 * mm**2
                - 2 * Rm * MM * mm**2
                - mm**4
            )
            K_mp = (
                8 * Em**2 * Rm * MM
                - 8 * Em * Rm**2 * MM
                - 4 * Em * Rm * mm**2
                - 4 * Rm**2 * MM**2
                - 4 * Rm * MM * mm**2
                - mm**4
            )
            assert rc.d_factor(E, E_R, m, M) == pytest.approx(float(D_mp), rel=1e-9)
            assert rc.k_factor(E, E_R, m, M) == pytest.approx(float(K_mp), rel=1e-6, abs=0)
    # Ca40, m = 4 MeV, E = 8 MeV → E_R ∈ [15.44 eV, 2.993 keV] (60-digit mpmath; root
    # finding on the explicit 2-body kinematics gives 15.43457 eV, 2.992742 keV)
    er_min, er_max, L = rc.recoil_limits(E8, M4, CA40["M"])
    assert er_min * 1e9 == pytest.approx(15.43457, abs=1e-5)
    assert er_max * 1e6 == pytest.approx(2.992742, abs=1e-6)
    # h = +1 fraction 0.43 / 0.96 / 0.995 at 1 / 20 / 50 % of the ln E_R range (independent
    # evaluation of the P_L formula); (P_L, P_T) = (0.96433, −0.26469), fitted from explicit
    # chain amplitudes, lies on the pure-state circle
    P_L, P_T = rc.polarisation(E8, er_min * np.exp(np.array([0.01, 0.2, 0.5]) * L), M4, CA40["M"])
    np.testing.assert_allclose((1 + P_L) / 2, [0.43, 0.96, 0.995], atol=5e-3)
    np.testing.assert_allclose(P_L**2 + P_T**2, 1.0, rtol=1e-12)
    assert np.hypot(0.96433, 0.26469) == pytest.approx(1.0, abs=3e-5)


@pytest.mark.parametrize(
    "tgt, m, E, s_f1, s_helm",
    [
        (GE74, 5e-3, 8e-3, 8.72238e-45, 8.65408e-45),
        (GE74, 1e-3, 3e-3, 1.72021e-44, 1.71889e-44),
        (dict(M=171.311835, Z=74, A=184), 1e-3, 50e-3, 2.71011e-43, 2.47126e-43),
        (CA40, 10e-3, 50e-3, 9.19794e-45, 8.31513e-45),
        (dict(M=14.8950827, Z=8, A=16), 5e-3, 8e-3, 5.44809e-46, 5.42837e-46),
    ],
)
def test_sigma_spot_values(tgt, m, E, s_f1, s_helm):
    """Reference σ (μ = 1e-9 GeV⁻¹) to 6 digits: closed form (F = 1) / 96-node GL (Helm)."""
    for helm, ref in [(False, s_f1), (True, s_helm)]:
        sig = rc.sigma_primakoff(E, m, tgt["M"], tgt["Z"], tgt["A"], helm=helm, mu=1e-9)[0]
        assert sig * rc.GEV2_TO_CM2 == pytest.approx(ref, rel=1e-5)


def test_recoil_sampler_matches_dsigma():
    """χ² of the ln E_R histogram against the exact bin integrals of dσ/dE_R (Helm)."""
    rng = np.random.default_rng(11)
    n, nb = 400_000, 40
    E_R = rc.sample_recoil(np.full(n, E8), M4, CA40["M"], CA40["A"], rng)
    er_min, er_max, L = rc.recoil_limits(E8, M4, CA40["M"])
    assert np.all((E_R >= er_min) & (E_R <= er_max))
    edges = np.log(er_min) + L * np.linspace(0, 1, nb + 1)
    counts, _ = np.histogram(np.log(E_R), edges)
    x, w = np.polynomial.legendre.leggauss(16)
    expct = np.empty(nb)
    for i in range(nb):
        u = 0.5 * (edges[i + 1] - edges[i]) * (x + 1) + edges[i]
        er = np.exp(u)
        expct[i] = np.sum(
            0.5 * (edges[i + 1] - edges[i]) * w * er * rc.dsigma_dER(E8, er, M4, **CA40)
        )
    expct *= n / expct.sum()
    chi2 = np.sum((counts - expct) ** 2 / expct)
    assert stats.chi2.sf(chi2, nb - 1) > 1e-3
    # power check: the histogram is far from flat in ln E_R
    flat = np.full(nb, n / nb)
    assert stats.chi2.sf(np.sum((counts - flat) ** 2 / flat), nb - 1) < 1e-10


@pytest.mark.parametrize("E_min", [0.0, 5.0e-3])
def test_reactor_energy_sampler(E_min):
    """Vogel–Engel sampler (Gaussian completion) vs a numerically integrated CDF (KS)."""
    rng = np.random.default_rng(5)
    E = rc.sample_reactor_energies(200_000, rng, E_min)
    assert E.min() >= E_min and E.max() <= 10e-3
    grid = np.linspace(E_min, 10e-3, 20001)
    cdf = cumulative_simpson(rc.vogel_engel(grid), x=grid, initial=0.0)
    cdf /= cdf[-1]
    assert stats.kstest(E, lambda e: np.interp(e, grid, cdf)).pvalue > 1e-3
    # normalisation of the Vogel–Engel benchmark flux: ∫_0^10 S_VE dE = 5.3236
    if E_min == 0.0:
        assert np.trapezoid(rc.vogel_engel(grid), grid) * 1e3 == pytest.approx(5.3236, abs=1e-4)


# ------------------------------------------------------------------------------------------------
# fixed-energy benchmark (Ca40, m = 4 MeV, E = 8 MeV)
# ------------------------------------------------------------------------------------------------

# earlier explicit-amplitude MC estimates, 3 decimals (exact quadrature: ⟨E_γ⟩/⟨E_N⟩ = 0.36031
# Dirac, 0.5 Majorana; ⟨cos θ_γ⟩ 0.32367 full / 0.31147 helicity-only, Dirac):
# (⟨E_γ⟩/⟨E_N⟩, ⟨cos θ_γ⟩ full, ⟨cos θ_γ⟩ helicity-only)
QUOTED = {
    ("dirac", False): (0.361, 0.323, 0.312),
    ("dirac", True): (0.360, 0.327, 0.314),
    ("majorana", False): (0.498, None, None),
}


@pytest.mark.parametrize("nature, anti", list(QUOTED))
@pytest.mark.parametrize("transverse", [True, False])
def test_fixed_energy_moments(nature, anti, transverse):
    """Ca40, m = 4 MeV, E = 8 MeV, 1e6 events: ⟨E_γ⟩/⟨E_N⟩ and ⟨cos θ_γ⟩ vs exact quadrature
    (3σ) and vs the QUOTED numbers (3-decimal values from an explicit-amplitude MC;
    tolerance 2e-3 covers rounding + that MC's noise — the ν̄ cos θ_γ values are the exception,
    see below)."""
    rng = np.random.default_rng([nature == "dirac", anti, transverse])
    o = rc.sample_chain(
        E8, M4, **CA40, nature=nature, n=1_000_000, rng=rng, antineutrino=anti,
        transverse=transverse, return_all=True,
    )  # fmt: skip
    a = rc.analysing_power_sign(nature, anti)
    sign = -1.0 if anti else 1.0  # generator P is the N̄ polarisation for a ν̄ beam
    ratio_x, cos_x = _exact_fixed_energy(E8, M4, **CA40, a_sign=a * sign, transverse=transverse)
    ratio, d_ratio = _ratio_of_means(o["E_gamma"], o["E_N"])
    cos_g, d_cos = _mean_err(o["cos_gamma"])
    assert abs(ratio - ratio_x) < 3 * d_ratio
    assert abs(cos_g - cos_x) < 3 * d_cos

    # Dirac E_γ marginal is independent of P_T (it integrates out over φ*); Majorana box mean is
    # E_N/2 event by event
    if nature == "dirac":
        assert ratio_x == pytest.approx(_exact_fixed_energy(E8, M4, **CA40, a_sign=-1.0)[0])
    else:
        assert ratio_x == pytest.approx(0.5, rel=1e-12)

    q_ratio, q_cos_full, q_cos_hel = QUOTED[(nature, anti)]
    assert abs(ratio - q_ratio) < 2e-3 + 3 * d_ratio
    q_cos = q_cos_full if transverse else q_cos_hel
    if q_cos is not None:
        if anti:
            # the MC quoted 0.327 / 0.314 for ν̄, but ν̄ = ν exactly (CP mirror); the
            # exact values are 0.3237 / 0.3115 (Helm). Check only that the ν̄ quotes lie within
            # the quoted ν–ν̄ spread (≈ 4e-3) of our result.
            assert abs(cos_g - q_cos) < 5e-3
        else:
            assert abs(cos_g - q_cos) < 2e-3 + 3 * d_cos
    # Dirac photons are softer and wider than Majorana photons
    if nature == "dirac":
        assert ratio < 0.37 and cos_g < 0.33
    else:
        assert abs(cos_g - 0.404) < 3e-3


@pytest.mark.parametrize("nature", ["majorana", "dirac"])
@pytest.mark.parametrize("t", [0.01, 0.3])
def test_photon_energy_box_and_ramp_at_fixed_ER(nature, t):
    """Fixed E_N: Majorana E_γ flat on [(E_N − k)/2, (E_N + k)/2]; Dirac linear ramp
    dN/dE_γ ∝ 1 + c_L (2E_γ − E_N)/k with c_L = −P_L (boost of the rest-frame law); χ² tests."""
    rng = np.random.default_rng(7)
    n, nb = 400_000, 40
    er_min, _, L = rc.recoil_limits(E8, M4, CA40["M"])
    E_R = er_min * np.exp(t * L)  # P_L = −0.138 (t = 0.01), +0.964 (t = 0.3)
    o = rc.sample_chain(E8, M4, **CA40, nature=nature, n=n, rng=rng, E_R=E_R, return_all=True)
    E_N, k, P_L = o["E_N"][0], o["k_N"][0], o["P_L"][0]
    lo, hi = (E_N - k) / 2, (E_N + k) / 2
    E_g = o["E_gamma"]
    assert E_g.min() >= lo * (1 - 1e-12) and E_g.max() <= hi * (1 + 1e-12)
    c_L = -P_L if nature == "dirac" else 0.0
    edges = np.linspace(lo, hi, nb + 1)
    counts, _ = np.histogram(E_g, edges)
    xm = (2 * 0.5 * (edges[1:] + edges[:-1]) - E_N) / k  # exact for a linear density
    expct = n / nb * (1 + c_L * xm)
    chi2 = np.sum((counts - expct) ** 2 / expct)
    assert stats.chi2.sf(chi2, nb - 1) > 1e-3
    mean, err = _mean_err(E_g)
    assert abs(mean - (E_N + c_L * k / 3) / 2) < 3 * err
    if nature == "dirac":
        # power: the wrong sign of the asymmetry is excluded
        wrong = n / nb * (1 - c_L * xm)
        assert stats.chi2.sf(np.sum((counts - wrong) ** 2 / wrong), nb - 1) < 1e-10


@pytest.mark.parametrize("nature", ["dirac", "majorana"])
def test_nu_vs_nubar_identical_photons(nature):
    """ν and ν̄ beams give identical (E_γ, cos θ_γ) distributions (CP-mirrored production and
    decay: N̄ has the mirrored polarisation and the mirrored analysing power)."""
    n = 200_000
    kw = dict(**CA40, nature=nature, n=n)
    E_nu, c_nu = rc.sample_chain(E8, M4, rng=np.random.default_rng(21), **kw)
    E_nb, c_nb = rc.sample_chain(E8, M4, rng=np.random.default_rng(22), antineutrino=True, **kw)
    assert stats.ks_2samp(E_nu, E_nb).pvalue > 1e-3
    assert stats.ks_2samp(c_nu, c_nb).pvalue > 1e-3
    # angle–energy correlation as well
    assert stats.ks_2samp(E_nu * c_nu, E_nb * c_nb).pvalue > 1e-3
    # power check: Dirac vs Majorana is told apart immediately with the same statistics
    other = "majorana" if nature == "dirac" else "dirac"
    E_o, _ = rc.sample_chain(E8, M4, **CA40, nature=other, n=n, rng=np.random.default_rng(23))
    assert stats.ks_2samp(E_nu, E_o).pvalue < 1e-10


# ------------------------------------------------------------------------------------------------
# reactor full chain (reference values from an independent quadrature of the chain)
# ------------------------------------------------------------------------------------------------


def test_reactor_full_chain_ge74():
    """ν̄_e, Vogel–Engel 0–10 MeV, Ge74, m_N = 5 MeV, events weighted by σ(E_ν):
    ⟨E_γ⟩ = 2.63 (Dirac) vs 3.07 (Majorana) MeV ± 0.01 [verified 2.629 / 3.074];
    rate 2.452e-5 /(kg·day) at μ = 1e-9 GeV⁻¹ (0.5 %); helicity-conserving fraction 13.8 %."""
    m_N = 5e-3
    res = {}
    for nature, seed in [("dirac", 31), ("majorana", 32)]:
        o = rc.sample_reactor_chain(
            m_N, **GE74, nature=nature, n=600_000, rng=np.random.default_rng(seed),
            antineutrino=True,
        )  # fmt: skip
        w = o["weight"]
        mean, err = rc.weighted_mean(o["E_gamma"], w)
        res[nature] = (mean * 1e3, err * 1e3)
        assert err * 1e3 < 3e-3
        # rate: n_T Φ_tot f(E > E_th) ⟨σ⟩_flux, Vogel–Engel benchmark normalisation
        # (6.14102 ν̄/fission, 3.0921e16 fissions/s/MW)
        phi_tot = 6.14102 * 3.0921e16 * 4000 / (4 * np.pi * 1e4**2)
        n_T = 1000 / GE74_ATOMIC_MASS_U * N_AVOGADRO
        sig_mean = np.mean(w) * (1e-9) ** 2 * rc.GEV2_TO_CM2
        rate = n_T * phi_tot * o["flux_fraction"] * sig_mean * 86400
        d_rate = rate * np.std(w) / np.mean(w) / np.sqrt(w.size)
        assert d_rate / rate < 1e-3
        assert rate == pytest.approx(2.452e-5, rel=5e-3)
        assert abs(rate - 2.4515e-5) < 3 * d_rate + 2e-4 * rate
        # ν̄ beam: N̄ helicity +1 conserves the ν̄ helicity; fraction (1 + P_L)/2 with N̄'s P_L
        frac, d_frac = rc.weighted_mean((1 + o["P_L"]) / 2, w)
        assert abs(frac - 0.138) < 5e-4 + 3 * d_frac
    (mD, eD), (mM, eM) = res["dirac"], res["majorana"]
    assert mD == pytest.approx(2.63, abs=0.01) and mM == pytest.approx(3.07, abs=0.01)
    assert abs(mD - 2.629) < 3 * eD + 5e-4 and abs(mM - 3.074) < 3 * eM + 5e-4
    assert mD < mM


# ------------------------------------------------------------------------------------------------
# N → N' γ with a massive daughter (chiral operator: a = −1, ω* = (m² − m'²)/(2m))
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "nature, chiral, expect_asym", [("dirac", True, True), ("majorana", True, False),
                                    ("dirac", False, False)]
)  # fmt: skip
def test_massive_daughter(nature, chiral, expect_asym):
    rng = np.random.default_rng(41)
    n, m, m_d = 300_000, M4, 2.5e-3
    er_min, _, L = rc.recoil_limits(E8, m, CA40["M"])
    E_R = er_min * np.exp(0.6 * L)
    o = rc.sample_chain(
        E8, m, **CA40, nature=nature, n=n, rng=rng, m_daughter=m_d, chiral=chiral, E_R=E_R,
        return_all=True,
    )  # fmt: skip
    omega = (m * m - m_d * m_d) / (2 * m)
    # rest-frame photon energy from the Lorentz invariant p_γ·p_N = m ω*
    pg, pN = o["p_gamma"], o["p_N"]
    dot = pg[:, 0] * pN[:, 0] - np.sum(pg[:, 1:] * pN[:, 1:], axis=1)
    np.testing.assert_allclose(dot / m, omega, rtol=1e-9)
    # lab photon energies within the boost limits γω*(1 ± β) and reaching them
    gam, beta = o["E_N"][0] / m, o["k_N"][0] / o["E_N"][0]
    lo, hi = gam * omega * (1 - beta), gam * omega * (1 + beta)
    E_g = o["E_gamma"]
    assert E_g.min() >= lo * (1 - 1e-12) and E_g.max() <= hi * (1 + 1e-12)
    assert (E_g.min() - lo) / (hi - lo) < 1e-3 and (hi - E_g.max()) / (hi - lo) < 1e-3
    # rest-frame angular law: ⟨cos θ*⟩ = c_L/3 with c_L = −P_L (chiral Dirac), 0 otherwise
    cs, d_cs = _mean_err(o["cos_theta_star"])
    c_L = -o["P_L"][0] if expect_asym else 0.0
    assert abs(cs - c_L / 3) < 3 * d_cs
    if expect_asym:
        assert abs(c_L) > 0.5  # the check has power
    # lab energy: ⟨E_γ⟩ = γ ω* (1 + β c_L/3)
    mean, err = _mean_err(E_g)
    assert abs(mean - gam * omega * (1 + beta * c_L / 3)) < 3 * err
    # daughter on its mass shell
    pd = o["p_daughter"]
    m2 = (pd[:, 0] - np.linalg.norm(pd[:, 1:], axis=1)) * (
        pd[:, 0] + np.linalg.norm(pd[:, 1:], axis=1)
    )
    np.testing.assert_allclose(m2, m_d**2, rtol=1e-8)


# ------------------------------------------------------------------------------------------------
# explicit 4-vectors
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("m_d", [0.0, 1.5e-3])
def test_four_momentum_conservation(m_d):
    """ν + A = N + A' and N = γ + daughter to 1e-9 relative; mass shells; |P| = 1. Includes
    recoils at E_R^min(1 + 1e-9) and E_R^max(1 − 1e-9) (collinear configurations)."""
    rng = np.random.default_rng(51)
    m, M, n = 5e-3, GE74["M"], 60_000
    E = rc.sample_reactor_energies(n, rng, m + m * m / (2 * M) + 1e-9)
    er_min, er_max, _ = rc.recoil_limits(E, m, M)
    E_R = rc.sample_recoil(E, m, M, GE74["A"], rng)
    E_R[:1000] = er_min[:1000] * (1 + 1e-9)
    E_R[1000:2000] = er_max[1000:2000] * (1 - 1e-9)
    o = rc.sample_chain(
        E, m, **GE74, nature="dirac", n=n, rng=rng, m_daughter=m_d, E_R=E_R, return_all=True
    )
    scale = E[:, None]
    np.testing.assert_array_less(
        np.abs(o["p_nu"] + o["p_A_in"] - o["p_N"] - o["p_A_out"])[:, 1:] / scale, 1e-9
    )
    # energy: compare kinetic parts (M itself would hide errors); (M + E_R) − M costs ~1e-14 GeV
    np.testing.assert_allclose(o["p_N"][:, 0] + (o["p_A_out"][:, 0] - M), E, rtol=1e-10)
    np.testing.assert_array_less(np.abs(o["p_N"] - o["p_gamma"] - o["p_daughter"]) / scale, 1e-9)

    def mass2(p):
        pp = np.linalg.norm(p[:, 1:], axis=1)
        return (p[:, 0] - pp) * (p[:, 0] + pp)

    np.testing.assert_allclose(mass2(o["p_N"]), m * m, rtol=1e-9)
    np.testing.assert_allclose(mass2(o["p_A_out"]), M * M, rtol=1e-12)
    np.testing.assert_array_less(np.abs(mass2(o["p_gamma"])) / o["E_gamma"] ** 2, 1e-9)
    np.testing.assert_allclose(np.hypot(o["P_L"], o["P_T"]), 1.0, rtol=1e-10)
    # P_L → −1 at E_R^min and +1 at E_R^max (N collinear with the beam at both ends)
    np.testing.assert_allclose(o["P_L"][:1000], -1.0, atol=1e-6)
    np.testing.assert_allclose(o["P_L"][1000:2000], 1.0, atol=1e-6)
    assert np.all(np.abs(o["cos_gamma"]) <= 1 + 1e-12)
