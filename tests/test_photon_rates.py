"""Radiative (photon) event spectra at an experiment: reference chain numbers, an independent
Monte Carlo, an independent scipy integral with decays in the detector, gradients, windows."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reference_chain as rc
from scipy import integrate

import jaxdipole as jd
from jaxdipole.experiment import Experiment
from jaxdipole.flux import MonochromaticFlux
from jaxdipole.photon_rates import (
    photon_angle_spectrum,
    photon_energy_spectrum,
    photon_map,
    radiative_events,
)
from jaxdipole.rates import primakoff_events

u = jd.units
GE74 = jd.nucleus("Ge74")
VE = jd.ReactorFlux.vogel_engel_benchmark(4 * u.GW, 100 * u.m)
GE_EXP = Experiment(GE74, 1 * u.kg, 1 * u.day, VE, 0.0, None, photon_energy_min=0.0)
E_EDGES = jnp.linspace(0.0, 10e-3, 201)
CENTRES = np.asarray(0.5 * (E_EDGES[1:] + E_EDGES[:-1]))
# a one-element NUCLEUS-like detector (W184 at Chooz, 10 cm decay region): fast to compile
SMALL = Experiment(jd.nucleus("W184"), 10 * u.g, 1 * u.year, jd.experiments.chooz_flux(),
                   20 * u.eV, 10 * u.cm)  # fmt: skip


def model(nature, m=5e-3, mu=(1e-9, 0.0, 0.0), **kw):
    return jd.DipoleModel(m_N=m, mu=mu, nature=nature, **kw)


_spectrum = jax.jit(lambda md: photon_energy_spectrum(md, GE_EXP, E_EDGES))


@pytest.mark.parametrize("nature, mean_mev", [("dirac", 2.629), ("majorana", 3.074)])
def test_reactor_full_chain_reference(nature, mean_mev):
    # reference values from an independent quadrature of the production × decay chain
    # (tests/reference_chain.py cross-checks them by Monte Carlo): ν̄_e, Vogel–Engel 4 GW at
    # 100 m, 1 kg Ge74, m_N = 5 MeV, mu = 1e-9 GeV^-1, prompt decays: 2.452e-5 /(kg day);
    # <E_gamma> 2.629 / 3.074 MeV
    md = model(nature)
    s = np.asarray(_spectrum(md))
    p = float(primakoff_events(md, GE_EXP))
    assert s.sum() == pytest.approx(p, rel=1e-10)  # prompt, BR = 1: every N gives a photon
    assert s.sum() == pytest.approx(2.452e-5, rel=5e-3)
    mean = float((s * CENTRES).sum() / s.sum()) / 1e-3
    assert mean == pytest.approx(mean_mev, abs=0.005)


def test_dirac_softer_than_majorana_for_reactor_antineutrinos():
    d = np.asarray(_spectrum(model("dirac")))
    m = np.asarray(_spectrum(model("majorana")))
    cd = np.cumsum(d) / d.sum()
    cm = np.cumsum(m) / m.sum()
    assert np.all(cd >= cm - 1e-12)  # Dirac CDF above Majorana CDF: stochastically softer
    assert (CENTRES * d).sum() / d.sum() < (CENTRES * m).sum() / m.sum() - 0.3e-3


@pytest.mark.parametrize("nature", ["dirac", "majorana"])
def test_reactor_spectra_vs_brute_force_monte_carlo(nature):
    rng = np.random.default_rng(5)
    M, Z, A = float(GE74.mass), 32, 74
    ev = rc.sample_reactor_chain(5e-3, M, Z, A, nature, 300_000, rng, antineutrino=True)
    w = ev["weight"] / ev["weight"].sum()
    e_edges = np.array([0.0, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 10.0]) * 1e-3
    c_edges = np.array([-1.0, -0.5, 0.0, 0.4, 0.7, 1.0])
    h, _, _ = np.histogram2d(ev["E_gamma"], ev["cos_gamma"], [e_edges, c_edges], weights=w)
    h2, _, _ = np.histogram2d(ev["E_gamma"], ev["cos_gamma"], [e_edges, c_edges], weights=w * w)
    pm = np.asarray(photon_map(model(nature), GE_EXP, jnp.asarray(e_edges), jnp.asarray(c_edges)))
    pm = pm / pm.sum()
    mask = h2 > 0
    pulls = (h[mask] - pm[mask]) / np.sqrt(h2[mask])
    assert np.max(np.abs(pulls)) < 4.5
    assert np.sum(pulls**2) < 2.0 * mask.sum()


def test_decay_in_detector_vs_independent_integral():
    # line flux, N must decay within L: events = T N_T Φ ∫ dE_R dσ/dE_R P_dec(E_N) BR
    E0, phi = 8e-3, 1e12 / (u.cm2 * u.s)
    L = 10 * u.cm
    flux = MonochromaticFlux(E0, phi, antineutrino=True)
    exp = Experiment(GE74, 1 * u.kg, 1 * u.year, flux, 20 * u.eV, L, photon_energy_min=0.0)
    mu_e, m = 7e-4, 5e-3  # L/λ ~ 1: neither prompt nor long-lived
    md = model("majorana", m=m, mu=(mu_e, 0.0, 0.0))
    M = float(GE74.mass)
    gamma_tot = 2 * mu_e**2 * m**3 / (16 * np.pi)  # Majorana width, closed form
    lo, hi, _ = rc.recoil_limits(E0, m, M)
    lo = max(lo, 20e-9)

    def f(v):
        T = np.exp(v)
        k = np.sqrt((E0 - T) ** 2 - m * m)
        p = -np.expm1(-L * m * gamma_tot / k)
        return T * rc.dsigma_dER(E0, T, m, M, 32, 74, mu=mu_e) * p

    ref, _ = integrate.quad(f, np.log(lo), np.log(hi), epsabs=0, epsrel=1e-12, limit=200)
    n_T = float(exp.nuclei_counts[0])
    ref *= n_T * phi * float(exp.exposure)
    ours = float(radiative_events(md, exp))
    assert ours == pytest.approx(ref, rel=1e-6)
    # the decay probability really matters here (neither prompt nor negligible)
    prompt = float(radiative_events(md, exp.with_(decay_length=None)))
    assert 0.01 < ours / prompt < 0.99


def test_coupling_scaling_long_lived_and_prompt():
    exp = SMALL  # decay length 10 cm: long-lived at allowed mu

    def logn(logmu, e):
        md = jd.DipoleModel(m_N=5e-3, mu=(jnp.exp(logmu), 0.0, 0.0))
        return jnp.log(radiative_events(md, e))

    g_long = float(jax.grad(logn)(jnp.log(1e-9), exp))
    g_prompt = float(jax.grad(logn)(jnp.log(1e-9), exp.with_(decay_length=None)))
    assert g_long == pytest.approx(4.0, rel=1e-6)  # ∝ mu^4 (long-lived: BR × L/λ ∝ mu^2 mu^2)
    assert g_prompt == pytest.approx(2.0, rel=1e-10)  # ∝ mu^2 BR, BR = 1


def test_flavour_products_and_channels():
    # ν_e beam, moments to e and mu: photons from the ν_mu channel ∝ mu_e^2 mu_mu^2 (long-lived)
    exp = SMALL
    a = radiative_events(model("dirac", mu=(1e-9, 1e-9, 0.0)), exp, channels=1)
    b = radiative_events(model("dirac", mu=(1e-9, 2e-9, 0.0)), exp, channels=1)
    c = radiative_events(model("dirac", mu=(2e-9, 1e-9, 0.0)), exp, channels=1)
    assert float(b / a) == pytest.approx(4.0, rel=1e-6)
    assert float(c / a) == pytest.approx(4.0, rel=1e-6)
    # channels add up
    md = model("dirac", mu=(1e-9, 1e-9, 0.0), mu_prime=1e-9, m_N_prime=1e-3)
    parts = sum(radiative_events(md, exp, channels=ch) for ch in (0, 1, 2, "sterile"))
    assert float(parts) == pytest.approx(float(radiative_events(md, exp)), rel=1e-12)


def test_numu_flux_component_uses_its_flavour():
    E0, phi = 30e-3, 1e7 / (u.cm2 * u.s)
    ex_e = Experiment(GE74, 1 * u.kg, 1 * u.year, MonochromaticFlux(E0, phi, flavour=0), 50 * u.eV)
    ex_mu = ex_e.with_(flux=MonochromaticFlux(E0, phi, flavour=1))
    a = radiative_events(model("dirac", mu=(1e-9, 0.0, 0.0)), ex_e)
    b = radiative_events(model("dirac", mu=(0.0, 1e-9, 0.0)), ex_mu)
    assert float(a) > 0 and float(b) == pytest.approx(float(a), rel=1e-12)
    assert float(radiative_events(model("dirac", mu=(0.0, 1e-9, 0.0)), ex_e)) == 0.0


def test_photon_window_and_efficiency():
    exp = SMALL.with_(photon_energy_min=1e-3, photon_energy_max=4e-3)
    md = model("majorana", m=3e-3)
    edges = jnp.asarray([0.0, 0.5e-3, 1e-3, 2e-3, 4e-3, 6e-3])
    s = np.asarray(photon_energy_spectrum(md, exp, edges))
    assert s[0] == 0.0 and s[1] == 0.0 and s[4] == 0.0
    assert s[2] > 0 and s[3] > 0
    assert s.sum() == pytest.approx(float(radiative_events(md, exp)), rel=1e-10)
    half = exp.with_(photon_efficiency=0.5)
    assert float(radiative_events(md, half)) == pytest.approx(0.5 * s.sum(), rel=1e-12)
    ang = np.asarray(photon_angle_spectrum(md, exp, jnp.linspace(-1, 1, 5)))
    assert ang.sum() == pytest.approx(s.sum(), rel=1e-8)
    cut = exp.with_(photon_cos_min=0.0)
    ang_cut = np.asarray(photon_angle_spectrum(md, cut, jnp.linspace(-1, 1, 5)))
    assert ang_cut[0] == 0.0 and ang_cut[1] == 0.0
    np.testing.assert_allclose(ang_cut[2:], ang[2:], rtol=1e-10)


def test_gradients_vs_finite_differences():
    base = SMALL
    md = model("dirac", m=4e-3)

    def f(thr, emin, L):
        e = base.with_(recoil_threshold=thr, photon_energy_min=emin, decay_length=L)
        return radiative_events(md, e)

    x = (30 * u.eV, 0.5e-3, 10 * u.cm)
    vg = jax.jit(jax.value_and_grad(f, argnums=(0, 1, 2)))
    val, g = vg(*x)
    for i, h in [(0, 1e-2 * u.eV), (1, 1e-6), (2, 1e-3 * u.cm)]:
        xp, xm = list(x), list(x)
        xp[i] += h
        xm[i] -= h
        fd = (float(vg(*xp)[0]) - float(vg(*xm)[0])) / (2 * h)
        assert float(g[i]) == pytest.approx(fd, rel=1e-5)
    assert float(g[0]) < 0 and float(g[1]) < 0 and float(g[2]) > 0
    # long-lived: events ∝ L
    assert float(g[2]) * x[2] / float(val) == pytest.approx(1.0, rel=1e-6)
    # beyond the kinematic limits (W recoils < 2 keV at 10 MeV): zero events, finite zero grads
    v_far, g_far = vg(10 * u.keV, 0.5e-3, x[2])
    assert float(v_far) == 0.0
    assert all(float(v) == 0.0 for v in g_far)


def test_gradient_when_photon_threshold_sits_on_a_bin_edge():
    """d/dE_γ,min per bin when E_γ,min coincides with a bin edge: the empty bins below have
    zero derivative, the first bin above the derivative of the one-bin window [E_min, edge]."""
    md = model("dirac")
    edges = jnp.linspace(0.4, 4.0, 7) * u.MeV  # 1.6 MeV is an edge (index 2)

    def binned(e_min):
        exp = SMALL.with_(photon_energy_min=e_min, photon_energy_max=4.0 * u.MeV)
        return photon_energy_spectrum(md, exp, edges, precise=False, n_nodes=8)

    def window(e_min):
        exp = SMALL.with_(photon_energy_min=e_min, photon_energy_max=edges[3])
        return radiative_events(md, exp, precise=False, n_nodes=8)

    e_min = edges[2]
    jac = np.asarray(jax.jit(jax.jacfwd(binned))(e_min))
    assert np.all(jac[:2] == 0.0)
    gw = float(jax.jit(jax.grad(window))(e_min))
    assert gw < 0 and jac[2] == pytest.approx(gw, rel=1e-8)
    assert np.all(jac[3:] == 0.0)
