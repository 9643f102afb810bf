"""Physical constants in natural units (GeV = 1, hbar = c = 1), each with its source.

Plain Python floats: no device allocation at import, and the dtype follows the computation.
Sources: CODATA 2022 (NIST, May 2024) for fundamental constants, PDG 2024 for the Fermi
constant and the low-energy weak mixing angle.
"""

from __future__ import annotations

import math

#: Fine-structure constant alpha, CODATA 2022.
alpha: float = 1.0 / 137.035999177
#: Elementary charge e = sqrt(4 pi alpha) (Heaviside-Lorentz, natural units), dimensionless.
e_charge: float = math.sqrt(4.0 * math.pi * alpha)
#: Electron mass [GeV], CODATA 2022 (0.51099895069 MeV).
m_e: float = 0.51099895069e-3
#: Proton mass [GeV], CODATA 2022.
m_p: float = 0.93827208943
#: Neutron mass [GeV], CODATA 2022.
m_n: float = 0.93956542194
#: Atomic mass unit u [GeV], CODATA 2022 (931.49410372 MeV).
amu: float = 0.93149410372
#: Muon mass [GeV], PDG 2024 (105.6583755 MeV).
m_mu: float = 0.1056583755
#: Charged-pion mass [GeV], PDG 2024 (139.57039 MeV).
m_pi: float = 0.13957039
#: Muon lifetime [s], PDG 2024.
tau_mu_s: float = 2.1969811e-6
#: Charged-pion lifetime [s], PDG 2024.
tau_pi_s: float = 2.6033e-8
#: Fermi constant G_F [GeV^-2], PDG 2024.
G_F: float = 1.1663788e-5
#: Low-energy weak mixing angle sin^2(theta_W) at Q -> 0 (MS-bar), PDG 2024 electroweak review.
sin2_theta_W_0: float = 0.23857
#: Planck constant [J s] (exact in the SI since 2019).
h_J_s: float = 6.62607015e-34
#: Elementary charge in joule per electronvolt (exact in the SI since 2019).
joule_per_eV: float = 1.602176634e-19
#: Speed of light [m/s] (exact).
c_m_per_s: float = 299792458.0
#: Reduced Planck constant [GeV s] (6.582119569e-25, exact).
hbar_GeV_s: float = h_J_s / (2.0 * math.pi) / joule_per_eV * 1e-9
#: Reduced Planck constant times c [GeV m] (1.973269804e-16, exact).
hbar_c_GeV_m: float = hbar_GeV_s * c_m_per_s
#: Bohr magneton mu_B = e / (2 m_e) [GeV^-1].
mu_B: float = e_charge / (2.0 * m_e)
#: Conversion (hbar c)^2 [GeV^2 cm^2]: 1 GeV^-2 = 0.3893793721e-27 cm^2.
GeV2_cm2: float = (hbar_c_GeV_m * 100.0) ** 2


def electron_binding_energy(Z: int) -> float:
    """Total electron binding energy of a neutral atom [GeV].

    B_e(Z) = (14.4381 Z^2.39 + 1.55468e-6 Z^5.35) eV (Lunney, Pearson, Thibault,
    Rev. Mod. Phys. 75 (2003) 1021, eq. A4). Used to turn atomic into nuclear masses.
    """
    return (14.4381 * Z**2.39 + 1.55468e-6 * Z**5.35) * 1e-9


def nuclear_mass_from_atomic(atomic_mass_u: float, Z: int) -> float:
    """Nuclear mass [GeV] from an atomic mass [u]: M = m_atom u - Z m_e + B_e(Z)."""
    return atomic_mass_u * amu - Z * m_e + electron_binding_energy(Z)
