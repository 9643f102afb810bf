"""Fold-engine benchmark: time and peak memory of each case in a fresh process, and the per-bin
accuracy of photon spectra at the default settings against a brute-force neutrino-energy rule.

    python benchmarks/fold_bench.py [--quick] [--cases photon_map]
                                    [--out benchmarks/results/fold_cpu.json]

Cases (each in its own Python process, so that its peak resident memory is its own):

* ``table_spectrum``: photon_energy_spectrum, 200 bins, TabulatedFlux of 41 / 4000 knots;
* ``table_jacfwd``: jax.jacfwd in m_N of the 40-bin spectrum, same tables;
* ``table_total``: primakoff_events with the same tables;
* ``photon_bins``: the per-bin error at the defaults (Vogel–Engel 4 GW at 100 m, Ge74,
  m_N = 5 MeV, prompt decays) against 4096 uniform Gauss–Legendre nodes in E_ν, 40 and 200 bins,
  Dirac and Majorana, with its time;
* ``photon_map``: (E_γ, cos θ_γ) maps of 40 × 40 and (full runs only) 200 × 200 bins on
  0–10 MeV × [−1, 1], Dirac and Majorana, same set-up, with the per-bin error (bins >= 1 % of
  the peak) against an independent NumPy quadrature of the photon-cone fractions
  (``reference_map`` of tests/test_photon_rates.py with 40 nodes per θ_N piece and 8 / 4 E_γ
  nodes per piece, ~3e-6; every row of the 40 × 40 map, every 4th of the 200 × 200 one) and
  against the same map at twice the Legendre order and node counts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

CASES = {
    "table_spectrum": [("41", "41"), ("4000", "4000")],
    "table_jacfwd": [("41", "41"), ("4000", "4000")],
    "table_total": [("41", "41"), ("4000", "4000")],
    "photon_bins": [("dirac-40", "dirac 40"), ("majorana-40", "majorana 40"),
                    ("dirac-200", "dirac 200"), ("majorana-200", "majorana 200")],
    "photon_map": [("dirac-40x40", "dirac 40"), ("majorana-40x40", "majorana 40"),
                   ("dirac-200x200", "dirac 200"), ("majorana-200x200", "majorana 200")],
}  # fmt: skip
QUICK_SKIP = {"dirac-200x200", "majorana-200x200"}


def _child(case: str, arg: str) -> dict:
    """Run one case in this process (called in a fresh interpreter); return its row."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    import jaxdipole as jd
    from jaxdipole._quadrature import gauss_legendre_unit

    u = jd.units
    MeV = u.MeV
    ve = jd.ReactorFlux.vogel_engel_benchmark(4 * u.GW, 100 * u.m)

    def ge(flux):
        return jd.experiments.ge_reactor(
            flux=flux, recoil_threshold=0.0, exposure=u.day, photon_energy_min=0.0
        )

    def timed(f, *a):
        t0 = time.perf_counter()
        jax.block_until_ready(f(*a))
        first = time.perf_counter() - t0
        steady = []
        for _ in range(3):
            t0 = time.perf_counter()
            out = jax.block_until_ready(f(*a))
            steady.append(time.perf_counter() - t0)
        return out, first, min(steady)

    row = {"case": case, "arg": arg}
    if case.startswith("table"):
        n = int(arg)
        E = jnp.linspace(0.01, 10.0, n) * MeV
        exp = ge(jd.TabulatedFlux(E, ve.dphi_dE(E)))
        if case == "table_spectrum":
            edges = jnp.linspace(0.0, 10 * MeV, 201)
            f = lambda m: jd.photon_energy_spectrum(jd.DipoleModel(m, 1e-9), exp, edges)  # noqa: E731
        elif case == "table_jacfwd":
            edges = jnp.linspace(0.0, 10 * MeV, 41)
            f = jax.jacfwd(lambda m: jd.photon_energy_spectrum(jd.DipoleModel(m, 1e-9), exp, edges))
        else:
            f = lambda m: jd.primakoff_events(jd.DipoleModel(m, 1e-9), exp)  # noqa: E731
        _, row["first_s"], row["steady_s"] = timed(f, jnp.asarray(5 * MeV))
    elif case == "photon_bins":
        nature, n_bins = arg.split()

        class Brute(jd.ReactorFlux):
            def nodes(self, E_low=0.0, breaks=None, parts="all", n_per_panel=None):
                edges = jnp.linspace(0.0, 1.0, 513) * self.e_max
                t, w = (jnp.asarray(v) for v in gauss_legendre_unit(8))
                a, b = edges[:-1], edges[1:]
                lo = jnp.clip(E_low, a, b)
                h = (b - lo)[:, None]
                x = (lo[:, None] + h * t * t).ravel()
                return x, (2 * t * w * h).ravel() * self._density(x)

        brute = Brute.vogel_engel_benchmark(4 * u.GW, 100 * u.m)
        model = jd.DipoleModel(5 * MeV, 1e-9, nature=nature)
        edges = jnp.linspace(0.0, 10 * MeV, int(n_bins) + 1)
        got, row["first_s"], row["steady_s"] = timed(
            lambda: jd.photon_energy_spectrum(model, ge(ve), edges)
        )
        ref = np.asarray(jd.photon_energy_spectrum(model, ge(brute), edges))
        got = np.asarray(got)
        sel = ref > 0.01 * ref.max()
        row["max_bin_error"] = float(np.max(np.abs(got[sel] / ref[sel] - 1)))
        row["total_error"] = float(got.sum() / ref.sum() - 1)
    elif case == "photon_map":
        nature, n = arg.split()
        n = int(n)
        model = jd.DipoleModel(5 * MeV, 1e-9, nature=nature)
        e_edges = jnp.linspace(0.0, 10 * MeV, n + 1)
        c_edges = jnp.linspace(-1.0, 1.0, n + 1)
        got, row["first_s"], row["steady_s"] = timed(
            lambda: jd.photon_map(model, ge(ve), e_edges, c_edges)
        )
        got = np.asarray(got)
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
        from test_photon_rates import reference_map

        import jaxdipole.photon_rates as pr

        # the reference (shape only: reactor flux up to normalisation) on every row of the
        # 40 × 40 map and on every 4th row of the 200 × 200 one, scaled to the same sum
        rows = np.arange(0, n, 1 if n <= 40 else 4)
        n_e = 8 if n <= 40 else 4  # E_γ nodes per piece of the reference (wide bins: more)
        e_np, c_np = np.asarray(e_edges), np.asarray(c_edges)
        M = float(jd.nucleus("Ge74").mass)
        ref = np.concatenate(
            [
                reference_map(5 * MeV, M, 32, 74, nature, e_np[i : i + 2], c_np, n_th=40, n_e=n_e)
                for i in rows
            ]
        )
        g = got[rows]
        r = ref * (g.sum() / ref.sum())
        sel = r > 0.01 * got.max()
        row["max_bin_error"] = float(np.max(np.abs(g[sel] / r[sel] - 1)))
        row["bins_compared"] = int(sel.sum())
        row["total_error"] = float(got.sum() / float(jd.primakoff_events(model, ge(ve))) - 1)
        # the same map at twice the order and node counts (the constants are read when tracing)
        pr._K_NODES, pr._K_PANELS_PER_8, pr._E_NODES, pr._E_UNIFORM = 12, 6, 8, 128
        pr._THETA_EXTRA = 48
        high = np.asarray(jd.photon_map(model, ge(ve), e_edges, c_edges, n_legendre=256))
        big = high > 0.01 * high.max()
        row["self_error"] = float(np.max(np.abs(got[big] / high[big] - 1)))
    row["device"] = jax.devices()[0].device_kind
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip the 200 x 200 maps")
    ap.add_argument("--cases", default=",".join(CASES), help="comma separated: " + ", ".join(CASES))
    ap.add_argument("--out", default="benchmarks/results/fold_cpu.json")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        row = _child(*a.child)
        row["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        print(json.dumps(row))
        return
    rows = []
    for case, variants in CASES.items():
        if case not in a.cases.split(","):
            continue
        for label, arg in variants:
            if a.quick and label in QUICK_SKIP:
                continue
            cmd = [sys.executable, __file__, "--child", case, arg]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            row = json.loads(out.strip().splitlines()[-1])
            rows.append(row)
            extra = ""
            if "max_bin_error" in row:
                extra = f"  max bin err {row['max_bin_error']:.2e}  total {row['total_error']:.1e}"
            if "self_error" in row:
                extra += f"  vs 2x order/nodes {row['self_error']:.1e}"
            print(
                f"{case:15s} {label:13s} first {row['first_s']:7.2f} s  steady "
                f"{row['steady_s']:8.4f} s  peak RSS {row['peak_rss_gb']:.2f} GB{extra}",
                flush=True,
            )
    result = {"machine": platform.processor() or platform.machine(), "rows": rows}
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(a.out) or ".", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump(result, fh, indent=1)
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
