"""Renamed public arguments and functions, and former argument orders: the former spellings
still work, warn (DeprecationWarning, pointing at the caller) and give exactly the new
spelling's result; passing both spellings is a TypeError."""

from __future__ import annotations

import inspect
import re
import types
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdipole as jd
from jaxdipole import fit, matrix_elements, phase_space, radiative, rates, sensitivity
from jaxdipole._deprecate import former_positions, moved_first, renamed_arguments

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


def _warns_once_matching(pattern, fn, /, *args, **kwargs):
    """fn(*args, **kwargs), checking that it emits exactly one DeprecationWarning matching
    ``pattern`` (a regular expression) and attributed to this file (stacklevel)."""
    with pytest.warns(DeprecationWarning, match=pattern) as rec:
        out = fn(*args, **kwargs)
    dep = [w for w in rec if issubclass(w.category, DeprecationWarning)]
    assert len(dep) == 1, [str(w.message) for w in dep]
    assert dep[0].filename == __file__
    return out


def _warns_once(old, fn, /, *args, **kwargs):
    """As :func:`_warns_once_matching`, for the renamed argument ``old``."""
    return _warns_once_matching(f"'{old}' is deprecated", fn, *args, **kwargs)


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


def test_former_positions_decorator():
    is_str = lambda v: isinstance(v, str)

    @former_positions(("x", "a", "flag"), moved_first(is_str, 1, "a"))
    def f(a, x, *, flag=False):
        """Doc."""
        return a, x, flag

    assert f.__name__ == "f" and f.__doc__ == "Doc."
    assert list(inspect.signature(f).parameters) == ["a", "x", "flag"]
    assert _quiet(f, "s", 1) == _quiet(f, a="s", x=1) == ("s", 1, False)
    order = re.escape("the argument order (x, a) is deprecated, use (a, x)")
    assert _warns_once_matching(order, f, 1, "s") == ("s", 1, False)
    assert _warns_once_matching(order, f, 1, a="s", flag=True) == ("s", 1, True)
    positional = re.escape("passing 'flag' positionally is deprecated; pass flag=...")
    assert _warns_once_matching(positional, f, 1, "s", True) == ("s", 1, True)
    with pytest.raises(TypeError, match="multiple values for 'x'"):
        f(1, "s", x=2)
    with pytest.raises(TypeError, match="at most 3 positional"):
        f(1, "s", True, 4)

    # default detection: more positional arguments than the new signature takes
    @former_positions(("x", "flag"))
    def g(x, *, flag=False):
        return x, flag

    assert _quiet(g, 1, flag=True) == (1, True)
    assert _warns_once_matching(positional, g, 1, True) == (1, True)
    with pytest.raises(TypeError, match="multiple values for 'flag'"):
        g(1, True, flag=True)


# ------------------------------------------------------------------ flavour_in -> flavour
def _momenta():
    pts = phase_space.sample(MODEL, CA, E, jax.random.key(1), 1)
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
        MODEL, CA, *_momenta(), **kw
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


# ------------------------------------- argument order: parameters, then variables, options
def _order(name, old, new):
    """The warning of a call in the former argument order ``old`` (now ``new``)."""
    return re.escape(f"{name}: the argument order ({old}) is deprecated, use ({new})")


SAMPLE_ORDER = _order(
    "phase_space.sample",
    "key_or_points, E_nu, model, nucleus",
    "model, nucleus, E_nu, key_or_points",
)
MAP_ORDER = _order("phase_space.map_points", "u, E_nu, model, nucleus", "model, nucleus, E_nu, u")
MOMENTA = "k_in, P_in, k_out, P_out, q"
MSQ_ORDER = _order(
    "matrix_elements.squared_amplitude", f"{MOMENTA}, model, nucleus", f"model, nucleus, {MOMENTA}"
)
AMP_ORDER = _order(
    "matrix_elements.amplitude_matrix",
    f"{MOMENTA}, eps, model, nucleus",
    f"model, nucleus, {MOMENTA}, eps",
)


def _first_parameters(fn, n):
    return list(inspect.signature(fn).parameters)[:n]


