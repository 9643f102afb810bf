"""Matplotlib figures: reach in the (m_N, μ) plane with existing limits, photon spectra.

matplotlib is imported when a function is called, not with the package. Every function draws
into a given ``ax`` (keyword-only; a new figure if None) and returns the Axes. Axes units: m_N
in MeV, μ in Bohr magnetons, E_γ in MeV. Passing ``ax`` positionally (the former order) is
deprecated: it still works and warns.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from . import units
from ._deprecate import former_positions
from .limits import Limit, existing_limits

__all__ = ["plot_limits", "plot_reach", "plot_photon_spectra"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.4, 4.8))
    return ax


def _is_axes(x) -> bool:
    axes = sys.modules.get("matplotlib.axes")  # not imported: x cannot be an Axes
    return axes is not None and isinstance(x, axes.Axes)


def _ax_first(args: tuple, kwargs: dict) -> bool:
    """The former order of :func:`plot_limits`, (ax, limits): two positional arguments, or an
    Axes as the only one."""
    return len(args) > 1 or (len(args) == 1 and _is_axes(args[0]))


@former_positions(("ax", "limits"), _ax_first)
def plot_limits(
    limits: Iterable[Limit] | None = None,
    *,
    ax=None,
    flavour: str | None = "e",
    m_range: tuple[float, float] | None = None,
    shade: bool = True,
    valid: Iterable[str] | None = None,
    **line_kwargs: Any,
):
    """Overlay existing limits (μ_B vs m_N [MeV]) on ``ax``, each labelled with its CL.

    Parameters
    ----------
    limits : iterable of :class:`~jaxdipole.limits.Limit`, optional
        Default: :func:`jaxdipole.limits.existing_limits` (``flavour``), i.e. the curves for
        that flavour plus the flavour-universal ones.
    ax : matplotlib Axes or None (keyword-only; the former ``plot_limits(ax, limits)`` warns)
    flavour : "e" | "mu" | "tau" | None
    m_range : (min, max) in MeV, optional
        Only curves with points in this mass range are drawn.
    shade : bool
        Lightly shade the region above each upper-limit curve (excluded).
    valid : iterable of assumptions, optional
        The :data:`~jaxdipole.limits.ASSUMPTIONS` that hold in the scenario drawn (default:
        all). Limits that assume something else (e.g. N -> ν γ decays when N decays to N' γ)
        are drawn dotted, unshaded, and labelled with what they assume.
    **line_kwargs
        Passed to ``ax.plot`` (default thin grey-toned lines).
    """
    ax = _axes(ax)
    if limits is None:
        limits = existing_limits(flavour)
    import matplotlib as mpl

    colours = mpl.colormaps["tab20b"]
    kw: dict[str, Any] = {"lw": 0.9, "alpha": 0.8} | line_kwargs
    valid = None if valid is None else tuple(valid)
    drawn: set[str] = set()
    for i, lim in enumerate(sorted(limits, key=lambda x: x.name)):
        m = np.asarray(lim.m_N) / units.MeV
        mu = np.asarray(lim.mu_muB)
        if m_range is not None:
            keep = (m >= m_range[0] * 0.5) & (m <= m_range[1] * 2.0)
            if not np.any(keep):
                continue
        colour = colours(i % 20)
        holds = valid is None or lim.assumption in valid
        label = None
        if lim.experiment not in drawn:
            cl = f"{100 * lim.confidence_level:.0f}%"
            label = f"{lim.experiment} ({cl})"
            if not holds:
                label += ", assumes N→νγ " + (
                    "lifetime" if lim.assumption == "lifetime" else "decays"
                )
            drawn.add(lim.experiment)
        style = kw if holds else kw | {"ls": ":", "alpha": 0.6}
        ax.plot(m, mu, color=colour, label=label, **style)
        if shade and holds and lim.kind == "upper_limit":
            ax.fill_between(m, mu, np.full_like(mu, 1e3), color=colour, alpha=0.08, lw=0)
    return ax


@former_positions(("m_N", "curves", "ax"))
def plot_reach(
    m_N,
    curves: Mapping[str, Any],
    *,
    ax=None,
    limits: Iterable[Limit] | None = None,
    flavour: str | None = "e",
    title: str | None = None,
    ylim: tuple[float, float] | None = None,
    valid: Iterable[str] | None = None,
    highlight: Mapping[str, Any] | None = None,
):
    """Sensitivity curves μ_90(m_N) over the existing limits.

    Parameters
    ----------
    m_N : array [GeV]
        N masses of the curves.
    curves : mapping label -> μ_90 array [GeV^-1] (non-finite points are skipped)
    ax : matplotlib Axes or None (keyword-only; positionally deprecated)
    limits, flavour : as :func:`plot_limits` (``limits=[]`` draws none)
    title : str, optional
    ylim : (low, high) in μ_B, optional (default: from the curves)
    valid : assumptions that hold for the existing limits drawn (as :func:`plot_limits`)
    highlight : mapping label -> boolean mask over ``m_N``, optional
        Masses where a curve is marked by a broad translucent band (e.g. where it beats both
        the Primakoff curve and the existing limits).
    """
    ax = _axes(ax)
    m = np.asarray(m_N) / units.MeV
    finite_vals = []
    colours = ["black", "tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange"]
    for i, (label, mu) in enumerate(curves.items()):
        y = np.asarray(mu) / units.mu_B
        ok = np.isfinite(y) & (y > 0)
        finite_vals.append(y[ok])
        colour = colours[i % len(colours)]
        ax.plot(m[ok], y[ok], "-", color=colour, lw=2.0, label=label, zorder=5)
        mask = None if highlight is None else highlight.get(label)
        if mask is not None:
            sel = np.asarray(mask, dtype=bool) & ok
            ax.plot(np.where(sel, m, np.nan), np.where(sel, y, np.nan), "-", color=colour,
                    lw=7.0, alpha=0.25, solid_capstyle="round", zorder=4)  # fmt: skip
    plot_limits(limits, ax=ax, flavour=flavour, m_range=(m.min(), m.max()), valid=valid)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(m.min(), m.max())
    if ylim is None:
        vals = np.concatenate(finite_vals) if finite_vals else np.array([1e-10, 1e-6])
        if vals.size == 0:
            vals = np.array([1e-10, 1e-6])
        ylim = (vals.min() / 30.0, vals.max() * 30.0)
    ax.set_ylim(*ylim)
    ax.set_xlabel(r"$m_N$ [MeV]")
    ax.set_ylabel(r"$\mu$ [$\mu_B$]")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=6.5, ncol=2, loc="best", framealpha=0.9)
    return ax


@former_positions(("edges", "spectra", "ax"))
def plot_photon_spectra(
    edges,
    spectra: Mapping[str, Any],
    *,
    ax=None,
    density: bool = True,
    xlabel: str = r"$E_\gamma$ [MeV]",
    x_scale: float = units.MeV,
):
    """Step histograms of binned photon spectra (e.g. Dirac vs Majorana).

    Parameters
    ----------
    edges : bin edges (GeV for energies; pass ``x_scale=1`` for cos θ_γ)
    spectra : mapping label -> events per bin
    ax : matplotlib Axes or None (keyword-only; positionally deprecated)
    density : normalise each to unit area (shape comparison)
    """
    ax = _axes(ax)
    x = np.asarray(edges) / x_scale
    for i, (label, counts) in enumerate(spectra.items()):
        c = np.asarray(counts, dtype=float)
        y = c / (np.sum(c) * np.diff(x)) if density and np.sum(c) > 0 else c
        ax.stairs(y, x, color=f"C{i}", lw=2, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("normalised density" if density else "events per bin")
    ax.legend(fontsize=8)
    return ax
