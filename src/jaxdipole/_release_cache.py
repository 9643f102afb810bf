"""Per-release caches of compiled likelihood and signal functions (private).

A data release is a plain (unhashable) record; the functions built from it (profile fits,
signals, response tables) are compiled once and reused while the user works with that release.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def for_last_release(key: Callable[..., Hashable] | None = None) -> Callable[[F], F]:
    """Decorator for ``fn(release, *args)``: the result is kept for the last release given
    (identified by the object, not its contents) and each ``key(*args)`` (default: ``args``
    themselves); a call with another release object drops the kept results of the former one."""

    def deco(fn: F) -> F:
        kept: dict[tuple[int, Hashable], tuple[Any, Any]] = {}
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            release, *rest = bound.arguments.values()
            k = (id(release), tuple(rest) if key is None else key(*rest))
            hit = kept.get(k)
            if hit is not None and hit[0] is release:
                return hit[1]
            for old in [o for o, (r, _) in kept.items() if r is not release]:
                del kept[old]  # one release at a time
            value = fn(*bound.args, **bound.kwargs)
            kept[k] = (release, value)
            return value

        return wrapper  # type: ignore[return-value]

    return deco
