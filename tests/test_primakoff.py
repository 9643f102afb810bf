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
    """Nucleus with exactly the mass of the physics reference tables."""
    return Nucleus(name, Z, A, M)


def log_grid(E, m, M, n=9, inner=1e-6):
    lo, hi = (float(x) for x in recoil_range(E, m, M))
    return lo * (hi / lo) ** np.linspace(inner, 1 - inner, n)


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
    # physics.md §11 #1: m -> 0 gives alpha mu^2 Z^2 (1/E_R - 1/E) at E_R << E^2/M
    nuc = nucleus("Ge74")
    mod = model(1e-7)
    E = 5e-3
    for T in (1e-9, 1e-8, 1e-7):
        ours = float(primakoff_dsigma_dER(mod, nuc, E, T, form_factor=False))
        ref = ALPHA * MU**2 * 32**2 * (1 / T - 1 / E)
        assert ours == pytest.approx(ref, rel=1e-6)


def test_exact_vs_brdar_form():
    # physics.md §4.1: the literature form differs by <~1e-6 at reactor energies
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


def test_dirac_equals_majorana():
    nuc = nucleus("Ca40")
    E, m = 8e-3, 4e-3
    Ts = jnp.asarray(log_grid(E, m, float(nuc.mass)))
    f = jax.vmap(primakoff_dsigma_dER, (None, None, None, 0))
    d = f(model(m, nature="dirac"), nuc, E, Ts)
    mj = f(model(m, nature="majorana"), nuc, E, Ts)
    np.testing.assert_array_equal(np.asarray(d), np.asarray(mj))


def test_flavour_selects_moment():
    nuc = nucleus("O16")
    mod = DipoleModel(m_N=2e-3, mu=(1e-9, 3e-9, 0.0))
    a = primakoff_dsigma_dER(mod, nuc, 5e-3, 1e-7, flavour=0)
    b = primakoff_dsigma_dER(mod, nuc, 5e-3, 1e-7, flavour=1)
    c = primakoff_dsigma_dER(mod, nuc, 5e-3, 1e-7, flavour=2)
    assert float(b) == pytest.approx(9 * float(a), rel=1e-13)
    assert float(c) == 0.0


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
    mod = model(m)
    lo, hi = (float(x) for x in recoil_range(E, m, float(nuc.mass)))
    P_lo, _ = primakoff_polarisation(mod, nuc, E, lo * (1 + 1e-10))
    P_hi, _ = primakoff_polarisation(mod, nuc, E, hi * (1 - 1e-12))
    assert float(P_lo) == pytest.approx(-1.0, abs=1e-6)
    assert float(P_hi) == pytest.approx(1.0, abs=1e-6)
    T = np.sqrt(lo * hi)
    a = primakoff_polarisation(mod, nuc, E, T)
    b = primakoff_polarisation(mod, nuc, E, T, antineutrino=True)
    assert float(b[0]) == -float(a[0]) and float(b[1]) == -float(a[1])


def test_helicity_fractions_ca40():
    # physics.md §4.2: Ca40, m = 4 MeV, E = 8 MeV: h = +1 fraction 0.43 / 0.96 / 0.995 at
    # 1 / 20 / 50 % of the ln E_R range
    nuc = nucleus("Ca40")
    m, E = 4e-3, 8e-3
    mod = model(m)
    lo, hi = (float(x) for x in recoil_range(E, m, float(nuc.mass)))
    for frac, want, tol in [(0.01, 0.43, 0.005), (0.20, 0.96, 0.005), (0.50, 0.995, 0.0005)]:
        T = lo * (hi / lo) ** frac
        plus = primakoff_dsigma_dER_helicity(mod, nuc, E, T, +1)
        minus = primakoff_dsigma_dER_helicity(mod, nuc, E, T, -1)
        tot = primakoff_dsigma_dER(mod, nuc, E, T)
        assert float(plus + minus) == pytest.approx(float(tot), rel=1e-14)
        assert float(plus / tot) == pytest.approx(want, abs=tol)


# ---------------------------------------------------------------- total cross section
def sigma_closed_form_F1(E, m, M, Z, mu):
    """physics.md §4.3 closed form for F = 1 (numpy)."""
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


SPOT = [  # physics.md §4.3: (target, Z, A, M, m_N, E, sigma F=1, sigma Helm) at mu = 1e-9 GeV^-1
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


def test_sigma_scales_as_mu_squared():
    nuc = nucleus("Ge74")
    s1 = primakoff_sigma(model(5e-3, 1e-9), nuc, 8e-3)
    s2 = primakoff_sigma(model(5e-3, 3.7e-8), nuc, 8e-3)
    assert float(s2 / s1) == pytest.approx(37.0**2, rel=1e-12)


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
    assert float(g[0]) == pytest.approx(2.0, rel=1e-12)  # d ln sigma / d ln mu
    for i, h in [(1, 1e-8), (2, 1e-8)]:
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
    s = float(primakoff_sigma(mod, nuc, 6e-3))
    assert float(g.mu[0]) == pytest.approx(2 * s / MU, rel=1e-12)
    assert float(g.mu[1]) == 0.0
    assert np.isfinite(float(g.m_N)) and float(g.m_N) < 0  # heavier N: smaller sigma


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
