"""Radiative upscattering: photon distributions against independent integrals and identities."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

import jaxdipole as jd
from jaxdipole import decay
from jaxdipole.kinematics import recoil_range
from jaxdipole.radiative import (
    photon_bin_fractions,
    photon_energy_fractions,
    radiative_dsigma,
    radiative_dsigma_dcos,
    radiative_dsigma_dEgamma,
    radiative_sigma,
    radiative_sigma_binned,
)

u = jd.units
CA = jd.nucleus("Ca40")
E8 = 8e-3


def mdl(nature="dirac", m=4e-3, mu=(1e-9, 0.0, 0.0), **kw):
    return jd.DipoleModel(m_N=m, mu=mu, nature=nature, **kw)


FULL_E = jnp.asarray([0.0, 1e-3, 2e-3, 3e-3, 5e-3, 1.0])
FULL_C = jnp.asarray([-1.0, -0.3, 0.2, 0.7, 1.0])


@pytest.mark.parametrize("nature", ["dirac", "majorana"])
def test_binned_total_is_sigma_times_br(nature):
    # prompt decays: Σ over all photon bins = σ_Primakoff × BR (all channels: BR = 1)
    mod = mdl(nature, mu=(1e-9, 2e-9, 0.0))
    s = float(jd.primakoff_sigma(mod, CA, E8))
    b = radiative_sigma_binned(mod, CA, E8, FULL_E, FULL_C)
    assert float(jnp.sum(b)) == pytest.approx(s, rel=1e-10)
    # one flavour channel: × BR_mu = 4/5
    b1 = radiative_sigma_binned(mod, CA, E8, FULL_E, FULL_C, channels=1)
    assert float(jnp.sum(b1)) == pytest.approx(s * 0.8, rel=1e-10)


def test_binned_total_with_decay_length_vs_scipy():
    # Σ bins = ∫ dE_R dσ/dE_R · BR · P_dec(E_N): independent scipy quad in ln E_R
    mod = mdl(mu=(1e-9, 0.0, 0.0), mu_prime=3e-9, m_N_prime=1e-3)
    L = 10 * u.cm
    lo, hi = (float(x) for x in recoil_range(E8, 4e-3, float(CA.mass)))
    br_act = float(decay.branching_ratios(mod)[0])

    def f(v):
        T = np.exp(v)
        ds = float(jd.primakoff_dsigma_dER(mod, CA, E8, T))
        p = float(decay.decay_probability(mod, E8 - T, L))
        return T * ds * p

    ref, _ = integrate.quad(f, np.log(lo), np.log(hi), epsabs=0, epsrel=1e-12, limit=200)
    b = radiative_sigma_binned(mod, CA, E8, FULL_E, FULL_C, decay_length=L, channels="active")
    assert float(jnp.sum(b)) == pytest.approx(ref * br_act, rel=1e-6)
    both = radiative_sigma_binned(mod, CA, E8, FULL_E, FULL_C, decay_length=L)
    ster = radiative_sigma_binned(mod, CA, E8, FULL_E, FULL_C, decay_length=L, channels="sterile")
    np.testing.assert_allclose(np.asarray(b + ster), np.asarray(both), rtol=1e-13, atol=0)


def test_majorana_box_at_fixed_n_energy():
    # a Majorana N of fixed energy: flat, symmetric box on [(E_N − k)/2, (E_N + k)/2]
    m, E_N = 4e-3, 7e-3
    k = np.sqrt(E_N**2 - m**2)
    lo, hi = (E_N - k) / 2, (E_N + k) / 2
    edges = jnp.linspace(lo, hi, 9)
    fr = np.asarray(photon_energy_fractions(E_N, k, m, m / 2, 0.0, edges))
    np.testing.assert_allclose(fr, 1 / 8, rtol=1e-12)
    # 2-D function, full angular range, agrees with the exact 1-D marginal for any c_L
    for c_L, c_T in [(0.0, 0.0), (-0.9, 0.3), (0.5, -0.8)]:
        f2 = photon_bin_fractions(E_N, k, 0.6, m, m / 2, c_L, c_T, edges, jnp.asarray([-1.0, 1.0]))
        f1 = photon_energy_fractions(E_N, k, m, m / 2, c_L, edges)
        np.testing.assert_allclose(np.asarray(f2[:, 0]), np.asarray(f1), rtol=1e-12, atol=1e-15)
    # outside the box: nothing
    out = photon_energy_fractions(E_N, k, m, m / 2, 0.0, jnp.asarray([0.0, 0.99 * lo]))
    assert float(out[0]) == 0.0


def _mc_angles(E_N, m, cos_N, c_L, c_T, n, rng):
    """Independent path: sample the rest-frame law, build vectors, boost explicitly."""
    k = np.sqrt(E_N**2 - m**2)
    gam, beta = E_N / m, k / E_N
    ct = rng.uniform(-1, 1, 4 * n)
    ph = rng.uniform(0, 2 * np.pi, 4 * n)
    st = np.sqrt(1 - ct**2)
    wgt = 1 + c_L * ct + c_T * st * np.cos(ph)
    keep = rng.uniform(0, 1 + abs(c_L) + abs(c_T), ct.size) < wgt
    ct, st, ph = ct[keep][:n], st[keep][:n], ph[keep][:n]
    # rest frame photon (axis z' = k̂, x' = ê_T), energy m/2
    E_star = m / 2
    pz = E_star * ct
    px = E_star * st * np.cos(ph)
    Eg = gam * (E_star + beta * pz)
    pz_lab = gam * (pz + beta * E_star)
    # lab frame: k̂ = (−sin θ_N, 0, cos θ_N), ê_T = (cos θ_N, 0, sin θ_N)
    sN = np.sqrt(1 - cos_N**2)
    z_comp = pz_lab * cos_N + px * sN
    return Eg, z_comp / Eg


def test_bin_fractions_vs_explicit_boost_mc():
    rng = np.random.default_rng(7)
    m, E_N, cos_N, c_L, c_T = 4e-3, 6.5e-3, 0.55, -0.7, 0.6
    k = np.sqrt(E_N**2 - m**2)
    n = 400_000
    Eg, cg = _mc_angles(E_N, m, cos_N, c_L, c_T, n, rng)
    e_edges = np.linspace((E_N - k) / 2, (E_N + k) / 2, 6)
    c_edges = np.linspace(-1, 1, 6)
    hist, _, _ = np.histogram2d(Eg, cg, [e_edges, c_edges])
    fr = np.asarray(
        photon_bin_fractions(E_N, k, cos_N, m, m / 2, c_L, c_T, e_edges, c_edges, n_cos=32)
    )
    expected = fr * len(Eg)
    mask = expected > 20
    pulls = (hist[mask] - expected[mask]) / np.sqrt(expected[mask])
    assert np.max(np.abs(pulls)) < 5
    assert np.sum(pulls**2) / mask.sum() < 2.0
    assert fr.sum() == pytest.approx(1.0, abs=1e-12)


def test_transverse_polarisation_changes_angles_not_energies():
    m, E_N, cos_N = 4e-3, 6.5e-3, 0.55
    k = np.sqrt(E_N**2 - m**2)
    e_edges = jnp.linspace((E_N - k) / 2, (E_N + k) / 2, 5)
    c_edges = jnp.linspace(-1, 1, 5)
    a = photon_bin_fractions(E_N, k, cos_N, m, m / 2, -0.8, 0.0, e_edges, c_edges)
    b = photon_bin_fractions(E_N, k, cos_N, m, m / 2, -0.8, 0.6, e_edges, c_edges)
    np.testing.assert_allclose(np.asarray(a.sum(1)), np.asarray(b.sum(1)), rtol=1e-12)
    assert np.max(np.abs(np.asarray(a.sum(0) - b.sum(0)))) > 1e-3


@pytest.mark.parametrize("nature", ["dirac", "majorana"])
def test_dsigma_dEgamma_integrates_to_bins(nature):
    mod = mdl(nature)
    f = jax.jit(lambda eg: radiative_dsigma_dEgamma(mod, CA, E8, eg))
    edges = [1e-3, 1.9e-3, 2.1e-3, 3e-3, 4e-3]
    b = radiative_sigma_binned(mod, CA, E8, jnp.asarray(edges))
    for i in range(len(edges) - 1):
        v, _ = integrate.quad(lambda x: float(f(x)), edges[i], edges[i + 1], epsrel=1e-11)
        assert v == pytest.approx(float(b[i, 0]), rel=1e-8)


@pytest.mark.parametrize("nature", ["dirac", "majorana"])
def test_double_differential_integrates_to_single(nature):
    mod = mdl(nature)
    Eg = 1e-3
    g = jax.jit(lambda c: radiative_dsigma(mod, CA, E8, Eg, c))
    v, _ = integrate.quad(lambda c: float(g(c)), -1, 1, epsrel=1e-10, limit=400)
    assert v == pytest.approx(float(radiative_dsigma_dEgamma(mod, CA, E8, Eg)), rel=1e-6)


def test_double_differential_cell_vs_binned():
    mod = mdl("dirac")
    g = jax.jit(lambda eg, c: radiative_dsigma(mod, CA, E8, eg, c))
    e1, e2, c1, c2 = 1.0e-3, 1.5e-3, -0.2, 0.4
    b = radiative_sigma_binned(mod, CA, E8, jnp.asarray([e1, e2]), jnp.asarray([c1, c2]), n_cos=32)
    v, _ = integrate.dblquad(lambda c, eg: float(g(eg, c)), e1, e2, c1, c2, epsrel=1e-7)
    assert v == pytest.approx(float(b[0, 0]), rel=2e-4)


def test_double_differential_converged():
    mod = mdl("dirac")
    a = radiative_dsigma(mod, CA, E8, 2.5e-3, 0.3)
    b = radiative_dsigma(mod, CA, E8, 2.5e-3, 0.3, n_scan=128, n_recoil=48)
    assert float(a) == pytest.approx(float(b), rel=1e-6)
    # outside the kinematic region: exactly 0
    assert float(radiative_dsigma(mod, CA, E8, 0.3e-3, 0.3)) == 0.0
    assert float(radiative_dsigma(mod, CA, 3e-3, 1e-3, 0.3)) == 0.0  # below threshold


def test_dirac_softer_than_majorana_fixed_energy():
    e_edges = jnp.linspace(0.0, 8e-3, 801)
    centres = 0.5 * (e_edges[1:] + e_edges[:-1])
    means = {}
    for nature in ("dirac", "majorana"):
        b = radiative_sigma_binned(mdl(nature), CA, E8, e_edges)[:, 0]
        means[nature] = float(jnp.sum(b * centres) / jnp.sum(b))
    assert means["dirac"] < means["majorana"]


def test_radiative_window_and_gradients():
    mod = mdl("dirac")

    def f(logmu, emin, cmax):
        md = jd.DipoleModel(m_N=4e-3, mu=(jnp.exp(logmu), 0.0, 0.0))
        return radiative_sigma(md, CA, E8, photon_energy_min=emin, cos_max=cmax,
                               decay_length=10 * u.cm)  # fmt: skip

    x = (np.log(1e-9), 1.5e-3, 0.6)
    g = jax.grad(f, argnums=(0, 1, 2))(*x)
    val = float(f(*x))
    # long-lived single-flavour regime: rate ∝ mu^4
    assert float(g[0]) / val == pytest.approx(4.0, rel=1e-6)
    for i, h in [(1, 1e-7), (2, 1e-5)]:
        xp, xm = list(x), list(x)
        xp[i] += h
        xm[i] -= h
        fd = (float(f(*xp)) - float(f(*xm))) / (2 * h)
        assert float(g[i]) == pytest.approx(fd, rel=1e-4)
    assert float(g[1]) < 0 and float(g[2]) > 0
    del mod


def test_prompt_vs_long_lived_scaling():
    # prompt: ∝ mu_e^2 BR_e (BR = 1 for one flavour) -> ∝ mu^2
    s1 = radiative_sigma(mdl(mu=(1e-9, 0, 0)), CA, E8)
    s2 = radiative_sigma(mdl(mu=(2e-9, 0, 0)), CA, E8)
    assert float(s2 / s1) == pytest.approx(4.0, rel=1e-12)
    # flavour product: ν_e beam, photon from the ν_μ channel, long-lived: ∝ mu_e^2 mu_mu^2
    L = 1 * u.cm
    a = radiative_sigma(mdl(mu=(1e-9, 1e-9, 0)), CA, E8, decay_length=L, channels=1)
    b = radiative_sigma(mdl(mu=(1e-9, 3e-9, 0)), CA, E8, decay_length=L, channels=1)
    assert float(b / a) == pytest.approx(9.0, rel=1e-6)


def test_no_nan_gradients_at_edges():
    def f(m, E, emin):
        md = jd.DipoleModel(m_N=m, mu=(1e-9, 0.0, 0.0))
        return radiative_sigma(md, CA, E, photon_energy_min=emin, decay_length=5 * u.cm)

    gf = jax.jit(jax.grad(f, argnums=(0, 1, 2)))
    for m, E, emin in [(4e-3, 3e-3, 0.0), (4e-3, 4.0002e-3, 1e-4), (4e-3, 8e-3, 9e-3),
                       (4e-3, 8e-3, 0.0)]:  # fmt: skip
        g = gf(m, E, emin)
        assert all(np.isfinite(float(x)) for x in g)
        assert np.isfinite(float(f(m, E, emin)))


@pytest.mark.parametrize("nature", ["dirac", "majorana"])
def test_dsigma_dcos_vs_binned_and_total(nature):
    mod = mdl(nature, mu_prime=1e-9, m_N_prime=2e-3)
    f = jax.jit(lambda c: radiative_dsigma_dcos(mod, CA, E8, c))
    edges = [-1.0, -0.5, 0.0, 0.6, 1.0]
    b = radiative_sigma_binned(mod, CA, E8, jnp.asarray([0.0, 1.0]), jnp.asarray(edges))[0]
    for i in range(len(edges) - 1):
        v, _ = integrate.quad(lambda x: float(f(x)), edges[i], edges[i + 1], epsrel=1e-10)
        assert v == pytest.approx(float(b[i]), rel=1e-5)
    total = float(jd.primakoff_sigma(mod, CA, E8))
    assert float(jnp.sum(b)) == pytest.approx(total, rel=1e-10)


@pytest.mark.parametrize(
    "nature, antineutrino, m_d",
    [
        ("dirac", False, 0.0),
        ("dirac", True, 0.0),
        ("majorana", True, 0.0),
        ("dirac", False, 2.5e-3),
    ],
)
def test_binned_map_vs_brute_force_monte_carlo(nature, antineutrino, m_d):
    # independent numpy Monte Carlo of the chain (explicit amplitudes' formulas, 4x4 boosts)
    import reference_chain as rc

    rng = np.random.default_rng(11)
    M, Z, A = float(CA.mass), 20, 40
    n = 300_000
    if m_d > 0:
        mod = mdl(nature, mu=(0.0, 0.0, 0.0), mu_prime=1e-9, m_N_prime=m_d)
        channels = "sterile"
        # production needs an active moment; the sterile channel takes all decays when mu = 0
        mod = jd.DipoleModel(m_N=4e-3, mu=(1e-12, 0, 0), nature=nature, mu_prime=1e-6,
                             m_N_prime=m_d)  # fmt: skip
    else:
        mod = mdl(nature)
        channels = "all"
    Eg, cg = rc.sample_chain(E8, 4e-3, M, Z, A, nature, n, rng, antineutrino=antineutrino,
                             m_daughter=m_d)  # fmt: skip
    e_edges = np.quantile(Eg, np.linspace(0, 1, 7))
    e_edges[0], e_edges[-1] = 0.0, 1.0
    c_edges = np.array([-1.0, -0.4, 0.1, 0.5, 0.8, 1.0])
    hist, _, _ = np.histogram2d(Eg, cg, [e_edges, c_edges])
    b = radiative_sigma_binned(mod, CA, E8, jnp.asarray(e_edges), jnp.asarray(c_edges),
                               antineutrino=antineutrino, channels=channels)  # fmt: skip
    expected = np.asarray(b) / float(jnp.sum(b)) * n
    pulls = (hist - expected) / np.sqrt(np.maximum(expected, 1.0))
    assert np.max(np.abs(pulls)) < 4.5
    chi2 = float(np.sum(pulls**2))
    assert chi2 < 30 * 2.0  # 30 bins


@pytest.mark.parametrize("which", ["d2", "dEg", "dcos"])
def test_pointwise_gradients_vs_finite_differences(which):
    def f(logmu, m, E):
        md = jd.DipoleModel(m_N=m, mu=(jnp.exp(logmu), 0.0, 0.0))
        if which == "d2":
            return radiative_dsigma(md, CA, E, 2.5e-3, 0.3)
        if which == "dEg":
            return radiative_dsigma_dEgamma(md, CA, E, 2.5e-3)
        return radiative_dsigma_dcos(md, CA, E, 0.3)

    lf = lambda *a: jnp.log(f(*a))
    x = (np.log(1e-9), 4e-3, 8e-3)
    g = jax.grad(lf, argnums=(0, 1, 2))(*x)
    assert float(g[0]) == pytest.approx(2.0, rel=1e-10)  # prompt: ∝ mu^2
    for i in (1, 2):
        xp, xm = list(x), list(x)
        xp[i] += 1e-8
        xm[i] -= 1e-8
        fd = (float(lf(*xp)) - float(lf(*xm))) / 2e-8
        assert float(g[i]) == pytest.approx(fd, rel=1e-5)
    # below the production threshold: exactly 0 with finite (zero) gradients
    assert float(f(x[0], 4e-3, 3e-3)) == 0.0
    assert all(float(v) == 0.0 for v in jax.grad(f, argnums=(0, 1, 2))(x[0], 4e-3, 3e-3))


def test_bin_fractions_kink_bins_only_equal_split_every_bin(monkeypatch):
    # many E_γ bins split only the bins that hold a cone-touching point; the reference splits
    # every bin (the rule used for few bins): values and gradients must agree
    import jaxdipole.radiative as rad

    m, E_N, c_L, c_T = 4e-3, 6.5e-3, -0.7, 0.6
    k = np.sqrt(E_N**2 - m**2)
    e_edges = jnp.linspace(0.8 * (E_N - k) / 2, 1.1 * (E_N + k) / 2, 41)  # some bins empty
    c_edges = jnp.linspace(-1, 1, 13)
    weights = jnp.arange(1.0, 41.0)[:, None] * jnp.arange(1.0, 13.0)[None, :]

    def fr(E, cN):
        kk = jnp.sqrt(E * E - m * m)
        return photon_bin_fractions(E, kk, cN, m, m / 2, c_L, c_T, e_edges, c_edges)

    def value_and_grad():  # a fresh trace reads the module's _N_BINS_SPLIT_ALL
        moment = jax.value_and_grad(lambda E, cN: jnp.sum(weights * fr(E, cN)), argnums=(0, 1))
        return jax.jit(lambda E, cN: (fr(E, cN), moment(E, cN)[1]))

    cos_N = jnp.asarray([0.55, -0.3, 0.98])
    fast, g_fast = jax.vmap(value_and_grad(), (None, 0))(E_N, cos_N)
    monkeypatch.setattr(rad, "_N_BINS_SPLIT_ALL", 10_000)
    ref, g_ref = jax.vmap(value_and_grad(), (None, 0))(E_N, cos_N)
    np.testing.assert_allclose(np.asarray(ref).sum(axis=(1, 2)), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.asarray(fast), np.asarray(ref), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.asarray(g_fast), np.asarray(g_ref), rtol=1e-10)
