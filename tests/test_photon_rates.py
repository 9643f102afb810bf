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
        return photon_energy_spectrum(md, exp, edges, precise=False, n_recoil=8)

    def window(e_min):
        exp = SMALL.with_(photon_energy_min=e_min, photon_energy_max=edges[3])
        return radiative_events(md, exp, precise=False, n_recoil=8)

    e_min = edges[2]
    jac = np.asarray(jax.jit(jax.jacfwd(binned))(e_min))
    assert np.all(jac[:2] == 0.0)
    gw = float(jax.jit(jax.grad(window))(e_min))
    assert gw < 0 and jac[2] == pytest.approx(gw, rel=1e-8)
    assert np.all(jac[3:] == 0.0)


# ------------------------------------------------------------- 2-D maps: the Legendre fold
# an (E_γ, cos θ_γ) grid with tiny bins: 50 keV around ω* = m/2 = 2.5 MeV and at 7 MeV, and
# cos θ_γ bins of 0.01 in the middle and near the beam
MAP_E = np.array([0.0, 1.0, 1.5, 2.0, 2.45, 2.5, 2.55, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.5, 7.0,
                  7.05, 8.0, 10.0]) * 1e-3  # fmt: skip
MAP_C = np.array([-1.0, -0.8, -0.6, -0.2, 0.1, 0.11, 0.12, 0.4, 0.6, 0.7, 0.8, 0.9, 0.95, 0.96,
                  0.99, 1.0])  # fmt: skip


def _gauss(n):
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x + 1), 0.5 * w


