"""Safe elementary functions for kinematic boundaries (double-where; private).

``jnp.where(ok, f(x), 0)`` still differentiates ``f`` at the masked points and produces NaN
gradients for sqrt/log/division; these helpers substitute a harmless argument first.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike


def safe_sqrt(x: ArrayLike) -> Array:
    """sqrt(x) for x > 0, 0 otherwise; value and gradient finite everywhere."""
    x = jnp.asarray(x)
    ok = x > 0
    return jnp.where(ok, jnp.sqrt(jnp.where(ok, x, 1.0)), 0.0)


def safe_log(x: ArrayLike) -> Array:
    """log(x) for x > 0, 0 otherwise; value and gradient finite everywhere."""
    x = jnp.asarray(x)
    ok = x > 0
    return jnp.where(ok, jnp.log(jnp.where(ok, x, 1.0)), 0.0)


def safe_div(num: ArrayLike, den: ArrayLike) -> Array:
    """num/den where den != 0, 0 otherwise; value and gradient finite everywhere."""
    den = jnp.asarray(den)
    ok = den != 0
    return jnp.where(ok, num / jnp.where(ok, den, 1.0), 0.0)


def kallen(a: ArrayLike, b: ArrayLike, c: ArrayLike) -> Array:
    """Källén function lambda(a, b, c) = a^2 + b^2 + c^2 - 2(ab + bc + ca)."""
    a, b, c = jnp.asarray(a), jnp.asarray(b), jnp.asarray(c)
    return a * a + b * b + c * c - 2.0 * (a * b + b * c + c * a)
