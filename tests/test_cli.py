"""The jaxdipole command line: outputs, published spot values, errors, atomic writes."""

import csv
import json

import numpy as np
import pytest

import jaxdipole as jd
from jaxdipole import cli


def test_xsec_outputs_and_spot_value(tmp_path, capsys):
    # reference value (independent 96-node Gauss–Legendre integration in ln E_R of the exact
    # dσ/dE_R with Helm F): W184, m_N = 5 MeV, E = 5.5 MeV, mu = 1e-9 GeV^-1:
    # sigma(Helm) = 1.53032e-44 cm^2
    mu_muB = 1e-9 / jd.units.mu_B
    rc = cli.main(
        [
            "xsec",
            "--out",
            str(tmp_path),
            "--targets",
            "W184,O16",
            "--masses",
            "5",
            "--emin",
            "5.5",
            "--emax",
            "8",
            "--n-energies",
            "2",
            "--mu",
            repr(mu_muB),
        ]
    )
    assert rc == 0
    assert {p.name for p in tmp_path.iterdir()} == {"xsec.csv", "xsec.json", "xsec.png"}
    rows = list(csv.DictReader((tmp_path / "xsec.csv").read_text().splitlines()))
    assert len(rows) == 2 * 1 * 2
    w = {(r["target"], float(r["E_nu_MeV"])): float(r["sigma_cm2"]) for r in rows}
    assert w[("W184", 5.5)] == pytest.approx(1.53032e-44, rel=1e-5)
    assert w[("O16", 8.0)] == pytest.approx(5.42837e-46, rel=1e-5)
    meta = json.loads((tmp_path / "xsec.json").read_text())
    assert meta["sigma_cm2"]["W184"][0][0] == pytest.approx(1.53032e-44, rel=1e-5)
    assert (tmp_path / "xsec.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "xsec:" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, word",
    [
        (["--targets", "Unobtainium"], "--targets"),
        (["--masses", "-1"], "--masses"),
        (["--emin", "5", "--emax", "1"], "--emin"),
        (["--mu", "0"], "--mu"),
        (["--n-energies", "1"], "--n-energies"),
    ],
)
def test_xsec_bad_options_one_line(tmp_path, capsys, args, word):
    rc = cli.main(["xsec", "--out", str(tmp_path / "o"), *args])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert word in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_unparseable_option_exits_2_with_one_line(tmp_path, capsys):
    assert cli.main(["xsec", "--out", str(tmp_path), "--masses", "abc"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--masses" in err and len(err.splitlines()) == 1


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    import matplotlib.figure

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", boom)
    with pytest.raises(RuntimeError):
        cli.main(
            [
                "xsec",
                "--out",
                str(tmp_path),
                "--targets",
                "O16",
                "--masses",
                "1",
                "--n-energies",
                "2",
            ]
        )
    names = {p.name for p in tmp_path.iterdir()}
    assert "xsec.png" not in names
    assert not [n for n in names if n.startswith(".")]  # no temporary leftovers


def test_reach_outputs_reproduce_the_limits(tmp_path, capsys):
    """`jaxdipole reach` on a small grid: files, units, and each curve re-checked by evaluating
    the event rates at the written μ_90 (precise fold, independent of the reach solver)."""
    u = jd.units
    out = tmp_path / "res"
    rc = cli.main(
        ["reach", "--out", str(out), "--m-min", "1", "--m-max", "4", "--n-masses", "2", "--quiet"]
    )
    assert rc == 0
    names = {p.name for p in out.iterdir()}
    assert names == {"reach.csv", "reach.json", "reach.png", "reach_sterile.png", "spectra.csv",
                     "spectra.json", "spectra.png"}  # fmt: skip
    rows = list(csv.DictReader((out / "reach.csv").read_text().splitlines()))
    assert [float(r["m_N_MeV"]) for r in rows] == pytest.approx([1.0, 4.0])
    exp = jd.experiments.nucleus_phase1()
    for r in rows:
        m = float(r["m_N_MeV"]) * u.MeV
        mu_rad = float(r["radiative_dirac_muB"]) * u.mu_B
        n = jd.radiative_events(jd.DipoleModel(m, (mu_rad, 0.0, 0.0)), exp)
        assert float(n) == pytest.approx(-np.log(0.1), rel=1e-3)  # 2.303 events (fast fold ~1e-4)
        mu_maj = float(r["radiative_majorana_muB"]) * u.mu_B
        n = jd.radiative_events(jd.DipoleModel(m, (mu_maj, 0.0, 0.0), "majorana"), exp)
        assert float(n) == pytest.approx(-np.log(0.1), rel=1e-3)
        # Primakoff limit: many signal events over background; weaker than 2.303 events
        mu_p = float(r["primakoff_muB"]) * u.mu_B
        n_p = float(jd.primakoff_events(jd.DipoleModel(m, (mu_p, 0.0, 0.0)), exp))
        assert n_p > 2.303
        # the default fixed mu_NN' = 1e-5 mu_B (m_N' = 0.5 m_N): 2.303 N' gamma events at mu_e
        mu_s = float(r["sterile_mu_prime_1e-05_muB"]) * u.mu_B
        md = jd.DipoleModel(m, (mu_s, 0.0, 0.0), "dirac", 0.5 * m, 1e-5 * u.mu_B)
        n90 = float(jd.radiative_events(md, exp, channels="sterile"))
        assert n90 == pytest.approx(2.303, rel=1e-3)
        # beats both: below the Primakoff curve and the production-only existing limit
        both = float(r["sterile_mu_prime_1e-05_muB"]) < min(
            float(r["primakoff_muB"]), float(r["strongest_production_muB"])
        )
        assert int(r["sterile_mu_prime_1e-05_beats_both"]) == int(both)
    meta = json.loads((out / "reach.json").read_text())
    assert set(meta["curves_muB"]) == {"primakoff", "radiative_dirac", "radiative_majorana",
                                       "sterile_dirac", "sterile_mu_prime_1e-05"}  # fmt: skip
    assert meta["existing_limits_that_hold"]["sterile_mu_prime_1e-05"] == ["production"]
    assert meta["beats_primakoff_and_existing_MeV"]["sterile_mu_prime_1e-05"] == [[4.0, 4.0]]
    assert meta["settings"]["recoil_threshold_eV"] == pytest.approx(20.0)
    spec = json.loads((out / "spectra.json").read_text())
    # Majorana N decays twice as fast: twice the long-lived photon rate (rate ∝ P_dec ≈ L/λ ∝ Γ)
    assert spec["events_majorana"] / spec["events_dirac"] == pytest.approx(2.0, rel=1e-2)
    assert spec["mean_E_gamma_MeV"]["dirac"] < spec["mean_E_gamma_MeV"]["majorana"]
    assert "reach:" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, word",
    [
        (["--m-min", "5", "--m-max", "1"], "--m-min"),
        (["--n-masses", "1"], "--n-masses"),
        (["--threshold", "-3"], "--threshold"),
        (["--exposure", "0"], "--exposure"),
        (["--sterile-ratio", "1.5"], "--sterile-ratio"),
        (["--benchmark-mu", "nan"], "--benchmark-mu"),
        (["--mu-prime=-1e-5"], "--mu-prime"),
        (["--mu-mu", "abc"], "--mu-mu"),
    ],
)
def test_reach_bad_options_one_line(tmp_path, capsys, args, word):
    rc = cli.main(["reach", "--out", str(tmp_path / "o"), "--quiet", *args])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert word in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_limits_and_spectrum_subcommands(tmp_path, capsys):
    u = jd.units
    assert cli.main(["limits", "--out", str(tmp_path), "--n-masses", "20"]) == 0
    rows = list(csv.DictReader((tmp_path / "limits.csv").read_text().splitlines()))
    m = np.array([float(r["m_N_MeV"]) for r in rows]) * u.MeV
    env = np.array([float(r["strongest_limit_muB"]) for r in rows]) * u.mu_B
    assert env == pytest.approx(jd.limits.strongest_limit(m, "e"), rel=1e-3)  # 6-digit masses
    assert "LSND" in capsys.readouterr().out
    assert cli.main(["limits", "--flavour", "sterile"]) == 2
    rc = cli.main(["spectrum", "--out", str(tmp_path), "--m-n", "3", "--n-energy-bins", "6",
                   "--n-cos-bins", "2", "--experiment", "nucleus-upgrade"])  # fmt: skip
    assert rc == 0
    rows = list(csv.DictReader((tmp_path / "spectra.csv").read_text().splitlines()))
    assert len(rows) == 6
    total = sum(float(r["dirac_events"]) for r in rows)
    md = jd.DipoleModel(3 * u.MeV, (1e-8 * u.mu_B, 0.0, 0.0))
    up = jd.experiments.nucleus_upgrade()
    e_top = float(rows[-1]["E_hi_MeV"]) * u.MeV
    ref = jd.photon_energy_spectrum(md, up, np.array([float(up.photon_energy_min), e_top]))
    assert total == pytest.approx(float(ref[0]), rel=1e-3)


@pytest.mark.parametrize("sub", ["", "sub"])
def test_out_that_is_a_file_is_one_line_error(tmp_path, capsys, sub):
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    out = afile / sub if sub else afile
    rc = cli.main(["reach", "--out", str(out), "--quiet", "--n-masses", "2"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "--out" in err and len(err.splitlines()) == 1
    assert afile.read_text() == "keep me"


def test_compile_cache_folder(tmp_path, monkeypatch, capsys):
    """Compiled programs go to --compile-cache (default $JAX_COMPILATION_CACHE_DIR, else
    $XDG_CACHE_HOME/jaxdipole/xla); a second run loads them and writes the same results."""
    import os
    import subprocess
    import sys

    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cli.default_compile_cache() == str(tmp_path / "xdg" / "jaxdipole" / "xla")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "env"))
    assert cli.default_compile_cache() == str(tmp_path / "env")
    # a folder that cannot be made: one line, status 2, nothing written
    (tmp_path / "file").write_text("")
    bad = str(tmp_path / "file" / "cache")
    assert cli.main(["--compile-cache", bad, "xsec", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--compile-cache" in err[0]
    assert not (tmp_path / "o").exists()
    # the default folder unusable: a note, and the command runs without the cache
    cli._use_compile_cache(bad, explicit=False)
    assert "no compilation cache" in capsys.readouterr().err
    # two runs in fresh processes: the first fills the cache, the second reads it (counted
    # with JAX's monitoring events of the cache)
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    count = (
        "import sys, collections, jax.monitoring as m; from jaxdipole import cli; "
        "n = collections.Counter(); m.register_event_listener(lambda e, **k: n.update([e])); "
        "rc = cli.main(sys.argv[1:]); "
        "print(n['/jax/compilation_cache/cache_hits'], n['/jax/compilation_cache/cache_misses']); "
        "sys.exit(rc)"
    )
    cache = tmp_path / "cache"
    args = ["--masses", "5", "--targets", "W184", "--n-energies", "2", "--emin", "6"]
    outs, counts = [], []
    for k in range(2):
        out = tmp_path / f"run{k}"
        cmd = [sys.executable, "-c", count, "--compile-cache", str(cache), "xsec"]
        run = subprocess.run([*cmd, "--out", str(out), *args], env=env, capture_output=True)
        assert run.returncode == 0, run.stderr.decode()
        outs.append((out / "xsec.csv").read_text())
        counts.append(tuple(int(v) for v in run.stdout.decode().split()[-2:]))
    (hits0, misses0), (hits1, misses1) = counts
    assert hits0 == 0 and misses0 > 0 and any(cache.iterdir())
    assert hits1 == misses0 and misses1 == 0  # every program loaded, none compiled
    assert outs[0] == outs[1]
