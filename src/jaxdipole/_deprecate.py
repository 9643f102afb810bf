"""Deprecated spellings of public arguments and functions (private).

:func:`renamed_arguments` keeps an old keyword working after a rename: the value is forwarded
under the new name with a ``DeprecationWarning``. :func:`former_positions` keeps a former
positional order working after arguments were reordered or made keyword-only. Put them
outermost (above :func:`jaxdipole._jit.compiled`), ``renamed_arguments`` above
``former_positions``, so that the validation and the compiled body see only the new names and
order; ``functools.wraps`` keeps ``__wrapped__`` (``inspect.signature`` and ``help`` show the
new signature) and the attributes of the wrapped function (``__wrapped_compiled__``).
:func:`warn_deprecated` emits such a warning for other former spellings (e.g. read-only
attribute aliases), pointing at the user's frame.
"""

from __future__ import annotations

import functools
import inspect
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def _skipped(frame: Any) -> bool:
    module = frame.f_globals.get("__name__", "")
    return module.partition(".")[0] == "equinox" or module == __name__


def warn_deprecated(message: str, depth: int = 1) -> None:
    """Emit ``message`` as a ``DeprecationWarning`` attributed to the frame ``depth`` levels
    above the caller (1: the caller's caller), not counting equinox's frames nor those of the
    wrappers of this module: a Module's ``__init__`` is called, and its attributes are read,
    through equinox's machinery, deprecation wrappers may be stacked, and the user's frame lies
    above those."""
    frame = sys._getframe(1 + depth)  # 0: here, 1: the caller
    level = 2 + depth  # stacklevel of that frame for a warn called here
    while frame is not None and _skipped(frame):
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


def _display_name(fn: Callable[..., Any]) -> str:
    """``module.qualname`` without the package prefix (e.g. ``phase_space.sample``)."""
    module = getattr(fn, "__module__", None) or ""
    qualname = getattr(fn, "__qualname__", getattr(fn, "__name__", repr(fn)))
    module = module.rpartition(".")[2]
    qualname = qualname.removesuffix(".__init__")
    return f"{module}.{qualname}" if module else qualname


def former_positions(
    old: Sequence[str], is_old: Callable[[tuple[Any, ...], dict[str, Any]], bool] | None = None
) -> Callable[[F], F]:
    """Decorator: accept the former positional order ``old`` (parameter names, in the former
    order) of a function whose arguments were reordered or made keyword-only.

    ``is_old(args, kwargs)`` tells a call in the former order (e.g. by the type of the first
    positional argument); by default, a call with more positional arguments than the new
    signature takes. Such a call warns (``DeprecationWarning``, pointing at the caller), its
    positional arguments are bound to the names of ``old`` and the function is called exactly
    as with the new order (positional where the new signature allows it, else by keyword).
    Passing an argument both positionally (former order) and by keyword raises ``TypeError``.
    It also decorates the ``__init__`` of an :class:`equinox.Module` (``old`` then starts with
    ``"self"``).
    """

    def deco(fn: F) -> F:
        name = _display_name(fn)
        sig = inspect.signature(fn)
        params = sig.parameters
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        positional = [p.name for p in params.values() if p.kind in kinds]
        missing = [n for n in old if n not in params]
        if missing:
            raise TypeError(f"former_positions({name}): {missing} are not parameters")

        def former(args, kwargs):
            if is_old is None:
                return len(args) > len(positional)
            return is_old(args, kwargs)

        def message(passed: Sequence[str]) -> str:
            keyword = [n for n in passed if n not in positional]
            if keyword:
                quoted = ", ".join(f"'{n}'" for n in keyword)
                hint = ", ".join(f"{n}=..." for n in keyword)
                return f"{name}: passing {quoted} positionally is deprecated; pass {hint}"
            moved = [n for i, n in enumerate(old) if n in positional and positional.index(n) != i]
            new = [n for n in positional if n in moved]
            return (
                f"{name}: the argument order ({', '.join(moved)}) is deprecated, "
                f"use ({', '.join(new)})"
            )

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if not former(args, kwargs):
                return fn(*args, **kwargs)
            if len(args) > len(old):
                raise TypeError(
                    f"{name}: takes at most {len(old)} positional arguments in the deprecated "
                    f"order ({', '.join(old)}), got {len(args)}"
                )
            passed = old[: len(args)]
            both = [n for n in passed if n in kwargs]
            if both:
                raise TypeError(f"{name}: got multiple values for {', '.join(map(repr, both))}")
            warn_deprecated(message(passed))
            bound = sig.bind(**dict(zip(passed, args, strict=True)), **kwargs)
            return fn(*bound.args, **bound.kwargs)

        return wrapper  # type: ignore[return-value]

    return deco


def moved_first(
    test: Callable[[Any], bool], old_index: int, name: str
) -> Callable[[tuple[Any, ...], dict[str, Any]], bool]:
    """``is_old`` for :func:`former_positions` when the parameter ``name``, now first, was at
    position ``old_index``: the first positional argument fails ``test`` (e.g. is not a
    ``DipoleModel``) while the one at ``old_index`` passes it, or ``name`` comes by keyword."""

    def is_old(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        if not args or test(args[0]):
            return False
        return name in kwargs or (len(args) > old_index and test(args[old_index]))

    return is_old
