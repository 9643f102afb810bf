"""jaxdipole: the neutrino dipole portal at coherent-scattering experiments, in JAX.

Importing jaxdipole enables float64 in JAX (``jax_enable_x64``); set ``JAXDIPOLE_X64=0`` before
the import to leave JAX's setting alone. Import jaxdipole before creating any JAX array.
All quantities are in natural units (GeV = 1): multiply by ``jaxdipole.units`` to enter a value,
divide to read it out.
"""

from __future__ import annotations

import os as _os

import jax as _jax

if _os.environ.get("JAXDIPOLE_X64", "1") != "0":
    _jax.config.update("jax_enable_x64", True)

# ruff: noqa: E402
from importlib import metadata as _metadata

from . import coherent as coherent
from . import coherent_csi as coherent_csi
from . import constants as constants
from . import decay as decay
from . import experiment as experiment
from . import fit as fit
from . import flux as flux
from . import histfactory as histfactory
from . import kinematics as kinematics
from . import limits as limits
from . import matrix_elements as matrix_elements
from . import nuclei as nuclei
from . import offshell_rates as offshell_rates
from . import phase_space as phase_space
from . import photon_rates as photon_rates
from . import plotting as plotting
from . import radiative as radiative
from . import rates as rates
from . import reach as reach
from . import sensitivity as sensitivity
from . import solar as solar
from . import spallation as spallation
from . import stats as stats
from . import units as units
from . import xenonnt as xenonnt
from .cevns import cevns_dsigma_dER as cevns_dsigma_dER
from .cevns import cevns_sigma as cevns_sigma
from .cevns import weak_charge as weak_charge
from .decay import branching_ratios as branching_ratios
from .decay import decay_length as decay_length
from .decay import decay_probability as decay_probability
from .decay import decay_width as decay_width
from .decay import lifetime as lifetime
from .decay import mean_decay_length as mean_decay_length
from .decay import partial_widths as partial_widths
from .experiment import Experiment as Experiment
from .experiment import presets as experiments  # noqa: F401  (public namespace jd.experiments)
from .flux import Flux as Flux
from .flux import FluxSum as FluxSum
from .flux import MonochromaticFlux as MonochromaticFlux
from .flux import ReactorFlux as ReactorFlux
from .flux import TabulatedFlux as TabulatedFlux
from .kinematics import min_neutrino_energy as min_neutrino_energy
from .kinematics import recoil_range as recoil_range
from .kinematics import threshold_energy as threshold_energy
from .model import DipoleModel as DipoleModel
from .nuclei import Material as Material
from .nuclei import Nucleus as Nucleus
from .nuclei import form_factor as form_factor
from .nuclei import helm_form_factor as helm_form_factor
from .nuclei import material as material
from .nuclei import nucleus as nucleus
from .offshell_rates import radiative_events_mc as radiative_events_mc
from .photon_rates import photon_angle_spectrum as photon_angle_spectrum
from .photon_rates import photon_energy_spectrum as photon_energy_spectrum
from .photon_rates import photon_map as photon_map
from .photon_rates import radiative_events as radiative_events
from .primakoff import primakoff_dsigma_dER as primakoff_dsigma_dER
from .primakoff import primakoff_dsigma_dER_helicity as primakoff_dsigma_dER_helicity
from .primakoff import primakoff_polarisation as primakoff_polarisation
from .primakoff import primakoff_sigma as primakoff_sigma
from .primakoff import primakoff_sigma_window as primakoff_sigma_window
from .radiative import radiative_dsigma as radiative_dsigma
from .radiative import radiative_dsigma_dcos as radiative_dsigma_dcos
from .radiative import radiative_dsigma_dEgamma as radiative_dsigma_dEgamma
from .radiative import radiative_sigma as radiative_sigma
from .radiative import radiative_sigma_binned as radiative_sigma_binned
from .rates import background_events as background_events
from .rates import cevns_binned as cevns_binned
from .rates import cevns_events as cevns_events
from .rates import cevns_recoil_spectrum as cevns_recoil_spectrum
from .rates import cevns_window_events as cevns_window_events
from .rates import primakoff_events as primakoff_events
from .rates import primakoff_window_events as primakoff_window_events
from .rates import recoil_binned as recoil_binned
from .rates import recoil_spectrum as recoil_spectrum
from .scan import scan as scan
from .sensitivity import primakoff_reach as primakoff_reach
from .sensitivity import radiative_reach as radiative_reach
from .solar import SolarFlux as SolarFlux
from .spallation import MichelFlux as MichelFlux
from .spallation import SpallationFlux as SpallationFlux

#: The public namespace: the modules, and the classes and functions re-exported from them
#: (``jd.experiments`` is the namespace of preset experiments, ``jd.experiment`` its module).
__all__ = [
    "coherent",
    "coherent_csi",
    "constants",
    "decay",
    "experiment",
    "fit",
    "flux",
    "histfactory",
    "kinematics",
    "limits",
    "matrix_elements",
    "nuclei",
    "offshell_rates",
    "phase_space",
    "photon_rates",
    "plotting",
    "radiative",
    "rates",
    "reach",
    "sensitivity",
    "solar",
    "spallation",
    "stats",
    "units",
    "xenonnt",
    "background_events",
    "branching_ratios",
    "cevns_binned",
    "cevns_dsigma_dER",
    "cevns_events",
    "cevns_recoil_spectrum",
    "cevns_sigma",
    "cevns_window_events",
    "decay_probability",
    "decay_width",
    "DipoleModel",
    "Experiment",
    "experiments",
    "Flux",
    "FluxSum",
    "form_factor",
    "helm_form_factor",
    "lifetime",
    "Material",
    "material",
    "mean_decay_length",
    "MichelFlux",
    "min_neutrino_energy",
    "MonochromaticFlux",
    "Nucleus",
    "nucleus",
    "partial_widths",
    "photon_angle_spectrum",
    "photon_energy_spectrum",
    "photon_map",
    "primakoff_dsigma_dER",
    "primakoff_dsigma_dER_helicity",
    "primakoff_events",
    "primakoff_polarisation",
    "primakoff_reach",
    "primakoff_sigma",
    "primakoff_sigma_window",
    "primakoff_window_events",
    "radiative_dsigma",
    "radiative_dsigma_dcos",
    "radiative_dsigma_dEgamma",
    "radiative_events",
    "radiative_events_mc",
    "radiative_reach",
    "radiative_sigma",
    "radiative_sigma_binned",
    "ReactorFlux",
    "recoil_binned",
    "recoil_range",
    "recoil_spectrum",
    "scan",
    "SolarFlux",
    "SpallationFlux",
    "TabulatedFlux",
    "threshold_energy",
    "weak_charge",
    "__version__",
]

try:
    __version__ = _metadata.version("jaxdipole")
except _metadata.PackageNotFoundError:  # pragma: no cover - a source tree that is not installed
    __version__ = "0+unknown"
