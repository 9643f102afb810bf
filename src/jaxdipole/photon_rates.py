"""Expected radiative-mode events at an experiment: photon energy and angle spectra.

The radiative (photon-coincidence) signal ν A -> N A, N -> (ν or N') γ: a recoil in the
detector's recoil window *and* a photon from an N decay inside the instrumented region
(``exp.decay_length``; prompt if None), inside the photon window
[``photon_energy_min``, ``photon_energy_max``] × [``photon_cos_min``, ``photon_cos_max``],
detected with ``photon_efficiency``::

    N_ij = T Σ_c Σ_i N_i ∫ dE dΦ_c/dE ∫_window dE_R ε(E_R) dσ/dE_R · Σ_ch BR_ch · P_dec
           · Prob(E_γ ∈ bin_i, cos θ_γ ∈ bin_j | N) · ε_γ

with the recoil threshold, resolution, efficiency and window edges as integration bounds and
the full N spin correlation. θ_γ is the photon angle to the neutrino beam. E_γ spectra over all
angles fold the exact E_γ fractions of each N (:func:`jaxdipole.rates.fold_recoil_window`);
2-D maps and angular spectra are Legendre series in cos θ_γ, exact in the cos θ_γ bins (see
:func:`photon_map`). Every result is differentiable
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
from ._deprecate import renamed_arguments
from ._math import safe_sqrt
from ._quadrature import gauss_legendre_unit
from .experiment import Experiment
from .flux import chunked_map
from .kinematics import min_neutrino_energy, recoil_range, threshold_energy
from .model import DipoleModel
from .nuclei import SpeciesStack
from .primakoff import primakoff_dsigma_dER, primakoff_polarisation
from .radiative import (
    CHANNEL_CHOICES,
    _decay_factor,
    _groups,
    _node_state,
    binned_node_values,
    photon_energy_fractions,
)
from .rates import (
    _six_sigma,
    check_scalar_model,
    fold_experiment,
    fold_recoil_window,
    min_energy_for_window,
    recoil_efficiency,
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

#: Largest default Legendre order L of the cos θ_γ expansion (16 per cos θ_γ bin, at least 32;
#: see :func:`photon_map`).
N_LEGENDRE = 128
#: Gauss–Legendre nodes in θ_N per recoil panel: the order L plus this many.
_THETA_EXTRA = 16
#: Gauss–Legendre nodes per panel of the N-momentum rule, and uniform panels per 8 orders.
_K_NODES, _K_PANELS_PER_8 = 8, 3
#: Gauss–Legendre nodes per E_γ piece, and uniform E_γ pieces over the photon range.
_E_NODES, _E_UNIFORM = 4, 64
#: Panels graded geometrically (ratio 4) towards each end of the flux support in the k rule.
_K_GRADED = 8
#: E_γ nodes per chunk of the photon-side sums (``lax.map``).
_E_CHUNK = 64


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


@renamed_arguments(n_nodes="n_recoil", n_nodes_cos="n_cos")
def photon_map(
    model: DipoleModel,
    exp: Experiment,
    e_edges: ArrayLike,
    cos_edges: ArrayLike,
    *,
    channels="all",
    n_recoil: int = N_NODES_RECOIL_PHOTON,
    n_cos: int = N_NODES_COS_ROW,
    form_factor: bool | str = True,
    precise: bool = True,
    n_legendre: int | None = None,
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
    n_recoil : Gauss–Legendre nodes per ln E_R panel (static; default 16; formerly ``n_nodes``)
        of the E_γ-only spectra (one cos θ_γ bin over all angles, see Notes) and of
        ``precise=False``.
    n_cos : Gauss–Legendre nodes in cos θ* per piece of ``precise=False`` (static; default 6;
        formerly ``n_nodes_cos``)
    precise : bool
        True (default): the Legendre fold of the Notes, every cell to ~1e-6 at the reactor
        benchmark. False: the per-node quadrature -- one recoil rule of ``n_recoil`` ln E_R nodes
        per neutrino energy (:func:`jaxdipole.rates.recoil_nodes`) and the cone-split cos θ* rule
        of :func:`jaxdipole.radiative.photon_bin_fractions` at each (E_ν, E_R): an independent
        cross-check, converging slowly in ``n_recoil`` (kinks of the cells in E_R): at the
        defaults % per cell, up to 30 % in cells of a 40 × 40 map and 80 % in those of a
        200 × 200 one (reactor benchmark), and slower (1 s / 25 s).
    n_legendre : int, optional
        Order L of the cos θ_γ expansion (static), see Notes. Default: 16 per cos θ_γ bin, at
        least 32 and at most 128 (a bin of angular width Δθ is resolved from L ~ π/Δθ on; one
        wide bin, e.g. an acceptance cut, holds ~1e-7 with L = 32 at the reactor benchmark and
        ~3e-6 at m_N = 1 MeV). Set it for a few narrow cos θ_γ bins, light N or beams far above
        m_N.

    Returns
    -------
    Array of expected events (dimensionless).

    Notes
    -----
    With one cos θ_γ bin covering [−1, 1] (known when the edges and the acceptance are
    concrete; under ``jit`` with a traced acceptance chosen at run time) the E_γ fractions of
    each N are the exact ramp CDF, folded on a neutrino-energy rule per E_γ row split where the
    row's edges meet the ends of the photon box: ~1e-6 per bin with 0.25 MeV bins, ~2e-5 with
    50 keV bins (reactor benchmark below).

    Any other binning (``precise=True``) is folded in the variables (E_γ, N momentum k, N angle
    θ_N). A photon of energy E_γ from an N of energy E_N = √(k² + m²) has the rest-frame angle
    cos θ* = (x − E_N)/k (x = m E_γ/ω*, ω* the rest-frame photon energy) and makes the lab
    angle α with the N, cos α = (E_N − m ω*/E_γ)/k, which needs k >= k_min = |x² − m²|/2x. Its
    direction lies on the cone of half-angle α around the N, weighted by
    1 + c_L cos θ* + c_T sin θ* cos φ*. By the addition theorem of the Legendre polynomials
    (J. D. Jackson, Classical Electrodynamics, 3rd ed., Wiley 1999, §3.6) the cone averages
    of P_l(cos θ_γ) are P_l(cos α) P_l(cos θ_N) (1 + c_L cos θ*) and
    c_T sin θ* P_l^1(cos α) P_l^1(cos θ_N)/l(l+1), so every E_γ row is a Legendre series,

        N_ij = Σ_{l <= L} (l + 1/2) A_il ∫_{bin j} P_l(cos θ_γ) d cos θ_γ,

    with the cos θ_γ bins integrated exactly and A_il the l-th moment of the row:

    * N side: the moments of the N directions at each k (dΦ dσ/dE_R ε P_dec times P_l(cos θ_N),
      P_L P_l and P_T P_l^1), by Gauss–Legendre in θ_N at fixed E_N (L + 16 nodes; P_l
      oscillates evenly in θ_N and the forward 1/E_R peak is a Lorentzian there), the recoil
      window, the resolution turn-on and the flux support as bounds;
    * photon side: for each E_γ node the k integral from k_min of the moments times P_l(cos α)
      (8 Gauss nodes per panel of a k rule split where the N side is kinked -- a window edge or
      the flux end point starts to cut the recoil range -- and graded towards the flux end
      point, where the forward peak is cut; the panel holding k_min is taken from k_min with the
      moments interpolated from its nodes). It is smooth in E_γ apart from E_γ = ω* and the box
      ends of those kinks, so the E_γ rule (4 Gauss nodes per piece) splits the bins there and
      adds 64 uniform pieces over the photon range; monochromatic lines are summed per E_γ
      directly, the recoil rule cut at k_min.

    Beyond the choice of L, the number of cos θ_γ bins does not enter the cost, and E_γ bins
    only add E_γ nodes. Reactor
    benchmark (Ge74, m_N = 5 MeV, prompt decays, Vogel–Engel 4 GW at 100 m, no threshold): the
    cells of a 200 × 200 map agree with a run at twice the order and node counts to 1e-6 and
    with an independent quadrature of the cone fractions to 5e-6; rows agree with the E_γ-only
    spectrum to 1e-8 and totals with :func:`~jaxdipole.rates.primakoff_events` to 1e-11. Time
    on 2 CPU cores: 0.6 s (Dirac) / 0.3 s (Majorana) per 200 × 200 map, after ~5 s of
    compilation.
    The truncation at L is set by the forward peak of the N directions, of angular width
    θ_w = (E − k)/√(E k) at the flux end point E (0.14 here): on 40 × 40 maps L = 128 gives
    1e-6 per cell for m_N = 5 MeV, 1e-4 for 2 MeV and 2e-3 for 1 MeV (L = 256: 1e-6 and 1e-4)
    -- raise ``n_legendre`` for lighter N or beams far above m_N (the cost grows like L²).
    Memory: E_γ nodes are accumulated in chunks of 64 (``lax.map``).
    """
    check_scalar_model(model)
    check_choice("channels", channels, CHANNEL_CHOICES)
    if n_legendre is not None and (
        isinstance(n_legendre, bool)
        or not isinstance(n_legendre, int | np.integer)
        or n_legendre < 2
    ):
        raise ValueError(f"n_legendre must be None or an int >= 2, got {n_legendre!r}")
    all_angles = _all_angles(exp, cos_edges)  # before jnp: inside a trace jnp arrays are traced
    e_edges, cos_edges = _edges("e_edges", e_edges), _edges("cos_edges", cos_edges)
    groups = _photon_groups(model, channels)
    n_c = cos_edges.shape[0] - 1
    order = min(N_LEGENDRE, max(32, 16 * n_c)) if n_legendre is None else int(n_legendre)

    def run(energy_only):
        if precise and not energy_only:
            return _photon_map_legendre(
                model, exp, e_edges, cos_edges, channels, order, form_factor, groups
            )
        return _photon_map(
            model, exp, e_edges, cos_edges, channels, n_recoil, n_cos, form_factor,
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
    model, exp, e_edges, cos_edges, channels, n_recoil, n_cos, form_factor, precise,
    energy_only, groups,
):  # fmt: skip
    """Compiled body of :func:`photon_map` for the E_γ-only spectra and for ``precise=False``
    (arrays traced; channels and node counts static).

    One E_γ row at a time (``lax.map`` over rows in chunks): each row's neutrino-energy rule is
    split where its two edges meet the ends of the photon box (:func:`_box_end_energies`), so
    every panel holds a smooth integrand.
    """
    # where-clipping: an edge exactly on a window edge takes the window's derivative whole
    # (jnp.clip would split it half-and-half with the edge's own)
    e_edges = _clip(e_edges, exp.photon_energy_min, exp.photon_energy_max)
    cos_edges = _clip(cos_edges, exp.photon_cos_min, exp.photon_cos_max)
    decay_length = exp.decay_region()
    m = model.m_N
    n_c = cos_edges.shape[0] - 1
    n_species = len(exp.target.nuclei)
    # elements per neutrino-energy node: pieces × recoil nodes (× cos edges × cos θ* nodes)
    per_node = 3 * n_recoil * (1 if energy_only else (n_c + 1) * 3 * n_cos)
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
                model, nuc, E, t, pair, cos_edges, comp.flavour, form_factor=form_factor,
                decay_length=decay_length, channels=channels, n_cos=n_cos,
            )  # fmt: skip

        def dsigma(nuc, comp, E, T):
            return jax.vmap(lambda t: node_values(nuc, comp, E, t))(T)

        def breaks(nuc):
            return jnp.concatenate([_box_end_energies(model, nuc, e, groups) for e in (e_lo, e_hi)])

        if precise:  # here only for the E_γ-only spectra (ramp CDF per node)
            out = fold_recoil_window(
                exp, dsigma, m, n_recoil=n_recoil, breaks=breaks, batch_size=node_batch,
                n_per_panel=N_NODES_PER_PANEL,
            )  # fmt: skip
        else:

            def integrand(nuc, comp, E):
                e_min, e_max = recoil_range(E, m, nuc.mass)
                T, w = recoil_nodes(exp, e_min, e_max, n_recoil=n_recoil)
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


