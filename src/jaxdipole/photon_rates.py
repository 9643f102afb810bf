"""Expected radiative-mode events at an experiment: photon energy and angle spectra.

The radiative (photon-coincidence) signal ν A -> N A, N -> (ν or N') γ: a recoil in the
detector's recoil window *and* a photon from an N decay inside the instrumented region
(``exp.decay_length``; prompt if None), inside the photon window
[``photon_energy_min``, ``photon_energy_max``] × [``photon_cos_min``, ``photon_cos_max``],
detected with ``photon_efficiency``::

    N_ij = T Σ_c Σ_i N_i ∫ dE dΦ_c/dE ∫_window dE_R ε(E_R) dσ/dE_R · Σ_ch BR_ch · P_dec
           · Prob(E_γ ∈ bin_i, cos θ_γ ∈ bin_j | N) · ε_γ

with the recoil-side machinery of :func:`jaxdipole.rates.fold_recoil_window` (recoil
threshold, resolution, efficiency, window edges as integration bounds) and the photon bin
probabilities of :func:`jaxdipole.radiative.photon_bin_fractions` (exact in E_γ, full N spin
correlation). θ_γ is the photon angle to the neutrino beam. Every result is differentiable
w.r.t. the model, the experiment (thresholds, windows, decay length, masses, exposure) and the
bin edges.

Public functions::

    photon_map(model, exp, e_edges, cos_edges)      events per (E_γ, cos θ_γ) bin
    photon_energy_spectrum(model, exp, edges)        events per E_γ bin (angular window applied)
    photon_angle_spectrum(model, exp, cos_edges)     events per cos θ_γ bin (energy window applied)
    radiative_events(model, exp)                     events in the photon window
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from ._checks import check_choice, concrete
from ._math import safe_div, safe_sqrt
from ._quadrature import smoothstep_unit
from .experiment import Experiment
from .flux import chunked_map
from .kinematics import n_kinematics, recoil_range, threshold_energy
from .model import DipoleModel
from .radiative import (
    CHANNEL_CHOICES,
    _decay_factor,
    _groups,
    _node_state,
    binned_node_values,
    photon_bin_fractions,
    photon_energy_fractions,
)
from .rates import (
    check_scalar_model,
    fold_experiment,
    fold_recoil_window,
    min_energy_for_window,
    recoil_nodes,
    recoil_window_lower,
)

__all__ = ["photon_map", "photon_energy_spectrum", "photon_angle_spectrum", "radiative_events"]

#: Default Gauss–Legendre nodes per ln E_R panel for the photon spectra (smooth integrands).
N_NODES_RECOIL_PHOTON = 16
#: Neutrino-energy nodes per panel of a row's rule (panels are smooth between the breaks).
N_NODES_PER_PANEL = 12
#: Nodes in cos θ* per piece of one E_γ row (its interval is split where the photon cone
#: touches a cos θ_γ edge; 6 give ~3e-5 per cell on a 20 × 10 map, 4 give 3e-4).
N_NODES_COS_ROW = 6


def _edges(name: str, edges: ArrayLike) -> Array:
    e = jnp.asarray(edges, dtype=float)
    if e.ndim != 1 or e.shape[0] < 2:
        raise ValueError(f"{name} must be a 1-D array of at least 2 increasing edges")
    try:
        ok = bool(jnp.all(jnp.diff(e) > 0))
    except jax.errors.ConcretizationTypeError:
        ok = True
    if not ok:
        raise ValueError(f"{name} must be strictly increasing, got {edges!r}")
    return e


def _clip(x: Array, lo: Array, hi: Array) -> Array:
    x = jnp.where(x <= lo, lo, x)
    return jnp.where(x >= hi, hi, x)


def photon_map(
    model: DipoleModel,
    exp: Experiment,
    e_edges: ArrayLike,
    cos_edges: ArrayLike,
    channels="all",
    *,
    n_nodes: int = N_NODES_RECOIL_PHOTON,
    n_nodes_cos: int = N_NODES_COS_ROW,
    form_factor: bool | str = True,
    precise: bool = True,
) -> Array:
    """Expected radiative events per (E_γ, cos θ_γ) bin, shape (len(e_edges)−1, len(cos_edges)−1).

    Parameters
    ----------
    model : DipoleModel
    exp : Experiment
        Its photon window clips the bins (bins outside it get 0 events).
    e_edges : increasing photon-energy bin edges [GeV]
    cos_edges : increasing cos θ_γ bin edges in [−1, 1] (θ_γ: photon angle to the beam)
    channels : "all" (default), "active", "sterile", or an active flavour 0/1/2
    n_nodes : Gauss–Legendre nodes per ln E_R panel (static; default 16) of the E_γ-only
        spectra, the resolution turn-on and ``precise=False``. With ``precise=False`` single
        cells of 2-D maps converge slowly in it (16 / 32 / 64 nodes: ~6 % / 1.5 % / 0.2 % per
        cell on a 20 × 10 map); E_γ rows, cos θ_γ columns and totals do not need more.
    n_nodes_cos : nodes in cos θ* per piece (static; default 6, ~3e-5 per cell)
    precise : bool
        True (default): :func:`jaxdipole.rates.fold_recoil_window`, which removes the kinks in
        E_ν where the threshold starts to cut the kinematic recoil range (~1e-10 accuracy,
        exact threshold derivatives). False: one recoil quadrature per neutrino energy
        (:func:`jaxdipole.rates.recoil_nodes`): cheaper to run and to compile, ~1e-4 relative
        accuracy in E_γ rows and totals, a few % in single 2-D cells and in derivatives w.r.t.
        the recoil threshold (the kink moves through the fixed nodes) -- for fast scans.

    Returns
    -------
    Array of expected events (dimensionless).

    Notes
    -----
    Each E_γ row is folded on its own neutrino-energy rule, split where the row's edges meet
    the ends of the photon box (the bin content is kinked there): E_γ bins and the E_γ
    marginal of maps are exact to the quadrature, ~1e-6 per bin with 0.25 MeV bins and ~2e-5
    with 50 keV bins at the defaults (reactor chain, Dirac and Majorana, against a 4096-node
    brute-force rule), totals ~1e-15 of :func:`~jaxdipole.rates.primakoff_events`. With one
    cos θ_γ bin covering [−1, 1] (known when the edges and the acceptance are concrete) the
    E_γ fractions are the exact ramp CDF. In 2-D cells the recoil integral of each cos θ_γ
    edge's cumulative fraction is split where the photon cone at a row edge touches that edge
    (there it has (θ_N − θ_0)^{3/2} kinks), ``N_NODES_CELL_PANEL`` = 8 ln E_R nodes per
    panel after a smoothstep map: ~1.5e-4 per cell on a 20 × 10 map (16 nodes agree with a
    1024-node recoil rule to 3.5e-6). Cost: a 40 × 40 map ~20 s on 2 CPU cores (precise=False:
    ~2 s at a few % per cell), growing as rows × cos edges.
    Memory: rows and neutrino-energy nodes are accumulated in ``lax.map`` chunks sized so that
    the live intermediates stay near 1.6 × 10⁷ elements, whatever the number of flux nodes
    or bins.
    """
    check_scalar_model(model)
    check_choice("channels", channels, CHANNEL_CHOICES)
    all_angles = _all_angles(exp, cos_edges)  # before jnp: inside a trace jnp arrays are traced
    e_edges, cos_edges = _edges("e_edges", e_edges), _edges("cos_edges", cos_edges)
    groups = _photon_groups(model, channels)

    def run(energy_only):
        return _photon_map(
            model, exp, e_edges, cos_edges, channels, n_nodes, n_nodes_cos, form_factor,
            precise, energy_only, groups,
        )  # fmt: skip

    if all_angles is None:  # one cos bin, traced edges or acceptance: decided at run time
        lo = jnp.maximum(cos_edges[0], exp.photon_cos_min)
        hi = jnp.minimum(cos_edges[1], exp.photon_cos_max)
        return jax.lax.cond((lo <= -1.0) & (hi >= 1.0), lambda: run(True), lambda: run(False))
    return run(all_angles)


def _photon_groups(model: DipoleModel, channels) -> tuple[int, ...]:
    """Photon groups (0 active, 1 sterile) whose box ends split the E_ν rule: those the
    selection uses (never none), for "all" without the sterile one when μ_NN' is known
    (concrete) to be 0."""
    mu_p = concrete(model.mu_prime)
    sterile = channels == "sterile" or (
        channels == "all" and (mu_p is None or bool(np.any(mu_p != 0)))
    )
    active = channels != "sterile"
    return tuple(i for i, on in ((0, active), (1, sterile)) if on)


def _all_angles(exp: Experiment, cos_edges: ArrayLike) -> bool | None:
    """Whether the bins are one cos θ_γ bin covering [−1, 1] after the experiment's acceptance
    (the E_γ fractions are then the exact ramp CDF, no cos θ* nodes): True/False when known
    from concrete values, None for one bin with traced edges or acceptance."""
    if np.shape(cos_edges) != (2,):
        return False
    vals = [concrete(v) for v in (cos_edges, exp.photon_cos_min, exp.photon_cos_max)]
    if any(v is None for v in vals):
        return None
    c, lo, hi = (np.asarray(v, dtype=float) for v in vals)
    return bool(max(c[0], lo) <= -1.0 and min(c[1], hi) >= 1.0)


#: Budget (array elements) of one chunk of the photon fold: E_γ rows and neutrino-energy nodes
#: are accumulated in chunks (``lax.map``) so that the live intermediates, estimated as
#: ``_LIVE_ARRAYS`` arrays of the node grid's size, stay below about this many elements.
_CHUNK_ELEMENTS = 1 << 24
_LIVE_ARRAYS = 16


def _group_omegas(model, groups):
    """Rest-frame photon energies ω* [GeV] of the photon groups ``groups`` (0 active, 1 sterile;
    see :func:`_photon_groups`)."""
    omegas = [omega for _, omega, _ in _groups(model, "all")]
    return [omegas[i] for i in groups]


def _box_end_energies(model, nuc, e, groups):
    """Neutrino energies [GeV] where a photon energy ``e`` [GeV] meets an end of the photon box
    of the N (one per photon group of the selection), i.e. where the content of an E_γ bin
    with edge ``e`` is kinked in E_ν; +inf where it never does.

    The box of an N of energy E_N is ω*(E_N ∓ k)/m; it ends at e for E_N = (x² + m²)/(2x) with
    x = e m/ω* (both ends give the same E_N). As E_ν = E_N + E_R grows, the recoils whose box
    reaches e sweep through the recoil range: the bin content is smooth between, and kinked at,
    E_N + E_R,min and E_N + E_R,max (both returned; a keV apart for heavy nuclei).
    """
    m, M = model.m_N, nuc.mass
    out = []
    for omega in _group_omegas(model, groups):
        x = e * m / jnp.where(omega > 0, omega, 1.0)
        ok = (x > 0) & (omega > 0)
        x_s = jnp.where(ok, x, 1.0)
        E_N = (x_s * x_s + m * m) / (2.0 * x_s)
        above = E_N > threshold_energy(m, M)
        for end in (0, 1):  # E_ν − E_R,min(E_ν) = E_N and E_ν − E_R,max(E_ν) = E_N
            E_nu = E_N
            for _ in range(2):  # fixed point; E_R,min/max change by ~1e-3 over the step
                E_nu = E_N + jnp.where(above, recoil_range(E_nu, m, M)[end], 0.0)
            out.append(jnp.where(ok, E_nu, jnp.inf))
    return jnp.stack(out)


@eqx.filter_jit
def _photon_map(
    model, exp, e_edges, cos_edges, channels, n_nodes, n_nodes_cos, form_factor, precise,
    energy_only, groups,
):  # fmt: skip
    """Compiled body of :func:`photon_map` (arrays traced; channels and node counts static).

    One E_γ row at a time (``lax.map`` over rows in chunks): each row's neutrino-energy rule is
    split where its two edges meet the ends of the photon box (:func:`_box_end_energies`), so
    every panel holds a smooth integrand.
    """
    # where-clipping: an edge exactly on a window edge takes the window's derivative whole
    # (jnp.clip would split it half-and-half with the edge's own)
    e_edges = _clip(e_edges, exp.photon_energy_min, exp.photon_energy_max)
    cos_edges = _clip(cos_edges, exp.photon_cos_min, exp.photon_cos_max)
    decay_length = None if exp.prompt else exp.decay_length
    m = model.m_N
    n_c = cos_edges.shape[0] - 1
    n_species = len(exp.target.nuclei)
    # elements per neutrino-energy node: pieces × recoil nodes (× cos edges × cos θ* nodes)
    if energy_only or not precise:
        per_node = 3 * n_nodes * (1 if energy_only else (n_c + 1) * 3 * n_nodes_cos)
    else:  # split recoil panels per cos edge, the cumulative fraction below it at each node
        per_node = 3 * (n_c + 1) * (1 + 4 * len(groups)) * N_NODES_CELL_PANEL * 3 * n_nodes_cos
    per_node *= n_species * _LIVE_ARRAYS
    node_batch = max(1, _CHUNK_ELEMENTS // per_node)
    n_e_nodes = 256  # typical nodes per row (panels × nodes per panel), for the row chunks
    row_batch = max(1, _CHUNK_ELEMENTS // (per_node * min(node_batch, n_e_nodes)))

    def row(edge_pair):
        e_lo, e_hi = edge_pair
        pair = jnp.stack([e_lo, e_hi])

        def node_values(nuc, comp, E, t):
            if energy_only:
                return _energy_node_values(
                    model, nuc, E, t, pair, comp.flavour, form_factor, decay_length, channels
                )[:, None]
            return binned_node_values(
                model, nuc, E, t, pair, cos_edges, comp.flavour, form_factor, decay_length,
                channels, n_nodes_cos,
            )  # fmt: skip

        def dsigma(nuc, comp, E, T):
            return jax.vmap(lambda t: node_values(nuc, comp, E, t))(T)

        def breaks(nuc):
            return jnp.concatenate([_box_end_energies(model, nuc, e, groups) for e in (e_lo, e_hi)])

        if precise:

            def cells(nuc, comp, E, lo, hi):  # recoil integral split at the cone touchings
                return _row_cells(
                    model, nuc, comp, E, lo, hi, pair, cos_edges, form_factor, decay_length,
                    channels, groups, n_nodes_cos,
                )[None, :]  # fmt: skip

            out = fold_recoil_window(
                exp, dsigma, m, n_nodes=n_nodes, breaks=breaks, batch_size=node_batch,
                n_per_panel=N_NODES_PER_PANEL, sigma_window=None if energy_only else cells,
            )  # fmt: skip
        else:

            def integrand(nuc, comp, E):
                e_min, e_max = recoil_range(E, m, nuc.mass)
                T, w = recoil_nodes(exp, e_min, e_max, n_nodes)
                return jnp.tensordot(w, dsigma(nuc, comp, E, T), axes=1)

            def e_low(nuc):
                return min_energy_for_window(m, nuc.mass, recoil_window_lower(exp), exp.recoil_max)

            out = fold_experiment(
                exp, integrand, e_low, breaks=breaks, batch_size=node_batch,
                n_per_panel=N_NODES_PER_PANEL,
            )  # fmt: skip
        return out[0]  # (n_c,)

    rows = chunked_map(row, (e_edges[:-1], e_edges[1:]), row_batch)
    return exp.photon_efficiency * rows


#: ln E_R nodes per panel of a 2-D cell's recoil integral: panels end where the photon cone at
#: an E_γ edge touches the cos θ_γ edge ((θ_N − θ_0)^{3/2} there), and a smoothstep map
#: regularises those ends: 6 / 8 / 16 nodes give 8e-4 / 1.5e-4 / 3e-6 per cell (20 × 10 map).
N_NODES_CELL_PANEL = 8


def _recoil_at_cos(E, m, M, c):
    """Recoil energy [GeV] at which the N goes at cos θ_N = c to the beam (fixed E_ν [GeV]):
    T = (2E² − m² − 2E k c)/(2(E + M)) with k = |k_N|(T), three fixed-point steps (T ≪ E)."""
    T = jnp.zeros_like(E * c)
    for _ in range(3):
        E_N = E - T
        k = safe_sqrt((E_N - m) * (E_N + m))
        T = (2.0 * E * E - m * m - 2.0 * E * k * c) / (2.0 * (E + M))
    return T


def _row_cells(
    model, nuc, comp, E, lo, hi, e_pair, cos_edges, form_factor, decay_length, channels, groups,
    n_nodes_cos,
):  # fmt: skip
    """∫ dE_R over [max(E_R,min, lo), min(E_R,max, hi)] of the node values of one E_γ row,
    per cos θ_γ bin, shape (n_c,) [GeV^-2].

    For each cos θ_γ edge c the cumulative fraction F(c) is integrated over E_R on panels that
    end where the photon cone at a row edge touches c: the N angle θ_N = θ_c ∓ α(t), with α the
    lab photon–N angle at the row's cos θ* ends t (cos θ_N = c cos α ± sin θ_c sin α); there
    F has (θ_N − θ_0)^{3/2} kinks that a fixed recoil rule converges on slowly.
    """
    m, M = model.m_N, nuc.mass
    e_min, e_max = recoil_range(E, m, M)
    a = jnp.maximum(e_min, lo)
    b = jnp.minimum(e_max, hi)
    ok = (b > a) & (a > 0)
    a_s = jnp.where(ok, a, 1.0)
    b_s = jnp.where(ok, b, 2.0)
    E_N, k, _ = n_kinematics(E, a_s, m, M)
    beta = safe_div(k, E_N)
    gam_inv = safe_sqrt((1.0 - beta) * (1.0 + beta))
    touch_cos = []  # cos α and sin α at the row's cos θ* ends, per photon group
    for omega in _group_omegas(model, groups):
        x = e_pair * m / jnp.where(omega > 0, omega, 1.0)
        t = jnp.clip(safe_div(x - E_N, k), -1.0, 1.0)
        one_bt = 1.0 + beta * t
        touch_cos.append(((t + beta) / one_bt, gam_inv * safe_sqrt((1.0 - t) * (1.0 + t)) / one_bt))
    cos_a = jnp.concatenate([v[0] for v in touch_cos])
    sin_a = jnp.concatenate([v[1] for v in touch_cos])
    gx, gw = (jnp.asarray(v, jnp.result_type(a_s)) for v in smoothstep_unit(N_NODES_CELL_PANEL))

    def node_cdf(T, c):
        dsig, E_n, k_n, cos_N, P_L, P_T = _node_state(model, nuc, E, T, comp.flavour, form_factor)
        pdec = _decay_factor(model, E_n, decay_length)
        out = 0.0
        for w, omega, a_pw in _groups(model, channels):
            F = photon_bin_fractions(
                E_n, k_n, cos_N, m, omega, a_pw * P_L, a_pw * P_T, e_pair, c[None],
                n_nodes_cos, cumulative=True,
            )  # fmt: skip
            out = out + w * F[0, 0]
        return dsig * pdec * out

    def cdf(c):
        s_c = safe_sqrt((1.0 - c) * (1.0 + c))
        C = jnp.concatenate([c * cos_a + s_c * sin_a, c * cos_a - s_c * sin_a])
        kinks = _recoil_at_cos(E, m, M, jnp.clip(C, -1.0, 1.0))
        kinks = jnp.where(jnp.isfinite(kinks), kinks, b_s)
        edges = jnp.sort(jnp.concatenate([jnp.stack([a_s, b_s]), jnp.clip(kinks, a_s, b_s)]))
        la, lb = jnp.log(edges[:-1]), jnp.log(edges[1:])
        L = (lb - la)[:, None]
        T = jnp.exp(la[:, None] + L * gx)
        W = gw * L * T
        vals = jax.vmap(jax.vmap(lambda t: node_cdf(t, c)))(T)
        return jnp.sum(W * vals)

    F = jax.vmap(cdf)(cos_edges)
    return jnp.where(ok, F[1:] - F[:-1], 0.0)


def _energy_node_values(
    model, nuc, E_nu, E_R, e_edges, flavour_in, form_factor, decay_length, channels
):
    """dσ/dE_R · Σ_ch BR_ch · P_dec · Prob(E_γ ∈ bin | N) at one (E_ν, E_R), shape (n_e,):
    the all-angles case of :func:`~jaxdipole.radiative.binned_node_values` (exact ramp CDF)."""
    dsig, E_N, k, _, P_L, _ = _node_state(model, nuc, E_nu, E_R, flavour_in, form_factor)
    pdec = _decay_factor(model, E_N, decay_length)
    out = 0.0
    for w, omega, a in _groups(model, channels):
        out = out + w * photon_energy_fractions(E_N, k, model.m_N, omega, a * P_L, e_edges)
    return dsig * pdec * out


def photon_energy_spectrum(
    model: DipoleModel, exp: Experiment, edges: ArrayLike, channels="all", **kwargs
) -> Array:
    """Expected radiative events per photon-energy bin (edges [GeV]), shape (len(edges) − 1,).

    The experiment's angular acceptance is applied; keyword arguments as :func:`photon_map`.
    """
    return photon_map(model, exp, edges, _acceptance(exp), channels, **kwargs)[:, 0]


def photon_angle_spectrum(
    model: DipoleModel, exp: Experiment, cos_edges: ArrayLike, channels="all", **kwargs
) -> Array:
    """Expected radiative events per cos θ_γ bin (photon–beam angle), shape (len(cos_edges) − 1,).

    The experiment's photon-energy window is applied; keyword arguments as :func:`photon_map`.
    """
    e_edges = jnp.stack([exp.photon_energy_min, jnp.minimum(exp.photon_energy_max, 1e3)])
    return photon_map(model, exp, e_edges, cos_edges, channels, **kwargs)[0]


def radiative_events(model: DipoleModel, exp: Experiment, channels="all", **kwargs) -> Array:
    """Expected radiative (recoil + photon) events in the experiment's photon window."""
    e_edges = jnp.stack([exp.photon_energy_min, jnp.minimum(exp.photon_energy_max, 1e3)])
    return photon_map(model, exp, e_edges, _acceptance(exp), channels, **kwargs)[0, 0]


def _acceptance(exp: Experiment):
    """The angular acceptance as cos θ_γ edges: a NumPy constant when concrete (so that the
    all-angles case is recognised under an outer ``jit`` too), else a traced array."""
    lo, hi = concrete(exp.photon_cos_min), concrete(exp.photon_cos_max)
    if lo is not None and hi is not None:
        return np.array([float(lo), float(hi)])
    return jnp.stack([exp.photon_cos_min, exp.photon_cos_max])
