"""jaxdipole.scan: grids, batching, chunking, compile-once, sharding, progress, validation."""

import json
import os
import subprocess
import sys
from pathlib import Path

import _scan_subprocess as cases
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdipole.scan import scan


def assert_tree_close(a, b, rtol=1e-14, atol=1e-14):
    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    assert ta == tb
    for x, y in zip(la, lb, strict=True):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


@pytest.fixture(scope="module")
def primakoff_grid():
    return scan(cases.primakoff_fn(), [cases.M_N, cases.MU], batch_size=1)


def test_product_grid_matches_numpy_meshgrid():
    ref = cases.analytic_numpy()
    out = scan(cases.analytic, [cases.X, cases.Y])
    assert out["a"].shape == (7, 5) and out["b"].shape == (7, 5, 3)
    assert_tree_close(out, ref)


@pytest.mark.parametrize(
    "kw",
    [
        {"batch_size": 4, "chunk_size": 6},
        {"batch_size": 1},
        {"batch_size": None},
        {"batch_size": 3, "chunk_size": 1},
        {"batch_size": 100, "chunk_size": 34},
    ],
)
def test_batch_and_chunk_sizes_give_identical_results(kw):
    ref = scan(cases.analytic, [cases.X, cases.Y])
    out = scan(cases.analytic, [cases.X, cases.Y], **kw)
    assert_tree_close(out, ref, rtol=0, atol=0)


def test_zipped_and_dict_axes():
    t = np.linspace(0.1, 2.0, 9)
    s = np.linspace(-1.0, 1.0, 9)
    out = scan(lambda x, y: x**2 - 3 * y, [t, s], product=False, batch_size=2)
    assert out.shape == (9,)
    np.testing.assert_allclose(out, t**2 - 3 * s, rtol=1e-14, atol=1e-14)
    # dict axes: passed by keyword, in any order of the function's parameters
    kw = scan(lambda y, x: x**2 - 3 * y, {"x": t, "y": s}, product=False, chunk_size=4)
    np.testing.assert_allclose(kw, t**2 - 3 * s, rtol=1e-14, atol=1e-14)
    grid = scan(lambda y, x: jnp.sin(x) * jnp.exp(y), {"x": cases.X, "y": cases.Y})
    np.testing.assert_allclose(grid, cases.analytic_numpy()["a"], rtol=1e-14, atol=1e-14)


def test_single_axis_three_axes_and_integer_dtype():
    x = np.arange(5)
    out = scan(lambda i: i * 2, [x])
    assert out.dtype == jnp.asarray(x).dtype
    np.testing.assert_array_equal(out, 2 * x)
    a, b, c = np.linspace(0, 1, 2), np.linspace(1, 2, 3), np.linspace(2, 3, 4)
    out = scan(lambda p, q, r: p + 10 * q + 100 * r, [a, b, c], batch_size=5, chunk_size=7)
    ref = a[:, None, None] + 10 * b[None, :, None] + 100 * c[None, None, :]
    np.testing.assert_allclose(out, ref, rtol=1e-14)


def test_primakoff_grid_matches_direct_calls_and_scales_as_mu_squared(primakoff_grid):
    events = cases.primakoff_fn()
    assert primakoff_grid.shape == (3, 2)
    direct = jax.jit(events)
    for i, m in enumerate(cases.M_N):
        for j, mu in enumerate(cases.MU):
            ref = float(direct(m, mu))
            assert ref > 0
            assert float(primakoff_grid[i, j]) == pytest.approx(ref, rel=1e-12)
    ratio = np.asarray(primakoff_grid[:, 1] / primakoff_grid[:, 0])
    np.testing.assert_allclose(ratio, (cases.MU[1] / cases.MU[0]) ** 2, rtol=1e-12)


SCALE = 2.0


def test_repeated_scans_of_one_function_compile_once():
    traces = [0]

    def f(x, y):
        traces[0] += 1
        return jnp.cos(x) * y * SCALE

    x, y = np.linspace(0, 1, 10), np.linspace(0, 1, 4)
    first = scan(f, [x, y])
    n_first = traces[0]
    again = scan(f, [x + 1.0, y])  # new values, same layout: reuses the compiled program
    assert traces[0] == n_first
    np.testing.assert_allclose(np.asarray(again), SCALE * np.cos(x + 1.0)[:, None] * y, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(first), SCALE * np.cos(x)[:, None] * y, rtol=1e-14)
    scan(f, [x, y], batch_size=5)  # other batching: another program
    assert traces[0] > n_first


def test_rebinding_what_fn_reads_recompiles():
    global SCALE
    x, y = np.linspace(0, 1, 6), np.linspace(0, 1, 3)

    def f(x, y):
        return x * y * SCALE * factor

    factor = 3.0
    a = scan(f, [x, y])
    factor = 5.0  # closure variable rebound
    b = scan(f, [x, y])
    np.testing.assert_allclose(np.asarray(b), np.asarray(a) * 5.0 / 3.0, rtol=1e-14)
    old = SCALE
    try:
        SCALE = 7.0  # global the function names, rebound
        c = scan(f, [x, y])
    finally:
        SCALE = old
    np.testing.assert_allclose(np.asarray(c), np.asarray(b) * 7.0 / old, rtol=1e-14)


