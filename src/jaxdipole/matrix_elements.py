"""Full 2 -> 3 matrix element of radiative upscattering ν_α A -> ν_β A γ (beyond narrow width).

Process ν_α(k) A(P) -> ν_β(k') A(P') γ(q) for a spin-0 coherent nucleus, through the transition
dipole L ⊃ (μ_α/2) ν̄_α σ^{ab} P_R N F_ab + h.c. Two diagrams, with l = k − k' − q = P' − P the
momentum of the exchanged photon:

* (a) resonant: ν(k) A -> N*(p_a = k' + q) A by photon exchange, then N* -> ν(k') γ(q);
* (b) non-resonant: ν(k) -> N*(p_b = k − q) γ(q), then N* A -> ν(k') A (p_b² ≤ 0: never on shell).

Explicit 4×4 Dirac matrices (Dirac representation, metric (+,−,−,−)). With the vertex
V(x, y) = σ^{ab} x_a y_b and the nuclear current J = e Z F(Q²)(P + P'), Q² = −l², the amplitude is
M = (μ_α μ_β / l²) ū(k') A u(k) with::

    A = V(ε*, q) Π (p̸_a + m) V(J, l) Π_in / D_a  +  V(J, l) Π (p̸_b + m) V(ε*, q) Π_in / D_b
    D = p² − m² + i m Γ,    Γ = decay_width(model)

ν beam: Π_in = P_L; lepton-number-conserving (LNC, ν -> N -> ν) Π = P_R, lepton-number-violating
(LNV, ν -> N -> ν̄, Majorana N only) Π = P_L, the second vertex read in the charge-conjugate
flow (its sign, C(σP_L)^T C⁻¹ = −σP_L, is an overall phase of a separate final state). A ν̄
beam swaps P_L <-> P_R. The two diagrams enter with a relative + sign: the lepton tensor is
Bose-symmetric under (q, ε) <-> (l, J), the two photons coming from the same field.

|M|² is summed over the final ν (or ν̄) spin and the photon polarisations (Σ ε*_ρ ε_σ -> −g_ρσ,
exact since each vertex is transverse), and *not* averaged over the initial state: the beam
neutrino is fully polarised and the nucleus spinless (the 2 -> 2 normalisation of
:mod:`jaxdipole.primakoff`). Spin sums use Σ u ū = k̸ (massless ν), so |M|² is a trace.

Units: momenta [GeV]; |M|² [GeV^-2] (dσ = |M|² dΦ₃ / (4 M E_ν) in the nucleus rest frame).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from . import constants
from ._checks import check_choice
from ._deprecate import former_positions, moved_first, renamed_arguments
from .decay import decay_width
from .model import DipoleModel
from .nuclei import Nucleus
from .nuclei import form_factor as _form_factor

#: Final-state selections: "all" (LNC + LNV; LNC only for a Dirac N), "lnc", "lnv".
FINAL_STATES = ("all", "lnc", "lnv")
#: Outgoing-flavour selections: 0, 1, 2 (e, μ, τ) or "all" (sum over β, unobserved ν).
FLAVOURS_OUT = (0, 1, 2, "all")

# ------------------------------------------------------------------ Dirac algebra (numpy consts)
_I2, _Z2 = np.eye(2), np.zeros((2, 2))
_PAULI = (
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)
#: γ^μ, shape (4, 4, 4), Dirac representation.
GAMMA = np.stack(
    [np.block([[_I2, _Z2], [_Z2, -_I2]]).astype(complex)]
    + [np.block([[_Z2, s], [-s, _Z2]]) for s in _PAULI]
)
#: γ^5 = i γ^0 γ^1 γ^2 γ^3.
GAMMA5 = 1j * GAMMA[0] @ GAMMA[1] @ GAMMA[2] @ GAMMA[3]
#: σ^{μν} = (i/2)[γ^μ, γ^ν], shape (4, 4, 4, 4).
SIGMA = 0.5j * (np.einsum("mab,nbc->mnac", GAMMA, GAMMA) - np.einsum("nab,mbc->mnac", GAMMA, GAMMA))
#: Metric diag(+1, −1, −1, −1).
METRIC = np.array([1.0, -1.0, -1.0, -1.0])
_PL = (np.eye(4) - GAMMA5) / 2
_PR = (np.eye(4) + GAMMA5) / 2


def _mm(a, b):
    """Matrix product over the last two axes by broadcasting (fast for 4×4 under vmap on CPU)."""
    return jnp.sum(a[..., :, :, None] * b[..., None, :, :], axis=-2)


def minkowski_dot(a: ArrayLike, b: ArrayLike) -> Array:
    """a·b = a⁰b⁰ − a⃗·b⃗ over the last axis."""
    a, b = jnp.asarray(a), jnp.asarray(b)
    return jnp.sum(a * b * METRIC, axis=-1)


def slash(p: ArrayLike) -> Array:
    """p̸ = γ^μ p_μ (4×4 complex) for a contravariant 4-vector p (shape (4,), may be complex)."""
    pl = jnp.asarray(p) * METRIC
    return jnp.sum(pl[:, None, None] * GAMMA, axis=0)


def dipole_vertex(x: ArrayLike, y: ArrayLike) -> Array:
    """σ^{ab} x_a y_b = i (x̸ y̸ − x·y) (4×4 complex) for contravariant 4-vectors x, y."""
    x, y = jnp.asarray(x), jnp.asarray(y)
    return 1j * (_mm(slash(x), slash(y)) - minkowski_dot(x, y) * jnp.eye(4))


def _photon_vertices(q):
    """σ^{ρν} q_ν = i (γ^ρ q̸ − q^ρ) for ρ = 0..3 (upper ρ), shape (4, 4, 4)."""
    q = jnp.asarray(q)
    return 1j * (_mm(GAMMA, slash(q)[None]) - q[:, None, None] * jnp.eye(4))


def dirac_bar(A: ArrayLike) -> Array:
    """Ā = γ⁰ A† γ⁰ (over the last two axes)."""
    g0 = np.real(np.diag(GAMMA[0]))
    return jnp.conj(jnp.swapaxes(jnp.asarray(A), -1, -2)) * np.outer(g0, g0)


# ----------------------------------------------------------------------------- the amplitude
def _check_options(flavour, flavour_out, final_state):
    check_choice("flavour", flavour, (0, 1, 2))
    check_choice("flavour_out", flavour_out, FLAVOURS_OUT)
    check_choice("final_state", final_state, FINAL_STATES)


def _projectors(antineutrino: bool, lnv: bool):
    """(Π_in, Π) for the beam chirality and the LNC/LNV contraction."""
    p_in, p_other = (_PR, _PL) if antineutrino else (_PL, _PR)
    p_mid = p_in if lnv else p_other
    return p_in.astype(jnp.complex128), p_mid.astype(jnp.complex128)


def _kinematics(k_in, P_in, k_out, P_out, q, model, nucleus, width, offshell_a, form_factor):
    """Shared pieces: l, J (with e Z F), propagator numerators and denominators."""
    k_in, P_in, k_out, P_out, q = (jnp.asarray(v) for v in (k_in, P_in, k_out, P_out, q))
    m = model.m_N
    G = decay_width(model) if width is None else jnp.asarray(width)
    l = k_in - k_out - q  # = P' − P; the lepton side avoids the cancellation in P' − P
    l2 = minkowski_dot(l, l)
    E_R = -l2 / (2.0 * nucleus.mass)
    F = _form_factor(nucleus, jnp.maximum(E_R, 0.0), kind=form_factor)
    e = jnp.sqrt(4.0 * jnp.pi * constants.alpha)
    J = e * nucleus.charge * F * (P_in + P_out)
    p_a = k_out + q
    p_b = k_in - q
    d_a = minkowski_dot(p_a, p_a) - m * m if offshell_a is None else jnp.asarray(offshell_a)
    D_a = d_a + 1j * m * G
    D_b = minkowski_dot(p_b, p_b) - m * m + 1j * m * G
    eye = jnp.eye(4, dtype=jnp.complex128)
    S_a = slash(p_a) + m * eye
    S_b = slash(p_b) + m * eye
    return l, l2, J, S_a, S_b, D_a, D_b


def _coupling_sq(model, flavour, flavour_out):
    """μ_α² μ_β² (or μ_α² Σ_β μ_β² for flavour_out="all")."""
    mu_b2 = jnp.sum(model.mu**2) if flavour_out == "all" else model.mu[flavour_out] ** 2
    return model.mu[flavour] ** 2 * mu_b2


def _selected(model, final_state):
    """Which contractions contribute: list of lnv flags."""
    out = []
    if final_state in ("all", "lnc"):
        out.append(False)
    if final_state in ("all", "lnv") and model.is_majorana:
        out.append(True)
    return out


def _is_model(x) -> bool:
    return isinstance(x, DipoleModel)


#: The former order (momenta first); the model and nucleus now come first.
_MOMENTA = ("k_in", "P_in", "k_out", "P_out", "q")


@former_positions((*_MOMENTA, "eps", "model", "nucleus"), moved_first(_is_model, 6, "model"))
def amplitude_matrix(
    model: DipoleModel,
    nucleus: Nucleus,
    k_in: ArrayLike,
    P_in: ArrayLike,
    k_out: ArrayLike,
    P_out: ArrayLike,
    q: ArrayLike,
    eps: ArrayLike,
    *,
    lnv: bool = False,
    antineutrino: bool = False,
    diagram_a: bool = True,
    diagram_b: bool = True,
    form_factor: bool | str = True,
    width: ArrayLike | None = None,
    offshell_a: ArrayLike | None = None,
    current: ArrayLike | None = None,
) -> Array:
    """Dirac matrix A (4×4 complex, dimensionless) with M = μ_α μ_β ū(k') A u(k) [GeV^-1].

    The former order ``(k_in, P_in, k_out, P_out, q, eps, model, nucleus)`` is deprecated (it
    still works and warns).

    Parameters
    ----------
    model, nucleus : DipoleModel (m_N, width) and Nucleus (Z, M, form factor).
    k_in, P_in, k_out, P_out, q : 4-momenta [GeV] (shape (4,), contravariant, (+,−,−,−)) of the
        incoming ν, the nucleus before/after, the outgoing ν (or ν̄) and the photon.
    eps : photon polarisation vector ε (complex, shape (4,)); ε* enters the amplitude. Gauge
        invariance: ``eps = q`` gives A = 0 for each diagram.
    lnv : the lepton-number-violating contraction (ν -> ν̄; meaningful for a Majorana N).
    antineutrino : ν̄ beam (P_L <-> P_R).
    diagram_a, diagram_b : include the resonant (a) / non-resonant (b) diagram.
    form_factor : True/"helm" or False/"unit".
    width : N width [GeV] in the propagators (default ``decay_width(model)``).
    offshell_a : p_a² − m_N² [GeV²] to use in the resonant denominator instead of the value
        computed from the momenta (for widths below the float64 resolution of p_a²).
    current : replaces the nuclear current e Z F (P + P') [GeV] (e.g. by l, to test current
        conservation).
    """
    l, l2, J, S_a, S_b, D_a, D_b = _kinematics(
        k_in, P_in, k_out, P_out, q, model, nucleus, width, offshell_a, form_factor
    )
    if current is not None:
        J = jnp.asarray(current)
    p_in, p_mid = _projectors(antineutrino, lnv)
    V_q = dipole_vertex(jnp.conj(jnp.asarray(eps)), q)
    V_J = dipole_vertex(J, l)
    A = jnp.zeros((4, 4), dtype=jnp.complex128)
    if diagram_a:
        A = A + V_q @ p_mid @ S_a @ V_J @ p_in / D_a
    if diagram_b:
        A = A + V_J @ p_mid @ S_b @ V_q @ p_in / D_b
    return A / l2


def spin_summed(A: ArrayLike, k_in: ArrayLike, k_out: ArrayLike) -> Array:
    """Σ_spins |ū(k') A u(k)|² = Tr[k̸' A k̸ Ā] (massless spinors) for a fixed polarisation."""
    A = jnp.asarray(A)
    X = slash(k_out) @ A @ slash(k_in) @ dirac_bar(A)
    return jnp.real(jnp.trace(X))


@renamed_arguments(flavour_in="flavour")
@former_positions((*_MOMENTA, "model", "nucleus"), moved_first(_is_model, 5, "model"))
def squared_amplitude(
    model: DipoleModel,
    nucleus: Nucleus,
    k_in: ArrayLike,
    P_in: ArrayLike,
    k_out: ArrayLike,
    P_out: ArrayLike,
    q: ArrayLike,
    *,
    flavour: int = 0,
    flavour_out: int | str = "all",
    final_state: str = "all",
    antineutrino: bool = False,
    diagram_a: bool = True,
    diagram_b: bool = True,
    form_factor: bool | str = True,
    width: ArrayLike | None = None,
    offshell_a: ArrayLike | None = None,
) -> Array:
    """Spin-summed |M|² [GeV^-2] of ν_α(k) A(P) -> ν_β(k') A(P') γ(q), a real scalar.

    Summed over the photon polarisations and the final lepton spin, for a fully polarised
    incoming ν (ν̄ with ``antineutrino=True``) and a spin-0 nucleus. Single phase-space point
    (shape-(4,) momenta); use ``jax.vmap`` for batches. Jit-able and differentiable in the
    model (m_N, μ), the nucleus and the momenta. The former order
    ``(k_in, P_in, k_out, P_out, q, model, nucleus)`` is deprecated (it still works and warns).

    Parameters
    ----------
    model : DipoleModel. ``nature`` decides whether the LNV contraction exists.
    nucleus : Nucleus (Z, mass M, Helm parameters).
    k_in, P_in, k_out, P_out, q : 4-momenta [GeV], metric (+,−,−,−).
    flavour : beam flavour α (0, 1, 2 = e, μ, τ).
    flavour_out : final flavour β, or "all" to sum over β (final neutrino unobserved).
    final_state : "all" (ν and, for a Majorana N, ν̄ final states, incoherently summed),
        "lnc" (ν -> ν only) or "lnv" (ν -> ν̄ only; 0 for a Dirac N).
    antineutrino : ν̄ beam instead of ν (P_L <-> P_R in the vertices).
    diagram_a, diagram_b : switch the resonant (a) / non-resonant (b) diagram on or off.
    form_factor : True/"helm" or False/"unit".
    width : N width [GeV] (default ``decay_width(model)``).
    offshell_a : exact p_a² − m_N² [GeV²] for the resonant propagator (see
        :func:`amplitude_matrix`); the phase-space generator provides it.
    """
    _check_options(flavour, flavour_out, final_state)
    l, l2, J, S_a, S_b, D_a, D_b = _kinematics(
        k_in, P_in, k_out, P_out, q, model, nucleus, width, offshell_a, form_factor
    )
    V_rho = _photon_vertices(q)  # σ^{ρν} q_ν, the photon index ρ free (upper)
    V_J = dipole_vertex(J, l)
    kin_s, kout_s = slash(k_in), slash(k_out)
    total = jnp.zeros((), dtype=l2.dtype)
    for lnv in _selected(model, final_state):
        p_in, p_mid = _projectors(antineutrino, lnv)
        A = jnp.zeros((4, 4, 4), dtype=jnp.complex128)
        if diagram_a:
            A = A + _mm(V_rho, _mm(_mm(p_mid, S_a), _mm(V_J, p_in))) / D_a
        if diagram_b:
            A = A + _mm(_mm(_mm(V_J, p_mid), S_b), _mm(V_rho, p_in)) / D_b
        # −g_ρσ Tr[k̸' A^ρ k̸ Ā^σ]
        X = _mm(_mm(kout_s, A), kin_s)
        tr = jnp.sum(X * jnp.swapaxes(dirac_bar(A), -1, -2), axis=(-2, -1))
        total = total - jnp.sum(METRIC * jnp.real(tr))
    return total * _coupling_sq(model, flavour, flavour_out) / (l2 * l2)
