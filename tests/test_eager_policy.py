"""The eager-call policy: public functions called outside any transformation run one compiled
program per static configuration (jaxdipole._jit.compiled), with the values of the traced
path and the same validation of concrete input."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdipole as jd

u = jd.units
MeV = 1e-3
MODEL = jd.DipoleModel(5 * MeV, mu=(1e-9, 0.0, 0.0))
W184 = jd.nucleus("W184")
E = 8 * MeV

KERNELS = {
    "primakoff_sigma": (jd.primakoff_sigma, (MODEL, W184, E)),
    "primakoff_sigma_window": (jd.primakoff.primakoff_sigma_window, (MODEL, W184, E, 1e-8, 1e-6)),
    "primakoff_dsigma_dER": (jd.primakoff_dsigma_dER, (MODEL, W184, E, 1e-7)),
    "cevns_sigma": (jd.cevns_sigma, (W184, E)),
    "cevns_dsigma_dER": (jd.cevns_dsigma_dER, (W184, E, 1e-7)),
    "decay_width": (jd.decay_width, (MODEL,)),
    "mean_decay_length": (jd.mean_decay_length, (MODEL, E)),
    "decay_probability": (jd.decay_probability, (MODEL, E, 1e14)),
    "radiative_dsigma_dEgamma": (jd.radiative.radiative_dsigma_dEgamma, (MODEL, W184, E, 2 * MeV)),
    "radiative_dsigma_dcos": (jd.radiative.radiative_dsigma_dcos, (MODEL, W184, E, 0.5)),
}


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_eager_equals_traced_and_compiles_once(name):
    fn, args = KERNELS[name]
    eager = np.asarray(fn(*args))
    traced = np.asarray(jax.jit(lambda *a: fn(*a))(*args))
    np.testing.assert_allclose(eager, traced, rtol=1e-13)
    assert np.all(np.isfinite(eager)) and np.any(eager != 0)
    # a new float value is a new argument, not a new program
    programs = fn.__wrapped_compiled__._cached._cache_size()
    if isinstance(args[-1], float):
        fn(*args[:-1], args[-1] * 1.01)
    assert fn.__wrapped_compiled__._cached._cache_size() == programs


@pytest.mark.parametrize(
    "call",
    [
        lambda: jd.primakoff_sigma(MODEL, W184, -1.0),
        lambda: jd.primakoff_sigma(MODEL, W184, E, recoil_threshold=float("nan")),
        lambda: jd.primakoff.primakoff_sigma_window(MODEL, W184, E, 0.0, float("nan")),
        lambda: jd.cevns_dsigma_dER(W184, E, -1e-7),
        lambda: jd.decay_probability(MODEL, E, -1.0),
        lambda: jd.radiative.radiative_dsigma_dcos(MODEL, W184, -E, 0.5),
        lambda: jd.radiative_dsigma(MODEL, W184, E, -1e-3, 0.5),
        lambda: jd.radiative_dsigma(MODEL, W184, E, 1e-3, 2.0),
        lambda: jd.radiative_dsigma_dEgamma(MODEL, W184, E, float("nan")),
        lambda: jd.radiative.radiative_dsigma_dcos(MODEL, W184, E, float("nan")),
        lambda: jd.recoil_spectrum(MODEL, jd.experiments.ge_reactor(), float("nan")),
        lambda: jd.cevns_recoil_spectrum(jd.experiments.ge_reactor(), [1e-6, float("nan")]),
        lambda: jd.sensitivity.primakoff_reach(MODEL, jd.experiments.nucleus_phase1(), cl=1.5),
        lambda: jd.sensitivity.radiative_reach(
            MODEL, jd.experiments.ge_reactor(), background_events=-1
        ),
    ],
)
def test_concrete_bad_input_still_raises(call):
    with pytest.raises(ValueError):
        call()


def test_reach_eager_equals_jit():
    exp = jd.experiments.nucleus_phase1()
    eager = float(jd.sensitivity.primakoff_reach(MODEL, exp))
    jitted = float(jax.jit(jd.sensitivity.primakoff_reach)(MODEL, exp))
    assert eager == pytest.approx(jitted, rel=1e-12) and np.isfinite(eager)
    exp_ge = jd.experiments.ge_reactor()
    eager = float(jd.sensitivity.radiative_reach(MODEL, exp_ge))
    jitted = float(jax.jit(lambda m: jd.sensitivity.radiative_reach(m, exp_ge))(MODEL))
    assert eager == pytest.approx(jitted, rel=1e-10) and np.isfinite(eager)


def test_python_ints_stay_static():
    # flavour and node counts select code: they are not traced
    a = jd.primakoff_sigma(MODEL.__class__(5 * MeV, mu=(0.0, 1e-9, 0.0)), W184, E, 1)
    b = jd.primakoff_sigma(MODEL, W184, E, 0)
    assert float(a) == pytest.approx(float(b), rel=1e-14)
    q = jd.primakoff_sigma(MODEL, W184, jnp.asarray(E), n_recoil=32, method="quadrature")
    assert float(q) == pytest.approx(float(b), rel=1e-8)


def test_photon_distributions_on_arrays_equal_pointwise_calls():
    eg = jnp.linspace(0.2, 7.5, 5) * MeV
    cos = jnp.linspace(-0.9, 0.95, 4)
    arr = jd.radiative.radiative_dsigma_dEgamma(MODEL, W184, E, eg)
    assert arr.shape == (5,)
    for i in (0, 2, 4):
        one = jd.radiative.radiative_dsigma_dEgamma(MODEL, W184, E, float(eg[i]))
        assert float(arr[i]) == pytest.approx(float(one), rel=1e-10)
    grid = jd.radiative.radiative_dsigma(MODEL, W184, E, eg[:, None], cos[None, :])
    assert grid.shape == (5, 4)
    one = jd.radiative.radiative_dsigma(MODEL, W184, E, float(eg[1]), float(cos[2]))
    assert float(grid[1, 2]) == pytest.approx(float(one), rel=1e-10)
    dc = jd.radiative.radiative_dsigma_dcos(MODEL, W184, E, cos)
    one = jd.radiative.radiative_dsigma_dcos(MODEL, W184, E, float(cos[3]))
    assert dc.shape == (4,) and float(dc[3]) == pytest.approx(float(one), rel=1e-10)
    # under jit the same mapping is traced
    jitted = jax.jit(lambda x: jd.radiative.radiative_dsigma_dcos(MODEL, W184, E, x))(cos)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(dc), rtol=1e-10)


def test_a_batch_of_models_is_refused_by_the_folds():
    # a batch of masses put into one model (the constructor itself takes one point)
    batch = eqx.tree_at(lambda m: m.m_N, MODEL, jnp.array([2.0, 3.0]) * MeV)
    exp = jd.experiments.ge_reactor()
    for call in (
        lambda: jd.primakoff_events(batch, exp),
        lambda: jd.recoil_spectrum(batch, exp, 1e-7),
        lambda: jd.radiative_events(batch, exp),
    ):
        with pytest.raises(ValueError, match="one parameter point"):
            call()
    # the documented way: vmap over the batch
    per = jax.vmap(lambda m: jd.primakoff_events(jd.DipoleModel(m, mu=(1e-9, 0, 0)), exp))(
        batch.m_N
    )
    one = jd.primakoff_events(jd.DipoleModel(3.0 * MeV, mu=(1e-9, 0, 0)), exp)
    assert float(per[1]) == pytest.approx(float(one), rel=1e-12)


def test_flux_fold_called_eagerly_is_compiled_once_per_function():
    from jaxdipole.flux import _fold_compiled

    flux = jd.ReactorFlux(thermal_power=4.25 * u.GW, distance=72 * u.m)
    ge = jd.nucleus("Ge74")
    lo = jd.threshold_energy(MODEL.m_N, ge.mass)

    def sigma(e):
        return jd.primakoff_sigma(MODEL, ge, e)

    eager = float(flux.fold(sigma, lo))
    programs = _fold_compiled._cached._cache_size()
    again = float(flux.fold(sigma, float(lo) * 1.001))  # a new bound, the same program
    assert _fold_compiled._cached._cache_size() == programs and again < eager
    traced = float(jax.jit(lambda m: flux.fold(lambda e: jd.primakoff_sigma(m, ge, e), lo))(MODEL))
    E, W = flux.nodes(lo)
    assert eager == pytest.approx(traced, rel=1e-13)
    assert eager == pytest.approx(float(jnp.sum(W * jd.primakoff_sigma(MODEL, ge, E))), rel=1e-13)
    total = jd.FluxSum((flux, flux))
    assert float(total.fold(sigma, lo)) == pytest.approx(2 * eager, rel=1e-13)


def test_programs_of_the_main_entry_points_have_no_host_callbacks():
    """A program with a host callback (e.g. a run-time ``eqx.error_if``) is never written to
    JAX's persistent compilation cache; the rates, spectra and reaches of an experiment (taken
    as a traced argument, as in a fit or a scan) must be storable."""
    exp = jd.experiments.nucleus_phase1()
    edges = jnp.linspace(0.1 * MeV, 10 * MeV, 5)

    def callbacks(fn):
        text = jax.jit(fn).lower(MODEL, exp).as_text()
        return text.count("callback")

    assert callbacks(lambda m, e: jd.primakoff_events(m, e)) == 0
    assert callbacks(lambda m, e: jd.cevns_events(e) + jd.radiative_events(m, e)) == 0
    assert callbacks(lambda m, e: jd.photon_energy_spectrum(m, e, edges)) == 0
    assert callbacks(lambda m, e: jd.primakoff_reach(m, e, edges=4)) == 0
    # the check sees a run-time error check when there is one
    assert callbacks(lambda m, e: eqx.error_if(m.m_N, e.exposure < 0, "negative")) > 0
