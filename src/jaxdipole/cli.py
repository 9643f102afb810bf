"""The ``jaxdipole`` command line.

Subcommands
-----------
xsec
    Primakoff upscattering cross sections σ(E_ν) for a set of N masses and target nuclei:
    writes ``xsec.csv``, ``xsec.json`` and ``xsec.png`` into ``--out``.

Every option has a default; energies are in MeV, moments in Bohr magnetons. Bad options end with
one line on stderr and exit status 2. Output files are written completely or not at all.
"""

from __future__ import annotations

import argparse
import json
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``jaxdipole`` command."""
    p = argparse.ArgumentParser(
        prog="jaxdipole",
        description="Neutrino dipole portal at coherent-scattering experiments (JAX).",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
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
