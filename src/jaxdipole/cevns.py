"""Standard-Model coherent elastic neutrino–nucleus scattering (CEvNS): reference and background.

Tree level, no radiative corrections (they raise rates by 7–9 %)::

    dσ/dE_R = (G_F² M / 4π) Q_W² (1 − E_R/E − M E_R/(2E²)) F²(q),   Q_W = N − (1 − 4 sin²θ_W) Z

with the low-energy sin²θ_W(0) = 0.23857 and the Helm shape for the weak charge. Identical for
ν and ν̄ and for all flavours at this order.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from . import constants
from ._checks import check_nonnegative
from ._deprecate import renamed_arguments
from ._jit import compiled
from ._quadrature import gauss_legendre_unit
from .nuclei import Nucleus
from .nuclei import form_factor as _form_factor

#: Default number of Gauss–Legendre nodes in E_R for the total CEvNS cross section.
N_NODES_CEVNS = 32


def weak_charge(nuc: Nucleus, sin2_theta_w: ArrayLike = constants.sin2_theta_W_0) -> Array:
    """Nuclear weak charge Q_W = N − (1 − 4 sin²θ_W) Z (dimensionless)."""
    return nuc.n_neutrons - (1.0 - 4.0 * jnp.asarray(sin2_theta_w)) * nuc.charge


def cevns_max_recoil(E_nu: ArrayLike, M: ArrayLike) -> Array:
    """Largest recoil energy 2E²/(M + 2E) [GeV] for elastic scattering of E_nu [GeV] on mass M."""
    E = jnp.asarray(E_nu)
    return 2.0 * E * E / (M + 2.0 * E)


def _check_dsigma(E_nu, E_R, **_):
    check_nonnegative("E_nu", E_nu, "GeV")
    check_nonnegative("E_R", E_R, "GeV")


def _check_sigma(E_nu, recoil_threshold, **_):
    check_nonnegative("E_nu", E_nu, "GeV")
    check_nonnegative("recoil_threshold", recoil_threshold, "GeV")


@compiled(check=_check_dsigma)
def cevns_dsigma_dER(
    nuc: Nucleus,
    E_nu: ArrayLike,
    E_R: ArrayLike,
    *,
    form_factor: bool | str = True,
    sin2_theta_w: ArrayLike = constants.sin2_theta_W_0,
) -> Array:
    """SM CEvNS dσ/dE_R [GeV^-3] at neutrino energy E_nu [GeV] and recoil E_R [GeV].

    Exactly 0 (zero gradient) outside 0 <= E_R <= 2E²/(M + 2E).
    """
    E, T, M = jnp.asarray(E_nu), jnp.asarray(E_R), nuc.mass
    ok = (E > 0) & (T >= 0) & (T <= cevns_max_recoil(E, M))
    E_s = jnp.where(ok, E, 1.0)
    kin = 1.0 - T / E_s - M * T / (2.0 * E_s * E_s)
    F = _form_factor(nuc, T, kind=form_factor)
    qw = weak_charge(nuc, sin2_theta_w)
    pref = constants.G_F**2 * M / (4.0 * jnp.pi)
    return jnp.where(ok & (kin > 0), pref * qw * qw * kin * F * F, 0.0)


@renamed_arguments(n_nodes="n_recoil")
@compiled(check=_check_sigma)
def cevns_sigma(
    nuc: Nucleus,
    E_nu: ArrayLike,
    *,
    form_factor: bool | str = True,
    recoil_threshold: ArrayLike = 0.0,
    sin2_theta_w: ArrayLike = constants.sin2_theta_W_0,
    n_recoil: int = N_NODES_CEVNS,
) -> Array:
    """SM CEvNS total cross section [GeV^-2] for recoils above ``recoil_threshold`` [GeV].

    Gauss–Legendre in E_R on [E_thr, E_R_max], ``n_recoil`` nodes (static; formerly
    ``n_nodes``; the threshold is an integration bound, so the result is differentiable in
    it); 0 when E_thr >= E_R_max. Elementwise: the result has the broadcast shape of E_nu,
    recoil_threshold and sin2_theta_w (the same per point under ``jax.vmap`` as for the array
    call).
    """
    E, lo, s2w = jnp.broadcast_arrays(
        jnp.asarray(E_nu), jnp.asarray(recoil_threshold), jnp.asarray(sin2_theta_w)
    )
    hi = cevns_max_recoil(E, nuc.mass)
    width = jnp.maximum(hi - lo, 0.0)
    dt = jnp.result_type(lo, width)
    x, w = (jnp.asarray(v, dt) for v in gauss_legendre_unit(n_recoil))  # keep the input dtype
    T = lo[..., None] + width[..., None] * x  # (..., n_recoil)
    f = cevns_dsigma_dER(nuc, E[..., None], T, form_factor=form_factor, sin2_theta_w=s2w[..., None])
    return width * jnp.sum(w * f, axis=-1)
