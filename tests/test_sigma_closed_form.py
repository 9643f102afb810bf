"""Closed-form Primakoff σ (primakoff_sigma_window, the F² Taylor series, method= switches).

Every check compares with something computed along another path: scipy ``quad`` of
dσ/dE_R (which uses the direct Helm form factor, not the series), the Gauss–Legendre
quadrature tier, mpmath, an analytic point-like integral typed in here, finite differences,
or exact identities (additivity, empty windows).
"""

from __future__ import annotations

import functools
import math
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from scipy import integrate

import jaxdipole as jd
from jaxdipole.flux import Flux, FluxSum, MonochromaticFlux, ReactorFlux, TabulatedFlux
from jaxdipole.kinematics import threshold_energy
from jaxdipole.nuclei import helm_form_factor, helm_squared_series, nucleus
from jaxdipole.primakoff import (
    N_SERIES_TERMS,
    SERIES_X_MAX,
    primakoff_dsigma_dER,
    primakoff_sigma,
    primakoff_sigma_window,
    series_in_range,
)

u = jd.units
MeV, keV, eV = u.MeV, u.keV, u.eV
MU = 1e-9  # GeV^-1
PHI = 1e7 / (u.cm2 * u.s)  # a line flux

NUCLEI = ("O16", "Al27", "Ge74", "W184", "Pb208")
MASSES = (0.01 * MeV, 1 * MeV, 5 * MeV, 20 * MeV)
THRESHOLDS = (0.0, 1e-8, 1e-6)


def model(m, mu=MU):
    return jd.DipoleModel(m_N=m, mu=(mu, 0.0, 0.0), nature="dirac")


def recoil_limits(E, m, M):
    """(E_R_min, E_R_max) [GeV] in plain floats (stable closed forms); (0, 0) below threshold."""
    s = M * (M + 2 * E)
    b = 2 * E * E * M - (E + M) * m * m
    x = (2 * M * (E - m) - m * m) * (2 * M * (E + m) - m * m)
    if x <= 0 or E <= m:
        return 0.0, 0.0
    r = E * math.sqrt(x)
    return m**4 / (2 * (b + r)), (b + r) / (2 * s)


def series_edge(nuc):
    """Largest E_ν [GeV] with q r_n <= 6 at E_R,max(m_N = 0) = 2E²/(M + 2E) (quadratic in E)."""
    M, rn = float(nuc.mass), float(nuc.helm_rn)
    k = SERIES_X_MAX**2 / (2 * M * rn * rn)  # E_R at q r_n = 6
    return (k + math.sqrt(k * k + 2 * k * M)) / 2


_GENERIC = jax.tree.structure(jd.Nucleus("nucleus", 1, 1, 1.0))


def nuc_(name):
    """Catalogue nucleus with neutral static fields (name, Z, A) so that all species share one
    compiled function; the cross sections read only the dynamic fields (mass, charge, Helm
    parameters) -- as in the rates' vmap over target species."""
    return jax.tree.unflatten(_GENERIC, jax.tree.leaves(nucleus(name)))


# compiled entry points (m_N, nucleus, energies traced: one compile per shape and method)
_dsigma = jax.jit(lambda m, nuc, E, T: primakoff_dsigma_dER(model(m), nuc, E, T))


def _window_fn(m, nuc, E, lo=0.0, hi=jnp.inf):
    return primakoff_sigma_window(model(m), nuc, E, lo, hi)


_window = jax.jit(_window_fn)


@functools.partial(jax.jit, static_argnames=("method", "n_recoil", "form_factor"))
def _sigma(m, nuc, E, thr=0.0, method="series", n_recoil=32, form_factor=True):
    return primakoff_sigma(
        model(m), nuc, E, recoil_threshold=thr, method=method, n_recoil=n_recoil,
        form_factor=form_factor,
    )  # fmt: skip


@functools.partial(jax.jit, static_argnames=("method", "n_recoil", "form_factor"))
def _events(mod, exp, method="auto", n_recoil=32, form_factor=True):
    return jd.primakoff_events(mod, exp, method=method, n_recoil=n_recoil, form_factor=form_factor)


def sigma_scipy(m, nuc, E, lo_cut=0.0, hi_cut=math.inf):
    """scipy quad (epsrel 1e-12, in ln E_R) of dσ/dE_R over the window ∩ kinematic range."""
    e_min, e_max = recoil_limits(E, m, float(nuc.mass))
    lo, hi = max(e_min, lo_cut), min(e_max, hi_cut)
    if not hi > lo:
        return 0.0

    def g(y):
        T = math.exp(y)
        return T * float(_dsigma(m, nuc, E, T))

    return integrate.quad(g, math.log(lo), math.log(hi), epsabs=0, epsrel=1e-12, limit=200)[0]


def rel(a, b):
    return abs(a / b - 1.0)


