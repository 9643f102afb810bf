"""Decays of N: widths, lifetimes, decay probabilities and photon distributions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

import jaxdipole as jd
from jaxdipole import decay
from jaxdipole.model import DipoleModel

u = jd.units


def dirac(m=5e-3, mu=(1e-9, 0.0, 0.0), **kw):
    return DipoleModel(m_N=m, mu=mu, nature="dirac", **kw)


def majorana(m=5e-3, mu=(1e-9, 0.0, 0.0), **kw):
    return DipoleModel(m_N=m, mu=mu, nature="majorana", **kw)


def test_width_reference_numbers():
    # Γ = μ² m³/(16π) at mu = 1e-9 GeV^-1, m = 5 MeV: Γ = 2.4868e-27 GeV, cτ = 7.935e12 cm
    mod = dirac()
    G = float(decay.decay_width(mod))
    assert G == pytest.approx(2.4868e-27, rel=1e-4)
    assert G == pytest.approx(1e-18 * (5e-3) ** 3 / (16 * np.pi), rel=1e-14)  # closed form
    assert float(decay.ctau(mod)) / u.cm == pytest.approx(7.935e12, rel=1e-4)


@pytest.mark.parametrize("m, ctau_m", [(1e-3, 113.0), (5e-3, 0.904), (10e-3, 0.113)])
def test_ctau_in_bohr_magnetons(m, ctau_m):
    # Γ = μ² m³/(16π), mu = 1e-6 mu_B: m = 1/5/10 MeV -> cτ = 113 m / 0.904 m / 0.113 m
    mod = dirac(m=m, mu=(1e-6 * u.mu_B, 0.0, 0.0))
    assert float(decay.ctau(mod)) / u.m == pytest.approx(ctau_m, rel=3e-3)


def test_majorana_is_twice_dirac():
    for mu in [(1e-9, 0, 0), (1e-9, 2e-9, 3e-10)]:
        d = decay.partial_widths(dirac(mu=mu, mu_prime=1e-9, m_N_prime=1e-3))
        mj = decay.partial_widths(majorana(mu=mu, mu_prime=1e-9, m_N_prime=1e-3))
        np.testing.assert_allclose(np.asarray(mj), 2 * np.asarray(d), rtol=1e-15)


def test_flavour_widths_and_branching_ratios():
    mod = dirac(mu=(1e-9, 2e-9, 0.5e-9))
    w = np.asarray(decay.partial_widths(mod))
    np.testing.assert_allclose(w[:3] / w[0], [1.0, 4.0, 0.25], rtol=1e-14)
    br = np.asarray(decay.branching_ratios(mod))
    np.testing.assert_allclose(br, np.array([1, 4, 0.25, 0]) / 5.25, rtol=1e-14)
    assert float(jnp.sum(decay.branching_ratios(mod))) == pytest.approx(1.0, rel=1e-15)


@pytest.mark.parametrize("x", [0.0, 0.2, 0.5, 0.8])
def test_sterile_width_ratio(x):
    # Γ(N -> N'γ)/Γ(N -> νγ) = (1 - m'^2/m^2)^3 at equal moments (massive-daughter trace)
    m = 5e-3
    a = dirac(m=m, mu=(1e-9, 0, 0))
    b = dirac(m=m, mu=(0, 0, 0), mu_prime=1e-9, m_N_prime=x * m)
    ratio = float(decay.decay_width(b) / decay.decay_width(a))
    assert ratio == pytest.approx((1 - x * x) ** 3, rel=1e-12)
    v = dirac(m=m, mu=(0, 0, 0), mu_prime=1e-9, m_N_prime=x * m, sterile_operator="vector")
    assert float(decay.decay_width(v) / decay.decay_width(b)) == pytest.approx(2.0, rel=1e-14)


def test_zero_coupling_is_safe():
    mod = dirac(mu=(0.0, 0.0, 0.0))
    assert float(decay.decay_width(mod)) == 0.0
    assert np.all(np.asarray(decay.branching_ratios(mod)) == 0.0)
    assert np.isinf(float(decay.lifetime(mod)))
    assert float(decay.decay_probability(mod, 8e-3, 10 * u.cm)) == 0.0
    g = jax.grad(lambda md: decay.decay_probability(md, 8e-3, 10 * u.cm))(mod)
    assert np.all(np.isfinite(np.asarray(g.mu)))


def test_mean_decay_length_and_probability():
    mod = dirac()
    E_N = 7e-3
    k = np.sqrt(E_N**2 - 5e-3**2)
    lam = float(decay.mean_decay_length(mod, E_N))
    assert lam == pytest.approx(k / 5e-3 / float(decay.decay_width(mod)), rel=1e-14)
    L = 10 * u.cm
    p = float(decay.decay_probability(mod, E_N, L))
    assert p == pytest.approx(-np.expm1(-L / lam), rel=1e-14)
    # no underflow: L/λ = 1e-12 gives L/λ, not 0 (−expm1(−L/λ), not 1 − exp(−L/λ))
    L_small = 1e-12 * lam
    assert float(decay.decay_probability(mod, E_N, L_small)) == pytest.approx(1e-12, rel=1e-12)
    # shell: e^{-L1/λ} - e^{-L2/λ}
    L1, L2 = 0.3 * lam, 1.7 * lam
    shell = float(decay.decay_probability(mod, E_N, L2 - L1, start=L1))
    assert shell == pytest.approx(np.exp(-0.3) - np.exp(-1.7), rel=1e-13)
    # prompt limit: huge length -> 1
    assert float(decay.decay_probability(mod, E_N, 1e6 * lam)) == 1.0
    # N at rest decays in place
    assert float(decay.decay_probability(mod, 5e-3, L)) == 1.0


def test_decay_probability_gradient_vs_fd():
    mod = dirac()
    E_N, L = 7e-3, 10 * u.cm

    def f(logmu, E):
        md = DipoleModel(m_N=5e-3, mu=(jnp.exp(logmu), 0.0, 0.0))
        return jnp.log(decay.decay_probability(md, E, L))

    g = jax.grad(f, argnums=(0, 1))(np.log(1e-9), E_N)
    assert float(g[0]) == pytest.approx(2.0, rel=1e-8)  # long-lived: P ∝ Γ ∝ mu^2
    h = 1e-9
    fd = (float(f(np.log(1e-9), E_N + h)) - float(f(np.log(1e-9), E_N - h))) / (2 * h)
    assert float(g[1]) == pytest.approx(fd, rel=1e-6)
    del mod


def test_rest_frame_angular_laws():
    # dΓ/dcos θ* = (Γ/2)(1 + a P_L cos θ*): Dirac N (h = +1) (1 - cos)/2, N̄ opposite, Majorana flat
    c = np.linspace(-1, 1, 5)
    a_N = decay.analysing_power(dirac(), 0)
    a_Nbar = decay.analysing_power(dirac(), 0, antiparticle=True)
    a_M = decay.analysing_power(majorana(), 0)
    assert (a_N, a_Nbar, a_M) == (-1.0, 1.0, 0.0)
    np.testing.assert_allclose(decay.rest_frame_angular_distribution(c, a_N * 1.0), (1 - c) / 2)
    np.testing.assert_allclose(decay.rest_frame_angular_distribution(c, a_Nbar * 1.0), (1 + c) / 2)
    np.testing.assert_allclose(decay.rest_frame_angular_distribution(c, 0.0), 0.5)
    for cl in (-1.0, -0.3, 0.7):
        norm, _ = integrate.quad(
            lambda x, cl=cl: float(decay.rest_frame_angular_distribution(x, cl)), -1, 1
        )
        assert norm == pytest.approx(1.0, abs=1e-12)
    # sterile channel: chiral keeps a = -1, vector gives 0
    assert decay.analysing_power(dirac(mu_prime=1e-9, m_N_prime=1e-3), 3) == -1.0
    v = dirac(mu_prime=1e-9, m_N_prime=1e-3, sterile_operator="vector")
    assert decay.analysing_power(v, 3) == 0.0


@pytest.mark.parametrize("c_L", [0.0, -1.0, -0.6, 0.4])
def test_lab_photon_energy_box(c_L):
    # boosted rest-frame law: support [(E_N - k)/2, (E_N + k)/2]; mean (E_N + c_L k/3)/2
    mod = dirac()
    E_N = 7.5e-3
    k = np.sqrt(E_N**2 - 5e-3**2)
    lo, hi = (float(x) for x in decay.photon_energy_range(mod, E_N))
    assert lo == pytest.approx((E_N - k) / 2, rel=1e-14)
    assert hi == pytest.approx((E_N + k) / 2, rel=1e-14)
    f = lambda e: float(decay.photon_energy_distribution(mod, e, E_N, c_L))
    norm, _ = integrate.quad(f, lo, hi, epsabs=0, epsrel=1e-13)
    mean, _ = integrate.quad(lambda e: e * f(e), lo, hi, epsabs=0, epsrel=1e-13)
    assert norm == pytest.approx(1.0, rel=1e-10)
    assert mean == pytest.approx((E_N + c_L * k / 3) / 2, rel=1e-10)
    assert f(0.99 * lo) == 0.0 and f(1.01 * hi) == 0.0
    # closed form of the ramp for N -> ν γ
    e = 0.3 * lo + 0.7 * hi
    assert f(e) == pytest.approx((1 + c_L * (2 * e - E_N) / k) / k, rel=1e-12)


def test_lab_photon_energy_vs_monte_carlo_boost():
    # independent path: sample the rest-frame law, boost explicitly, compare histogram moments
    rng = np.random.default_rng(1)
    m, E_N, c_L = 5e-3, 9e-3, -0.8
    k = np.sqrt(E_N**2 - m**2)
    gam, beta = E_N / m, k / E_N
    # accept-reject from (1 + c_L cos)/2
    cs = rng.uniform(-1, 1, 400000)
    keep = rng.uniform(0, 1, cs.size) < (1 + c_L * cs) / (1 + abs(c_L))
    cs = cs[keep]
    E_g = gam * (m / 2) * (1 + beta * cs)
    mod = dirac(m=m)
    edges = np.linspace(*(float(x) for x in decay.photon_energy_range(mod, E_N)), 11)
    hist, _ = np.histogram(E_g, edges)
    for i in range(10):
        p, _ = integrate.quad(
            lambda e: float(decay.photon_energy_distribution(mod, e, E_N, c_L)),
            edges[i],
            edges[i + 1],
        )
        n_exp = p * cs.size
        assert abs(hist[i] - n_exp) < 5 * np.sqrt(n_exp)


def test_sterile_daughter_photon_energy():
    m, mp = 5e-3, 3e-3
    mod = dirac(m=m, mu=(0, 0, 0), mu_prime=1e-9, m_N_prime=mp)
    w = float(decay.rest_frame_photon_energy(mod, 3))
    assert w == pytest.approx((m * m - mp * mp) / (2 * m), rel=1e-15)
    E_N = 8e-3
    lo, hi = (float(x) for x in decay.photon_energy_range(mod, E_N, channel=3))
    k = np.sqrt(E_N**2 - m**2)
    # explicit boost of a photon of energy w emitted forward/backward
    assert hi == pytest.approx(E_N / m * w * (1 + k / E_N), rel=1e-13)
    assert lo == pytest.approx(E_N / m * w * (1 - k / E_N), rel=1e-13)
    norm, _ = integrate.quad(
        lambda e: float(decay.photon_energy_distribution(mod, e, E_N, -1.0, channel=3)), lo, hi
    )
    assert norm == pytest.approx(1.0, rel=1e-10)


def test_bad_model_input():
    with pytest.raises(ValueError, match="nature"):
        DipoleModel(m_N=1e-3, mu=(1e-9, 0, 0), nature="weyl")
    with pytest.raises(ValueError, match="m_N"):
        DipoleModel(m_N=-1e-3, mu=(1e-9, 0, 0))
    with pytest.raises(ValueError, match="m_N"):
        DipoleModel(m_N=float("nan"), mu=(1e-9, 0, 0))
    with pytest.raises(ValueError, match="mu"):
        DipoleModel(m_N=1e-3, mu=(1e-9, 0))
    with pytest.raises(ValueError, match="mu"):
        DipoleModel(m_N=1e-3, mu=(1e-9, float("inf"), 0))
    with pytest.raises(ValueError, match="m_N_prime"):
        DipoleModel(m_N=1e-3, mu=(1e-9, 0, 0), m_N_prime=2e-3)
    with pytest.raises(ValueError, match="E_N"):
        decay.mean_decay_length(dirac(), -1.0)
    with pytest.raises(ValueError, match="length"):
        decay.decay_probability(dirac(), 8e-3, -1.0)
