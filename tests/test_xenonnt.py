"""The XENONnT ⁸B release: loader, template fold, likelihood, SM closure and dipole limits."""

import csv
import shutil
from pathlib import Path

import h5py
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, optimize, stats

import jaxdipole as jd
from jaxdipole import coherent, xenonnt
from jaxdipole import units as u
from jaxdipole.nuclei import helm_form_factor

RELEASE = Path(__file__).resolve().parents[2] / "shared" / "data" / "realdata" / "xenonnt_b8_cevns"
pytestmark = pytest.mark.skipif(
    not RELEASE.is_dir(), reason=f"XENONnT data release not present: {RELEASE}"
)


@pytest.fixture(scope="module")
def release():
    return xenonnt.load_xenonnt(RELEASE)


@pytest.fixture(scope="module")
def flux():
    return jd.solar.SolarFlux.standard()


@pytest.fixture(scope="module")
def sm(release, flux):
    return xenonnt.xenonnt_cevns(release, flux)


def _numpy_counts(run: str) -> np.ndarray:
    """The run's events binned by numpy from the csv and yaml files directly."""
    import yaml

    with open(RELEASE / "binning" / f"{run}.yaml") as f:
        spec = yaml.safe_load(f)
    with open(RELEASE / "data" / f"{run}.csv") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], np.array(rows[1:], dtype=float)
    cols = [head.index(k) for k in xenonnt.OBSERVABLES]
    return np.histogramdd(body[:, cols], bins=[spec[k] for k in xenonnt.OBSERVABLES])[0]


def test_loader_counts_and_exposure(release):
    assert [r.name for r in release.runs] == ["sr0", "sr1", "sr2"]
    for r in release.runs:
        np.testing.assert_array_equal(r.data, _numpy_counts(r.name))
    # PRL 133 (2024) 191002 (SR0 + SR1): 37 events, 3.51 t·y, (26.4 +1.4 -1.3) background
    assert release.data[:2].sum() == 37
    assert sum(r.exposure for r in release.runs[:2]) == pytest.approx(3.51, abs=0.01)
    bkg = sum(sum(b.sum() for b in r.backgrounds.values()) * r.exposure for r in release.runs[:2])
    assert 26.4 - 1.3 <= bkg <= 26.4 + 1.4
    # the mono-energetic templates: 0.5-5.0 keV in 0.1 keV steps, probabilities <= 1
    np.testing.assert_allclose(release.mono_energies, np.linspace(0.5, 5.0, 46), atol=1e-9)
    assert all(0 <= r.mono.sum(axis=(1, 2, 3, 4)).max() < 1 for r in release.runs)


def test_recoil_weights_integrate_hat_functions():
    e = np.linspace(0.5, 5.0, 46)
    T, H = xenonnt.recoil_weights(e)
    f = lambda t: np.exp(-t / 1.3) * (1 + 0.2 * np.sin(3 * t))  # noqa: E731
    got = np.asarray(H @ f(np.asarray(T) / u.keV)) / u.keV
    for k in (0, 7, 30, 45):
        hat = lambda t, k=k: np.interp(t, e, np.eye(46)[k])  # noqa: E731
        ref = integrate.quad(lambda t, hat=hat: f(t) * hat(t), 0.5, 5.0, points=e[1:-1], limit=200)[
            0
        ]
        assert got[k] == pytest.approx(ref, rel=1e-6)


def test_fold_matches_numpy_interpolation(release):
    """Σ_k ε_b(E_k) ∫ rate h_k equals ∫ rate(E) ε_b(E) dE with ε linearly interpolated
    (numpy trapezoid on a fine grid) times the exposure."""
    T, _ = xenonnt.recoil_weights(release.mono_energies)
    rate = lambda t_kev: 50.0 * np.exp(-t_kev / 0.9)  # noqa: E731  per t·y per keV
    got = np.asarray(xenonnt.fold_recoil_spectrum(release, rate(np.asarray(T) / u.keV) / u.keV))
    grid = np.linspace(0.5, 5.0, 20001)
    for i, r in enumerate(release.runs):
        eps = np.stack([np.interp(grid, r.mono_energies, col) for col in r.mono.reshape(46, -1).T])
        ref = np.trapezoid(eps * rate(grid), grid, axis=1).reshape(r.data.shape) * r.exposure
        np.testing.assert_allclose(got[i], ref, rtol=1e-6, atol=1e-12)