def reference_map(m, M, Z, A, nature, e_edges, c_edges, E_max=10e-3, n_e=4, n_k=64, n_th=20):
    """Independent numpy map for the Vogel–Engel reactor shape (up to normalisation), with the
    physics of reference_chain: quadrature in (E_γ, N momentum k, N angle θ_N) with, for each
    cos θ_γ edge, the azimuthal fraction of the photon cone below it in closed form and θ_N
    split where the cone touches the edge (sqrt kinks; smoothstep nodes), the cell the
    difference of the two edges' integrals. Weight of (E_γ, k): m/(2 ω* E_N) (ds/2 = m dE_γ /
    2ω*k, dE_N = k dk/E_N)."""
    omega, a = m / 2, rc.analysing_power_sign(nature, antineutrino=True) * -1.0
    EN_top = E_max - rc.recoil_limits(E_max, m, M)[0]
    k_top = np.sqrt(EN_top**2 - m * m)
    eps_lo, eps_hi = omega * (EN_top - k_top) / m, omega * (EN_top + k_top) / m
    te, we = _gauss(n_e)
    tk, wk = _gauss(n_k)
    ts, ws = _gauss(n_th)
    ts, ws = ts * ts * (3 - 2 * ts), ws * 6 * ts * (1 - ts)
    c = np.asarray(c_edges)
    th_c = np.arccos(c)
    out = np.zeros((len(e_edges) - 1, len(c) - 1))
    for i in range(len(e_edges) - 1):
        br = np.unique(np.clip([omega, eps_lo, eps_hi, *e_edges[i : i + 2]], *e_edges[i : i + 2]))
        lo, hi = br[:-1, None], br[1:, None]
        eps, w_eps = (lo + (hi - lo) * te).ravel(), ((hi - lo) * we).ravel()
        x = m * eps / omega
        k_min = np.minimum(np.abs(x * x - m * m) / (2 * x), k_top)
        k = k_top - (k_top - k_min[:, None]) * (1 - tk) ** 2  # clustered towards k_top
        w_k = (k_top - k_min[:, None]) * 2 * (1 - tk) * wk
        E_N = np.sqrt(k * k + m * m)
        cos_a = np.clip((E_N - m * omega / eps[:, None]) / k, -1, 1)
        alpha = np.arccos(cos_a)
        s = np.clip((x[:, None] - E_N) / k, -1, 1)
        T_cut = E_max - E_N  # flux end point
        th_hi = np.arccos(np.clip((E_N**2 + k**2 - 2 * T_cut * (M - E_N)) / (2 * k * E_max), -1, 1))
        E_N, k, ca, s3 = (v[..., None, None] for v in (E_N, k, cos_a, s))
        G = np.zeros((eps.size, c.size))
        for j in range(c.size):
            kinks = np.stack(
                [np.abs(th_c[j] - alpha), th_c[j] + alpha, 2 * np.pi - th_c[j] - alpha]
            )
            pts = np.concatenate(
                [np.zeros_like(th_hi)[None], np.clip(kinks, 0, th_hi), th_hi[None]]
            )
            pts = np.sort(pts, axis=0)
            lo, hi = np.moveaxis(pts[:-1], 0, -1)[..., None], np.moveaxis(pts[1:], 0, -1)[..., None]
            th, w_th = lo + (hi - lo) * ts, (hi - lo) * ws
            num = E_N**2 + k**2 - 2 * E_N * k * np.cos(th)
            den = 2 * (M - E_N + k * np.cos(th))
            T = num / den  # |p_ν − k_N|² = p_R² at fixed E_N
            dT = 2 * k * np.sin(th) * (E_N * den + num) / den**2
            E_nu = E_N + T
            f = w_th * dT * rc.vogel_engel(E_nu) * rc.dsigma_dER(E_nu, T, m, M, Z, A)
            with np.errstate(all="ignore"):
                kappa = (c[j] - ca * np.cos(th)) / (np.sqrt(1 - ca * ca) * np.sin(th))
            kappa = np.where(np.isfinite(kappa), kappa, np.sign(c[j] - ca * np.cos(th)))
            phi_c = np.arccos(np.clip(kappa, -1, 1))  # the cone is below c for |φ| >= φ_c
            P_L, P_T = rc.polarisation(E_nu, T, m, M)
            F = (1 + a * P_L * s3) * (np.pi - phi_c) / np.pi
            F = F - a * P_T * np.sqrt(1 - s3 * s3) * np.sin(phi_c) / np.pi
            per_k = np.sum(f * F, axis=(-2, -1)) * m / (2 * omega * E_N[..., 0, 0])
            G[:, j] = np.sum(w_k * per_k, axis=1)
        out[i] = np.sum(w_eps[:, None] * (G[:, 1:] - G[:, :-1]), axis=0)
    return out


_map = jax.jit(lambda md, e, c: photon_map(md, GE_EXP, e, c))


@pytest.mark.parametrize("nature", ["dirac", "majorana"])
def test_photon_map_cells_against_independent_quadrature(nature):
    # every cell holding >= 1 % of the peak within 1e-3 (measured: ~1e-4, the reference's own
    # accuracy; the default agrees with a run at twice the order and node counts to ~1e-6)
    md = model(nature)
    got = np.asarray(_map(md, jnp.asarray(MAP_E), jnp.asarray(MAP_C)))
    ref = reference_map(5e-3, float(GE74.mass), 32, 74, nature, MAP_E, MAP_C)
    g, r = got / got.sum(), ref / ref.sum()
    sel = r > 0.01 * r.max()
    assert sel.sum() >= 100
    assert np.max(np.abs(g[sel] / r[sel] - 1)) < 1e-3
    # marginals: rows = the E_γ spectrum (exact E_γ fractions), columns = the angular spectrum,
    # total = the Primakoff events (prompt decays, BR = 1)
    spec = np.asarray(photon_energy_spectrum(md, GE_EXP, jnp.asarray(MAP_E)))
    np.testing.assert_allclose(got.sum(1), spec, rtol=1e-6, atol=1e-9 * spec.max())
    ang = np.asarray(photon_angle_spectrum(md, GE_EXP, jnp.asarray(MAP_C)))
    np.testing.assert_allclose(got.sum(0), ang, rtol=1e-6)
    assert got.sum() == pytest.approx(float(primakoff_events(md, GE_EXP)), rel=1e-8)