# ============================================================ 1. F² Taylor series
def _series_vs_helm(nuc, n_terms):
    """max |Σ f_n τ^n − helm_form_factor²| on q r_n ∈ [0, 6] (series summed in mpmath)."""
    rn = float(nuc.helm_rn)
    f = [mp.mpf(float(c)) for c in np.asarray(helm_squared_series(nuc, n_terms))]
    x = np.linspace(0.0, SERIES_X_MAX, 121)
    F2 = np.asarray(helm_form_factor(nuc, jnp.asarray(x / rn))) ** 2
    with mp.workdps(30):
        ser = np.array([float(mp.polyval(f[::-1], mp.mpf(xi) ** 2)) for xi in x])
    return float(np.max(np.abs(ser - F2)))


@pytest.mark.parametrize(
    "name",
    [
        "Ca40",
        "Ge74",
        "Xe131",
        "W184",
        "Pb208",
        "O16",
        "Al27",
    ],
)
def test_helm_squared_series_matches_helm(name):
    nuc = nucleus(name)
    f = np.asarray(helm_squared_series(nuc))
    assert f.shape == (N_SERIES_TERMS,) and f[0] == 1.0
    # O16: the float64 coefficients alone leave ~1.3e-13 at q r_n = 6 (terms up to ~1e3)
    assert _series_vs_helm(nuc, N_SERIES_TERMS) <= (5e-13 if name == "O16" else 1e-13)
    # 32 terms leave 2e-9 (O16) / 4e-12 (Al27) at q r_n = 6: the light nuclei set the count
    if name == "O16":
        assert _series_vs_helm(nuc, 32) > 1e-10


@pytest.mark.parametrize("name", ["O16", "Al27", "W184"])
def test_helm_squared_series_coefficients_exact_with_more_terms(name):
    # the coefficients are right (to float64 rounding of terms up to ~1e3 at q r_n = 6) and
    # do not depend on the truncation
    nuc = nucleus(name)
    assert _series_vs_helm(nuc, 48) <= 5e-13
    np.testing.assert_array_equal(
        np.asarray(helm_squared_series(nuc, 48))[:N_SERIES_TERMS],
        np.asarray(helm_squared_series(nuc)),
    )


def test_helm_squared_series_gradients_and_zero_skin():
    nuc = nucleus("Ge74")
    q = 4.0 / float(nuc.helm_rn)  # q r_n = 4

    def with_s(s):
        return eqx.tree_at(lambda n: n.helm_s, nuc, jnp.asarray(s, float))

    def f2_series(s):
        n = with_s(s)
        tau = (q * n.helm_rn) ** 2
        return jnp.polyval(helm_squared_series(n)[::-1], tau)

    def f2_helm(s):
        return helm_form_factor(with_s(s), q) ** 2

    # s = 0: coefficients and F² are even in s -> finite, zero gradient (no 0/0, no 0**0)
    jac = np.asarray(jax.jacfwd(lambda s: helm_squared_series(with_s(s)))(0.0))
    assert np.all(np.isfinite(jac)) and np.all(jac == 0.0)
    g0 = float(jax.grad(f2_series)(0.0))
    assert np.isfinite(g0) and abs(g0 - float(jax.grad(f2_helm)(0.0))) <= 1e-14
    assert float(f2_series(0.0)) == pytest.approx(float(f2_helm(0.0)), abs=1e-14)
    # s = 0.9 fm (default) and 0.5 fm: d F²/d s from the series vs the direct Helm form factor
    for s in (0.9 * u.fm, 0.5 * u.fm):
        gs, gh = float(jax.grad(f2_series)(s)), float(jax.grad(f2_helm)(s))
        assert gs == pytest.approx(gh, rel=1e-10)

    # and d F²/d helm_c
    def f2_c(c, series):
        n = eqx.tree_at(lambda n: n.helm_c, nuc, c)
        if series:
            return jnp.polyval(helm_squared_series(n)[::-1], (q * n.helm_rn) ** 2)
        return helm_form_factor(n, q) ** 2

    gc = [float(jax.grad(f2_c)(nuc.helm_c, k)) for k in (True, False)]
    assert gc[0] == pytest.approx(gc[1], rel=1e-10) and gc[0] != 0


# ============================================================ 2. closed form vs scipy
def test_series_edge_matches_series_in_range():
    for name in NUCLEI:
        nuc = nuc_(name)
        e = series_edge(nuc)
        for xp in (jnp, np):
            assert bool(series_in_range(nuc, e * (1 - 1e-12), xp))
            assert not bool(series_in_range(nuc, e * (1 + 1e-9), xp))
        got = np.asarray(series_in_range(nuc, np.array([1e-3, e * 0.999, e * 1.001])))
        np.testing.assert_array_equal(got, [True, True, False])


