"""Renamed public arguments and functions: the former spellings still work, warn
(DeprecationWarning, pointing at the caller) and give exactly the new spelling's result;
passing both spellings is a TypeError."""

from __future__ import annotations

import inspect
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
FAST = {"n_nodes_er": 8, "n_nodes_cos": 4}


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
        MODEL, CA, E, 2 * MeV, n_nodes=8, **kw
    ),
    "radiative_dsigma": lambda **kw: radiative.radiative_dsigma(
        MODEL, CA, E, 2 * MeV, 0.5, n_scan=4, n_nodes_piece=4, **kw
    ),
    "radiative_dsigma_dcos": lambda **kw: radiative.radiative_dsigma_dcos(
        MODEL, CA, E, 0.5, **FAST, **kw
    ),
    "binned_node_values": lambda **kw: radiative.binned_node_values(
        MODEL, CA, E, 1e-6, E_EDGES, (-1.0, 1.0), n_nodes_cos=4, **kw
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
    kw = {"precise": False, "n_nodes": 8}
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
