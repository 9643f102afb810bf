"""Existing limits on the active–sterile transition magnetic moment (digitised curves).

Packaged data (``jaxdipole/data/limits``, MIT licence, from the HNLimits compilation,
arXiv:2304.06772): LEP, LSND, XENON1T, Borexino, Super-Kamiokande, CHARM-II, NOMAD, MiniBooNE,
DONUT, SN1987A, BBN … with a manifest giving experiment, flavour, confidence level, curve kind
and reference. The files quote either d [GeV^-1] (L ⊃ d ν̄ σ P_R N F, so μ = 2d in jaxdipole's
normalisation) or μ in Bohr magnetons; :class:`Limit` always returns μ in GeV^-1
(``mu``) and in μ_B (``mu_muB``), m_N in GeV. Curves are given as published (their own CL);
see ``confidence_level`` before comparing with a 90 % CL sensitivity.

Each limit says what it assumes about N beyond its production (``Limit.assumption``, from the
package's ``annotations.csv``): ``"production"`` (electron or nuclear recoils, or N leaving a
collider detector unseen), ``"decay"`` (N -> ν γ decays seen in a detector) or ``"lifetime"``
(the N -> ν γ lifetime in supernovae or cosmology). If N decays through another channel, e.g.
N -> N' γ through a sterile-to-sterile moment, only the production limits hold as drawn:
select them with ``assumptions=("production",)``. Below the compilation's 1 MeV the package adds
the published limits on the effective magnetic moment from neutrino–electron scattering
(GEMMA, TEXONO, Borexino, XENONnT; ``effective_moment.csv``), applied for m_N ≤ 10 keV.
"""

from __future__ import annotations

import csv
import dataclasses
from importlib import resources

import numpy as np

from . import units

_DATA = "data/limits"
#: Curve kinds: excluded above ("upper_limit"), between band edges, or inside a contour.
KINDS = (
    "upper_limit", "band_lower_edge", "band_upper_edge", "band_upper_left_edge", "closed_region",
)  # fmt: skip
#: What a limit assumes about N beyond its production (see the module docstring).
ASSUMPTIONS = ("production", "decay", "lifetime")
#: Lowest mass [GeV] of the effective-moment limits (they hold as m_N -> 0).
_M_EFFECTIVE_MIN = 1e-9


@dataclasses.dataclass(frozen=True)
class Limit:
    """One digitised limit curve (NumPy arrays; plotting and comparison data, not traced)."""

    name: str  #: file stem, e.g. "LEPgz_d"
    experiment: str
    flavour: str  #: "e", "mu", "tau" or "all" (applies to every active flavour)
    confidence_level: float
    kind: str
    reference: str
    m_N: np.ndarray  #: N mass [GeV]
    mu: np.ndarray  #: transition moment in jaxdipole's normalisation [GeV^-1]
    assumption: str = "production"  #: "production", "decay" or "lifetime" (:data:`ASSUMPTIONS`)
    note: str = ""  #: what the limit counts

    @property
    def mu_muB(self) -> np.ndarray:
        """The moment in Bohr magnetons."""
        return self.mu / units.mu_B


def _table(name: str) -> list[dict[str, str]]:
    text = resources.files("jaxdipole").joinpath(_DATA, name).read_text()
    return list(csv.DictReader(text.splitlines()))


def _manifest() -> list[dict[str, str]]:
    return _table("manifest.csv")


def _effective() -> dict[str, dict[str, str]]:
    return {row["name"]: row for row in _table("effective_moment.csv")}


def limit_names() -> list[str]:
    """Names of all packaged limits: the compilation's curves (file stems), then the
    effective-moment limits from neutrino–electron scattering."""
    return [row["file"].rsplit(".", 1)[0] for row in _manifest()] + list(_effective())