def _energy_node_values(
    model, nuc, E_nu, E_R, e_edges, flavour, form_factor, decay_length, channels
):
    """dσ/dE_R · Σ_ch BR_ch · P_dec · Prob(E_γ ∈ bin | N) at one (E_ν, E_R), shape (n_e,):
    the all-angles case of :func:`~jaxdipole.radiative.binned_node_values` (exact ramp CDF)."""
    dsig, E_N, k, _, P_L, _ = _node_state(model, nuc, E_nu, E_R, flavour, form_factor)
    pdec = _decay_factor(model, E_N, decay_length)
    out = 0.0
    for w, omega, a in _groups(model, channels):
        out = out + w * photon_energy_fractions(E_N, k, model.m_N, omega, a * P_L, e_edges)
    return dsig * pdec * out


@renamed_arguments(n_nodes="n_recoil", n_nodes_cos="n_cos")
def photon_energy_spectrum(
    model: DipoleModel, exp: Experiment, edges: ArrayLike, *, channels="all", **kwargs
) -> Array:
    """Expected radiative events per photon-energy bin (edges [GeV]), shape (len(edges) − 1,).

    The experiment's angular acceptance is applied; keyword arguments as :func:`photon_map`.
    """
    return photon_map(model, exp, edges, _acceptance(exp), channels=channels, **kwargs)[:, 0]


