"""``jax.vmap`` over scalar inputs versus the array call, for the public pointwise kernels.

Usage::

    python benchmarks/vmap_bench.py --quick                  # 1e4 and 1e5 points, ~1 min
    python benchmarks/vmap_bench.py                          # 1e4 and 1e6 points
    python benchmarks/vmap_bench.py --kernels primakoff_sigma,cevns_sigma --out my.json

For every kernel and size n, three ways of evaluating it on n points (float64):

* (a) ``array``: the kernel called once on the arrays, under ``jax.jit``;
* (b) ``vmap``: ``jax.jit(jax.vmap(scalar_fn))`` -- the kernel written for one point;
* (c) ``eager``: the array call without ``jit`` (op-by-op dispatch).

Reported: compile time (``lower().compile()``; for eager the first call, which holds the
op-by-op compilations), steady time per call (median of repeats, ``block_until_ready``), time
per point, and the ratio (b)/(a) of the steady times. A call that raises (a kernel without an
array form) is recorded with its error. Results: a printed table and JSON (``--out``, default
``benchmarks/results/vmap_cpu.json``, written atomically).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import jaxdipole as jd

u = jd.units
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "vmap_cpu.json"
W184 = jd.nucleus("W184")
MODEL = jd.DipoleModel(1.0 * u.MeV, mu=(1e-9, 2e-9, 0.0), m_N_prime=0.2 * u.MeV, mu_prime=1e-9)


# ---------------------------------------------------------------------------- kernels
def _energies(rng, n, lo_mev, hi_mev):
    return jnp.asarray(rng.uniform(lo_mev, hi_mev, n) * u.MeV)


def _recoils(rng, n):
    return jnp.asarray(np.exp(rng.uniform(np.log(1e-7), np.log(1e-4), n)))


def _model_with_masses(m):
    """MODEL with a batch of masses m (the array form of the model-only kernels)."""
    return eqx.tree_at(lambda md: md.m_N, MODEL, m)


def kernel_table() -> dict[str, dict[str, Any]]:
    """name -> {"inputs": rng, n -> tuple of arrays, "scalar": fn(*scalars), "array": fn(*arrays)}.

    ``scalar`` and ``array`` are the same Python function; only how it is called differs.
    """

    def sigma(e):
        return jd.primakoff_sigma(MODEL, W184, e)

    def sigma_thr(e, t):
        return jd.primakoff_sigma(MODEL, W184, e, recoil_threshold=t)

    def window(e):
        return jd.primakoff.primakoff_sigma_window(MODEL, W184, e, 1e-6, 5e-5)

    def dsig(e, t):
        return jd.primakoff_dsigma_dER(MODEL, W184, e, t)

    def cevns_sigma(e):
        return jd.cevns_sigma(W184, e)

    def cevns_dsig(e, t):
        return jd.cevns_dsigma_dER(W184, e, t)

    def mean_decay_length(e):
        return jd.mean_decay_length(MODEL, e)

    def decay_probability(e, length):
        return jd.decay_probability(MODEL, e, length)

    def decay_width(m):
        return jd.decay_width(_model_with_masses(m))

    def branching_ratios(m):
        return jd.branching_ratios(_model_with_masses(m))

    ge = jd.experiments.ge_reactor()
    ge74 = jd.nucleus("Ge74")
    e_nu = 8 * u.MeV

    def recoil_spectrum(t):
        return jd.recoil_spectrum(MODEL, ge, t)

    def dsig_degamma(eg):
        return jd.radiative.radiative_dsigma_dEgamma(MODEL, ge74, e_nu, eg)

    def dsig_dcos(c):
        return jd.radiative.radiative_dsigma_dcos(MODEL, ge74, e_nu, c)

    def events(m):
        return jd.primakoff_events(_model_with_masses(m), ge)

    return {
        # W184: the closed form holds to E_nu ~ 90 MeV
        "primakoff_sigma": {"inputs": lambda r, n: (_energies(r, n, 5, 80),), "fn": sigma},
        "primakoff_sigma[thr]": {
            "inputs": lambda r, n: (_energies(r, n, 5, 80), _recoils(r, n) * 0.1),
            "fn": sigma_thr,
        },
        # energies on both sides of the closed form's range: the quadrature is needed
        "primakoff_sigma[mixed]": {"inputs": lambda r, n: (_energies(r, n, 5, 300),), "fn": sigma},
        "primakoff_sigma_window": {"inputs": lambda r, n: (_energies(r, n, 5, 80),), "fn": window},
        "primakoff_dsigma_dER": {
            "inputs": lambda r, n: (_energies(r, n, 5, 80), _recoils(r, n)),
            "fn": dsig,
        },
        "cevns_sigma": {"inputs": lambda r, n: (_energies(r, n, 5, 80),), "fn": cevns_sigma},
        "cevns_dsigma_dER": {
            "inputs": lambda r, n: (_energies(r, n, 5, 80), _recoils(r, n)),
            "fn": cevns_dsig,
        },
        "decay_length": {"inputs": lambda r, n: (_energies(r, n, 1, 80),), "fn": mean_decay_length},
        "decay_probability": {
            "inputs": lambda r, n: (_energies(r, n, 1, 80), jnp.asarray(r.uniform(1, 1e16, n))),
            "fn": decay_probability,
        },
        "decay_width": {"inputs": lambda r, n: (_energies(r, n, 0.5, 50),), "fn": decay_width},
        "branching_ratios": {
            "inputs": lambda r, n: (_energies(r, n, 0.5, 50),),
            "fn": branching_ratios,
        },
        # folds and photon distributions: at most 10⁴ points (each point is an integral)
        "recoil_spectrum": {
            "inputs": lambda r, n: (_recoils(r, n) * 0.05,),
            "fn": recoil_spectrum,
            "max_n": 10**4,
        },
        "radiative_dsigma_dEgamma": {
            "inputs": lambda r, n: (_energies(r, n, 0.1, 8),),
            "fn": dsig_degamma,
            "max_n": 10**4,
        },
        "radiative_dsigma_dcos": {
            "inputs": lambda r, n: (jnp.asarray(r.uniform(-1, 1, n)),),
            "fn": dsig_dcos,
            "max_n": 10**4,
        },
        "primakoff_events[m_N]": {
            "inputs": lambda r, n: (_energies(r, n, 0.5, 8),),
            "fn": events,
            "max_n": 10**4,
        },
    }


# ------------------------------------------------------------------------------ timing
def _steady(call: Callable[[], Any], budget_s: float, max_repeats: int) -> list[float]:
    times: list[float] = []
    while len(times) < max_repeats and (len(times) < 3 or sum(times) < budget_s):
        t0 = time.perf_counter()
        jax.block_until_ready(call())
        times.append(time.perf_counter() - t0)
    return times


def _measure(fn: Callable, args: tuple, jit: bool, budget_s: float, max_repeats: int) -> dict:
    """Compile + steady timing of fn(*args); {"error": ...} if it raises."""
    n = int(args[0].shape[0])
    try:
        jax.clear_caches()
        if jit:
            t0 = time.perf_counter()
            compiled = jax.jit(fn).lower(*args).compile()
            compile_s = time.perf_counter() - t0
            out = jax.block_until_ready(compiled(*args))
            times = _steady(lambda: compiled(*args), budget_s, max_repeats)
        else:
            t0 = time.perf_counter()
            out = jax.block_until_ready(fn(*args))
            compile_s = time.perf_counter() - t0  # first eager call: op-by-op compiles + run
            times = _steady(lambda: fn(*args), budget_s, max_repeats)
    except Exception as exc:  # noqa: BLE001  (a kernel without an array form)
        return {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"}
    med = statistics.median(times)
    return {
        "compile_s": compile_s,
        "steady_median_s": med,
        "steady_min_s": min(times),
        "repeats": len(times),
        "ns_per_point": 1e9 * med / n,
        "out": out,
    }


def run_kernel(name: str, spec: dict, n: int, budget_s: float, max_repeats: int) -> dict:
    rng = np.random.default_rng(0)
    args = spec["inputs"](rng, n)
    fn = spec["fn"]
    rows = {
        "array": _measure(fn, args, True, budget_s, max_repeats),
        "vmap": _measure(jax.vmap(fn), args, True, budget_s, max_repeats),
        "eager": _measure(fn, args, False, budget_s, max_repeats),
    }
    a, b = rows["array"], rows["vmap"]
    ratio = None
    max_rel = None
    if "error" not in a and "error" not in b:
        ratio = b["steady_median_s"] / a["steady_median_s"]
        oa, ob = np.asarray(a["out"]), np.asarray(b["out"])
        scale = np.maximum(np.abs(oa), np.finfo(float).tiny)
        max_rel = float(np.max(np.abs(ob - oa) / scale)) if oa.shape == ob.shape else None
    for r in rows.values():
        r.pop("out", None)
    return {"kernel": name, "n": n, **rows, "ratio_vmap_over_array": ratio, "max_rel_diff": max_rel}


# ------------------------------------------------------------------------------ output
def _fmt(r: dict, key: str, scale: float, spec: str) -> str:
    width = int(re.match(r"\d*", spec).group() or 0)
    return f"{'n/a':>{width}s}" if "error" in r else format(r[key] * scale, spec)


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'kernel':24s} {'n':>8s} | {'compile a/b/c [s]':>20s} | "
        f"{'ns/pt array':>11s} {'vmap':>9s} {'eager':>9s} | {'b/a':>7s} {'max rel':>8s}"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        a, b, c = row["array"], row["vmap"], row["eager"]
        comp = "/".join(_fmt(r, "compile_s", 1, ".2f") for r in (a, b, c))
        ratio = row["ratio_vmap_over_array"]
        rel = row["max_rel_diff"]
        print(
            f"{row['kernel']:24s} {row['n']:8d} | {comp:>20s} | "
            f"{_fmt(a, 'ns_per_point', 1, '11.1f')} {_fmt(b, 'ns_per_point', 1, '9.1f')} "
            f"{_fmt(c, 'ns_per_point', 1, '9.1f')} | "
            f"{'n/a' if ratio is None else f'{ratio:7.2f}':>7s} "
            f"{'n/a' if rel is None else f'{rel:8.1e}':>8s}"
        )
    for row in rows:
        for k in ("array", "vmap", "eager"):
            if "error" in row[k]:
                print(f"  {row['kernel']} n={row['n']} {k}: {row[k]['error']}")


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh, indent=1)
    os.replace(tmp, path)


def main(argv=None) -> None:
    kernels = kernel_table()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="sizes 1e4 and 1e5, shorter budgets")
    p.add_argument("--sizes", default=None, help="comma-separated point counts")
    p.add_argument("--kernels", default=",".join(kernels), help="comma-separated subset")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output path")
    p.add_argument("--budget", type=float, default=None, help="steady-timing budget [s]")
    args = p.parse_args(argv)
    sizes = [10**4, 10**5] if args.quick else [10**4, 10**6]
    if args.sizes:
        sizes = [int(float(s)) for s in args.sizes.split(",")]
    budget = args.budget if args.budget is not None else (0.3 if args.quick else 1.0)
    names = [k.strip() for k in args.kernels.split(",") if k.strip()]
    unknown = sorted(set(names) - set(kernels))
    if unknown:
        p.error(f"unknown kernels {unknown}; choose from {list(kernels)}")
    rows = []
    for n in sizes:
        for name in names:
            if n > kernels[name].get("max_n", n):
                continue
            row = run_kernel(name, kernels[name], n, budget, 3 if n >= 10**6 else 10)
            rows.append(row)
            print(f"  done {name} n={n}", flush=True)
    print_table(rows)
    payload = {
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "device": jax.devices()[0].device_kind,
        "platform": jax.devices()[0].platform,
        "jax": jax.__version__,
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "dtype": str(jnp.zeros(()).dtype),
        "sizes": sizes,
        "rows": rows,
    }
    write_json(args.out, payload)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
