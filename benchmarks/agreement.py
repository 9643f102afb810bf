"""GPU-vs-CPU agreement of jaxdipole's kernels: save values on one platform, compare on another.

Usage::

    JAX_PLATFORMS=cpu python benchmarks/agreement.py save cpu-values.npz   # reference (CPU)
    python benchmarks/agreement.py compare cpu-values.npz                  # e.g. on a GPU

``compare`` recomputes every quantity on the default JAX device, prints the maximum relative
difference per quantity next to its tolerance (1e-10 for float64, 1e-4 for float32) and exits
with status 1 if any exceeds it (entries below 1e-12 of a quantity's largest are compared
absolutely at that level). Quantities: σ(E_ν) on 10⁴ energies (float64 and float32), a
32 × 32 (m_N, μ) grid of Primakoff events with its gradient in m_N, a 24 × 20 photon map and
the NUCLEUS phase-1 reach at 8 masses (all float64).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import jaxdipole as jd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import cast_tree, model_of  # noqa: E402

u = jd.units
TOL = {"float64": 1e-10, "float32": 1e-4}


def quantities() -> dict[str, tuple[np.ndarray, str]]:
    """name -> (values, dtype name), computed on the default device."""
    out = {}
    ge = jd.nucleus("Ge74")
    E = np.linspace(5.01, 10.0, 10_000) * u.MeV
    for dt in ("float64", "float32"):
        d = jnp.float64 if dt == "float64" else jnp.float32
        model, nuc = cast_tree(model_of(5 * u.MeV, 1e-9), d), cast_tree(ge, d)
        sig = jax.jit(lambda e, model=model, nuc=nuc: jd.primakoff_sigma(model, nuc, e))
        out[f"sigma_{dt}"] = (np.asarray(sig(jnp.asarray(E, d))), dt)
    exp = jd.experiments.ge_reactor()
    m_ax = np.geomspace(0.1, 8.0, 32) * u.MeV
    mu_ax = np.geomspace(1e-12, 1e-9, 32) * u.mu_B
    M, MU = (jnp.asarray(a.ravel()) for a in np.meshgrid(m_ax, mu_ax, indexing="ij"))

    def events(m_N, mu):
        return jd.primakoff_events(model_of(m_N, mu), exp)

    vg = jax.jit(jax.vmap(jax.value_and_grad(events)))
    n, dn = vg(M, MU)
    out["events_grid_float64"] = (np.asarray(n), "float64")
    out["events_grid_dN_dmN_float64"] = (np.asarray(dn), "float64")
    e_edges = jnp.linspace(0.5, 8.0, 25) * u.MeV
    c_edges = jnp.linspace(-1.0, 1.0, 21)
    pm = jd.photon_map(model_of(5 * u.MeV, 1e-9), exp, e_edges, c_edges)
    out["photon_map_float64"] = (np.asarray(pm), "float64")
    nuc_exp = jd.experiments.nucleus_phase1()
    m_r = jnp.asarray(np.geomspace(0.1, 8.0, 8) * u.MeV)
    reach = jax.jit(jax.vmap(lambda m: jd.sensitivity.primakoff_reach(model_of(m, 1e-9), nuc_exp)))(
        m_r
    )
    out["reach_float64"] = (np.asarray(reach), "float64")
    return out


def max_rel(a: np.ndarray, b: np.ndarray, floor: float = 1e-12) -> float:
    """max |a/b − 1| over entries with |b| > floor·max|b| (e.g. photon bins that are differences
    of nearly equal cumulative values); the others must agree to floor·max|b| absolutely."""
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    big = np.abs(b) > floor * scale
    if np.any(np.abs(a[~big] - b[~big]) > floor * scale):
        return float("inf")
    return float(np.max(np.abs(a[big] / b[big] - 1.0))) if np.any(big) else 0.0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=("save", "compare"))
    p.add_argument("file", type=Path, help=".npz file of reference values")
    args = p.parse_args(argv)
    dev = jax.devices()[0]
    print(f"device: {dev.platform} ({dev.device_kind}), jax {jax.__version__}", file=sys.stderr)
    vals = quantities()
    if args.mode == "save":
        args.file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=args.file.parent, suffix=".npz")
        os.close(fd)
        np.savez(tmp, **{k: v for k, (v, _) in vals.items()}, _device=str(dev.device_kind))
        os.replace(tmp, args.file)  # complete or absent
        print(f"saved {len(vals)} quantities to {args.file}")
        return 0
    ref = np.load(args.file)
    print(f"reference device: {ref['_device']}")
    bad = 0
    for k, (v, dt) in vals.items():
        d = max_rel(v, ref[k])
        ok = d <= TOL[dt]
        bad += not ok
        print(f"{k:30s} {v.size:7d} values  max rel diff {d:9.2e}  (tol {TOL[dt]:.0e}) "
              f"{'ok' if ok else 'FAIL'}")  # fmt: skip
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
