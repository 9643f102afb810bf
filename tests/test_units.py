"""Units and constants against CODATA (scipy.constants) and independent reference values."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.constants as sc

import jaxdipole as jd

u = jd.units
c = jd.constants

# conftest.py enables x64 before jaxdipole is imported, so the import's own handling of
# JAXDIPOLE_X64 can only be seen in a fresh interpreter.
_PROBE = """
import json, sys, jax, jax.numpy as jnp, jaxdipole as jd
out = {"x64": bool(jax.config.jax_enable_x64), "default": str(jnp.asarray(1.0).dtype)}
if sys.argv[1] == "sigma":
    md = jd.DipoleModel(m_N=5e-3, mu=(1e-9, 0.0, 0.0))
    sigma = jd.primakoff_sigma(md, jd.nucleus("Ge74"), 8e-3)
    out.update(sigma_dtype=str(sigma.dtype), sigma_cm2=float(sigma) / jd.units.cm2)
    try:  # event rates need float64: refused with a clear error, not NaN
        jd.primakoff_events(md, jd.experiments.ge_reactor())
    except ValueError as err:
        out.update(rates_error=str(err))
print(json.dumps(out))
"""


def _start_probe(sigma=False, **env_vars):
    env = {k: v for k, v in os.environ.items() if k not in ("JAX_ENABLE_X64", "JAXDIPOLE_X64")}
    env.update(JAX_PLATFORMS="cpu", **env_vars)
    return subprocess.Popen(
        [sys.executable, "-c", _PROBE, "sigma" if sigma else "import"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_import_x64_switch_in_fresh_interpreters():
    """The documented JAXDIPOLE_X64 behaviour of ``import jaxdipole`` (three fresh processes, run
    side by side): default -> float64; JAXDIPOLE_X64=0 -> JAX's own setting is left alone (float32
    by default, still float64 if JAX_ENABLE_X64=1). The float32 cross section must still be the
    physics-reference value (Ge74, m_N = 5 MeV, E = 8 MeV: 8.65408e-45 cm² at μ = 1e-9 GeV^-1,
    the value test_primakoff checks) to float32 accuracy."""
    procs = {
        "default": _start_probe(),
        "off": _start_probe(sigma=True, JAXDIPOLE_X64="0"),
        "off_jax_on": _start_probe(JAXDIPOLE_X64="0", JAX_ENABLE_X64="1"),
    }
    res = {}
    for name, p in procs.items():
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, f"{name}: {err[-2000:]}"
        res[name] = json.loads(out.strip().splitlines()[-1])
    assert res["default"]["x64"] and res["default"]["default"] == "float64"
    assert not res["off"]["x64"] and res["off"]["default"] == "float32"
    assert res["off_jax_on"]["x64"] and res["off_jax_on"]["default"] == "float64"
    assert res["off"]["sigma_dtype"] == "float32"
    assert res["off"]["sigma_cm2"] == pytest.approx(8.65408e-45, rel=1e-4)
    assert "needs float64" in res["off"]["rates_error"] and "float32" in res["off"]["rates_error"]


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
    # mu_B = e/(2 m_e) = 296.30 GeV^-1 (CODATA alpha, m_e); mu = 1e-9 GeV^-1 = 3.3749e-12 mu_B
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
    # times, lengths and areas in GeV^-n against scipy/PDG, not against each other
    ev_s = sc.hbar / sc.e  # hbar [eV s]
    assert u.day == pytest.approx(sc.day / (ev_s * 1e-9), rel=1e-12)
    assert u.year == pytest.approx(sc.Julian_year / (ev_s * 1e-9), rel=1e-12)
    assert u.fm == pytest.approx(1.0 / 0.1973269804, rel=1e-9)  # PDG: hbar c = 0.1973 GeV fm
    assert 1.0 / u.barn == pytest.approx(0.3893793721e-3, rel=1e-9)  # PDG: 1 GeV^-2 in barn
    # 1 W = 1 J/s in GeV^2
    assert u.W == pytest.approx((1 / (sc.e * 1e9)) * (sc.hbar / sc.e / 1e9), rel=1e-12)
    # energies through the joule (a separate route: constants.joule_per_eV)
    for unit, ev in ((u.eV, 1.0), (u.keV, 1e3), (u.MeV, 1e6), (u.TeV, 1e12)):
        assert unit / u.J == pytest.approx(ev * sc.e, rel=1e-12)


def test_nuclear_mass_formula():
    # M(W184) = 171.311835 GeV from the AME2020 atomic mass 183.9509312 u (B_e included)
    assert c.nuclear_mass_from_atomic(183.9509312, 74) == pytest.approx(171.311835, rel=2e-8)
    # B_e(W) ≈ 0.44 MeV
    assert c.electron_binding_energy(74) == pytest.approx(0.44e-3, rel=0.05)