def test_photon_map_line_flux_decay_region_and_threshold():
    # a monochromatic ν̄ line, 20 eV threshold, decays within 1 m, Dirac: rows against the exact
    # E_γ fractions, columns against the per-node cos θ* quadrature (precise=False: one
    # neutrino energy, so a fine recoil rule is cheap)
    flux = MonochromaticFlux(8e-3, 1e12 / (u.cm2 * u.s), antineutrino=True)
    exp = Experiment(GE74, 1 * u.kg, 1 * u.year, flux, 20 * u.eV, 1 * u.m, photon_energy_min=0.0)
    md = model("dirac", mu=(1e-8, 0.0, 0.0))
    e_edges = jnp.linspace(0.0, 8e-3, 9)
    c_edges = jnp.array([-1.0, -0.5, 0.0, 0.3, 0.6, 0.8, 0.9, 1.0])
    got = np.asarray(photon_map(md, exp, e_edges, c_edges))
    spec = np.asarray(photon_energy_spectrum(md, exp, e_edges))
    np.testing.assert_allclose(got.sum(1), spec, rtol=1e-6, atol=1e-9 * spec.max())
    ref = np.asarray(photon_map(md, exp, e_edges, c_edges, precise=False, n_recoil=256,
                                n_cos=16))  # fmt: skip
    sel = ref > 0.01 * ref.max()
    assert sel.sum() >= 15
    assert np.max(np.abs(got[sel] / ref[sel] - 1)) < 1e-3


E_CELLS = jnp.linspace(0.5e-3, 6e-3, 5)
C_CELLS = jnp.array([-1.0, 0.0, 0.5, 1.0])


def _cells(m, thr, c1):
    """Cells of a narrowed acceptance at W184 with a 20 eV threshold and a 10 cm decay region."""
    exp = SMALL.with_(recoil_threshold=thr, photon_cos_min=-0.8)
    md = jd.DipoleModel(m, (1e-9, 0.0, 0.0), "majorana")
    return photon_map(md, exp, E_CELLS, C_CELLS.at[1].set(c1))


def test_photon_map_gradients():
    # jacobians in m_N, the threshold and a cos θ_γ edge against central differences; finite,
    # and zero where the threshold is beyond the kinematic range
    x = (4e-3, 30 * u.eV, 0.0)
    f = jax.jit(_cells)
    jacobian = jax.jit(jax.jacfwd(_cells, argnums=(0, 1, 2)))
    jac = jacobian(*x)
    for i, h in [(0, 1e-7), (1, 1e-2 * u.eV), (2, 1e-5)]:
        xp, xm = list(x), list(x)
        xp[i] += h
        xm[i] -= h
        fd = (np.asarray(f(*xp)) - np.asarray(f(*xm))) / (2 * h)
        g = np.asarray(jac[i])
        sel = np.abs(fd) > 1e-3 * np.abs(fd).max()
        assert np.all(np.isfinite(g)) and np.max(np.abs(g[sel] / fd[sel] - 1)) < 1e-3
    far = jacobian(4e-3, 10 * u.keV, 0.0)
    assert float(jnp.sum(f(4e-3, 10 * u.keV, 0.0))) == 0.0
    assert all(float(jnp.max(jnp.abs(v))) == 0.0 for v in far)


def test_photon_map_under_vmap_and_options():
    # vmap over m_N equals single calls; the order of the expansion is checked
    x = (30 * u.eV, 0.0)
    vm = jax.jit(jax.vmap(lambda m: _cells(m, *x)))(jnp.array([3e-3, 4e-3]))
    np.testing.assert_allclose(vm[1], _cells(4e-3, *x), rtol=1e-12)
    assert float(vm[0].sum()) > 0
    with pytest.raises(ValueError, match="n_legendre"):
        photon_map(model("dirac"), SMALL, E_CELLS, C_CELLS, n_legendre=1)