def test_cevns_recoil_rate_on_xenon_vs_quad(flux):
    """The SM recoil spectrum the fold uses, against scipy quad over E_ν of the textbook
    cross section with the Helm form factor, summed over the xenon isotopes."""
    exp = xenonnt._experiment(flux)
    Gf, s2w = jd.constants.G_F, jd.constants.sin2_theta_W_0
    for t_kev in (0.8, 2.0, 3.5):
        T = t_kev * u.keV
        got = float(jd.cevns_recoil_spectrum(exp, T, apply_efficiency=False))
        ref = 0.0
        for nuc, n in zip(exp.target.nuclei, np.asarray(exp.nuclei_counts), strict=True):
            M = float(nuc.mass)
            F2 = float(helm_form_factor(nuc, np.sqrt(2 * M * T))) ** 2
            qw = (nuc.A - nuc.Z) - (1 - 4 * s2w) * nuc.Z
            e_min = 0.5 * (T + np.sqrt(T * T + 2 * M * T))

            def f(E, M=M, F2=F2, qw=qw, T=T):
                kin = 1 - T / E - M * T / (2 * E * E)
                dphi = float(flux.dphi_dE(E))
                return Gf**2 * M / (4 * np.pi) * qw**2 * kin * F2 * dphi

            top = 18.8 * u.MeV
            pts = [x for x in (16.0 * u.MeV,) if e_min < x < top]
            ref += n * integrate.quad(f, e_min, top, points=pts, limit=200, epsrel=1e-8)[0]
        assert got == pytest.approx(ref * u.year, rel=2e-4)


def test_nll_matches_scipy(release, sm):
    rng = np.random.default_rng(1)
    theta = np.asarray(xenonnt._theta0(release)) + 0.1 * rng.standard_normal(9)
    sig = 0.3 * np.asarray(sm)
    exp = np.asarray(xenonnt.xenonnt_expected(release, sm, sig, 0.7, theta))
    # the expectation by hand
    th = dict(zip(xenonnt.parameter_names(release), theta, strict=True))
    for i, r in enumerate(release.runs):
        hand = th["efficiency"] * th["b8"] * (np.asarray(sm)[0, i] + 0.7 * sig[0, i])
        hand = hand + r.exposure * (
            th[f"ac_{r.name}"] * r.backgrounds["ac"]
            + th["er"] * r.backgrounds["er"]
            + th["rg"] * r.backgrounds["rg"]
        )
        np.testing.assert_allclose(exp[i], hand, rtol=1e-12)
    got = float(xenonnt.xenonnt_nll(release, exp, theta, b8_prior=0.04))
    names = xenonnt.parameter_names(release)
    widths = {"b8": 0.04} | xenonnt.PRIORS
    centre = {"t_ly": 0.0, "t_qy": 0.0}
    ref = -stats.poisson.logpmf(release.data, exp).sum() + sum(
        0.5 * ((t - centre.get(n, 1.0)) / widths[n]) ** 2 for n, t in zip(names, theta, strict=True)
    )
    assert got == pytest.approx(ref, rel=1e-12)