def test_phase_space_argument_order():
    # one point, default options: the programs of _momenta() above are reused
    key = jax.random.key(3)
    new = _quiet(phase_space.sample, MODEL, CA, E, key, 1)
    _same(_warns_once_matching(SAMPLE_ORDER, phase_space.sample, key, E, MODEL, CA, 1), new)
    old = _warns_once_matching(
        SAMPLE_ORDER, phase_space.sample, key, E, model=MODEL, nucleus=CA, n=1
    )
    _same(old, new)
    assert np.all(np.asarray(new.weight) > 0)

    u = phase_space.halton(1, phase_space.DIM)
    new = _quiet(phase_space.map_points, MODEL, CA, E, u)
    _same(_warns_once_matching(MAP_ORDER, phase_space.map_points, u, E, MODEL, CA), new)
    _same(_quiet(phase_space.sample, MODEL, CA, E, u), new)
    # inside a transformation (the model stays a DipoleModel under tracing): only the former
    # order warns, and both give the same points
    both = jax.jit(
        lambda x: (
            phase_space.map_points(MODEL, CA, E, x),
            phase_space.map_points(x, E, MODEL, CA),
        )
    )
    new, old = _warns_once_matching(MAP_ORDER, both, u)
    _same(old, new)

    assert _first_parameters(phase_space.sample, 5) == [
        "model", "nucleus", "E_nu", "key_or_points", "n",
    ]  # fmt: skip
    assert _first_parameters(phase_space.map_points, 4) == ["model", "nucleus", "E_nu", "u"]
    assert _first_parameters(phase_space.integrate, 3) == ["model", "nucleus", "E_nu"]


def test_matrix_elements_argument_order():
    a = _momenta()
    msq = matrix_elements.squared_amplitude
    new = _quiet(msq, MODEL, CA, *a, final_state="lnc")
    _same(_warns_once_matching(MSQ_ORDER, msq, *a, MODEL, CA, final_state="lnc"), new)
    _same(_warns_once_matching(MSQ_ORDER, msq, *a, model=MODEL, nucleus=CA, final_state="lnc"), new)
    assert float(new) > 0

    eps = jnp.asarray([0.0, 1.0, 0.0, 0.0], dtype=complex)
    amp = matrix_elements.amplitude_matrix
    new = _quiet(amp, MODEL, CA, *a, eps, lnv=True)
    _same(_warns_once_matching(AMP_ORDER, amp, *a, eps, MODEL, CA, lnv=True), new)
    assert np.any(np.asarray(new) != 0)

    # stacked with the flavour_in rename: both warnings point at the caller
    with pytest.warns(DeprecationWarning) as rec:
        old = msq(*a, MODEL, CA, flavour_in=0)
    messages = sorted(str(w.message) for w in rec)
    assert len(messages) == 2 and all(w.filename == __file__ for w in rec)
    assert re.search(MSQ_ORDER, messages[0]) and "'flavour_in' is deprecated" in messages[1]
    _same(old, _quiet(msq, MODEL, CA, *a, flavour=0))

    assert _first_parameters(msq, 7) == ["model", "nucleus", *MOMENTA.split(", ")]
    assert _first_parameters(amp, 8) == ["model", "nucleus", *MOMENTA.split(", "), "eps"]


def test_squared_amplitude_former_order_under_vmap():
    pts = phase_space.sample(MODEL, CA, E, jax.random.key(4), 2)
    moms = (pts.k_in, pts.P_in, pts.k_out, pts.P_out, pts.q)
    msq = matrix_elements.squared_amplitude
    both = jax.jit(  # one program: the new and the former order, each vmapped
        lambda *m: (
            jax.vmap(lambda *x: msq(MODEL, CA, *x))(*m),
            jax.vmap(lambda *x: msq(*x, MODEL, CA))(*m),
        )
    )
    new, old = _warns_once_matching(MSQ_ORDER, both, *moms)
    _same(old, new)
    assert new.shape == (2,) and np.all(np.asarray(new) > 0)


#: label -> (function, positional arguments before ``antineutrino``, options).
ANTINEUTRINO_CALLS = {
    "primakoff_polarisation": (jd.primakoff_polarisation, (MODEL, CA, E, 1e-6), {}),
    "radiative_sigma_binned": (
        radiative.radiative_sigma_binned,
        (MODEL, CA, E, E_EDGES, (-1.0, 1.0), 0),
        FAST,
    ),
    "radiative_dsigma_dEgamma": (
        radiative.radiative_dsigma_dEgamma,
        (MODEL, CA, E, 2 * MeV, 0),
        {"n_recoil": 8},
    ),
    "radiative_dsigma": (
        radiative.radiative_dsigma,
        (MODEL, CA, E, 2 * MeV, 0.5, 0),
        {"n_scan": 4, "n_recoil": 4},
    ),
    "radiative_dsigma_dcos": (radiative.radiative_dsigma_dcos, (MODEL, CA, E, 0.5, 0), FAST),
    "TabulatedFlux": (jd.TabulatedFlux, ([1 * MeV, 2 * MeV], [1.0, 0.5], 1), {}),
    "MonochromaticFlux": (jd.MonochromaticFlux, (8 * MeV, 1.0, 1), {}),
}


