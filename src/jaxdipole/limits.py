"""Existing limits on the active–sterile transition magnetic moment (digitised curves).

Packaged data (``jaxdipole/data/limits``, MIT licence, from the HNLimits compilation,
arXiv:2304.06772): LEP, LSND, XENON1T, Borexino, Super-Kamiokande, CHARM-II, NOMAD, MiniBooNE,
DONUT, SN1987A, BBN … with a manifest giving experiment, flavour, confidence level, curve kind
and reference. The files quote either d [GeV^-1] (L ⊃ d ν̄ σ P_R N F, so μ = 2d in jaxdipole's
normalisation) or μ in Bohr magnetons; :class:`Limit` always returns μ in GeV^-1
(``mu``) and in μ_B (``mu_muB``), m_N in GeV. Curves are given as published (their own CL);
see ``confidence_level`` before comparing with a 90 % CL sensitivity.
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

    @property
    def mu_muB(self) -> np.ndarray:
        """The moment in Bohr magnetons."""
        return self.mu / units.mu_B


def _manifest() -> list[dict[str, str]]:
    text = resources.files("jaxdipole").joinpath(_DATA, "manifest.csv").read_text()
    return list(csv.DictReader(text.splitlines()))


def limit_names() -> list[str]:
    """Names (file stems) of all packaged limit curves."""
    return [row["file"].rsplit(".", 1)[0] for row in _manifest()]


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
    """The limit curve ``name`` (a file stem from :func:`limit_names`, e.g. ``"LEPgz_d"``)."""
    rows = {r["file"].rsplit(".", 1)[0]: r for r in _manifest()}
    if name not in rows:
        raise ValueError(f"name: unknown limit {name!r}; accepted: {', '.join(rows)}")
    row = rows[name]
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
    )


def existing_limits(flavour: str | None = None) -> list[Limit]:
    """All packaged limits, or those that constrain ``flavour`` ("e", "mu", "tau").

    A flavour selection includes the flavour-universal ("all") curves.
    """
    if flavour not in (None, "e", "mu", "tau"):
        raise ValueError(f"flavour must be None, 'e', 'mu' or 'tau', got {flavour!r}")
    out = [load_limit(n) for n in limit_names()]
    if flavour is None:
        return out
    return [lim for lim in out if lim.flavour in (flavour, "all")]


def strongest_limit(
    m_N, flavour: str | None = "e", kinds: tuple[str, ...] = ("upper_limit",)
) -> np.ndarray:
    """The strongest existing limit μ [GeV^-1] at each mass ``m_N`` [GeV] (envelope of curves).

    Minimum over the packaged curves of ``kinds`` (default: plain upper limits; bands such as
    SN1987A and closed regions such as BBN are not upper limits and are left out) that apply to
    ``flavour`` (its own curves and the flavour-universal ones), each interpolated linearly in
    (ln m_N, ln μ) inside its own mass range. ``inf`` where no curve covers a mass. Curves are
    taken as published, whatever their CL (see ``Limit.confidence_level``).
    """
    m = np.atleast_1d(np.asarray(m_N, dtype=float))
    if np.any(~np.isfinite(m)) or np.any(m <= 0):
        raise ValueError("m_N must be finite and > 0 [GeV]")
    best = np.full(m.shape, np.inf)
    for lim in existing_limits(flavour):
        if lim.kind not in kinds:
            continue
        order = np.argsort(lim.m_N)
        x, y = np.log(lim.m_N[order]), np.log(lim.mu[order])
        inside = (np.log(m) >= x[0]) & (np.log(m) <= x[-1])
        vals = np.exp(np.interp(np.log(m), x, y))
        best = np.where(inside, np.minimum(best, vals), best)
    return best.reshape(np.shape(m_N)) if np.ndim(m_N) else best[0]
