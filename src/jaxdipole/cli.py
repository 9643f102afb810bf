"""The ``jaxdipole`` command line.

Subcommands
-----------
reach (the main job)
    Sensitivity of an experiment (default: NUCLEUS phase 1 at Chooz) in the (m_N, μ) plane:
    the Primakoff (recoil-only) and radiative (recoil + photon) modes, Dirac and Majorana, and
    the sterile-to-sterile scenario, over the existing limits; Dirac-vs-Majorana photon spectra
    at a benchmark point. Writes ``reach.png``, ``spectra.png``, ``reach.csv/json`` and
    ``spectra.csv/json`` into ``--out``.
spectrum
    Photon energy and angle spectra (Dirac and Majorana) at one (m_N, μ) point.
xsec
    Primakoff upscattering cross sections σ(E_ν) for a set of N masses and target nuclei:
    writes ``xsec.csv``, ``xsec.json`` and ``xsec.png`` into ``--out``.
limits
    The packaged existing limits: a plot and a table of the strongest limit vs m_N.

Every option has a default; energies are in MeV, moments in Bohr magnetons. Bad options end with
one line on stderr and exit status 2. Output files are written completely or not at all.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

DEFAULT_OUT = "jaxdipole-results"
NUCLEUS_TARGETS = ("O16", "Al27", "Ca40", "W184")


class CLIError(Exception):
    """A user error, reported as one line."""


def _floats(text: str) -> list[float]:
    try:
        vals = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None
    if not vals:
        raise argparse.ArgumentTypeError("expected at least one number")
    return vals


def _names(text: str) -> list[str]:
    vals = [v.strip() for v in text.split(",") if v.strip()]
    if not vals:
        raise argparse.ArgumentTypeError("expected at least one name")
    return vals


def _xsec(args: argparse.Namespace) -> int:
    import jax
    import jax.numpy as jnp
    import numpy as np

    from . import units as u
    from ._io import atomic_path, write_text
    from .model import DipoleModel
    from .nuclei import nucleus
    from .primakoff import primakoff_sigma

    masses = np.asarray(args.masses) * u.MeV
    if np.any(masses <= 0) or not np.all(np.isfinite(masses)):
        raise CLIError(f"--masses must be positive N masses in MeV, got {args.masses}")
    if not (0 < args.emin < args.emax) or not np.isfinite(args.emax):
        raise CLIError(f"need 0 < --emin < --emax (MeV), got {args.emin}, {args.emax}")
    if args.n_energies < 2:
        raise CLIError(f"--n-energies must be >= 2, got {args.n_energies}")
    if not (args.mu > 0 and np.isfinite(args.mu)):
        raise CLIError(f"--mu must be a positive moment in Bohr magnetons, got {args.mu}")
    try:
        nuclei = [nucleus(name) for name in args.targets]
    except ValueError as err:
        raise CLIError(f"--targets: {err}") from None
    mu = args.mu * u.mu_B
    energies = np.geomspace(args.emin, args.emax, args.n_energies) * u.MeV

    t0 = time.perf_counter()
    table = {}
    for nuc in nuclei:

        def sigma(m, E, nuc=nuc):
            model = DipoleModel(m_N=m, mu=(mu, 0.0, 0.0), nature="dirac")
            return primakoff_sigma(model, nuc, E, form_factor=not args.no_form_factor)

        grid = jax.jit(jax.vmap(jax.vmap(sigma, (None, 0)), (0, None)))
        table[nuc.name] = np.asarray(grid(jnp.asarray(masses), jnp.asarray(energies))) / u.cm2
    elapsed = time.perf_counter() - t0

    out = Path(args.out)
    header = "target,m_N_MeV,E_nu_MeV,sigma_cm2"
    rows = [
        f"{name},{m / u.MeV:.6g},{E / u.MeV:.8g},{s:.8e}"
        for name, sig in table.items()
        for m, row in zip(masses, sig, strict=True)
        for E, s in zip(energies, row, strict=True)
    ]
    write_text(out / "xsec.csv", "\n".join([header, *rows]) + "\n")
    meta = {
        "quantity": "Primakoff upscattering cross section sigma(nu A -> N A)",
        "mu_muB": args.mu,
        "convention": "L = (mu/2) nu-bar sigma P_R N F + h.c.; sigma scales as mu^2",
        "form_factor": "unit" if args.no_form_factor else "helm",
        "m_N_MeV": (masses / u.MeV).tolist(),
        "E_nu_MeV": (energies / u.MeV).tolist(),
        "sigma_cm2": {k: v.tolist() for k, v in table.items()},
    }
    write_text(out / "xsec.json", json.dumps(meta, indent=1) + "\n")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        1, len(table), figsize=(4 * len(table), 3.6), sharey=True, squeeze=False
    )
    for ax, (name, sig) in zip(axes[0], table.items(), strict=True):
        for m, row in zip(masses, sig, strict=True):
            pos = row > 0
            ax.loglog(energies[pos] / u.MeV, row[pos], label=f"$m_N$ = {m / u.MeV:g} MeV")
        ax.set_title(name)
        ax.set_xlabel(r"$E_\nu$ [MeV]")
    axes[0][0].set_ylabel(rf"$\sigma(\nu A\to N A)$ [cm$^2$], $\mu$ = {args.mu:g} $\mu_B$")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(out / "xsec.png") as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    print(
        f"xsec: {len(nuclei)} targets x {len(masses)} masses x {len(energies)} energies "
        f"in {elapsed:.2f} s -> {out}/xsec.csv, xsec.json, xsec.png"
    )
    return 0


PRESETS = {
    "nucleus-phase1": "nucleus_phase1",
    "nucleus-upgrade": "nucleus_upgrade",
}
FORMATS = ("csv", "json")


def _experiment(args: argparse.Namespace):
    from . import units as u
    from .experiment import presets

    kw = {}
    checks = [
        ("exposure", "--exposure", "years", u.year, False),
        ("threshold", "--threshold", "eV", u.eV, False),
        ("decay_length", "--decay-length", "cm", u.cm, False),
        ("background", "--background", "counts/(kg day keV)", 1 / (u.kg * u.day * u.keV), True),
    ]
    names = {
        "exposure": "exposure",
        "threshold": "recoil_threshold",
        "decay_length": "decay_length",
        "background": "background",
    }
    for attr, flag, unit, scale, zero_ok in checks:
        v = getattr(args, attr)
        if v is None:
            continue
        if not math.isfinite(v) or v < 0 or (v == 0 and not zero_ok):
            rng = ">= 0" if zero_ok else "> 0"
            raise CLIError(f"{flag} must be finite and {rng} ({unit}), got {v}")
        kw[names[attr]] = v * scale
    if args.target_mass is not None:
        if not (math.isfinite(args.target_mass) and args.target_mass > 0):
            raise CLIError(f"--target-mass must be finite and > 0 (kg), got {args.target_mass}")
        kw["target_mass"] = args.target_mass * u.kg
    try:
        return getattr(presets, PRESETS[args.experiment])(**kw)
    except ValueError as err:
        raise CLIError(str(err)) from None


def _formats(text: str) -> list[str]:
    vals = _names(text)
    bad = [v for v in vals if v not in FORMATS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown format(s) {bad}; accepted: csv,json")
    return vals


def _mass_grid(args: argparse.Namespace):
    import numpy as np

    lo, hi = args.m_min, args.m_max
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise CLIError(f"need 0 < --m-min < --m-max (MeV), got {lo}, {hi}")
    if not 2 <= args.n_masses <= 100000:
        raise CLIError(f"--n-masses must be in [2, 100000], got {args.n_masses}")
    return np.geomspace(lo, hi, args.n_masses)


def _progress_for(args: argparse.Namespace) -> bool:
    return not args.quiet


def _reach_curves(exp, m_grid_mev, sterile_ratio: float, progress: bool) -> dict:
    """μ_90(m_N) [GeV^-1] for the four standard scenarios, as NumPy arrays."""
    import jax.numpy as jnp
    import numpy as np

    from . import units as u
    from .model import DipoleModel
    from .scan import scan
    from .sensitivity import primakoff_reach, radiative_reach

    mu_ref = 1e-9 * u.mu_B
    ms = jnp.asarray(m_grid_mev) * u.MeV
    fast = {"precise": False, "n_nodes": 8}

    def model(m, nature="dirac", sterile=False):
        if sterile:
            return DipoleModel(m, (mu_ref, 0.0, 0.0), nature, sterile_ratio * m, mu_ref)
        return DipoleModel(m, (mu_ref, 0.0, 0.0), nature)

    jobs = {
        "primakoff": lambda m: primakoff_reach(model(m), exp),
        "radiative_dirac": lambda m: radiative_reach(model(m), exp, **fast),
        "radiative_majorana": lambda m: radiative_reach(model(m, "majorana"), exp, **fast),
        "sterile_dirac": lambda m: radiative_reach(model(m, sterile=True), exp, **fast),
    }
    chunk = max(1, -(-len(ms) // 4)) if progress else None
    out = {}
    for name, fn in jobs.items():
        out[name] = np.asarray(scan(fn, [ms], chunk_size=chunk, progress=progress, desc=name))
    return out


def _mass_ranges(m, better) -> list[list[float]]:
    """Contiguous [m_lo, m_hi] ranges (MeV) where ``better`` is True."""
    ranges, start = [], None
    for i, b in enumerate(better):
        if b and start is None:
            start = i
        if start is not None and (not b or i == len(better) - 1):
            end = i if b else i - 1
            ranges.append([float(m[start]), float(m[end])])
            start = None
    return ranges


def _benchmark(exp, m_bench_mev: float, mu_bench_muB: float, progress: bool) -> dict:
    """Dirac vs Majorana photon spectra and their separation at one point."""
    import equinox as eqx
    import jax.numpy as jnp
    import numpy as np

    from . import stats
    from . import units as u
    from .model import DipoleModel
    from .photon_rates import photon_map

    m = m_bench_mev * u.MeV
    e_hi = max(min(10.0 * u.MeV, 2.0 * m), float(exp.photon_energy_min) * 1.5)
    e_edges = jnp.linspace(float(exp.photon_energy_min), e_hi, 25)
    c_edges = jnp.linspace(float(exp.photon_cos_min), float(exp.photon_cos_max), 11)
    maps = {}
    for nature in ("dirac", "majorana"):
        if progress:
            print(f"spectra: {nature} photon map ...", file=sys.stderr, flush=True)
        model = DipoleModel(m, (mu_bench_muB * u.mu_B, 0.0, 0.0), nature)
        fn = eqx.filter_jit(photon_map)
        # fast fold (precise=False, 8 nodes): ~1e-4 per bin, ample for the shapes and Z
        pm = fn(model, exp, e_edges, c_edges, precise=False, n_nodes=8)
        maps[nature] = np.maximum(np.asarray(pm), 0.0)  # clip round-off negatives of empty bins
    d, mj = maps["dirac"], maps["majorana"]
    z = {}
    for truth in ("majorana", "dirac"):
        z[f"z_energy_{truth}_true"] = float(
            stats.dirac_majorana_z(d.sum(1), mj.sum(1), truth=truth)
        )
        z[f"z_map_{truth}_true"] = float(stats.dirac_majorana_z(d.ravel(), mj.ravel(), truth=truth))
    n_d, n_m = float(d.sum()), float(mj.sum())
    mean_e = {
        k: float(np.sum(v.sum(1) * 0.5 * (e_edges[1:] + e_edges[:-1])) / v.sum() / u.MeV)
        for k, v in maps.items()
    }
    return {
        "m_N_MeV": m_bench_mev,
        "mu_e_muB": mu_bench_muB,
        "E_gamma_edges_MeV": (np.asarray(e_edges) / u.MeV).tolist(),
        "cos_gamma_edges": np.asarray(c_edges).tolist(),
        "dirac_map": d.tolist(),
        "majorana_map": mj.tolist(),
        "events_dirac": n_d,
        "events_majorana": n_m,
        "mean_E_gamma_MeV": mean_e,
        **z,
    }


def _write_reach_outputs(out: Path, args, exp, m, curves, limit_env, bench, timing) -> list[str]:
    import numpy as np

    from . import units as u
    from ._io import atomic_path, write_text

    labels = {
        "primakoff": "Primakoff (recoil only), Dirac = Majorana",
        "radiative_dirac": "radiative (recoil + photon), Dirac",
        "radiative_majorana": "radiative (recoil + photon), Majorana",
        "sterile_dirac": (
            f"radiative via N -> N' gamma, Dirac, mu_e = mu_NN', m_N' = {args.sterile_ratio:g} m_N"
        ),
    }
    written = []
    beats = {
        k: _mass_ranges(m, np.isfinite(v) & np.isfinite(limit_env) & (v < limit_env))
        for k, v in curves.items()
    }
    uncovered = _mass_ranges(m, ~np.isfinite(limit_env))
    if "csv" in args.format:
        header = "m_N_MeV," + ",".join(f"{k}_muB" for k in curves) + ",strongest_existing_muB"
        rows = [
            f"{mi:.6g},"
            + ",".join(f"{curves[k][i] / u.mu_B:.6e}" for k in curves)
            + f",{limit_env[i] / u.mu_B:.6e}"
            for i, mi in enumerate(m)
        ]
        write_text(out / "reach.csv", "\n".join([header, *rows]) + "\n")
        spec_rows = ["E_lo_MeV,E_hi_MeV,dirac_events,majorana_events"]
        e = bench["E_gamma_edges_MeV"]
        dm = np.asarray(bench["dirac_map"]).sum(1)
        mm = np.asarray(bench["majorana_map"]).sum(1)
        spec_rows += [f"{e[i]:.6g},{e[i + 1]:.6g},{dm[i]:.6e},{mm[i]:.6e}" for i in range(len(dm))]
        write_text(out / "spectra.csv", "\n".join(spec_rows) + "\n")
        written += ["reach.csv", "spectra.csv"]
    if "json" in args.format:
        meta = {
            "experiment": exp.name,
            "settings": {
                "target_mass_kg": float(exp.target_mass / u.kg),
                "exposure_years": float(exp.exposure / u.year),
                "recoil_threshold_eV": float(exp.recoil_threshold / u.eV),
                "recoil_max_keV": float(exp.recoil_max / u.keV),
                "background_per_kg_day_keV": float(exp.background * u.kg * u.day * u.keV),
                "decay_length_cm": None if exp.prompt else float(exp.decay_length / u.cm),
                "photon_energy_min_keV": float(exp.photon_energy_min / u.keV),
            },
            "statistics": (
                "median expected 90% CL upper limits (Asimov): Primakoff from 12 log recoil bins "
                "against flat background + SM CEvNS; radiative modes background free (2.303 "
                "events), with the decay-in-detector probability solved exactly in mu"
            ),
            "m_N_MeV": m.tolist(),
            "curves_muB": {k: (v / u.mu_B).tolist() for k, v in curves.items()},
            "labels": labels,
            "strongest_existing_limit_muB": (limit_env / u.mu_B).tolist(),
            "beats_existing_limits_MeV": beats,
            "no_digitised_limit_MeV": uncovered,
            "timing_s": timing,
        }
        write_text(out / "reach.json", json.dumps(meta, indent=1, allow_nan=True) + "\n")
        write_text(out / "spectra.json", json.dumps(bench, indent=1) + "\n")
        written += ["reach.json", "spectra.json"]

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import plot_photon_spectra, plot_reach

    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    plot_reach(
        m * u.MeV,
        {labels[k]: v for k, v in curves.items()},
        ax,
        flavour="e",
        title=f"{exp.name}: median expected 90% CL sensitivity",
    )
    fig.tight_layout()
    with atomic_path(out / "reach.png") as tmp:
        fig.savefig(tmp, format="png", dpi=130)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    dmap, mmap = np.asarray(bench["dirac_map"]), np.asarray(bench["majorana_map"])
    e_edges = np.asarray(bench["E_gamma_edges_MeV"]) * u.MeV
    plot_photon_spectra(e_edges, {"Dirac": dmap.sum(1), "Majorana": mmap.sum(1)}, axes[0])
    plot_photon_spectra(
        bench["cos_gamma_edges"],
        {"Dirac": dmap.sum(0), "Majorana": mmap.sum(0)},
        axes[1],
        xlabel=r"$\cos\theta_\gamma$ (photon to beam)",
        x_scale=1.0,
    )
    fig.suptitle(
        f"{exp.name}: photons at m_N = {bench['m_N_MeV']:g} MeV "
        f"(Z_D/M = {bench['z_map_majorana_true']:.2g} per exposure, equal rate)",
        fontsize=10,
    )
    fig.tight_layout()
    with atomic_path(out / "spectra.png") as tmp:
        fig.savefig(tmp, format="png", dpi=130)
    plt.close(fig)
    return [*written, "reach.png", "spectra.png"]


def _reach(args: argparse.Namespace) -> int:
    import numpy as np

    from . import units as u
    from .limits import strongest_limit

    if not (0 <= args.sterile_ratio < 1):
        raise CLIError(f"--sterile-ratio must be in [0, 1) (m_N'/m_N), got {args.sterile_ratio}")
    if not (math.isfinite(args.benchmark_mass) and args.benchmark_mass > 0):
        raise CLIError(f"--benchmark-mass must be > 0 (MeV), got {args.benchmark_mass}")
    if not (math.isfinite(args.benchmark_mu) and args.benchmark_mu > 0):
        raise CLIError(f"--benchmark-mu must be > 0 (mu_B), got {args.benchmark_mu}")
    exp = _experiment(args)
    m = _mass_grid(args)
    progress = _progress_for(args)
    t0 = time.perf_counter()
    curves = _reach_curves(exp, m, args.sterile_ratio, progress)
    t1 = time.perf_counter()
    bench = _benchmark(exp, args.benchmark_mass, args.benchmark_mu, progress)
    t2 = time.perf_counter()
    limit_env = strongest_limit(m * u.MeV, "e")
    timing = {"curves": round(t1 - t0, 2), "spectra": round(t2 - t1, 2)}
    out = Path(args.out)
    files = _write_reach_outputs(out, args, exp, m, curves, limit_env, bench, timing)
    timing["total"] = round(time.perf_counter() - t0, 2)
    best = {k: np.nanmin(np.where(np.isfinite(v), v, np.nan)) / u.mu_B for k, v in curves.items()}
    print(f"reach: {exp.name}, {len(m)} masses {m[0]:g}-{m[-1]:g} MeV, {timing['total']:.1f} s")
    for k, v in best.items():
        print(f"  best {k:20s} mu_90 = {v:.3g} mu_B")
    print(
        f"  benchmark m_N = {args.benchmark_mass:g} MeV: Dirac/Majorana Z = "
        f"{bench['z_map_majorana_true']:.3g} (E_gamma x cos, equal rate)"
    )
    print(f"  -> {out}/" + ", ".join(files))
    return 0


def _add_experiment_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--experiment",
        choices=sorted(PRESETS),
        default="nucleus-phase1",
        help="experiment preset (default: %(default)s: 6.84 g CaWO4 + 4.41 g Al2O3 at Chooz)",
    )
    p.add_argument("--exposure", type=float, help="live time in years (preset: 1)")
    p.add_argument("--target-mass", type=float, help="target mass in kg (preset value)")
    p.add_argument("--threshold", type=float, help="recoil threshold in eV (preset: 20)")
    p.add_argument(
        "--background", type=float, help="flat background in counts/(kg day keV) (preset: 100)"
    )
    p.add_argument(
        "--decay-length", type=float, help="region in which N must decay, in cm (preset: 10)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``jaxdipole`` command."""
    p = argparse.ArgumentParser(
        prog="jaxdipole",
        description="Neutrino dipole portal at coherent-scattering experiments (JAX).",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    r = sub.add_parser(
        "reach",
        help="the main job: (m_N, mu) sensitivity of NUCLEUS at Chooz over existing limits",
        description=(
            "Median expected 90%% CL sensitivity to the transition moment mu_e in the "
            "(m_N, mu) plane: Primakoff (recoil only) and radiative (recoil + photon) modes, "
            "Dirac and Majorana N, and N -> N' gamma; Dirac-vs-Majorana photon spectra at a "
            "benchmark point. Masses in MeV, moments in Bohr magnetons."
        ),
    )
    r.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    _add_experiment_options(r)
    r.add_argument("--m-min", type=float, default=0.1, help="lowest m_N in MeV (default: 0.1)")
    r.add_argument("--m-max", type=float, default=10.0, help="highest m_N in MeV (default: 10)")
    r.add_argument(
        "--n-masses", type=int, default=32, help="log-spaced masses (default: %(default)s)"
    )
    r.add_argument(
        "--sterile-ratio",
        type=float,
        default=0.5,
        help="m_N'/m_N of the sterile-to-sterile scenario, mu_NN' = mu_e (default: 0.5)",
    )
    r.add_argument(
        "--benchmark-mass", type=float, default=5.0, help="benchmark m_N in MeV (default: 5)"
    )
    r.add_argument(
        "--benchmark-mu",
        type=float,
        default=1e-8,
        help="benchmark mu_e in Bohr magnetons for the spectra (default: 1e-8)",
    )
    r.add_argument(
        "--format",
        type=_formats,
        default=list(FORMATS),
        help="table formats, comma-separated from csv,json (default: csv,json); PNGs always",
    )
    r.add_argument("--quiet", action="store_true", help="no progress output")
    r.set_defaults(func=_reach)
    x = sub.add_parser(
        "xsec",
        help="Primakoff cross-section table and plot for the NUCLEUS target nuclei",
        description="σ(ν A -> N A) vs E_ν for several N masses and target nuclei.",
    )
    x.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    x.add_argument(
        "--targets",
        type=_names,
        default=list(NUCLEUS_TARGETS),
        help="comma-separated nuclei, e.g. O16,Ca40,W184,Ge74 (default: O16,Al27,Ca40,W184)",
    )
    x.add_argument(
        "--masses",
        type=_floats,
        default=[0.1, 1.0, 2.0, 5.0, 8.0],
        help="comma-separated N masses in MeV (default: 0.1,1,2,5,8)",
    )
    x.add_argument(
        "--mu",
        type=float,
        default=1e-9,
        help="transition moment in Bohr magnetons; σ scales as mu^2 (default: 1e-9)",
    )
    x.add_argument("--emin", type=float, default=0.1, help="lowest E_ν in MeV (default: 0.1)")
    x.add_argument("--emax", type=float, default=10.0, help="highest E_ν in MeV (default: 10)")
    x.add_argument(
        "--n-energies", type=int, default=200, help="number of log-spaced energies (default: 200)"
    )
    x.add_argument("--no-form-factor", action="store_true", help="use F = 1 instead of Helm")
    x.set_defaults(func=_xsec)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``jaxdipole`` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except CLIError as err:
        print(f"jaxdipole {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
