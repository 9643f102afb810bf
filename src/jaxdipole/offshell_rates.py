"""Radiative-mode events at an experiment from the full 2 -> 3 matrix element (Monte Carlo).

Expected events of ν A -> ν A γ with the recoil in the experiment's recoil window and the
photon in its photon window, from |M|² of :mod:`jaxdipole.matrix_elements` (both diagrams, N
propagator with its width) and the phase space of :mod:`jaxdipole.phase_space`::

    N = T Σ_c Σ_i N_i ∫ dE dΦ_c/dE ∫ dΦ₃ |M|²/(4 M_i E) ε(E_R) [γ in window] ε_γ

It holds also where N cannot be produced on shell -- m_N above the flux end point, or above the
mass for which an on-shell N still gives a recoil above threshold -- where the narrow-width
chain (:func:`jaxdipole.radiative_events`) is 0 and only the off-shell N contributes (∝ μ⁴).
In the on-shell regime it reproduces the narrow-width chain with prompt decays (the off-shell
remainder is of relative size Γ/m).

Every N decay is counted at the interaction point: there is no decay-length factor. This is
exact for an off-shell N (no propagating particle) and for a prompt experiment; for an
on-shell, long-lived N in a finite detector use :func:`jaxdipole.radiative_events`, which folds
the decay probability over the decay region. :func:`radiative_events_mc` therefore raises
ValueError for an experiment with a finite ``decay_length`` (``exp.prompt`` False); pass
``exp.with_(decay_length=None)`` to request the prompt rate explicitly. The 2 -> 3 amplitude
has the decays N -> ν_β γ only: a sterile channel N -> N' γ (``mu_prime``) enters the width but
gives no events here.

Monte Carlo dimensions per point (7): the 5 phase-space coordinates of
:func:`jaxdipole.phase_space.map_points`, the neutrino energy and the target species.

* E_ν: two channels combined as a multichannel (weight dΦ/dE / Σ_c a_c p_c(E)). The resonant
  channel covers [E_th, E_max], E_th the smallest energy at which an on-shell N gives a recoil
  in the window (:func:`jaxdipole.rates.min_energy_for_window`); the full channel covers
  [E_low, E_max], E_low = max(E_γ,min + E_R,lo, E_min(E_R,lo; massless final state)), below
  which no recoil above threshold with a photon in the window is possible. In each channel
  E = lo + (E_max − lo) t², t drawn from a piecewise-constant density on ``n_energies`` cells,
  initially ∝ the flux (mixed with 10 % uniform); the resonant channel starts with
  ``RESONANT_FRACTION`` of the points and gets none where its range is empty (off-shell
  regime). A monochromatic component uses its line energy.
* species: drawn with probability ∝ N_i Z_i² (mixed with 10 % uniform), weight N_i / p_i.
* adaptation (``adapt=True``): a pilot run of a quarter of the points (at least one batch;
  not used in the estimate) measures the integrand per species, per cell of the full channel
  and above E_th; 70 % of the species probabilities, full-channel cell probabilities and
  resonant share then follow it (30 % keep the initial densities, so every region stays
  sampled). The off-shell integrand rises steeply with E_ν (σ ∝ E_ν^~6 at m_N = 12 MeV),
  which flux-proportional sampling resolves poorly: the pilot cuts the error by ~3 there.

Sampling E_ν rather than folding each component on its Gauss–Legendre nodes spends every point
on an energy that contributes whatever the flux quadrature (a TabulatedFlux can have thousands
of fold nodes; the reactor fold puts half its nodes below 1.8 MeV) and keeps the per-point
error estimate of :func:`jaxdipole.phase_space.integrate`. Flux components need ``dphi_dE``
and ``support()`` (a continuum) or a single line (``lines()``), as every
:class:`~jaxdipole.flux.Flux` of the package provides.

Points come in ``lax.map`` batches (bounded memory; each batch is rematerialised under
reverse-mode differentiation). The result is differentiable w.r.t. the couplings (the
derivative of the estimate at fixed points, unbiased); cuts are hard, so derivatives w.r.t.
m_N or window edges miss the boundary terms and are not supported. Compiled once per static
configuration (sampler, sizes, flux structure, flags); model and experiment values are traced.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from ._checks import check_choice, concrete
from .experiment import Experiment
from .flux import Flux
from .kinematics import min_neutrino_energy
from .matrix_elements import _check_options, squared_amplitude
from .model import DipoleModel
from .nuclei import SpeciesStack
from .phase_space import (
    BW_FRACTION,
    DIM,
    SAMPLERS,
    _map_point,
    halton,
    mean_and_variance,
    photon_observables,
)
from .rates import min_energy_for_window, recoil_efficiency, recoil_window_lower

__all__ = ["RadiativeMCResult", "radiative_events_mc", "MC_DIM", "RESONANT_FRACTION"]

#: Monte Carlo coordinates per point: 5 phase-space ones, E_ν, the target species.
MC_DIM = DIM + 2
#: Fraction of the E_ν points above the on-shell production threshold (with diagram (a)).
RESONANT_FRACTION = 0.9
#: Default number of cells of the piecewise-constant E_ν densities.
N_ENERGY_CELLS = 64
#: Share of the uniform density mixed into the E_ν cells and the species selection.
_UNIFORM_MIX = 0.1
#: Share of the pilot-adapted density in the E_ν cells and the species selection.
_ADAPT_SHARE = 0.7


class RadiativeMCResult(NamedTuple):
    """Monte Carlo estimate of radiative events (dimensionless) with statistical errors.

    Attributes
    ----------
    events, error : expected events in the recoil and photon windows and the error of the
        estimate (one standard deviation, computed as for independent points).
    hist, hist_error : events per (E_γ, cos θ_γ) bin and errors, shape (n_e, n_c) (windows
        applied: bins outside the photon window are 0), or None without bin edges.
    n_points : points used per flux component (a multiple of the batch size).
    """

    events: Array
    error: Array
    hist: Array | None
    hist_error: Array | None
    n_points: int


# ------------------------------------------------------------------------------ E_ν sampling
def _support(comp: Flux) -> tuple[Array, Array] | None:
    """(lowest, highest) energy [GeV] of a continuous component; None for a single line."""
    n_lines = comp.lines()[0].shape[0]
    if not comp.has_continuum() and n_lines == 1:
        return None
    if comp.has_continuum() and n_lines == 0:
        return comp.support()
    raise ValueError(
        f"radiative_events_mc: flux component {type(comp).__name__} has a continuum and lines, "
        "or several lines: give them as separate components (a FluxSum)"
    )


def _cells(comp: Flux, lo: Array, hi: Array, n_cells: int) -> tuple[Array, Array, Array]:
    """E = lo + span t², t on n_cells cells with probabilities q ∝ dΦ/dt (+ uniform share)."""
    span = jnp.maximum(hi - lo, 0.0)
    t = (jnp.arange(n_cells) + 0.5) / n_cells
    g = comp.dphi_dE(lo + span * t * t) * (2.0 * span * t)
    tot = jnp.sum(g)
    q = jnp.where(tot > 0, g / jnp.where(tot > 0, tot, 1.0), 1.0 / n_cells)
    return lo, span, (1.0 - _UNIFORM_MIX) * q + _UNIFORM_MIX / n_cells


def _draw(v: Array, span: Array, q: Array, lo: Array) -> Array:
    """Inverse CDF of the cell density: v in [0, 1) -> E [GeV]."""
    n = q.shape[-1]
    Q = jnp.concatenate([jnp.zeros(1), jnp.cumsum(q)])
    j = jnp.clip(jnp.searchsorted(Q, v, side="right") - 1, 0, n - 1)
    t = (j + jnp.clip((v - Q[j]) / q[j], 0.0, 1.0)) / n
    return lo + span * t * t


def _density(E: Array, lo: Array, span: Array, q: Array) -> Array:
    """Probability density [GeV^-1] of the cell map at E (0 outside the channel's range)."""
    n = q.shape[-1]
    ok = span > 0
    x = jnp.where(ok, (E - lo) / jnp.where(ok, span, 1.0), -1.0)
    inside = (x > 0) & (x <= 1.0)
    t = jnp.sqrt(jnp.where(inside, x, 1.0))
    j = jnp.clip(jnp.floor(t * n).astype(jnp.int32), 0, n - 1)
    return jnp.where(inside, q[j] * n / (2.0 * jnp.where(ok, span, 1.0) * t), 0.0)


def _lowest_energy(exp, nuc):
    """E_low [GeV]: below it no recoil >= E_R,lo with a photon >= E_γ,min (any final mass)."""
    A = recoil_window_lower(exp)
    return jnp.maximum(exp.photon_energy_min + A, min_neutrino_energy(A, 0.0, nuc.mass))


def _energy_tables(model, exp, comp, nuc, n_cells, resonant):
    """Per-species E_ν channel tables (resonant on [E_th, E_max], full on [E_low, E_max])."""
    support = _support(comp)
    assert support is not None  # lines are handled without tables
    lo_s, hi = support
    e_low = jnp.maximum(_lowest_energy(exp, nuc), lo_s)
    full = _cells(comp, e_low, hi, n_cells)
    A = recoil_window_lower(exp)
    e_th = jnp.maximum(min_energy_for_window(model.m_N, nuc.mass, A, exp.recoil_max), e_low)
    e_th = jnp.where(jnp.isfinite(e_th), e_th, hi)
    res = _cells(comp, e_th, hi, n_cells)
    frac = jnp.where(res[1] > 0, resonant, 0.0)
    return full, res, frac


def _sample_energy(comp, v, full, res, frac):
    """E_ν [GeV] and weight dΦ/dE / p(E) [GeV^3] from one uniform v (channel and position)."""
    in_res = v < frac
    f_s = jnp.where(frac > 0, frac, 1.0)
    w_s = jnp.where(frac < 1, 1.0 - frac, 1.0)
    x = jnp.clip(jnp.where(in_res, v / f_s, (v - frac) / w_s), 0.0, 1.0 - 1e-16)
    lo, span, q = (jnp.where(in_res, r, f) for r, f in zip(res, full, strict=True))
    E = _draw(x, span, q, lo)
    p = frac * _density(E, *res) + (1.0 - frac) * _density(E, *full)
    w = comp.dphi_dE(E) / jnp.where(p > 0, p, 1.0)
    return E, jnp.where(p > 0, w, 0.0)


# ------------------------------------------------------------------------------- the estimate
def _bin_index(x, edges):
    """Bin index of x for increasing edges; −1 outside."""
    i = jnp.searchsorted(edges, x, side="right") - 1
    return jnp.where((x >= edges[0]) & (x < edges[-1]), i, -1)


def _component_sums(
    model, exp, comp, key, e_edges, cos_edges, width, *, n_batches, batch_size, sampler,
    n_cells, adapt, bw_fraction, flavour_out, final_state, diagram_a, diagram_b, form_factor,
):  # fmt: skip
    """Σ val and Σ val² (and per bin) over the points of one flux component."""
    nuclei = exp.target.nuclei
    stacked = SpeciesStack.of(nuclei)
    counts = exp.nuclei_counts
    n_sp = len(nuclei)
    prox = counts * stacked.charge**2
    p_sp = (1.0 - _UNIFORM_MIX) * prox / jnp.sum(prox) + _UNIFORM_MIX / n_sp
    line = _support(comp) is None
    tables = None
    if not line:
        resonant = RESONANT_FRACTION if diagram_a else 0.0
        tables = jax.vmap(lambda nuc: _energy_tables(model, exp, comp, nuc, n_cells, resonant))(
            stacked
        )
    with_hist = e_edges is not None
    # Halton shifts of the estimate and of the pilot: independent, so that the adapted
    # densities do not depend on the estimate's points (no bias)
    shifts = jax.random.uniform(key, (2, MC_DIM), dtype=jnp.float64)
    me = partial(
        squared_amplitude, model, flavour=comp.flavour, flavour_out=flavour_out,
        final_state=final_state, antineutrino=comp.antineutrino, diagram_a=diagram_a,
        diagram_b=diagram_b, form_factor=form_factor, width=width,
    )  # fmt: skip

    def point(u, tables, p_sp):
        P_sp = jnp.concatenate([jnp.zeros(1), jnp.cumsum(p_sp)])
        s = jnp.clip(jnp.searchsorted(P_sp, u[DIM + 1], side="right") - 1, 0, n_sp - 1)
        nuc = jax.tree.map(lambda x: x[s], stacked)
        if line:
            E, f_line = (v[0] for v in comp.lines())
            w_E = jnp.where(E > _lowest_energy(exp, nuc), f_line, 0.0)
            cell, above = jnp.zeros((), jnp.int32), jnp.asarray(False)
        else:
            full, res, frac = jax.tree.map(lambda x: x[s], tables)
            E, w_E = _sample_energy(comp, u[DIM], full, res, frac)
            cell, above = _cell_index(E, full[0], full[1], n_cells), E >= res[0]
        pts = _map_point(u[:DIM], E, model, nuc, width, bw_fraction)
        msq = me(
            nuc, pts.k_in, pts.P_in, pts.k_out, pts.P_out, pts.q,
            offshell_a=pts.offshell if diagram_a else None,
        )  # fmt: skip
        # recoil energy from the 3-momentum (no cancellation in P'⁰ − M)
        p2 = jnp.sum(pts.P_out[1:] ** 2)
        E_R = p2 / (pts.P_out[0] + nuc.mass)
        Eg, cg = photon_observables(pts)
        in_window = (
            (Eg >= exp.photon_energy_min)
            & (Eg <= exp.photon_energy_max)
            & (cg >= exp.photon_cos_min)
            & (cg <= exp.photon_cos_max)
        )
        eff = recoil_efficiency(exp, E_R) * jnp.where(in_window, exp.photon_efficiency, 0.0)
        val = (counts[s] / p_sp[s]) * w_E * pts.weight * msq * eff
        val = jnp.where((pts.weight > 0) & (eff > 0) & (w_E > 0), val, 0.0)
        return val, Eg, cg, s * n_cells + cell, jnp.where(above, s, n_sp)

    def points(b, pilot):
        if sampler == "halton":
            h = halton(batch_size, MC_DIM, offset=b * batch_size)
            return jnp.mod(h + shifts[int(pilot)], 1.0)
        k = jax.random.fold_in(jax.random.fold_in(key, int(pilot) + 1), b)
        return jax.random.uniform(k, (batch_size, MC_DIM), dtype=jnp.float64)

    if adapt:  # pilot: the integrand per (species, E cell) -> sampling densities
        n_pilot = max(1, n_batches // 4)

        def pilot_batch(b):
            val, _, _, idx, idx_res = jax.vmap(point, in_axes=(0, None, None))(
                points(b, True), tables, p_sp
            )
            return (
                jax.ops.segment_sum(val, idx, num_segments=n_sp * n_cells),
                jax.ops.segment_sum(val, idx_res, num_segments=n_sp + 1)[:-1],
            )

        mass, above = jax.lax.stop_gradient(
            jax.tree.map(
                lambda x: jnp.sum(x, axis=0), jax.lax.map(pilot_batch, jnp.arange(n_pilot))
            )
        )
        tables, p_sp = _adapt(mass.reshape(n_sp, n_cells), above, tables, p_sp, line)

    def one_batch(b):
        val, Eg, cg, _, _ = jax.vmap(point, in_axes=(0, None, None))(points(b, False), tables, p_sp)
        val = exp.exposure * val
        out = {"s1": jnp.sum(val), "s2": jnp.sum(val * val)}
        if with_hist:
            n_e, n_c = e_edges.shape[0] - 1, cos_edges.shape[0] - 1
            ie, ic = _bin_index(Eg, e_edges), _bin_index(cg, cos_edges)
            idx = jnp.where((ie >= 0) & (ic >= 0), ie * n_c + ic, n_e * n_c)
            h1 = jax.ops.segment_sum(val, idx, num_segments=n_e * n_c + 1)[:-1]
            h2 = jax.ops.segment_sum(val * val, idx, num_segments=n_e * n_c + 1)[:-1]
            out["h1"], out["h2"] = h1.reshape(n_e, n_c), h2.reshape(n_e, n_c)
        return out

    parts = jax.lax.map(jax.checkpoint(one_batch), jnp.arange(n_batches))
    return jax.tree.map(lambda x: jnp.sum(x, axis=0), parts)


def _cell_index(E, lo, span, n_cells):
    """Cell of E in the t-grid E = lo + span t² (clipped into 0 .. n_cells − 1)."""
    ok = span > 0
    x = jnp.clip(jnp.where(ok, (E - lo) / jnp.where(ok, span, 1.0), 0.0), 0.0, 1.0)
    return jnp.clip(jnp.floor(jnp.sqrt(x) * n_cells).astype(jnp.int32), 0, n_cells - 1)


def _adapt(mass, above, tables, p_sp, line):
    """New species probabilities, E cells of the full channel and share of the resonant
    channel from the pilot's integrand per (species, cell) ``mass`` and per species above the
    on-shell threshold ``above``, mixed with the initial ones (which keep every cell open)."""
    per_sp = jnp.sum(mass, axis=1)
    tot = jnp.sum(per_sp)
    p_new = jnp.where(
        tot > 0,
        _ADAPT_SHARE * per_sp / jnp.where(tot > 0, tot, 1.0) + (1 - _ADAPT_SHARE) * p_sp,
        p_sp,
    )
    if line:
        return tables, p_new
    (lo, span, q), res, frac = tables
    rows = per_sp[:, None]
    q_new = jnp.where(
        rows > 0, _ADAPT_SHARE * mass / jnp.where(rows > 0, rows, 1.0) + (1 - _ADAPT_SHARE) * q, q
    )
    share = jnp.clip(above / jnp.where(per_sp > 0, per_sp, 1.0), 0.0, 1.0)
    frac_new = jnp.where(
        (per_sp > 0) & (frac > 0), _ADAPT_SHARE * share + (1 - _ADAPT_SHARE) * frac, frac
    )
    return ((lo, span, q_new), res, frac_new), p_new


@partial(
    jax.jit,
    static_argnames=(
        "n_batches", "batch_size", "sampler", "n_cells", "adapt", "bw_fraction", "flavour_out",
        "final_state", "diagram_a", "diagram_b", "form_factor",
    ),
)  # fmt: skip
def _radiative_mc(model, exp, key, e_edges, cos_edges, width, **static):
    N = static["n_batches"] * static["batch_size"]
    events = var = h = hvar = 0.0

    for c, comp in enumerate(exp.flux.components()):
        tot = _component_sums(
            model, exp, comp, jax.random.fold_in(key, c), e_edges, cos_edges, width, **static
        )
        m, v = mean_and_variance(tot["s1"], tot["s2"], N)
        events, var = events + m, var + v
        if e_edges is not None:
            m, v = mean_and_variance(tot["h1"], tot["h2"], N)
            h, hvar = h + m, hvar + v
    if e_edges is None:
        return events, jnp.sqrt(var), None, None
    return events, jnp.sqrt(var), h, jnp.sqrt(hvar)


def radiative_events_mc(
    model: DipoleModel,
    exp: Experiment,
    *,
    n_points: int = 2**15,
    batch_size: int = 2**13,
    key: ArrayLike | None = None,
    sampler: str = "halton",
    e_edges: ArrayLike | None = None,
    cos_edges: ArrayLike | None = None,
    n_energies: int = N_ENERGY_CELLS,
    adapt: bool = True,
    flavour_out: int | str = "all",
    final_state: str = "all",
    diagram_a: bool = True,
    diagram_b: bool = True,
    form_factor: bool | str = True,
    width: ArrayLike | None = None,
    bw_fraction: float | None = None,
) -> RadiativeMCResult:
    """Expected radiative events (recoil + photon) from the full 2 -> 3 |M|², by Monte Carlo.

    Valid on and off the N mass shell (see the module docstring); every N decay is prompt.

    Parameters
    ----------
    model : DipoleModel
        m_N [GeV], μ [GeV^-1] (μ of each flux component's flavour enters as the incoming
        coupling, Σ_β μ_β² as the outgoing one for ``flavour_out="all"``), Dirac/Majorana.
    exp : Experiment
        Prompt (``decay_length=None``) experiment: target species and counts, exposure
        [GeV^-1], flux components (flavour, ν/ν̄), recoil window, resolution and efficiency
        (applied per event at the true recoil energy, :func:`jaxdipole.rates.recoil_efficiency`),
        photon window (E_γ [GeV], cos θ_γ to the beam) and ``photon_efficiency``.
    n_points : points per flux component (rounded up to a multiple of ``batch_size``; static).
    batch_size : points per ``lax.map`` step (bounds memory; static).
    key : PRNG key (default ``jax.random.key(0)``): the points (``sampler="random"``) or the
        random shift of the Halton sequence (``"halton"``, whose quoted error, computed as for
        independent points, is then conservative).
    sampler : "halton" (default) or "random".
    e_edges, cos_edges : increasing E_γ [GeV] and cos θ_γ bin edges for a histogram of the
        events (``cos_edges`` default (photon_cos_min, photon_cos_max)).
    n_energies : cells of the E_ν densities (static).
    adapt : adapt the E_ν, species and channel densities with a pilot run of
        max(1, n_batches // 4) extra batches (static; see the module docstring).
    flavour_out, final_state, diagram_a, diagram_b, form_factor, width : as
        :func:`jaxdipole.matrix_elements.squared_amplitude` (defaults: all final states, both
        diagrams, Helm form factor, the model's width).
    bw_fraction : Breit–Wigner share of the w = (k' + q)² points (default 0.9 with diagram
        (a), 0 without; see :func:`jaxdipole.phase_space.map_points`).

    Returns
    -------
    RadiativeMCResult(events, error, hist, hist_error, n_points): expected events
    (dimensionless) in the windows, their statistical error, the (E_γ, cos θ_γ) histogram.

    Notes
    -----
    Cost: (n_points + pilot) × (number of flux components) evaluations of |M|² (~2–3e5 points/s
    on one CPU core for a Dirac N, ~1.5× slower for a Majorana N), plus one compilation per
    static configuration (~5 s on a CPU). Relative error at the default 2^15 Halton points
    (W184 at a reactor, 20 eV threshold): ~0.6 % on shell (m_N = 4 MeV; true error ~0.1 %), ~1 %
    off shell (m_N = 12 MeV). Near the on-shell threshold with an unphysically large width
    (Γ/m ≳ 1e-3) the error grows (~2 %): add points.

    Raises
    ------
    ValueError
        For an experiment with a finite decay length, unsupported flux components or bad
        options.
    """
    if not exp.prompt:
        raise ValueError(
            "radiative_events_mc counts every N decay at the interaction point (prompt) and "
            "ignores Experiment.decay_length: for an on-shell, long-lived N in a finite decay "
            "region use jd.radiative_events(model, exp); for the prompt / off-shell rate pass "
            "exp.with_(decay_length=None)"
        )
    _check_options(0, flavour_out, final_state)
    check_choice("sampler", sampler, SAMPLERS)
    for comp in exp.flux.components():
        _support(comp)
    if int(batch_size) < 1 or int(n_points) < 1 or int(n_energies) < 1:
        raise ValueError("n_points, batch_size and n_energies must be positive integers")
    if bw_fraction is None:
        bw_fraction = BW_FRACTION if diagram_a else 0.0
    if not 0.0 <= float(bw_fraction) <= 1.0:
        raise ValueError(f"bw_fraction must be in [0, 1], got {bw_fraction}")
    if e_edges is not None:
        if cos_edges is None:
            cos_edges = jnp.stack([exp.photon_cos_min, exp.photon_cos_max])
        e_edges = jnp.asarray(e_edges, dtype=jnp.float64)
        cos_edges = jnp.asarray(cos_edges, dtype=jnp.float64)
        for name, ed in (("e_edges", e_edges), ("cos_edges", cos_edges)):
            ed = jnp.asarray(ed)
            v = concrete(ed)
            if ed.ndim != 1 or ed.shape[0] < 2 or (v is not None and np.any(np.diff(v) <= 0)):
                raise ValueError(f"{name} must be a 1-D increasing array of >= 2 edges")
    elif cos_edges is not None:
        raise ValueError("cos_edges needs e_edges (the histogram is in E_γ × cos θ_γ)")
    n_batches = -(-int(n_points) // int(batch_size))
    key = jax.random.key(0) if key is None else key
    events, err, h, herr = _radiative_mc(
        model, exp, key, e_edges, cos_edges, width, n_batches=n_batches,
        batch_size=int(batch_size), sampler=sampler, n_cells=int(n_energies), adapt=bool(adapt),
        bw_fraction=float(bw_fraction), flavour_out=flavour_out, final_state=final_state,
        diagram_a=bool(diagram_a), diagram_b=bool(diagram_b), form_factor=form_factor,
    )  # fmt: skip
    return RadiativeMCResult(events, err, h, herr, n_batches * int(batch_size))
