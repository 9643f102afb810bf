"""COHERENT CENNS-10 release: loader, and the Standard-Model closure of jaxdipole's prediction
(own π-DAR flux, CEvNS cross section and the released response) against the collaboration's
predicted CEvNS counts (128, PRL 126 (2021) 012002)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from jaxdipole.coherent import cenns10_cevns, load_cenns10

RELEASE = Path(__file__).resolve().parents[2] / "shared/data/realdata/coherent_lar_cenns10"
pytestmark = pytest.mark.skipif(
    not RELEASE.is_dir(), reason=f"the CENNS-10 release is not at {RELEASE}"
)


@pytest.fixture(scope="module")
def release():
    return load_cenns10(RELEASE)


def test_loader(release):
    assert release.data.shape == (12, 8, 10)
    np.testing.assert_allclose(release.energy_edges, np.arange(0, 121, 10.0))
    np.testing.assert_allclose(release.f90_edges, np.linspace(0.5, 0.9, 9))
    np.testing.assert_allclose(release.time_edges, np.linspace(-0.1, 4.9, 11))
    # totals stated by the release (data events; predicted CEvNS, BRN, delayed BRN, SS)
    assert release.data.sum() == 3752
    totals = {k: v.sum() for k, v in release.expected.items()}
    assert totals["cevns"] == pytest.approx(128, abs=0.01)
    assert totals["brn"] == pytest.approx(497, abs=0.01)
    assert totals["delayed_brn"] == pytest.approx(33, abs=0.01)
    assert totals["steady_state"] == pytest.approx(3152, abs=0.01)
    assert release.params["pot"] == pytest.approx(13.8e22)
    assert release.params["distance_m"] == 27.5 and release.params["mass_kg"] == 24.4
    with pytest.raises(ValueError, match="folder"):
        load_cenns10(RELEASE / "cevnspdf.txt")


def test_standard_model_closure(release):
    ours = np.asarray(cenns10_cevns(release))
    ref = release.expected["cevns"].sum(1)  # (energy, time), summed over F90
    assert ours.shape == (12, 10)
    # total: 123.3 vs the release's 128 +- 17 (flux model: the release used a full SNS
    # simulation, we the analytic pi-DAR spectra; efficiency read at the true energy)
    assert ours.sum() == pytest.approx(ref.sum(), rel=0.06)
    # energy projection: every bin holding >= 2 predicted events within 15 %
    e_ours, e_ref = ours.sum(1), ref.sum(1)
    sel = e_ref >= 2
    assert sel.sum() >= 4
    np.testing.assert_allclose(e_ours[sel], e_ref[sel], rtol=0.15)
    # time projection: the prompt/delayed structure bin by bin within 8 %
    np.testing.assert_allclose(ours.sum(0), ref.sum(0), rtol=0.08)


def test_primakoff_counts_equal_the_rate_fold(release):
    # with efficiency 1, a negligible resolution and one wide energy and time bin, the response
    # fold (ln E_nr quadrature per component) equals primakoff_events per component above the
    # same 1 keVnr cut (the experiment's threshold as an integration bound): two code paths
    import dataclasses

    import jaxdipole as jd
    from jaxdipole.coherent import RECOIL_MIN, cenns10_flux, cenns10_primakoff

    u = jd.units
    wide = dataclasses.replace(
        release,
        energy_edges=np.array([0.0, 1e4]),
        time_edges=np.array([-1e3, 1e6]),
        efficiency_kevee=np.array([0.0, 1e4]),
        efficiency=np.array([1.0, 1.0]),
        params=release.params | {"resolution_a": 1e-9},
    )
    flux = cenns10_flux(release)
    for mu, m_n in [((0.0, 1e-9, 0.0), 5e-3), ((1e-9, 0.0, 0.0), 20e-3)]:
        model = jd.DipoleModel(m_n, mu=mu)
        got = float(cenns10_primakoff(model, wide)[0, 0])
        ref = 0.0
        for comp in flux.components():
            exp = jd.Experiment(
                target="Ar",
                target_mass=release.params["mass_kg"] * u.kg,
                exposure=u.year,
                flux=comp,
                recoil_threshold=RECOIL_MIN,
            )
            ref += float(jd.primakoff_events(model, exp))
        assert got > 0 and got == pytest.approx(ref, rel=1e-6)
    # mu_e alone: only the delayed nu_e -- no prompt excess in the first time bins
    e_only = np.asarray(cenns10_primakoff(jd.DipoleModel(5e-3, mu=(1e-9, 0, 0)), release))
    mu_only = np.asarray(cenns10_primakoff(jd.DipoleModel(5e-3, mu=(0, 1e-9, 0)), release))
    f_e, f_mu = e_only.sum(0) / e_only.sum(), mu_only.sum(0) / mu_only.sum()
    assert f_mu[1] > 1.5 * f_e[1] and f_e[-1] > f_mu[-1]


def _fit(release, nuclear_recoils):
    import jax.numpy as jnp

    import jaxdipole as jd
    from jaxdipole.coherent import cenns10_expected, cenns10_nll

    nr = jnp.asarray(nuclear_recoils)

    def nll(x):
        a_c, a_b, a_d, a_s = x
        exp = cenns10_expected(release, a_c * nr, brn=a_b, delayed_brn=a_d, steady_state=a_s)
        return cenns10_nll(release, exp, {"brn": a_b, "delayed_brn": a_d, "steady_state": a_s})

    res = jd.fit.minimize(nll, jnp.ones(4))
    assert bool(res.converged)
    return np.asarray(res.x), np.asarray(res.errors)


def test_likelihood_reproduces_the_published_fit(release):
    # the release's CEvNS expectation in our binned Poisson likelihood with the background
    # priors gives the collaboration's best fit (PRL 126 (2021) 012002, the release's YAML):
    # CEvNS 159 +- 43, prompt BRN 553 +- 34, delayed BRN 10 +- 11, steady state 3131 +- 23
    from jaxdipole.coherent import f90_shape

    shape = f90_shape(release)
    assert np.allclose(shape.sum(1)[:8], 1.0)
    cevns = release.expected["cevns"].sum(1)
    x, err = _fit(release, cevns)
    fitted = {
        "cevns": (x[0] * cevns.sum(), err[0] * cevns.sum(), 159, 43),
        "brn": (x[1] * 497, err[1] * 497, 553, 34),
        "delayed_brn": (x[2] * 33, err[2] * 33, 10, 11),
        "steady_state": (x[3] * 3152, err[3] * 3152, 3131, 23),
    }
    for name, (val, sig, pub, pub_sig) in fitted.items():
        assert abs(val - pub) < 0.5 * pub_sig, name
        assert sig == pytest.approx(pub_sig, rel=0.25), name


def test_fit_with_our_standard_model_prediction(release):
    # jaxdipole's own CEvNS prediction in place of the release's: the fitted CEvNS count
    # agrees with the collaboration's 159 +- 43 within one standard deviation
    sm = np.asarray(cenns10_cevns(release))
    x, err = _fit(release, sm)
    assert abs(x[0] * sm.sum() - 159) < 43
    assert 0.5 < x[0] < 2.0 and err[0] < 0.5


def test_signal_limit_against_a_scipy_profile_likelihood(release):
    # the same profile-likelihood ratio computed with NumPy + scipy.optimize (nuisances
    # profiled by L-BFGS-B, the crossing by brentq): the limits agree
    from scipy import optimize, special

    import jaxdipole as jd
    from jaxdipole.coherent import (
        BACKGROUND_PRIORS,
        CEVNS_PRIOR,
        cenns10_primakoff,
        cenns10_signal_limit,
        f90_shape,
    )

    u = jd.units
    sm = np.asarray(cenns10_cevns(release))
    model = jd.DipoleModel(10 * u.MeV, mu=(0, 3e-9 * u.mu_B, 0))  # near the limit: s_90 ~ 1
    sig = np.asarray(cenns10_primakoff(model, release))
    got = cenns10_signal_limit(release, sm, sig)

    shape = f90_shape(release)[:, :, None]
    e, n = release.expected, release.data
    pri = np.array([CEVNS_PRIOR] + [BACKGROUND_PRIORS[k] for k in ("brn", "delayed_brn")]
                   + [BACKGROUND_PRIORS["steady_state"]])  # fmt: skip
    syst = [release.shape_systematics[k] for k in sorted(release.shape_systematics)]

    def code4p(a, d_up, d_dn):  # HistFactory / pyhf histosys interpolation code 4p
        if abs(a) >= 1:
            return a * (d_up if a > 0 else d_dn)
        sym, asym = (d_up + d_dn) / 2, (d_up - d_dn) / 16
        return a * sym + a**2 * asym * (15 - 10 * a**2 + 3 * a**4)

    def d_code4p(a, d_up, d_dn):  # its derivative in a
        if abs(a) >= 1:
            return d_up if a > 0 else d_dn
        sym, asym = (d_up + d_dn) / 2, (d_up - d_dn) / 16
        return sym + asym * (30 * a - 40 * a**3 + 18 * a**5)

    def nll_and_grad(s, th):
        """The nll and its gradient in θ (written out by hand: scipy's L-BFGS-B with exact
        gradients instead of finite differences)."""
        brn, nr_factor, d_nu = e["brn"].copy(), 1.0, []
        nr0 = (th[0] * sm + s * sig)[:, None, :] * shape
        for a, (comp, up, dn) in zip(th[4:], syst, strict=True):
            nom = e[comp]
            if comp == "brn":
                brn = brn + code4p(a, up - nom, nom - dn)
                d_nu.append(th[1] * d_code4p(a, up - nom, nom - dn))
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    r_up = np.where(nom > 0, up / nom - 1, 0.0)
                    r_dn = np.where(nom > 0, 1 - dn / nom, 0.0)
                nr_factor = nr_factor + code4p(a, r_up, r_dn)
                d_nu.append(nr0 * d_code4p(a, r_up, r_dn))
        nu = nr0 * nr_factor + th[1] * brn + th[2] * e["delayed_brn"] + th[3] * e["steady_state"]
        nu = np.maximum(nu, 1e-300)
        value = (
            np.sum(nu - n * np.log(nu) + special.gammaln(n + 1))
            + 0.5 * np.sum(((th[:4] - 1) / pri) ** 2)
            + 0.5 * np.sum(th[4:] ** 2)
        )
        r = 1.0 - n / nu  # d pois / d nu
        parts = [sm[:, None, :] * shape * nr_factor, brn, e["delayed_brn"], e["steady_state"]]
        grad = np.array([np.sum(r * x) for x in parts + d_nu])
        grad[:4] += (th[:4] - 1) / pri**2
        grad[4:] += th[4:]
        return value, grad

    def prof(s):
        opts = {"ftol": 1e-15, "gtol": 1e-10}
        x0 = np.concatenate([np.ones(4), np.zeros(len(syst))])
        bounds = [(0.01, 5)] * 4 + [(-5, 5)] * len(syst)
        r = optimize.minimize(
            lambda th: nll_and_grad(s, th), x0, jac=True, method="L-BFGS-B", bounds=bounds,
            options=opts,
        )  # fmt: skip
        return r.fun

    glob = optimize.minimize_scalar(prof, bounds=(0.0, 50.0), method="bounded",
                                    options={"xatol": 1e-8})  # fmt: skip
    nll_min = min(glob.fun, prof(0.0))
    ref = optimize.brentq(lambda s: 2 * (prof(s) - nll_min) - 1.2815515655446004**2,
                          max(glob.x, 1e-9), 1e3, xtol=1e-10)  # fmt: skip
    assert 0.3 < ref < 3 and got == pytest.approx(ref, rel=1e-4)


def test_mu_limit_does_not_depend_on_the_reference_coupling(release):
    import jaxdipole as jd
    from jaxdipole.coherent import cenns10_mu_limit

    u = jd.units
    a = cenns10_mu_limit(jd.DipoleModel(10 * u.MeV, mu=(0, 1e-9 * u.mu_B, 0)), release)
    b = cenns10_mu_limit(jd.DipoleModel(10 * u.MeV, mu=(0, 4e-9 * u.mu_B, 0)), release)
    assert np.isfinite(a) and a == pytest.approx(b, rel=1e-5)
    assert 1e-10 < a / u.mu_B < 1e-7  # a few 1e-9 mu_B (COHERENT-scale sensitivity)
    with pytest.raises(ValueError, match="non-zero"):
        cenns10_mu_limit(jd.DipoleModel(10 * u.MeV, mu=(1e-9, 0, 0)), release)


def test_data_sets_of_one_release_share_the_compiled_signal(release, monkeypatch):
    # a data set with another SM prediction (e.g. in a fit of the quenching) reuses the
    # signal compiled for the first one: the Primakoff fold is not traced again
    import jaxdipole as jd
    from jaxdipole import coherent

    first = coherent.cenns10_data_set(release)
    traces = []
    fold = coherent.cenns10_primakoff
    monkeypatch.setattr(coherent, "cenns10_primakoff", lambda *a: traces.append(1) or fold(*a))
    mu = np.array([0.0, coherent.MU_REF, 0.0])
    want = np.asarray(first.signal(7 * jd.units.MeV, mu))
    n_first = len(traces)
    second = coherent.cenns10_data_set(release, sm=0.5 * first.sm)
    np.testing.assert_array_equal(np.asarray(second.signal(7 * jd.units.MeV, mu)), want)
    np.testing.assert_array_equal(np.asarray(second.sm), 0.5 * np.asarray(first.sm))
    assert len(traces) == n_first
    model = jd.DipoleModel(7 * jd.units.MeV, tuple(mu))
    np.testing.assert_allclose(want, np.asarray(fold(model, release)), rtol=1e-12)


def test_primakoff_counts_gradient_in_log_mass(release):
    # d N / d ln m_N: finite, equal to a central difference in ln m_N inside the reach, and
    # exactly 0 (finite) beyond the flux end point, where no N can be produced
    import jax
    import jax.numpy as jnp

    import jaxdipole as jd
    from jaxdipole.coherent import cenns10_primakoff

    u = jd.units

    def total(log_m):
        model = jd.DipoleModel(jnp.exp(log_m), mu=(0, 3e-9 * u.mu_B, 0))
        return jnp.sum(cenns10_primakoff(model, release))

    f, g = jax.jit(total), jax.jit(jax.grad(total))
    x0, h = np.log(20 * u.MeV), 1e-4
    fd = (float(f(x0 + h)) - float(f(x0 - h))) / (2 * h)
    assert np.isfinite(float(g(x0))) and float(g(x0)) == pytest.approx(fd, rel=1e-5) and fd < 0
    beyond = np.log(60 * u.MeV)  # above m_mu / 2 = 52.8 MeV
    assert float(f(beyond)) == 0.0 and float(g(beyond)) == 0.0


def test_data_limit_command(tmp_path, capsys, release):
    import csv
    import json

    import jaxdipole as jd
    from jaxdipole import cli

    u = jd.units
    out = tmp_path / "dl"
    args = ["data-limit", "coherent-lar", "--data", str(RELEASE), "--out", str(out), "--quiet"]
    rc = cli.main([*args, "--m-min", "1", "--m-max", "40", "--n-masses", "2"])
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
    # SM closure: the release predicts 128 +- 17, the collaboration fits 159 +- 43
    assert abs(meta["sm_predicted_events"] - 128) < 17
    assert abs(meta["sm_fitted_events"] - 159) < 43 and 30 < meta["sm_fitted_error"] < 60
    assert meta["flavour"] == "mu" and meta["m_N_MeV"] == pytest.approx([1.0, 40.0])
    rows = list(csv.DictReader((out / "data-limit.csv").read_text().splitlines()))
    # the 1 MeV limit re-derived through the public single-mass function
    from jaxdipole.coherent import cenns10_mu_limit

    one = cenns10_mu_limit(jd.DipoleModel(1 * u.MeV, mu=(0, 1e-9 * u.mu_B, 0)), release)
    assert float(rows[0]["mu90_muB"]) == pytest.approx(one / u.mu_B, rel=1e-6)
    assert meta["mu90_muB"][1] > meta["mu90_muB"][0]  # 40 MeV: only the delayed nu-bar_mu
    capsys.readouterr()
    bad = cli.main(["data-limit", "coherent-lar", "--data", str(tmp_path / "nowhere"),
                    "--out", str(tmp_path / "x"), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert bad == 2 and "--data" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_shape_systematics_and_the_published_fit(release):
    # the release's five shape variations are read; with them as unit-Gaussian pulls, the
    # release's own CEvNS expectation fits to the collaboration's 159 +- 43 events
    # (PRL 126 (2021) 012002), closer than without them (167 +- 44, test above)
    from jaxdipole.coherent import cenns10_sm_fit

    assert sorted(release.shape_systematics) == [
        "brn_energy", "brn_timing_mean", "brn_timing_width", "cevns_f90", "cevns_timing_mean",
    ]  # fmt: skip
    for component, up, down in release.shape_systematics.values():
        nominal = release.expected[component]
        # shape variations: they keep the component's total (to the release's rounding)
        assert up.sum() == pytest.approx(nominal.sum(), rel=0.06)
        assert down.sum() == pytest.approx(nominal.sum(), rel=0.06)
        assert np.abs(up - nominal).max() > 0
    fit = cenns10_sm_fit(release, release.expected["cevns"].sum(1))
    assert fit["converged"]
    assert abs(fit["fitted"] - 159) < 0.1 * 43 and fit["error"] == pytest.approx(43, rel=0.05)
    assert all(abs(p) < 2 for p in fit["pulls"].values())


def test_histosys_interpolation():
    # pyhf's code4p: +1 sigma -> up, -1 sigma -> -down, linear beyond, and the value and the
    # first two derivatives continuous at +-1 (finite differences); no kink at 0
    import jax

    from jaxdipole.coherent import _histosys

    up, down = 0.3, 0.1

    def f(a):
        return float(_histosys(a, up, down))

    assert f(1.0) == pytest.approx(up) and f(-1.0) == pytest.approx(-down)
    assert f(2.5) == pytest.approx(2.5 * up) and f(-3.0) == pytest.approx(-3.0 * down)
    assert f(0.0) == 0.0
    g = jax.grad(lambda a: _histosys(a, up, down))
    gg = jax.grad(g)
    for a in (1.0, -1.0):
        h = 1e-6
        assert float(g(a - h)) == pytest.approx(float(g(a + h)), abs=1e-5)
        assert float(gg(a - h)) == pytest.approx(float(gg(a + h)), abs=1e-4)
    assert float(g(-1e-9)) == pytest.approx(float(g(1e-9)))


def test_toy_coverage_in_the_asymptotic_regime():
    # a data set written by hand: 20 bins of 2000 background counts each (scale under a 1 %
    # prior) and a signal template, where Wilks' theorem holds: 400 toys at the observed limit
    # cover it 90 % of the time (within 3 binomial sigma) and their q quantile is ~1.642
    import jax
    import jax.numpy as jnp

    import jaxdipole as jd
    from jaxdipole.coherent import Q_CRIT_90, DataSet, signal_limit, toy_coverage
    from jaxdipole.stats import poisson_nll

    rng = np.random.default_rng(1)
    bkg = jnp.full(20, 2000.0)
    observed = jnp.asarray(rng.poisson(np.asarray(bkg)), dtype=float)

    def expected(sm, signal, s, theta):
        return theta[0] * bkg + s * signal

    data = {"counts": observed, "aux": jnp.ones(1)}

    def nll_data(data, sm, signal, s, theta):
        nll = jnp.sum(poisson_nll(data["counts"], expected(sm, signal, s, theta)))
        return nll + 0.5 * jnp.sum(((theta - data["aux"]) / 0.01) ** 2)

    @jax.jit
    def fit(sm, signal, s):
        res = jd.fit.minimize(lambda th: nll_data(data, sm, signal, s, th), jnp.ones(1))
        return res.nll, res.x

    @jax.jit
    def best(sm, signal):
        res = jd.fit.minimize(
            lambda x: nll_data(data, sm, signal, x[0] ** 2, x[1:]), jnp.array([1.0, 1.0])
        )
        return res.nll, res.x[0] ** 2, res.x[1:]

    ds = DataSet(
        name="toy", label="toy", release=None, sm=jnp.zeros(20), signal=None,
        nll=lambda sm, sig, s, th: nll_data(data, sm, sig, s, th), fit=fit, best=best,
        test_statistic="", data=data, expected=expected, nll_data=nll_data,
        constraints=(np.array([0]), np.array([0.01])),
    )  # fmt: skip
    signal = jnp.asarray(np.linspace(1.0, 3.0, 20))
    s90 = signal_limit([(ds, signal)])
    res = toy_coverage(ds, signal, s90, n_toys=400, seed=3)
    assert abs(res["coverage"] - 0.90) < 3 * 0.015
    assert res["q90"] == pytest.approx(Q_CRIT_90, rel=0.25)