@renamed_arguments(n_nodes="n_recoil", n_nodes_cos="n_cos")
def photon_angle_spectrum(
    model: DipoleModel, exp: Experiment, cos_edges: ArrayLike, *, channels="all", **kwargs
) -> Array:
    """Expected radiative events per cos θ_γ bin (photon–beam angle), shape (len(cos_edges) − 1,).

    The experiment's photon-energy window is applied; keyword arguments as :func:`photon_map`.
    """
    e_edges = jnp.stack([exp.photon_energy_min, jnp.minimum(exp.photon_energy_max, 1e3)])
    return photon_map(model, exp, e_edges, cos_edges, channels=channels, **kwargs)[0]


@renamed_arguments(n_nodes="n_recoil", n_nodes_cos="n_cos")
def radiative_events(model: DipoleModel, exp: Experiment, *, channels="all", **kwargs) -> Array:
    """Expected radiative (recoil + photon) events in the experiment's photon window (keyword
    arguments as :func:`photon_map`)."""
    e_edges = jnp.stack([exp.photon_energy_min, jnp.minimum(exp.photon_energy_max, 1e3)])
    return photon_map(model, exp, e_edges, _acceptance(exp), channels=channels, **kwargs)[0, 0]


def _acceptance(exp: Experiment):
    """The angular acceptance as cos θ_γ edges: a NumPy constant when concrete (so that the
    all-angles case is recognised under an outer ``jit`` too), else a traced array."""
    lo, hi = concrete(exp.photon_cos_min), concrete(exp.photon_cos_max)
    if lo is not None and hi is not None:
        return np.array([float(lo), float(hi)])
    return jnp.stack([exp.photon_cos_min, exp.photon_cos_max])


# ===================================================================== Legendre fold (default)


def _legendre_sums(x, sin_x, w_p, w_d, L):
    """Σ_n w_p[j, n] P_l(x_n) and Σ_n w_d[j, n] sin_n P_l'(x_n) / (l(l+1)) for l = 0..L.

    ``x``, ``sin_x``: (N,) (sin_x = sqrt(1 − x²)); ``w_p``: (J, N); ``w_d``: (J', N) (J' may be
    0). Returns arrays (L+1, J) and (L+1, J'). Bonnet's recurrence and
    P'_{l+1} = P'_{l−1} + (2l+1) P_l, stable for |x| <= 1.
    """
    dt = x.dtype
    w_ds = w_d * sin_x

    def step(carry, l):
        p_prev, p, d_prev, d = carry
        out_p = w_p @ p
        out_d = (w_ds @ d) / jnp.maximum(l * (l + 1.0), 1.0)
        p_next = ((2.0 * l + 1.0) * x * p - l * p_prev) / (l + 1.0)
        d_next = d_prev + (2.0 * l + 1.0) * p
        return (p, p_next, d, d_next), (out_p, out_d)

    one, zero = jnp.ones_like(x), jnp.zeros_like(x)
    _, (sp, sd) = jax.lax.scan(step, (zero, one, zero, zero), jnp.arange(L + 1, dtype=dt))
    return sp, sd