@pytest.mark.parametrize(
    "name, top",
    [(n, 1 - 1e-12) for n in NUCLEI if n != "O16"] + [("O16", 0.75)],  # O16 edge: see below
)
def test_window_vs_scipy(name, top):
    nuc = nuc_(name)
    M = float(nuc.mass)
    e_top = series_edge(nuc) * top
    for m in MASSES:
        e_th = float(threshold_energy(m, M))
        energies = (e_th * (1 + 1e-6), e_th * 1.3, math.sqrt(e_th * 1.3 * e_top), e_top)
        for E in energies:
            for thr in THRESHOLDS:
                ours = float(_window(m, nuc, E, thr))
                ref = sigma_scipy(m, nuc, E, thr)
                if ref == 0.0:  # threshold above E_R_max
                    assert ours == 0.0
                    continue
                assert ours > 0
                assert rel(ours, ref) <= 1e-11, (m, E, thr, ours, ref)


@pytest.mark.parametrize(
    "name",
    [
        "O16",
        "Al27",
        "Ca40",
        "Ge74",
        "W184",
        "Pb208",
    ],
)
def test_window_at_series_edge_vs_fine_quadrature(name):
    # documented: relative error <= 1e-13 while q r_n <= 6; 128-node GL in ln E_R is good to
    # ~1e-14 there. A threshold makes the top of the recoil range weigh more.
    nuc = nuc_(name)
    E = series_edge(nuc) * (1 - 1e-12)
    for m in (0.01 * MeV, 5 * MeV):
        for thr in (0.0, 1e-6):
            ser = float(_sigma(m, nuc, E, thr))
            quad = float(_sigma(m, nuc, E, thr, method="quadrature", n_recoil=128))
            assert rel(ser, quad) <= 1e-12, (m, thr)


# ============================================================ 3. windows
@pytest.mark.parametrize("name, m, E", [("Ge74", 5 * MeV, 8 * MeV), ("W184", 1 * MeV, 40 * MeV)])
def test_window_additivity_empty_and_vs_scipy(name, m, E):
    nuc = nuc_(name)
    e_min, e_max = recoil_limits(E, m, float(nuc.mass))
    full = float(_window(m, nuc, E))
    assert full > 0
    for c in (e_min * (1 + 1e-9), e_min * 3, math.sqrt(e_min * e_max), e_max * 0.5, e_max * 0.999):
        a = float(_window(m, nuc, E, 0.0, c))
        b = float(_window(m, nuc, E, c))
        assert a > 0 and b > 0
        assert (a + b) / full == pytest.approx(1.0, abs=1e-12)
    # three pieces, as arrays in one call
    cuts = jnp.array([0.0, 2 * e_min, 0.1 * e_max, jnp.inf])
    pieces = np.asarray(_window(m, nuc, E, cuts[:-1], cuts[1:]))
    assert pieces.sum() / full == pytest.approx(1.0, abs=1e-12)
    # empty windows are exactly 0
    for lo, hi in [
        (1.01 * e_max, jnp.inf),
        (e_max * 2, e_max * 3),
        (0.0, 0.99 * e_min),
        (0.1 * e_min, 0.5 * e_min),
        (3 * e_min, 3 * e_min),  # zero width
        (4 * e_min, 2 * e_min),  # reversed
    ]:
        assert float(_window(m, nuc, E, lo, hi)) == 0.0
    # windows inside the range vs scipy over the same interval
    for lo, hi in [
        (0.0, 10 * e_min),
        (2 * e_min, 0.3 * e_max),
        (math.sqrt(e_min * e_max), jnp.inf),
        (0.5 * e_max, 0.9 * e_max),
    ]:
        ours = float(_window(m, nuc, E, lo, hi))
        ref = sigma_scipy(m, nuc, E, lo, float(hi))
        assert rel(ours, ref) <= 1e-11, (lo, hi)


def test_window_broadcasting_elementwise():
    nuc, m = nuc_("Ge74"), 2 * MeV
    E = jnp.array([[3 * MeV], [6 * MeV], [9 * MeV]])  # (3, 1)
    lo = jnp.array([0.0, 1 * eV, 30 * eV, 200 * eV])  # (4,)
    hi = jnp.array([jnp.inf, 50 * eV, 1 * keV, 300 * eV])
    got = np.asarray(primakoff_sigma_window(model(m), nuc, E, lo, hi))
    assert got.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            one = float(primakoff_sigma_window(model(m), nuc, E[i, 0], lo[j], hi[j]))
            assert got[i, j] == pytest.approx(one, rel=1e-14, abs=0.0)


