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

from ._checks import is_traced

F = TypeVar("F", bound=Callable[..., Any])


def _float_leaves_to_arrays(tree: Any) -> Any:
    def conv(x):
        if isinstance(x, float):
            return jnp.asarray(x)
        return x

    return jax.tree.map(conv, tree)


#: Points per chunk when an elementwise function is mapped over arrays.
ELEMENTWISE_BATCH = 4096


def _elementwise(fn: Callable, sig: inspect.Signature, names: tuple[str, ...]) -> Callable:
    """``fn`` written for scalar ``names`` arguments, mapped over their broadcast shape (in
    chunks of ``ELEMENTWISE_BATCH``); the result has that shape (+ fn's own output axes)."""
    from .flux import chunked_map  # here: flux imports the modules that use this one

    @functools.wraps(fn)
    def body(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        shapes = [jnp.shape(bound.arguments[n]) for n in names]
        if all(s == () for s in shapes):
            return fn(*args, **kwargs)
        shape = jnp.broadcast_shapes(*shapes)
        xs = [jnp.broadcast_to(jnp.asarray(bound.arguments[n]), shape).ravel() for n in names]

        def one(x):
            return fn(**(dict(bound.arguments) | dict(zip(names, x, strict=True))))

        out = chunked_map(one, xs, ELEMENTWISE_BATCH)
        return out.reshape(shape + out.shape[1:])

    return body


def compiled(
    check: Callable[..., None] | None = None, elementwise: tuple[str, ...] = ()
) -> Callable[[F], F]:
    """Decorator: the eager-call policy described in the module docstring.

    ``check`` receives the bound arguments (defaults applied) as keywords and raises
    ``ValueError`` for bad concrete input; it must accept (and may ignore, via ``**_``)
    every parameter of the decorated function. ``elementwise``: names of arguments the body is
    written for as scalars; arrays there are mapped over (broadcast together).
    """

    def deco(fn: F) -> F:
        sig = inspect.signature(fn)
        body = _elementwise(fn, sig, elementwise) if elementwise else fn
        jitted = eqx.filter_jit(body)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if check is not None:
                bound = sig.bind(*args, **kwargs)
                bound.apply_defaults()
                check(**bound.arguments)
            if is_traced((args, kwargs)):
                return body(*args, **kwargs)
            args, kwargs = _float_leaves_to_arrays((args, kwargs))
            return jitted(*args, **kwargs)

        wrapper.__wrapped_compiled__ = jitted  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return deco
