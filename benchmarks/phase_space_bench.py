"""Throughput and convergence of the 2 -> 3 Monte Carlo (phase space + full |M|²).

Usage::

    python benchmarks/phase_space_bench.py --quick      # < 60 s on a 2-core CPU
    python benchmarks/phase_space_bench.py              # larger samples
    python benchmarks/phase_space_bench.py --nucleus W184 --out my.json

Measured at a reference point (default Ca40, m_N = 4 MeV, E_ν = 8 MeV, μ_e = 1e-9 GeV^-1,
physical width) for a Dirac and a Majorana N:

* throughput of :func:`jaxdipole.phase_space.integrate` (points mapped + |M|² + sums), random
  and Halton sampler: the first call after ``jax.clear_caches()`` (compile + run), the compile
  time (first call − steady median) and the steady time (``block_until_ready``, min/median);
* convergence of σ: R independent point sets (random: independent keys; Halton: independent
  random shifts) evaluated on prefixes of n = N/256 … N points; the relative scatter of the
  R estimates fits s(n) = s(N) (N/n)^α (α = 1/2 for random points, up to 1 for quasi-random
  ones). The points for a 1 % error: random from the per-point variance at N (∝ 1/n), Halton
  where the measured scatter crosses 1 % (log-log interpolation); the time for them at the steady
  throughput (compilation excluded, reported separately);
* the experiment-level :func:`jaxdipole.offshell_rates.radiative_events_mc` (7 dimensions, W184
  at the Chooz reactor, prompt) for the Dirac N: compile and steady time, points per second.

Results go to ``benchmarks/results/phase_space-<platform>.json`` (written atomically) and a
printed table.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import jaxdipole as jd
from jaxdipole import phase_space
from jaxdipole.matrix_elements import squared_amplitude
from jaxdipole.offshell_rates import radiative_events_mc

u = jd.units
RESULTS_DIR = Path(__file__).resolve().parent / "results"
M_N = 4.0 * u.MeV
E_NU = 8.0 * u.MeV
MU = 1e-9  # GeV^-1
TARGET_REL = 0.01
SIZES = {
    "quick": {"n_integrate": 2**15, "batch": 2**13, "n_conv": 2**14, "replicas": 16, "budget_s": 1},
    "full": {"n_integrate": 2**17, "batch": 2**14, "n_conv": 2**17, "replicas": 32, "budget_s": 3},
}


# ------------------------------------------------------------------------------ timing
def _now() -> float:
    return time.perf_counter()


def timed(fn: Callable[[], Any], budget_s: float, max_repeats: int = 20) -> tuple[Any, dict]:
    """First call after ``jax.clear_caches()``, then steady repeats (>= 3, ~budget_s)."""
    jax.clear_caches()
    t0 = _now()
    out = jax.block_until_ready(fn())
    first = _now() - t0
    times: list[float] = []
    while len(times) < max_repeats and (len(times) < 3 or sum(times) < budget_s):
        t0 = _now()
        out = jax.block_until_ready(fn())
        times.append(_now() - t0)
    med = statistics.median(times)
    return out, {
        "first_call_s": first,
        "compile_s": max(first - med, 0.0),
        "steady_min_s": min(times),
        "steady_median_s": med,
        "repeats": len(times),
    }


# ------------------------------------------------------------------------------ the cases
def throughput(model, nucleus, sampler: str, n: int, batch: int, budget_s: float) -> dict:
    """phase_space.integrate at the reference point: timings, σ and its quoted error."""

    def run():
        r = phase_space.integrate(
            model, nucleus, E_NU, n, batch, sampler=sampler, key=jax.random.key(1)
        )
        return r.sigma, r.error

    (sigma, err), t = timed(run, budget_s)
    return {
        "sampler": sampler,
        "n_points": n,
        "batch_size": batch,
        **t,
        "points_per_s": n / t["steady_median_s"],
        "sigma_GeV-2": float(sigma),
        "quoted_rel_error": float(err / sigma),
    }


@partial(jax.jit, static_argnames=("n", "batch", "sampler"))
def _values(model, nucleus, key, *, n, batch, sampler):
    """weight · |M|² per point [GeV^-2], shape (n,): one point set (key or Halton shift)."""

    def chunk(b):
        if sampler == "halton":
            shift = jax.random.uniform(key, (phase_space.DIM,), dtype=jnp.float64)
            h = phase_space.halton(batch, phase_space.DIM, offset=b * batch)
            x = jnp.mod(h + shift, 1.0)
        else:
            k = jax.random.fold_in(key, b)
            x = jax.random.uniform(k, (batch, phase_space.DIM), dtype=jnp.float64)
        p = phase_space.sample(model, nucleus, E_NU, x)
        msq = jax.vmap(
            lambda k, P, kp, Pp, q, d: squared_amplitude(model, nucleus, k, P, kp, Pp, q,
                                                         offshell_a=d)
        )(p.k_in, p.P_in, p.k_out, p.P_out, p.q, p.offshell)  # fmt: skip
        return jnp.where(p.weight > 0, p.weight * msq, 0.0)

    return jax.lax.map(chunk, jnp.arange(n // batch)).reshape(-1)


def convergence(model, nucleus, sampler: str, n: int, replicas: int, batch: int, pps: float):
    """Relative scatter of R estimates on prefixes n/256 … n; points and time for 1 %.

    Random points: n(1 %) from the per-point variance (error ∝ n^-1/2); Halton: from the
    scatter of the randomly shifted replicas at n and the fitted power α (clipped to [1/2, 1]).
    """
    sizes = [n // 256, n // 64, n // 16, n // 4, n]
    est = np.zeros((replicas, len(sizes)))
    quoted = np.zeros(len(sizes))
    for r in range(replicas):
        v = np.asarray(
            _values(model, nucleus, jax.random.key(1000 + r), n=n, batch=batch, sampler=sampler)
        )
        for j, k in enumerate(sizes):
            est[r, j] = v[:k].mean()
            if r == 0:
                quoted[j] = v[:k].std(ddof=1) / np.sqrt(k) / v[:k].mean()
    mean = est.mean(axis=0)
    scatter = est.std(axis=0, ddof=1) / mean
    alpha = float(-np.polyfit(np.log(sizes), np.log(scatter), 1)[0])
    if sampler == "random":  # error ∝ n^-1/2 exactly: use the precise per-point variance
        n_1pct = float(sizes[-1] * (quoted[-1] / TARGET_REL) ** 2)
    else:  # quasi-random: where the measured scatter crosses 1 % (log-log interpolation;
        # beyond the measured sizes, the fitted power kept in [1/2, 1])
        a = min(max(alpha, 0.5), 1.0)
        ls, ln = np.log(scatter), np.log(sizes)
        if scatter[0] <= TARGET_REL:
            n_1pct = float(sizes[0] * (scatter[0] / TARGET_REL) ** (1.0 / a))
        elif scatter[-1] > TARGET_REL:
            n_1pct = float(sizes[-1] * (scatter[-1] / TARGET_REL) ** (1.0 / a))
        else:
            k = int(np.argmax(scatter <= TARGET_REL))
            t = (np.log(TARGET_REL) - ls[k - 1]) / (ls[k] - ls[k - 1])
            n_1pct = float(np.exp(ln[k - 1] + t * (ln[k] - ln[k - 1])))
    return {
        "sampler": sampler,
        "replicas": replicas,
        "n": sizes,
        "rel_scatter": scatter.tolist(),
        "quoted_rel_error_first_replica": quoted.tolist(),
        "alpha": alpha,
        "n_for_1pct": n_1pct,
        "time_for_1pct_s": n_1pct / pps,
        "sigma_mean_GeV-2": float(mean[-1]),
    }


def experiment_mc(n: int, batch: int, budget_s: float) -> dict:
    """radiative_events_mc for a prompt W184 detector at Chooz (Dirac N, m_N = 4 MeV)."""
    exp = jd.Experiment(jd.nucleus("W184"), 1 * u.kg, 1 * u.year, jd.experiments.chooz_flux(),
                        20 * u.eV, None, recoil_max=1 * u.keV)  # fmt: skip
    model = jd.DipoleModel(M_N, MU, "dirac")

    def run():
        r = radiative_events_mc(model, exp, n_points=n, batch_size=batch)
        return r.events, r.error

    (ev, err), t = timed(run, budget_s)
    n_total = n + max(1, n // batch // 4) * batch  # with the pilot batches
    return {
        "case": "radiative_events_mc W184 Chooz prompt, Dirac, m_N = 4 MeV, Halton",
        "n_points": n,
        "n_points_with_pilot": n_total,
        **t,
        "points_per_s": n_total / t["steady_median_s"],
        "events": float(ev),
        "rel_error": float(err / ev),
        "narrow_width_events": float(jd.radiative_events(model, exp)),
    }


# ------------------------------------------------------------------------------ output
def write_json(path: Path, data: dict) -> None:
    """Write atomically: temporary file in the target directory, then os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def print_table(res: dict) -> None:
    ref = res["reference"]
    print(f"\nreference: {ref['nucleus']}, m_N = {ref['m_N_MeV']} MeV, E = {ref['E_nu_MeV']} MeV")
    print(f"{'nature':9} {'sampler':8} {'points':>8} {'compile s':>10} {'steady s':>9} "
          f"{'points/s':>10} {'rel.err':>8} {'alpha':>6} {'n(1%)':>9} {'t(1%) s':>8}")  # fmt: skip
    for r in res["throughput"]:
        c = next(
            x for x in res["convergence"]
            if x["nature"] == r["nature"] and x["sampler"] == r["sampler"]
        )  # fmt: skip
        print(
            f"{r['nature']:9} {r['sampler']:8} {r['n_points']:8d} {r['compile_s']:10.2f} "
            f"{r['steady_median_s']:9.4f} {r['points_per_s']:10.3g} "
            f"{r['quoted_rel_error']:8.2e} {c['alpha']:6.2f} {c['n_for_1pct']:9.3g} "
            f"{c['time_for_1pct_s']:8.3g}"
        )
    e = res["experiment"]
    print(
        f"\n{e['case']}: {e['n_points_with_pilot']} points, compile {e['compile_s']:.2f} s, "
        f"steady {e['steady_median_s']:.4f} s ({e['points_per_s']:.3g} points/s), "
        f"events {e['events']:.5g} ± {e['rel_error']:.2%} (narrow width "
        f"{e['narrow_width_events']:.5g})"
    )


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small samples (< 60 s on 2 cores)")
    ap.add_argument("--nucleus", default="Ca40", help="reference nucleus (default Ca40)")
    ap.add_argument("--out", type=Path, default=None, help="output JSON path")
    args = ap.parse_args(argv)
    mode = "quick" if args.quick else "full"
    sz = SIZES[mode]
    nucleus = jd.nucleus(args.nucleus)
    t_start = _now()
    res: dict[str, Any] = {
        "meta": {
            "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "mode": mode,
            "platform": jax.default_backend(),
            "device_kind": jax.devices()[0].device_kind,
            "n_devices": jax.device_count(),
            "cpu_count": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "jax": jax.__version__,
            "jaxdipole": jd.__version__,
            "python": platform.python_version(),
            "x64": bool(jax.config.read("jax_enable_x64")),
        },
        "reference": {
            "nucleus": args.nucleus,
            "m_N_MeV": M_N / u.MeV,
            "E_nu_MeV": E_NU / u.MeV,
            "mu_e_GeV-1": MU,
            "width": "physical (decay_width)",
            "target_rel_error": TARGET_REL,
        },
        "throughput": [],
        "convergence": [],
    }
    for nature in ("dirac", "majorana"):
        model = jd.DipoleModel(M_N, MU, nature)
        for sampler in ("random", "halton"):
            r = throughput(model, nucleus, sampler, sz["n_integrate"], sz["batch"], sz["budget_s"])
            r["nature"] = nature
            res["throughput"].append(r)
            c = convergence(
                model, nucleus, sampler, sz["n_conv"], sz["replicas"], sz["batch"],
                r["points_per_s"],
            )  # fmt: skip
            c["nature"] = nature
            res["convergence"].append(c)
    res["experiment"] = experiment_mc(2**15, 2**13, sz["budget_s"])
    res["meta"]["wall_s"] = _now() - t_start
    out = args.out or RESULTS_DIR / f"phase_space-{res['meta']['platform']}.json"
    write_json(out, res)
    print_table(res)
    print(f"\nwritten {out} ({res['meta']['wall_s']:.1f} s)")
    return res


if __name__ == "__main__":
    main()