def _legendre_values(x, L):
    """P_l(x) for l = 0..L, shape (L+1,) + x.shape."""

    def step(carry, l):
        p_prev, p = carry
        return (p, ((2.0 * l + 1.0) * x * p - l * p_prev) / (l + 1.0)), p

    _, P = jax.lax.scan(
        step, (jnp.zeros_like(x), jnp.ones_like(x)), jnp.arange(L + 1, dtype=x.dtype)
    )
    return P


def _cos_bin_integrals(cos_edges, L):
    """ΔI_jl = ∫ P_l(y) dy over each cos θ_γ bin, shape (L+1, n_c): Δc for l = 0 and
    [P_{l+1} − P_{l−1}]/(2l+1) between the edges for l >= 1 (exact; zero for an empty bin)."""
    P = _legendre_values(cos_edges, L + 1)  # (L+2, n_c+1)
    l = jnp.arange(1, L + 1, dtype=cos_edges.dtype)[:, None]
    prim = (P[2:] - P[:-2]) / (2.0 * l + 1.0)  # antiderivative of P_l, l = 1..L (up to const)
    first = (cos_edges[1:] - cos_edges[:-1])[None]
    full = cos_edges[1:] > cos_edges[:-1]  # an empty bin is exactly 0 whatever the rounding
    return jnp.where(full, jnp.concatenate([first, prim[:, 1:] - prim[:, :-1]]), 0.0)


def _turn_on_top(exp: Experiment) -> Array:
    """E_thr + 6σ: the top of the resolution turn-on (E_thr without a resolution)."""
    return exp.recoil_threshold + _six_sigma(exp)


def _recoil_panels(exp: Experiment, T_lo, T_hi):
    """Sub-ranges of [T_lo, T_hi] with a smooth recoil integrand: the whole range, or (for an
    experiment with a resolution) the turn-on below E_thr + 6σ and the rest above."""
    if not exp.smeared:
        return [(T_lo, T_hi)]
    top = jnp.maximum(T_hi, T_lo)
    c = jnp.clip(_turn_on_top(exp), T_lo, top)
    return [(T_lo, c), (c, top)]


def _theta_nodes(exp: Experiment, T_lo, T_hi, theta, n: int, dtype):
    """Gauss–Legendre nodes and weights (n per panel) in the N angle θ_N over the recoil panels
    of [T_lo, T_hi] (:func:`_recoil_panels`), θ_N(T) given by ``theta``."""
    tq, wq = (jnp.asarray(v, dtype=dtype) for v in gauss_legendre_unit(n))
    th, w = [], []
    for lo, hi in _recoil_panels(exp, T_lo, T_hi):
        a, b = theta(lo), theta(hi)
        th.append(a + (b - a) * tq)
        w.append((b - a) * wq)
    return jnp.concatenate(th), jnp.concatenate(w)


def _fixed_n_range(E_N, k, m, M):
    """(E_N − k, T_a, T_b): the recoil range at fixed N energy, T_a at cos θ_N = 1 (N forward)
    and T_b at cos θ_N = −1 (T = ((E_N − k)² + 2E_N k (1 − cos θ_N)) / 2(M − E_N + k cos θ_N))."""
    d = m * m / (E_N + k)
    return d, d * d / (2.0 * (M - d)), (E_N + k) ** 2 / (2.0 * (M - E_N - k))


def _continuum_moments(model, exp, nuc, comp, k, L, form_factor, decay_length, polarised):
    """Legendre moments of the N directions at N momentum k (one species, one continuum flux
    component): W_l = Σ dΦ dσ ε P_l(cos θ_N), V_l (× P_L) and U_l (× P_T sin θ_N P_l'/l(l+1))
    per unit k and E_γ (the factor 1/E_N of dE_N/k and the decay probability included), each
    (L+1,).

    At fixed E_N the recoil runs from T_a (N forward) to T_b (backward); integrated in θ_N with
    Gauss–Legendre nodes (P_l(cos θ_N) oscillates evenly in θ_N, and the forward 1/E_R peak is
    a Lorentzian in θ_N), over the window and the flux support as bounds.
    """
    m, M = model.m_N, nuc.mass
    E_N = jnp.sqrt(k * k + m * m)
    d, T_a, T_b = _fixed_n_range(E_N, k, m, M)
    lo_f, hi_f = comp.support()
    T_lo = jnp.maximum(jnp.maximum(T_a, recoil_window_lower(exp)), lo_f - E_N)
    T_hi = jnp.minimum(jnp.minimum(T_b, exp.recoil_max), hi_f - E_N)
    ok = (T_hi > T_lo) & (k > 0)
    k_s = jnp.where(ok, k, 1.0)
    T_lo = jnp.where(ok, T_lo, T_a)
    T_hi = jnp.where(ok, T_hi, T_b)

    def theta(T):  # θ_N at recoil T, stable at both ends (1 ∓ cos θ_N ∝ T − T_a, T_b − T)
        Tc = jnp.clip(T, T_a, T_b)
        q = 1.0 / (k_s * (E_N + Tc))
        om = jnp.where(ok, (M - d) * (Tc - T_a) * q, 0.0)
        op = jnp.where(ok, (M - E_N - k) * (T_b - Tc) * q, 1.0)
        return 2.0 * jnp.arctan2(safe_sqrt(om), safe_sqrt(op))

    th, w = _theta_nodes(exp, T_lo, T_hi, theta, L + _THETA_EXTRA, E_N.dtype)
    sh = jnp.sin(0.5 * th)
    x, sin_x = 1.0 - 2.0 * sh * sh, jnp.sin(th)
    num = d * d + 4.0 * E_N * k * sh * sh
    den = 2.0 * (M - d - 2.0 * k * sh * sh)
    T = num / den
    dT = 2.0 * k * sin_x * (E_N * den + num) / (den * den)
    E_nu = E_N + T
    dsig = primakoff_dsigma_dER(model, nuc, E_nu, T, comp.flavour, form_factor=form_factor)
    g = w * dT * dsig * recoil_efficiency(exp, T, window=False) * comp.dphi_dE(E_nu)
    g = jnp.where(ok, g, 0.0) * _decay_factor(model, E_N, decay_length) / E_N
    if polarised:
        P_L, P_T = primakoff_polarisation(model, nuc, E_nu, T)
        sp, sd = _legendre_sums(x, sin_x, jnp.stack([g, g * P_L]), (g * P_T)[None], L)
        return sp[:, 0], sp[:, 1], sd[:, 0]
    sp, _ = _legendre_sums(x, sin_x, g[None], jnp.zeros((0, g.shape[0]), g.dtype), L)
    return sp[:, 0], None, None


