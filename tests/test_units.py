"""Units and constants against CODATA (scipy.constants) and the physics reference."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.constants as sc

import jaxdipole as jd

u = jd.units
c = jd.constants


def test_float64_enabled():
    assert jax.config.jax_enable_x64
    assert jnp.asarray(1.0).dtype == jnp.float64


@pytest.mark.parametrize(
    "ours, key, scale",
    [
        (c.alpha, "fine-structure constant", 1.0),
        (c.m_e, "electron mass energy equivalent in MeV", 1e-3),
        (c.m_p, "proton mass energy equivalent in MeV", 1e-3),
        (c.m_n, "neutron mass energy equivalent in MeV", 1e-3),
        (c.amu, "atomic mass constant energy equivalent in MeV", 1e-3),
        (c.hbar_c_GeV_m, "reduced Planck constant times c in MeV fm", 1e-18),
        (c.hbar_GeV_s, "reduced Planck constant in eV s", 1e-9),
    ],
)
def test_constants_vs_codata(ours, key, scale):
    ref = sc.physical_constants[key][0] * scale
    assert ours == pytest.approx(ref, rel=1e-9)


def test_fermi_constant_pdg():
    # PDG 2024: G_F/(hbar c)^3 = 1.1663788(6)e-5 GeV^-2; CODATA has the same value.
    assert c.G_F == pytest.approx(sc.physical_constants["Fermi coupling constant"][0], rel=1e-6)


def test_bohr_magneton():
    # physics.md §1.1: mu_B = e/(2 m_e) = 296.30 GeV^-1; mu = 1e-9 GeV^-1 = 3.3749e-12 mu_B
    assert u.mu_B == pytest.approx(296.30, rel=2e-5)
    assert 1e-9 / u.mu_B == pytest.approx(3.3749e-12, rel=1e-4)
    # e/(2 m_e) from scipy's CODATA alpha and m_e
    alpha = sc.physical_constants["fine-structure constant"][0]
    me = sc.physical_constants["electron mass energy equivalent in MeV"][0] * 1e-3
    assert u.mu_B == pytest.approx(np.sqrt(4 * np.pi * alpha) / (2 * me), rel=1e-10)


def test_unit_conversions():
    # 1 GeV^-2 = 0.3893793721e-27 cm^2 (PDG)
    assert 1.0 / u.cm2 == pytest.approx(0.3893793721e-27, rel=1e-9)
    assert u.cm == pytest.approx(1e-2 / (sc.hbar * sc.c / sc.e / 1e9), rel=1e-12)
    assert u.s == pytest.approx(1.0 / (sc.hbar / sc.e / 1e9), rel=1e-12)
    assert u.kg == pytest.approx(sc.c**2 / sc.e / 1e9, rel=1e-12)
    assert u.day / u.s == 86400.0
    assert u.year / u.day == 365.25
    # 1 W = 1 J/s in GeV^2
    assert u.W == pytest.approx((1 / (sc.e * 1e9)) * (sc.hbar / sc.e / 1e9), rel=1e-12)
    assert u.MeV == 1e-3 and u.keV == 1e-6 and u.eV == 1e-9


def test_nuclear_mass_formula():
    # physics.md §3.2: M(W184) = 171.311835 GeV from 183.9509312 u (B_e included)
    assert c.nuclear_mass_from_atomic(183.9509312, 74) == pytest.approx(171.311835, rel=2e-8)
    # B_e(W) ≈ 0.44 MeV
    assert c.electron_binding_energy(74) == pytest.approx(0.44e-3, rel=0.05)
