"""Monte Carlo phase space and cross sections for ν(E) A(at rest) -> ν A γ with the full |M|².

Three-body phase space factorised through the invariant mass w = (k' + q)² of the ν γ pair::

    dσ = |M|² / (4 M E) · [dE_R dφ_R / (16π² E)] · [dw / 2π] · [dΩ* / 32π²]

* w: two channels, a Breit–Wigner map w = m² + mΓ tan θ (θ uniform; weight fraction
  ``bw_fraction``) for the resonant diagram and a flat map on [w_lo, w_max], combined as a
  multichannel (weight 1 / Σ_c f_c g_c(w)). w_max = (√s − M)², w_lo = ``W_FLOOR`` · w_max.
  The exact w − m² of each point is returned (``offshell``) so that widths far below the float64
  resolution of p² (the physical Γ/m ~ 1e-20) are handled exactly.
* E_R: uniform in ln E_R between the recoil limits of a neutral lepton of mass √w (exact
  kinematics of :mod:`jaxdipole.kinematics`); φ_R uniform.
* photon: isotropic in the rest frame of the ν γ pair (lab axes, pure boost).

Unit-hypercube points (5 coordinates) come from ``jax.random`` or a (randomly shifted) Halton
sequence. :func:`integrate` accumulates σ and (E_γ, cos θ_γ) histograms in memory-bounded
batches with ``jax.lax.map`` (runs unchanged on a GPU). θ_γ is measured from the beam (+z).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import NamedTuple, cast

import jax
import jax.core
import jax.numpy as jnp
import numpy as np
from jax import Array, lax
from jax.typing import ArrayLike

from ._checks import check_choice, check_positive, require_float64
from ._deprecate import former_positions, moved_first, renamed_arguments
from ._math import safe_sqrt
from .decay import decay_width
from .kinematics import log_recoil_ratio, recoil_range
from .matrix_elements import _check_options, squared_amplitude
from .model import DipoleModel
from .nuclei import Nucleus

#: Number of unit-hypercube coordinates per phase-space point (w, ln E_R, φ_R, cos θ*, φ*).
DIM = 5
#: Lower end of the flat w channel, as a fraction of w_max (the region below is negligible).
W_FLOOR = 1e-12
#: Default fraction of points in the Breit–Wigner channel (when diagram (a) is on).
BW_FRACTION = 0.9
SAMPLERS = ("random", "halton")
_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19)


class PhaseSpacePoints(NamedTuple):
    """Batch of phase-space points (a pytree; leading axis n).

    Attributes
    ----------
    k_in, P_in, k_out, P_out, q : 4-momenta [GeV], shape (n, 4), nucleus at rest, beam along +z.
    offshell : w − m_N² [GeV²], shape (n,), w = (k_out + q)² (exact for Breit–Wigner points).
    weight : dΦ₃ / (flux · point density) (dimensionless), shape (n,): σ ≈ mean(weight · |M|²).
    """

    k_in: Array
    P_in: Array
    k_out: Array
    P_out: Array
    q: Array
    offshell: Array
    weight: Array


class MCResult(NamedTuple):
    """Monte Carlo estimate: σ and its statistical error [GeV^-2], optional histograms.

    ``hist`` / ``hist_error`` [GeV^-2], shape (n_e, n_c): σ per (E_γ, cos θ_γ) bin (None when no
    bin edges were given). ``n_points``: number of points used (a multiple of the batch size).
    """

    sigma: Array
    error: Array
    hist: Array | None
    hist_error: Array | None
    n_points: int


# ------------------------------------------------------------------------------ point sets
def halton(n: int, dim: int = DIM, offset: ArrayLike = 0) -> Array:
    """Halton points, shape (n, dim) in [0, 1): radical inverses of i = offset + 1 … offset + n.

    Bases are the first ``dim`` primes (dim ≤ 8). ``offset`` may be traced (batched generation).
    """
    if not 1 <= dim <= len(_PRIMES):
        raise ValueError(f"halton: dim must be in 1..{len(_PRIMES)}, got {dim}")
    bases = jnp.broadcast_to(jnp.asarray(_PRIMES[:dim], dtype=jnp.int64), (n, dim))
    i0 = jnp.asarray(offset, dtype=jnp.int64) + jnp.arange(1, n + 1, dtype=jnp.int64)
    # all columns at once, one rolled loop over the digits (the most, 63 bits in base 2, bound
    # every column: a finished column adds exact zeros); indices are non-negative, so the
    # truncating lax.div / lax.rem are the digits (jnp's // and % add sign fix-ups)
    n_digits = int(math.ceil(63 * math.log(2) / math.log(_PRIMES[0])))

    def digit(_, carry):
        i, r, f = carry
        r = r + f * lax.rem(i, bases).astype(jnp.float64)
        return lax.div(i, bases), r, f / bases.astype(jnp.float64)

    start = (
        jnp.broadcast_to(i0[:, None], (n, dim)),
        jnp.zeros((n, dim), dtype=jnp.float64),
        1.0 / bases.astype(jnp.float64),
    )
    return lax.fori_loop(0, n_digits, digit, start)[1]


def _is_key(x) -> bool:
    x = jnp.asarray(x) if not hasattr(x, "dtype") else x
    if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
        return True
    return x.dtype == jnp.uint32 and x.shape == (2,)


# ------------------------------------------------------------------------------- the mapping
def _boost(p, m, v):
    """Boost v from the rest frame of p (mass m) to the frame where p is given."""
    v0 = (p[0] * v[0] + jnp.dot(p[1:], v[1:])) / m
    vs = v[1:] + p[1:] * (v[0] + v0) / (p[0] + m)
    return jnp.concatenate([v0[None], vs])


def _map_point(u, E, model, nucleus, width, bw_fraction):
    """One hypercube point u (shape (5,)) -> momenta, w − m² and weight."""
    m, M = model.m_N, nucleus.mass
    G = decay_width(model) if width is None else jnp.asarray(width)
    mG = m * G
    m2 = m * m
    s = M * (M + 2.0 * E)
    w_max = (2.0 * M * E / (jnp.sqrt(s) + M)) ** 2
    w_lo = W_FLOOR * w_max
    f = float(bw_fraction)

    # --- invariant mass of the ν γ pair: BW channel and flat channel
    u0 = u[0]
    if f > 0.0:
        # θ = atan((w − m²)/mΓ) uniform on [θ_lo, θ_hi]; written relative to θ_lo with the
        # tangent addition theorem, exact also when the resonance lies far outside [w_lo, w_max]
        # (below the N threshold, where θ_lo ≈ θ_hi ≈ −π/2 to float64 precision)
        mG_s = jnp.where(mG > 0, mG, 1.0)
        b = (w_lo - m2) / mG_s
        a = (w_max - m2) / mG_s
        d_theta = jnp.arctan2(a - b, 1.0 + a * b)
    if f >= 1.0:
        in_bw = jnp.asarray(True)
        v = u0
    elif f <= 0.0:
        in_bw = jnp.asarray(False)
        v = u0
    else:
        in_bw = u0 < f
        v = jnp.where(in_bw, u0 / f, (u0 - f) / (1.0 - f))
    w_flat = w_lo + v * (w_max - w_lo)
    if f > 0.0:
        t = jnp.tan(v * d_theta)
        d_bw = mG_s * (b + t) / (1.0 - b * t)
        delta = jnp.where(in_bw, d_bw, w_flat - m2)
        w = jnp.where(in_bw, m2 + d_bw, w_flat)
        # mG_s, d_theta: bound above under the same f > 0.0 (pyright cannot correlate the ifs)
        den = delta * delta + mG_s * mG_s  # pyright: ignore[reportOperatorIssue]
        g_bw = mG_s / (d_theta * den)
    else:
        delta = w_flat - m2
        w = w_flat
        g_bw = 0.0
    jac_w = 1.0 / (f * g_bw + (1.0 - f) / (w_max - w_lo))
    ok = (w > 0) & (w <= w_max) & (E > 0)
    w = jnp.where(ok, w, 0.5 * w_max)
    mw = jnp.sqrt(w)

    # --- nuclear recoil: uniform in ln E_R
    e_min, e_max = recoil_range(E, mw, M)
    L = log_recoil_ratio(E, mw, M)
    x = u[1] * L
    E_R = e_min * jnp.exp(x)
    p_R = jnp.sqrt(E_R * (E_R + 2.0 * M))
    cos_R = jnp.clip((w + 2.0 * (M + E) * E_R) / (2.0 * E * p_R), -1.0, 1.0)
    # sin²θ_R (2E p_R)² = 4 s (E_R − E_R_min)(E_R_max − E_R), free of cancellations
    K = 4.0 * s * e_min * jnp.expm1(x) * (-e_max * jnp.expm1(x - L))
    sin_R = jnp.clip(safe_sqrt(K) / (2.0 * E * p_R), 0.0, 1.0)
    phi_R = 2.0 * jnp.pi * u[2]
    zero = jnp.zeros_like(E_R)
    l = jnp.stack([E_R, p_R * sin_R * jnp.cos(phi_R), p_R * sin_R * jnp.sin(phi_R), p_R * cos_R])
    k_in = jnp.stack([E, zero, zero, E])
    P_in = jnp.stack([M, zero, zero, zero])
    P_out = P_in + l
    p = k_in - l

    # --- ν γ pair decay, isotropic in its rest frame
    c = 2.0 * u[3] - 1.0
    sn = safe_sqrt((1.0 - c) * (1.0 + c))
    phi = 2.0 * jnp.pi * u[4]
    h = 0.5 * mw
    q_rest = h * jnp.stack([jnp.ones_like(c), sn * jnp.cos(phi), sn * jnp.sin(phi), c])
    q = _boost(p, mw, q_rest)
    k_out = p - q

    weight = (E_R * L / (16.0 * jnp.pi**2 * E)) * 2.0 * jnp.pi  # dE_R dφ_R part
    weight = weight * jac_w / (2.0 * jnp.pi) / (8.0 * jnp.pi)  # dw/2π and ∫dΩ*/32π² = 1/8π
    weight = weight / (4.0 * M * E)  # flux
    weight = jnp.where(ok & (L > 0), weight, 0.0)
    return PhaseSpacePoints(k_in, P_in, k_out, P_out, q, delta, weight)


def _is_model(x) -> bool:
    return isinstance(x, DipoleModel)


@former_positions(("u", "E_nu", "model", "nucleus"), moved_first(_is_model, 2, "model"))
def map_points(
    model: DipoleModel,
    nucleus: Nucleus,
    E_nu: ArrayLike,
    u: ArrayLike,
    *,
    width: ArrayLike | None = None,
    bw_fraction: float = BW_FRACTION,
) -> PhaseSpacePoints:
    """Map unit-hypercube points u (shape (n, 5)) to phase-space points and weights.

    The former order ``map_points(u, E_nu, model, nucleus)`` is deprecated (it still works and
    warns).

    Parameters
    ----------
    model, nucleus : DipoleModel (m_N and the width for the Breit–Wigner map), Nucleus (mass).
    E_nu : neutrino energy [GeV] (beam along +z, nucleus at rest).
    u : points in [0, 1)^5: (w channel/map, ln E_R, φ_R, cos θ*, φ*).
    width : Breit–Wigner width [GeV] (default ``decay_width(model)``).
    bw_fraction : fraction of points in the Breit–Wigner channel (static float in [0, 1]).
    """
    if not 0.0 <= float(bw_fraction) <= 1.0:
        raise ValueError(f"bw_fraction must be in [0, 1], got {bw_fraction}")
    return _map_batch(jnp.asarray(u), E_nu, model, nucleus, width, float(bw_fraction))


@partial(jax.jit, static_argnames=("bw_fraction",))
def _map_batch(u, E_nu, model, nucleus, width, bw_fraction):
    E = jnp.asarray(E_nu, dtype=jnp.float64)
    return jax.vmap(lambda x: _map_point(x, E, model, nucleus, width, bw_fraction))(u)


@former_positions(
    ("key_or_points", "E_nu", "model", "nucleus", "n"), moved_first(_is_model, 2, "model")
)
def sample(
    model: DipoleModel,
    nucleus: Nucleus,
    E_nu: ArrayLike,
    key_or_points: ArrayLike,
    n: int | None = None,
    *,
    width: ArrayLike | None = None,
    bw_fraction: float = BW_FRACTION,
) -> PhaseSpacePoints:
    """Phase-space points for ν(E_nu) A -> ν A γ from a PRNG key (n uniform points) or from
    given unit-hypercube points (shape (n, 5), e.g. :func:`halton`).

    σ = mean(weight · |M|²) with |M|² from :func:`jaxdipole.matrix_elements.squared_amplitude`
    (pass ``offshell_a=points.offshell``). See :func:`map_points` for the parameters. The
    former order ``sample(key_or_points, E_nu, model, nucleus, n)`` is deprecated (it still
    works and warns).
    """
    if _is_key(key_or_points):
        if n is None:
            raise ValueError("sample: n (number of points) is required with a PRNG key")
        u = jax.random.uniform(key_or_points, (int(n), DIM), dtype=jnp.float64)
    else:
        u = jnp.asarray(key_or_points)
        if u.ndim != 2 or u.shape[1] != DIM:
            raise ValueError(f"sample: points must have shape (n, {DIM}), got {u.shape}")
    return map_points(model, nucleus, E_nu, u, width=width, bw_fraction=bw_fraction)


# -------------------------------------------------------------------------------- integration
def photon_observables(points: PhaseSpacePoints) -> tuple[Array, Array]:
    """(E_γ [GeV], cos θ_γ) in the lab, θ_γ measured from the beam (+z)."""
    q = points.q
    qn = jnp.sqrt(jnp.sum(q[..., 1:] ** 2, axis=-1))
    return q[..., 0], q[..., 3] / jnp.where(qn > 0, qn, 1.0)


def _bin_index(x, edges):
    """Bin index of x for increasing edges; -1 outside."""
    i = jnp.searchsorted(edges, x, side="right") - 1
    inside = (x >= edges[0]) & (x < edges[-1])
    return jnp.where(inside, i, -1)


def mean_and_variance(s1: Array, s2: Array, n: int) -> tuple[Array, Array]:
    """Monte Carlo mean of n weights and the variance of that mean, from Σw and Σw²."""
    mean = s1 / n
    return mean, jnp.maximum(s2 / n - mean * mean, 0.0) / max(n - 1, 1)


@partial(
    jax.jit,
    static_argnames=(
        "n_batches", "batch_size", "sampler", "bw_fraction", "flavour", "flavour_out",
        "final_state", "antineutrino", "diagram_a", "diagram_b", "form_factor",
    ),
)  # fmt: skip
def _integrate(
    model, nucleus, E_nu, key, e_edges, cos_edges, width, *, n_batches, batch_size, sampler,
    bw_fraction, flavour, flavour_out, final_state, antineutrino, diagram_a, diagram_b,
    form_factor,
):  # fmt: skip
    E = jnp.asarray(E_nu, dtype=jnp.float64)
    with_hist = e_edges is not None
    if sampler == "halton":
        shift = jax.random.uniform(key, (DIM,), dtype=jnp.float64)
    me = partial(
        squared_amplitude, model, nucleus, flavour=flavour, flavour_out=flavour_out,
        final_state=final_state, antineutrino=antineutrino, diagram_a=diagram_a,
        diagram_b=diagram_b, form_factor=form_factor, width=width,
    )  # fmt: skip

    def one_batch(b):
        if sampler == "halton":
            u = jnp.mod(halton(batch_size, DIM, offset=b * batch_size) + shift, 1.0)
        else:
            u = jax.random.uniform(jax.random.fold_in(key, b), (batch_size, DIM), jnp.float64)
        pts = _map_batch(u, E, model, nucleus, width, bw_fraction)
        msq = jax.vmap(
            lambda k, P, kp, Pp, q, d: me(k, P, kp, Pp, q, offshell_a=d if diagram_a else None)
        )(pts.k_in, pts.P_in, pts.k_out, pts.P_out, pts.q, pts.offshell)
        val = jnp.where(pts.weight > 0, pts.weight * msq, 0.0)
        out = {"s1": jnp.sum(val), "s2": jnp.sum(val * val)}
        if with_hist:
            n_e, n_c = e_edges.shape[0] - 1, cos_edges.shape[0] - 1
            Eg, cg = photon_observables(pts)
            ie, ic = _bin_index(Eg, e_edges), _bin_index(cg, cos_edges)
            idx = jnp.where((ie >= 0) & (ic >= 0), ie * n_c + ic, n_e * n_c)
            h1 = jax.ops.segment_sum(val, idx, num_segments=n_e * n_c + 1)[:-1]
            h2 = jax.ops.segment_sum(val * val, idx, num_segments=n_e * n_c + 1)[:-1]
            out["h1"], out["h2"] = h1.reshape(n_e, n_c), h2.reshape(n_e, n_c)
        return out

    parts = jax.lax.map(one_batch, jnp.arange(n_batches))
    tot = jax.tree_util.tree_map(lambda x: jnp.sum(x, axis=0), parts)
    N = n_batches * batch_size

    def mean_err(s1, s2):
        mean, var = mean_and_variance(s1, s2, N)
        return mean, jnp.sqrt(var)

    sigma, err = mean_err(tot["s1"], tot["s2"])
    if with_hist:
        h, herr = mean_err(tot["h1"], tot["h2"])
    else:
        h = herr = None
    return sigma, err, h, herr


@renamed_arguments(flavour_in="flavour")
def integrate(
    model: DipoleModel,
    nucleus: Nucleus,
    E_nu: ArrayLike,
    n_points: int = 2**16,
    batch_size: int = 2**14,
    *,
    key: ArrayLike | None = None,
    sampler: str = "random",
    e_edges: ArrayLike | None = None,
    cos_edges: ArrayLike | Sequence[float] | None = None,
    flavour: int = 0,
    flavour_out: int | str = "all",
    final_state: str = "all",
    antineutrino: bool = False,
    diagram_a: bool = True,
    diagram_b: bool = True,
    form_factor: bool | str = True,
    width: ArrayLike | None = None,
    bw_fraction: float | None = None,
) -> MCResult:
    """Monte Carlo σ(ν_α A -> ν_β A γ) [GeV^-2] with the full 2 -> 3 |M|², and histograms.

    Parameters
    ----------
    model, nucleus : DipoleModel, Nucleus.
    E_nu : neutrino energy [GeV].
    n_points : number of points (rounded up to a multiple of ``batch_size``; static).
    batch_size : points per ``lax.map`` step (bounds memory; static).
    key : PRNG key (default ``jax.random.key(0)``): the points (``sampler="random"``) or the
        random shift of the Halton sequence (``sampler="halton"``).
    sampler : "random" (pseudo-random) or "halton" (randomly shifted quasi-random; the quoted
        error, computed as for independent points, is then conservative).
    e_edges, cos_edges : E_γ [GeV] and cos θ_γ bin edges (increasing) for the histogram;
        ``cos_edges`` defaults to (−1, 1).
    flavour, flavour_out, final_state, antineutrino, diagram_a, diagram_b, form_factor,
    width : as :func:`jaxdipole.matrix_elements.squared_amplitude`.
    bw_fraction : fraction of points in the Breit–Wigner channel (default 0.9 with diagram (a),
        0 without).

    Returns
    -------
    MCResult(sigma, error, hist, hist_error, n_points); σ in GeV^-2. Needs float64 (the
    |M|² traces and the importance weights are written for it): ValueError in float32.
    """
    require_float64("phase_space.integrate (the full 2 -> 3 Monte Carlo)")
    _check_options(flavour, flavour_out, final_state)
    check_choice("sampler", sampler, SAMPLERS)
    check_positive("E_nu", E_nu, "GeV")
    if int(batch_size) < 1 or int(n_points) < 1:
        raise ValueError("n_points and batch_size must be positive integers")
    if bw_fraction is None:
        bw_fraction = BW_FRACTION if diagram_a else 0.0
    if not 0.0 <= float(bw_fraction) <= 1.0:
        raise ValueError(f"bw_fraction must be in [0, 1], got {bw_fraction}")
    n_batches = -(-int(n_points) // int(batch_size))
    key = jax.random.key(0) if key is None else key
    if e_edges is not None:
        e_edges = jnp.asarray(e_edges, dtype=jnp.float64)
        cos_edges = jnp.asarray((-1.0, 1.0) if cos_edges is None else cos_edges, jnp.float64)
        for name, ed in (("e_edges", e_edges), ("cos_edges", cos_edges)):
            v = np.asarray(ed) if not isinstance(ed, jax.core.Tracer) else None
            if ed.ndim != 1 or ed.shape[0] < 2 or (v is not None and np.any(np.diff(v) <= 0)):
                raise ValueError(f"{name} must be a 1-D increasing array of >= 2 edges")
    sigma, err, h, herr = _integrate(
        model, nucleus, E_nu, key, e_edges, cos_edges, width,
        n_batches=n_batches, batch_size=int(batch_size), sampler=sampler,
        bw_fraction=float(bw_fraction), flavour=flavour, flavour_out=flavour_out,
        final_state=final_state, antineutrino=antineutrino, diagram_a=diagram_a,
        diagram_b=diagram_b, form_factor=form_factor,
    )  # fmt: skip
    return MCResult(sigma, err, h, herr, n_batches * int(batch_size))


@renamed_arguments(flavour_in="flavour")
def cross_section(
    model: DipoleModel,
    nucleus: Nucleus,
    E_nu: ArrayLike,
    n_points: int = 2**16,
    batch_size: int = 2**14,
    **kwargs,
) -> tuple[Array, Array]:
    """(σ, statistical error) [GeV^-2] of ν A -> ν A γ; keywords as :func:`integrate`."""
    r = integrate(model, nucleus, E_nu, n_points, batch_size, **kwargs)
    return r.sigma, r.error


@renamed_arguments(flavour_in="flavour")
def photon_histogram(
    model: DipoleModel,
    nucleus: Nucleus,
    E_nu: ArrayLike,
    e_edges: ArrayLike,
    cos_edges: ArrayLike | Sequence[float] = (-1.0, 1.0),
    n_points: int = 2**16,
    batch_size: int = 2**14,
    **kwargs,
) -> tuple[Array, Array]:
    """σ per (E_γ, cos θ_γ) bin and its statistical error [GeV^-2], shape (n_e, n_c).

    θ_γ is the lab photon angle to the beam; keywords as :func:`integrate`.
    """
    r = integrate(
        model, nucleus, E_nu, n_points, batch_size, e_edges=e_edges, cos_edges=cos_edges, **kwargs
    )
    # with e_edges given the histograms are never None
    return cast(Array, r.hist), cast(Array, r.hist_error)
