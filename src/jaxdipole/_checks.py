"""Input validation for concrete (non-traced) values (private).

Inside ``jit``/``vmap``/``grad`` the values are tracers and cannot be inspected; there the
physics functions return exact zeros outside their domain instead. Outside tracing, bad input
raises a ``ValueError`` that names the argument and the accepted range.
"""

from __future__ import annotations

import jax
import jax.core
import numpy as np


def is_traced(tree) -> bool:
    """Whether any leaf of the pytree ``tree`` is a JAX tracer (inside jit/vmap/grad/...)."""
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(tree))


def concrete(x) -> np.ndarray | None:
    """``x`` as a NumPy array if it is concrete, ``None`` if it is a JAX tracer."""
    if is_traced(x):
        return None
    return np.asarray(x, dtype=float)


def check_finite(name: str, x) -> None:
    """Raise ValueError if concrete ``x`` holds NaN or inf."""
    v = concrete(x)
    if v is not None and not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be finite, got {x!r}")


def check_positive(name: str, x, unit: str = "") -> None:
    """Raise ValueError unless concrete ``x`` is finite and > 0."""
    v = concrete(x)
    if v is not None and not (np.all(np.isfinite(v)) and np.all(v > 0)):
        raise ValueError(f"{name} must be finite and > 0{' ' + unit if unit else ''}, got {x!r}")


def check_nonnegative(name: str, x, unit: str = "") -> None:
    """Raise ValueError unless concrete ``x`` is finite and >= 0."""
    v = concrete(x)
    if v is not None and not (np.all(np.isfinite(v)) and np.all(v >= 0)):
        raise ValueError(f"{name} must be finite and >= 0{' ' + unit if unit else ''}, got {x!r}")


def check_interval(name: str, x, lo: float, hi: float, unit: str = "") -> None:
    """Raise ValueError unless concrete ``x`` is finite and in [lo, hi]."""
    v = concrete(x)
    if v is not None and not (np.all(np.isfinite(v)) and np.all((v >= lo) & (v <= hi))):
        raise ValueError(
            f"{name} must be finite and in [{lo:g}, {hi:g}]{' ' + unit if unit else ''}, got {x!r}"
        )


def check_choice(name: str, value, choices) -> None:
    """Raise ValueError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")


def require_float64(what: str) -> None:
    """Raise ValueError naming the dtype unless JAX computes in float64 (``jax_enable_x64``).

    Event rates multiply cross sections of ~1e-45 cm² (~1e-17 GeV⁻²) by ~1e25 nuclei, exposures
    of ~1e30 GeV⁻¹ and fluxes whose totals overflow float32 in natural units, so the folds
    would return NaN or 0 in float32; the cross sections, decay widths and kinematics work in
    either precision.
    """
    if not jax.config.read("jax_enable_x64"):
        raise ValueError(
            f"{what} needs float64, but JAX computes in float32 (jax_enable_x64 is off, e.g. "
            "JAXDIPOLE_X64=0 before importing jaxdipole): event rates under- and overflow in "
            "float32. Unset JAXDIPOLE_X64 or call jax.config.update('jax_enable_x64', True) "
            "before creating arrays; the cross sections and decay widths also work in float32."
        )