# ============================================================ 4. near threshold
@pytest.mark.parametrize("name, m", [("O16", 20 * MeV), ("Ge74", 5 * MeV), ("W184", 0.01 * MeV)])
def test_near_threshold_series_vs_quadrature(name, m):
    nuc = nuc_(name)
    e_th = float(threshold_energy(m, float(nuc.mass)))
    deltas = np.array([1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-3])
    E = jnp.asarray(e_th * (1 + deltas))
    ser = np.asarray(_sigma(m, nuc, E))
    quad = np.asarray(_sigma(m, nuc, E, method="quadrature"))
    assert np.all(ser > 0)
    np.testing.assert_allclose(ser, quad, rtol=1e-9, atol=0)
    # σ ∝ sqrt(E − E_th) just above (a loose, independent shape check)
    assert ser[1] / ser[0] == pytest.approx(10.0, rel=1e-3)
    # exactly 0 at and below threshold: the float at or just below the exact m + m²/2M (the
    # rounded E_th may lie above it, e.g. O16 at 20 MeV, where both methods give ~1e-27)
    with mp.workdps(50):
        exact = mp.mpf(m) + mp.mpf(m) ** 2 / (2 * mp.mpf(float(nuc.mass)))
        e_at = float(exact)
        if mp.mpf(e_at) > exact:
            e_at = float(np.nextafter(e_at, 0.0))
    below = jnp.asarray([0.0, 0.5 * e_th, e_th * (1 - 1e-12), e_at, e_th, e_th])
    for meth in ("series", "quadrature"):
        val = np.asarray(_sigma(m, nuc, below, method=meth))
        assert np.all(val[:4] == 0.0), meth
        # the rounded E_th: 0, or (if it lies above the exact one by <= 1 ulp) at most
        # sqrt(1.1e-16 / 1e-12) ~ 1 % of σ at δ = 1e-12
        assert 0 <= val[4] < 0.02 * ser[0]
    assert np.all(np.asarray(_window(m, nuc, below[:4])) == 0.0)
    at = [float(_sigma(m, nuc, e_th, method=k)) for k in ("series", "quadrature")]
    assert at[0] == pytest.approx(at[1], rel=1e-9, abs=0)


# ============================================================ 5. point-like nucleus
def sigma_pointlike_mp(E, m, nuc, thr=0.0):
    """α μ² Z²/(8 M E²) ∫ D/E_R² dE_R over [max(E_R_min, thr), E_R_max], in mpmath."""
    with mp.workdps(50):
        E, m, M = mp.mpf(E), mp.mpf(m), mp.mpf(float(nuc.mass))
        s = M * (M + 2 * E)
        b = 2 * E * E * M - (E + M) * m * m
        r = mp.sqrt(b * b - s * m**4)
        a, c = max((b - r) / (2 * s), mp.mpf(thr)), (b + r) / (2 * s)
        if not c > a:
            return 0.0
        integral = (
            m**4 * (1 / c - 1 / a)
            + (8 * E * E * M - 4 * E * m * m - 2 * M * m * m) * mp.log(c / a)
            + (m * m - 8 * E * M) * (c - a)
            + M * (c * c - a * a)
        )
        pref = mp.mpf(jd.constants.alpha) * mp.mpf(MU) ** 2 * mp.mpf(float(nuc.charge)) ** 2
        return float(pref / (8 * M * E * E) * integral)


@pytest.mark.parametrize("name, m", [("W184", 5 * MeV), ("W184", 0.01 * MeV), ("O16", 20 * MeV)])
def test_unit_form_factor_exact_at_any_energy(name, m):
    nuc = nuc_(name)
    for E in (30 * MeV, 1.0, 10.0):
        for thr in (0.0, 1e-6):
            ours = float(_sigma(m, nuc, E, thr, form_factor=False))
            ref = sigma_pointlike_mp(E, m, nuc, thr)
            assert rel(ours, ref) <= 1e-12, (E, thr)
            # F = 1: auto is the closed form at any energy (eager, Python branch)
            auto = primakoff_sigma(model(m), nuc, E, form_factor=False, recoil_threshold=thr)
            assert float(auto) == pytest.approx(ours, rel=1e-14)
            quad = _sigma(m, nuc, E, thr, method="quadrature", n_recoil=128, form_factor=False)
            assert rel(float(quad), ours) <= 1e-11, (E, thr)
    assert not bool(series_in_range(nuc, 10.0))  # the Helm series would not apply here


# ============================================================ 6. range checks
def test_beyond_series_range():
    nuc, m, E = nuc_("W184"), 5 * MeV, 300 * MeV
    assert not bool(series_in_range(nuc, E))
    with pytest.raises(Exception, match="q r_n"):
        primakoff_sigma_window(model(m), nuc, E)
    with pytest.raises(Exception, match="q r_n"):
        primakoff_sigma(model(m), nuc, E, method="series")
    auto = float(primakoff_sigma(model(m), nuc, E, method="auto"))
    quad = float(primakoff_sigma(model(m), nuc, E, method="quadrature"))
    assert auto == quad and auto > 0
    ref = sigma_scipy(m, nuc, E)
    assert rel(auto, ref) <= 1e-11  # 64 nodes (32: 1e-7 here)
    assert rel(float(_sigma(m, nuc, E, method="quadrature", n_recoil=128)), ref) <= 1e-11
    # a window whose top stays below q r_n = 6 is fine even at high E_ν
    top = SERIES_X_MAX**2 / (2 * float(nuc.mass) * float(nuc.helm_rn) ** 2) * 0.99
    ours = float(_window(m, nuc, E, 0.0, top))
    assert rel(ours, sigma_scipy(m, nuc, E, 0.0, top)) <= 1e-11
    with pytest.raises(ValueError, match="method"):
        primakoff_sigma(model(m), nuc, E, method="gauss")