def _continuum_breaks(model, exp, nuc, comp):
    """N momenta [GeV] where the moments of one species and continuum component are kinked (a
    window edge or the end of a flux panel starts to cut the recoil range at fixed E_N); the
    N energies [GeV] at the two ends of the flux support where the cut T = E − E_N closes onto
    T_a (N forward), and the recoil spans T_max − T_min [GeV] there; the largest N momentum."""
    m, M = model.m_N, nuc.mass
    edges = jnp.asarray(comp.panel_edges())
    t_min, t_max = recoil_range(edges, m, M)
    E_N = [edges - t_min, edges - t_max]
    for X in (recoil_window_lower(exp), _turn_on_top(exp), exp.recoil_max):
        fin = jnp.isfinite(X) & (X > 0)
        X_s = jnp.where(fin, X, 1.0)
        E_N.append(jnp.where(fin, min_neutrino_energy(X_s, m, M) - X_s, m)[None])
    E_N = jnp.concatenate(E_N)
    E_N = jnp.where(jnp.isfinite(E_N), E_N, m)
    k = safe_sqrt((E_N - m) * (E_N + m))
    ends = jnp.stack([edges[0] - t_min[0], edges[-1] - t_min[-1]])
    spans = jnp.stack([t_max[0] - t_min[0], t_max[-1] - t_min[-1]])
    hi = ends[1]
    return k, ends, spans, safe_sqrt((hi - m) * (hi + m))


def _graded(m, ends, spans):
    """N momenta [GeV] graded geometrically (ratio 4) towards each end of the flux support
    (``ends``, ``spans``: (S, 2) over the species; towards the largest end over the species):
    there the cut T = E − E_N closes onto T_a, where dσ/dE_R peaks, and the moments are ln-like
    in E_N on the scale T_a."""
    grade = 0.25 ** jnp.arange(1, _K_GRADED + 1, dtype=ends.dtype)
    E_N = jnp.max(ends, axis=0)[:, None] - jnp.max(spans, axis=0)[:, None] * grade
    return safe_sqrt((E_N - m) * (E_N + m)).ravel()


def _photon_energy_pieces(e_edges, extra, n_photon):
    """Gauss–Legendre nodes, weights and bin index of the E_γ pieces between the bin edges and
    the extra break points ``extra`` (kinks of the photon density in E_γ; clipped into the
    edges' range, no derivative: a break inside a bin moves nodes, not the bin content)."""
    lo, hi = e_edges[0], e_edges[-1]
    br = jnp.sort(jnp.concatenate([e_edges, jnp.clip(jax.lax.stop_gradient(extra), lo, hi)]))
    a, b = br[:-1], br[1:]
    t, w = (jnp.asarray(v, dtype=br.dtype) for v in gauss_legendre_unit(n_photon))
    rows = jnp.searchsorted(e_edges, 0.5 * (a + b), side="right") - 1
    rows = jnp.clip(rows, 0, e_edges.shape[0] - 2)
    eps = (a[:, None] + (b - a)[:, None] * t).ravel()
    return eps, ((b - a)[:, None] * w).ravel(), jnp.repeat(rows, n_photon)


def _lagrange_basis(tau, nodes):
    """Lagrange basis polynomials of ``nodes`` (NumPy, distinct) at ``tau``: shape
    tau.shape + (n,); products, no divisions by tau − node (finite at the nodes)."""
    cols = []
    for j, tj in enumerate(nodes):
        v = jnp.ones_like(tau)
        for i, ti in enumerate(nodes):
            if i != j:
                v = v * ((tau - ti) / (tj - ti))
        cols.append(v)
    return jnp.stack(cols, axis=-1)


def _photon_kernel(y, s, base, a):
    """Per-node factors of the photon side: (weight of P_l W_l, of P_l V_l, of sin α P_l' U_l)
    at cos α = y and cos θ* = s with quadrature weight ``base``; analysing power ``a``."""
    if a == 0.0:
        return base, None, None
    sin_star = safe_sqrt((1.0 - s) * (1.0 + s))
    sin_a = safe_sqrt((1.0 - y) * (1.0 + y))
    return base, a * base * s, a * base * sin_star * sin_a


