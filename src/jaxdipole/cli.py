"""The ``jaxdipole`` command line.

Subcommands
-----------
reach (the main job)
    Sensitivity of an experiment (default: NUCLEUS phase 1 at Chooz) in the (m_N, μ) plane:
    the Primakoff (recoil-only) and radiative (recoil + photon) modes, Dirac and Majorana, and
    N -> N' γ: the reach in μ_e at fixed sterile-to-sterile moments (``--mu-prime``) and in
    sqrt(μ_e μ_NN'), over the existing limits (those assuming N -> ν γ drawn dotted where N
    decays otherwise); Dirac-vs-Majorana photon spectra at a benchmark point. Writes
    ``reach.png``, ``reach_sterile.png``, ``spectra.png``, ``reach.csv/json`` and
    ``spectra.csv/json`` into ``--out``.
spectrum
    Photon energy and angle spectra (Dirac and Majorana) at one (m_N, μ) point.
xsec
    Primakoff upscattering cross sections σ(E_ν) for a set of N masses and target nuclei:
    writes ``xsec.csv``, ``xsec.json`` and ``xsec.png`` into ``--out``.
limits
    The packaged existing limits: a plot and a table of the strongest limit vs m_N.
data-limit
    Dipole-portal limits from public data releases read from ``--data`` (``coherent-lar``:
    COHERENT CENNS-10; ``coherent-csi``: COHERENT CsI 2021; ``coherent``: both combined;
    ``xenonnt-b8``: XENONnT solar ⁸B CEvNS, SR0-SR2; ``all``: every one combined):
    ``data-limit.json/csv/png`` with the SM prediction and fit.

Every option has a default; energies are in MeV, moments in Bohr magnetons. Bad options end with
one line on stderr and exit status 2. Output files are written completely or not at all.

Compiled programs are kept in JAX's persistent compilation cache, so that a second run with the
same settings loads them instead of compiling again: ``--compile-cache DIR`` (default:
``$JAX_COMPILATION_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/jaxdipole/xla``, i.e.
``~/.cache/jaxdipole/xla``); ``--compile-cache ''`` switches it off.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_OUT = "jaxdipole-results"


def default_compile_cache() -> str:
    """The default folder of the compilation cache: ``$JAX_COMPILATION_CACHE_DIR`` if set, else
    ``$XDG_CACHE_HOME/jaxdipole/xla`` (``~/.cache/jaxdipole/xla``)."""
    import os

    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return os.environ["JAX_COMPILATION_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(base) / "jaxdipole" / "xla")


def _use_compile_cache(folder: str, explicit: bool) -> None:
    """Keep compiled programs in ``folder`` (JAX's persistent compilation cache); '' for none.
    A folder that cannot be made is an error if given with --compile-cache, else a one-line
    note on stderr (the command runs without the cache)."""
    import os

    if not folder:
        return
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(f"no permission to write in {folder!r}")
    except OSError as err:
        if explicit:
            raise CLIError(f"--compile-cache: cannot use {folder!r}: {err}") from None
        print(f"jaxdipole: note: no compilation cache ({err})", file=sys.stderr)
        return
    import jax

    jax.config.update("jax_compilation_cache_dir", str(path))


NUCLEUS_TARGETS = ("O16", "Al27", "Ca40", "W184")


class CLIError(Exception):
    """A user error, reported as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2), like :class:`CLIError`."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


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
    checks = [  # (option attribute, Experiment field, flag, unit, scale, zero allowed)
        ("exposure", "exposure", "--exposure", "years", u.year, False),
        ("threshold", "recoil_threshold", "--threshold", "eV", u.eV, False),
        ("decay_length", "decay_length", "--decay-length", "cm", u.cm, False),
        ("background", "background", "--background", "counts/(kg day keV)",
         1 / (u.kg * u.day * u.keV), True),
    ]  # fmt: skip
    for attr, field, flag, unit, scale, zero_ok in checks:
        v = getattr(args, attr)
        if v is None:
            continue
        if not math.isfinite(v) or v < 0 or (v == 0 and not zero_ok):
            rng = ">= 0" if zero_ok else "> 0"
            raise CLIError(f"{flag} must be finite and {rng} ({unit}), got {v}")
        kw[field] = v * scale
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