# ============================================================ 7. arrays, jit and lax.cond
def test_array_inputs_jit_and_cond_branch():
    nuc, m = nuc_("Ge74"), 3 * MeV
    E = jnp.array([[4.0, 6.0, 9.0, 20.0], [3.1, 5.0, 7.0, 50.0], [3.5, 8.0, 10.0, 100.0]]) * MeV
    thr = jnp.array([0.0, 10 * eV, 1 * keV, 100 * keV])
    assert bool(jnp.all(series_in_range(nuc, E)))
    got = np.asarray(primakoff_sigma(model(m), nuc, E, recoil_threshold=thr))
    assert got.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            one = float(primakoff_sigma(model(m), nuc, E[i, j], recoil_threshold=thr[j]))
            # the array call sums the series terms in another order than the scalar call
            assert got[i, j] == pytest.approx(one, rel=5e-14, abs=0.0)
            if i == j:  # also jitted scalar calls
                assert float(_sigma(m, nuc, E[i, j], thr[j])) == pytest.approx(one, rel=1e-13)
    assert np.all(got[:, :3] > 0) and got[0, 3] == 0.0  # 100 keV above E_R_max at 20 MeV
    quad = np.asarray(_sigma(m, nuc, E, thr, method="quadrature"))
    np.testing.assert_allclose(got, quad, rtol=1e-9, atol=0)

    jitted = functools.partial(_sigma, m, nuc, method="auto")  # traced E: lax.cond
    # (2e-14 seen on the smallest entry, a threshold just below E_R,max)
    np.testing.assert_allclose(np.asarray(jitted(E, thr)), got, rtol=1e-13, atol=0)
    # one energy beyond the series range: the traced lax.cond takes the quadrature branch
    E_out = E.at[2, 3].set(300 * MeV)
    assert not bool(jnp.all(series_in_range(nuc, E_out)))
    eager_quad = np.asarray(
        primakoff_sigma(model(m), nuc, E_out, recoil_threshold=thr, method="quadrature")
    )
    np.testing.assert_allclose(np.asarray(jitted(E_out, thr)), eager_quad, rtol=1e-13, atol=0)
    eager_auto = np.asarray(primakoff_sigma(model(m), nuc, E_out, recoil_threshold=thr))
    np.testing.assert_array_equal(eager_auto, eager_quad)  # Python branch


# ============================================================ 8. gradients
GRAD_POINTS = [  # (nucleus, E_ν, m_N, threshold)
    ("Ge74", 8 * MeV, 5 * MeV, 5e-8),
    ("W184", 50 * MeV, 1 * MeV, 1e-6),
    ("O16", 60 * MeV, 20 * MeV, 2e-6),
]


def _ln_sigma(x, nuc, method):
    """ln σ as a function of x = (ln E, ln m_N, ln E_thr, ln helm_c)."""
    n = eqx.tree_at(lambda n: n.helm_c, nuc, jnp.exp(x[3]))
    s = primakoff_sigma(
        model(jnp.exp(x[1])), n, jnp.exp(x[0]), recoil_threshold=jnp.exp(x[2]), method=method
    )
    return jnp.log(s)


_ln_sigma_vg = jax.jit(jax.value_and_grad(_ln_sigma), static_argnums=2)


@pytest.mark.parametrize("name, E, m, thr", GRAD_POINTS)
def test_gradients_vs_finite_differences(name, E, m, thr):
    nuc = nuc_(name)
    e_min, e_max = recoil_limits(E, m, float(nuc.mass))
    assert e_min < thr < e_max  # the threshold is an active bound

    x0 = jnp.log(jnp.array([E, m, thr, float(nuc.helm_c)]))
    v0, g = _ln_sigma_vg(x0, nuc, "series")
    g = np.asarray(g)
    g_quad = np.asarray(_ln_sigma_vg(x0, nuc, "quadrature")[1])
    h = 1e-5
    for i in range(4):
        e = jnp.zeros(4).at[i].set(h)
        up, down = (float(_ln_sigma_vg(x, nuc, "series")[0]) for x in (x0 + e, x0 - e))
        fd = (up - down) / (2 * h)
        assert g[i] == pytest.approx(fd, rel=1e-6, abs=1e-9), (i, g[i], fd)
        assert g[i] == pytest.approx(g_quad[i], rel=1e-7, abs=1e-10), i
    assert g[0] > 0 and g[1] < 0 and g[2] < 0 and g[3] < 0
    # Leibniz: dσ/dE_thr = −dσ/dE_R(E_thr)
    d_thr = g[2] * math.exp(float(v0)) / thr
    assert d_thr == pytest.approx(-float(_dsigma(m, nuc, E, thr)), rel=1e-10)