def test_compiles_once_independent_of_chunk_count():
    n_traces = []

    def count(chunk_size):
        counter = [0]

        def f(x, y):
            counter[0] += 1
            return jnp.cos(x) * y

        out = scan(f, [np.linspace(0, 1, 10), np.linspace(0, 1, 4)], chunk_size=chunk_size)
        n_traces.append(counter[0])
        return out

    two = count(20)  # 40 points: 2 chunks
    ten = count(4)  # 10 chunks
    np.testing.assert_array_equal(two, ten)
    assert n_traces[0] == n_traces[1] <= 2  # output check (eval_shape) + one jit trace


def test_sharded_subprocess_matches_unsharded_and_in_process(primakoff_grid):
    env = dict(os.environ)
    env["XLA_FLAGS"] = (
        env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
    ).strip()
    env["JAX_PLATFORMS"] = "cpu"
    script = Path(__file__).with_name("_scan_subprocess.py")
    proc = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["n_devices"] == 4
    sharded, unsharded = res["sharded"], res["unsharded"]
    assert sharded["n_result_devices"] == 4 and unsharded["n_result_devices"] == 1
    for key in ("a", "b", "primakoff"):
        np.testing.assert_allclose(sharded[key], unsharded[key], rtol=1e-14, atol=0)
    # the same numbers in this process (one device)
    here = scan(cases.analytic, [cases.X, cases.Y], **cases.ANALYTIC_KW)
    np.testing.assert_allclose(sharded["a"], here["a"], rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(sharded["b"], here["b"], rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(sharded["primakoff"], primakoff_grid, rtol=1e-14, atol=0)


def test_progress_bar_on_stderr(capsys):
    out = scan(cases.analytic, [cases.X, cases.Y], progress=True, desc="grid")
    err = capsys.readouterr().err
    assert err.endswith("\n")
    last = err.rstrip("\n").split("\r")[-1]
    assert last.startswith("grid:") and "100%" in last and "35/35" in last
    assert err.count("\r") >= 3  # initial bar + several chunk updates (~20 chunks)
    assert_tree_close(out, cases.analytic_numpy())


def test_progress_hook_monotonic():
    calls = []
    scan(
        cases.analytic,
        [cases.X, cases.Y],
        chunk_size=8,
        progress=lambda done, total: calls.append((done, total)),
    )
    done = [d for d, _ in calls]
    assert all(t == 35 for _, t in calls)
    assert done == sorted(done) and len(set(done)) == len(done)
    assert done[-1] == 35 and len(done) == 5
    auto = []
    scan(cases.analytic, [cases.X, cases.Y], progress=lambda d, t: auto.append(d))
    assert auto[-1] == 35 and len(auto) >= 10  # ~20 chunks by default with a progress hook


@pytest.mark.parametrize(
    ("args", "kw", "match"),
    [
        ((cases.analytic, []), {}, "axes must not be empty"),
        ((cases.analytic, {}), {}, "axes must not be empty"),
        ((cases.analytic, [np.ones((2, 2)), cases.Y]), {}, r"axes\[0\] must be a 1-D"),
        ((cases.analytic, [cases.X, 3.0]), {}, r"axes\[1\] must be a 1-D"),
        ((cases.analytic, [cases.X, np.array([])]), {}, r"axes\[1\] must not be empty"),
        ((cases.analytic, np.linspace(0, 1, 3)), {}, "axes must be a sequence"),
        ((cases.analytic, [cases.X, cases.Y]), {"product": False}, "same length"),
        ((cases.analytic, [cases.X, cases.Y]), {"batch_size": 0}, "batch_size"),
        ((cases.analytic, [cases.X, cases.Y]), {"batch_size": 2.0}, "batch_size"),
        ((cases.analytic, [cases.X, cases.Y]), {"batch_size": True}, "batch_size"),
        ((cases.analytic, [cases.X, cases.Y]), {"chunk_size": -3}, "chunk_size"),
        ((cases.analytic, [cases.X, cases.Y]), {"chunk_size": "8"}, "chunk_size"),
        ((cases.analytic, [cases.X, cases.Y]), {"devices": []}, "devices"),
        ((lambda x: "text", [cases.X]), {}, "fn must return a pytree of arrays"),
        ((lambda x: None, [cases.X]), {}, "fn must return a pytree of arrays"),
        (("not callable", [cases.X]), {}, "fn must be callable"),
    ],
)
def test_validation_errors(args, kw, match):
    with pytest.raises(ValueError, match=match):
        scan(*args, **kw)


def test_grad_through_scan_wrt_closed_over_parameter():
    x = np.linspace(0.0, 1.0, 5)

    def total(s):
        return scan(lambda a: s**2 * jnp.sin(a), [x], chunk_size=2).sum()

    assert float(jax.grad(total)(1.5)) == pytest.approx(2 * 1.5 * np.sin(x).sum(), rel=1e-14)


def test_errors_inside_fn_propagate_unchanged():
    with pytest.raises(TypeError):
        scan(lambda x: x + "a", [cases.X])


def test_large_grid_is_batched_by_default_and_exact():
    # 300 x 300 = 90 000 points > AUTO_BATCH: evaluated in lax.map batches (padded to 2 x 65 536)
    from jaxdipole.scan import AUTO_BATCH

    x = np.linspace(-1.0, 1.0, 300)
    y = np.linspace(0.0, 2.0, 300)
    assert x.size * y.size > AUTO_BATCH
    out = np.asarray(scan(lambda a, b: jnp.sin(a) * jnp.exp(b) + a * b, [x, y]))
    ref = np.sin(x)[:, None] * np.exp(y)[None, :] + x[:, None] * y[None, :]
    np.testing.assert_allclose(out, ref, rtol=1e-14, atol=1e-15)
