"""Fixed Gauss–Legendre rules on the unit interval (private).

Nodes/weights are NumPy constants computed once; fixed rules vectorise, have fixed memory and
differentiate exactly with respect to parameter-dependent bounds.
"""

from __future__ import annotations

import functools

import numpy as np


@functools.cache
def gauss_legendre_unit(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n-point Gauss–Legendre nodes and weights on [0, 1] (float64 NumPy arrays)."""
    if n < 1:
        raise ValueError(f"number of quadrature nodes n must be >= 1, got {n}")
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x + 1.0), 0.5 * w


@functools.cache
def smoothstep_unit(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n Gauss–Legendre nodes/weights on [0, 1] after the map t -> t²(3 − 2t).

    The map's derivative 6t(1 − t) vanishes linearly at both ends, so integrands with
    1/sqrt end-point singularities, and regular ones, both become smooth in t.
    """
    x, w = gauss_legendre_unit(n)
    return x * x * (3.0 - 2.0 * x), w * 6.0 * x * (1.0 - x)
