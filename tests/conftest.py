import os
import shutil
import tempfile
from pathlib import Path

# One on-disk cache of compiled XLA programs for the whole test run: the xdist workers, the
# notebook kernels and the command-line subprocesses inherit these variables, so a program
# compiled by one of them (or in an earlier test module, after jax.clear_caches below) is loaded,
# not compiled again. The folder is made once, by the first process (the xdist controller), and
# removed by it at the end of the run. Set JAX_COMPILATION_CACHE_DIR yourself to keep a cache
# between runs.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="jaxdipole-tests-xla-")
    os.environ["JAXDIPOLE_TESTS_OWN_XLA_CACHE"] = os.environ["JAX_COMPILATION_CACHE_DIR"]
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import pytest  # noqa: E402

import jaxdipole  # noqa: E402, F401  (enables x64 as well)


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop JAX's compiled programs after each test module: the suite runs in one process, and
    every eagerly called entry point keeps its compiled program cached."""
    yield
    jax.clear_caches()


_REALDATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "realdata"
#: Notebooks that read a public data release from the shared data folder.
_DATA_NOTEBOOKS = {
    "07_coherent_data.ipynb": (
        _REALDATA / "coherent_lar_cenns10",
        _REALDATA / "coherent_csi_2021",
    ),
    "08_xenonnt_solar.ipynb": (
        _REALDATA / "xenonnt_b8_cevns",
        _REALDATA / "coherent_lar_cenns10",
        _REALDATA / "coherent_csi_2021",
    ),
}


def pytest_unconfigure(config):
    own = os.environ.get("JAXDIPOLE_TESTS_OWN_XLA_CACHE")
    if own and not hasattr(config, "workerinput"):  # the process that made the folder
        shutil.rmtree(own, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    for item in items:
        for folder in _DATA_NOTEBOOKS.get(Path(str(item.fspath)).name, ()):
            if not folder.is_dir():
                item.add_marker(pytest.mark.skip(reason=f"data release not present: {folder}"))
                break
