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
