"""Deprecated spellings of public arguments and functions (private).

:func:`renamed_arguments` keeps an old keyword working after a rename: the value is forwarded
under the new name with a ``DeprecationWarning``. Put it outermost (above
:func:`jaxdipole._jit.compiled`), so that the validation and the compiled body see only the new
names; ``functools.wraps`` keeps ``__wrapped__`` (``inspect.signature`` and ``help`` show the
new names) and the attributes of the wrapped function (``__wrapped_compiled__``).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def renamed_arguments(**old_to_new: str) -> Callable[[F], F]:
    """Decorator: accept the keyword arguments ``old`` of ``old_to_new`` as deprecated
    spellings of ``old_to_new[old]``.

    A call with an old name warns (``DeprecationWarning``, pointing at the caller) and passes
    the value under the new name; a call with both the old and the new name raises
    ``TypeError``.
    """

    def deco(fn: F) -> F:
        qualname = getattr(fn, "__qualname__", getattr(fn, "__name__", repr(fn)))

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for old, new in old_to_new.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(
                        f"{qualname}: got both '{old}' (deprecated) and '{new}'; pass only '{new}'"
                    )
                warnings.warn(
                    f"{qualname}: argument '{old}' is deprecated, use '{new}'",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return deco
