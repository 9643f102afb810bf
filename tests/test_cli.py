"""The jaxdipole command line: outputs, published spot values, errors, atomic writes."""

import csv
import json

import pytest

import jaxdipole as jd
from jaxdipole import cli


def test_xsec_outputs_and_spot_value(tmp_path, capsys):
    # physics.md §4.3: W184, m_N = 5 MeV, E = 5.5 MeV, mu = 1e-9 GeV^-1:
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


def test_unparseable_option_exits_2(tmp_path):
    with pytest.raises(SystemExit) as e:
        cli.main(["xsec", "--out", str(tmp_path), "--masses", "abc"])
    assert e.value.code == 2


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
