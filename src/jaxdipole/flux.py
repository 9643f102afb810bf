"""Neutrino fluxes: reactor ν̄_e spectra, user tables, monochromatic lines, and sums of them.

Every flux is an :class:`equinox.Module` pytree that knows its flavour (0 e, 1 μ, 2 τ) and
whether it is a neutrino or an antineutrino. The interface (:class:`Flux`) is what the fold
engine of :mod:`jaxdipole.rates` uses, so a new source plugs in by implementing it:

* ``dphi_dE(E)``: differential flux dΦ/dE [GeV^2 = per GeV per area per time] of the continuous
  part, zero outside its support, elementwise in ``E`` [GeV];
* ``support()``: (lowest, highest) energy [GeV] of the continuous part;
* ``lines()``: (energies [GeV], integrated fluxes [GeV^3]) of monochromatic lines, shapes (L,);
* ``panel_edges()``: increasing energies [GeV] between which the continuous density is smooth
  (its own kinks), from ``support()[0]`` to ``support()[1]``; the node policy lives here;
* ``nodes(E_low, breaks)``: quadrature nodes E and weights W (dΦ/dE included) such that
  Σ W f(E) = ∫_{E ≥ E_low} f dΦ for f smooth between the panel edges and the extra ``breaks``
  (kinks of the integrand, e.g. where a photon bin edge meets the end of a photon box); lines
  are nodes with weight flux · [E_line > E_low];
* ``fold(fn, E_low, breaks=..., batch_size=...)``: Σ W fn(E), vmapped (or accumulated over
  chunks of ``batch_size`` nodes with ``lax.map``), with ``E_low`` a differentiable bound;
* ``total(E_low)``: integrated flux above ``E_low`` [GeV^3 = per area per time];
* ``components()``: the elementary fluxes; ``a + b`` builds a :class:`FluxSum`.

Consumers (rates, experiments) iterate ``components()`` and use each component's own flavour,
so new sources (π-decay at rest, solar ⁸B) plug in as new components.

Sources
-------
* P. Huber, Phys. Rev. C 84 (2011) 024617: U235, Pu239, Pu241 spectra (exp of a 5th-order
  polynomial, fitted on ~2–8 MeV).
* Th. A. Mueller et al., Phys. Rev. C 83 (2011) 054615: U238 spectrum (same form).
* P. Vogel and J. Engel, Phys. Rev. D 39 (1989) 3378: exp(0.870 − 0.160 E − 0.091 E²).
* V. Kopeikin, L. Mikaelyan, V. Sinev, Phys. Atom. Nucl. 67 (2004) 1892: energies per fission
  (201.92, 205.52, 209.99, 213.60 MeV) and total ν̄ per fission (6.14, 7.08, 5.58, 6.42) for
  (U235, U238, Pu239, Pu241), used to normalise the low-energy extension below.
"""

# No ``from __future__ import annotations``: equinox's AbstractVar rejects string annotations.
import abc
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, cast

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from equinox import AbstractVar
from jax import Array
from jax.typing import ArrayLike

from . import units as u
from ._checks import check_choice, check_nonnegative, check_positive, concrete
from ._deprecate import former_positions, renamed_arguments, warn_deprecated
from ._quadrature import gauss_legendre_unit

FLAVOURS = (0, 1, 2)
#: Fissioning isotopes, in the order of every per-isotope array of this module.
ISOTOPES = ("U235", "U238", "Pu239", "Pu241")
#: log S_i(E) = Σ_k a_ik E^k, E in MeV, S per MeV per fission (Huber 2011; Mueller 2011 for U238).
HUBER_MUELLER_COEFFS = np.array([
    [4.367, -4.577, 2.100, -5.294e-1, 6.186e-2, -2.777e-3],      # U235  (Huber)
    [4.833e-1, 1.927e-1, -1.283e-1, -6.762e-3, 2.233e-3, -1.536e-4],  # U238  (Mueller)
    [4.757, -5.392, 2.563, -6.596e-1, 7.820e-2, -3.536e-3],      # Pu239 (Huber)
    [2.990, -2.882, 1.278, -3.343e-1, 3.905e-2, -1.754e-3],      # Pu241 (Huber)
])  # fmt: skip
#: Typical mid-cycle PWR fission fractions (U235, U238, Pu239, Pu241) [assumed].
DEFAULT_FISSION_FRACTIONS = (0.56, 0.08, 0.30, 0.06)
#: Energy released per fission [GeV] (Kopeikin 2004).
KOPEIKIN_ENERGIES_PER_FISSION = tuple(e * u.MeV for e in (201.92, 205.52, 209.99, 213.60))
#: Total ν̄ per fission (summation, Kopeikin 2004): targets of the low-energy extension.
NU_PER_FISSION = (6.14, 7.08, 5.58, 6.42)
#: Energy [GeV] below which the Huber–Mueller fit is replaced by the low-energy extension:
#: the inverse-beta-decay threshold, the lower end of the data the fits are constrained by.
E_MATCH = 1.8 * u.MeV
#: Vogel–Engel benchmark normalisation: ν̄ per fission on 0–10 MeV (the convention of the
#: independent reference tables the CEvNS/Primakoff benchmark numbers are checked against).
VOGEL_ENGEL_NU_PER_FISSION = 6.14102
#: Benchmark fission rate per thermal energy, 3.0921e16 fissions/s/MW [GeV^-1] (same reference
#: tables; Kopeikin 2004 energies per fission give 3.040e16 for the default mix).
ORACLE_FISSIONS_PER_ENERGY = 3.0921e16 / (u.MW * u.s)
SPECTRA = ("huber-mueller", "vogel-engel")
#: Most panels a :class:`TabulatedFlux` fold uses (finer tables: strongest kinks + a stride).
MAX_TABLE_PANELS = 64
_VE = (0.870, -0.160, -0.091)
_X_NORM = 10.0  # MeV: upper end of the normalisation integrals


