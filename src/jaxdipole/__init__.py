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
from . import constants as constants
from . import decay as decay
from . import flux as flux
from . import kinematics as kinematics
from . import nuclei as nuclei
from . import units as units
from .cevns import cevns_dsigma_dER as cevns_dsigma_dER
from .cevns import cevns_sigma as cevns_sigma
from .cevns import weak_charge as weak_charge
from .decay import branching_ratios as branching_ratios
from .decay import decay_length as decay_length
from .decay import decay_probability as decay_probability
from .decay import decay_width as decay_width
from .decay import lifetime as lifetime
from .decay import partial_widths as partial_widths
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
from .primakoff import primakoff_dsigma_dER as primakoff_dsigma_dER
from .primakoff import primakoff_dsigma_dER_helicity as primakoff_dsigma_dER_helicity
from .primakoff import primakoff_polarisation as primakoff_polarisation
from .primakoff import primakoff_sigma as primakoff_sigma

__version__ = "0.1.0"