def test_sm_fit_vs_scipy_and_published(release, sm):
    fit = xenonnt.xenonnt_sm_fit(release, sm)
    assert fit["converged"]

    def nll(x):
        return float(
            xenonnt.xenonnt_nll(
                release, xenonnt.xenonnt_expected(release, sm, 0 * sm, 0.0, x), jnp.asarray(x)
            )
        )

    ref = optimize.minimize(nll, np.asarray(xenonnt._theta0(release)), method="Nelder-Mead",
                            options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 40000,
                                     "maxfev": 40000})  # fmt: skip
    assert fit["b8_scale"] == pytest.approx(ref.x[0], abs=2e-3)
    assert fit["predicted"] == pytest.approx(sum(fit["predicted_per_run"].values()), rel=1e-12)
    # SR0 + SR1 alone: the published measurement (4.7 +3.6 -2.3) x 1e6 /cm²/s (PRL 133 (2024)
    # 191002), within its error
    two = xenonnt.load_xenonnt(RELEASE, runs=("sr0", "sr1"))
    fit01 = xenonnt.xenonnt_sm_fit(two, sm[:, :2])
    phi = fit01["b8_scale"] * jd.solar.B8_NORMALISATIONS["sno"][0]
    assert 4.7e6 - 2.3e6 < phi < 4.7e6 + 3.6e6


def test_limit_crossing_and_flavour_properties(release, flux):
    ds = xenonnt.xenonnt_data_set(release)
    m = 1.0 * u.MeV
    lims = {f: coherent.mu_limits([ds], [m], flavour=f)[0] for f in (0, 1, 2, "all")}
    assert all(np.isfinite(v) and v > 0 for v in lims.values())
    # a flavour-universal moment produces the three flavours' signals together
    assert lims["all"] < min(lims[0], lims[1], lims[2])
    # ν_e dominates the flux at Earth below ~2 MeV but not at 10 MeV: all three are comparable
    assert max(lims.values()) / min(lims.values()) < 3
    # the crossing: q(s90) = 1.642 with q from an independent brentq on the profile
    sig = ds.signal(m, coherent.coupling_pattern(0))
    s90 = (lims[0] / coherent.MU_REF) ** 2
    nll_hat, s_hat, _ = ds.best(ds.sm, sig)
    q = lambda s: (
        2
        * (
            float(ds.profile(ds.sm, sig, s))
            - min(float(nll_hat), float(ds.profile(ds.sm, sig, 0.0)))
        )
    )  # noqa: E501, E731
    root = optimize.brentq(lambda s: q(s) - coherent.Q_CRIT_90, max(float(s_hat), 0.0), 50 * s90)
    assert s90 == pytest.approx(root, rel=1e-4)
    # signal ∝ μ²
    np.testing.assert_allclose(ds.signal(m, 2 * coherent.coupling_pattern(0)), 4 * sig, rtol=1e-12)
    # beyond the kinematic end (hep end point 18.8 MeV, recoils above 0.5 keV): no signal
    assert float(jnp.sum(ds.signal(20 * u.MeV, coherent.coupling_pattern(0)))) == 0.0
    assert np.isinf(coherent.mu_limits([ds], [20 * u.MeV], flavour=0)[0])


def test_signal_gradient_in_mass(release, flux):
    def total(m):
        model = jd.DipoleModel(m, jnp.asarray([1.0, 0.0, 0.0]) * coherent.MU_REF)
        return jnp.sum(xenonnt.xenonnt_primakoff(model, release, flux))

    for m_mev in (1.0, 8.0, 25.0):
        m = m_mev * u.MeV
        g = float(jax.grad(total)(m))
        assert np.isfinite(g)
        if m_mev == 25.0:
            assert g == 0.0
        else:
            h = 1e-4 * m
            fd = (float(total(m + h)) - float(total(m - h))) / (2 * h)
            assert g == pytest.approx(fd, rel=1e-4)


