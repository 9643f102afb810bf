"""Deprecated spellings of public arguments and functions (private).

:func:`renamed_arguments` keeps an old keyword working after a rename: the value is forwarded
under the new name with a ``DeprecationWarning``. Put it outermost (above
:func:`jaxdipole._jit.compiled`), so that the validation and the compiled body see only the new
names; ``functools.wraps`` keeps ``__wrapped__`` (``inspect.signature`` and ``help`` show the
new names) and the attributes of the wrapped function (``__wrapped_compiled__``).
:func:`warn_deprecated` emits such a warning for other former spellings (e.g. read-only
attribute aliases), pointing at the user's frame.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def _in_equinox(frame: Any) -> bool:
    return frame.f_globals.get("__name__", "").partition(".")[0] == "equinox"


def warn_deprecated(message: str, depth: int = 1) -> None:
    """Emit ``message`` as a ``DeprecationWarning`` attributed to the frame ``depth`` levels
    above the caller (1: the caller's caller), not counting equinox's frames: a Module's
    ``__init__`` is called, and its attributes are read, through equinox's machinery, and the
    user's frame lies above those."""
    frame = sys._getframe(1 + depth)  # 0: here, 1: the caller
    level = 2 + depth  # stacklevel of that frame for a warn called here
    while frame is not None and _in_equinox(frame):
        level += 1
        frame = frame.f_back
    warnings.warn(message, DeprecationWarning, stacklevel=level)


def renamed_arguments(**old_to_new: str) -> Callable[[F], F]:
    """Decorator: accept the keyword arguments ``old`` of ``old_to_new`` as deprecated
    spellings of ``old_to_new[old]``.

    A call with an old name warns (``DeprecationWarning``, pointing at the caller) and passes
    the value under the new name; a call with both the old and the new name raises
    ``TypeError``. It also decorates the ``__init__`` of an :class:`equinox.Module` (the
    warning then points at the caller of the class).
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
                warn_deprecated(f"{qualname}: argument '{old}' is deprecated, use '{new}'")
                kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return deco