def _values(text: str) -> list[float]:
    """Comma-separated floats ('' for none)."""
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None


def _mass_grid(args: argparse.Namespace):
    import numpy as np

    lo, hi = args.m_min, args.m_max
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise CLIError(f"need 0 < --m-min < --m-max (MeV), got {lo}, {hi}")
    if not 2 <= args.n_masses <= 100000:
        raise CLIError(f"--n-masses must be in [2, 100000], got {args.n_masses}")
    return np.geomspace(lo, hi, args.n_masses)


def write_outputs(
    out: str | Path,
    exp,
    m_N,
    curves: dict[str, Any],
    bench: dict[str, Any],
    *,
    formats=("csv", "json"),
    sterile_ratio: float = 0.5,
    timing: dict[str, float] | None = None,
) -> list[str]:
    """Write reach.csv/json, spectra.csv/json (per ``formats``), reach.png (and
    reach_sterile.png when a curve has N decay through another coupling) and spectra.png.

    Every file is written atomically (complete or not at all). Returns the file names.
    """
    import numpy as np

    from . import units as u
    from ._io import atomic_path, write_text
    from .limits import strongest_limit
    from .reach import beats, mass_ranges, scenario_label, valid_assumptions

    out = Path(out)
    m = np.asarray(m_N) / u.MeV
    labels = {k: scenario_label(k, sterile_ratio) for k in curves}
    env = strongest_limit(np.asarray(m_N), "e")
    env_prod = strongest_limit(np.asarray(m_N), "e", assumptions=("production",))
    wins = beats(np.asarray(m_N), curves, "e")
    valid_env = {
        k: env if len(valid_assumptions(k)) == 3 else env_prod for k in curves
    }  # fmt: skip
    below = {
        k: mass_ranges(m, np.isfinite(v) & np.isfinite(valid_env[k]) & (v < valid_env[k]))
        for k, v in curves.items()
    }
    written = []
    if "csv" in formats:
        cols = [f"{k}_muB" for k in curves] + [f"{k}_beats_both" for k in wins]
        header = "m_N_MeV," + ",".join(cols) + ",strongest_existing_muB,strongest_production_muB"
        rows = [
            f"{mi:.6g},"
            + ",".join(f"{curves[k][i] / u.mu_B:.6e}" for k in curves)
            + "".join(f",{int(wins[k]['mask'][i])}" for k in wins)
            + f",{env[i] / u.mu_B:.6e},{env_prod[i] / u.mu_B:.6e}"
            for i, mi in enumerate(m)
        ]
        write_text(out / "reach.csv", "\n".join([header, *rows]) + "\n")
        written.append("reach.csv")
    if "json" in formats:
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
                "sterile_ratio": sterile_ratio,
            },
            "statistics": (
                "median expected 90% CL upper limits (Asimov): Primakoff from 12 log recoil bins "
                "against the flat background + SM CEvNS; radiative modes background free (2.303 "
                "events) with the decay-in-detector probability solved exactly in mu"
            ),
            "m_N_MeV": m.tolist(),
            "curves_muB": {k: (np.asarray(v) / u.mu_B).tolist() for k, v in curves.items()},
            "labels": labels,
            "existing_limits_that_hold": {k: list(valid_assumptions(k)) for k in curves},
            "strongest_existing_limit_muB": (env / u.mu_B).tolist(),
            "strongest_production_limit_muB": (env_prod / u.mu_B).tolist(),
            "beats_existing_limits_MeV": below,
            "beats_primakoff_and_existing_MeV": {k: w["ranges_MeV"] for k, w in wins.items()},
            "best_factor_below_existing": {k: w["best_factor"] for k, w in wins.items()},
            "no_digitised_limit_MeV": mass_ranges(m, ~np.isfinite(env)),
            "timing_s": timing or {},
        }
        write_text(out / "reach.json", json.dumps(meta, indent=1) + "\n")
        written.append("reach.json")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import plot_reach

    standard = [k for k in curves if len(valid_assumptions(k)) == 3]
    other = [k for k in curves if k not in standard]
    figures: list[tuple[str, list[str], tuple[str, ...] | None, str]] = [
        ("reach.png", standard, None, "")
    ]
    if other:
        note = "\nN decaying through another coupling: dotted limits assume N -> nu gamma"
        keys = [k for k in ("primakoff",) if k in curves] + other
        figures.append(("reach_sterile.png", keys, ("production",), note))
    for name, keys, valid, note in figures:
        fig, ax = plt.subplots(figsize=(7.5, 5.5))
        plot_reach(
            np.asarray(m_N),
            {labels[k]: curves[k] for k in keys},
            ax=ax,
            flavour="e",
            title=f"{exp.name}: median expected 90% CL sensitivity{note}",
            valid=valid,
            highlight={labels[k]: wins[k]["mask"] for k in keys if k in wins},
        )
        ax.title.set_fontsize(9)
        ax.legend(fontsize=6.5, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.13))
        with atomic_path(out / name) as tmp:
            fig.savefig(tmp, format="png", dpi=130, bbox_inches="tight")
        plt.close(fig)
        written.append(name)

    return [*written, *write_spectra(out, exp, bench, formats=formats)]