def _ve_raw_integral(x1: float) -> float:
    """∫_0^x1 exp(0.870 − 0.160 x − 0.091 x²) dx (closed form, erf)."""
    a0, a1, a2 = _VE
    s, x0 = math.sqrt(-a2), a1 / (2.0 * -a2)
    pref = math.exp(a0 + a1 * a1 / (4.0 * -a2)) * math.sqrt(math.pi) / (2.0 * s)
    return pref * (math.erf(s * (x1 - x0)) - math.erf(-s * x0))


#: ∫_0^10 MeV of the raw Vogel–Engel formula (5.3236).
VOGEL_ENGEL_RAW_INTEGRAL = _ve_raw_integral(_X_NORM)


@functools.lru_cache(maxsize=16)
def low_energy_extension(e_match: float = E_MATCH) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-isotope (log S_m, b, c) of the Huber–Mueller extension below ``e_match`` [GeV].

    For x < x_m (x = E/MeV): log S_i = log S_m,i + b_i (x − x_m) + c_i (x − x_m)², where log S_m,i
    and b_i [1/MeV] are the HM value and log-slope at x_m (C¹ matching) and c_i [1/MeV²] solves
    ∫_0^10 MeV S_i = ``NU_PER_FISSION[i]`` (Newton; 96-point Gauss–Legendre, ~1e-14).
    """
    xm = float(e_match) / u.MeV
    if not 1.5 <= xm <= 3.0:
        raise ValueError(f"e_match must be in [1.5, 3] MeV, got {xm} MeV")
    t, w = gauss_legendre_unit(96)
    lo_x, hi_x = xm * t, xm + (_X_NORM - xm) * t
    out = []
    for a, n_tot in zip(HUBER_MUELLER_COEFFS, NU_PER_FISSION, strict=True):
        p = a[::-1]
        l0, b = np.polyval(p, xm), np.polyval(np.polyder(p), xm)
        hi = (_X_NORM - xm) * np.sum(w * np.exp(np.polyval(p, hi_x)))
        c, d2 = 0.0, (lo_x - xm) ** 2
        for _ in range(60):
            s = np.exp(l0 + b * (lo_x - xm) + c * d2)
            f, df = xm * np.sum(w * s) + hi - n_tot, xm * np.sum(w * d2 * s)
            c -= f / df
            if abs(f) < 1e-13:
                break
        out.append((l0, b, c))
    arrays = tuple(np.array(v) for v in zip(*out, strict=True))
    return cast(tuple[np.ndarray, np.ndarray, np.ndarray], arrays)  # (log S_m, b, c)


def _as_float(x: ArrayLike | Sequence[float]) -> Array:
    """Dynamic physical number as an inexact JAX array (keeps an inexact input dtype)."""
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(float)


def _panel_nodes(E_low: ArrayLike, edges: Array, n: int) -> tuple[Array, Array]:
    """Nodes and weights (without dΦ/dE) for Σ_k ∫_{max(E_low, a_k)}^{b_k} on panels
    [a_k, b_k] = edges[k:k+2], flattened to shape (K n,).

    Each panel uses E = lo + (b − lo) t², weight 2 t (b − lo) on n Gauss–Legendre nodes t ∈ [0, 1]
    (square-root map: smooths sqrt(E − E_low) thresholds). Panels below E_low (and panels of
    zero width, e.g. repeated edges) have zero weight.
    """
    dt = jnp.result_type(edges, E_low)
    t, w = (jnp.asarray(v, dtype=dt) for v in gauss_legendre_unit(n))
    a, b = edges[:-1], edges[1:]
    E_low = jnp.asarray(E_low, dtype=dt)
    # lo = clip(E_low, a, b), with d lo/d E_low = 1 only on the panel a <= E_low < b (no 1/2 at
    # ties): the gradient is -fn dΦ at E_low inside the support and exactly 0 for E_low >= E_max
    lo = jnp.where((E_low >= a) & (E_low < b), E_low, jnp.where(E_low < a, a, b))
    h = (b - lo)[:, None]
    E = lo[:, None] + h * t * t  # (K, n)
    return E.ravel(), (2.0 * t * w * h).ravel()


def _with_breaks(edges: Array, breaks: ArrayLike | None) -> Array:
    """Panel edges with extra break points inserted (clipped into [edges[0], edges[-1]])."""
    if breaks is None:
        return edges
    br = jnp.ravel(jnp.asarray(breaks, dtype=edges.dtype))
    if br.shape[0] == 0:
        return edges
    # NaN-free: a non-finite break (e.g. +inf for "never") lands on the last edge
    br = jnp.where(jnp.isnan(br), edges[-1], br)
    br = jnp.clip(br, edges[0], edges[-1])
    return jnp.sort(jnp.concatenate([edges, br]))


def chunked_map(fn: Callable, xs: Any, batch_size: int | None) -> Any:
    """``fn`` over the leading axis of the pytree ``xs``: one ``vmap`` if ``batch_size`` is None
    or covers it, else ``lax.map`` over chunks of at most ``batch_size`` (padded with copies
    of the last element to equal chunks, so that one body is compiled; padding sliced off)."""
    n = jax.tree.leaves(xs)[0].shape[0]
    if batch_size is None or batch_size >= n:
        return jax.vmap(fn)(xs)
    n_chunks = -(-n // batch_size)
    b = -(-n // n_chunks)  # equal chunks of b <= batch_size
    pad = n_chunks * b - n

    def padded(x):
        return jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)]) if pad else x

    out = jax.lax.map(fn, jax.tree.map(padded, xs), batch_size=b)
    return jax.tree.map(lambda v: v[:n], out)


try:  # True outside every transformation (jit, vmap, grad, ...)
    from jax._src.core import trace_state_clean as _trace_state_clean
except ImportError:  # pragma: no cover - a JAX without it: folds run as written
    _trace_state_clean = None


@eqx.filter_jit
def _fold_compiled(method, flux, fn, E_low, kw):
    return method(flux, fn, E_low, **kw)


def _compiled_when_eager(method: Callable) -> Callable:
    """A fold called outside any transformation runs as one compiled program (``fn`` is
    static: calling again with the same function object reuses it, a new function compiles
    anew); inside a transformation it is traced as written."""

    @functools.wraps(method)
    def fold(self, fn, E_low=0.0, **kw):
        if _trace_state_clean is None or not _trace_state_clean():
            return method(self, fn, E_low, **kw)
        return _fold_compiled(method, self, fn, jnp.asarray(E_low, dtype=float), kw)

    return fold


def fold_options(
    breaks: Any = None, batch_size: int | None = None, parts: str = "all", n_per_panel=None
) -> dict[str, Any]:
    """Keyword arguments for :meth:`Flux.fold` holding only the options in use, so that a flux
    overriding ``fold(fn, E_low)`` with the plain signature still folds where none is."""
    kw = {"breaks": breaks, "batch_size": batch_size, "n_per_panel": n_per_panel}
    kw = {k: v for k, v in kw.items() if v is not None}
    if parts != "all":
        kw["parts"] = parts
    return kw


def fold_nodes(fn: Callable, E: Array, W: Array, batch_size: int | None = None) -> Any:
    """Σ_k W_k fn(E_k) for a pytree-valued ``fn`` of a scalar energy (the fold of a flux on
    the nodes and weights of :meth:`Flux.nodes`). ``batch_size``: evaluate ``fn`` on chunks of
    that many nodes (``lax.map``) to bound memory; default all at once (``vmap``)."""
    vals = chunked_map(fn, E, batch_size)
    return jax.tree.map(lambda v: jnp.tensordot(W.astype(v.dtype), v, axes=1), vals)


class Flux(eqx.Module):
    """Abstract neutrino flux: ``flavour`` (static int: 0 e, 1 μ, 2 τ) and ``antineutrino``
    (static bool: True for ν̄) are declared by every concrete flux.

    A concrete flux implements ``dphi_dE`` and ``support`` and, where it has them, ``lines``
    (monochromatic parts) and ``panel_edges`` (the kinks of its density); ``nodes`` and
    ``fold`` then follow. ``n_energy`` (static int, where a flux has it) is its Gauss–Legendre
    rule in the neutrino energy, nodes per panel.
    """

    flavour: AbstractVar[int]
    antineutrino: AbstractVar[bool]

    @abc.abstractmethod
    def dphi_dE(self, E: ArrayLike) -> Array:
        """dΦ/dE [GeV^2] at neutrino energy ``E`` [GeV] (elementwise); 0 outside the support."""

    def support(self) -> tuple[Array, Array]:
        """(lowest, highest) energy [GeV] of the continuous part (equal for a pure line)."""
        raise ValueError(
            f"flux {type(self).__name__} is not supported: a Flux must define support() "
            "(and lines()/panel_edges() where it has them)"
        )

    def lines(self) -> tuple[Array, Array]:
        """(energies [GeV], integrated fluxes [GeV^3]) of the monochromatic lines, shape (L,)
        each; (empty, empty) by default."""
        z = jnp.zeros((0,), dtype=jnp.result_type(float))
        return z, z

    def has_continuum(self) -> bool:
        """Whether the flux has a continuous part (static)."""
        return True

    def panel_edges(self) -> Array:
        """Increasing energies [GeV] between which dΦ/dE is smooth, from support()[0] to
        support()[1] (default: the support as one panel)."""
        lo, hi = self.support()
        return jnp.stack([jnp.asarray(lo), jnp.asarray(hi)])

    @property
    def nodes_per_panel(self) -> int:
        """Gauss–Legendre nodes per panel (the ``n_energy`` field where a flux has one; a
        subclass written before the rename may still call it ``n_nodes``; default 32)."""
        n = getattr(self, "n_energy", None)
        return int(getattr(self, "n_nodes", 32) if n is None else n)

    def _density(self, E: Array) -> Array:
        """dΦ/dE at quadrature nodes inside the support (subclasses may skip the mask)."""
        return self.dphi_dE(E)

    def nodes(
        self,
        E_low: ArrayLike = 0.0,
        breaks: ArrayLike | None = None,
        parts: str = "all",
        n_per_panel: int | None = None,
    ) -> tuple[Array, Array]:
        """Quadrature (E [GeV], W [GeV^3]) with Σ W f(E) = ∫_{E ≥ E_low} f dΦ.

        Parameters
        ----------
        E_low : float
            Lower bound [GeV]; differentiable (the weights carry the Leibniz term).
        breaks : (B,) array, optional
            Extra panel edges [GeV] where the integrand (not the flux) has kinks; clipped
            into the support (a break outside it, or +inf, adds an empty panel). Each adds
            one panel of ``nodes_per_panel`` nodes, so B is static.
        parts : {"all", "continuum", "lines"}
            Which part of the flux (static).
        n_per_panel : int, optional
            Nodes per panel instead of ``nodes_per_panel`` (static): for callers whose breaks
            leave only smooth panels.

        Returns
        -------
        (E, W) of static length (panels × nodes_per_panel + number of lines); nodes of empty
        panels and of lines at or below E_low have zero weight (``fn`` is still evaluated
        there and must be finite).
        """
        check_choice("parts", parts, ("all", "continuum", "lines"))
        Es, Ws = [], []
        if self.has_continuum() and parts != "lines":
            edges = _with_breaks(jnp.asarray(self.panel_edges()), breaks)
            E, W = _panel_nodes(E_low, edges, n_per_panel or self.nodes_per_panel)
            Es.append(E)
            Ws.append(W * self._density(E))
        e_line, f_line = self.lines()
        if e_line.shape[0] and parts != "continuum":
            Es.append(e_line)
            Ws.append(jnp.where(e_line > E_low, f_line, 0.0))
        if not Es:  # nothing of the requested part: one zero-weight node
            z = jnp.zeros((1,), jnp.result_type(jnp.asarray(E_low), float))
            return z + jnp.asarray(self.support()[1], z.dtype), z
        dt = jnp.result_type(*Es)
        return jnp.concatenate([e.astype(dt) for e in Es]), jnp.concatenate(
            [w.astype(dt) for w in Ws]
        )

    @_compiled_when_eager
    def fold(
        self,
        fn: Callable[[Array], Any],
        E_low: ArrayLike = 0.0,
        *,
        breaks: ArrayLike | None = None,
        batch_size: int | None = None,
        parts: str = "all",
        n_per_panel: int | None = None,
    ) -> Any:
        """∫_{E ≥ E_low} fn(E) dΦ/dE dE (lines included).

        Parameters
        ----------
        fn : callable
            Scalar energy [GeV] → scalar, array or pytree (vmapped over the nodes). It may be
            called, with zero weight, at energies below ``E_low`` (panels below the bound, or
            E_max when E_low ≥ E_max): it must return finite values and gradients there.
        E_low : float
            Lower bound [GeV] (e.g. a kinematic threshold); differentiable.
        breaks : (B,) array, optional
            Energies [GeV] where ``fn`` has kinks (see :meth:`nodes`).
        batch_size : int, optional
            Evaluate ``fn`` on chunks of this many nodes (``lax.map``): memory bounded by
            the chunk, not by the number of nodes. Default: all nodes at once (``vmap``).
        parts : {"all", "continuum", "lines"}
            Fold only that part of the flux (static).
        n_per_panel : int, optional
            Nodes per panel instead of the flux's own rule (see :meth:`nodes`).

        Returns
        -------
        Same structure as ``fn``'s output, times GeV^3 (per area per time).
        """
        E, W = self.nodes(E_low, breaks, parts, n_per_panel)
        return fold_nodes(fn, E, W, batch_size)

    def energy_max(self) -> Array:
        """Largest neutrino energy [GeV] with non-zero flux (lines included; +inf for a flux
        that does not define its support)."""
        try:
            hi = jnp.asarray(self.support()[1])
        except ValueError:  # support unknown: no end point
            return jnp.asarray(jnp.inf)
        e_line = self.lines()[0]
        return jnp.maximum(hi, jnp.max(e_line)) if e_line.shape[0] else hi

    def total(self, E_low: ArrayLike = 0.0) -> Array:
        """Integrated flux above ``E_low`` [GeV] in GeV^3 (per area per time)."""
        return self.fold(jnp.ones_like, E_low)

    def components(self) -> tuple["Flux", ...]:
        """Elementary flux components (``(self,)`` for an elementary flux)."""
        return (self,)

    def __add__(self, other: Any) -> "FluxSum":
        if not isinstance(other, Flux):
            return NotImplemented
        return FluxSum(self.components() + other.components())

    def __radd__(self, other: Any) -> "Flux":
        if isinstance(other, int) and other == 0:  # so that sum(fluxes) works
            return self
        return NotImplemented


def _check_flavour(flavour: Any) -> None:
    if isinstance(flavour, bool) or not isinstance(flavour, int | np.integer):
        raise ValueError(f"flavour must be one of [0, 1, 2] (e, mu, tau), got {flavour!r}")
    check_choice("flavour (0 e, 1 mu, 2 tau)", int(flavour), set(FLAVOURS))


def _check_n_energy(n: Any) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n_energy must be an int >= 1, got {n!r}")


def _deprecated_n_nodes(flux: Any) -> int:
    """``flux.n_energy``, with the DeprecationWarning of the former spelling ``n_nodes``
    (for the read-only ``n_nodes`` properties; the warning points at their caller)."""
    warn_deprecated(f"{type(flux).__name__}: attribute 'n_nodes' is deprecated, use 'n_energy'", 2)
    return flux.n_energy


class ReactorFlux(Flux):
    """Reactor ν̄_e flux dΦ/dE = Σ_cores R_i S(E) / (4π L_i²) [GeV^2].

    R_i = P_i / ⟨E_f⟩ (⟨E_f⟩ = Σ_j f_j E_f,j), or P_i × ``fissions_per_energy`` if given;
    S(E) = Σ_j f_j S_j(E) per GeV per fission; everything is 0 outside [0, ``e_max``].

    ``"huber-mueller"``: Huber (U235, Pu239, Pu241) + Mueller (U238) above ``e_match`` = 1.8 MeV
    (the IBD threshold, where the data constraining the fits begin).
    The fits are constrained on ~2–8 MeV; their polynomial extrapolation downwards is unphysical
    (S(0) ~ 80 /MeV/fission; 21.7 ν̄/fission on 0–1.8 MeV instead of ≈ 4). Below e_match each
    isotope uses log S_j = log S_HM,j(x_m) + b_j (x − x_m) + c_j (x − x_m)² (x = E/MeV, see
    :func:`low_energy_extension`): value and log-slope b_j match HM (C¹ in log S) and c_j makes
    ∫_0^10 MeV S_j = 6.14 / 7.08 / 5.58 / 6.42 ν̄/fission (U235 / U238 / Pu239 / Pu241, Kopeikin
    2004 summation totals; 6.064 for the default mix). This is the minimal smooth family with
    value, slope and normalisation as parameters. With x_m = 2: c = (−0.205, 0.114, −0.149,
    −0.059) /MeV², S(0) = 2.73, 4.36, 3.19, 3.83 /MeV/fission (normalised Vogel–Engel: 2.75),
    decreasing in E above 0.12 MeV (U235 turns over mildly below). It does not model the true
    vanishing of S at E → 0 nor ν̄ from neutron capture on U238; results that depend on
    E_ν < 2 MeV (m_N < 2 MeV, SM CEvNS at eV thresholds) are flux-model dependent: vary
    ``e_match`` (1.5–3 MeV) or compare with ``"vogel-engel"`` to gauge it.

    ``"vogel-engel"``: S = 6.14102 exp(0.870 − 0.160 x − 0.091 x²) / 5.3236 per MeV per fission
    for every isotope (shape: Vogel and Engel, Phys. Rev. D 39 (1989) 3378; 6.14102 ν̄/fission
    on 0–10 MeV). The benchmark set-up (SM CEvNS and Primakoff reference rates) also uses
    3.0921e16 fissions/s/MW_th: see :meth:`vogel_engel_benchmark`.

    Parameters
    ----------
    thermal_power : float or 1-D array
        Thermal power per core [GeV^2] (e.g. ``4 * u.GW``), ≥ 0; broadcasts with ``distance``.
    distance : float or 1-D array
        Core–detector distance [GeV^-1] (e.g. ``100 * u.m``), > 0.
    spectrum : {"huber-mueller", "vogel-engel"}
        Spectral model (static).
    fission_fractions : (4,) array
        Fractions of (U235, U238, Pu239, Pu241) fissions, ≥ 0, summing to 1 (±1e-6).
    energies_per_fission : (4,) array
        Energy per fission [GeV], same order (default Kopeikin 2004; mean 205.33 MeV).
    e_max : float
        Upper end of the spectrum [GeV], default 10 MeV (HM is validated up to ~8 MeV).
    fissions_per_energy : float, optional
        Overrides 1/⟨E_f⟩ [GeV^-1], e.g. ``ORACLE_FISSIONS_PER_ENERGY``.
    e_match : float
        Matching energy [GeV] of the low-energy extension, 1.5–3 MeV (static, default 1.8 MeV).
    n_energy : int
        Gauss–Legendre nodes in the neutrino energy per panel (static, default 32; formerly
        ``n_nodes``): HM folds 0–e_match and e_match–e_max separately (64 nodes), Vogel–Engel
        0–e_max. Measured fold error for sqrt(E − E_th)·E² at E_th = 0.3–9.999 MeV: ≤ 2e-12
        (16 nodes: 6e-7; 24: 1e-9).
    flavour, antineutrino
        Default 0 and True (ν̄_e).
    """

    thermal_power: Array
    distance: Array
    fission_fractions: Array
    energies_per_fission: Array
    e_max: Array
    fissions_per_energy: Array | None
    spectrum: str = eqx.field(static=True)
    e_match: float = eqx.field(static=True)
    n_energy: int = eqx.field(static=True)
    flavour: int = eqx.field(static=True)
    antineutrino: bool = eqx.field(static=True)

    @renamed_arguments(n_nodes="n_energy")
    def __init__(
        self,
        thermal_power: ArrayLike,
        distance: ArrayLike,
        *,
        spectrum: str = "huber-mueller",
        fission_fractions: ArrayLike | Sequence[float] = DEFAULT_FISSION_FRACTIONS,
        energies_per_fission: ArrayLike | Sequence[float] = KOPEIKIN_ENERGIES_PER_FISSION,
        e_max: ArrayLike = 10.0 * u.MeV,
        fissions_per_energy: ArrayLike | None = None,
        e_match: float = E_MATCH,
        n_energy: int = 32,
        flavour: int = 0,
        antineutrino: bool = True,
    ):
        self.thermal_power, self.distance = _as_float(thermal_power), _as_float(distance)
        self.fission_fractions = _as_float(fission_fractions)
        self.energies_per_fission = _as_float(energies_per_fission)
        self.e_max = _as_float(e_max)
        fpe = fissions_per_energy
        self.fissions_per_energy = None if fpe is None else _as_float(fpe)
        self.spectrum, self.e_match, self.n_energy = spectrum, float(e_match), n_energy
        self.flavour, self.antineutrino = flavour, bool(antineutrino)

    def __check_init__(self):
        check_choice("spectrum", self.spectrum, set(SPECTRA))
        low_energy_extension(self.e_match)  # validates e_match, caches the extension
        _check_flavour(self.flavour)
        _check_n_energy(self.n_energy)
        P, L = self.thermal_power, self.distance
        check_nonnegative("thermal_power", P, "[GeV^2]")
        check_positive("distance", L, "[GeV^-1]")
        if P.ndim > 1 or L.ndim > 1 or (P.ndim == L.ndim == 1 and P.shape != L.shape):
            raise ValueError("thermal_power and distance must be scalars or same-shape 1-D arrays")
        for name in ("fission_fractions", "energies_per_fission"):
            if jnp.shape(getattr(self, name)) != (4,):
                raise ValueError(f"{name} must have shape (4,) for {ISOTOPES}")
        check_nonnegative("fission_fractions", self.fission_fractions)
        f = concrete(self.fission_fractions)
        if f is not None and abs(f.sum() - 1.0) > 1e-6:
            raise ValueError(f"fission_fractions must sum to 1 (within 1e-6), got sum {f.sum()}")
        check_positive("energies_per_fission", self.energies_per_fission, "[GeV]")
        check_positive("e_max", self.e_max, "[GeV]")
        if self.fissions_per_energy is not None:
            check_positive("fissions_per_energy", self.fissions_per_energy, "[GeV^-1]")

    @property
    def n_nodes(self) -> int:
        """Deprecated spelling of ``n_energy`` (read-only; warns)."""
        return _deprecated_n_nodes(self)

    @classmethod
    @renamed_arguments(n_nodes="n_energy")
    def vogel_engel_benchmark(
        cls, thermal_power: ArrayLike, distance: ArrayLike, **kwargs: Any
    ) -> "ReactorFlux":
        """Benchmark flux of the reference CEvNS/Primakoff rates: Vogel–Engel shape
        (Phys. Rev. D 39 (1989) 3378), 6.14102 ν̄/fission on 0–10 MeV, 3.0921e16 fissions/s/MW_th
        (instead of P/⟨E_f⟩ = 3.040e16 /s/MW).

        4000 MW_th at 100 m gives Φ_tot = 6.044e11 cm⁻² s⁻¹. ``kwargs``: further ReactorFlux
        arguments (e.g. ``n_energy``).
        """
        fpe = ORACLE_FISSIONS_PER_ENERGY
        return cls(
            thermal_power, distance, spectrum="vogel-engel", fissions_per_energy=fpe, **kwargs
        )

    @property
    def mean_energy_per_fission(self) -> Array:
        """⟨E_f⟩ = Σ_j f_j E_f,j [GeV]."""
        return jnp.sum(self.fission_fractions * self.energies_per_fission)

    @property
    def fission_rate(self) -> Array:
        """Fissions per time [GeV] per core (shape of ``thermal_power``)."""
        if self.fissions_per_energy is not None:
            return self.thermal_power * self.fissions_per_energy
        return self.thermal_power / self.mean_energy_per_fission

    def _rate_per_area(self) -> Array:
        """Σ_i R_i / (4π L_i²) [GeV^3 per fission-spectrum unit]."""
        return jnp.sum(self.fission_rate / (4.0 * jnp.pi * self.distance**2))

    def _log_spectra_mev(self, x: Array) -> Array:
        """log S per MeV per fission at x = E/MeV ≥ 0: shape x.shape + (4,) for HM (isotopes),
        x.shape for Vogel–Engel (isotope independent)."""
        dt = jnp.result_type(x, 0.0)
        x = jnp.asarray(x, dt)
        if self.spectrum == "vogel-engel":
            norm = math.log(VOGEL_ENGEL_NU_PER_FISSION / VOGEL_ENGEL_RAW_INTEGRAL)
            return norm + _VE[0] + _VE[1] * x + _VE[2] * x * x
        x = x[..., None]
        a = jnp.asarray(HUBER_MUELLER_COEFFS.T, dt)  # (6, 4)
        lm, b, c = (jnp.asarray(v, dt) for v in low_energy_extension(self.e_match))
        xm = self.e_match / u.MeV
        xh = jnp.maximum(x, xm)
        hm = a[0] + xh * (a[1] + xh * (a[2] + xh * (a[3] + xh * (a[4] + xh * a[5]))))
        d = jnp.minimum(x, xm) - xm
        return jnp.where(x >= xm, hm, lm + b * d + c * d * d)

    def _inside(self, E: ArrayLike) -> tuple[Array, Array]:
        """(E in [0, e_max], E clipped into it): double-where for the masked evaluations."""
        E = jnp.asarray(E)
        E = E.astype(jnp.result_type(E, 0.0))
        return (E >= 0) & (E <= self.e_max), jnp.clip(E, 0.0, self.e_max)

    def isotope_spectra(self, E: ArrayLike) -> Array:
        """Per-isotope S_j(E) [per GeV per fission], shape E.shape + (4,), order ``ISOTOPES``."""
        inside, Ec = self._inside(E)
        log_s = self._log_spectra_mev(Ec / u.MeV)
        if self.spectrum == "vogel-engel":
            log_s = jnp.broadcast_to(log_s[..., None], log_s.shape + (4,))
        return jnp.where(inside[..., None], jnp.exp(log_s) / u.MeV, 0.0)

    def _spectrum(self, E: Array) -> Array:
        s = jnp.exp(self._log_spectra_mev(E / u.MeV)) / u.MeV
        if self.spectrum == "vogel-engel":
            return s
        return jnp.sum(self.fission_fractions.astype(s.dtype) * s, axis=-1)  # dtype follows E

    def spectrum_per_fission(self, E: ArrayLike) -> Array:
        """Σ_j f_j S_j(E) [per GeV per fission] at E [GeV]; 0 outside [0, e_max]."""
        inside, Ec = self._inside(E)
        return jnp.where(inside, self._spectrum(Ec), 0.0)

    def dphi_dE(self, E: ArrayLike) -> Array:
        """dΦ/dE [GeV^2] at E [GeV]; 0 outside [0, e_max]."""
        return self.spectrum_per_fission(E) * self._rate_per_area()

    def support(self) -> tuple[Array, Array]:
        """(0, ``e_max``) [GeV]."""
        return jnp.zeros_like(self.e_max), self.e_max

    def panel_edges(self) -> Array:
        """HM: 0, min(e_match, e_max), e_max (the extension is only C¹ at e_match);
        Vogel–Engel: 0, e_max."""
        zero = jnp.zeros_like(self.e_max)
        if self.spectrum == "huber-mueller":
            return jnp.stack([zero, jnp.minimum(self.e_match, self.e_max), self.e_max])
        return jnp.stack([zero, self.e_max])

    def _density(self, E: Array) -> Array:
        return self._spectrum(E) * self._rate_per_area()


class TabulatedFlux(Flux):
    """User-tabulated flux, log-log interpolated (a power law between knots), 0 outside the table.

    Parameters
    ----------
    energies : (K+1,) array
        Knot energies [GeV], > 0, strictly increasing, K+1 ≥ 2.
    dphi_dE : (K+1,) array
        dΦ/dE at the knots [GeV^2 = per GeV per area per time], > 0 and finite.
    flavour, antineutrino
        Default 0 and True (ν̄_e); ``antineutrino`` is keyword-only (positionally deprecated).
    n_energy : int
        Gauss–Legendre nodes in the neutrino energy per panel (static, default 8; formerly
        ``n_nodes``). Up to ``MAX_TABLE_PANELS`` = 64 intervals, ``fold`` integrates each
        interval [E_k, E_k+1] separately (the interpolant is smooth inside, kinked at the
        knots) with the square-root map at max(E_low, E_k):
        measured on a power law with sqrt(E − E_th), knot ratio E_k+1/E_k = 2 gives ~1e-9, a
        ratio of 10 ~1e-5 (16 nodes: 1e-11). Finer tables describe the spectrum more finely,
        not the integrand: they are folded on 64 panels (:meth:`panel_edges`) -- at most
        64 × n_energy evaluations of ``fn`` whatever the table size. The log-log
        interpolation itself errs by ~(Δ ln E)²/8 · |d² ln Φ/d(ln E)²|: 401 knots on
        0.05–10 MeV reproduce the reactor folds to 1e-4 (threshold ≤ 3 MeV) and 1e-3
        (8 MeV, steep tail).
    """

    energies: Array
    dphi_table: Array
    n_energy: int = eqx.field(static=True)
    flavour: int = eqx.field(static=True)
    antineutrino: bool = eqx.field(static=True)

    @renamed_arguments(n_nodes="n_energy")
    @former_positions(("self", "energies", "dphi_dE", "flavour", "antineutrino"))
    def __init__(
        self,
        energies: ArrayLike,
        dphi_dE: ArrayLike,
        flavour: int = 0,
        *,
        antineutrino: bool = True,
        n_energy: int = 8,
    ):
        self.energies, self.dphi_table = _as_float(energies), _as_float(dphi_dE)
        self.n_energy, self.flavour, self.antineutrino = n_energy, flavour, bool(antineutrino)

    @property
    def n_nodes(self) -> int:
        """Deprecated spelling of ``n_energy`` (read-only; warns)."""
        return _deprecated_n_nodes(self)

    def __check_init__(self):
        _check_flavour(self.flavour)
        _check_n_energy(self.n_energy)
        shape = jnp.shape(self.energies)
        if len(shape) != 1 or shape[0] < 2:
            raise ValueError(f"energies must be a 1-D array of >= 2 points, got shape {shape}")
        if jnp.shape(self.dphi_table) != shape:
            raise ValueError(f"dphi_dE must have the shape of energies {shape}")
        check_positive("energies", self.energies, "[GeV]")
        check_positive("dphi_dE", self.dphi_table, "[GeV^2]")
        e = concrete(self.energies)
        if e is not None and not np.all(np.diff(e) > 0):
            raise ValueError("energies must be strictly increasing")

    def _power_law(self) -> tuple[Array, Array, Array]:
        """(log E_k, log dΦ_k, exponent p_k) of the K intervals."""
        lx, ly = jnp.log(self.energies), jnp.log(self.dphi_table)
        return lx[:-1], ly[:-1], jnp.diff(ly) / jnp.diff(lx)

    def dphi_dE(self, E: ArrayLike) -> Array:
        """dΦ/dE [GeV^2] at E [GeV]; 0 outside [E_0, E_last]."""
        E = jnp.asarray(E)
        E = E.astype(jnp.result_type(E, self.energies))
        lx, ly, p = self._power_law()
        e0, e1 = self.energies[0], self.energies[-1]
        Ec = jnp.clip(E, e0, e1)
        k = jnp.clip(jnp.searchsorted(self.energies, Ec, side="right") - 1, 0, p.shape[0] - 1)
        val = jnp.exp(ly[k] + p[k] * (jnp.log(Ec) - lx[k]))
        return jnp.where((E >= e0) & (E <= e1), val, 0.0)

    def support(self) -> tuple[Array, Array]:
        """(first knot, last knot) [GeV]."""
        return self.energies[0], self.energies[-1]

    def panel_edges(self) -> Array:
        """Panel edges [GeV] of the fold: every knot for K <= ``MAX_TABLE_PANELS`` intervals;
        for finer tables, ``MAX_TABLE_PANELS``/2 knots at a uniform stride plus the
        ``MAX_TABLE_PANELS``/2 knots with the largest kinks of the interpolant (change of
        slope |Δp| · dΦ/dE · E, p the log-log exponent). The number of panels, hence nodes,
        time and memory of every fold, does not grow with the table beyond that."""
        e = self.energies
        K = e.shape[0] - 1
        if K <= MAX_TABLE_PANELS:
            return e
        half = MAX_TABLE_PANELS // 2
        stride_idx = np.unique(np.round(np.linspace(0, K, half + 1)).astype(int))
        _, ly, p = self._power_law()
        score = jnp.abs(jnp.diff(p)) * jnp.exp(ly[1:]) * e[1:-1]  # interior knots 1..K-1
        taken = np.zeros(K - 1, dtype=bool)
        taken[stride_idx[(stride_idx > 0) & (stride_idx < K)] - 1] = True
        score = jnp.where(jnp.asarray(taken), -1.0, score)
        n_kink = min(MAX_TABLE_PANELS - (stride_idx.shape[0] - 1), K - 1 - int(taken.sum()))
        kink_idx = jax.lax.top_k(jax.lax.stop_gradient(score), n_kink)[1] + 1
        return jnp.sort(jnp.concatenate([e[stride_idx], e[kink_idx]]))

    @property
    def nodes_per_panel(self) -> int:
        return self.n_energy


class MonochromaticFlux(Flux):
    """A line: dΦ/dE = flux · δ(E − energy) (e.g. π⁺ decay-at-rest ν_μ at 29.8 MeV).

    Parameters
    ----------
    energy : float
        Line energy [GeV], > 0.
    flux : float
        Integrated flux [GeV^3 = per area per time], ≥ 0.
    flavour, antineutrino
        Default 0 and False; ``antineutrino`` is keyword-only (positionally deprecated).

    ``dphi_dE`` returns 0 everywhere (a delta has no finite density); use ``fold``/``total``.
    ``fold(fn, E_low) = flux · fn(energy)`` if energy > E_low, else 0 (one node, exact): the
    step in E_low is the exact physics of a line (its derivative in E_low is 0 away from it).
    """

    energy: Array
    flux: Array
    flavour: int = eqx.field(static=True)
    antineutrino: bool = eqx.field(static=True)

    @former_positions(("self", "energy", "flux", "flavour", "antineutrino"))
    def __init__(
        self, energy: ArrayLike, flux: ArrayLike, flavour: int = 0, *, antineutrino: bool = False
    ):
        self.energy, self.flux = _as_float(energy), _as_float(flux)
        self.flavour, self.antineutrino = flavour, bool(antineutrino)

    def __check_init__(self):
        _check_flavour(self.flavour)
        check_positive("energy", self.energy, "[GeV]")
        check_nonnegative("flux", self.flux, "[GeV^3]")

    def dphi_dE(self, E: ArrayLike) -> Array:
        """0 (documented: the line is a delta function; see the class docstring)."""
        E = jnp.asarray(E)
        return jnp.zeros(E.shape, jnp.result_type(E, self.flux))

    def support(self) -> tuple[Array, Array]:
        """(energy, energy): no continuum."""
        return self.energy, self.energy

    def lines(self) -> tuple[Array, Array]:
        """The line: (energy[None], flux[None])."""
        return self.energy[None], self.flux[None]

    def has_continuum(self) -> bool:
        return False


class FluxSum(Flux):
    """Sum of flux components (nested sums are flattened; flavours may differ).

    Parameters
    ----------
    components : sequence of Flux
        The components; ``fold``/``total``/``dphi_dE`` add theirs. Rates must iterate
        ``components()`` and treat each with its own ``flavour``/``antineutrino``.
    """

    parts: tuple[Flux, ...]

    def __init__(self, components: Any):
        flat: list[Flux] = []
        for c in tuple(components):
            if not isinstance(c, Flux):
                raise ValueError(f"components must be Flux instances, got {type(c).__name__}")
            flat.extend(c.components())
        if not flat:
            raise ValueError("components must hold at least one Flux")
        self.parts = tuple(flat)

    def _common(self, name: str) -> Any:
        vals = {getattr(c, name) for c in self.parts}
        if len(vals) != 1:
            raise ValueError(f"FluxSum mixes {name} values {sorted(vals)}: iterate components()")
        return vals.pop()

    @property
    def flavour(self) -> int:
        """Common flavour of all components (ValueError if they differ)."""
        return self._common("flavour")

    @property
    def antineutrino(self) -> bool:
        """Common ν/ν̄ nature of all components (ValueError if they differ)."""
        return self._common("antineutrino")

    def components(self) -> tuple[Flux, ...]:
        return self.parts

    def dphi_dE(self, E: ArrayLike) -> Array:
        """Σ_components dΦ/dE [GeV^2] (all flavours together)."""
        return sum((c.dphi_dE(E) for c in self.parts[1:]), self.parts[0].dphi_dE(E))

    def support(self) -> tuple[Array, Array]:
        """(lowest, highest) support energy of the components [GeV]."""
        los, his = zip(*(c.support() for c in self.parts), strict=True)
        return jnp.min(jnp.stack(los)), jnp.max(jnp.stack(his))

    def lines(self) -> tuple[Array, Array]:
        e, f = zip(*(c.lines() for c in self.parts), strict=True)
        return jnp.concatenate(e), jnp.concatenate(f)

    def has_continuum(self) -> bool:
        return any(c.has_continuum() for c in self.parts)

    def energy_max(self) -> Array:
        """Largest end point of the components [GeV]."""
        return jnp.max(jnp.stack([c.energy_max() for c in self.parts]))

    def nodes(
        self,
        E_low: ArrayLike = 0.0,
        breaks: ArrayLike | None = None,
        parts: str = "all",
        n_per_panel: int | None = None,
    ) -> tuple[Array, Array]:
        """The components' nodes and weights, concatenated (all flavours together)."""
        E, W = zip(*(c.nodes(E_low, breaks, parts, n_per_panel) for c in self.parts), strict=True)
        return jnp.concatenate(E), jnp.concatenate(W)

    @_compiled_when_eager
    def fold(
        self,
        fn: Callable[[Array], Any],
        E_low: ArrayLike = 0.0,
        *,
        breaks: ArrayLike | None = None,
        batch_size: int | None = None,
        parts: str = "all",
        n_per_panel: int | None = None,
    ) -> Any:
        """Σ_components fold(fn, E_low) (all flavours together)."""
        kw = fold_options(breaks, batch_size, parts, n_per_panel)
        outs = [c.fold(fn, E_low, **kw) for c in self.parts]
        return functools.reduce(lambda x, y: jax.tree.map(jnp.add, x, y), outs)