def _convert(row: dict[str, str], x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x_scale = {"GeV": units.GeV, "MeV": units.MeV}[row["x_unit"]]
    if row["y_quantity"] == "d" and row["y_unit"] == "GeV^-1":
        mu = 2.0 * y  # mu = 2 d
    elif row["y_quantity"] == "mu" and row["y_unit"] == "mu_B":
        mu = y * units.mu_B
    else:  # pragma: no cover - guarded by the manifest test
        raise ValueError(f"unknown coupling column {row['y_quantity']} [{row['y_unit']}]")
    return x * x_scale, mu


def load_limit(name: str) -> Limit:
    """The limit ``name`` (from :func:`limit_names`, e.g. ``"LEPgz_d"`` or ``"GEMMA_eff"``)."""
    rows = {r["file"].rsplit(".", 1)[0]: r for r in _manifest()}
    effective = _effective()
    if name in effective:
        row = effective[name]
        mu = float(row["mu_muB"]) * units.mu_B
        return Limit(
            name=name,
            experiment=row["experiment"],
            flavour=row["flavour"],
            confidence_level=float(row["confidence_level"]),
            kind="upper_limit",
            reference=row["reference"],
            m_N=np.array([_M_EFFECTIVE_MIN, float(row["m_N_max_MeV"]) * units.MeV]),
            mu=np.array([mu, mu]),
            assumption="production",
            note=row["note"],
        )
    if name not in rows:
        raise ValueError(
            f"name: unknown limit {name!r}; accepted: {', '.join([*rows, *effective])}"
        )
    row = rows[name]
    notes = {r["file"]: r for r in _table("annotations.csv")}[row["file"]]
    text = resources.files("jaxdipole").joinpath(_DATA, "files", row["file"]).read_text()
    data = np.loadtxt(text.splitlines(), comments="#", ndmin=2)
    m_N, mu = _convert(row, data[:, 0], data[:, 1])
    return Limit(
        name=name,
        experiment=row["experiment"],
        flavour=row["flavour"],
        confidence_level=float(row["confidence_level"]),
        kind=row["kind"],
        reference=row["original_reference"],
        m_N=m_N,
        mu=mu,
        assumption=notes["assumption"],
        note=notes["note"],
    )


def _check_assumptions(assumptions) -> tuple[str, ...]:
    if assumptions is None:
        return ASSUMPTIONS
    if isinstance(assumptions, str):
        assumptions = (assumptions,)
    bad = [a for a in assumptions if a not in ASSUMPTIONS]
    if bad:
        raise ValueError(f"assumptions: unknown {bad}; accepted: {', '.join(ASSUMPTIONS)}")
    return tuple(assumptions)


def existing_limits(flavour: str | None = None, assumptions=None) -> list[Limit]:
    """All packaged limits, or those that constrain ``flavour`` ("e", "mu", "tau").

    A flavour selection includes the flavour-universal ("all") curves. ``assumptions``: keep
    only limits that assume these (from :data:`ASSUMPTIONS`; default all), e.g.
    ``("production",)`` where N decays through a channel other than N -> ν γ.
    """
    if flavour not in (None, "e", "mu", "tau"):
        raise ValueError(f"flavour must be None, 'e', 'mu' or 'tau', got {flavour!r}")
    keep = _check_assumptions(assumptions)
    out = [lim for lim in (load_limit(n) for n in limit_names()) if lim.assumption in keep]
    if flavour is None:
        return out
    return [lim for lim in out if lim.flavour in (flavour, "all")]


def strongest_limit(
    m_N, flavour: str | None = "e", kinds: tuple[str, ...] = ("upper_limit",), assumptions=None
) -> np.ndarray:
    """The strongest existing limit μ [GeV^-1] at each mass ``m_N`` [GeV] (envelope of curves).

    Minimum over the packaged curves of ``kinds`` (default: plain upper limits; bands such as
    SN1987A and closed regions such as BBN are not upper limits and are left out) that apply to
    ``flavour`` (its own curves and the flavour-universal ones), each interpolated linearly in
    (ln m_N, ln μ) inside its own mass range. ``inf`` where no curve covers a mass. Curves are
    taken as published, whatever their CL (see ``Limit.confidence_level``). ``assumptions`` as
    :func:`existing_limits` (e.g. ``("production",)`` for an N that decays to N' γ).
    """
    m = np.atleast_1d(np.asarray(m_N, dtype=float))
    if np.any(~np.isfinite(m)) or np.any(m <= 0):
        raise ValueError("m_N must be finite and > 0 [GeV]")
    best = np.full(m.shape, np.inf)
    for lim in existing_limits(flavour, assumptions):
        if lim.kind not in kinds:
            continue
        order = np.argsort(lim.m_N)
        x, y = np.log(lim.m_N[order]), np.log(lim.mu[order])
        inside = (np.log(m) >= x[0]) & (np.log(m) <= x[-1])
        vals = np.exp(np.interp(np.log(m), x, y))
        best = np.where(inside, np.minimum(best, vals), best)
    return best.reshape(np.shape(m_N)) if np.ndim(m_N) else best[0]