def write_spectra(out: str | Path, exp, bench: dict[str, Any], *, formats=("csv", "json")):
    """Write spectra.csv/json (per ``formats``) and spectra.png of :func:`photon_benchmark`.

    Every file is written atomically. Returns the file names.
    """
    import numpy as np

    from . import units as u
    from ._io import atomic_path, write_text

    out = Path(out)
    written = []
    if "csv" in formats:
        e = bench["E_gamma_edges_MeV"]
        dm = np.asarray(bench["dirac_map"]).sum(1)
        mm = np.asarray(bench["majorana_map"]).sum(1)
        spec = ["E_lo_MeV,E_hi_MeV,dirac_events,majorana_events"]
        spec += [f"{e[i]:.6g},{e[i + 1]:.6g},{dm[i]:.6e},{mm[i]:.6e}" for i in range(len(dm))]
        write_text(out / "spectra.csv", "\n".join(spec) + "\n")
        written.append("spectra.csv")
    if "json" in formats:
        write_text(out / "spectra.json", json.dumps(bench, indent=1) + "\n")
        written.append("spectra.json")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import plot_photon_spectra

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    dmap, mmap = np.asarray(bench["dirac_map"]), np.asarray(bench["majorana_map"])
    e_edges = np.asarray(bench["E_gamma_edges_MeV"]) * u.MeV
    plot_photon_spectra(e_edges, {"Dirac": dmap.sum(1), "Majorana": mmap.sum(1)}, ax=axes[0])
    plot_photon_spectra(
        bench["cos_gamma_edges"],
        {"Dirac": dmap.sum(0), "Majorana": mmap.sum(0)},
        ax=axes[1],
        xlabel=r"$\cos\theta_\gamma$ (photon to beam)",
        x_scale=1.0,
    )
    z = bench.get("z_map_majorana_true")
    ztext = f" (Z_D/M = {z:.2g} at equal rate)" if z is not None else ""
    fig.suptitle(
        f"{exp.name}: photons at m_N = {bench['m_N_MeV']:g} MeV{ztext}",
        fontsize=10,
    )
    fig.tight_layout()
    with atomic_path(out / "spectra.png") as tmp:
        fig.savefig(tmp, format="png", dpi=130)
    plt.close(fig)
    return [*written, "spectra.png"]


def _positive(name: str, value: float, unit: str) -> float:
    if not (math.isfinite(value) and value > 0):
        raise CLIError(f"{name} must be finite and > 0 ({unit}), got {value}")
    return value