def _photon_sums(nodes, L):
    """Σ_n [b_n P_l(y_n) W_l,n + b'_n P_l(y_n) V_l,n + b''_n P_l'(y_n) U_l,n] for l = 0..L.

    ``nodes``: list of (y (N,), (b, b', b''), (W, V, U) each (L+1, N) or None) -- node sets whose
    moments are scanned together; b', b'', V, U None for unpolarised photons."""

    def step(carry, inp):
        l = inp[0]
        new, out = [], 0.0
        for (y, (b, bv, bu), _), (p_prev, p, d_prev, d), tabs in zip(
            nodes, carry, inp[1:], strict=True
        ):
            Wl, Vl, Ul = tabs
            out = out + (b * p) @ Wl
            if bv is not None:
                out = out + (bv * p) @ Vl + (bu * d) @ Ul
            p_next = ((2.0 * l + 1.0) * y * p - l * p_prev) / (l + 1.0)
            d_next = d_prev + (2.0 * l + 1.0) * p
            new.append((p, p_next, d, d_next))
        return new, out

    dt = nodes[0][0].dtype
    carry = [(jnp.zeros_like(y), jnp.ones_like(y), jnp.zeros_like(y), jnp.zeros_like(y))
             for y, _, _ in nodes]  # fmt: skip
    xs = [jnp.arange(L + 1, dtype=dt)] + [tuple(tabs) for _, _, tabs in nodes]
    _, h = jax.lax.scan(step, carry, xs)
    return h


def _continuum_photon(eps, m, omega, a, kb, kf, wf, tables, L):
    """h_l(E_γ) = ∫_{k >= k_min} dk (m/2ω*) [W_l P_l(cos α) + a (s V_l P_l(cos α)
    + sin θ* sin α U_l P_l'(cos α))] for one E_γ (scalar ``eps``), shape (L+1,): the photons of
    energy E_γ from the continuum N, per unit E_γ, as Legendre moments in cos θ_γ.

    For an N of momentum k the photon of energy E_γ has cos θ* = s = (x − E_N)/k (x = m E_γ/ω*)
    and makes the lab angle α with the N, cos α = (E_N − m ω*/E_γ)/k; |s| <= 1 iff
    k >= k_min = |x² − m²|/2x. By the addition theorem, the average of P_l(cos θ_γ) over φ*
    for photons at s from an N at θ_N with analysing vector (c_L, c_T) is
    (1 + c_L s) P_l(cos α) P_l(cos θ_N) + c_T sin θ* P_l^1(cos α) P_l^1(cos θ_N)/l(l+1), so the
    N side enters only through its moments (``tables``: W, V, U of shape (P, n, L+1), V and U
    None for unpolarised photons). Panels of the k rule above the one holding k_min are taken
    whole, that one from k_min with the moments interpolated from its own nodes.
    """
    n_pan, n = kf.shape
    eps_s = jnp.where(eps > 0, eps, 1.0)
    x = m * eps_s / omega
    c_eps = m * omega / eps_s
    k_min = jnp.abs((x - m) * (x + m)) / (2.0 * x)
    live = (eps > 0) & (k_min < kb[-1])
    p = jnp.clip(jnp.searchsorted(kb, k_min, side="right") - 1, 0, n_pan - 1)
    t, wt = gauss_legendre_unit(n)
    a_p, b_p = kb[p], kb[p + 1]
    lo = jnp.clip(k_min, a_p, b_p)
    kq = lo + (b_p - lo) * jnp.asarray(t, dtype=kb.dtype)
    wq = jnp.where(live, (b_p - lo) * jnp.asarray(wt, dtype=kb.dtype), 0.0)
    tau = (kq - a_p) / jnp.where(b_p > a_p, b_p - a_p, 1.0)
    basis = _lagrange_basis(tau, t)  # (n, n)
    part = tuple(None if T is None else (basis @ T[p]).T for T in tables)  # (L+1, n)
    full = tuple(None if T is None else T.reshape(-1, L + 1).T for T in tables)  # (L+1, P n)
    wfull = jnp.where((jnp.arange(n_pan) > p)[:, None] & live, wf, 0.0).ravel()
    scale = m / (2.0 * omega)
    nodes = []
    for kk, ww, tabs in ((kf.ravel(), wfull, full), (kq, wq, part)):
        E_N = jnp.sqrt(kk * kk + m * m)
        k_s = jnp.where(kk > 0, kk, 1.0)
        y = jnp.clip((E_N - c_eps) / k_s, -1.0, 1.0)
        s = jnp.clip((x - E_N) / k_s, -1.0, 1.0)
        nodes.append((y, _photon_kernel(y, s, ww * scale, a), tabs))
    return _photon_sums(nodes, L)


