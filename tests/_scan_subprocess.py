"""Scan cases shared by tests/test_scan.py and its sharding subprocess.

As a script (with ``XLA_FLAGS=--xla_force_host_platform_device_count=4 JAX_PLATFORMS=cpu``) it
runs the cases sharded over the 4 CPU devices and unsharded (first device only) and prints one
JSON object ``{"n_devices", "sharded": {...}, "unsharded": {...}}`` on stdout.
"""

import json

import jax
import jax.numpy as jnp
import numpy as np

import jaxdipole as jd
from jaxdipole.scan import scan

X = np.linspace(-1.3, 2.1, 7)
Y = np.linspace(-0.7, 0.9, 5)
M_N = np.array([1e-3, 3e-3, 6e-3])  # GeV
MU = np.array([1e-9, 2e-9])  # GeV^-1
ANALYTIC_KW = {"batch_size": 4, "chunk_size": 6}  # 35 points: divisible by neither


def analytic(x, y):
    """Scalar and vector outputs of two scalars."""
    return {"a": jnp.sin(x) * jnp.exp(y), "b": jnp.stack([x, y, x * y**2])}


def analytic_numpy():
    """The analytic case on a NumPy 'ij' meshgrid."""
    x, y = np.meshgrid(X, Y, indexing="ij")
    return {"a": np.sin(x) * np.exp(y), "b": np.stack([x, y, x * y**2], axis=-1)}


def primakoff_fn():
    """Primakoff events at the Ge reactor benchmark as a function of (m_N, mu_e)."""
    exp = jd.experiments.ge_reactor()

    def events(m_N, mu):
        model = jd.DipoleModel(m_N=m_N, mu=jnp.stack([mu, 0.0, 0.0]), nature="dirac")
        return jd.primakoff_events(model, exp)

    return events


def run_cases(devices):
    """Both cases on ``devices`` as JSON-able lists."""
    a = scan(analytic, [X, Y], devices=devices, **ANALYTIC_KW)
    p = scan(primakoff_fn(), [M_N, MU], devices=devices, batch_size=1)
    return {
        "a": np.asarray(a["a"]).tolist(),
        "b": np.asarray(a["b"]).tolist(),
        "primakoff": np.asarray(p).tolist(),
        "n_result_devices": len(p.sharding.device_set),
    }


if __name__ == "__main__":
    assert len(jax.devices()) == 4, jax.devices()
    out = {
        "n_devices": len(jax.devices()),
        "sharded": run_cases(jax.devices()),
        "unsharded": run_cases(jax.devices()[:1]),
    }
    print(json.dumps(out))