def _reach(args: argparse.Namespace) -> int:
    import numpy as np

    from . import reach
    from . import units as u

    if not (0 <= args.sterile_ratio < 1):
        raise CLIError(f"--sterile-ratio must be in [0, 1) (m_N'/m_N), got {args.sterile_ratio}")
    _positive("--benchmark-mass", args.benchmark_mass, "MeV")
    _positive("--benchmark-mu", args.benchmark_mu, "mu_B")
    exp = _experiment(args)
    m = _mass_grid(args) * u.MeV
    progress = not args.quiet
    t0 = time.perf_counter()
    fixed = {}
    for option in ("mu_prime", "mu_mu", "mu_tau"):
        values = getattr(args, option)
        for v in values:
            _positive("--" + option.replace("_", "-"), v, "mu_B")
        fixed[option] = [v * u.mu_B for v in values]
    curves = reach.reach_curves(
        exp, m, sterile_ratio=args.sterile_ratio, progress=progress,
        full_amplitude=args.full_amplitude, **fixed,
    )  # fmt: skip
    t1 = time.perf_counter()
    bench = reach.photon_benchmark(
        exp, args.benchmark_mass * u.MeV, args.benchmark_mu * u.mu_B, progress=progress
    )
    t2 = time.perf_counter()
    timing = {"curves": round(t1 - t0, 2), "spectra": round(t2 - t1, 2)}
    out = Path(args.out)
    files = write_outputs(
        out, exp, m, curves, bench, formats=args.format, sterile_ratio=args.sterile_ratio,
        timing=timing,
    )  # fmt: skip
    total = time.perf_counter() - t0
    print(
        f"reach: {exp.name}, {len(m)} masses {m[0] / u.MeV:g}-{m[-1] / u.MeV:g} MeV, {total:.1f} s"
    )
    wins = reach.beats(m, curves, "e")
    for k, v in curves.items():
        ok = np.isfinite(v)
        best = np.min(v[ok]) / u.mu_B if np.any(ok) else float("inf")
        line = f"  best {k:28s} mu_90 = {best:.3g} mu_B"
        if k in wins and wins[k]["ranges_MeV"]:
            where = ", ".join(f"{lo:.3g}-{hi:.3g}" for lo, hi in wins[k]["ranges_MeV"])
            line += f"; beats Primakoff and the limits at {where} MeV"
            line += f" (up to {wins[k]['best_factor']:.3g}x)"
        print(line)
    if "z_map_majorana_true" in bench:
        print(
            f"  benchmark m_N = {args.benchmark_mass:g} MeV, mu_e = {args.benchmark_mu:g} mu_B: "
            f"{bench['events_dirac']:.3g} (Dirac) / {bench['events_majorana']:.3g} (Majorana) "
            f"photon events, Dirac-vs-Majorana Z = {bench['z_map_majorana_true']:.3g} "
            "(E_gamma x cos, equal rate)"
        )
    print(f"  -> {out}/" + ", ".join(files))
    return 0


def _spectrum(args: argparse.Namespace) -> int:
    from . import reach
    from . import units as u

    _positive("--m-n", args.m_n, "MeV")
    _positive("--mu", args.mu, "mu_B")
    if not (2 <= args.n_energy_bins <= 2000 and 1 <= args.n_cos_bins <= 2000):
        raise CLIError("--n-energy-bins must be in [2, 2000] and --n-cos-bins in [1, 2000]")
    exp = _experiment(args)
    t0 = time.perf_counter()
    bench = reach.photon_benchmark(
        exp,
        args.m_n * u.MeV,
        args.mu * u.mu_B,
        n_energy_bins=args.n_energy_bins,
        n_cos_bins=args.n_cos_bins,
    )
    files = write_spectra(Path(args.out), exp, bench, formats=args.format)
    print(
        f"spectrum: {exp.name}, m_N = {args.m_n:g} MeV, mu_e = {args.mu:g} mu_B: "
        f"{bench['events_dirac']:.4g} (Dirac) / {bench['events_majorana']:.4g} (Majorana) "
        f"radiative events, <E_gamma> = {bench['mean_E_gamma_MeV']['dirac']} / "
        f"{bench['mean_E_gamma_MeV']['majorana']} MeV, {time.perf_counter() - t0:.1f} s"
    )
    print(f"  -> {args.out}/" + ", ".join(files))
    return 0


DATA_SETS = ("coherent-lar", "coherent-csi", "coherent", "xenonnt-b8", "all")
#: The combinations among DATA_SETS and what they combine.
_COMBINATIONS = {"coherent": ("coherent-lar", "coherent-csi")}
#: Each released data set: (a file that marks its folder, what it is).
_RELEASES = {
    "coherent-lar": (
        "cevnspdf.txt",
        "COHERENT CENNS-10 liquid argon, Analysis A (PRL 126 (2021) 012002)",
    ),
    "coherent-csi": (
        "dataBeamOnC.txt",
        "COHERENT CsI[Na] full data set (PRL 129 (2022) 081801)",
    ),
    "xenonnt-b8": (
        "binning/sr0.yaml",
        "XENONnT solar 8B CEvNS, SR0-SR2 (arXiv:2604.06002; Zenodo 10.5281/zenodo.20576156)",
    ),
}


