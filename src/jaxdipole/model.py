"""The dipole-portal model: a sterile neutrino N with transition magnetic moments.

Lagrangian (magnetic-moment normalisation, see README "Conventions")::

    L ⊃ (mu_a / 2) · ν̄_a σ^{αβ} P_R N · F_αβ + (mu' / 2) · N̄' σ^{αβ} P_R N · F_αβ + h.c.

``mu_a`` [GeV^-1] is the transition moment to the active flavour a = e, μ, τ. With this
normalisation m_N -> 0 gives the textbook neutrino magnetic-moment cross section, so values
quoted in Bohr magnetons compare directly (``mu / jd.units.mu_B``). Other papers write the
coefficient without the 1/2 and call it d (Magill et al. 2018): mu = 2 d.
"""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from ._checks import check_choice, check_finite, check_nonnegative, check_positive, concrete

NATURES = ("dirac", "majorana")
#: Operator for N -> N' γ: "chiral" (same chiral structure as the active moment: a = -1
#: asymmetry for a Dirac N) or "vector" (non-chiral N̄' σ N F: width ×2, isotropic photon).
STERILE_OPERATORS = ("chiral", "vector")


class DipoleModel(eqx.Module):
    """Sterile neutrino N with transition magnetic moments (a parameter pytree).

    Parameters
    ----------
    m_N : float
        Mass of N [GeV], > 0.
    mu : sequence of 3 floats, or float
        Transition moments to (ν_e, ν_μ, ν_τ) [GeV^-1] (magnetic-moment normalisation,
        ``mu = 2 d``). A scalar means (mu, 0, 0): electron flavour only, the reactor case.
    nature : {"dirac", "majorana"}
        Dirac or Majorana N (static: it selects code paths).
    m_N_prime : float, optional
        Mass of a lighter sterile state N' [GeV], 0 <= m_N_prime < m_N (default 0).
    mu_prime : float, optional
        Sterile-to-sterile moment N -> N' γ [GeV^-1] (default 0: no such channel).
    sterile_operator : {"chiral", "vector"}
        Chiral structure of the N -> N' γ operator (static).

    All float fields are dynamic pytree leaves: ``jax.grad`` w.r.t. a model returns a model of
    gradients, and ``eqx.tree_at`` replaces a value without recompiling.
    """

    m_N: Array
    mu: Array
    m_N_prime: Array
    mu_prime: Array
    nature: str = eqx.field(static=True)
    sterile_operator: str = eqx.field(static=True)

    def __init__(
        self,
        m_N: ArrayLike,
        mu: ArrayLike | Sequence[ArrayLike] = (0.0, 0.0, 0.0),
        nature: str = "dirac",
        m_N_prime: ArrayLike = 0.0,
        mu_prime: ArrayLike = 0.0,
        sterile_operator: str = "chiral",
    ):
        check_choice("nature", nature, NATURES)
        check_choice("sterile_operator", sterile_operator, STERILE_OPERATORS)
        mu_arr = jnp.asarray(mu, dtype=float)
        if mu_arr.ndim == 0:
            mu_arr = jnp.stack([mu_arr, jnp.zeros_like(mu_arr), jnp.zeros_like(mu_arr)])
        if mu_arr.shape != (3,):
            raise ValueError(
                f"mu must be a scalar or a sequence of 3 moments (nu_e, nu_mu, nu_tau) in GeV^-1, "
                f"got shape {mu_arr.shape}"
            )
        self.m_N = jnp.asarray(m_N, dtype=float)
        self.mu = mu_arr
        self.m_N_prime = jnp.asarray(m_N_prime, dtype=float)
        self.mu_prime = jnp.asarray(mu_prime, dtype=float)
        self.nature = nature
        self.sterile_operator = sterile_operator

    def __check_init__(self):
        check_positive("m_N", self.m_N, "GeV")
        check_finite("mu", self.mu)
        check_finite("mu_prime", self.mu_prime)
        check_nonnegative("m_N_prime", self.m_N_prime, "GeV")
        m, mp = concrete(self.m_N), concrete(self.m_N_prime)
        if m is not None and mp is not None and not (mp < m):
            raise ValueError(f"m_N_prime must satisfy 0 <= m_N_prime < m_N = {m} GeV, got {mp}")

    @property
    def is_majorana(self) -> bool:
        """True for a Majorana N."""
        return self.nature == "majorana"