def test_yield_variations(tmp_path, release):
    """A release with a 3 × 3 grid of light/charge-yield templates: read, interpolated
    bilinearly, and profiled."""
    root = tmp_path / "rel"
    shutil.copytree(RELEASE / "binning", root / "binning")
    shutil.copytree(RELEASE / "data", root / "data")
    for run in ("sr0",):
        src = RELEASE / "templates" / run
        for comp in ("ac", "er"):
            (root / "templates" / run / comp).mkdir(parents=True)
            shutil.copy(next((src / comp).glob("*.h5")), root / "templates" / run / comp)
        for sub in ("rg", "mono"):
            (root / "templates" / run / sub).mkdir(parents=True)
        for p in list((src / "rg").glob("*.h5")) + list((src / "mono").glob("*.h5")):
            for ly in (-1.0, 0.0, 1.0):
                for qy in (-1.0, 0.0, 1.0):
                    name = p.name.replace("tly_0.0_tqy_0.0", f"tly_{ly}_tqy_{qy}")
                    dest = root / "templates" / run / p.parent.name / name
                    shutil.copy(p, dest)
                    dest.chmod(0o644)
                    with h5py.File(dest, "r+") as f:
                        f["templates/template"][...] *= 1 + 0.1 * ly + 0.05 * qy
    rel = xenonnt.load_xenonnt(root, runs=("sr0",))
    assert len(rel.yield_settings) == 9
    stack = np.stack([rel.runs[0].yields[k][1] for k in rel.yield_settings])
    got = xenonnt.interpolate_yields(rel, stack, 0.5, -0.25)
    np.testing.assert_allclose(got, rel.runs[0].mono * (1 + 0.05 - 0.0125), rtol=1e-12)
    sm = xenonnt.xenonnt_cevns(rel)
    assert sm.shape == (9, 1, 3, 3, 3, 3)
    fit = xenonnt.xenonnt_sm_fit(rel, sm)
    assert fit["converged"] and abs(fit["parameters"]["t_ly"]) < 3


def test_bad_release(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        xenonnt.load_xenonnt(tmp_path / "nothing")
    with pytest.raises(ValueError, match="no binning"):
        xenonnt.load_xenonnt(tmp_path)
    root = tmp_path / "rel"
    shutil.copytree(RELEASE, root)
    ac = next((root / "templates" / "sr1" / "ac").glob("*.h5"))
    ac.chmod(0o644)
    ac.write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="template_XENONnT_sr1_ac"):
        xenonnt.load_xenonnt(root)
    with pytest.raises(ValueError, match="runs must be"):
        xenonnt.load_xenonnt(RELEASE, runs=("sr7",))
    with pytest.raises(ValueError, match="exposure_ty"):
        xenonnt.load_xenonnt(RELEASE, exposure_ty={"sr0": -1.0})


def test_data_limit_command(tmp_path, capsys, release):
    import json

    from jaxdipole import cli

    out = tmp_path / "dl"
    args = ["data-limit", "xenonnt-b8", "--data", str(RELEASE.parent), "--out", str(out)]
    rc = cli.main([*args, "--quiet", "--flavour", "tau", "--m-min", "1", "--m-max", "30",
                   "--n-masses", "2", "--solar-flux", "b16-gs98"])  # fmt: skip
    assert rc == 0
    assert {p.name for p in out.iterdir()} == {
        "data-limit.json",
        "data-limit.csv",
        "data-limit.png",
    }
    meta = json.loads((out / "data-limit.json").read_text())
    for key in ("sm_predicted_events", "sm_fitted_events", "sm_fitted_error", "m_N_MeV",
                "mu90_muB", "flavour", "test_statistic"):  # fmt: skip
        assert key in meta
    assert meta["flavour"] == "tau" and meta["solar_flux"] == "b16-gs98"
    # the B16-GS98 normalisation: the SNO prediction plus 0.21/5.25 of its ⁸B part
    sno = float(jnp.sum(xenonnt.xenonnt_cevns(release)))
    per = jd.solar.PER_CM2_S
    b8_only = jd.solar.SolarFlux(b8_flux=5.25e6 * per, hep_flux=0.0)
    b8 = float(jnp.sum(xenonnt.xenonnt_cevns(release, b8_only)))
    assert 0.9 * sno < b8 < sno  # hep: 0.15 % of the flux, more of the recoils above 1 keV
    assert meta["sm_predicted_events"] == pytest.approx(sno + b8 * 0.21 / 5.25, rel=1e-9)
    assert meta["mu90_muB"][0] > 0 and meta["mu90_muB"][1] is None  # 30 MeV: beyond the end
    capsys.readouterr()
    bad = cli.main(["data-limit", "coherent-lar", "--data", str(RELEASE.parent), "--flavour",
                    "tau", "--out", str(tmp_path / "x"), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert bad == 2 and "tau" in err and len(err.splitlines()) == 1