def _line_photon(eps, model, exp, nuc, comp, omega, a, L, form_factor, decay_length, weight):
    """h_l(E_γ) of the monochromatic lines of one flux component and one species (as
    :func:`_continuum_photon`; ``weight``: exposure × number of nuclei), shape (L+1,).

    At the line energy E the N states lie on the recoil range [T_min, T_max] ∩ window, and the
    photon of energy E_γ needs k >= k_min(E_γ), i.e. T <= E − E_N,min(E_γ): the recoil rule is
    cut per E_γ and both sides are summed directly (Gauss–Legendre in θ_N; T(θ_N) by Newton).
    """
    m, M = model.m_N, nuc.mass
    eps_s = jnp.where(eps > 0, eps, 1.0)
    x = m * eps_s / omega
    c_eps = m * omega / eps_s
    E_N_min = (x * x + m * m) / (2.0 * x)
    polarised = a != 0.0

    def one(E, flux):
        t_min, t_max = recoil_range(E, m, M)
        T_lo = jnp.maximum(t_min, recoil_window_lower(exp))
        T_hi = jnp.minimum(jnp.minimum(t_max, exp.recoil_max), E - E_N_min)
        ok = (T_hi > T_lo) & (t_max > t_min) & (eps > 0)
        T_lo = jnp.where(ok, T_lo, t_min)
        T_hi = jnp.where(ok, T_hi, t_max)
        s_inv = M * (M + 2.0 * E)

        def theta(T):  # θ_N = atan2(√K, 2E² − 2(E + M)T − m²) (both over 2 E k)
            Tc = jnp.clip(T, t_min, t_max)
            K = 4.0 * s_inv * (Tc - t_min) * (t_max - Tc)
            return jnp.arctan2(safe_sqrt(K), 2.0 * E * E - 2.0 * (E + M) * Tc - m * m)

        th, w = _theta_nodes(exp, T_lo, T_hi, theta, L + _THETA_EXTRA, E.dtype)
        c, sin_x = jnp.cos(th), jnp.sin(th)
        T = t_min + (t_max - t_min) * 0.5 * (1.0 - c)
        for _ in range(4):  # Newton on F(T) = 2E² − m² − 2E k(T) cos θ − 2(E + M) T = 0
            k = safe_sqrt((E - T - m) * (E - T + m))
            k_s = jnp.where(k > 0, k, 1.0)
            F = 2.0 * E * E - m * m - 2.0 * E * k * c - 2.0 * (E + M) * T
            F_T = 2.0 * E * c * (E - T) / k_s - 2.0 * (E + M)
            T = jnp.clip(T - F / F_T, t_min, t_max)
        E_N = E - T
        k = safe_sqrt((E_N - m) * (E_N + m))
        k_s = jnp.where(k > 0, k, 1.0)
        dT = 2.0 * E * k * sin_x / (2.0 * (E + M) - 2.0 * E * c * E_N / k_s)
        dsig = primakoff_dsigma_dER(model, nuc, E, T, comp.flavour, form_factor=form_factor)
        g = w * dT * dsig * recoil_efficiency(exp, T, window=False)
        g = g * _decay_factor(model, E_N, decay_length) * (m / (2.0 * omega)) / k_s
        g = jnp.where(ok & (k > 0), g * flux, 0.0)
        y = jnp.clip((E_N - c_eps) / k_s, -1.0, 1.0)
        s = jnp.clip((x - E_N) / k_s, -1.0, 1.0)
        if polarised:
            P_L, P_T = primakoff_polarisation(model, nuc, E, T)
            sin_star = safe_sqrt((1.0 - s) * (1.0 + s))
            sin_a = safe_sqrt((1.0 - y) * (1.0 + y))
            gv, gu = a * g * s * P_L, a * g * P_T * sin_x * sin_star * sin_a
        else:
            gv = gu = None
        return _double_legendre_sums(c, y, g, gv, gu, L)

    e_line, f_line = comp.lines()
    return weight * jnp.sum(jax.vmap(one)(e_line, f_line), axis=0)


def _double_legendre_sums(x, y, g, gv, gu, L):
    """Σ_n [g_n + gv_n] P_l(x_n) P_l(y_n) + gu_n P_l'(x_n) P_l'(y_n)/(l(l+1)), l = 0..L."""

    def step(carry, l):
        px0, px, dx0, dx, py0, py, dy0, dy = carry
        out = (g if gv is None else g + gv) @ (px * py)
        if gu is not None:
            out = out + (gu @ (dx * dy)) / jnp.maximum(l * (l + 1.0), 1.0)
        nxt = (
            px, ((2.0 * l + 1.0) * x * px - l * px0) / (l + 1.0), dx, dx0 + (2.0 * l + 1.0) * px,
            py, ((2.0 * l + 1.0) * y * py - l * py0) / (l + 1.0), dy, dy0 + (2.0 * l + 1.0) * py,
        )  # fmt: skip
        return nxt, out

    z, o = jnp.zeros_like(x), jnp.ones_like(x)
    _, h = jax.lax.scan(step, (z, o, z, z, z, o, z, z), jnp.arange(L + 1, dtype=x.dtype))
    return h


def _line_breaks(model, exp, nuc, comp):
    """N momenta [GeV] at the ends of each line's recoil window (the photon density in E_γ is
    kinked where k_min(E_γ) passes them), with recoils graded geometrically towards the
    forward end (where dσ/dE_R peaks: ln-like in E_γ near the ends of the line's box)."""
    m, M = model.m_N, nuc.mass
    E = comp.lines()[0]
    t_min, t_max = recoil_range(E, m, M)
    lo = jnp.maximum(t_min, recoil_window_lower(exp))
    hi = jnp.maximum(jnp.minimum(t_max, exp.recoil_max), lo)
    grade = 0.25 ** jnp.arange(1, _K_GRADED + 1, dtype=lo.dtype)
    T = jnp.concatenate([lo[None], hi[None], lo[None] + (hi - lo)[None] * grade[:, None]])
    return safe_sqrt((E - T - m) * (E - T + m)).ravel()


