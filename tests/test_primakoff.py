"""Primakoff upscattering against explicit Dirac-matrix amplitudes, closed forms and limits."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import quadax
import reference_amplitudes as ra
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

import jaxdipole as jd
from jaxdipole.kinematics import recoil_range, threshold_energy
from jaxdipole.model import DipoleModel
from jaxdipole.nuclei import Nucleus, nucleus
from jaxdipole.primakoff import (
    primakoff_dsigma_dER,
    primakoff_dsigma_dER_helicity,
    primakoff_polarisation,
    primakoff_sigma,
)

u = jd.units
ALPHA = jd.constants.alpha
MU = 1e-9  # GeV^-1


def model(m, mu=MU, nature="dirac"):
    return DipoleModel(m_N=m, mu=(mu, 0.0, 0.0), nature=nature)


def bare(name, M, Z, A):
    """Nucleus with exactly the mass used for the reference σ values (SPOT)."""
    return Nucleus(name, Z, A, M)


def log_grid(E, m, M, n=9, inner=1e-6):
    lo, hi = (float(x) for x in recoil_range(E, m, M))
    return lo * (hi / lo) ** np.linspace(inner, 1 - inner, n)


# ---------------------------------------------------------------- Dirac-trace reference
# A second numpy reference, independent of the helicity spinors of reference_amplitudes: spin
# sums as traces over explicit 4x4 Dirac matrices, u ū -> (k̸ + m)(1 + γ5 s̸)/2 for N and
# v v̄ -> (k̸ - m)(1 + γ5 s̸)/2 for N̄ (s the physical spin 4-vector).
_G, _G0, _G5, _METRIC = ra.GAMMA, ra.G0, ra.G5, ra.METRIC
_PL, _PR, _I4 = (np.eye(4) - ra.G5) / 2, (np.eye(4) + ra.G5) / 2, np.eye(4)


def _slash(a):
    return sum(_METRIC[i, i] * a[i] * _G[i] for i in range(4))


def _lab_momenta(E, T, m, M):
    """(p, k, q, P): ν along +z, N, momentum transfer from the recoil kinematics, nucleus."""
    p_R = np.sqrt(T * (T + 2 * M))
    cos_r = (2 * E * T + 2 * M * T + m * m) / (2 * E * p_R)
    sin_r = np.sqrt(max((1 - cos_r) * (1 + cos_r), 0.0))
    p4 = np.array([E, 0.0, 0.0, E])
    q4 = np.array([T, p_R * sin_r, 0.0, p_R * cos_r])
    return p4, p4 - q4, q4, np.array([M, 0.0, 0.0, 0.0])


def _trace_msq(E, T, m, M, Z, mu, antineutrino=False, spin=None):
    """Σ|M|² for ν_L A -> N A (ū_N Γ P_L u_ν) or ν̄_R A -> N̄ A (v̄_ν Γ P_R v_N), by traces."""
    p4, k4, q4, P4 = _lab_momenta(E, T, m, M)
    J, ql = _METRIC @ (2 * P4 + q4), _METRIC @ q4
    gam = sum(ra.sigma_munu(a, b) * J[a] * ql[b] for a in range(4) for b in range(4))
    gbar = _G0 @ gam.conj().T @ _G0
    proj = _I4 if spin is None else (_I4 + _G5 @ _slash(spin)) / 2
    if antineutrino:
        tr = np.trace(_slash(p4) @ gam @ _PR @ (_slash(k4) - m * _I4) @ proj @ _PL @ gbar)
    else:
        tr = np.trace((_slash(k4) + m * _I4) @ proj @ gam @ _PL @ _slash(p4) @ _PR @ gbar)
    e = np.sqrt(4 * np.pi * ALPHA)
    return (e * Z * mu / (q4 @ _METRIC @ q4)) ** 2 * tr.real


def trace_dsigma(E, T, m, M, Z, mu, antineutrino=False):
    return 2 * M * _trace_msq(E, T, m, M, Z, mu, antineutrino) / (16 * np.pi * (2 * M * E) ** 2)


def trace_polarisation(E, T, m, M, antineutrino=False):
    """(P_L, P_T) from the spin-projected traces along s_L (helicity) and s_T = (0, ê_T)."""
    _, k4, _, _ = _lab_momenta(E, T, m, M)
    k = np.linalg.norm(k4[1:])
    kh = k4[1:] / k
    e_T = np.array([0.0, 0.0, 1.0]) - kh[2] * kh
    e_T /= np.linalg.norm(e_T)
    out = []
    for s in (np.concatenate([[k / m], k4[0] * kh / m]), np.concatenate([[0.0], e_T])):
        up = _trace_msq(E, T, m, M, 1.0, 1.0, antineutrino, s)
        down = _trace_msq(E, T, m, M, 1.0, 1.0, antineutrino, -s)
        out.append((up - down) / (up + down))
    return tuple(out)


# ---------------------------------------------------------------- differential cross section
@pytest.mark.parametrize(
    "E, m, M",
    [
        (8e-3, 4e-3, 37.214716),
        (3e-3, 1e-3, 68.840846),
        (5.5e-3, 5e-3, 171.311835),
        (50e-3, 1e-6, 171.311835),
        (10e-3, 9.9e-3, 14.8950827),
    ],
)
def test_dsigma_vs_explicit_amplitudes(E, m, M):
    nuc = bare("X", M, 20, 40)
    mod = model(m)
    for T in log_grid(E, m, M):
        ours = float(primakoff_dsigma_dER(mod, nuc, E, T, form_factor=False))
        ref = ra.dsigma_dER(E, T, m, M, Z=20, mu=MU)
        assert ours == pytest.approx(ref, rel=1e-10)


def test_massless_limit_textbook():
    # m -> 0 gives the textbook magnetic-moment cross section alpha mu^2 Z^2 (1/E_R - 1/E)
    # (Vogel & Engel, PRD 39 (1989) 3378) at E_R << E^2/M
    nuc = nucleus("Ge74")
    mod = model(1e-7)
    E = 5e-3
    for T in (1e-9, 1e-8, 1e-7):
        ours = float(primakoff_dsigma_dER(mod, nuc, E, T, form_factor=False))
        ref = ALPHA * MU**2 * 32**2 * (1 / T - 1 / E)
        assert ours == pytest.approx(ref, rel=1e-6)


def test_exact_vs_brdar_form():
    # the form of Brdar et al. (arXiv:2007.15563) differs from the exact one by
    # E_R/(4E²) − m²/(8E²M) − m⁴/(8E²E_R M²), <~1e-6 relative at reactor energies
    M, Z = 68.840846, 32
    nuc = bare("Ge74", M, Z, 74)
    for E, m in [(8e-3, 5e-3), (3e-3, 1e-3), (6e-3, 2e-3)]:
        for T in log_grid(E, m, M, n=7, inner=0.05):
            brdar = (
                ALPHA
                * MU**2
                * Z**2
                * (
                    1 / T
                    - 1 / E
                    - m**2 / (2 * E * T * M) * (1 - T / (2 * E) + M / (2 * E))
                    + m**4 * (T - M) / (8 * E**2 * T**2 * M**2)
                )
            )
            ours = float(primakoff_dsigma_dER(model(m), nuc, E, T, form_factor=False))
            assert ours == pytest.approx(brdar, rel=1e-5)


@pytest.mark.parametrize("E, m, M", [(8e-3, 4e-3, 37.214716), (3e-3, 0.5e-3, 171.311835)])
def test_dsigma_neutrino_and_antineutrino_vs_dirac_traces(E, m, M):
    """One σ serves ν and ν̄ beams -- and hence a Majorana N, which both produce (the function
    does not read ``nature``: nothing to compare there). Checked against the ν_L (ū Γ P_L u) and
    the ν̄_R (v̄ Γ P_R v, from the hermitian-conjugate operator) spin traces separately."""
    nuc = bare("X", M, 20, 40)
    mod = model(m, nature="majorana")
    for T in log_grid(E, m, M, n=7):
        ours = float(primakoff_dsigma_dER(mod, nuc, E, T, form_factor=False))
        assert ours == pytest.approx(trace_dsigma(E, T, m, M, 20, MU), rel=1e-10)
        assert ours == pytest.approx(trace_dsigma(E, T, m, M, 20, MU, antineutrino=True), rel=1e-10)


def test_flavour_selects_moment():
    nuc = nucleus("O16")
    M, m, E, T = float(nuc.mass), 2e-3, 5e-3, 1e-7
    mod = DipoleModel(m_N=m, mu=(1e-9, 3e-9, 0.0))
    for flavour, mu in ((0, 1e-9), (1, 3e-9)):
        ours = float(primakoff_dsigma_dER(mod, nuc, E, T, flavour=flavour, form_factor=False))
        assert ours == pytest.approx(ra.dsigma_dER(E, T, m, M, Z=8, mu=mu), rel=1e-10)
    assert float(primakoff_dsigma_dER(mod, nuc, E, T, flavour=2)) == 0.0


def test_outside_range_is_zero():
    nuc = nucleus("W184")
    mod = model(5e-3)
    E = 8e-3
    lo, hi = (float(x) for x in recoil_range(E, 5e-3, float(nuc.mass)))
    for T in (0.0, 0.5 * lo, 1.5 * hi):
        assert float(primakoff_dsigma_dER(mod, nuc, E, T)) == 0.0
    assert float(primakoff_dsigma_dER(mod, nuc, 4e-3, 1e-7)) == 0.0  # below threshold


# ---------------------------------------------------------------- polarisation and helicity
@pytest.mark.parametrize("E, m, M", [(8e-3, 4e-3, 37.214716), (3e-3, 0.5e-3, 171.311835)])
def test_polarisation_vs_explicit_amplitudes(E, m, M):
    nuc = bare("X", M, 20, 40)
    mod = model(m)
    for T in log_grid(E, m, M, n=7):
        P_L, P_T = (float(x) for x in primakoff_polarisation(mod, nuc, E, T))
        r_L, r_T, r_n = ra.polarisation(E, T, m, M)
        assert P_L == pytest.approx(r_L, abs=1e-9)
        assert P_T == pytest.approx(r_T, abs=1e-9)
        assert abs(r_n) < 1e-12  # no normal component
        assert P_L**2 + P_T**2 == pytest.approx(1.0, abs=1e-10)  # pure state


def test_polarisation_endpoints_and_antineutrino():
    nuc = nucleus("Ca40")
    m, E = 4e-3, 8e-3
    M = float(nuc.mass)
    mod = model(m)
    lo, hi = (float(x) for x in recoil_range(E, m, M))
    # collinear end points, J_z conservation (spin-0 nucleus): the ν_L (J_z = -1/2) gives a
    # forward N (E_R,min) of helicity -1 and a backward one (E_R,max) of +1; ν̄_R the opposite
    for anti, sign in ((False, 1.0), (True, -1.0)):
        P_lo, _ = primakoff_polarisation(mod, nuc, E, lo * (1 + 1e-10), antineutrino=anti)
        P_hi, _ = primakoff_polarisation(mod, nuc, E, hi * (1 - 1e-12), antineutrino=anti)
        assert float(P_lo) == pytest.approx(-sign, abs=1e-6)
        assert float(P_hi) == pytest.approx(sign, abs=1e-6)
    # inside: the ν̄ polarisation against the spin-projected v-spinor traces
    for T in log_grid(E, m, M, n=5, inner=0.01):
        P_L, P_T = primakoff_polarisation(mod, nuc, E, T, antineutrino=True)
        r_L, r_T = trace_polarisation(E, T, m, M, antineutrino=True)
        assert float(P_L) == pytest.approx(r_L, abs=1e-9)
        assert float(P_T) == pytest.approx(r_T, abs=1e-9)


def test_helicity_fractions_ca40():
    # independent evaluation of (1 + P_L)/2 for Ca40, m = 4 MeV, E = 8 MeV: h = +1 fraction
    # 0.43 / 0.96 / 0.995 at 1 / 20 / 50 % of the ln E_R range
    nuc = nucleus("Ca40")
    m, E = 4e-3, 8e-3
    mod = model(m)
    lo, hi = (float(x) for x in recoil_range(E, m, float(nuc.mass)))
    for frac, want, tol in [(0.01, 0.43, 0.005), (0.20, 0.96, 0.005), (0.50, 0.995, 0.0005)]:
        T = lo * (hi / lo) ** frac
        plus = primakoff_dsigma_dER_helicity(mod, nuc, E, T, +1)
        tot = primakoff_dsigma_dER(mod, nuc, E, T)
        assert float(plus / tot) == pytest.approx(want, abs=tol)
        # each helicity against its explicit amplitude |M_h|² (reference_amplitudes)
        amps, *_ = ra.amplitudes(E, T, m, float(nuc.mass), Z=20, mu=MU)
        norm = 2 * float(nuc.mass) / (16 * np.pi * (2 * float(nuc.mass) * E) ** 2)
        for h, amp in ((+1, amps[0]), (-1, amps[1])):
            ours = primakoff_dsigma_dER_helicity(mod, nuc, E, T, h, form_factor=False)
            assert float(ours) == pytest.approx(norm * abs(amp) ** 2, rel=1e-8)


# ---------------------------------------------------------------- total cross section
def sigma_closed_form_F1(E, m, M, Z, mu):
    """Closed-form σ for F = 1 (numpy): the exact dσ/dE_R integrated analytically over E_R."""
    lo, hi = (float(x) for x in recoil_range(E, m, M))
    a, b = lo, hi
    return (
        ALPHA
        * mu**2
        * Z**2
        * (
            (1 - m**2 / (2 * E * M) - m**2 / (4 * E**2)) * np.log(b / a)
            - (1 / E - m**2 / (8 * E**2 * M)) * (b - a)
            + (b**2 - a**2) / (8 * E**2)
            - (m**4 / (8 * E**2 * M)) * (1 / a - 1 / b)
        )
    )


# Reference σ values computed independently (F = 1: closed form; Helm: 96-node Gauss–Legendre
# in ln E_R), agreeing with independent reference tables to <= 7e-7.
SPOT = [  # (target, Z, A, M, m_N, E, sigma F=1, sigma Helm) at mu = 1e-9 GeV^-1
    ("Ge74", 32, 74, 68.840846, 1e-3, 3e-3, 1.72021e-44, 1.71889e-44),
    ("Ge74", 32, 74, 68.840846, 5e-3, 8e-3, 8.72238e-45, 8.65408e-45),
    ("Ge74", 32, 74, 68.840846, 5e-3, 5.5e-3, 2.88269e-45, 2.87026e-45),
    ("W184", 74, 184, 171.311835, 5e-3, 5.5e-3, 1.54189e-44, 1.53032e-44),
    ("W184", 74, 184, 171.311835, 1e-3, 50e-3, 2.71011e-43, 2.47126e-43),
    ("Ca40", 20, 40, 37.214716, 10e-3, 50e-3, 9.19794e-45, 8.31513e-45),
    ("Al27", 13, 27, 25.126508, 5e-3, 10e-3, 1.95482e-45, 1.94260e-45),
    ("O16", 8, 16, 14.8950827, 5e-3, 8e-3, 5.44809e-46, 5.42837e-46),
]


@pytest.mark.parametrize("name, Z, A, M, m, E, s_F1, s_helm", SPOT)
def test_sigma_spot_values(name, Z, A, M, m, E, s_F1, s_helm):
    nuc = bare(name, M, Z, A)
    mod = model(m)
    sF1 = float(primakoff_sigma(mod, nuc, E, form_factor=False)) / u.cm2
    sH = float(primakoff_sigma(mod, nuc, E, form_factor=True)) / u.cm2
    assert sF1 == pytest.approx(s_F1, rel=1e-5)
    assert sH == pytest.approx(s_helm, rel=1e-5)
    # closed form (independent formula) at 1e-8
    assert sF1 * u.cm2 == pytest.approx(sigma_closed_form_F1(E, m, M, Z, MU), rel=1e-8)


def test_sigma_vs_adaptive_quadrature_helm():
    # Gauss–Legendre totals vs scipy adaptive quad and quadax, with the Helm form factor
    nuc = nucleus("W184")
    for m, E in [(1e-3, 50e-3), (5e-3, 5.5e-3), (2e-3, 9e-3)]:
        mod = model(m)
        lo, hi = (float(x) for x in recoil_range(E, m, float(nuc.mass)))
        ours = float(primakoff_sigma(mod, nuc, E))

        def integrand_u(v, mod=mod, E=E):
            T = jnp.exp(v)
            return T * primakoff_dsigma_dER(mod, nuc, E, T)

        f_np = jax.jit(integrand_u)
        ref, _ = integrate.quad(
            lambda v, f_np=f_np: float(f_np(v)),
            np.log(lo),
            np.log(hi),
            epsabs=0,
            epsrel=1e-12,
            limit=200,
        )
        assert ours == pytest.approx(ref, rel=1e-6)
        ref2, _ = quadax.quadgk(integrand_u, jnp.array([np.log(lo), np.log(hi)]), epsrel=1e-12)
        assert ours == pytest.approx(float(ref2), rel=1e-6)


def test_sigma_recoil_threshold():
    nuc = nucleus("Ca40")
    m, E = 4e-3, 8e-3
    mod = model(m)
    lo, hi = (float(x) for x in recoil_range(E, m, float(nuc.mass)))
    thr = 100e-9
    ours = float(primakoff_sigma(mod, nuc, E, recoil_threshold=thr))
    ref, _ = integrate.quad(
        lambda T: float(primakoff_dsigma_dER(mod, nuc, E, T)),
        thr,
        hi,
        epsrel=1e-12,
        limit=200,
        points=[1e-6],
    )
    assert ours == pytest.approx(ref, rel=1e-6)
    # threshold below E_R_min changes nothing; above E_R_max gives exactly 0
    assert float(primakoff_sigma(mod, nuc, E, recoil_threshold=0.5 * lo)) == pytest.approx(
        float(primakoff_sigma(mod, nuc, E)), rel=1e-14
    )
    assert float(primakoff_sigma(mod, nuc, E, recoil_threshold=2 * hi)) == 0.0
    # Leibniz: d sigma / d thr = - dsigma/dE_R(thr)
    g = jax.grad(lambda t: primakoff_sigma(mod, nuc, E, recoil_threshold=t))(thr)
    assert float(g) == pytest.approx(-float(primakoff_dsigma_dER(mod, nuc, E, thr)), rel=1e-9)


def test_sigma_at_another_mu_vs_references():
    # absolute values at mu = 3.7e-8 GeV^-1: the numpy closed form (F = 1) and the
    # physics-reference Helm value of SPOT (Ge74, 5 MeV, 8 MeV) times the μ² of the Lagrangian
    M, Z, m, E, mu = 68.840846, 32, 5e-3, 8e-3, 3.7e-8
    nuc = bare("Ge74", M, Z, 74)
    sF1 = float(primakoff_sigma(model(m, mu), nuc, E, form_factor=False))
    assert sF1 == pytest.approx(sigma_closed_form_F1(E, m, M, Z, mu), rel=1e-8)
    sH = float(primakoff_sigma(model(m, mu), nuc, E)) / u.cm2
    assert sH == pytest.approx(8.65408e-45 * (mu / MU) ** 2, rel=1e-5)


# ---------------------------------------------------------------- threshold and gradients
def test_threshold_behaviour_and_gradients():
    nuc = nucleus("Ge74")
    m = 5e-3
    M = float(nuc.mass)
    Eth = float(threshold_energy(m, M))
    f = lambda E: primakoff_sigma(model(m), nuc, E)
    for E in (0.5 * Eth, 0.9999 * Eth, Eth):
        assert float(f(E)) == 0.0
        assert float(jax.grad(f)(E)) == 0.0
    # sigma ∝ sqrt(E - E_th) just above
    d1, d2 = 1e-10, 4e-10
    r = float(f(Eth + d2) / f(Eth + d1))
    assert r == pytest.approx(2.0, rel=1e-3)


def test_no_nan_on_grid():
    nuc = nucleus("W184")
    M = float(nuc.mass)

    def f(logmu, m, E):
        return primakoff_sigma(
            DipoleModel(m_N=m, mu=(jnp.exp(logmu), 0.0, 0.0)), nuc, E, recoil_threshold=20e-9
        )

    grad = jax.jit(jax.vmap(jax.value_and_grad(f, argnums=(0, 1, 2)), (None, None, 0)))
    for m in (1e-4, 1e-3, 5e-3):
        Eth = float(threshold_energy(m, M))
        Es = jnp.asarray([0.0, 0.5 * Eth, Eth, Eth * (1 + 1e-12), Eth * 1.001, 2 * Eth, 1e-2])
        val, grads = grad(np.log(MU), m, Es)
        assert np.all(np.isfinite(np.asarray(val)))
        for g in grads:
            assert np.all(np.isfinite(np.asarray(g)))


def test_gradients_vs_finite_differences():
    nuc = nucleus("Ge74")

    def f(logmu, m, E):
        return jnp.log(
            primakoff_sigma(
                DipoleModel(m_N=m, mu=(jnp.exp(logmu), 0.0, 0.0)), nuc, E, recoil_threshold=10e-9
            )
        )

    x = (np.log(MU), 4e-3, 7e-3)
    g = jax.grad(f, argnums=(0, 1, 2))(*x)
    for i, h in [(0, 1e-3), (1, 1e-8), (2, 1e-8)]:
        xp = list(x)
        xm = list(x)
        xp[i] += h
        xm[i] -= h
        fd = (float(f(*xp)) - float(f(*xm))) / (2 * h)
        assert float(g[i]) == pytest.approx(fd, rel=1e-5)


def test_grad_wrt_model_pytree():
    nuc = nucleus("O16")
    mod = model(3e-3)
    g = jax.grad(lambda md: primakoff_sigma(md, nuc, 6e-3))(mod)
    assert isinstance(g, DipoleModel)

    def fd(m, mu, h_m, h_mu):  # central differences on hand-built models
        hi = float(primakoff_sigma(DipoleModel(m_N=m + h_m, mu=(mu + h_mu, 0.0, 0.0)), nuc, 6e-3))
        lo = float(primakoff_sigma(DipoleModel(m_N=m - h_m, mu=(mu - h_mu, 0.0, 0.0)), nuc, 6e-3))
        return (hi - lo) / (2 * (h_m + h_mu))

    assert float(g.mu[0]) == pytest.approx(fd(3e-3, MU, 0.0, 1e-3 * MU), rel=1e-9)
    assert float(g.m_N) == pytest.approx(fd(3e-3, MU, 1e-8, 0.0), rel=1e-6)
    assert float(g.m_N) < 0  # heavier N: smaller sigma
    assert float(g.mu[1]) == 0.0


def test_jit_vmap_consistency():
    nuc = nucleus("Ca40")
    mod = model(2e-3)
    Es = jnp.linspace(1e-3, 10e-3, 7)
    v = jax.jit(jax.vmap(lambda E: primakoff_sigma(mod, nuc, E)))(Es)
    loop = [float(primakoff_sigma(mod, nuc, E)) for E in Es]
    np.testing.assert_allclose(np.asarray(v), loop, rtol=1e-13)


# ---------------------------------------------------------------- properties
_sigma_jit = jax.jit(
    lambda m, E, mu, thr: primakoff_sigma(
        DipoleModel(m_N=m, mu=(mu, 0.0, 0.0)), nucleus("Ge74"), E, recoil_threshold=thr
    )
)


@settings(max_examples=30, deadline=None)
@given(st.floats(1e-5, 9e-3), st.floats(1e-4, 12e-3), st.floats(1e-11, 1e-7), st.floats(0, 1e-6))
def test_sigma_positive_and_monotone(m, E, mu, thr):
    s = float(_sigma_jit(m, E, mu, thr))
    assert np.isfinite(s) and s >= 0
    assert float(_sigma_jit(m, E, 2 * mu, thr)) >= s  # monotone in |mu|
    assert float(_sigma_jit(m, E, mu, thr + 1e-7)) <= s * (1 + 1e-12)  # monotone in threshold
    assert float(_sigma_jit(m * 1.1, E, mu, thr)) <= s * (1 + 1e-9)  # heavier N: smaller sigma


def test_bad_input_raises():
    nuc = nucleus("Ge74")
    mod = model(1e-3)
    with pytest.raises(ValueError, match="E_nu"):
        primakoff_sigma(mod, nuc, -1.0)
    with pytest.raises(ValueError, match="E_R"):
        primakoff_dsigma_dER(mod, nuc, 5e-3, -1e-9)
    with pytest.raises(ValueError, match="E_nu"):
        primakoff_sigma(mod, nuc, float("nan"))
    with pytest.raises(ValueError, match="flavour"):
        primakoff_sigma(mod, nuc, 5e-3, flavour=3)
    with pytest.raises(ValueError, match="recoil_threshold"):
        primakoff_sigma(mod, nuc, 5e-3, recoil_threshold=-1.0)
