"""Packaged existing limits: complete, correctly converted (μ = 2d; μ_B), licence shipped."""

import csv
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import jaxdipole as jd
from jaxdipole import limits

DATA = resources.files("jaxdipole").joinpath("data/limits")
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "limits"


def _raw(name):
    """Independent plain-Python parse of a packaged file: list of (x, y) floats."""
    rows = []
    for line in DATA.joinpath("files", name).read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            x, y = line.split()[:2]
            rows.append((float(x), float(y)))
    return rows


def test_every_manifest_curve_loads():
    manifest = list(csv.DictReader(DATA.joinpath("manifest.csv").read_text().splitlines()))
    effective = list(csv.DictReader(DATA.joinpath("effective_moment.csv").read_text().splitlines()))
    assert len(manifest) + len(effective) == len(limits.limit_names()) >= 15 + 4
    notes = list(csv.DictReader(DATA.joinpath("annotations.csv").read_text().splitlines()))
    assert sorted(r["file"] for r in notes) == sorted(r["file"] for r in manifest)  # all annotated
    for row in manifest:
        lim = limits.load_limit(row["file"][:-4])
        raw = _raw(row["file"])
        assert len(lim.m_N) == len(raw) == len(lim.mu)
        assert np.all(np.isfinite(lim.m_N)) and np.all(lim.m_N > 0)
        assert np.all(np.isfinite(lim.mu)) and np.all(lim.mu > 0)
        assert lim.kind in limits.KINDS
        assert lim.confidence_level in (0.90, 0.95)
        assert lim.flavour in ("e", "mu", "tau", "all")
        assert lim.assumption in limits.ASSUMPTIONS and lim.note
    assert "MIT License" in DATA.joinpath("LICENSE.MIT").read_text()


def test_conversions():
    u = jd.units
    lep = limits.load_limit("LEPgz_d")  # m in MeV, d in GeV^-1
    x, d = _raw("LEPgz_d.dat")[0]
    assert lep.m_N[0] == pytest.approx(x * 1e-3, rel=1e-15)
    assert lep.mu[0] == pytest.approx(2 * d, rel=1e-15)  # mu = 2 d
    assert lep.confidence_level == 0.95 and lep.experiment == "LEP"
    sn = limits.load_limit("SN1987A_muB_top")  # m in MeV, mu in mu_B
    x, m_b = _raw("SN1987A_muB_top.dat")[0]
    assert sn.mu_muB[0] == pytest.approx(m_b, rel=1e-14)
    assert sn.mu[0] == pytest.approx(m_b * 296.30, rel=2e-5)
    bx = limits.load_limit("Borexino_d")  # m in GeV
    x, d = _raw("Borexino_d.dat")[0]
    assert bx.m_N[0] == pytest.approx(x, rel=1e-15)
    assert bx.mu_muB[0] == pytest.approx(2 * d / u.mu_B, rel=1e-14)


def test_flavour_selection_and_errors():
    e = {lim.name for lim in limits.existing_limits("e")}
    assert {"LSND_de", "LEPgz_d", "Borexino_d", "Xenon1T_d"} <= e
    assert "CHARMII_dmu" not in e and "DONUT_dtau" not in e
    mu = {lim.name for lim in limits.existing_limits("mu")}
    assert "CHARMII_dmu" in mu and "LSND_de" not in mu
    with pytest.raises(ValueError, match="name"):
        limits.load_limit("NoSuchExperiment")
    with pytest.raises(ValueError, match="flavour"):
        limits.existing_limits("sterile")


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared data folder not present")
def test_packaged_data_equals_source():
    for name in ("manifest.csv", "LICENSE.MIT"):
        assert DATA.joinpath(name).read_text() == (SHARED / name).read_text()
    for f in (SHARED / "files").iterdir():
        assert DATA.joinpath("files", f.name).read_text() == f.read_text()


def test_strongest_limit_envelope():
    u = jd.units
    m = np.geomspace(0.5, 50.0, 41) * u.MeV
    env = limits.strongest_limit(m, "e")
    ups = [lim for lim in limits.existing_limits("e") if lim.kind == "upper_limit"]
    covered = np.any([(m >= lim.m_N.min()) & (m <= lim.m_N.max()) for lim in ups], axis=0)
    assert np.all(np.isinf(env[~covered])) and np.all(np.isfinite(env[covered]))
    assert np.isinf(env[0]) and np.isfinite(env[-1])  # 0.5 MeV: no limit between 10 keV and 1 MeV
    # Independent check: at each digitised node of every e/all upper-limit curve the envelope
    # is no weaker than that curve's own value, and it equals the best of them somewhere.
    for lim in ups:
        sel = lim.m_N < 1.0  # below 1 GeV (LEP's curve turns vertical at the Z pole)
        sel[[0, -1]] = False
        assert np.all(limits.strongest_limit(lim.m_N[sel], "e") <= lim.mu[sel] * (1 + 1e-12))
    lsnd = limits.load_limit("LSND_de")
    k = len(lsnd.m_N) // 2
    assert limits.strongest_limit(lsnd.m_N[k], "mu") != pytest.approx(lsnd.mu[k])  # not mu
    assert (
        np.isscalar(limits.strongest_limit(5 * u.MeV, "e"))
        or np.ndim(limits.strongest_limit(5 * u.MeV, "e")) == 0
    )
    with pytest.raises(ValueError, match="m_N"):
        limits.strongest_limit([-1.0], "e")


def test_effective_moment_limits_and_assumptions():
    u = jd.units
    gemma = limits.load_limit("GEMMA_eff")
    assert gemma.mu_muB == pytest.approx([2.9e-11, 2.9e-11], rel=1e-12)
    assert gemma.flavour == "e" and gemma.confidence_level == 0.90
    assert gemma.m_N.max() == pytest.approx(10 * u.keV) and "Beda" in gemma.reference
    # as m_N -> 0 the strongest e-flavour limit is XENONnT's effective moment (flavour "all")
    assert limits.strongest_limit(1 * u.keV, "e") / u.mu_B == pytest.approx(6.3e-12, rel=1e-12)
    # production-only limits: a subset, so never stronger than the full envelope
    m = np.geomspace(1.0, 100.0, 60) * u.MeV
    full = limits.strongest_limit(m, "e")
    prod = limits.strongest_limit(m, "e", assumptions=("production",))
    assert np.all(prod >= full) and np.any(prod > 2 * full)  # decay limits dominate somewhere
    names = {lim.name for lim in limits.existing_limits("e", "production")}
    assert "Borexino_d" in names and "LSND_de" not in names and "Borexino_SK_d" not in names
    assert {lim.assumption for lim in limits.existing_limits(None, ("lifetime",))} == {"lifetime"}
    with pytest.raises(ValueError, match="assumptions"):
        limits.existing_limits("e", ("astrology",))
