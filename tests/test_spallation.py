"""Stopped-pion source: line energy, Michel spectra, normalisation, timing, exact folds."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, stats

import jaxdipole as jd
from jaxdipole.spallation import MICHEL_END_POINT, PION_LINE_ENERGY, TAU_MU, TAU_PI

u = jd.units
MeV = 1e-3
M_MU, M_PI = 105.6583755, 139.57039  # MeV, PDG 2024
# SNS-like (1.4 MW, 1 GeV protons: ~1.5e16 protons/s at 19.3 m); results are ∝ the rate
SNS = jd.SpallationFlux(proton_rate=1.5e16 / u.s, distance=19.3 * u.m, nu_per_flavour=0.08)


def test_line_and_end_point():
    assert PION_LINE_ENERGY / MeV == pytest.approx((M_PI**2 - M_MU**2) / (2 * M_PI), rel=1e-12)
    assert PION_LINE_ENERGY / MeV == pytest.approx(29.79, abs=0.005)
    assert MICHEL_END_POINT / MeV == pytest.approx(52.83, abs=0.005)
    assert float(SNS.energy_max()) == pytest.approx(MICHEL_END_POINT, rel=1e-15)


@pytest.mark.parametrize("shape, mean", [("nu_e", 0.30), ("nubar_mu", 0.35)])
def test_michel_spectra_normalised_with_the_analytic_mean(shape, mean):
    f = jd.MichelFlux(1.0, shape)
    end = MICHEL_END_POINT
    norm = integrate.quad(lambda e: float(f.spectrum(e)), 0, end, epsabs=0)[0]
    first = integrate.quad(lambda e: e * float(f.spectrum(e)), 0, end, epsabs=0)[0]
    assert norm == pytest.approx(1.0, rel=1e-12)
    assert first == pytest.approx(mean * M_MU * MeV, rel=1e-12)  # 0.30 / 0.35 m_mu
    assert float(f.spectrum(1.01 * end)) == 0.0 and float(f.spectrum(-1e-3)) == 0.0
    # the fold (32 GL nodes) integrates the spectrum times a smooth function exactly enough
    got = float(f.fold(lambda e: jnp.exp(-e / (20 * MeV))))
    ref = integrate.quad(lambda e: np.exp(-e / 0.02) * float(f.spectrum(e)), 0, end)[0]
    assert got == pytest.approx(ref, rel=1e-12)
    assert (f.flavour, f.antineutrino) == ((0, False) if shape == "nu_e" else (1, True))


def test_components_flux_and_flavours():
    phi = 0.08 * 1.5e16 / u.s / (4 * np.pi * (19.3 * u.m) ** 2)
    assert float(SNS.flux_per_flavour()) == pytest.approx(phi, rel=1e-14)
    line, nue, numubar = SNS.components()
    assert (line.flavour, nue.flavour, numubar.flavour) == (1, 0, 1)
    assert (line.antineutrino, nue.antineutrino, numubar.antineutrino) == (False, False, True)
    # each flavour carries phi; the total is 3 phi, the continuum 2 phi
    assert float(SNS.total()) == pytest.approx(3 * phi, rel=1e-12)
    assert float(SNS.fold(lambda e: 1.0, parts="continuum")) == pytest.approx(2 * phi, rel=1e-12)
    # the line is folded exactly: one node at its energy
    g = float(SNS.fold(lambda e: (e - 0.02) ** 2, parts="lines"))
    assert g == pytest.approx(phi * (PION_LINE_ENERGY - 0.02) ** 2, rel=1e-14)
    with pytest.raises(ValueError, match="mixes flavour"):
        _ = SNS.flavour
    with pytest.raises(ValueError, match="distance"):
        jd.SpallationFlux(1.0, -1.0)


def _numeric_cdf(t, mean, width, taus):
    """P(T < t) for T = Gaussian + Σ Exp(τ_i), by quadrature over the exponential part."""
    if len(taus) == 1:
        dens = lambda s: np.exp(-s / taus[0]) / taus[0]  # noqa: E731
    else:
        a, b = taus
        dens = lambda s: (np.exp(-s / b) - np.exp(-s / a)) / (b - a)  # noqa: E731
    top = 60 * max(taus)
    f = lambda s: dens(s) * stats.norm.cdf((t - s - mean) / width)  # noqa: E731
    return integrate.quad(f, 0, top, points=[max(0.0, t - mean)], limit=400, epsabs=1e-14)[0]


def test_arrival_time_cdfs_against_numerical_convolution():
    mean, width = SNS.pulse_mean, SNS.pulse_width
    t = np.array([-200.0, 300.0, 440.0, 800.0, 1500.0, 4000.0, 9000.0]) * u.ns
    cdf = np.asarray(SNS.time_cdf(t))
    for i, ti in enumerate(t):
        p = _numeric_cdf(float(ti), float(mean), float(width), [TAU_PI])
        d = _numeric_cdf(float(ti), float(mean), float(width), [TAU_PI, TAU_MU])
        assert cdf[0, i] == pytest.approx(p, rel=1e-8, abs=1e-13)
        assert cdf[1, i] == pytest.approx(d, rel=1e-8, abs=1e-13)
        assert cdf[2, i] == cdf[1, i]
    # fractions: all neutrinos arrive eventually; prompt ones mostly within 1 µs
    frac = np.asarray(SNS.time_fractions(jnp.array([-5e3, 1e3, 6e3, 1e6]) * u.ns))
    np.testing.assert_allclose(frac.sum(1), 1.0, rtol=1e-12)
    assert frac[0, 0] > 0.99 and 0.1 < frac[1, 0] < 0.3
    # no overflow far before the pulse; differentiable in the pulse parameters
    assert np.all(np.asarray(SNS.time_cdf(-1e6 * u.ns)) == 0.0)
    g = jax.grad(lambda m: SNS.__class__(1.0, 1.0, pulse_mean=m).time_cdf(1e3 * u.ns)[1])(mean)
    h = 1e-3 * float(mean)
    fd = (
        float(SNS.__class__(1.0, 1.0, pulse_mean=mean + h).time_cdf(1e3 * u.ns)[1])
        - float(SNS.__class__(1.0, 1.0, pulse_mean=mean - h).time_cdf(1e3 * u.ns)[1])
    ) / (2 * h)
    assert float(g) == pytest.approx(fd, rel=1e-6) and float(g) < 0


def test_primakoff_events_per_flavour():
    # mu_mu alone sees the line and the nubar_mu Michel flux; mu_e alone the nu_e Michel flux
    csi = jd.experiments.ge_reactor(flux=SNS, recoil_threshold=1 * u.keV)
    m = jd.DipoleModel(10 * MeV, mu=(0.0, 1e-9, 0.0))
    e = jd.DipoleModel(10 * MeV, mu=(1e-9, 0.0, 0.0))
    n_mu, n_e = float(jd.primakoff_events(m, csi)), float(jd.primakoff_events(e, csi))
    assert n_mu > 0 and n_e > 0
    # the same folds by hand: each component at its flavour, sigma integrated above threshold
    ge = csi.target.nuclei[0]
    line, nue, numubar = SNS.components()
    thr = csi.recoil_threshold
    lo = jd.threshold_energy(10 * MeV, ge.mass)

    def sig(model):
        return lambda E: jd.primakoff_sigma(model, ge, E, 1, recoil_threshold=thr)

    def sig_e(E):
        return jd.primakoff_sigma(e, ge, E, 0, recoil_threshold=thr)

    ratio_mu = float(line.fold(sig(m), lo) + numubar.fold(sig(m), lo))
    ratio_e = float(nue.fold(sig_e, lo))
    assert n_mu / n_e == pytest.approx(ratio_mu / ratio_e, rel=1e-6)