def test_gradients_finite_at_threshold_below_and_empty():
    nuc, m = nuc_("Ge74"), 5 * MeV
    e_th = float(threshold_energy(m, float(nuc.mass)))
    grad = jax.jit(jax.value_and_grad(_window_fn, argnums=(0, 2, 3, 4)))
    e_max = recoil_limits(8 * MeV, m, float(nuc.mass))[1]
    cases = [  # (E, lo, hi)
        (e_th, 0.0, jnp.inf),  # at threshold (the rounded E_th lies below the exact one here)
        (0.5 * e_th, 0.0, jnp.inf),  # below: σ = 0, gradient 0
        (e_th * (1 - 1e-12), 1 * eV, 1 * keV),
        (8 * MeV, 2 * e_max, 3 * e_max),  # empty window above E_R,max
        (8 * MeV, 0.0, 1e-20),  # empty window below E_R,min
        (8 * MeV, 2 * e_max, jnp.inf),
        (8 * MeV, 3 * eV, 3 * eV),  # zero width
    ]
    for k, (E, lo, hi) in enumerate(cases):
        val, gs = grad(m, nuc, E, lo, hi)
        assert float(val) == 0.0, k
        assert [float(x) for x in gs] == [0.0, 0.0, 0.0, 0.0], k
    # just above threshold: finite, positive dσ/dE
    val, gs = grad(m, nuc, e_th * (1 + 1e-12), 0.0, jnp.inf)
    assert float(val) > 0 and all(np.isfinite([float(x) for x in gs])) and float(gs[1]) > 0

    # jit(grad) of primakoff_sigma(method="auto"): traced E -> lax.cond
    def sig_auto(E, t, nuc):
        return primakoff_sigma(model(m), nuc, E, recoil_threshold=t)

    g_auto = jax.jit(jax.grad(sig_auto, argnums=(0, 1)))
    for E, t in [(e_th, 0.0), (0.5 * e_th, 10 * eV), (8 * MeV, 1.0)]:
        assert [float(v) for v in g_auto(E, t, nuc)] == [0.0, 0.0]
    gE, gt = (float(v) for v in g_auto(8 * MeV, 10 * eV, nuc))
    h = 1e-6 * 8 * MeV
    fd = float(_sigma(m, nuc, 8 * MeV + h, 10 * eV)) - float(_sigma(m, nuc, 8 * MeV - h, 10 * eV))
    assert gE == pytest.approx(fd / (2 * h), rel=1e-6)
    assert gt == pytest.approx(-float(_dsigma(m, nuc, 8 * MeV, 10 * eV)), rel=1e-10)
    # beyond the series range the lax.cond takes the quadrature: finite, = its derivative
    W, E = nuc_("W184"), 300 * MeV
    gE = float(g_auto(E, 0.0, W)[0])
    h = 1e-6 * E
    quad = [float(_sigma(m, W, e, method="quadrature")) for e in (E + h, E - h)]
    assert gE == pytest.approx((quad[0] - quad[1]) / (2 * h), rel=1e-6)


# ============================================================ 9. rates
LINE_MU = MonochromaticFlux(29.8 * MeV, PHI, flavour=1)  # π+ decay-at-rest ν_μ line
LINE_E = MonochromaticFlux(29.8 * MeV, PHI, flavour=0)


def line_exp(target, flux, thr=20 * eV, **kw):
    return jd.Experiment(nuc_(target), 1 * u.kg, 1 * u.day, flux, thr, **kw)


def rates_eager(mod, exp, methods=("series", "quadrature", "auto")):
    """Eager calls: "auto" is decided in Python (concrete experiment)."""
    return {k: float(jd.primakoff_events(mod, exp, method=k)) for k in methods}


@pytest.mark.parametrize(
    "label",
    ["ge_reactor", "ge_reactor_1keV", "nucleus_phase1", "line", "line_sum"],
)
def test_events_series_vs_quadrature(label):
    mod = model(5 * MeV)
    if label == "ge_reactor":
        exp = jd.experiments.ge_reactor()
    elif label == "ge_reactor_1keV":
        exp, mod = jd.experiments.ge_reactor(recoil_max=1 * keV), model(1 * MeV)
    elif label == "nucleus_phase1":
        exp = jd.experiments.nucleus_phase1()
    elif label == "line":
        exp = line_exp("W184", LINE_E)
    else:  # ν_μ line + reactor ν̄_e on Ge, with moments for both flavours
        flux = FluxSum([LINE_MU, ReactorFlux.vogel_engel_benchmark(4 * u.GW, 100 * u.m)])
        exp = line_exp("Ge74", flux, recoil_max=2 * keV)
        mod = jd.DipoleModel(m_N=5 * MeV, mu=(MU, 2 * MU, 0.0))
    ser, quad = float(_events(mod, exp, "series")), float(_events(mod, exp, "quadrature"))
    assert ser > 0
    assert rel(ser, quad) <= 1e-10, (ser, quad)
    if label in ("ge_reactor", "line_sum"):  # jit: traced experiment -> lax.cond -> series
        assert float(_events(mod, exp, "auto")) == pytest.approx(ser, rel=1e-14)
    if label == "line":  # eager: Python branch, identical to the eager closed form
        v = rates_eager(mod, exp, ("series", "auto"))
        assert v["auto"] == v["series"] and v["series"] == pytest.approx(ser, rel=1e-13)


