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
from jax import Array
from jax.typing import ArrayLike

from ._checks import check_choice
from .experiment import Experiment
from .kinematics import recoil_range
from .model import DipoleModel
from .radiative import CHANNEL_CHOICES, N_NODES_COS, binned_node_values
from .rates import (
    fold_experiment,
    fold_recoil_window,
    min_energy_for_window,
    recoil_nodes,
    recoil_window_lower,
)

__all__ = ["photon_map", "photon_energy_spectrum", "photon_angle_spectrum", "radiative_events"]

#: Default Gauss–Legendre nodes per ln E_R panel for the photon spectra (smooth integrands).
N_NODES_RECOIL_PHOTON = 16


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
    n_nodes_cos: int = N_NODES_COS,
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
    n_nodes : Gauss–Legendre nodes per ln E_R panel (static)
    n_nodes_cos : nodes in cos θ* per piece (static)
    precise : bool
        True (default): :func:`jaxdipole.rates.fold_recoil_window`, which removes the kinks in
        E_ν where the threshold starts to cut the kinematic recoil range (~1e-10 accuracy,
        exact threshold derivatives). False: one recoil quadrature per neutrino energy
        (:func:`jaxdipole.rates.recoil_nodes`): ~3× cheaper to run and to compile, ~1e-4
        relative accuracy in values and a few % in derivatives w.r.t. the recoil threshold
        (the kink moves through the fixed nodes) -- for fast forward scans.

    Returns
    -------
    Array of expected events (dimensionless).

    Notes
    -----
    Totals and marginals converge fast. Single bins of fine maps are limited by the flux's
    fixed neutrino-energy rule (a bin edge crossing the photon box of an N makes the bin
    content kinked in E_ν): with the default 32-node reactor rule single E_γ bins are good to
    ~1.5 % on 24-bin spectra and ~10 % on 200-bin ones (totals ~1e-7); a flux built with more
    nodes, e.g. ``chooz_flux(n_nodes=256)``, gives ~4e-4 and ~2e-3.
    """
    check_choice("channels", channels, CHANNEL_CHOICES)
    e_edges, cos_edges = _edges("e_edges", e_edges), _edges("cos_edges", cos_edges)
    return _photon_map(
        model, exp, e_edges, cos_edges, channels, n_nodes, n_nodes_cos, form_factor, precise
    )


@eqx.filter_jit
def _photon_map(
    model, exp, e_edges, cos_edges, channels, n_nodes, n_nodes_cos, form_factor, precise
):
    """Compiled body of :func:`photon_map` (arrays traced; channels and node counts static)."""
    # where-clipping: an edge exactly on a window edge takes the window's derivative whole
    # (jnp.clip would split it half-and-half with the edge's own)
    e_edges = _clip(e_edges, exp.photon_energy_min, exp.photon_energy_max)
    cos_edges = _clip(cos_edges, exp.photon_cos_min, exp.photon_cos_max)
    decay_length = None if exp.prompt else exp.decay_length

    def dsigma(nuc, comp, E, T):
        def one(t):
            return binned_node_values(
                model, nuc, E, t, e_edges, cos_edges, comp.flavour, form_factor, decay_length,
                channels, n_nodes_cos,
            )  # fmt: skip

        return jax.vmap(one)(T)

    if precise:
        events = fold_recoil_window(exp, dsigma, model.m_N, n_nodes=n_nodes)
    else:
        m = model.m_N

        def integrand(nuc, comp, E):
            e_min, e_max = recoil_range(E, m, nuc.mass)
            T, w = recoil_nodes(exp, e_min, e_max, n_nodes)
            return jnp.tensordot(w, dsigma(nuc, comp, E, T), axes=1)

        def e_low(nuc):
            return min_energy_for_window(m, nuc.mass, recoil_window_lower(exp), exp.recoil_max)

        events = fold_experiment(exp, integrand, e_low)
    return exp.photon_efficiency * events


def photon_energy_spectrum(
    model: DipoleModel, exp: Experiment, edges: ArrayLike, channels="all", **kwargs
) -> Array:
    """Expected radiative events per photon-energy bin (edges [GeV]), shape (len(edges) − 1,).

    The experiment's angular acceptance is applied; keyword arguments as :func:`photon_map`.
    """
    cos_edges = jnp.stack([exp.photon_cos_min, exp.photon_cos_max])
    return photon_map(model, exp, edges, cos_edges, channels, **kwargs)[:, 0]


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
    cos_edges = jnp.stack([exp.photon_cos_min, exp.photon_cos_max])
    return photon_map(model, exp, e_edges, cos_edges, channels, **kwargs)[0, 0]
