"""The standard reach study: sensitivity curves of an experiment and Dirac-vs-Majorana photons.

This is what ``jaxdipole reach`` runs; the functions are usable from Python as well::

    exp = jd.experiments.nucleus_phase1()
    m = np.geomspace(0.1, 10, 32) * u.MeV
    curves = jd.reach.reach_curves(exp, m)            # {scenario: μ_90(m_N) [GeV^-1]}
    bench = jd.reach.photon_benchmark(exp, 5 * u.MeV, 1e-8 * u.mu_B)

Scenarios (:data:`SCENARIOS`): Primakoff (recoil only; Dirac = Majorana for the spin-summed
production); radiative (recoil + photon from N -> ν γ inside the decay region) for a Dirac
and a Majorana N; and N -> N' γ to a lighter sterile state, where the curve is the reach in
sqrt(μ_e μ_NN') (both scaled together, only N' γ photons counted). With fixed couplings
(``mu_prime=``, ``mu_mu=``, ``mu_tau=``) the curves are the reach in μ_e at that fixed
sterile-to-sterile moment (only N' γ photons counted) or fixed μ_μ / μ_τ (N decays to ν_α γ
through it; all photons counted) -- the flavour products μ_e μ_α follow by multiplying.
Statistics: median expected 90 % CL limits (:mod:`jaxdipole.sensitivity`).

Existing limits that assume N -> ν γ decays or its lifetime do not hold as drawn once N decays
through another coupling: :func:`valid_assumptions` says which limits apply to a scenario and
:func:`beats` where a radiative curve beats both the Primakoff curve and those limits.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np

from . import units as u
from ._deprecate import renamed_arguments

__all__ = [
    "SCENARIOS",
    "reach_curves",
    "photon_benchmark",
    "mass_ranges",
    "fixed_name",
    "scenario_label",
    "valid_assumptions",
    "beats",
]

#: Scenario name -> plot label ({r} is replaced by m_N'/m_N).
SCENARIOS = {
    "primakoff": "Primakoff (recoil only), Dirac = Majorana",
    "radiative_dirac": "radiative (recoil + photon), Dirac N",
    "radiative_majorana": "radiative (recoil + photon), Majorana N",
    "sterile_dirac": "N -> N' photon (Dirac), sqrt(mu_e mu_NN'), m_N' = {r:g} m_N",
    "offshell_dirac": "radiative, full 2->3 amplitude (off shell), Dirac N",
}
#: Fixed-coupling scenarios: option -> (name prefix, label; {v} the value in μ_B, {r} m_N'/m_N).
FIXED = {
    "mu_prime": ("sterile_mu_prime_", "N -> N' photon (Dirac): mu_e at fixed mu_NN' = {v:g} mu_B, "
                 "m_N' = {r:g} m_N"),
    "mu_mu": ("radiative_mu_mu_", "radiative (Dirac): mu_e at fixed mu_mu = {v:g} mu_B"),
    "mu_tau": ("radiative_mu_tau_", "radiative (Dirac): mu_e at fixed mu_tau = {v:g} mu_B"),
}  # fmt: skip
#: Reference coupling used to build the models [GeV^-1] (the results do not depend on it).
MU_REF = 1e-9 * u.mu_B
#: Fast radiative fold for scans: totals agree with the precise fold to ~1e-5.
FAST = {"precise": False, "n_recoil": 8}


def reach_curves(
    exp,
    m_N,
    *,
    sterile_ratio: float = 0.5,
    scenarios=None,
    progress: bool = False,
    chunks: int = 4,
    full_amplitude: bool = False,
    mu_prime=(),
    mu_mu=(),
    mu_tau=(),
) -> dict[str, np.ndarray]:
    """μ_90(m_N) [GeV^-1] of the standard scenarios at experiment ``exp``.

    Parameters
    ----------
    exp : Experiment
    m_N : 1-D array of N masses [GeV]
    sterile_ratio : m_N'/m_N for the N -> N' γ scenario (in [0, 1))
    scenarios : iterable of names from :data:`SCENARIOS` (default: all)
    progress : show a progress bar per scenario (stderr)
    chunks : host-level chunks per scenario when ``progress`` is on
    full_amplitude : also compute ``offshell_dirac`` where the narrow-width radiative Dirac
        curve sees nothing (m_N above the flux end point): the full 2 -> 3 amplitude by Monte
        Carlo (:func:`jaxdipole.radiative_events_mc`), prompt decays; ``inf`` elsewhere.
    mu_prime, mu_mu, mu_tau : fixed couplings [GeV^-1], one scenario each (named by
        :func:`fixed_name`): the reach in μ_e with μ_NN' (N' γ photons, m_N' = ``sterile_ratio``
        m_N), μ_μ or μ_τ held at that value (``radiative_reach(..., scale=0)``). Added to the
        selected ``scenarios``.

    Returns
    -------
    dict name -> NumPy array of μ_90 [GeV^-1] (``inf`` where nothing can be seen; with a fixed
    μ_NN' also where the N' γ rate saturates below 2.303 events as μ_e grows).
    """
    import jax.numpy as jnp

    from .model import DipoleModel
    from .scan import scan
    from .sensitivity import primakoff_reach, radiative_reach

    if not 0 <= sterile_ratio < 1:
        raise ValueError(f"sterile_ratio must be in [0, 1) (m_N'/m_N), got {sterile_ratio}")
    names = [n for n in SCENARIOS if n != "offshell_dirac"] if scenarios is None else scenarios
    names = list(names)
    bad = [n for n in names if n not in SCENARIOS]
    if bad:
        raise ValueError(f"scenarios: unknown {bad}; accepted: {', '.join(SCENARIOS)}")
    ms = jnp.asarray(m_N, dtype=float)
    fixed = {}
    for option, values in (("mu_prime", mu_prime), ("mu_mu", mu_mu), ("mu_tau", mu_tau)):
        for v in np.atleast_1d(np.asarray(values, dtype=float)):
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{option} values must be finite and > 0 [GeV^-1], got {v}")
            fixed[fixed_name(option, v)] = (option, float(v))
    names += [n for n in fixed if n not in names]

    def model(m, nature="dirac"):
        return DipoleModel(m, (MU_REF, 0.0, 0.0), nature)

    def sterile(m):
        return DipoleModel(m, (MU_REF, 0.0, 0.0), "dirac", sterile_ratio * m, MU_REF)

    jobs = {
        "primakoff": lambda m: primakoff_reach(model(m), exp),
        "radiative_dirac": lambda m: radiative_reach(model(m), exp, **FAST),
        "radiative_majorana": lambda m: radiative_reach(model(m, "majorana"), exp, **FAST),
        # μ_e = μ_NN' scaled together: the reported μ_e at the limit is sqrt(μ_e μ_NN').
        "sterile_dirac": lambda m: radiative_reach(sterile(m), exp, channels="sterile", **FAST),
    }
    for name, (option, v) in fixed.items():
        jobs[name] = _fixed_job(exp, option, v, sterile_ratio)
    prompt = exp.with_(decay_length=None)  # off shell there is no N to travel
    jobs["offshell_dirac"] = lambda m: radiative_reach(
        model(m), prompt, method="full", n_points=2**13, batch_size=2**13
    )
    chunk = max(1, -(-len(ms) // chunks)) if progress else None
    if full_amplitude and "offshell_dirac" not in names:
        names.append("offshell_dirac")
    out = {}
    for name in names:
        if name == "offshell_dirac":
            nw = out.get("radiative_dirac")
            if nw is None:
                nw = np.asarray(scan(jobs["radiative_dirac"], [ms]))
            sel = ~np.isfinite(nw)
            vals = np.full(len(ms), np.inf)
            if np.any(sel):
                vals[sel] = np.asarray(scan(jobs[name], [ms[sel]], progress=progress, desc=name))
            out[name] = vals
        else:
            out[name] = np.asarray(
                scan(jobs[name], [ms], chunk_size=chunk, progress=progress, desc=name)
            )
    return out


def _fixed_job(exp, option, value, sterile_ratio):
    from .model import DipoleModel
    from .sensitivity import radiative_reach

    if option == "mu_prime":

        def job(m):
            md = DipoleModel(m, (MU_REF, 0.0, 0.0), "dirac", sterile_ratio * m, value)
            return radiative_reach(md, exp, channels="sterile", scale="active", **FAST)

        return job
    flavour = {"mu_mu": 1, "mu_tau": 2}[option]
    mu = [MU_REF, 0.0, 0.0]
    mu[flavour] = value

    def job(m):
        return radiative_reach(DipoleModel(m, tuple(mu)), exp, scale=0, **FAST)

    return job


def fixed_name(option: str, value: float) -> str:
    """Scenario name of a fixed coupling: ``option`` "mu_prime", "mu_mu" or "mu_tau", ``value``
    [GeV^-1], e.g. ``"sterile_mu_prime_1e-05"`` (the value in μ_B)."""
    if option not in FIXED:
        raise ValueError(f"option must be one of {', '.join(FIXED)}, got {option!r}")
    return f"{FIXED[option][0]}{value / u.mu_B:.3g}"


def _parse_fixed(name: str):
    for option, (prefix, label) in FIXED.items():
        if name.startswith(prefix):
            try:
                return option, label, float(name[len(prefix) :])
            except ValueError:
                return None
    return None


def scenario_label(name: str, sterile_ratio: float = 0.5) -> str:
    """Plot label of a scenario name (:data:`SCENARIOS` or :func:`fixed_name`)."""
    if name in SCENARIOS:
        return SCENARIOS[name].format(r=sterile_ratio)
    parsed = _parse_fixed(name)
    if parsed is None:
        raise ValueError(f"unknown scenario {name!r}")
    return parsed[1].format(v=parsed[2], r=sterile_ratio)


def valid_assumptions(name: str) -> tuple[str, ...]:
    """Existing-limit assumptions (:data:`jaxdipole.limits.ASSUMPTIONS`) that hold in a scenario.

    Where N decays only to ν_e γ through the coupling being limited (Primakoff, radiative
    Dirac/Majorana, off shell) every limit applies; where another coupling sets or shares the
    decay (N' γ, a fixed μ_NN', μ_μ or μ_τ) only production limits hold as drawn.
    """
    if name in ("primakoff", "radiative_dirac", "radiative_majorana", "offshell_dirac"):
        return ("production", "decay", "lifetime")
    scenario_label(name)  # unknown names raise
    return ("production",)


def beats(m_N, curves: dict[str, np.ndarray], flavour: str = "e") -> dict[str, dict[str, Any]]:
    """Where each radiative curve beats both the Primakoff curve and the existing limits.

    Parameters
    ----------
    m_N : masses [GeV] of the curves
    curves : name -> μ_90 [GeV^-1] (as :func:`reach_curves`; needs "primakoff")
    flavour : flavour of the existing limits compared with

    Returns
    -------
    name -> {"mask": bool per mass, "ranges_MeV": [[lo, hi], ...], "best_factor": largest
    (strongest valid existing limit / μ_90) where it beats both, or None}. The existing limits
    are those whose assumptions hold in the scenario (:func:`valid_assumptions`).
    """
    from .limits import strongest_limit

    m = np.asarray(m_N, dtype=float)
    prim = np.asarray(curves["primakoff"]) if "primakoff" in curves else np.full(m.shape, np.inf)
    out = {}
    for name, v in curves.items():
        if name == "primakoff":
            continue
        v = np.asarray(v, dtype=float)
        env = strongest_limit(m, flavour, assumptions=valid_assumptions(name))
        mask = np.isfinite(v) & (v > 0) & np.isfinite(env) & (v < env) & (v < prim)
        out[name] = {
            "mask": mask,
            "ranges_MeV": mass_ranges(m / u.MeV, mask),
            "best_factor": float(np.max(env[mask] / v[mask])) if np.any(mask) else None,
        }
    return out


@renamed_arguments(n_energy="n_energy_bins", n_cos="n_cos_bins")
def photon_benchmark(
    exp, m_N: float, mu_e: float, *, n_energy_bins: int = 24, n_cos_bins: int = 10, progress=False
) -> dict[str, Any]:
    """Dirac vs Majorana photon (E_γ, cos θ_γ) maps at one point and their separation.

    Parameters
    ----------
    exp : Experiment
    m_N : N mass [GeV]; mu_e : electron-flavour moment [GeV^-1]
    n_energy_bins, n_cos_bins : numbers of bins in E_γ (photon window up to min(2 m_N, 10 MeV))
        and cos θ_γ (formerly ``n_energy``, ``n_cos``)

    Returns
    -------
    dict with the bin edges (MeV), the two maps (events per bin), their totals, mean E_γ
    [MeV], and the expected significance Z of rejecting the wrong nature at equal total rate
    (:func:`jaxdipole.stats.dirac_majorana_z`, no background) from E_γ alone and from the
    (E_γ, cos θ_γ) map, with either nature true. Z grows as sqrt(exposure).
    """
    import equinox as eqx
    import jax.numpy as jnp

    from . import stats
    from .model import DipoleModel
    from .photon_rates import photon_map

    e_lo = float(exp.photon_energy_min)
    e_hi = max(min(10.0 * u.MeV, 2.0 * float(m_N)), 1.5 * e_lo)
    e_edges = jnp.linspace(e_lo, e_hi, n_energy_bins + 1)
    c_edges = jnp.linspace(float(exp.photon_cos_min), float(exp.photon_cos_max), n_cos_bins + 1)
    fn = eqx.filter_jit(photon_map)
    maps = {}
    for nature in ("dirac", "majorana"):
        if progress:
            print(f"spectra: {nature} photon map ...", file=sys.stderr, flush=True)
        model = DipoleModel(m_N, (mu_e, 0.0, 0.0), nature)
        pm = fn(model, exp, e_edges, c_edges)  # the Legendre fold: ~1e-6 per cell
        maps[nature] = np.maximum(np.asarray(pm), 0.0)  # clip round-off negatives of empty bins
    d, mj = maps["dirac"], maps["majorana"]
    centres = 0.5 * (np.asarray(e_edges[1:]) + np.asarray(e_edges[:-1]))
    out: dict[str, Any] = {
        "m_N_MeV": float(m_N) / u.MeV,
        "mu_e_muB": float(mu_e) / u.mu_B,
        "E_gamma_edges_MeV": (np.asarray(e_edges) / u.MeV).tolist(),
        "cos_gamma_edges": np.asarray(c_edges).tolist(),
        "dirac_map": d.tolist(),
        "majorana_map": mj.tolist(),
        "events_dirac": float(d.sum()),
        "events_majorana": float(mj.sum()),
        "mean_E_gamma_MeV": {
            k: float(np.sum(v.sum(1) * centres) / v.sum() / u.MeV) if v.sum() > 0 else None
            for k, v in maps.items()
        },
    }
    if d.sum() > 0 and mj.sum() > 0:
        for truth in ("majorana", "dirac"):
            z_e = stats.dirac_majorana_z(d.sum(1), mj.sum(1), truth=truth)
            z_map = stats.dirac_majorana_z(d.ravel(), mj.ravel(), truth=truth)
            out[f"z_energy_{truth}_true"] = float(z_e)
            out[f"z_map_{truth}_true"] = float(z_map)
    return out


def mass_ranges(m, mask) -> list[list[float]]:
    """Contiguous [m_lo, m_hi] ranges of ``m`` where ``mask`` is True."""
    ranges, start = [], None
    for i, b in enumerate(mask):
        if b and start is None:
            start = i
        if start is not None and (not b or i == len(mask) - 1):
            end = i if b else i - 1
            ranges.append([float(m[start]), float(m[end])])
            start = None
    return ranges


def __getattr__(name: str):
    # the file writers moved to the command line (the analysis layer returns data only)
    if name in ("write_outputs", "write_spectra"):
        from . import cli

        warnings.warn(
            f"jaxdipole.reach.{name} is deprecated: the files of `jaxdipole reach` are written by "
            f"jaxdipole.cli.{name}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(cli, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
