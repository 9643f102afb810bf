"""Property-based tests (hypothesis) of the public kernels over their input domain: concrete bad
input is refused with a ValueError naming the argument, traced input gives finite values and
gradients (below, at and above every threshold), and the scalings and symmetries of the theory
hold at every point drawn, not only at spot values."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jaxdipole as jd

u = jd.units
GE = jd.nucleus("Ge74")
PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

mass_mev = st.floats(0.01, 30.0)
energy_mev = st.floats(0.05, 60.0)
log_mu = st.floats(-12.0, -6.0)  # log10 of mu [GeV^-1]
bad_energy = st.one_of(st.floats(max_value=-1e-12), st.just(math.nan), st.just(-math.inf))


def model(m_mev, mu=1e-9, nature="dirac"):
    return jd.DipoleModel(m_mev * u.MeV, (mu, 0.0, 0.0), nature)


@PROPS
@given(m=mass_mev, E=energy_mev, lm=log_mu)
def test_primakoff_cross_section_scales_as_mu_squared(m, E, lm):
    # sigma ∝ mu_alpha^2 at every (m_N, E_nu), zero below the production threshold
    mu = 10.0**lm
    a = float(jd.primakoff_sigma(model(m, mu), GE, E * u.MeV))
    b = float(jd.primakoff_sigma(model(m, 3.0 * mu), GE, E * u.MeV))
    assert math.isfinite(a) and a >= 0.0
    assert b == pytest.approx(9.0 * a, rel=1e-12, abs=0.0)
    if E * u.MeV <= float(jd.threshold_energy(m * u.MeV, GE.mass)):
        assert a == 0.0


@PROPS
@given(m=st.floats(0.5, 9.0), frac=st.floats(1.05, 3.0), anti=st.booleans())
def test_radiative_totals_do_not_depend_on_nature_or_helicity(m, frac, anti):
    # prompt decays, BR(N -> nu gamma) = 1: summed over all photons the radiative cross section
    # is the production cross section for Dirac and Majorana N, nu and nu-bar beams alike (the
    # nature and the helicity only move photons around in energy and angle)
    E = frac * float(jd.threshold_energy(m * u.MeV, GE.mass))
    ref = float(jd.primakoff_sigma(model(m), GE, E))
    for nature in ("dirac", "majorana"):
        got = float(jd.radiative_sigma(model(m, nature=nature), GE, E, antineutrino=anti))
        assert got == pytest.approx(ref, rel=1e-6)


def _sigma_of(m, E):
    return jd.primakoff_sigma(jd.DipoleModel(m, (1e-9, 0.0, 0.0)), GE, E)


_sigma_grad = jax.jit(jax.value_and_grad(_sigma_of, argnums=(0, 1)))


@PROPS
@given(m=mass_mev, E=energy_mev)
def test_traced_cross_section_and_gradients_finite_everywhere(m, E):
    # under jit/grad (no checks on traced values): finite value and derivatives in m_N and
    # E_nu anywhere, including below, at and just above the production threshold
    v, (gm, gE) = _sigma_grad(m * u.MeV, E * u.MeV)
    assert np.isfinite(float(v)) and float(v) >= 0.0
    assert np.isfinite(float(gm)) and np.isfinite(float(gE))


@PROPS
@given(bad=bad_energy)
def test_bad_energies_are_refused_naming_the_argument(bad):
    md = model(2.0)
    with pytest.raises(ValueError, match="E_nu"):
        jd.primakoff_sigma(md, GE, bad)
    with pytest.raises(ValueError, match="E_gamma"):
        jd.radiative_dsigma_dEgamma(md, GE, 10 * u.MeV, bad)
    with pytest.raises(ValueError, match="E_R"):
        jd.primakoff_dsigma_dER(md, GE, 10 * u.MeV, bad)


@PROPS
@given(c=st.one_of(st.floats(1.0 + 1e-9, 1e6), st.floats(-1e6, -1.0 - 1e-9), st.just(math.nan)))
def test_bad_photon_angles_are_refused_naming_the_argument(c):
    with pytest.raises(ValueError, match="cos_gamma"):
        jd.radiative_dsigma(model(2.0), GE, 10 * u.MeV, 1 * u.MeV, c)


@PROPS
@given(m=st.floats(0.5, 20.0), lm=log_mu)
def test_decay_widths_scale_and_lengths_invert(m, lm):
    # Γ ∝ mu^2 m^3 for N -> nu gamma (summed over the three flavours); the decay probability
    # over one mean decay length is 1 - 1/e at any energy
    mu = 10.0**lm
    md = model(m, mu)
    w = float(jd.decay_width(md))
    assert w == pytest.approx(float(jd.decay_width(model(m, 2 * mu))) / 4.0, rel=1e-12)
    assert w == pytest.approx(float(jd.decay_width(model(2 * m, mu))) / 8.0, rel=1e-12)
    E_N = 3.0 * m * u.MeV
    lam = jd.mean_decay_length(md, E_N)
    p = float(jd.decay_probability(md, E_N, lam))
    assert p == pytest.approx(1.0 - math.exp(-1.0), rel=1e-12)


# ------------------------------------------------------------------ rate level (folded)
#: A reactor experiment (ν̄_e only): Ge74, 4 GW at 100 m, 1 kg·day; the threshold is drawn.
REACTOR = jd.Experiment(
    target=GE,
    flux=jd.ReactorFlux.vogel_engel_benchmark(4 * u.GW, 100 * u.m),
    recoil_threshold=20 * u.eV,
    target_mass=u.kg,
    exposure=u.day,
)
threshold_ev = st.floats(1.0, 3000.0)
rate_mass_mev = st.floats(0.01, 12.0)  # beyond the reactor end point (~10 MeV) too


@jax.jit
def _recoil_events(m, mu, thr):
    return jd.primakoff_events(jd.DipoleModel(m, mu), REACTOR.with_(recoil_threshold=thr))


@jax.jit
def _window(m, thr, lo, hi):
    exp = REACTOR.with_(recoil_threshold=thr)
    return jd.primakoff_window_events(jd.DipoleModel(m, (1e-9, 0.0, 0.0)), exp, lo, hi)


@jax.jit
def _cevns(thr):
    return jd.cevns_events(REACTOR.with_(recoil_threshold=thr))


_recoil_grad = jax.jit(jax.grad(lambda m, thr: _recoil_events(m, (1e-9, 0.0, 0.0), thr), (0, 1)))


@PROPS
@given(m=rate_mass_mev, lm=log_mu, thr=threshold_ev)
def test_recoil_events_scale_with_the_moment_of_the_beam_flavour(m, lm, thr):
    # N ∝ μ_e² for a ν̄_e source, blind to μ_μ and μ_τ; 0 beyond the kinematic reach
    mu, mm, t = 10.0**lm, m * u.MeV, thr * u.eV
    a = float(_recoil_events(mm, (mu, 0.0, 0.0), t))
    assert math.isfinite(a) and a >= 0.0
    assert float(_recoil_events(mm, (3.0 * mu, 0.0, 0.0), t)) == pytest.approx(9.0 * a, rel=1e-12)
    assert float(_recoil_events(mm, (0.0, mu, mu), t)) == 0.0
    if mm >= 10.0 * u.MeV:  # the flux ends at 10 MeV: no N is produced
        assert a == 0.0


@PROPS
@given(m=rate_mass_mev, thr=threshold_ev, k=st.floats(1.01, 10.0))
def test_recoil_and_cevns_events_fall_as_the_threshold_rises(m, thr, k):
    lo, hi = thr * u.eV, k * thr * u.eV
    p_lo, p_hi = (float(_recoil_events(m * u.MeV, (1e-9, 0.0, 0.0), t)) for t in (lo, hi))
    assert p_hi <= p_lo * (1 + 1e-12)
    c_lo, c_hi = float(_cevns(lo)), float(_cevns(hi))
    assert 0.0 <= c_hi <= c_lo * (1 + 1e-12) and math.isfinite(c_lo)


@PROPS
@given(m=rate_mass_mev, thr=threshold_ev, f1=st.floats(0.0, 1.0), f2=st.floats(0.0, 1.0))
def test_recoil_windows_add_up(m, thr, f1, f2):
    # adjacent windows in true recoil energy add up to the window that spans them
    t = thr * u.eV
    lo, top = 0.5 * t, 10.0 * u.keV
    a, b = sorted((lo * (top / lo) ** f1, lo * (top / lo) ** f2))
    mm = m * u.MeV
    whole = float(_window(mm, t, lo, top))
    parts = (
        float(_window(mm, t, lo, a)) + float(_window(mm, t, a, b)) + float(_window(mm, t, b, top))
    )
    assert parts == pytest.approx(whole, rel=1e-9, abs=1e-12 * max(whole, 1e-300))


@PROPS
@given(m=rate_mass_mev, thr=threshold_ev)
def test_traced_recoil_events_have_finite_gradients_everywhere(m, thr):
    g_m, g_t = _recoil_grad(m * u.MeV, thr * u.eV)
    assert math.isfinite(float(g_m)) and math.isfinite(float(g_t))
    assert float(g_t) <= 0.0  # a higher threshold never adds events
