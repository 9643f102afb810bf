"""The fold engine behind every rate: the Flux quadrature interface (support, lines, panel
edges, break points, chunked folds), tables folded on a bounded rule whatever their size, and
photon spectra exact per bin at the default settings (E_ν split where a bin edge meets the end
of the photon box) against a brute-force rule that knows nothing of those kinks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

import jaxdipole as jd
from jaxdipole._quadrature import gauss_legendre_unit
from jaxdipole.flux import MAX_TABLE_PANELS, MonochromaticFlux, ReactorFlux, TabulatedFlux

u = jd.units
MeV = u.MeV
VE = ReactorFlux.vogel_engel_benchmark(4 * u.GW, 100 * u.m)


def ve_table(n_knots, lo=0.01):
    E = np.linspace(lo, 10.0, n_knots) * MeV
    return TabulatedFlux(E, VE.dphi_dE(E))


def table_fold_reference(E, phi, f, E_low):
    """∫_{E_low} f · (log-log interpolant of (E, phi)) in numpy: 24 GL nodes on every interval
    (square-root map at E_low), where the interpolant is an exact power law."""
    E, phi = np.asarray(E), np.asarray(phi)
    t, w = np.polynomial.legendre.leggauss(24)
    t, w = 0.5 * (t + 1), 0.5 * w
    a, b = E[:-1], E[1:]
    p = np.diff(np.log(phi)) / np.diff(np.log(E))
    lo = np.clip(E_low, a, b)
    h = (b - lo)[:, None]
    x = lo[:, None] + h * t * t
    dens = phi[:-1, None] * (x / a[:, None]) ** p[:, None]
    return float(np.sum(2 * t * w * h * dens * f(x)))


# --------------------------------------------------------------------------- Flux interface
def test_interface_of_each_flux():
    lo, hi = VE.support()
    assert float(lo) == 0.0 and float(hi) == pytest.approx(10 * MeV)
    assert VE.lines()[0].shape == (0,) and VE.has_continuum()
    hm = ReactorFlux(4 * u.GW, 100 * u.m)
    np.testing.assert_allclose(hm.panel_edges(), [0.0, 1.8 * MeV, 10 * MeV])
    line = MonochromaticFlux(29.79 * MeV, 3.0, flavour=1)
    assert not line.has_continuum()
    e, f = line.lines()
    assert float(e[0]) == pytest.approx(29.79 * MeV) and float(f[0]) == 3.0
    E, W = line.nodes(10 * MeV)
    assert E.shape == (1,) and float(W[0]) == 3.0
    assert float(line.nodes(30 * MeV)[1][0]) == 0.0  # a line at or below E_low: weight 0
    both = VE + line
    assert float(both.energy_max()) == pytest.approx(29.79 * MeV)
    np.testing.assert_allclose(both.lines()[1], [3.0])
    # parts: continuum and lines separately add up to the whole
    f2 = lambda x: x * x  # noqa: E731
    whole = both.fold(f2, 1 * MeV)
    split = both.fold(f2, 1 * MeV, parts="continuum") + both.fold(f2, 1 * MeV, parts="lines")
    assert float(split) == pytest.approx(float(whole), rel=1e-14)
    assert float(line.fold(f2, 0.0, parts="continuum")) == 0.0


def test_breaks_make_a_kinked_integrand_exact():
    E_k = 3.7 * MeV
    f = lambda E: jnp.abs(E - E_k) + 0.1 * MeV  # noqa: E731
    ref = quad(
        lambda x: (abs(x - 3.7) + 0.1) * float(VE.dphi_dE(x * MeV)) * MeV,
        0.5, 10.0, points=[3.7], epsabs=0, epsrel=1e-13, limit=200,
    )[0]  # fmt: skip
    plain = float(VE.fold(f, 0.5 * MeV)) / MeV**2
    split = float(VE.fold(f, 0.5 * MeV, breaks=jnp.array([E_k]))) / MeV**2
    assert split == pytest.approx(ref, rel=1e-11)
    assert abs(plain / ref - 1) > 1e-6  # the fixed rule does not see the kink
    # breaks outside the support (or +inf) add empty panels and change nothing
    far = float(VE.fold(f, 0.5 * MeV, breaks=jnp.array([E_k, 20 * MeV, jnp.inf]))) / MeV**2
    assert far == pytest.approx(split, rel=1e-14)


def test_chunked_fold_equals_vmapped_fold():
    f = lambda E: jnp.stack([E, jnp.sqrt(E)])  # noqa: E731
    a = VE.fold(f, 1 * MeV)
    b = VE.fold(f, 1 * MeV, batch_size=5)
    np.testing.assert_allclose(b, a, rtol=1e-14)
    g = jax.grad(lambda x: VE.fold(lambda E: E * E, x, batch_size=7))(2 * MeV)
    ref = -float((2 * MeV) ** 2 * VE.dphi_dE(2 * MeV))
    assert float(g) == pytest.approx(ref, rel=1e-10)


# --------------------------------------------------------------------- tables: bounded rules
def test_table_rule_does_not_grow_with_the_table():
    for n_knots, n_panels in [(41, 40), (4000, MAX_TABLE_PANELS)]:
        tab = ve_table(n_knots)
        E, W = tab.nodes(0.0)
        assert E.shape[0] == n_panels * tab.n_energy
        edges = np.asarray(tab.panel_edges())
        assert np.all(np.diff(edges) > 0)  # knots as edges, no repeats
        assert np.all(np.isin(edges, np.asarray(tab.energies)))


@pytest.mark.parametrize("n_knots, tol", [(41, 1e-12), (400, 1e-7), (4000, 1e-7)])
@pytest.mark.parametrize("E_th_mev", [0.3, 4.0, 9.0])
def test_table_fold_matches_the_interpolant(n_knots, tol, E_th_mev):
    tab = ve_table(n_knots)
    E_th = E_th_mev * MeV

    def f(E):
        return jnp.sqrt(jnp.maximum(E - E_th, 0.0)) * E * E

    got = float(tab.fold(f, E_th))
    ref = table_fold_reference(
        tab.energies, tab.dphi_table, lambda x: np.sqrt(np.maximum(x - E_th, 0)) * x * x, E_th
    )
    assert got == pytest.approx(ref, rel=tol)


def test_table_kinks_become_panel_edges():
    # a coarse-looking feature in a fine table: a sharp edge at 5 MeV must be a panel edge
    E = np.linspace(0.01, 10.0, 3000) * MeV
    phi = np.asarray(VE.dphi_dE(E)) * np.where(E < 5 * MeV, 1.0, 0.2)
    phi[np.argmin(np.abs(E - 5 * MeV))] *= 1.0  # keep positive
    tab = TabulatedFlux(E, phi)
    edges = np.asarray(tab.panel_edges())
    k = np.searchsorted(E, 5 * MeV)
    assert np.any(np.isclose(edges, E[k])) and np.any(np.isclose(edges, E[k - 1]))
    got = float(tab.total(0.0))
    ref = table_fold_reference(E, phi, np.ones_like, 0.0)
    assert got == pytest.approx(ref, rel=1e-7)


# ----------------------------------------------------------- photon spectra, exact per bin
class _BruteReactor(ReactorFlux):
    """The reactor flux on 512 uniform panels of 8 Gauss–Legendre nodes (square-root map at
    E_low), ignoring break points: converges on any kink, knows nothing of the photon box."""

    def nodes(self, E_low=0.0, breaks=None, parts="all", n_per_panel=None):
        edges = jnp.linspace(0.0, 1.0, 513) * self.e_max
        t, w = (jnp.asarray(v) for v in gauss_legendre_unit(8))
        a, b = edges[:-1], edges[1:]
        lo = jnp.clip(E_low, a, b)
        h = (b - lo)[:, None]
        E = (lo[:, None] + h * t * t).ravel()
        return E, (2 * t * w * h).ravel() * self._density(E)


def _ge(flux, **kw):
    kw = {"recoil_threshold": 0.0, "exposure": u.day, "photon_energy_min": 0.0} | kw
    return jd.experiments.ge_reactor(flux=flux, **kw)


def _brute(flux):
    return _BruteReactor.vogel_engel_benchmark(
        4 * u.GW, 100 * u.m, flavour=flux.flavour, antineutrino=flux.antineutrino
    )


def _bin_errors(model, exp, exp_ref, edges, channels="all"):
    got = np.asarray(jd.photon_energy_spectrum(model, exp, edges, channels=channels))
    ref = np.asarray(jd.photon_energy_spectrum(model, exp_ref, edges, channels=channels))
    sel = ref > 0.01 * ref.max()
    assert sel.sum() >= 10  # a spectrum, not a few bins
    return np.max(np.abs(got[sel] / ref[sel] - 1)), got, ref


@pytest.mark.parametrize("nature", ["dirac", "majorana"])
@pytest.mark.parametrize("n_bins, tol", [(40, 1e-3), (200, 3e-3)])
def test_photon_energy_bins_at_the_defaults(nature, n_bins, tol):
    # the case: Ge74, m_N = 5 MeV, mu_e = 1e-9 / GeV, prompt decays, Vogel–Engel
    # 4 GW at 100 m, no recoil threshold (before: 2.7 % / 6.5 % at 40 bins, 7.6 % / 20 % at 200)
    model = jd.DipoleModel(5 * MeV, 1e-9, nature=nature)
    edges = jnp.linspace(0.0, 10 * MeV, n_bins + 1)
    err, got, ref = _bin_errors(model, _ge(VE), _ge(_brute(VE)), edges)
    assert err < tol
    assert got.sum() == pytest.approx(float(jd.primakoff_events(model, _ge(VE))), rel=1e-10)


@pytest.mark.parametrize(
    "case",
    ["nu_beam", "sterile_massive_daughter", "decay_region_threshold"],
)
def test_photon_energy_bins_other_cases(case):
    edges = jnp.linspace(0.0, 8 * MeV, 81)  # 100 keV bins
    flux, kw, channels = VE, {}, "all"
    model = jd.DipoleModel(4 * MeV, 1e-9, nature="majorana")
    if case == "nu_beam":  # a ν beam: Dirac N, photon distributions as for ν̄
        flux = ReactorFlux.vogel_engel_benchmark(4 * u.GW, 100 * u.m, antineutrino=False)
        model = jd.DipoleModel(4 * MeV, 1e-9, nature="dirac")
    elif case == "sterile_massive_daughter":  # N -> N' γ with m_N' = 0.6 m_N
        model = jd.DipoleModel(4 * MeV, 1e-9, nature="dirac", m_N_prime=2.4 * MeV, mu_prime=1e-8)
        channels = "sterile"
    else:  # decays inside 1 m (long-lived N) and a 50 eV recoil threshold
        kw = {"decay_length": 1 * u.m, "recoil_threshold": 50 * u.eV}
    err, got, _ = _bin_errors(model, _ge(flux, **kw), _ge(_brute(flux), **kw), edges, channels)
    assert got.sum() > 0 and err < 1e-3


def test_energy_only_fractions_equal_the_angular_path():
    # photon_energy_spectrum with all angles uses the exact ramp CDF; with two cos θ_γ bins the
    # general cos θ* path runs: their sum must agree with it bin by bin
    model = jd.DipoleModel(5 * MeV, 1e-9, nature="dirac")
    exp = _ge(VE)
    edges = jnp.linspace(0.0, 10 * MeV, 41)
    eager = np.asarray(jd.photon_energy_spectrum(model, exp, edges))
    angular = np.asarray(jd.photon_map(model, exp, edges, [-1.0, 0.3, 1.0])).sum(1)
    # two quadratures of one smooth recoil integral (16 GL nodes; 8 smoothstep nodes per panel)
    np.testing.assert_allclose(angular, eager, rtol=1e-6, atol=1e-12 * eager.max())


def test_traced_acceptance_chooses_the_path_at_run_time():
    # under an outer jit the experiment's acceptance is traced: one cos bin over all angles
    # still takes the ramp-CDF path (lax.cond), a narrower acceptance the angular one
    model = jd.DipoleModel(5 * MeV, 1e-9, nature="majorana")
    edges = jnp.linspace(0.0, 10 * MeV, 21)
    spec = jax.jit(lambda e: jd.photon_energy_spectrum(model, e, edges))
    for cmin in (-1.0, 0.2):
        exp = _ge(VE, photon_cos_min=cmin)
        eager = np.asarray(jd.photon_energy_spectrum(model, exp, edges))
        np.testing.assert_allclose(np.asarray(spec(exp)), eager, rtol=1e-12, atol=0)
    full = np.asarray(jd.photon_energy_spectrum(model, _ge(VE), edges))
    assert np.all(eager <= full) and eager.sum() < 0.9 * full.sum()
    # d N / d cos_min = −(events per unit cos θ_γ at cos_min): a central difference
    tot = jax.jit(lambda c: jd.radiative_events(model, _ge(VE, photon_cos_min=c)))
    g = float(jax.grad(lambda c: jd.radiative_events(model, _ge(VE, photon_cos_min=c)))(0.2))
    h = 1e-3
    fd = (float(tot(0.2 + h)) - float(tot(0.2 - h))) / (2 * h)
    assert g < 0 and g == pytest.approx(fd, rel=1e-4)


def test_photon_map_marginals_against_brute_force():
    model = jd.DipoleModel(5 * MeV, 1e-9, nature="majorana")
    e_edges = jnp.linspace(0.0, 10 * MeV, 11)
    c_edges = jnp.array([-1.0, 0.5, 1.0])
    got = np.asarray(jd.photon_map(model, _ge(VE), e_edges, c_edges))
    ref = np.asarray(jd.photon_map(model, _ge(_brute(VE)), e_edges, c_edges))
    me, re_ = got.sum(1), ref.sum(1)
    sel = re_ > 0.01 * re_.max()
    assert np.max(np.abs(me[sel] / re_[sel] - 1)) < 1e-3
    np.testing.assert_allclose(got.sum(0), ref.sum(0), rtol=1e-3)
    spec = np.asarray(jd.photon_energy_spectrum(model, _ge(VE), e_edges))
    np.testing.assert_allclose(me, spec, rtol=1e-6, atol=1e-9 * spec.max())


# ------------------------------------------------------------------------ bounded memory
def _temp_bytes(fn, *args):
    return jax.jit(fn).lower(*args).compile().memory_analysis().temp_size_in_bytes


def test_memory_does_not_grow_with_the_table():
    # a 4000-knot table, 200 photon bins, and the per-bin jacobian in m_N (40 bins): under 1 GB
    # of temporaries as XLA plans them (before: 339 GB and 33 GB)
    exp = _ge(ve_table(4000))
    edges200 = jnp.linspace(0.0, 10 * MeV, 201)
    edges40 = jnp.linspace(0.0, 10 * MeV, 41)

    def spec(m):
        return jd.photon_energy_spectrum(jd.DipoleModel(m, 1e-9), exp, edges200)

    def jac(m):
        f = lambda x: jd.photon_energy_spectrum(jd.DipoleModel(x, 1e-9), exp, edges40)  # noqa: E731
        return jax.jacfwd(f)(m)

    m0 = jnp.asarray(5 * MeV)
    assert _temp_bytes(spec, m0) < 1e9
    assert _temp_bytes(jac, m0) < 1e9


@pytest.mark.parametrize("nature", ["dirac", "majorana"])
def test_photon_map_cells_against_brute_force_recoil_rule(nature):
    # 2-D cells: the recoil integral is split where the photon cone at a row edge touches a
    # cos θ_γ edge; reference: one plain recoil rule of 512 ln E_R nodes (precise=False) with
    # 24 cos θ* nodes per piece, which converges on those kinks only slowly (~n^-2)
    model = jd.DipoleModel(5 * MeV, 1e-9, nature=nature)
    exp = _ge(VE)
    e_edges = jnp.linspace(0.0, 10 * MeV, 11)
    c_edges = jnp.linspace(-1.0, 1.0, 9)
    got = np.asarray(jd.photon_map(model, exp, e_edges, c_edges))
    ref = np.asarray(
        jd.photon_map(model, exp, e_edges, c_edges, precise=False, n_recoil=512, n_cos=24)
    )
    sel = ref > 0.01 * ref.max()
    assert sel.sum() >= 20
    assert np.max(np.abs(got[sel] / ref[sel] - 1)) < 1e-3
    assert got.sum() == pytest.approx(float(jd.primakoff_events(model, exp)), rel=1e-9)


def test_sterile_selection_without_a_sterile_moment_is_zero():
    # mu_NN' = 0: the sterile channel has no photons and "all" equals the active channels
    model = jd.DipoleModel(5 * MeV, 1e-9)
    exp = _ge(VE)
    e_edges = jnp.linspace(0.0, 10 * MeV, 5)
    assert float(jd.radiative_events(model, exp, channels="sterile")) == 0.0
    np.testing.assert_allclose(
        jd.photon_energy_spectrum(model, exp, e_edges, channels="all"),
        jd.photon_energy_spectrum(model, exp, e_edges, channels="active"),
        rtol=1e-14,
    )
