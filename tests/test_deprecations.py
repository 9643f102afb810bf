"""Renamed public arguments and functions: the former spellings still work, warn
(DeprecationWarning, pointing at the caller) and give exactly the new spelling's result;
passing both spellings is a TypeError."""

from __future__ import annotations

import inspect
import types
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdipole as jd
from jaxdipole import fit, matrix_elements, phase_space, radiative, rates, sensitivity
from jaxdipole._deprecate import renamed_arguments

u = jd.units
MeV = 1e-3
MODEL = jd.DipoleModel(4 * MeV, mu=(1e-9, 0.0, 0.0))
CA = jd.nucleus("Ca40")
E = 8 * MeV
E_EDGES = jnp.asarray([0.0, 2 * MeV, 8 * MeV])
FAST = {"n_recoil": 8, "n_cos": 4}


def _same(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def _warns_once(old, fn, /, *args, **kwargs):
    """fn(*args, **kwargs), checking that it emits exactly one DeprecationWarning naming
    ``old`` and attributed to this file (stacklevel)."""
    with pytest.warns(DeprecationWarning, match=f"'{old}' is deprecated") as rec:
        out = fn(*args, **kwargs)
    dep = [w for w in rec if issubclass(w.category, DeprecationWarning)]
    assert len(dep) == 1, [str(w.message) for w in dep]
    assert dep[0].filename == __file__
    return out


def _quiet(fn, /, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the new spelling never warns
        return fn(*args, **kwargs)


# ------------------------------------------------------------------ the decorator itself
def test_renamed_arguments_decorator():
    @renamed_arguments(old="new")
    def f(x, new=1):
        """Doc."""
        return x + new

    assert f.__name__ == "f" and f.__doc__ == "Doc."
    assert list(inspect.signature(f).parameters) == ["x", "new"]
    assert _quiet(f, 1, new=2) == 3
    assert _warns_once("old", f, 1, old=2) == 3
    with pytest.raises(TypeError, match="'old'.*'new'"):
        f(1, old=2, new=3)


# ------------------------------------------------------------------ flavour_in -> flavour
def _momenta():
    pts = phase_space.sample(jax.random.key(1), E, MODEL, CA, 1)
    return [x[0] for x in (pts.k_in, pts.P_in, pts.k_out, pts.P_out, pts.q)]


FLAVOUR_CALLS = {
    "radiative_sigma_binned": lambda **kw: radiative.radiative_sigma_binned(
        MODEL, CA, E, E_EDGES, **FAST, **kw
    ),
    "radiative_sigma": lambda **kw: radiative.radiative_sigma(MODEL, CA, E, 1 * MeV, **FAST, **kw),
    "radiative_dsigma_dEgamma": lambda **kw: radiative.radiative_dsigma_dEgamma(
        MODEL, CA, E, 2 * MeV, n_recoil=8, **kw
    ),
    "radiative_dsigma": lambda **kw: radiative.radiative_dsigma(
        MODEL, CA, E, 2 * MeV, 0.5, n_scan=4, n_recoil=4, **kw
    ),
    "radiative_dsigma_dcos": lambda **kw: radiative.radiative_dsigma_dcos(
        MODEL, CA, E, 0.5, **FAST, **kw
    ),
    "binned_node_values": lambda **kw: radiative.binned_node_values(
        MODEL, CA, E, 1e-6, E_EDGES, (-1.0, 1.0), n_cos=4, **kw
    ),
    "squared_amplitude": lambda **kw: matrix_elements.squared_amplitude(
        *_momenta(), MODEL, CA, **kw
    ),
    "phase_space.integrate": lambda **kw: phase_space.integrate(MODEL, CA, E, 64, 64, **kw),
    "phase_space.cross_section": lambda **kw: phase_space.cross_section(MODEL, CA, E, 64, 64, **kw),
    "phase_space.photon_histogram": lambda **kw: phase_space.photon_histogram(
        MODEL, CA, E, E_EDGES, n_points=64, batch_size=64, **kw
    ),
}


@pytest.mark.parametrize("name", sorted(FLAVOUR_CALLS))
def test_flavour_in_renamed_to_flavour(name):
    call = FLAVOUR_CALLS[name]
    new = _quiet(call, flavour=0)
    old = _warns_once("flavour_in", call, flavour_in=0)
    _same(old, new)
    assert np.any(np.asarray(jax.tree.leaves(new)[0]) != 0)
    with pytest.raises(TypeError, match="flavour_in.*flavour"):
        call(flavour_in=0, flavour=0)


@pytest.mark.parametrize(
    "fn",
    [
        radiative.radiative_sigma_binned,
        radiative.radiative_dsigma_dEgamma,
        radiative.radiative_dsigma,
        radiative.radiative_dsigma_dcos,
        radiative.binned_node_values,
        matrix_elements.squared_amplitude,
        phase_space.integrate,
    ],
)
def test_signatures_show_the_new_names(fn):
    params = inspect.signature(fn).parameters
    assert "flavour" in params and "flavour_in" not in params


def test_compiled_functions_keep_their_compiled_program():
    # renamed_arguments sits above jaxdipole._jit.compiled; functools.wraps keeps its handle
    assert hasattr(radiative.radiative_dsigma, "__wrapped_compiled__")
    assert hasattr(sensitivity.radiative_reach, "__wrapped_compiled__")


# ------------------------------------------------------- background -> background_events
def test_radiative_reach_background_events():
    exp = jd.experiments.ge_reactor()
    kw = {"precise": False, "n_recoil": 8, "n_cos": 4}  # as REACH below: one compiled program
    new = _quiet(sensitivity.radiative_reach, MODEL, exp, background_events=1.0, **kw)
    old = _warns_once("background", sensitivity.radiative_reach, MODEL, exp, background=1.0, **kw)
    _same(old, new)
    assert np.isfinite(float(new))
    params = inspect.signature(sensitivity.radiative_reach).parameters
    assert "background_events" in params and "background" not in params
    with pytest.raises(TypeError, match="'background'.*'background_events'"):
        sensitivity.radiative_reach(MODEL, exp, background=1.0, background_events=1.0, **kw)
    with pytest.raises(ValueError, match="background_events"):
        sensitivity.radiative_reach(MODEL, exp, background_events=-1.0, **kw)


S_TEMPLATE = jnp.asarray([30.0, 20.0, 10.0])
B_BINS = jnp.asarray([5.0, 5.0, 5.0])


def _template(model):
    return S_TEMPLATE * (model.mu[0] / 1e-9) ** 2


def test_fit_couplings_background_events():
    data = S_TEMPLATE * 1.5**2 + B_BINS
    start = jd.DipoleModel(4 * MeV, mu=(2e-9, 0.0, 0.0))
    new = _quiet(fit.fit_couplings, start, data, _template, background_events=B_BINS, maxiter=50)
    old = _warns_once(
        "background", fit.fit_couplings, start, data, _template, background=B_BINS, maxiter=50
    )
    _same(old, new)
    assert float(new.mu[0]) == pytest.approx(1.5e-9, rel=1e-6)
    with pytest.raises(TypeError, match="'background'.*'background_events'"):
        fit.fit_couplings(start, data, _template, background=B_BINS, background_events=B_BINS)


# ----------------------------------------------------- decay_length -> mean_decay_length
@pytest.mark.parametrize("alias", [jd.decay_length, jd.decay.decay_length])
def test_decay_length_alias(alias):
    new = _quiet(jd.mean_decay_length, MODEL, 7 * MeV)
    assert jd.mean_decay_length is jd.decay.mean_decay_length
    with pytest.warns(DeprecationWarning, match="mean_decay_length") as rec:
        old = alias(MODEL, 7 * MeV)
    assert rec[0].filename == __file__
    _same(old, new)
    assert np.isfinite(float(new)) and float(new) > 0
    # Experiment.decay_length (the size of the decay region) keeps its name
    assert float(jd.experiments.nucleus_phase1().decay_length) > 0


# ------------------------------------------------------------------------ e_low -> E_low
def test_fold_experiment_E_low():
    exp = jd.experiments.ge_reactor()

    def integrand(nuc, comp, E_nu):
        return E_nu * 0.0 + 1.0

    lo = 2 * MeV
    new = _quiet(rates.fold_experiment, exp, integrand, E_low=lo)
    old = _warns_once("e_low", rates.fold_experiment, exp, integrand, e_low=lo)
    _same(old, new)
    assert float(new) > 0
    assert "E_low" in inspect.signature(rates.fold_experiment).parameters
    with pytest.raises(TypeError, match="'e_low'.*'E_low'"):
        rates.fold_experiment(exp, integrand, e_low=lo, E_low=lo)


# ------------------------------------ node counts: n_recoil, n_cos (rules), n_energy (fluxes)
# One name per integration variable: n_recoil (nuclear recoil energy), n_cos (cos θ*), and the
# flux classes' n_energy (neutrino energy). Each former spelling is checked against the new one
# with the same small configuration (the radiative calls are those of FLAVOUR_CALLS above, so
# their compiled programs are shared).
GE = jd.experiments.ge_reactor(
    flux=jd.ReactorFlux.vogel_engel_benchmark(4 * u.GW, 100 * u.m, n_energy=4)
)
R_EDGES = jnp.asarray([1e-6, 1e-5, 1e-4])  # recoil bins [GeV]
C_EDGES = jnp.asarray([-1.0, 0.0, 1.0])
QUAD = {"method": "quadrature", "n_recoil": 4}
PHOTON = {"precise": False, "n_recoil": 4, "n_cos": 2}
REACH = {"background_events": 1.0, "precise": False, "n_recoil": 8, "n_cos": 4}


def _dsigma_primakoff(nuc, comp, E_nu, E_R):
    return jd.primakoff_dsigma_dER(MODEL, nuc, E_nu, E_R, comp.flavour)


def _bin_fractions(**kw):
    m = MODEL.m_N
    E_N = 2 * m
    k = float(np.sqrt(E_N**2 - m**2))
    return radiative.photon_bin_fractions(E_N, k, 0.3, m, m / 2, -0.5, 0.2, E_EDGES, C_EDGES, **kw)


RAD = {"flavour": 0, **FAST}
#: label -> (call taking keyword arguments, the new-spelling keywords, {former: new}).
NODE_CALLS = {
    "rates.recoil_nodes": (
        lambda **kw: rates.recoil_nodes(GE, 1e-7, 1e-5, **kw),
        {"n_recoil": 4},
        {"n_nodes": "n_recoil"},
    ),
    "rates.fold_recoil_window": (
        lambda **kw: rates.fold_recoil_window(GE, _dsigma_primakoff, MODEL.m_N, **kw),
        {"n_recoil": 4},
        {"n_nodes": "n_recoil"},
    ),
    "primakoff_window_events": (
        lambda **kw: jd.primakoff_window_events(MODEL, GE, 1e-6, 1e-5, **kw),
        QUAD,
        {"n_nodes": "n_recoil"},
    ),
    "primakoff_events": (
        lambda **kw: jd.primakoff_events(MODEL, GE, **kw),
        QUAD,
        {"n_nodes": "n_recoil"},
    ),
    "recoil_binned": (
        lambda **kw: jd.recoil_binned(MODEL, GE, R_EDGES, **kw),
        QUAD,
        {"n_nodes": "n_recoil"},
    ),
    "cevns_window_events": (
        lambda **kw: jd.cevns_window_events(GE, 1e-6, 1e-5, **kw),
        {"n_recoil": 4},
        {"n_nodes": "n_recoil"},
    ),
    "cevns_events": (
        lambda **kw: jd.cevns_events(GE, **kw),
        {"n_recoil": 4},
        {"n_nodes": "n_recoil"},
    ),
    "cevns_binned": (
        lambda **kw: jd.cevns_binned(GE, R_EDGES, **kw),
        {"n_recoil": 4},
        {"n_nodes": "n_recoil"},
    ),
    "cevns_sigma": (
        lambda **kw: jd.cevns_sigma(CA, E, **kw),
        {"n_recoil": 4},
        {"n_nodes": "n_recoil"},
    ),
    "primakoff.log_recoil_nodes": (
        lambda **kw: jd.primakoff.log_recoil_nodes(E, MODEL.m_N, CA.mass, **kw),
        {"n_recoil": 4},
        {"n_nodes": "n_recoil"},
    ),
    "primakoff_sigma": (
        lambda **kw: jd.primakoff_sigma(MODEL, CA, E, **kw),
        QUAD,
        {"n_nodes": "n_recoil"},
    ),
    "radiative.photon_bin_fractions": (_bin_fractions, {"n_cos": 4}, {"n_nodes": "n_cos"}),
    "radiative.binned_node_values": (
        lambda **kw: radiative.binned_node_values(MODEL, CA, E, 1e-6, E_EDGES, (-1.0, 1.0), **kw),
        {"flavour": 0, "n_cos": 4},
        {"n_nodes_cos": "n_cos"},
    ),
    "radiative_sigma_binned": (
        lambda **kw: radiative.radiative_sigma_binned(MODEL, CA, E, E_EDGES, **kw),
        RAD,
        {"n_nodes_er": "n_recoil", "n_nodes_cos": "n_cos"},
    ),
    "radiative_sigma": (
        lambda **kw: radiative.radiative_sigma(MODEL, CA, E, 1 * MeV, **kw),
        RAD,
        {"n_nodes_er": "n_recoil", "n_nodes_cos": "n_cos"},
    ),
    "radiative_dsigma_dEgamma": (
        lambda **kw: radiative.radiative_dsigma_dEgamma(MODEL, CA, E, 2 * MeV, **kw),
        {"flavour": 0, "n_recoil": 8},
        {"n_nodes": "n_recoil"},
    ),
    "radiative_dsigma": (
        lambda **kw: radiative.radiative_dsigma(MODEL, CA, E, 2 * MeV, 0.5, n_scan=4, **kw),
        {"flavour": 0, "n_recoil": 4},
        {"n_nodes_piece": "n_recoil"},
    ),
    "radiative_dsigma_dcos": (
        lambda **kw: radiative.radiative_dsigma_dcos(MODEL, CA, E, 0.5, **kw),
        RAD,
        {"n_nodes_er": "n_recoil", "n_nodes_cos": "n_cos"},
    ),
    "photon_map": (
        lambda **kw: jd.photon_map(MODEL, GE, E_EDGES, C_EDGES, **kw),
        PHOTON,
        {"n_nodes": "n_recoil", "n_nodes_cos": "n_cos"},
    ),
    "photon_energy_spectrum": (
        lambda **kw: jd.photon_energy_spectrum(MODEL, GE, E_EDGES, **kw),
        PHOTON,
        {"n_nodes": "n_recoil", "n_nodes_cos": "n_cos"},
    ),
    "photon_angle_spectrum": (
        lambda **kw: jd.photon_angle_spectrum(MODEL, GE, C_EDGES, **kw),
        PHOTON,
        {"n_nodes": "n_recoil", "n_nodes_cos": "n_cos"},
    ),
    "radiative_events": (
        lambda **kw: jd.radiative_events(MODEL, GE, **kw),
        PHOTON,
        {"n_nodes": "n_recoil", "n_nodes_cos": "n_cos"},
    ),
    "radiative_reach": (
        lambda **kw: sensitivity.radiative_reach(MODEL, jd.experiments.ge_reactor(), **kw),
        REACH,
        {"n_nodes": "n_recoil", "n_nodes_cos": "n_cos"},
    ),
    "xenonnt.recoil_weights": (
        lambda **kw: jd.xenonnt.recoil_weights([1.0, 2.0, 4.0], **kw),
        {"n_recoil": 3},
        {"n_nodes": "n_recoil"},
    ),
}
_NEW_VALUES: dict = {}


def _renamed(calls):
    return sorted((label, old) for label, (_, _, ren) in calls.items() for old in ren)


def _check_renamed(label, old, call, new_kw, renames):
    """``call`` with the former spelling ``old`` of one keyword warns once and returns exactly
    what the new spelling returns (computed once per label)."""
    if label not in _NEW_VALUES:
        _NEW_VALUES[label] = _quiet(call, **new_kw)
    new = _NEW_VALUES[label]
    old_kw = {(old if k == renames[old] else k): v for k, v in new_kw.items()}
    assert old in old_kw
    _same(_warns_once(old, call, **old_kw), new)
    with pytest.raises(TypeError, match=f"'{old}'.*'{renames[old]}'"):
        call(**old_kw, **{renames[old]: new_kw[renames[old]]})
    return new


@pytest.mark.parametrize(("label", "old"), _renamed(NODE_CALLS))
def test_node_counts_renamed(label, old):
    call, new_kw, renames = NODE_CALLS[label]
    new = _check_renamed(label, old, call, new_kw, renames)
    assert np.all(np.isfinite(np.asarray(jax.tree.leaves(new)[0])))


# the release-based entry points: their response fold is replaced by a stub that returns the
# node count it receives (what is checked is the keyword mapping, without the data releases)
def _fake_releases():
    params = {
        "pot": 1e23, "distance_m": 20.0, "nu_per_flavour": 0.08, "pulse_mean_ns": 440.0,
        "pulse_width_ns": 150.0,
    }  # fmt: skip
    lar = types.SimpleNamespace(params=params)
    csi = types.SimpleNamespace(params=params, pulse_mean_us=0.44, pulse_width_us=0.15)
    run = types.SimpleNamespace(mono=np.ones((3, 3, 3, 3, 3)), exposure=1.0)
    xe = types.SimpleNamespace(mono_energies=np.array([1.0, 2.0, 4.0]), runs=(run,))
    return lar, csi, xe


def _stub_responses(monkeypatch):
    from jaxdipole import coherent, coherent_csi, xenonnt

    def response(release, flux, spectrum, m_N, n_recoil, *coeffs):
        return jnp.asarray(float(n_recoil))

    monkeypatch.setattr(coherent, "_response", response)
    monkeypatch.setattr(coherent_csi, "_response", response)
    monkeypatch.setattr(
        coherent_csi, "_variation_coefficients", lambda release: (jnp.ones((7, 4)),) * 2
    )
    monkeypatch.setattr(xenonnt, "cevns_recoil_spectrum", lambda exp, T, **kw: T)
    monkeypatch.setattr(xenonnt, "recoil_spectrum", lambda model, exp, T, **kw: T)
    monkeypatch.setattr(xenonnt, "_fold_all_yields", lambda release, rate, n: (rate, n))


def _release_calls():
    from jaxdipole import coherent, coherent_csi, xenonnt

    lar, csi, xe = _fake_releases()
    coeffs = {"efficiency": jnp.ones(4), "quenching_coefficients": jnp.ones(4)}
    to_recoil = {"n_nodes": "n_recoil"}
    to_energy = {"n_nodes": "n_energy"}
    return {
        "coherent.cenns10_cevns": (
            lambda **kw: coherent.cenns10_cevns(lar, **kw),
            {"n_recoil": 3},
            to_recoil,
        ),
        "coherent.cenns10_primakoff": (
            lambda **kw: coherent.cenns10_primakoff(MODEL, lar, **kw),
            {"n_recoil": 3},
            to_recoil,
        ),
        "coherent.cenns10_flux": (
            lambda **kw: coherent.cenns10_flux(lar, **kw),
            {"n_energy": 3},
            to_energy,
        ),
        "coherent_csi.csi2021_cevns": (
            lambda **kw: coherent_csi.csi2021_cevns(csi, **coeffs, **kw),
            {"n_recoil": 3},
            to_recoil,
        ),
        "coherent_csi.csi2021_primakoff": (
            lambda **kw: coherent_csi.csi2021_primakoff(MODEL, csi, **coeffs, **kw),
            {"n_recoil": 3},
            to_recoil,
        ),
        "coherent_csi.csi2021_cevns_variations": (
            lambda **kw: coherent_csi.csi2021_cevns_variations(csi, **kw),
            {"n_recoil": 3},
            to_recoil,
        ),
        "coherent_csi.csi2021_primakoff_variations": (
            lambda **kw: coherent_csi.csi2021_primakoff_variations(MODEL, csi, **kw),
            {"n_recoil": 3},
            to_recoil,
        ),
        "coherent_csi.csi2021_flux": (
            lambda **kw: coherent_csi.csi2021_flux(csi, **kw),
            {"n_energy": 3},
            to_energy,
        ),
        "xenonnt.fold_recoil_spectrum": (
            lambda **kw: xenonnt.fold_recoil_spectrum(xe, jnp.ones(6), **kw),
            {"n_recoil": 3},
            to_recoil,
        ),
        "xenonnt.xenonnt_cevns": (
            lambda **kw: xenonnt.xenonnt_cevns(xe, **kw),
            {"n_recoil": 3},
            to_recoil,
        ),
        "xenonnt.xenonnt_primakoff": (
            lambda **kw: xenonnt.xenonnt_primakoff(MODEL, xe, **kw),
            {"n_recoil": 3},
            to_recoil,
        ),
    }


def test_release_node_counts_renamed(monkeypatch):
    _stub_responses(monkeypatch)
    for label, (call, new_kw, renames) in _release_calls().items():
        (old,) = renames
        new = _check_renamed("release:" + label, old, call, new_kw, renames)
        if label.endswith("_flux"):  # a SpallationFlux whose Michel components have the rule
            assert [c.nodes_per_panel for c in new.components()[1:]] == [3, 3] == [new.n_energy] * 2
        elif label.startswith("xenonnt.xenonnt"):  # (recoil nodes, node count) of the stub
            assert new[0].shape == (6,) and new[1] == 3
        elif label != "xenonnt.fold_recoil_spectrum":  # the stub's node count
            assert np.all(np.asarray(new) == 3.0)


# flux classes: n_nodes= -> n_energy= (constructors and the functions that pass it on)
def _same_flux(a, b):
    assert jax.tree.structure(a) == jax.tree.structure(b)  # the static fields (n_energy) too
    _same(a, b)


def _solar_component(**kw):
    c = jd.SolarFlux.standard().components()[1]
    return jd.solar.SolarComponent(
        c.b8_flux, c.hep_flux, c.oscillation, c.b8_energies, c.b8_values, c.flavour, **kw
    )


FLUX_CALLS = {
    "ReactorFlux": lambda **kw: jd.ReactorFlux(1 * u.GW, 10 * u.m, **kw),
    "ReactorFlux.vogel_engel_benchmark": lambda **kw: jd.ReactorFlux.vogel_engel_benchmark(
        1 * u.GW, 10 * u.m, **kw
    ),
    "TabulatedFlux": lambda **kw: jd.TabulatedFlux([1 * MeV, 2 * MeV], [1.0, 0.5], **kw),
    "MichelFlux": lambda **kw: jd.MichelFlux(1.0, "nubar_mu", **kw),
    "SpallationFlux": lambda **kw: jd.SpallationFlux(1.0, 20 * u.m, **kw),
    "SolarFlux": lambda **kw: jd.SolarFlux(1.0, 0.1, **kw),
    "SolarFlux.standard": lambda **kw: jd.SolarFlux.standard(**kw),
    "SolarComponent": _solar_component,
    "experiments.chooz_flux": lambda **kw: jd.experiments.chooz_flux(**kw),
}


@pytest.mark.parametrize("name", sorted(FLUX_CALLS))
def test_flux_n_nodes_renamed_to_n_energy(name):
    call = FLUX_CALLS[name]
    new = _quiet(call, n_energy=5)
    old = _warns_once("n_nodes", call, n_nodes=5)
    _same_flux(old, new)
    assert new.n_energy == 5
    with pytest.raises(TypeError, match="'n_nodes'.*'n_energy'"):
        call(n_nodes=5, n_energy=5)
    # the attribute: a read-only deprecated alias
    assert _warns_once("n_nodes", getattr, new, "n_nodes") == new.n_energy == 5
    with pytest.raises(AttributeError):
        new.n_nodes = 6


def test_flux_rules_read_n_energy():
    # the fold engine reads n_energy: the node count of every component's rule
    flux = jd.SpallationFlux(1.0, 20 * u.m, n_energy=5)
    E, _ = flux.components()[1].nodes(0.0)
    assert E.shape == (5,)
    tab = jd.TabulatedFlux([1 * MeV, 2 * MeV, 4 * MeV], [1.0, 0.5, 0.2], n_energy=3)
    assert _quiet(tab.nodes, 0.0)[0].shape == (6,)
    solar = jd.SolarFlux(1.0, 0.1, n_energy=2)
    assert all(c.nodes_per_panel == 2 for c in solar.components())


# --------------------------------------------------------------- signatures: new names only
@pytest.mark.parametrize(
    ("fn", "new", "old"),
    [
        (rates.recoil_nodes, ("n_recoil",), ("n_nodes",)),
        (rates.fold_recoil_window, ("n_recoil",), ("n_nodes",)),
        (jd.primakoff_events, ("n_recoil",), ("n_nodes",)),
        (jd.cevns_sigma, ("n_recoil",), ("n_nodes",)),
        (jd.primakoff_sigma, ("n_recoil",), ("n_nodes",)),
        (jd.primakoff.log_recoil_nodes, ("n_recoil",), ("n_nodes",)),
        (radiative.photon_bin_fractions, ("n_cos",), ("n_nodes",)),
        (radiative.radiative_sigma_binned, ("n_recoil", "n_cos"), ("n_nodes_er", "n_nodes_cos")),
        (radiative.radiative_dsigma, ("n_recoil",), ("n_nodes_piece",)),
        (radiative.radiative_dsigma_dEgamma, ("n_recoil",), ("n_nodes",)),
        (radiative.radiative_dsigma_dcos, ("n_recoil", "n_cos"), ("n_nodes_er", "n_nodes_cos")),
        (jd.photon_map, ("n_recoil", "n_cos"), ("n_nodes", "n_nodes_cos")),
        (jd.xenonnt.recoil_weights, ("n_recoil",), ("n_nodes",)),
        (jd.coherent.cenns10_cevns, ("n_recoil",), ("n_nodes",)),
        (jd.coherent_csi.csi2021_primakoff, ("n_recoil",), ("n_nodes",)),
        (jd.ReactorFlux, ("n_energy",), ("n_nodes",)),
        (jd.TabulatedFlux, ("n_energy",), ("n_nodes",)),
        (jd.SolarFlux, ("n_energy",), ("n_nodes",)),
        (jd.SpallationFlux, ("n_energy",), ("n_nodes",)),
        (jd.MichelFlux, ("n_energy",), ("n_nodes",)),
        (jd.reach.photon_benchmark, ("n_energy_bins", "n_cos_bins"), ("n_energy", "n_cos")),
    ],
)
def test_node_count_signatures(fn, new, old):
    params = inspect.signature(fn).parameters
    for name in new:
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY
    assert not set(old) & set(params)
