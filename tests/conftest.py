import jax

jax.config.update("jax_enable_x64", True)

import jaxdipole  # noqa: E402, F401  (enables x64 as well)
