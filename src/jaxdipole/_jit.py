"""The package's one policy for eager calls of public functions (private).

A public function decorated with :func:`compiled` validates its concrete arguments, then

* inside a transformation (any argument holds a JAX tracer: ``jit``, ``vmap``, ``grad``, ...)
  runs its body as written, to be traced into the caller's program;
* called eagerly, runs its body through :func:`equinox.filter_jit`: one compiled program per
  static configuration, reused across calls, instead of dispatching every operation.

Under ``filter_jit`` arrays are traced and every other leaf is static. Python floats are
turned into arrays first (so that a new energy or coupling does not compile anew); Python
ints and bools stay static (node counts, flavour indices, switches), as do strings and None.
Checks of concrete values cannot run inside the compiled body (its arrays are tracers), so
they belong in the ``check`` function given to the decorator, called before either path.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp

F = TypeVar("F", bound=Callable[..., Any])


def _tracing(tree: Any) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(tree))


def _float_leaves_to_arrays(tree: Any) -> Any:
    def conv(x):
        if isinstance(x, float):
            return jnp.asarray(x)
        return x

    return jax.tree.map(conv, tree)


def compiled(check: Callable[..., None] | None = None) -> Callable[[F], F]:
    """Decorator: the eager-call policy described in the module docstring.

    ``check`` receives the bound arguments (defaults applied) as keywords and raises
    ``ValueError`` for bad concrete input; it must accept (and may ignore, via ``**_``)
    every parameter of the decorated function.
    """

    def deco(fn: F) -> F:
        sig = inspect.signature(fn)
        jitted = eqx.filter_jit(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if check is not None:
                bound = sig.bind(*args, **kwargs)
                bound.apply_defaults()
                check(**bound.arguments)
            if _tracing((args, kwargs)):
                return fn(*args, **kwargs)
            args, kwargs = _float_leaves_to_arrays((args, kwargs))
            return jitted(*args, **kwargs)

        wrapper.__wrapped_compiled__ = jitted  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return deco
