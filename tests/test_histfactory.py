"""pyhf (HistFactory JSON) export of the COHERENT likelihoods: the specifications validate and
build, pyhf's expected counts equal jaxdipole's (at the nominal point and off it, wherever the
two models coincide exactly) and pyhf's SM fits reproduce jaxdipole's fitted CEvNS counts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from jaxdipole import coherent as c
from jaxdipole import coherent_csi as cc
from jaxdipole import histfactory as hf

pyhf = pytest.importorskip("pyhf")

SHARED = Path(__file__).resolve().parents[2] / "shared/data/realdata"
LAR = SHARED / "coherent_lar_cenns10"
CSI = SHARED / "coherent_csi_2021"
needs_lar = pytest.mark.skipif(not LAR.is_dir(), reason=f"the CENNS-10 release is not at {LAR}")
needs_csi = pytest.mark.skipif(not CSI.is_dir(), reason=f"the CsI 2021 release is not at {CSI}")
NORMS = ("normsys", "histosys")


@pytest.fixture(scope="module", autouse=True)
def _numpy_backend():
    pyhf.set_backend("numpy", pyhf.optimize.scipy_optimizer())


def _build(spec):
    ws = pyhf.Workspace(json.loads(json.dumps(spec)))  # the JSON round trip of a file
    model = ws.model(modifier_settings=hf.MODIFIER_SETTINGS)
    return ws, model


def _pars(model, values=None):
    pars = np.asarray(model.config.suggested_init(), dtype=float)
    for name, v in (values or {}).items():
        pars[model.config.par_slice(name)] = v
    return pars


def _fitted(model, ws):
    best = pyhf.infer.mle.fit(ws.data(model), model)
    return float(best[model.config.par_slice("cevns_scale")][0])


# ---------------------------------------------------------------------------------------------
# CENNS-10


@pytest.fixture(scope="module")
def lar():
    return c.load_cenns10(LAR)


@pytest.fixture(scope="module")
def lar_sm(lar):
    return lar.expected["cevns"].sum(1)  # the release's own SM prediction, shape (12, 10)


@pytest.fixture(scope="module")
def lar_signal(lar_sm):
    return np.random.default_rng(1).uniform(0.0, 0.5, lar_sm.shape)


@needs_lar
@pytest.mark.parametrize("normalisation", NORMS)
def test_cenns10_spec_builds(lar, lar_sm, lar_signal, normalisation, tmp_path):
    spec = hf.cenns10_workspace(lar, lar_sm, lar_signal, normalisation=normalisation)
    path = hf.write_workspace(spec, tmp_path / "ws" / "cenns10.json")
    assert json.loads(path.read_text()) == spec
    assert [p.name for p in path.parent.iterdir()] == ["cenns10.json"]  # no temporary left
    ws, model = _build(spec)
    assert model.config.channel_nbins == {"cenns10": 960}
    assert model.config.poi_name == "mu"
    # CEvNS, 3 background scales and the 5 released shapes are unit-Gaussian pulls
    n_aux = 4 + len(lar.shape_systematics)
    assert len(model.config.auxdata) == n_aux == 9
    assert len(ws.data(model)) == 960 + n_aux
    np.testing.assert_array_equal(ws.data(model, include_auxdata=False), lar.data.ravel())
    # without a signal the CEvNS scale is free and the POI (jaxdipole's SM fit)
    _, sm_model = _build(hf.cenns10_workspace(lar, lar_sm, normalisation=normalisation))
    assert sm_model.config.poi_name == "cevns_scale"
    assert len(sm_model.config.auxdata) == n_aux - 1


@needs_lar
@pytest.mark.parametrize("normalisation", NORMS)
def test_cenns10_expected_nominal(lar, lar_sm, lar_signal, normalisation):
    ref = np.asarray(c.cenns10_expected(lar, lar_sm)).ravel()
    for signal in (lar_signal, None):
        _, model = _build(hf.cenns10_workspace(lar, lar_sm, signal, normalisation=normalisation))
        pars = _pars(model, {"mu": 0.0} if signal is not None else None)
        np.testing.assert_allclose(model.expected_actualdata(pars), ref, rtol=1e-10, atol=0)


@needs_lar
def test_cenns10_expected_off_nominal(lar, lar_sm, lar_signal):
    """Where pyhf's model and jaxdipole's coincide exactly: shape pulls (both code4p branches)
    with a signal; scales at α = ±1 (normsys code4 is exact there) or any α (histosys)."""
    names = sorted(lar.shape_systematics)
    pulls = dict(zip(names, [-1.7, -0.6, 0.3, 0.8, 1.4], strict=True))
    _, model = _build(hf.cenns10_workspace(lar, lar_sm, lar_signal))
    got = model.expected_actualdata(_pars(model, pulls | {"mu": 0.7}))
    ref = c.cenns10_expected(lar, lar_sm + 0.7 * lar_signal, shapes=pulls)
    np.testing.assert_allclose(got, np.ravel(ref), rtol=1e-10, atol=0)

    prior, bkg = c.CEVNS_PRIOR, c.BACKGROUND_PRIORS
    cases = (("normsys", (1.0, -1.0, 1.0, -1.0)), ("histosys", (0.4, -1.3, -0.7, 2.2)))
    for normalisation, alphas in cases:
        names = ("cevns_norm", "brn_norm", "delayed_brn_norm", "steady_state_norm")
        spec = hf.cenns10_workspace(lar, lar_sm, lar_signal, normalisation=normalisation)
        _, model = _build(spec)
        got = model.expected_actualdata(_pars(model, dict(zip(names, alphas, strict=True))))
        ref = c.cenns10_expected(
            lar,
            (1 + prior * alphas[0]) * lar_sm,
            brn=1 + bkg["brn"] * alphas[1],
            delayed_brn=1 + bkg["delayed_brn"] * alphas[2],
            steady_state=1 + bkg["steady_state"] * alphas[3],
        )
        np.testing.assert_allclose(got, np.ravel(ref), rtol=1e-10, atol=0)


@needs_lar
def test_cenns10_sm_fit(lar, lar_sm):
    """pyhf's fitted CEvNS count against jaxdipole's (release's SM prediction, 128 events;
    jaxdipole fits 161 ± 44). With ``normsys`` the model differs only by code4's polynomial
    scale inside ±1σ, second order in the pulls (|α| < 1 at the fit): 1e-4 seen, 1 % allowed
    (2.5 % of σ). With ``histosys`` the BRN scale (1.03) does not multiply the BRN shape
    variations (pulls up to 1σ): a 1.1 % shift seen, 3 % allowed (7 % of σ)."""
    ours = c.cenns10_sm_fit(lar, lar_sm)
    assert ours["converged"]
    ratio = ours["fitted"] / ours["predicted"]
    for normalisation, rtol in (("normsys", 0.01), ("histosys", 0.03)):
        ws, model = _build(hf.cenns10_workspace(lar, lar_sm, normalisation=normalisation))
        assert _fitted(model, ws) == pytest.approx(ratio, rel=rtol)


# ---------------------------------------------------------------------------------------------
# CsI 2021


@pytest.fixture(scope="module")
def csi():
    return cc.load_csi2021(CSI)


@pytest.fixture(scope="module")
def csi_sm(csi):
    return np.asarray(cc.csi2021_cevns_variations(csi))  # (7, n_pe, n_t)


def _channels(model, expected):
    sl = model.config.channel_slices
    return expected[sl["csi2021_c"]], expected[sl["csi2021_ac"]]


@needs_csi
@pytest.mark.parametrize("normalisation", NORMS)
def test_csi2021_spec_builds(csi, csi_sm, normalisation):
    n_pe, n_t = csi.data.shape
    spec = hf.csi2021_workspace(csi, csi_sm, 0.1 * csi_sm, normalisation=normalisation)
    ws, model = _build(spec)
    assert model.config.channel_nbins == {"csi2021_c": n_pe * n_t, "csi2021_ac": n_pe * n_t}
    assert model.config.poi_name == "mu"
    # CEvNS, BRN, NIN scales and the 3 response variations are unit-Gaussian pulls; one free
    # steady-state rate per PE bin
    assert len(model.config.auxdata) == 6
    assert model.config.npars == 6 + n_pe + 1
    assert len(ws.data(model)) == 2 * n_pe * n_t + 6
    c_obs, ac_obs = _channels(model, ws.data(model, include_auxdata=False))
    np.testing.assert_array_equal(c_obs, csi.data.ravel())
    np.testing.assert_array_equal(ac_obs, csi.anticoincidence.ravel())
    # the nominal response alone: no response variations
    _, model = _build(hf.csi2021_workspace(csi, csi_sm[0], normalisation=normalisation))
    assert model.config.poi_name == "cevns_scale" and len(model.config.auxdata) == 2


@needs_csi
@pytest.mark.parametrize("normalisation", NORMS)
def test_csi2021_expected(csi, csi_sm, normalisation):
    """At the nominal point (POI 0) and, where the models coincide exactly, off it: response
    pulls in both code4p branches with a signal stack and steady-state rates; scales at α = ±1
    (normsys) or any α (histosys)."""
    n_pe = csi.data.shape[0]
    signal = 0.1 * csi_sm[::-1]
    _, model = _build(hf.csi2021_workspace(csi, csi_sm, signal, normalisation=normalisation))
    ss_ref = cc._ss_reference(csi)
    ref = cc.csi2021_expected(csi, csi_sm[0], ss_ref)
    got = _channels(model, model.expected_actualdata(_pars(model, {"mu": 0.0})))
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(g, np.ravel(r), rtol=1e-10, atol=0)

    rng = np.random.default_rng(2)
    pulls = np.array([-1.6, 0.4, 1.3])
    factors = rng.uniform(0.5, 1.5, n_pe)
    values = dict(zip(cc.VARIATIONS, pulls, strict=True)) | {"mu": 0.7}
    values |= {f"steady_state_pe{i}": f for i, f in enumerate(factors)}
    got = _channels(model, model.expected_actualdata(_pars(model, values)))
    nr = cc.interpolate_variations(csi_sm, pulls) + 0.7 * cc.interpolate_variations(signal, pulls)
    ref = cc.csi2021_expected(csi, nr, ss_ref * factors)
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(g, np.ravel(r), rtol=1e-10, atol=0)

    alphas = (1.0, -1.0, 1.0) if normalisation == "normsys" else (0.4, -1.3, 2.2)
    names = ("cevns_norm", "brn_norm", "nin_norm")
    values = dict(zip(names, alphas, strict=True))
    got = _channels(model, model.expected_actualdata(_pars(model, values)))
    bkg = cc.BACKGROUND_PRIORS
    ref = cc.csi2021_expected(
        csi,
        (1 + cc.CEVNS_PRIOR * alphas[0]) * csi_sm[0],
        ss_ref,
        brn=1 + bkg["brn"] * alphas[1],
        nin=1 + bkg["nin"] * alphas[2],
    )
    for g, r in zip(got, ref, strict=True):
        np.testing.assert_allclose(g, np.ravel(r), rtol=1e-10, atol=0)


@needs_csi
def test_csi2021_sm_fit(csi, csi_sm):
    """pyhf's fitted CEvNS count against jaxdipole's (343 predicted, 296 ± 40 fitted). With
    ``histosys`` the model is jaxdipole's exactly (the BRN and NIN samples have no shape
    variation, the CEvNS scale is free): 5e-6 seen, 1e-3 allowed (optimiser tolerances). With
    ``normsys`` the BRN, NIN scales are code4 polynomials of their pulls: 2.5e-4 seen, 1 %
    allowed (7 % of σ)."""
    ours = cc.csi2021_sm_fit(csi, csi_sm)
    assert ours["converged"]
    ratio = ours["fitted"] / ours["predicted"]
    for normalisation, rtol in (("histosys", 1e-3), ("normsys", 0.01)):
        ws, model = _build(hf.csi2021_workspace(csi, csi_sm, normalisation=normalisation))
        assert _fitted(model, ws) == pytest.approx(ratio, rel=rtol)


# ---------------------------------------------------------------------------------------------
# argument checks (no release needed beyond its shapes)


@needs_lar
def test_bad_arguments(lar, lar_sm):
    with pytest.raises(ValueError, match="sm must have shape"):
        hf.cenns10_workspace(lar, lar_sm.T)
    with pytest.raises(ValueError, match="finite"):
        hf.cenns10_workspace(lar, np.full_like(lar_sm, np.nan))
    with pytest.raises(ValueError, match="normalisation"):
        hf.cenns10_workspace(lar, lar_sm, normalisation="lumi")
    with pytest.raises(ValueError, match="clashes"):
        hf.cenns10_workspace(lar, lar_sm, lar_sm, poi="brn_energy")
    with pytest.raises(ValueError, match="clashes"):
        hf.cenns10_workspace(lar, lar_sm, lar_sm, poi="brn_norm")