@pytest.mark.parametrize("label", sorted(ANTINEUTRINO_CALLS))
def test_antineutrino_keyword_only(label):
    fn, args, opts = ANTINEUTRINO_CALLS[label]
    new = _quiet(fn, *args, antineutrino=True, **opts)
    positional = "'antineutrino' positionally is deprecated; pass antineutrino="
    old = _warns_once_matching(positional, fn, *args, True, **opts)
    if isinstance(new, jd.flux.Flux):
        _same_flux(old, new)
        assert new.antineutrino is True and new.flavour == 1
    else:
        _same(old, new)
        assert np.any(np.asarray(jax.tree.leaves(new)[0]) != 0)
    if label == "primakoff_polarisation":  # the N̄ polarisation: the mirror of the N one
        _same(jax.tree.map(lambda x: -x, new), _quiet(fn, *args, **opts))
    with pytest.raises(TypeError, match="multiple values for 'antineutrino'"):
        fn(*args, True, antineutrino=True, **opts)
    params = inspect.signature(fn).parameters
    assert params["antineutrino"].kind is inspect.Parameter.KEYWORD_ONLY


def test_plotting_ax_keyword_only():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from jaxdipole import plotting

    def drawn(ax):  # the data of the lines and of the step histograms (stairs)
        steps = [p.get_data().values for p in ax.patches if hasattr(p, "get_data")]
        return [np.asarray(x) for x in [*(line.get_xydata() for line in ax.lines), *steps]]

    positional = re.escape("passing 'ax' positionally is deprecated; pass ax=...")
    lims = jd.limits.existing_limits("e")[:2]
    m = np.geomspace(1, 10, 4) * MeV
    curves = {"reach": np.full(4, 1e-9 * u.mu_B)}
    edges, spectra = np.asarray([0.0, 1.0, 2.0]) * MeV, {"D": [1.0, 2.0], "M": [2.0, 1.0]}
    pl, pr, ps = plotting.plot_limits, plotting.plot_reach, plotting.plot_photon_spectra
    cases = [  # (new call, the same call in the former order) of an Axes
        (
            lambda ax: pl(lims, ax=ax, m_range=(1.0, 10.0)),
            lambda ax: pl(ax, lims, m_range=(1.0, 10.0)),
        ),
        (lambda ax: pl(lims, ax=ax), lambda ax: pl(ax, limits=lims)),
        (lambda ax: pr(m, curves, ax=ax, limits=lims), lambda ax: pr(m, curves, ax, limits=lims)),
        (
            lambda ax: ps(edges, spectra, ax=ax, density=False),
            lambda ax: ps(edges, spectra, ax, density=False),
        ),
    ]
    try:
        for new, old in cases:
            _, (ax_new, ax_old) = plt.subplots(1, 2)
            assert _quiet(new, ax_new) is ax_new
            assert _warns_once_matching(positional, old, ax_old) is ax_old
            assert len(drawn(ax_new)) > 0
            for x, y in zip(drawn(ax_new), drawn(ax_old), strict=True):
                np.testing.assert_array_equal(x, y)
            plt.close("all")
        # plot_limits(None, limits): the former order, drawn into a new figure
        ax = _warns_once_matching(positional, pl, None, lims)
        assert len(ax.lines) > 0
    finally:
        plt.close("all")
    for fn in (plotting.plot_limits, plotting.plot_reach, plotting.plot_photon_spectra):
        assert inspect.signature(fn).parameters["ax"].kind is inspect.Parameter.KEYWORD_ONLY
    assert _first_parameters(plotting.plot_limits, 1) == ["limits"]


# ------------------------------------------ csi2021_expected: steady_state -> steady_state_counts
def test_csi2021_expected_steady_state_counts(monkeypatch):
    from jaxdipole import coherent_csi as cc

    shape = np.asarray([0.5, 0.3, 0.2])  # the time distribution (sums to 1)
    monkeypatch.setattr(cc, "_steady_state_shape", lambda release: shape)
    release = types.SimpleNamespace(brn=np.ones((2, 3)), nin=np.full((2, 3), 2.0))
    nr, counts = jnp.full((2, 3), 10.0), jnp.asarray([4.0, 6.0])
    new = _quiet(cc.csi2021_expected, release, nr, counts, brn=1.5)
    _same(_quiet(cc.csi2021_expected, release, nr, steady_state_counts=counts, brn=1.5), new)
    old = _warns_once(
        "steady_state", cc.csi2021_expected, release, nr, steady_state=counts, brn=1.5
    )
    _same(old, new)
    np.testing.assert_allclose(np.asarray(new[1]).sum(1), counts)  # counts per PE bin
    np.testing.assert_allclose(np.asarray(new[0] - new[1]), 10.0 + 1.5 + 2.0)
    with pytest.raises(TypeError, match="'steady_state'.*'steady_state_counts'"):
        cc.csi2021_expected(release, nr, steady_state=counts, steady_state_counts=counts)
    params = inspect.signature(cc.csi2021_expected).parameters
    assert list(params)[:3] == ["release", "nuclear_recoils", "steady_state_counts"]
    assert "steady_state" not in params
