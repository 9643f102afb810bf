"""Multi-process ``jd.scan``: two CPU processes joined by ``jax.distributed`` on localhost.

Each process runs tests/_distributed_worker.py: ``jax.distributed.initialize`` (coordinator
127.0.0.1:PORT, 2 processes, gloo CPU collectives), then the same ``jd.scan`` calls as
tests/_scan_subprocess.py. ``jax.devices()`` then spans both processes, so the scan splits the
points across them and returns the result replicated to both. Both processes' results must
equal a single-process scan to 1e-12.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from _scan_subprocess import ANALYTIC_KW, M_N, MU, X, Y, analytic, primakoff_fn

from jaxdipole.scan import scan

WORKER = Path(__file__).with_name("_distributed_worker.py")
TIMEOUT_S = 120.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill(proc: subprocess.Popen) -> None:
    """Kill a worker and its process group (started with start_new_session)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:  # pragma: no cover - already gone
            pass
    proc.wait()


def _run_workers(tmp_path: Path) -> list[dict]:
    port = _free_port()
    env = dict(os.environ)
    env["JAX_PLATFORMS"] = "cpu"
    env.pop("XLA_FLAGS", None)  # one CPU device per process
    procs, logs = [], []
    try:
        for i in range(2):
            out = open(tmp_path / f"worker{i}.out", "w+")  # files, not pipes: no blocking writes
            err = open(tmp_path / f"worker{i}.err", "w+")
            logs.append((out, err))
            procs.append(
                subprocess.Popen(
                    [sys.executable, str(WORKER), str(port), str(i)],
                    env=env,
                    stdout=out,
                    stderr=err,
                    text=True,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + TIMEOUT_S
        for proc in procs:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 1.0))
            except subprocess.TimeoutExpired:
                pytest.fail(f"distributed workers did not finish within {TIMEOUT_S:.0f} s")
        outputs = []
        for proc, (out, err) in zip(procs, logs, strict=True):
            out.seek(0)
            err.seek(0)
            text, err_text = out.read(), err.read()
            assert proc.returncode == 0, (
                f"worker failed (rc {proc.returncode}):\n{err_text[-3000:]}"
            )
            lines = [ln for ln in text.splitlines() if ln.startswith("RESULT ")]
            assert lines, f"worker printed no result:\n{text[-2000:]}\n{err_text[-3000:]}"
            outputs.append(json.loads(lines[-1][len("RESULT ") :]))
        return outputs
    finally:
        for proc in procs:
            _kill(proc)
        for out, err in logs:
            out.close()
            err.close()


@pytest.fixture(scope="module")
def distributed_results(tmp_path_factory):
    return _run_workers(tmp_path_factory.mktemp("distributed"))


def test_two_processes_match_single_process(distributed_results):
    single_a = scan(analytic, [X, Y], **ANALYTIC_KW)
    single_p = scan(primakoff_fn(), [M_N, MU], batch_size=1)
    assert sorted(r["process_index"] for r in distributed_results) == [0, 1]
    for res in distributed_results:
        assert res["process_count"] == 2
        assert res["n_devices"] == 2 and res["n_local_devices"] == 1
        assert res["n_result_devices"] == 2  # the points were sharded over both processes
        np.testing.assert_allclose(res["a"], single_a["a"], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(res["b"], single_a["b"], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(res["primakoff"], single_p, rtol=1e-12, atol=0)
    # both processes hold the same (replicated) result
    r0, r1 = distributed_results
    for key in ("a", "b", "primakoff"):
        np.testing.assert_array_equal(r0[key], r1[key])
