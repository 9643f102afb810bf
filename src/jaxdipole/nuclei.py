"""Target nuclei and detector materials, and the Helm nuclear form factor.

Contents
--------
* :class:`Nucleus` -- one nuclear species (Z, A static; masses and Helm parameters dynamic).
* :func:`nucleus` -- catalogue of isotopes (``"Ge74"``) and natural-abundance effective nuclei
  (``"Ge"`` / ``"natGe"``), case-insensitive.
* :class:`Material` -- a detector material: nuclei with their mass fractions; :func:`material`
  catalogue (``"CaWO4"``, ``"Al2O3"``, ``"Ge"``, ...) expanded into isotopes, and
  :func:`as_material` to wrap a nucleus.
* :func:`helm_form_factor`, :func:`form_factor` -- Helm form factor (Lewin & Smith,
  Astropart. Phys. 6 (1996) 87) as a function of momentum transfer or recoil energy.

All quantities in natural units (GeV = 1): masses in GeV, lengths in GeV^-1.
Atomic masses: AME2020 (Wang et al., Chinese Phys. C 45 (2021) 030003). Isotopic abundances:
IUPAC/CIAAW 2013 representative compositions (Meija et al., Pure Appl. Chem. 88 (2016) 293).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import cast

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from . import _checks
from . import constants as _c
from . import units as _u
from ._math import safe_sqrt

# Atomic (neutral-atom) masses [u], AME2020: Wang et al., Chinese Phys. C 45 (2021) 030003.
_ATOMIC_MASS_U: dict[str, float] = {
    "O16": 15.99491461926, "O17": 16.9991317565, "O18": 17.9991596129,
    "Na23": 22.989769282, "Al27": 26.981538408,
    "Si28": 27.97692653442, "Si29": 28.97649466434, "Si30": 29.973770136,
    "Ar36": 35.967545105, "Ar38": 37.96273211, "Ar40": 39.9623831237,
    "Ca40": 39.96259085, "Ca42": 41.95861778, "Ca43": 42.95876638, "Ca44": 43.9554816,
    "Ca46": 45.953689, "Ca48": 47.9525227,
    "Ge70": 69.92424875, "Ge72": 71.922075826, "Ge73": 72.923458956, "Ge74": 73.921177761,
    "Ge76": 75.921402726,
    "I127": 126.9044719, "Cs133": 132.905451961,
    "Xe124": 123.905892, "Xe126": 125.9042983, "Xe128": 127.903531, "Xe129": 128.9047808611,
    "Xe130": 129.903509349, "Xe131": 130.90508406, "Xe132": 131.9041550856,
    "Xe134": 133.90539466, "Xe136": 135.907214484,
    "W180": 179.946711, "W182": 181.94820394, "W183": 182.95022275, "W184": 183.9509312,
    "W186": 185.9543628,
    "Pb208": 207.9766525,
}  # fmt: skip

# Isotopic abundances (amount fractions), IUPAC/CIAAW 2013 representative isotopic compositions,
# Meija et al., Pure Appl. Chem. 88 (2016) 293. Each row sums to 1.
_ABUNDANCE: dict[str, dict[int, float]] = {
    "O": {16: 0.99757, 17: 0.00038, 18: 0.00205},
    "Na": {23: 1.0},
    "Al": {27: 1.0},
    "Si": {28: 0.92223, 29: 0.04685, 30: 0.03092},
    "Ar": {36: 0.003336, 38: 0.000629, 40: 0.996035},
    "Ca": {40: 0.96941, 42: 0.00647, 43: 0.00135, 44: 0.02086, 46: 0.00004, 48: 0.00187},
    "Ge": {70: 0.2057, 72: 0.2745, 73: 0.0775, 74: 0.3650, 76: 0.0773},
    "I": {127: 1.0},
    "Cs": {133: 1.0},
    "Xe": {124: 0.000952, 126: 0.000890, 128: 0.019102, 129: 0.264006, 130: 0.040710,
           131: 0.212324, 132: 0.269086, 134: 0.104357, 136: 0.088573},
    "W": {180: 0.0012, 182: 0.2650, 183: 0.1431, 184: 0.3064, 186: 0.2843},
}  # fmt: skip

_Z: dict[str, int] = {
    "O": 8, "Na": 11, "Al": 13, "Si": 14, "Ar": 18, "Ca": 20, "Ge": 32, "I": 53, "Xe": 54,
    "Cs": 55, "W": 74, "Pb": 82,
}  # fmt: skip

# Compounds / materials: chemical formula as ((element, count), ...).
_FORMULA: dict[str, tuple[tuple[str, int], ...]] = {
    "CaWO4": (("Ca", 1), ("W", 1), ("O", 4)),
    "Al2O3": (("Al", 2), ("O", 3)),
    "CsI": (("Cs", 1), ("I", 1)),
    "NaI": (("Na", 1), ("I", 1)),
    **{el: ((el, 1),) for el in _ABUNDANCE},
}
_MATERIAL_ALIAS: dict[str, str] = {"LAr": "Ar", "LXe": "Xe", "sapphire": "Al2O3"}


def _float(x: ArrayLike) -> Array:
    """``x`` as a JAX array of a floating dtype (default float dtype for Python/int input)."""
    a = jnp.asarray(x)
    if jnp.issubdtype(a.dtype, jnp.floating) and not a.weak_type:
        return a
    return jnp.asarray(a, dtype=jnp.result_type(float))


def _helm_c(A: float) -> float:
    """Lewin-Smith Helm radius parameter c = 1.23 A^(1/3) - 0.60 fm, in GeV^-1."""
    return (1.23 * A ** (1.0 / 3.0) - 0.60) * _u.fm


class Nucleus(eqx.Module):
    """A nuclear species: an isotope, or a natural element's effective (abundance-mean) nucleus.

    Parameters
    ----------
    name : str
        Label (static), e.g. ``"Ge74"`` or ``"natGe"``.
    Z : int
        Proton number (static, >= 1).
    A : int
        Mass number (static, >= Z); for a natural element the rounded mean mass number.
    mass : float or Array
        Nuclear mass M [GeV].
    atomic_mass : float or Array, optional
        Neutral-atom mass [GeV] (used to count nuclei per unit detector mass). Default:
        M + Z m_e - B_e(Z).
    n_neutrons : float or Array, optional
        Neutron number N (mean for a natural element). Default A - Z.
    helm_c, helm_a, helm_s : float or Array, optional
        Helm parameters [GeV^-1]. Defaults (Lewin-Smith): c = 1.23 A^(1/3) - 0.60 fm,
        a = 0.52 fm, s = 0.9 fm.

    Notes
    -----
    ``name``, ``Z`` and ``A`` are static (hashable; changing them recompiles); all other fields
    are dynamic float arrays, so ``jax.grad`` w.r.t. a Nucleus returns gradients for them.
    ``charge`` is Z as a float leaf: the cross sections use it (not the static Z), so the
    species of a target can be stacked and evaluated under one ``jax.vmap``.
    Concrete inputs are validated (ValueError); traced inputs are not.
    """

    name: str = eqx.field(static=True)
    Z: int = eqx.field(static=True)
    A: int = eqx.field(static=True)
    mass: Array
    atomic_mass: Array
    n_neutrons: Array
    helm_c: Array
    helm_a: Array
    helm_s: Array
    charge: Array

    def __init__(
        self,
        name: str,
        Z: int,
        A: int,
        mass: ArrayLike,
        atomic_mass: ArrayLike | None = None,
        n_neutrons: ArrayLike | None = None,
        helm_c: ArrayLike | None = None,
        helm_a: ArrayLike | None = None,
        helm_s: ArrayLike | None = None,
    ):
        if isinstance(Z, bool) or isinstance(A, bool) or Z != int(Z) or A != int(A):
            raise ValueError(f"Nucleus: Z and A must be integers, got Z={Z!r}, A={A!r}")
        self.name, self.Z, self.A = str(name), int(Z), int(A)
        self.mass = _float(mass)
        if atomic_mass is None:
            atomic_mass = self.mass + self.Z * _c.m_e - _c.electron_binding_energy(self.Z)
        self.atomic_mass = _float(atomic_mass)
        self.n_neutrons = _float(float(self.A - self.Z) if n_neutrons is None else n_neutrons)
        self.helm_c = _float(_helm_c(self.A) if helm_c is None else helm_c)
        self.helm_a = _float(0.52 * _u.fm if helm_a is None else helm_a)
        self.helm_s = _float(0.9 * _u.fm if helm_s is None else helm_s)
        self.charge = _float(float(self.Z))

    def __check_init__(self):
        if self.Z < 1 or self.A < self.Z:
            raise ValueError(
                f"Nucleus {self.name!r}: need Z >= 1 and A >= Z, got {self.Z}, {self.A}"
            )
        for f, unit in (("mass", "GeV"), ("atomic_mass", "GeV"), ("helm_c", "GeV^-1")):
            _checks.check_positive(f"Nucleus.{f}", getattr(self, f), unit)
        for f in ("n_neutrons", "helm_a", "helm_s"):
            _checks.check_nonnegative(f"Nucleus.{f}", getattr(self, f))

    @classmethod
    def from_atomic_mass(cls, name: str, Z: int, A: int, atomic_mass_u: float, **kw) -> Nucleus:
        """Nucleus from a neutral-atom mass in u (e.g. AME2020): M = m_atom u - Z m_e + B_e(Z)."""
        return cls(
            name, Z, A, _c.nuclear_mass_from_atomic(atomic_mass_u, Z),
            atomic_mass=atomic_mass_u * _c.amu, **kw,
        )  # fmt: skip

    @property
    def helm_rn(self) -> Array:
        """Helm radius r_n [GeV^-1]: r_n^2 = c^2 + (7/3) pi^2 a^2 - 5 s^2."""
        return _helm_rn(self.helm_c, self.helm_a, self.helm_s)


def _helm_rn(c: Array, a: Array, s: Array) -> Array:
    return safe_sqrt(c**2 + (7.0 / 3.0) * jnp.pi**2 * a**2 - 5.0 * s**2)


#: The dynamic (per-species) fields of a Nucleus, stacked by :class:`SpeciesStack`.
_DYNAMIC_FIELDS = ("mass", "atomic_mass", "n_neutrons", "helm_c", "helm_a", "helm_s", "charge")


class SpeciesStack(eqx.Module):
    """The dynamic fields of several species stacked on a leading axis, for ``jax.vmap`` over
    the species of a target (one compiled copy of a cross section for all of them).

    Under ``vmap`` each slice reads like a :class:`Nucleus` to the cross sections, which use
    only these fields (``charge``, not ``Z``): mass, atomic_mass [GeV], n_neutrons, Helm
    parameters [GeV^-1] and the ``helm_rn`` property. It has no ``Z``, ``A`` or single
    ``name`` (one species' static values would misdescribe the others): ``names`` (static)
    lists the species in order.
    """

    names: tuple[str, ...] = eqx.field(static=True)
    mass: Array
    atomic_mass: Array
    n_neutrons: Array
    helm_c: Array
    helm_a: Array
    helm_s: Array
    charge: Array

    @classmethod
    def of(cls, nuclei: Sequence[Nucleus]) -> SpeciesStack:
        """Stack ``nuclei`` (a non-empty sequence of :class:`Nucleus`)."""
        if not nuclei:
            raise ValueError("SpeciesStack.of: need at least one nucleus")
        cols = {f: jnp.stack([jnp.asarray(getattr(n, f)) for n in nuclei]) for f in _DYNAMIC_FIELDS}
        return cls(names=tuple(n.name for n in nuclei), **cols)

    @property
    def helm_rn(self) -> Array:
        """Helm radius r_n [GeV^-1] of each species."""
        return _helm_rn(self.helm_c, self.helm_a, self.helm_s)


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


_ISOTOPES: dict[str, str] = {_norm(k): k for k in _ATOMIC_MASS_U}
_ELEMENTS: dict[str, str] = {_norm(k): k for k in _ABUNDANCE}
_ELEMENTS |= {"nat" + k: v for k, v in list(_ELEMENTS.items())}
NUCLEUS_NAMES: tuple[str, ...] = (*_ATOMIC_MASS_U, *_ABUNDANCE, *("nat" + k for k in _ABUNDANCE))
_MATERIALS: dict[str, str] = {_norm(k): k for k in _FORMULA} | {
    _norm(k): v for k, v in _MATERIAL_ALIAS.items()
}
MATERIAL_NAMES: tuple[str, ...] = (*_FORMULA, *_MATERIAL_ALIAS, *("nat" + k for k in _ABUNDANCE))


def _isotope(key: str) -> Nucleus:
    match = cast(re.Match[str], re.fullmatch(r"([A-Za-z]+)(\d+)", key))  # keys are "Sym123"
    sym, A = match.groups()
    return Nucleus.from_atomic_mass(key, _Z[sym], int(A), _ATOMIC_MASS_U[key])


def _natural(sym: str) -> Nucleus:
    Z, ab = _Z[sym], _ABUNDANCE[sym]
    x = np.array(list(ab.values()))
    A = np.array(list(ab), dtype=float)
    m_u = np.array([_ATOMIC_MASS_U[f"{sym}{a}"] for a in ab])
    M = np.array([_c.nuclear_mass_from_atomic(m, Z) for m in m_u])
    A_mean = float(x @ A)
    return Nucleus(
        f"nat{sym}", Z, round(A_mean), float(x @ M), atomic_mass=float(x @ m_u) * _c.amu,
        n_neutrons=A_mean - Z, helm_c=_helm_c(A_mean),
    )  # fmt: skip


def nucleus(name: str) -> Nucleus:
    """Catalogue nucleus by name (case-insensitive).

    Parameters
    ----------
    name : str
        An isotope (``"Ge74"``, ``"W184"``, ``"Xe131"``, ...) or a natural element (``"Ge"`` or
        ``"natGe"``). See ``NUCLEUS_NAMES``.

    Returns
    -------
    Nucleus
        Masses [GeV] from AME2020. A natural element gives one *effective* nucleus with
        abundance-weighted (by number) mean nuclear mass, atomic mass, neutron number and a Helm
        c from the mean mass number; ``A`` is the rounded mean. For exact sums over the isotopes
        use ``material("Ge")``.

    Raises
    ------
    ValueError
        If ``name`` is not in the catalogue.
    """
    key = _norm(name) if isinstance(name, str) else None
    if key in _ISOTOPES:
        return _isotope(_ISOTOPES[key])
    if key in _ELEMENTS:
        return _natural(_ELEMENTS[key])
    raise ValueError(
        f"nucleus: unknown name={name!r}; accepted (case-insensitive): {', '.join(NUCLEUS_NAMES)}"
    )


class Material(eqx.Module):
    """A detector material: nuclear species and their mass fractions.

    Parameters
    ----------
    name : str
        Label (static).
    nuclei : tuple of Nucleus
        The species (isotopes, or effective nuclei).
    mass_fractions : Array, shape (len(nuclei),)
        Fraction of the detector mass carried by (the atoms of) each species; >= 0, sums to 1.
    formula : tuple of (str, int), optional
        Chemical formula ((element, count), ...) (static), used by :attr:`molecules_per_mass`.
    """

    name: str = eqx.field(static=True)
    nuclei: tuple[Nucleus, ...] = eqx.field(converter=tuple)
    mass_fractions: Array = eqx.field(converter=_float)
    formula: tuple[tuple[str, int], ...] | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        if not self.nuclei or not all(isinstance(n, Nucleus) for n in self.nuclei):
            raise ValueError(f"Material {self.name!r}: nuclei must be a non-empty tuple of Nucleus")
        if self.mass_fractions.shape != (len(self.nuclei),):
            raise ValueError(
                f"Material {self.name!r}: mass_fractions must have shape ({len(self.nuclei)},), "
                f"got {self.mass_fractions.shape}"
            )
        _checks.check_nonnegative("Material.mass_fractions", self.mass_fractions)
        w = _checks.concrete(self.mass_fractions)
        if w is not None and abs(w.sum() - 1.0) > 1e-9:
            raise ValueError(
                f"Material.mass_fractions must sum to 1 (within 1e-9), sum={w.sum()!r}"
            )

    @classmethod
    def from_nuclei(
        cls, nuclei, mass_fractions: ArrayLike, name: str = "mixture", formula=None
    ) -> Material:
        """User-defined mixture; ``nuclei`` may be Nucleus objects or catalogue names."""
        nuclei = tuple(nucleus(n) if isinstance(n, str) else n for n in nuclei)
        return cls(name, nuclei, mass_fractions, formula)

    @property
    def nuclei_per_mass(self) -> Array:
        """Number of nuclei of each species per unit detector mass [GeV^-1].

        ``mass_fraction_i / atomic_mass_i``: the detector mass includes the electrons, so the
        neutral-atom mass is used. Multiply by ``units.kg`` for nuclei per kg.
        """
        m_atom = jnp.stack([n.atomic_mass for n in self.nuclei])
        return self.mass_fractions / m_atom

    @property
    def molecules_per_mass(self) -> Array:
        """Formula units (molecules) per unit detector mass [GeV^-1]; needs ``formula``."""
        if self.formula is None:
            raise ValueError(f"Material {self.name!r} has no chemical formula")
        return jnp.sum(self.nuclei_per_mass) / sum(k for _, k in self.formula)


def _compound(key: str) -> Material:
    formula = _FORMULA[key]
    nuclei, weights = [], []
    for el, count in formula:
        for A, x in _ABUNDANCE[el].items():
            iso = f"{el}{A}"
            nuclei.append(_isotope(iso))
            weights.append(count * x * _ATOMIC_MASS_U[iso])
    w = np.asarray(weights) / np.sum(weights)
    return Material(key, tuple(nuclei), w, formula)


def material(name: str) -> Material:
    """Catalogue material by name (case-insensitive), expanded into isotopes.

    Parameters
    ----------
    name : str
        ``"CaWO4"``, ``"Al2O3"`` (alias ``"sapphire"``), ``"CsI"``, ``"NaI"``, a natural element
        (``"Ge"``/``"natGe"``, ``"Si"``, ``"Ar"``/``"LAr"``, ``"Xe"``/``"LXe"``, ``"W"``, ``"Ca"``,
        ``"O"``, ...) or a single isotope (``"Ge74"``). See ``MATERIAL_NAMES``.

    Returns
    -------
    Material
        One entry per isotope with natural (IUPAC) abundance; mass fraction
        = stoichiometry x abundance x atomic mass / molecular mass (exact isotope sums).

    Raises
    ------
    ValueError
        If ``name`` is not in the catalogue.
    """
    key = _norm(name) if isinstance(name, str) else None
    if key in _MATERIALS:
        return _compound(_MATERIALS[key])
    if key is not None and key.startswith("nat") and key[3:] in _MATERIALS:
        return _compound(_MATERIALS[key[3:]])
    if key in _ISOTOPES:
        iso = _ISOTOPES[key]
        return Material(iso, (_isotope(iso),), np.ones(1), ((iso, 1),))
    raise ValueError(
        f"material: unknown name={name!r}; accepted (case-insensitive): "
        f"{', '.join(MATERIAL_NAMES)}, or an isotope ({', '.join(_ATOMIC_MASS_U)})"
    )


def as_material(target: Material | Nucleus | str) -> Material:
    """A Material from a Material (returned as is), a Nucleus (one component) or a name."""
    if isinstance(target, Material):
        return target
    if isinstance(target, Nucleus):
        return Material(
            target.name, (target,), jnp.ones(1, dtype=target.mass.dtype), ((target.name, 1),)
        )
    if isinstance(target, str):
        return material(target)
    raise TypeError(f"as_material: target must be a Material, Nucleus or name, got {target!r}")


# 3 j1(x)/x = sum_k (-1)^k 3 (2k+2)/(2k+3)! x^(2k), k = 0..6; truncation < 1e-17 for |x| < 0.5.
_HELM_SERIES = (1.0, -1 / 10, 1 / 280, -1 / 15120, 1 / 1330560, -1 / 172972800, 1 / 31135104000)
#: Below this x = q r_n the series is used. The direct formula loses ~eps/x^2 to cancellation
#: (3e-10 at x = 1e-3 in float64, 5 % in float32); at x = 0.5 it is good to ~1e-15 (1e-6 in f32).
_X_SERIES = 0.5


def _helm_series(x: Array) -> Array:
    return jnp.polyval(jnp.asarray(_HELM_SERIES[::-1], x.dtype), x * x)


def _helm_direct(x: Array) -> Array:
    return 3.0 * (jnp.sin(x) - x * jnp.cos(x)) / x**3


def helm_form_factor(nuc: Nucleus, q: ArrayLike) -> Array:
    """Helm form factor F(q) = 3 j1(q r_n)/(q r_n) exp(-q^2 s^2 / 2).

    Parameters
    ----------
    nuc : Nucleus
        Provides r_n and s [GeV^-1].
    q : float or Array
        Momentum transfer [GeV] (|q| is used).

    Returns
    -------
    Array
        F (dimensionless), F(0) = 1, in the floating dtype of ``q``. For q r_n < 0.5 a Taylor
        series is used (double-where: value and gradient finite and accurate at q = 0).
    """
    q = _float(q)
    dt = q.dtype
    x = q * nuc.helm_rn.astype(dt)
    small = jnp.abs(x) < _X_SERIES
    direct = _helm_direct(jnp.where(small, jnp.asarray(1.0, dt), x))
    shape = jnp.where(small, _helm_series(jnp.where(small, x, 0.0)), direct)
    return shape * jnp.exp(-0.5 * (q * nuc.helm_s.astype(dt)) ** 2)


def _helm_shape_squared(n_terms: int) -> np.ndarray:
    """Coefficients of [3 j1(x)/x]² as a polynomial in x², n_terms of them (NumPy constants)."""
    k = np.arange(n_terms)
    c = np.array([3.0 * (-1) ** j * (2 * j + 2) / math.factorial(2 * j + 3) for j in k])
    return np.convolve(c, c)[:n_terms]


def helm_squared_series(nuc: Nucleus, n_terms: int = 40) -> Array:
    """Taylor coefficients of the squared Helm form factor in τ = (q r_n)² [dimensionless].

    F²(q) = Σ_{n < n_terms} f_n τ^n with F² = [3 j1(x)/x]² exp(−ρ τ), x = q r_n, ρ = (s/r_n)²:
    the shape's coefficients (NumPy constants) convolved with those of exp(−ρ τ). The series is
    entire; truncated after 40 terms it reproduces F² for q r_n ≤ 6 to ≤ 2e-13 (absolute; O16,
    where (s/r_n)² is largest) and ~1e-15 for Ge and heavier nuclei (32 terms: 2e-9 for O16). Used
    by the closed-form Primakoff cross section (:mod:`jaxdipole.primakoff`); differentiable in
    the Helm parameters.

    Returns
    -------
    Array of shape (n_terms,) in the dtype of the nucleus' Helm parameters.
    """
    rn = nuc.helm_rn
    rho = (nuc.helm_s / jnp.where(rn > 0, rn, 1.0)) ** 2
    # exp(−ρτ) coefficients by the recurrence e_k = e_{k-1} (−ρ/k): no 0**0 at s = 0
    e = [jnp.ones_like(rho)]
    for k in range(1, n_terms):
        e.append(e[-1] * (-rho / k))
    shape2 = _helm_shape_squared(n_terms)
    toeplitz = np.zeros((n_terms, n_terms))
    for i in range(n_terms):
        toeplitz[i, : i + 1] = shape2[i::-1]
    return jnp.asarray(toeplitz, rho.dtype) @ jnp.stack(e)


def form_factor(nuc: Nucleus, E_R: ArrayLike, *, kind: bool | str | None = True) -> Array:
    """Nuclear form factor at recoil energy E_R, with q = sqrt(2 M E_R).

    Parameters
    ----------
    nuc : Nucleus
        Target nucleus (mass M [GeV], Helm parameters).
    E_R : float or Array
        Nuclear recoil kinetic energy [GeV]; E_R <= 0 gives q = 0.
    kind : bool, str or None
        ``True``/``"helm"``: Helm form factor; ``False``/``None``/``"unit"``/``"none"``: F = 1.

    Returns
    -------
    Array
        F (dimensionless) with the shape and floating dtype of ``E_R``.
    """
    E_R = _float(E_R)
    k = kind.lower() if isinstance(kind, str) else kind
    if k is True or k == "helm":
        return helm_form_factor(nuc, safe_sqrt(2.0 * nuc.mass.astype(E_R.dtype) * E_R))
    if k is False or k is None or k in ("unit", "none"):
        return jnp.ones_like(E_R)
    raise ValueError(f"form_factor: kind must be True/'helm' or False/None/'unit', got {kind!r}")
