"""One process of the two-process ``jd.scan`` test (tests/test_distributed.py).

Usage: ``python _distributed_worker.py PORT PROCESS_ID`` with ``JAX_PLATFORMS=cpu``. Joins a
2-process ``jax.distributed`` job with its coordinator on 127.0.0.1:PORT, runs the scan cases
of tests/_scan_subprocess.py over ``jax.devices()`` (one CPU device per process, so the points
are split across the two processes) and prints one JSON line on stdout, prefixed ``RESULT``.
"""

import json
import sys
from pathlib import Path

import jax


def main() -> None:
    port, process_id = int(sys.argv[1]), int(sys.argv[2])
    # CPU collectives between processes (gloo; already the default in jax 0.10.1)
    try:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    except (AttributeError, KeyError, ValueError):  # pragma: no cover - option renamed/removed
        pass
    jax.distributed.initialize(
        coordinator_address=f"127.0.0.1:{port}",
        num_processes=2,
        process_id=process_id,
        initialization_timeout=60,
    )
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import numpy as np
    from _scan_subprocess import ANALYTIC_KW, M_N, MU, X, Y, analytic, primakoff_fn

    import jaxdipole as jd

    a = jd.scan(analytic, [X, Y], **ANALYTIC_KW)
    p = jd.scan(primakoff_fn(), [M_N, MU], batch_size=1)
    out = {
        "process_index": jax.process_index(),
        "process_count": jax.process_count(),
        "n_devices": jax.device_count(),
        "n_local_devices": jax.local_device_count(),
        "n_result_devices": len(p.sharding.device_set),
        "a": np.asarray(a["a"]).tolist(),
        "b": np.asarray(a["b"]).tolist(),
        "primakoff": np.asarray(p).tolist(),
    }
    print("RESULT " + json.dumps(out), flush=True)
    jax.distributed.shutdown()


if __name__ == "__main__":
    main()
