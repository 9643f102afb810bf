"""``jax.vmap`` over scalar inputs is the array call: same values, same gradients, one branch.

For every public pointwise kernel (σ, dσ/dE_R, decay widths and lengths) the jitted
``vmap(scalar_fn)`` is compared with the jitted array call: values to 1e-13 and per-point
gradients (energies, threshold, model parameters; nucleus parameters for dσ/dE_R) to 1e-12 of
the largest, against the array call's jacfwd / jacrev -- with energies on both sides of the
closed form's range (W184 to 300 MeV, q r_n > 6) and nested vmap (E × threshold grids). The σ
choice of ``method="auto"`` must stay a real ``lax.cond`` under vmap (not a select that
evaluates the quadrature for every point). No timings are asserted (benchmarks/vmap_bench.py).
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.extend
import jax.numpy as jnp
import numpy as np

import jaxdipole as jd
from jaxdipole.primakoff import (
    _all_over_batch,
    _choose,
    primakoff_sigma_window,
    series_in_range,
)

u = jd.units
MeV, keV = u.MeV, u.keV
RTOL = 1e-13  # values
RTOL_GRAD = 1e-12  # gradients (Helm-shape cancellations; the compiled graphs differ)

#: Catalogue nuclei with neutral static fields: all species share one compiled function.
_GENERIC = jax.tree.structure(jd.Nucleus("nucleus", 1, 1, 1.0))
W184, O16 = (jax.tree.unflatten(_GENERIC, jax.tree.leaves(jd.nucleus(n))) for n in ("W184", "O16"))
MODEL = jd.DipoleModel(1.0 * MeV, mu=(1e-9, 2e-9, 0.5e-9), m_N_prime=0.2 * MeV, mu_prime=1e-9)
E_IN = jnp.array([0.5, 2.0, 12.0, 30.0, 60.0, 80.0]) * MeV  # closed form applies (W: ≲ 90 MeV)
E_MIX = jnp.array([0.5, 2.0, 12.0, 60.0, 150.0, 300.0]) * MeV  # q r_n > 6 beyond ~90 MeV
THR = jnp.array([0.0, 1e-3 * keV, 0.01 * keV, 1.0 * keV])


#: XLA compiles of σ's derivatives (both branches of the cond) take seconds; the comparisons
#: (vmap against the array call, compiled alike) do not need an optimised binary.
jit = functools.partial(
    jax.jit,
    compiler_options={
        "xla_backend_optimization_level": 0,
        "xla_llvm_disable_expensive_passes": True,
    },
)


def close(a, b, rtol=RTOL):
    """Leafwise |a − b| <= rtol·max|b| per leaf (per-point gradients span many decades);
    non-finite entries must match exactly."""
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape
        fin = np.isfinite(y)
        np.testing.assert_array_equal(x[~fin], y[~fin])
        scale = np.max(np.abs(y[fin])) if fin.any() else 0.0
        np.testing.assert_allclose(x[fin], y[fin], rtol=0, atol=rtol * scale + 1e-300)


def sigma(model, nuc, e, t):
    return jd.primakoff_sigma(model, nuc, e, recoil_threshold=t)


# ------------------------------------------------------------------ the batch-wide predicate
def test_all_over_batch_is_unbatched_under_vmap_and_nested_vmap():
    p = jnp.array([[True, True, False], [True, True, True]])
    # per row jnp.all would give [False, True]: here one value for the batch, broadcast by vmap
    np.testing.assert_array_equal(jax.vmap(_all_over_batch)(p), [False, False])
    np.testing.assert_array_equal(jax.vmap(jax.vmap(_all_over_batch))(p), np.zeros((2, 3), bool))
    np.testing.assert_array_equal(jax.jit(jax.vmap(jax.vmap(_all_over_batch)))(p[1:]), True)
    np.testing.assert_array_equal(jax.vmap(_all_over_batch, 1)(p), [False] * 3)
    assert bool(jax.jit(_all_over_batch)(p[1])) and not bool(_all_over_batch(p))


def test_choose_under_vmap_is_one_branch_for_the_batch_and_differentiable():
    def f(x):
        return _choose(x < 1.0, lambda: x * x, lambda: 3.0 * x)

    xs = jnp.array([0.2, 0.5, 2.0])
    np.testing.assert_array_equal(jax.vmap(f)(xs), 3.0 * xs)  # one point out: slow for all
    np.testing.assert_array_equal(jax.vmap(f)(xs[:2]), xs[:2] ** 2)
    np.testing.assert_array_equal(jax.vmap(jax.grad(f))(xs), 3.0 * jnp.ones(3))
    np.testing.assert_array_equal(jax.jit(jax.vmap(jax.grad(f)))(xs[:2]), 2.0 * xs[:2])
    np.testing.assert_array_equal(jax.jacfwd(jax.vmap(f))(xs[:2]), jnp.diag(2.0 * xs[:2]))
    np.testing.assert_array_equal(jax.jacrev(jax.vmap(f))(xs), jnp.diag(3.0 * jnp.ones(3)))


def _conds(jaxpr):
    """All ``cond`` equations of a jaxpr, those in sub-jaxprs (jit, cond branches) included."""
    out = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "cond":
            out.append(eqn)
        for v in eqn.params.values():
            for sub in v if isinstance(v, (tuple, list)) else (v,):
                if isinstance(sub, jax.extend.core.ClosedJaxpr):
                    out += _conds(sub.jaxpr)
                elif isinstance(sub, jax.extend.core.Jaxpr):
                    out += _conds(sub)
    return out


# ------------------------------------------------------------------ primakoff σ
# One compile each, run for every energy set and nucleus. Nested vmap over the E × threshold
# grid: values and gradients (model, E, threshold) ...
_grid_vg = jit(
    jax.vmap(
        jax.vmap(jax.value_and_grad(sigma, argnums=(0, 2, 3)), (None, None, None, 0)),
        (None, None, 0, None),
    )
)


@jit
def _array_reference(model, nuc, E, T):
    """... against the array call on the flattened grid and its forward Jacobian."""
    return sigma(model, nuc, E, T), jax.jacfwd(sigma, argnums=(0, 2, 3))(model, nuc, E, T)


def flat_pairs(E):
    return jnp.repeat(E, THR.size), jnp.tile(THR, E.size)


def test_auto_sigma_stays_a_branch_under_vmap():
    # lax.cond(jnp.all(pred)) would become select_n under vmap: both branches for every point.
    # Here every cond (primal and transposed, under both vmaps) has an unbatched predicate.
    conds = _conds(_grid_vg.trace(MODEL, W184, E_IN, THR).jaxpr.jaxpr)  # trace reused below
    assert len(conds) >= 2 and all(e.invars[0].aval.shape == () for e in conds)


def test_primakoff_sigma_nested_vmap_equals_array_values_and_grads():
    assert bool(jnp.all(series_in_range(W184, E_IN)))
    assert not bool(jnp.all(series_in_range(W184, E_MIX)))
    assert bool(jnp.all(series_in_range(O16, E_MIX[:-1]))) and not series_in_range(O16, E_MIX[-1])
    n = E_IN.size * THR.size
    # the series branch, then the quadrature (O16: the closed form holds to ~200 MeV)
    for nuc, E_nu in ((W184, E_IN), (W184, E_MIX), (O16, E_MIX)):
        E, T = flat_pairs(E_nu)
        arr, (j_model, j_E, j_T) = _array_reference(MODEL, nuc, E, T)
        val, (g_model, g_E, g_T) = _grid_vg(MODEL, nuc, E_nu, THR)
        assert val.shape == (E_nu.size, THR.size) and np.count_nonzero(arr) > n // 2
        close(val.ravel(), arr)
        close(jax.tree.map(lambda x: x.reshape(n, *x.shape[2:]), g_model), j_model, RTOL_GRAD)
        for g, j in ((g_E, j_E), (g_T, j_T)):
            assert float(jnp.max(jnp.abs(j - jnp.diag(jnp.diag(j))))) == 0.0  # pointwise
            close(g.ravel(), jnp.diag(j), RTOL_GRAD)
        assert np.all(np.isfinite(np.asarray(g_E))) and float(jnp.max(jnp.abs(g_T))) > 0


def test_primakoff_sigma_float32():
    f32 = jax.tree.map(
        lambda x: x.astype(jnp.float32) if isinstance(x, jax.Array) and x.dtype == float else x,
        (MODEL, W184),
    )

    @jit
    def both(model, nuc, E, T):  # the array call and the vmapped scalar call
        return sigma(model, nuc, E, T), jax.vmap(sigma, (None, None, 0, 0))(model, nuc, E, T)

    E32 = jnp.asarray(E_IN / 2.0, jnp.float32)  # float32 range: q r_n <= 2, E_ν ≲ 30 MeV
    for E_nu in (E32.at[-1].set(25 * MeV), E32):
        assert bool(jnp.all(series_in_range(W184, E_nu))) == (E_nu[-1] < 30 * MeV)
        E, T = (jnp.asarray(x, jnp.float32) for x in flat_pairs(E_nu))
        arr, vm = both(*f32, E, T)
        assert arr.dtype == vm.dtype == jnp.float32
        close(vm, arr, rtol=1e-6)
        ref, _ = _array_reference(MODEL, W184, *flat_pairs(jnp.asarray(E_nu, float)))
        np.testing.assert_allclose(np.asarray(arr, float), ref, rtol=1e-4, atol=1e-6 * ref.max())


# ------------------------------------------------------------------ other σ and dσ/dE_R
def compare_pointwise(f, args, batched, argnums):
    """Jitted vmap(f) and vmap(grad f) against the array call f(*args) and its jacrev.

    ``batched``: indices of the per-point arguments (1-D, one length); ``argnums``: the
    arguments to differentiate (per-point ones give diagonal Jacobians).
    """
    axes = tuple(0 if i in batched else None for i in range(len(args)))

    @jit
    def run(*a):
        return (
            f(*a),
            jax.vmap(f, axes)(*a),
            jax.vmap(jax.grad(f, argnums), axes)(*a),
            jax.jacrev(f, argnums)(*a),
        )

    arr, vm, g_vm, jac = run(*args)
    close(vm, arr)
    for i, g, j in zip(argnums, g_vm, jac, strict=True):
        if i in batched:
            assert float(jnp.max(jnp.abs(j - jnp.diag(jnp.diag(j))))) == 0.0  # pointwise
            j = jnp.diag(j)
        close(g, j, RTOL_GRAD)
    return arr


def test_sigma_window_vmap_equals_array():
    lo = jnp.linspace(0.0, 2.0, E_IN.size) * keV
    hi = jnp.linspace(10.0, 100.0, E_IN.size) * keV
    arr = compare_pointwise(
        primakoff_sigma_window, (MODEL, W184, E_IN, lo, hi), (2, 3, 4), (0, 2, 3, 4)
    )
    assert np.count_nonzero(arr) == E_IN.size - 2  # 0.5 MeV: below threshold; 2 MeV: window


def _pairs():
    E = jnp.repeat(E_MIX, 4)
    T = jnp.tile(jnp.array([1e-4, 1e-2, 1.0, 30.0]) * keV, E_MIX.size)
    return E, T


def test_dsigma_dER_vmap_equals_array():
    E, T = _pairs()
    for f, params in ((jd.primakoff_dsigma_dER, (MODEL, W184)), (jd.cevns_dsigma_dER, (W184,))):
        k = len(params)
        arr = compare_pointwise(f, (*params, E, T), (k, k + 1), tuple(range(k + 2)))
        assert np.count_nonzero(arr) > 4 and np.count_nonzero(arr == 0) > 0


def test_cevns_sigma_array_call_vmap_and_grid():
    def f(nuc, e, t, s2):
        return jd.cevns_sigma(nuc, e, recoil_threshold=t, sin2_theta_w=s2)

    thr = jnp.linspace(0.0, 1.0, E_MIX.size) * keV
    s2 = jnp.linspace(0.22, 0.25, E_MIX.size)
    arr = compare_pointwise(f, (W184, E_MIX, thr, s2), (1, 2, 3), (1, 2))
    assert arr.shape == E_MIX.shape and np.count_nonzero(arr) == E_MIX.size - 1  # 2 MeV: thr
    close(arr[3], f(W184, float(E_MIX[3]), float(thr[3]), float(s2[3])))  # eager scalar call

    @jit
    def grids(E, thr):
        nested = jax.vmap(jax.vmap(f, (None, None, 0, None)), (None, 0, None, None))
        return nested(W184, E, thr, 0.23), f(W184, E[:, None], thr[None, :], 0.23)

    grid, grid_arr = grids(E_MIX, THR)
    close(grid, grid_arr)


# ------------------------------------------------------------------ decay
MASSES = jnp.array([0.3, 1.0, 5.0, 40.0]) * MeV  # > m_N' = 0.2 MeV


def with_mass(m):
    return eqx.tree_at(lambda md: md.m_N, MODEL, m)


def test_model_only_decay_kernels_vmap_equals_batched_model():
    kernels = (jd.decay.partial_widths, jd.decay_width, jd.branching_ratios, jd.lifetime)
    mu = MODEL.mu * jnp.array([[1.0], [0.5], [0.0]])  # a batch of moments, shape (3, 3)

    @jit
    def run(masses, mu):
        def f(m):
            return [fn(with_mass(m)) for fn in kernels]

        def g(x):
            return [fn(eqx.tree_at(lambda md: md.mu, MODEL, x)) for fn in kernels]

        # a model whose m_N (mu) is an array is the array call
        return (
            f(masses),
            jax.vmap(f)(masses),
            g(mu),
            jax.vmap(g)(mu),
            jax.vmap(jax.jacrev(f))(masses),
            jax.jacfwd(f)(masses),
        )

    arr, vm, arr_mu, vm_mu, jr, jf = run(MASSES, mu)
    close(vm, arr)
    close(vm_mu, arr_mu)
    close(jr, [jnp.einsum("i...i->i...", j) for j in jf], RTOL_GRAD)  # (out, in) -> diag
    for fn, a in zip(kernels, arr, strict=True):
        assert a.shape[0] == MASSES.size
        close(a[2], fn(with_mass(MASSES[2])))
    assert arr[0].shape == (MASSES.size, 4) and np.all(np.asarray(arr[1]) > 0)


def test_mean_decay_length_and_probability_vmap_equals_array():
    E_N = jnp.array([0.5, 1.0, 1.5, 10.0, 80.0]) * MeV  # at rest, at m_N, moving
    L = jnp.array([1.0, 1e10, 1e14, 1e16, 1e18])
    moving = slice(2, None)  # finite gradients where N moves

    def length(model, e, ell):
        del ell
        return jd.mean_decay_length(model, e)

    def probability(model, e, ell):
        return jd.decay_probability(model, e, ell, start=0.5 * ell)

    for f in (length, probability):
        compare_pointwise(f, (MODEL, E_N[moving], L[moving]), (1, 2), (0, 1, 2))

        @jit
        def grids(masses, E_N, ell, f=f):
            def of_mass(m, e):
                return f(with_mass(m), e, ell)

            return (
                jax.vmap(f, (None, 0, None))(MODEL, E_N, ell),
                f(MODEL, E_N, ell),
                jax.vmap(jax.vmap(of_mass, (0, None)), (None, 0))(masses, E_N),
                f(with_mass(masses[None, :]), E_N[:, None], ell),  # a batch of models
            )

        vm, arr, grid, grid_arr = grids(MASSES, E_N, L[2])
        close(vm, arr)
        close(grid, grid_arr)
        assert arr[0] == (0.0 if f is length else 1.0)  # N at rest: λ = 0, decays at once