def test_recoil_binned_and_threshold_gradient_methods_agree():
    mod = model(2 * MeV)
    exp = jd.experiments.ge_reactor(recoil_max=1 * keV)
    edges = jnp.array([0.0, 5 * eV, 12 * eV, 30 * eV, 100 * eV, 300 * eV, 1 * keV, 2 * keV])
    binned = jax.jit(jd.recoil_binned, static_argnames="method")
    ser = np.asarray(binned(mod, exp, edges, method="series"))
    quad = np.asarray(binned(mod, exp, edges, method="quadrature"))
    assert ser[0] == quad[0] == 0.0 and ser[-1] == quad[-1] == 0.0  # below thr / above max
    both = (ser != 0) | (quad != 0)
    assert both.sum() == 5
    np.testing.assert_allclose(ser[both], quad[both], rtol=1e-10, atol=0)
    assert ser.sum() == pytest.approx(float(_events(mod, exp, "series")), rel=1e-11)

    def events_thr(t, method):
        return jd.primakoff_events(mod, exp.with_(recoil_threshold=t), method=method)

    d_thr = jax.jit(jax.grad(events_thr), static_argnums=1)
    thr = 25 * eV
    g_ser, g_quad = float(d_thr(thr, "series")), float(d_thr(thr, "quadrature"))
    h = 1e-3 * thr
    up, down = (
        float(_events(mod, exp.with_(recoil_threshold=t), "series")) for t in (thr + h, thr - h)
    )
    assert g_ser < 0
    assert g_ser == pytest.approx(g_quad, rel=1e-8)
    assert g_ser == pytest.approx((up - down) / (2 * h), rel=1e-5)


# ============================================================ 10. flux beyond the range
def test_flux_beyond_series_range_falls_back_to_quadrature():
    mod = model(5 * MeV)
    far = MonochromaticFlux(300 * MeV, PHI)
    # eager: Python decision -> bit-identical to the quadrature
    exp = line_exp("W184", far)
    v = rates_eager(mod, exp, ("quadrature", "auto"))
    assert v["auto"] == v["quadrature"] and v["auto"] > 0
    # the line samples σ at one energy: events = T N Φ σ_window(300 MeV); 32 ln E_R nodes are
    # good to ~2e-7 there, 64 to ~1e-14
    for target in ("W184", "Pb208"):
        exp = line_exp(target, far)
        norm = float(exp.exposure) * float(exp.nuclei_counts[0]) * PHI
        sig = sigma_scipy(5 * MeV, exp.target.nuclei[0], 300 * MeV, 20 * eV)
        auto = float(_events(mod, exp))  # traced: lax.cond
        assert auto == pytest.approx(float(_events(mod, exp, "quadrature")), rel=1e-14)
        assert auto / (norm * sig) == pytest.approx(1, rel=1e-6)
        assert float(_events(mod, exp, "quadrature", 64)) / (norm * sig) == pytest.approx(
            1, rel=1e-11
        )
    # a sum with an in-range part: the component beyond the range decides for the quadrature
    exp = line_exp("W184", FluxSum([LINE_E, far]))
    assert float(_events(mod, exp)) == pytest.approx(
        float(_events(mod, exp, "quadrature")), rel=1e-14
    )
    # F = 1 needs no range: auto is the closed form even at 300 MeV
    exp = line_exp("W184", far)
    a = float(_events(mod, exp, form_factor=False))
    q = float(_events(mod, exp, "quadrature", form_factor=False))
    assert rel(a, q) <= 1e-10


# ============================================================ 11. Flux.energy_max
class _OpenFlux(Flux):
    """A flux that does not know its end point (base-class energy_max)."""

    flavour: int = eqx.field(static=True, default=0)
    antineutrino: bool = eqx.field(static=True, default=False)

    def dphi_dE(self, E):
        return jnp.zeros_like(jnp.asarray(E, float))

    def fold(self, fn, E_low=0.0):
        return jax.tree.map(lambda v: 0.0 * v, fn(jnp.asarray(1.0)))


def test_energy_max():
    reactor = ReactorFlux.vogel_engel_benchmark(4 * u.GW, 100 * u.m)
    assert float(reactor.energy_max()) == 10 * MeV
    assert float(ReactorFlux(4 * u.GW, 100 * u.m, e_max=8.5 * MeV).energy_max()) == 8.5 * MeV
    tab = TabulatedFlux(np.array([1.0, 2.0, 7.5]) * MeV, np.array([3.0, 2.0, 1.0]))
    assert float(tab.energy_max()) == 7.5 * MeV
    line = MonochromaticFlux(29.8 * MeV, PHI)
    assert float(line.energy_max()) == 29.8 * MeV
    total = FluxSum([reactor, line, tab])
    assert float(total.energy_max()) == 29.8 * MeV
    assert float((reactor + tab).energy_max()) == 10 * MeV
    assert float(_OpenFlux().energy_max()) == math.inf
    assert float(FluxSum([reactor, _OpenFlux()]).energy_max()) == math.inf
    # traceable (flux as a jit argument)
    assert float(jax.jit(lambda f: f.energy_max())(total)) == 29.8 * MeV