#: The neutrino flavours of each data set's source (0 e, 1 mu, 2 tau).
_FLAVOURS = {"coherent-lar": (0, 1), "coherent-csi": (0, 1), "xenonnt-b8": (0, 1, 2)}


def _find_releases(paths: list[str]) -> dict[str, Path]:
    """Release folders among ``paths`` (each a release folder or a folder holding them)."""
    found: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            raise CLIError(f"--data: {raw!r} is not a folder")
        candidates = [path] + sorted(p for p in path.iterdir() if p.is_dir())
        for folder in candidates:
            for name, (marker, _) in _RELEASES.items():
                if (folder / marker).is_file():
                    found.setdefault(name, folder)
    return found


def _load_data_sets(dataset: str, paths: list[str], solar_flux: str = "sno") -> list:
    from . import coherent, coherent_csi, xenonnt

    if dataset == "all":
        wanted = list(_RELEASES)
    else:
        wanted = list(_COMBINATIONS.get(dataset, (dataset,)))
    found = _find_releases(paths)
    out = []
    for name in wanted:
        if name not in found:
            marker = _RELEASES[name][0]
            raise CLIError(
                f"--data: no {name} release (a folder with {marker}) in {', '.join(paths)}"
            )
        try:
            if name == "coherent-lar":
                out.append(coherent.cenns10_data_set(coherent.load_cenns10(found[name])))
            elif name == "xenonnt-b8":
                release = xenonnt.load_xenonnt(found[name])
                out.append(xenonnt.xenonnt_data_set(release, b8=solar_flux))
            else:
                out.append(coherent_csi.csi2021_data_set(coherent_csi.load_csi2021(found[name])))
        except (OSError, ValueError, KeyError) as err:
            raise CLIError(
                f"--data: cannot read the {name} release at {found[name]}: {err}"
            ) from None
    return out


def _sm_fit(data_set) -> dict:
    from . import coherent, coherent_csi, xenonnt

    if data_set.name == "xenonnt-b8":
        return xenonnt.xenonnt_sm_fit(data_set.release, data_set.sm)
    if data_set.name == "coherent-lar":
        return coherent.cenns10_sm_fit(data_set.release, data_set.sm)
    return coherent_csi.csi2021_sm_fit(data_set.release, data_set.sm)


