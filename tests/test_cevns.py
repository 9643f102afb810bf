"""Standard-Model CEvNS against the textbook formula and the reactor reference rate."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

import jaxdipole as jd
from jaxdipole.cevns import cevns_dsigma_dER, cevns_sigma, weak_charge
from jaxdipole.flux import ReactorFlux
from jaxdipole.kinematics import min_neutrino_energy
from jaxdipole.nuclei import helm_form_factor, nucleus

u = jd.units
GF = 1.1663788e-5


def textbook(E, T, M, N, Z, s2w=0.23857, F=1.0):
    """Numpy textbook CEvNS (Drukier–Stodolsky / Freedman) with Q_W = N − (1 − 4 s²) Z."""
    qw = N - (1 - 4 * s2w) * Z
    kin = 1 - T / E - M * T / (2 * E * E)
    return np.where(kin > 0, GF**2 * M / (4 * np.pi) * qw**2 * kin * F**2, 0.0)


def test_dsigma_vs_textbook():
    nuc = nucleus("Ge74")
    M = float(nuc.mass)
    E = 8e-3
    for T in (1e-9, 1e-7, 1e-6, 1.5e-6):
        F = float(helm_form_factor(nuc, np.sqrt(2 * M * T)))
        ref = textbook(E, T, M, 42, 32, F=F)
        assert float(cevns_dsigma_dER(nuc, E, T)) == pytest.approx(float(ref), rel=1e-12)
    assert float(weak_charge(nuc)) == pytest.approx(42 - (1 - 4 * 0.23857) * 32, rel=1e-14)
    # beyond the end point: exactly 0
    Tmax = 2 * E * E / (M + 2 * E)
    assert float(cevns_dsigma_dER(nuc, E, 1.0001 * Tmax)) == 0.0


def test_total_vs_closed_form_unit_ff():
    # F = 1: σ = G_F² M Q_W²/(4π) [T − T²/(2E) − M T²/(4E²)] between the bounds
    nuc = nucleus("Ar40")
    M = float(nuc.mass)
    qw = float(weak_charge(nuc))
    E, thr = 30e-3, 5e-6
    Tm = 2 * E * E / (M + 2 * E)
    prim = lambda T: T - T * T / (2 * E) - M * T * T / (4 * E * E)
    ref = GF**2 * M / (4 * np.pi) * qw**2 * (prim(Tm) - prim(thr))
    ours = float(cevns_sigma(nuc, E, form_factor=False, recoil_threshold=thr))
    assert ours == pytest.approx(ref, rel=1e-12)
    # with the Helm FF vs scipy adaptive quadrature
    ours_h = float(cevns_sigma(nuc, E, recoil_threshold=thr))
    ref_h, _ = integrate.quad(lambda T: float(cevns_dsigma_dER(nuc, E, T)), thr, Tm, epsrel=1e-12)
    assert ours_h == pytest.approx(ref_h, rel=1e-8)


def test_coherent_scaling_textbook_number():
    # textbook: σ ≈ G_F² N² E² / (4π) for E << M, F = 1, sin²θ_W = 1/4 (Q_W = N)
    nuc = nucleus("Cs133")
    E = 10e-3
    s = float(cevns_sigma(nuc, E, form_factor=False, sin2_theta_w=0.25))
    ref = GF**2 * 78**2 * E**2 / (4 * np.pi)
    assert s == pytest.approx(ref, rel=2 * E / float(nuc.mass) * 5)


def reactor_rate_per_kg_day(nuc, flux, threshold):
    """Events per kg per day for a single-nucleus target above a recoil threshold."""
    M = nuc.mass
    E_low = min_neutrino_energy(threshold, 0.0, M)
    rate = flux.fold(lambda E: cevns_sigma(nuc, E, recoil_threshold=threshold), E_low)
    n_per_kg = u.kg / nuc.atomic_mass
    return rate * n_per_kg * u.day


@pytest.mark.parametrize("s2w, expected", [(0.23857, 10.61), (0.2312, 10.12)])
def test_reactor_rate_ge74(s2w, expected):
    # reference values from an independent numerical integration of the tree-level CEvNS rate
    # (Helm F): Ge74, 4 GW_th at 100 m, E_R > 10 eV, Vogel–Engel benchmark flux
    nuc = nucleus("Ge74")
    flux = ReactorFlux.vogel_engel_benchmark(4 * u.GW, 100 * u.m)
    thr = 10 * u.eV
    E_low = min_neutrino_energy(thr, 0.0, nuc.mass)
    rate = flux.fold(lambda E: cevns_sigma(nuc, E, recoil_threshold=thr, sin2_theta_w=s2w), E_low)
    r = float(rate * u.kg / nuc.atomic_mass * u.day)
    assert r == pytest.approx(expected, rel=5e-3)


def test_reactor_rate_threshold_gradient():
    # Leibniz rule through both bounds: d rate / d thr vs central finite difference
    nuc = nucleus("Ge74")
    flux = ReactorFlux(4 * u.GW, 100 * u.m)
    f = lambda thr: reactor_rate_per_kg_day(nuc, flux, thr)
    thr = 20 * u.eV
    g = float(jax.grad(f)(thr))
    h = 1e-3 * thr
    fd = (float(f(thr + h)) - float(f(thr - h))) / (2 * h)
    assert g < 0 and np.isfinite(g)
    assert g == pytest.approx(fd, rel=1e-5)


def test_no_nan_beyond_endpoints():
    nuc = nucleus("W184")
    f = lambda E, T: cevns_dsigma_dER(nuc, E, T)
    Es = jnp.asarray([0.0, 1e-6, 1e-3, 1e-2])
    Ts = jnp.asarray([0.0, 1e-9, 1e-6, 1.0])
    g = jax.vmap(jax.vmap(jax.grad(f, argnums=(0, 1)), (None, 0)), (0, None))(Es, Ts)
    for x in g:
        assert np.all(np.isfinite(np.asarray(x)))
    s = jax.vmap(
        lambda E: jax.value_and_grad(lambda e: cevns_sigma(nuc, e, recoil_threshold=1e-8))(E)
    )(Es)
    assert np.all(np.isfinite(np.asarray(s[0]))) and np.all(np.isfinite(np.asarray(s[1])))


def test_bad_input():
    nuc = nucleus("Ge74")
    with pytest.raises(ValueError, match="E_nu"):
        cevns_dsigma_dER(nuc, -1e-3, 1e-9)
    with pytest.raises(ValueError, match="E_R"):
        cevns_dsigma_dER(nuc, 1e-3, float("nan"))
    with pytest.raises(ValueError, match="recoil_threshold"):
        cevns_sigma(nuc, 1e-3, recoil_threshold=-1.0)