def test_unknown_flux_end_point_uses_quadrature():
    # an unknown end point (base-class energy_max = +inf) means "not in range": quadrature
    reactor = ReactorFlux.vogel_engel_benchmark(4 * u.GW, 100 * u.m)
    exp = line_exp("Ge74", FluxSum([reactor, _OpenFlux()]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning expected (independent of the ini)
        v = rates_eager(model(5 * MeV), exp, ("auto", "quadrature"))
        with pytest.raises(ValueError, match="series"):  # the closed form is not guaranteed
            rates_eager(model(5 * MeV), exp, ("series",))
    assert v["auto"] == v["quadrature"] > 0


def test_auto_fallback_meets_documented_quadrature_accuracy():
    nuc, m, E = nuc_("W184"), 5 * MeV, 300 * MeV
    auto = float(primakoff_sigma(model(m), nuc, E))
    assert rel(auto, sigma_scipy(m, nuc, E)) <= 1e-11  # 64 nodes (32: 1e-7)


def test_float32_closed_form():
    # float32: the range ends at q r_n = 2 (τ^40 would overflow beyond ~9); inside it the
    # closed form in float32 agrees with float64 to float32 precision
    nuc = nucleus("Ge74")
    mod = model(1 * MeV)
    f32 = jax.tree.map(
        lambda x: x.astype(jnp.float32) if isinstance(x, jax.Array) and x.dtype == float else x,
        (mod, nuc),
    )
    E = np.linspace(2.0, 10.0, 50) * MeV
    assert bool(jnp.all(series_in_range(nuc, jnp.asarray(E, jnp.float32))))
    s32 = primakoff_sigma(*f32, jnp.asarray(E, jnp.float32), method="series")
    s64 = primakoff_sigma(mod, nuc, E, method="series")
    assert s32.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(s32, float), np.asarray(s64), rtol=1e-5)
    E_far = jnp.asarray(60 * MeV, jnp.float32)  # q r_n ≈ 3 for Ge74: in range only in float64
    assert not bool(series_in_range(nuc, E_far)) and bool(series_in_range(nuc, 60 * MeV))
    with pytest.raises(Exception, match="q r_n"):
        primakoff_sigma(*f32, E_far, method="series")


def test_moments_custom_derivative_matches_autodiff_of_the_series():
    # the Leibniz JVP rule of the recoil moments against plain autodiff of the same series
    from jaxdipole.primakoff import _moments, _moments_impl

    f = helm_squared_series(nucleus("Ge74"), N_SERIES_TERMS)
    rng = np.random.default_rng(3)
    for tl, th in [(1e-7, 2e-7), (0.3, 4.0), (2.0, 36.0), (1e-3, 1.0 + 1e-3)]:
        dt = th - tl
        fd = jnp.asarray(rng.normal(size=f.shape)) * f

        def rule(a, b, c, g):
            return jnp.stack(_moments(a, b, c, g))

        def plain(a, b, c, g):  # dt follows τ_h − τ_l, as in the rule
            return jnp.stack(_moments_impl(a, b, b - a, g))

        args = (tl, th, dt, f)
        np.testing.assert_allclose(rule(*args), plain(*args), rtol=1e-13)
        tan = (0.3 * tl, -0.7 * th, 0.0, fd)
        _, j_rule = jax.jvp(rule, args, tan)
        _, j_plain = jax.jvp(plain, args, tan)
        np.testing.assert_allclose(j_rule, j_plain, rtol=1e-8, atol=1e-12 * np.abs(j_plain).max())
        # reverse mode and second derivatives (Hessians of the fits) through the rule
        for a in (0, 1):
            g_rule = jax.grad(lambda *x: rule(*x).sum(), argnums=a)(*args)
            g_plain = jax.grad(lambda *x: plain(*x).sum(), argnums=a)(*args)
            np.testing.assert_allclose(g_rule, g_plain, rtol=1e-8)
        h_rule = jax.hessian(lambda b, a=tl: rule(a, b, b - a, f)[1])(th)
        h_plain = jax.hessian(lambda b, a=tl: plain(a, b, b - a, f)[1])(th)
        np.testing.assert_allclose(h_rule, h_plain, rtol=1e-7)


def test_sigma_gradient_in_nucleus_parameters_vs_finite_difference():
    # the f-tangent of the rule: the skin thickness s changes only the F² series coefficients,
    # the mass also the kinematics
    ge = nucleus("Ge74")
    E = 9 * MeV
    mod = model(2 * MeV)

    for leaf in (lambda n: n.helm_s, lambda n: n.mass, lambda n: n.helm_c):

        def sig(scale, leaf=leaf):
            nuc = eqx.tree_at(leaf, ge, leaf(ge) * scale)
            return primakoff_sigma_window(mod, nuc, E)

        g = float(jax.grad(sig)(1.0))
        h = 1e-6
        fd = (float(sig(1.0 + h)) - float(sig(1.0 - h))) / (2 * h)
        assert g == pytest.approx(fd, rel=1e-6)
