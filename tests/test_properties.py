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