def _data_limit(args: argparse.Namespace) -> int:
    import numpy as np

    from . import coherent
    from . import units as u
    from ._io import atomic_path, write_text
    from .limits import strongest_limit
    from .reach import mass_ranges

    m = _mass_grid(args) * u.MeV
    flavour = {"e": 0, "mu": 1, "tau": 2, "all": "all"}[args.flavour]
    if not 0 <= args.toys <= 100000:
        raise CLIError(f"--toys must be in [0, 100000], got {args.toys}")
    t0 = time.perf_counter()
    names = list(_RELEASES) if args.dataset == "all" else _COMBINATIONS.get(args.dataset, ())
    names = names or [args.dataset]
    if flavour != "all" and not any(flavour in _FLAVOURS[n] for n in names):
        raise CLIError(
            f"--flavour {args.flavour}: {args.dataset} has no neutrinos of that flavour "
            "(a stopped-pion source makes nu_e, nu_mu, nubar_mu)"
        )
    sets = _load_data_sets(args.dataset, args.data, args.solar_flux)
    fits = {d.name: _sm_fit(d) for d in sets}
    mu90 = coherent.mu_limits(sets, m, flavour=flavour, progress=not args.quiet)
    coverage = _coverage(sets, m, mu90, flavour, args.toys) if args.toys else []
    elapsed = time.perf_counter() - t0
    env = strongest_limit(m, None if args.flavour == "all" else args.flavour)
    out = Path(args.out)
    files = []
    if "csv" in args.format:
        rows = ["m_N_MeV,mu90_muB,strongest_existing_muB"]
        rows += [
            f"{mi / u.MeV:.6g},{x / u.mu_B:.6e},{e / u.mu_B:.6e}"
            for mi, x, e in zip(m, mu90, env, strict=True)
        ]
        write_text(out / "data-limit.csv", "\n".join(rows) + "\n")
        files.append("data-limit.csv")
    single = len(sets) == 1

    def per_set(key):
        return per_set_value({name: fit[key] for name, fit in fits.items()}, single)

    if "json" in args.format:
        below = np.isfinite(mu90) & np.isfinite(env) & (mu90 < env)
        releases = {d.name: _RELEASES[d.name][1] for d in sets}
        meta = {
            "data_set": args.dataset,
            "release": per_set_value(releases, single),
            "flavour": args.flavour,
            "solar_flux": args.solar_flux if any(d.name == "xenonnt-b8" for d in sets) else None,
            "sm_predicted_events": per_set("predicted"),
            "sm_fitted_events": per_set("fitted"),
            "sm_fitted_error": per_set("error"),
            "test_statistic": per_set_value({d.name: d.test_statistic for d in sets}, single),
            "combination": None
            if single
            else "joint likelihood: common signal strength, independent nuisance parameters",
            "confidence_level": 0.9,
            "m_N_MeV": (m / u.MeV).tolist(),
            "mu90_muB": [float(x / u.mu_B) if np.isfinite(x) else None for x in mu90],
            "strongest_existing_muB": [float(e / u.mu_B) if np.isfinite(e) else None for e in env],
            "stronger_than_existing_MeV": mass_ranges(m / u.MeV, below),
            "no_existing_limit_MeV": mass_ranges(m / u.MeV, np.isfinite(mu90) & ~np.isfinite(env)),
            "toy_coverage": coverage,
            "time_s": round(elapsed, 2),
        }
        write_text(out / "data-limit.json", json.dumps(meta, indent=1) + "\n")
        files.append("data-limit.json")
    if args.pyhf:
        from . import histfactory

        for d in sets:
            if d.name not in ("coherent-lar", "coherent-csi"):
                print(f"  --pyhf: no pyhf export for {d.name}; skipped", file=sys.stderr)
                continue
            build = (
                histfactory.cenns10_workspace
                if d.name == "coherent-lar"
                else histfactory.csi2021_workspace
            )
            name = f"pyhf-{d.name}.json"
            histfactory.write_workspace(build(d.release, np.asarray(d.sm)), out / name)
            files.append(name)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import plot_reach

    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    what = " + ".join(d.label for d in sets)
    label = f"{what} data, 90% CL (mu_{args.flavour})"
    plot_reach(
        m,
        {label: mu90},
        ax=ax,
        flavour=None if args.flavour == "all" else args.flavour,
        title=f"{args.dataset}: mu_{args.flavour}",
    )
    ax.legend(fontsize=6.5, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    with atomic_path(out / "data-limit.png") as tmp:
        fig.savefig(tmp, format="png", dpi=130, bbox_inches="tight")
    plt.close(fig)
    files.append("data-limit.png")
    for name, fit in fits.items():
        print(
            f"data-limit {name}: SM CEvNS predicted {fit['predicted']:.1f}, fitted "
            f"{fit['fitted']:.1f} +- {fit['error']:.1f} events"
        )
    print(f"  {len(m)} masses in {elapsed:.1f} s")
    ok = np.isfinite(mu90)
    if np.any(ok):
        print(f"  best mu_{args.flavour},90 = {np.min(mu90[ok]) / u.mu_B:.3g} mu_B")
    print(f"  -> {out}/" + ", ".join(files))
    return 0


def _coverage(sets, m, mu90, flavour: int | str, n_toys: int) -> list[dict]:
    """Toy coverage of each data set's limit at the lowest, middle and highest finite mass."""
    import numpy as np

    from . import coherent
    from . import units as u

    finite = np.flatnonzero(np.isfinite(mu90))
    if finite.size == 0:
        return []
    picks = sorted({int(finite[0]), int(finite[finite.size // 2]), int(finite[-1])})
    pattern = coherent.coupling_pattern(flavour)
    rows = []
    for d in sets:
        for i in picks:
            sig = d.signal(m[i], pattern)
            s90 = coherent.signal_limit([(d, sig)])
            if not np.isfinite(s90):
                continue
            res = coherent.toy_coverage(d, sig, s90, n_toys=n_toys)
            rows.append({"data_set": d.name, "m_N_MeV": float(m[i] / u.MeV), **res})
    return rows


def per_set_value(values: dict, single: bool):
    """One value for a single data set, the dict by data-set name for a combination."""
    return next(iter(values.values())) if single else values


def _limits(args: argparse.Namespace) -> int:
    import numpy as np

    from . import units as u
    from ._io import atomic_path, write_text
    from .limits import existing_limits, strongest_limit

    flavour = None if args.flavour == "all" else args.flavour
    m = _mass_grid(args) * u.MeV
    env = strongest_limit(m, flavour) if flavour else None
    lims = existing_limits(flavour)
    out = Path(args.out)
    files = []
    if env is not None:
        rows = ["m_N_MeV,strongest_limit_muB"]
        rows += [f"{mi / u.MeV:.6g},{e / u.mu_B:.6e}" for mi, e in zip(m, env, strict=True)]
        write_text(out / "limits.csv", "\n".join(rows) + "\n")
        files.append("limits.csv")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import plot_limits

    fig, ax = plt.subplots(figsize=(7, 5))
    plot_limits(lims, ax=ax, m_range=(m[0] / u.MeV, m[-1] / u.MeV))
    if env is not None:
        ok = np.isfinite(env)
        ax.plot(m[ok] / u.MeV, env[ok] / u.mu_B, "k--", lw=1.5, label="strongest (upper limits)")
    ax.set(xscale="log", yscale="log", xlabel=r"$m_N$ [MeV]", ylabel=r"$\mu$ [$\mu_B$]")
    ax.set_xlim(m[0] / u.MeV, m[-1] / u.MeV)
    ax.set_title(f"existing limits ({args.flavour} flavour)")
    ax.legend(fontsize=6.5, ncol=2)
    fig.tight_layout()
    with atomic_path(out / "limits.png") as tmp:
        fig.savefig(tmp, format="png", dpi=130)
    plt.close(fig)
    files.append("limits.png")
    for lim in lims:
        print(
            f"{lim.name:22s} {lim.experiment:30s} flavour {lim.flavour:4s} "
            f"{100 * lim.confidence_level:.0f}% CL  {lim.kind:22s} {lim.reference}"
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
    p = _Parser(
        prog="jaxdipole",
        description="Neutrino dipole portal at coherent-scattering experiments (JAX).",
    )
    p.add_argument(
        "--compile-cache",
        default=None,
        metavar="DIR",
        help=(
            "folder of the persistent compilation cache: a second run loads the compiled "
            "programs (default: $JAX_COMPILATION_CACHE_DIR, else ~/.cache/jaxdipole/xla; "
            "'' for none)"
        ),
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
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
        help="m_N'/m_N of the N -> N' gamma scenarios (default: 0.5)",
    )
    r.add_argument(
        "--mu-prime",
        type=_values,
        default=[1e-5],
        help=(
            "fixed sterile-to-sterile moments mu_NN' in mu_B, comma-separated: the N -> N' gamma "
            "reach in mu_e at each (default: 1e-5; '' for none)"
        ),
    )
    r.add_argument(
        "--mu-mu",
        type=_values,
        default=[],
        help="fixed mu_mu values in mu_B, comma-separated: the reach in mu_e at each",
    )
    r.add_argument(
        "--mu-tau",
        type=_values,
        default=[],
        help="fixed mu_tau values in mu_B, comma-separated: the reach in mu_e at each",
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
    r.add_argument(
        "--full-amplitude",
        action="store_true",
        help=(
            "add the radiative reach from the full 2->3 amplitude (Monte Carlo, prompt decays) "
            "where N cannot be produced on shell, e.g. --m-max 20"
        ),
    )
    r.add_argument("--quiet", action="store_true", help="no progress output")
    r.set_defaults(func=_reach)
    sp = sub.add_parser(
        "spectrum",
        help="Dirac vs Majorana photon energy/angle spectra at one (m_N, mu) point",
        description="Radiative photon spectra (E_gamma and cos theta_gamma) at an experiment.",
    )
    sp.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    _add_experiment_options(sp)
    sp.add_argument("--m-n", type=float, default=5.0, help="N mass in MeV (default: 5)")
    sp.add_argument("--mu", type=float, default=1e-8, help="mu_e in Bohr magnetons (default: 1e-8)")
    # --n-energy / --n-cos: the former spellings, still accepted
    sp.add_argument(
        "--n-energy-bins", "--n-energy", type=int, default=24, help="E_gamma bins (default: 24)"
    )
    sp.add_argument(
        "--n-cos-bins", "--n-cos", type=int, default=10, help="cos theta_gamma bins (default: 10)"
    )
    sp.add_argument(
        "--format", type=_formats, default=list(FORMATS), help="csv,json (default: both)"
    )
    sp.set_defaults(func=_spectrum)
    dl = sub.add_parser(
        "data-limit",
        help="dipole-portal limits from public data releases (COHERENT argon and CsI, "
        "XENONnT solar 8B)",
        description=(
            "90%% CL upper limits on mu_e, mu_mu, mu_tau or a flavour-universal mu vs m_N from "
            "released data sets, with the SM CEvNS prediction and fit. Masses in MeV, moments "
            "in Bohr magnetons."
        ),
    )
    dl.add_argument("dataset", choices=DATA_SETS, help="the data set")
    dl.add_argument(
        "--data",
        required=True,
        action="append",
        help="folder of a release as downloaded, or a folder holding several (repeatable)",
    )
    dl.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    dl.add_argument(
        "--flavour",
        choices=["e", "mu", "tau", "all"],
        default="mu",
        help="which moment; all = flavour-universal (default: mu)",
    )
    dl.add_argument(
        "--solar-flux",
        choices=["sno", "b16-gs98", "b16-agss09"],
        default="sno",
        help="8B flux normalisation and its prior for xenonnt-b8: SNO NC (5.25e6/cm2/s), "
        "B16-GS98 (5.46e6) or B16-AGSS09 (4.50e6) standard solar model (default: sno)",
    )
    dl.add_argument("--m-min", type=float, default=0.01, help="lowest m_N in MeV (default: 0.01)")
    dl.add_argument("--m-max", type=float, default=50.0, help="highest m_N in MeV (default: 50)")
    dl.add_argument("--n-masses", type=int, default=16, help="masses (default: 16)")
    dl.add_argument(
        "--format", type=_formats, default=list(FORMATS), help="csv,json (default: both)"
    )
    dl.add_argument(
        "--toys",
        type=int,
        default=0,
        help="pseudo-experiments for the coverage of each data set's limit at three masses "
        "(default: 0, none)",
    )
    dl.add_argument(
        "--pyhf",
        action="store_true",
        help="also write each data set's SM likelihood as a pyhf JSON workspace "
        "(pyhf-<data set>.json; add your signal sample to reuse it)",
    )
    dl.add_argument("--quiet", action="store_true", help="no progress output")
    dl.set_defaults(func=_data_limit)
    li = sub.add_parser(
        "limits",
        help="plot and tabulate the packaged existing limits",
        description="Existing limits on the transition moment (mu_B vs m_N [MeV]).",
    )
    li.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    li.add_argument(
        "--flavour", choices=["e", "mu", "tau", "all"], default="e", help="(default: e)"
    )
    li.add_argument("--m-min", type=float, default=0.1, help="lowest m_N in MeV (default: 0.1)")
    li.add_argument("--m-max", type=float, default=1e4, help="highest m_N in MeV (default: 1e4)")
    li.add_argument("--n-masses", type=int, default=200, help="table masses (default: 200)")
    li.set_defaults(func=_limits)
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
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, or a one-line usage error (status 2)
        return int(stop.code or 0)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        _check_out(getattr(args, "out", None))
        explicit = args.compile_cache is not None
        _use_compile_cache(args.compile_cache if explicit else default_compile_cache(), explicit)
        return args.func(args)
    except CLIError as err:
        print(f"jaxdipole {args.command}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # e.g. the disk filled up while writing
        print(f"jaxdipole {args.command}: error: cannot write the results: {err}", file=sys.stderr)
        return 2


def _check_out(out: str | None) -> None:
    """CLIError unless ``--out`` is a folder, or can be created as one, that we may write to."""
    import os

    if out is None:
        return
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise CLIError(f"--out: {out!r} exists and is not a folder")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise CLIError(f"--out: cannot create a folder under {str(parent)!r} (not a folder)")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CLIError(f"--out: no permission to write in {str(parent)!r}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
