"""Natural units: GeV = 1, hbar = c = 1.

Multiply a value by a unit to enter it, divide by the unit to read it out::

    import jaxdipole as jd
    u = jd.units
    E = 5 * u.MeV          # -> 0.005 (GeV)
    sigma / u.cm2          # a cross section in cm^2

This module is the only place conversion factors live. All factors are plain floats derived
from the exact SI definitions (hbar, c, e) and CODATA 2022 (see :mod:`jaxdipole.constants`).
"""

from __future__ import annotations

from . import constants as _c

# --- energy -----------------------------------------------------------------------------------
GeV: float = 1.0
TeV: float = 1e3
MeV: float = 1e-3
keV: float = 1e-6
eV: float = 1e-9
#: Joule [GeV].
J: float = 1.0 / (_c.joule_per_eV * 1e9)

# --- length [GeV^-1] --------------------------------------------------------------------------
m: float = 1.0 / _c.hbar_c_GeV_m
cm: float = 1e-2 * m
mm: float = 1e-3 * m
km: float = 1e3 * m
fm: float = 1e-15 * m

# --- area -------------------------------------------------------------------------------------
cm2: float = cm * cm
m2: float = m * m
barn: float = 1e-24 * cm2

# --- time [GeV^-1] ----------------------------------------------------------------------------
s: float = 1.0 / _c.hbar_GeV_s
ms: float = 1e-3 * s
us: float = 1e-6 * s
ns: float = 1e-9 * s
minute: float = 60.0 * s
hour: float = 3600.0 * s
day: float = 86400.0 * s
#: Julian year (365.25 days).
year: float = 365.25 * day

# --- mass [GeV] -------------------------------------------------------------------------------
kg: float = J * _c.c_m_per_s**2  # E = m c^2
g: float = 1e-3 * kg
ton: float = 1e3 * kg
#: Atomic mass unit [GeV].
u: float = _c.amu

# --- power [GeV^2] ----------------------------------------------------------------------------
W: float = J / s
MW: float = 1e6 * W
GW: float = 1e9 * W

# --- electromagnetic --------------------------------------------------------------------------
#: Bohr magneton e/(2 m_e) [GeV^-1] (about 296.3).
mu_B: float = _c.mu_B

__all__ = [
    "GeV",
    "TeV",
    "MeV",
    "keV",
    "eV",
    "J",
    "m",
    "cm",
    "mm",
    "km",
    "fm",
    "cm2",
    "m2",
    "barn",
    "s",
    "ms",
    "us",
    "ns",
    "minute",
    "hour",
    "day",
    "year",
    "kg",
    "g",
    "ton",
    "u",
    "W",
    "MW",
    "GW",
    "mu_B",
]
