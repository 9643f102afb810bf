from pathlib import Path

import jax

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


def pytest_collection_modifyitems(config, items):
    for item in items:
        for folder in _DATA_NOTEBOOKS.get(Path(str(item.fspath)).name, ()):
            if not folder.is_dir():
                item.add_marker(pytest.mark.skip(reason=f"data release not present: {folder}"))
                break