@eqx.filter_jit
def _photon_map_legendre(model, exp, e_edges, cos_edges, channels, L, form_factor, groups):
    """Compiled body of :func:`photon_map` (the default ``precise=True`` path, any cos θ_γ bins).

    The map is the Legendre series in cos θ_γ of each E_γ row: N_ij = Σ_l (2l+1)/2 A_il ΔI_jl
    with ΔI_jl = ∫_bin j P_l (exact) and A_il = Σ over E_γ nodes of row i of h_l(E_γ), the
    l-th moment of the photons of energy E_γ (:func:`_continuum_photon`, :func:`_line_photon`),
    integrated over the N momentum k >= k_min(E_γ) -- smooth in E_γ, so the rows are exact to
    the E_γ rule, split where the photon density is kinked (E_γ = ω*, the box ends of the
    largest N momentum and of the kinks of the N side).
    """
    e_edges = _clip(e_edges, exp.photon_energy_min, exp.photon_energy_max)
    cos_edges = _clip(cos_edges, exp.photon_cos_min, exp.photon_cos_max)
    decay_length = exp.decay_region()
    m = model.m_N
    dt = jnp.result_type(e_edges, m)
    all_groups = _groups(model, channels)
    sel = [all_groups[g] for g in groups]
    polarised = any(a != 0.0 for _, _, a in sel)
    stacked = SpeciesStack.of(exp.target.nuclei)
    counts = exp.exposure * exp.nuclei_counts
    comps = exp.flux.components()
    conts = tuple(c for c in comps if c.has_continuum())
    lines = tuple(c for c in comps if c.lines()[0].shape[0])
    n_rows = e_edges.shape[0] - 1
    kinks = []  # N momenta where the photon density in E_γ may be kinked
    tops = []
    cont = None
    if conts:
        br = []
        for comp in conts:
            kk, ends, spans, top = jax.vmap(
                lambda nuc, comp=comp: _continuum_breaks(model, exp, nuc, comp)
            )(stacked)
            graded = _graded(m, ends, spans)
            br += [kk.ravel(), graded]
            tops.append(top)
            kinks += [graded, top]  # the photon density in E_γ is ln-like near their box ends
        k_top = jnp.max(jnp.concatenate(tops))
        br = jnp.clip(jnp.concatenate(br), 0.0, k_top)
        n_uniform = max(4, _K_PANELS_PER_8 * L // 8)
        kb = jnp.concatenate([k_top * jnp.linspace(0.0, 1.0, n_uniform + 1, dtype=dt), br])
        kb = jax.lax.stop_gradient(jnp.sort(kb))
        t, w = (jnp.asarray(v, dtype=dt) for v in gauss_legendre_unit(_K_NODES))
        kf = kb[:-1, None] + (kb[1:] - kb[:-1])[:, None] * t
        wf = (kb[1:] - kb[:-1])[:, None] * w

        def moments(k):
            tot = None
            for comp in conts:

                def per_species(nuc, comp=comp):
                    return _continuum_moments(
                        model, exp, nuc, comp, k, L, form_factor, decay_length, polarised
                    )

                per = jax.vmap(per_species)(stacked)
                per = tuple(None if v is None else jnp.tensordot(counts, v, axes=1) for v in per)
                # per[i] is None exactly where tot[i] is (the same moments each component)
                tot = per if tot is None else tuple(
                    None if u is None else u + v  # pyright: ignore[reportOperatorIssue]
                    for u, v in zip(tot, per, strict=True)
                )  # fmt: skip
            return tot

        n_theta = (L + _THETA_EXTRA) * (2 if exp.smeared else 1) * len(exp.target.nuclei)
        batch = max(1, _CHUNK_ELEMENTS // (_LIVE_ARRAYS * n_theta))
        tabs = chunked_map(moments, kf.ravel(), batch)
        tabs = tuple(None if v is None else v.reshape(kf.shape + (L + 1,)) for v in tabs)
        cont = (kb, kf, wf, tabs)
    for comp in lines:
        kinks.append(
            jax.vmap(lambda nuc, comp=comp: _line_breaks(model, exp, nuc, comp))(stacked).ravel()
        )
        tops.append(jnp.max(kinks[-1])[None])
    k_top = jnp.max(jnp.concatenate([jnp.ravel(v) for v in tops]))
    kinks = jnp.concatenate(kinks)
    E_r = jnp.sqrt(kinks * kinks + m * m)
    E_top = jnp.sqrt(k_top * k_top + m * m)
    A = jnp.zeros((n_rows, L + 1), dtype=dt)
    for w_br, omega, a in sel:
        omega_s = jnp.where(omega > 0, omega, 1.0)
        lo_e = jnp.maximum(e_edges[0], omega_s * (E_top - k_top) / m)
        hi_e = jnp.maximum(jnp.minimum(e_edges[-1], omega_s * (E_top + k_top) / m), lo_e)
        extra = jnp.concatenate([
            omega_s[None], omega_s * (E_r - kinks) / m, omega_s * (E_r + kinks) / m,
            lo_e + (hi_e - lo_e) * jnp.linspace(0.0, 1.0, _E_UNIFORM + 1, dtype=dt),
        ])  # fmt: skip
        eps, w_eps, rows = _photon_energy_pieces(e_edges, extra, _E_NODES)

        def h(e, omega_s=omega_s, a=a):
            out = 0.0
            if cont is not None:
                out = out + _continuum_photon(e, m, omega_s, a, *cont, L)
            for comp in lines:

                def per_species(nuc, n, comp=comp):
                    return _line_photon(
                        e, model, exp, nuc, comp, omega_s, a, L, form_factor, decay_length, n
                    )

                out = out + jnp.sum(jax.vmap(per_species)(stacked, counts), axis=0)
            return out

        hs = chunked_map(h, eps, _E_CHUNK)  # (Ne, L+1)
        A = A + jnp.where(omega > 0, w_br, 0.0) * jax.ops.segment_sum(
            w_eps[:, None] * hs, rows, num_segments=n_rows
        )
    l = jnp.arange(L + 1, dtype=dt)
    out = (A * (l + 0.5)) @ _cos_bin_integrals(cos_edges, L)
    return exp.photon_efficiency * out
