"""Tests for jaxdipole.flux: reactor spectra, benchmarks, folds, tables, sums."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from jaxdipole import units as u
from jaxdipole.flux import (
    ORACLE_FISSIONS_PER_ENERGY,
    VOGEL_ENGEL_RAW_INTEGRAL,
    FluxSum,
    MonochromaticFlux,
    ReactorFlux,
    TabulatedFlux,
)

MeV = u.MeV
PER_CM2_S = 1.0 / (u.cm2 * u.s)

# Huber, PRC 84 (2011) 024617 / Mueller et al., PRC 83 (2011) 054615, typed in independently of
# the module: (a0 … a5), E in MeV, per MeV per fission
HM_TABLE = {
    "U235": [4.367, -4.577, 2.100, -5.294e-1, 6.186e-2, -2.777e-3],
    "U238": [4.833e-1, 1.927e-1, -1.283e-1, -6.762e-3, 2.233e-3, -1.536e-4],
    "Pu239": [4.757, -5.392, 2.563, -6.596e-1, 7.820e-2, -3.536e-3],
    "Pu241": [2.990, -2.882, 1.278, -3.343e-1, 3.905e-2, -1.754e-3],
}
ORDER = ("U235", "U238", "Pu239", "Pu241")
FRAC = {"U235": 0.56, "U238": 0.08, "Pu239": 0.30, "Pu241": 0.06}
EF_MEV = {"U235": 201.92, "U238": 205.52, "Pu239": 209.99, "Pu241": 213.60}
TOTALS = {"U235": 6.14, "U238": 7.08, "Pu239": 5.58, "Pu241": 6.42}  # Kopeikin 2004 targets


def hm_ref(iso: str, x):
    """Huber–Mueller S(x) per MeV per fission, x in MeV (plain numpy)."""
    x = np.asarray(x, dtype=float)
    return np.exp(sum(a * x**k for k, a in enumerate(HM_TABLE[iso])))


def hm_mix_ref(x):
    return sum(FRAC[i] * hm_ref(i, x) for i in ORDER)


def rate_per_area(P, L):
    """Σ fission rate / (4π L²) [GeV^3] with ⟨E_f⟩ from the Kopeikin energies."""
    mean_ef = sum(FRAC[i] * EF_MEV[i] for i in ORDER) * MeV
    return np.sum(np.asarray(P) / mean_ef / (4 * np.pi * np.asarray(L) ** 2))


def sqrt_thr(E_th):
    """Smooth test integrand with a square-root threshold at E_th."""
    return lambda E: jnp.sqrt(jnp.maximum(E - E_th, 0.0)) * E**2


# Module-level fluxes and jitted helpers keep the number of distinct compiles small.
HM = ReactorFlux(4.25 * u.GW, 72 * u.m, e_match=2.0 * MeV)
HM18 = ReactorFlux(4.25 * u.GW, 72 * u.m)  # default e_match = 1.8 MeV
VE = ReactorFlux.vogel_engel_benchmark(4000 * u.MW, 100 * u.m)
_grid = np.union1d(np.geomspace(0.05 * MeV, 10 * MeV, 400), [2 * MeV])
TAB = TabulatedFlux(_grid, np.asarray(HM.dphi_dE(_grid)))


# eqx.filter_jit treats Python floats as static: pass arrays so that values do not recompile.
@eqx.filter_jit
def _fold_sqrt(flux, E_th):
    return flux.fold(sqrt_thr(E_th), E_th)


@eqx.filter_jit
def _total(flux, E_low):
    return flux.total(E_low)


@eqx.filter_jit
def _dphi(flux, E):
    return flux.dphi_dE(E)


def fold_sqrt(flux, E_th):
    return _fold_sqrt(flux, jnp.asarray(E_th, dtype=float))


def total(flux, E_low):
    return _total(flux, jnp.asarray(E_low, dtype=float))


def dphi(flux, E):
    return _dphi(flux, jnp.asarray(E, dtype=float))


# --- Huber–Mueller spectra ---------------------------------------------------------------------


def test_hm_isotope_spectra_match_coefficient_table():
    x = np.array([2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.5])
    got = np.asarray(HM.isotope_spectra(x * MeV)) * MeV  # per MeV
    for j, iso in enumerate(ORDER):
        np.testing.assert_allclose(got[:, j], hm_ref(iso, x), rtol=1e-12)
    np.testing.assert_allclose(
        np.asarray(HM.spectrum_per_fission(x * MeV)) * MeV, hm_mix_ref(x), rtol=1e-12
    )
    # Huber's table: U235 at 2 MeV is 1.32 /MeV/fission; spectra fall steeply
    assert got[0, 0] == pytest.approx(1.32, abs=0.01)
    assert np.all(np.diff(got, axis=0) < 0)


def test_hm_nu_per_fission_above_1p8_mev():
    ref = quad(hm_mix_ref, 1.8, 10.0, epsrel=1e-12)[0]
    assert ref == pytest.approx(1.872, rel=1e-3)  # HM, default fission fractions
    per_fission = total(HM18, 1.8 * MeV) / rate_per_area(4.25 * u.GW, 72 * u.m)
    assert float(per_fission) == pytest.approx(ref, rel=1e-10)
    # e_match = 2 MeV: the extension replaces HM on 1.8–2 MeV (documented, < 1e-3)
    per_fission_default = total(HM, 1.8 * MeV) / rate_per_area(4.25 * u.GW, 72 * u.m)
    assert float(per_fission_default) == pytest.approx(1.872, rel=1.5e-3)


def test_fission_rate_and_mean_energy():
    assert float(HM.mean_energy_per_fission / MeV) == pytest.approx(205.33, abs=0.005)
    assert float(HM.fission_rate * u.s) == pytest.approx(1.2919e20, rel=1e-4)
    one_mw = ReactorFlux(1 * u.MW, 1 * u.m, spectrum="vogel-engel")
    assert float(one_mw.fission_rate * u.s) == pytest.approx(3.040e16, rel=1e-3)
    assert float(VE.fission_rate / (4000 * u.MW) * u.MW * u.s) == pytest.approx(3.0921e16)


# --- NUCLEUS at Chooz (two 4.25 GW_th cores at 72 m and 102 m) ----------------------------------

CHOOZ_FRACTIONS = [(2, 0.855, 3), (3, 0.372, 3), (4, 0.140, 3), (5, 0.046, 3), (6, 0.013, 3)]
CHOOZ_FRACTIONS += [(7, 0.0027, 4), (8, 0.0002, 4)]


@pytest.mark.parametrize("L_m, ref", [(72, 3.712e11), (102, 1.849e11)])
def test_chooz_flux_above_1p8_mev(L_m, ref):
    for e_match, tol in [(1.8 * MeV, 3e-4), (2.0 * MeV, 1e-3)]:
        flux = ReactorFlux(4.25 * u.GW, L_m * u.m, e_match=e_match)
        assert float(total(flux, 1.8 * MeV) / PER_CM2_S) == pytest.approx(ref, rel=tol)


def test_chooz_two_cores_and_spectral_fractions():
    both = ReactorFlux(4.25 * u.GW, jnp.array([72.0, 102.0]) * u.m, e_match=1.8 * MeV)
    assert float(total(both, 1.8 * MeV) / PER_CM2_S) == pytest.approx(5.56e11, rel=1e-3)
    # ≈ 6 ν̄/fission at all energies: 1.190e12 + 0.593e12 scaled by 6.064/6
    all_e = float(total(both, 0.0) / PER_CM2_S)
    assert all_e == pytest.approx(1.78e12 * 6.064 / 6.0, rel=2e-3)
    for flux, slack in [(HM18, 0.0), (HM, 1.5e-3)]:
        t18 = total(flux, 1.8 * MeV)
        for e, ref, digits in CHOOZ_FRACTIONS:
            frac = float(total(flux, e * MeV) / t18)
            assert abs(frac - ref) <= 0.5 * 10.0**-digits + slack * ref, (e, frac)


# --- Vogel–Engel benchmark (PRD 39 (1989) 3378; benchmark normalisation) -------------------------


def test_vogel_engel_benchmark():
    raw = quad(lambda x: np.exp(0.870 - 0.160 * x - 0.091 * x * x), 0, 10, epsrel=1e-13)[0]
    assert raw == pytest.approx(5.3236, rel=2e-5)
    assert VOGEL_ENGEL_RAW_INTEGRAL == pytest.approx(raw, rel=1e-12)
    assert float(total(VE, 0.0) / PER_CM2_S) == pytest.approx(6.044e11, rel=1e-3)
    per_fission = quad(lambda x: float(dphi(VE, x * MeV)) * MeV, 0, 10, epsrel=1e-12, epsabs=0)[
        0
    ] / float(VE.fission_rate / (4 * np.pi * (100 * u.m) ** 2))
    assert per_fission == pytest.approx(6.14102, rel=1e-9)
    assert float(ORACLE_FISSIONS_PER_ENERGY * u.MW * u.s) == pytest.approx(3.0921e16)


# --- low-energy extension ----------------------------------------------------------------------


@pytest.mark.parametrize("e_match_mev", [2.0, 1.8])
def test_low_energy_extension_is_c1(e_match_mev):
    flux = HM if e_match_mev == 2.0 else HM18
    xm, d = e_match_mev * MeV, 1e-12 * MeV

    def log_s(E):
        return jnp.log(flux.isotope_spectra(E))

    below, above = np.asarray(log_s(xm - d)), np.asarray(log_s(xm + d))
    np.testing.assert_allclose(np.exp(below), np.exp(above), rtol=1e-8)
    slope_lo = np.asarray(jax.jacfwd(log_s)(xm - d)) * MeV
    slope_hi = np.asarray(jax.jacfwd(log_s)(xm + d)) * MeV
    hm_slope = [np.polyval(np.polyder(HM_TABLE[i][::-1]), e_match_mev) for i in ORDER]
    np.testing.assert_allclose(slope_lo, slope_hi, rtol=1e-8)
    np.testing.assert_allclose(slope_lo, hm_slope, rtol=1e-8)
    np.testing.assert_allclose(np.exp(above) * MeV, [hm_ref(i, e_match_mev) for i in ORDER])


def test_low_energy_extension_totals_and_shape():
    iso = jax.jit(lambda E: HM.isotope_spectra(E))
    for j, name in enumerate(ORDER):
        tot = quad(lambda x, j=j: float(iso(x * MeV)[j]) * MeV, 0, 10, points=[2.0], epsrel=1e-12)[
            0
        ]
        assert tot == pytest.approx(TOTALS[name], rel=1e-8)
    mix = sum(FRAC[i] * TOTALS[i] for i in ORDER)
    assert mix == pytest.approx(6.064, rel=1e-12)
    per_fission = float(total(HM, 0.0) / rate_per_area(4.25 * u.GW, 72 * u.m))
    assert per_fission == pytest.approx(mix, rel=1e-10)
    # sane magnitudes on 0–2 MeV (the raw HM extrapolation reaches ~80 /MeV/fission at 0)
    x = np.linspace(0.0, 2.0, 41)
    s = np.asarray(iso(x * MeV)) * MeV
    assert np.all((s > 1.0) & (s < 5.0))
    assert hm_ref("U235", 0.0) > 50
    assert s[0, 0] == pytest.approx(6.14102 / 5.3236 * np.exp(0.870), rel=0.05)  # ≈ VE at 0


def test_e_match_validation():
    with pytest.raises(ValueError, match="e_match"):
        ReactorFlux(1 * u.GW, 1 * u.m, e_match=5 * MeV)


# --- folds -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["hm", "ve", "tab"])
@pytest.mark.parametrize("E_th_mev", [0.5, 3.0, 9.9])
def test_fold_matches_quad(name, E_th_mev):
    flux = {"hm": HM, "ve": VE, "tab": TAB}[name]
    E_th = E_th_mev * MeV
    f = sqrt_thr(E_th)
    kinks = _grid if name == "tab" else np.array([2 * MeV])  # tabulated: every knot is a kink
    pts = kinks[(kinks > E_th) & (kinks < 10 * MeV)]
    ref = quad(
        lambda E: float(f(E) * dphi(flux, E)), E_th, 10 * MeV, points=pts if pts.size else None,
        epsrel=1e-12, epsabs=0, limit=2000,
    )[0]  # fmt: skip
    assert float(fold_sqrt(flux, E_th)) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("flux", [HM, VE, TAB], ids=["hm", "ve", "tab"])
def test_fold_leibniz_and_beyond_support(flux):
    def f(E):
        return 1.0 + (E / MeV) ** 2

    g = jax.jit(jax.value_and_grad(lambda E_low: flux.fold(f, E_low)))
    for E_low in [0.7 * MeV, 3.0 * MeV, 9.0 * MeV]:
        _, grad = g(E_low)
        assert float(grad) == pytest.approx(-float(f(E_low) * dphi(flux, E_low)), rel=1e-6)
    for E_low in [10 * MeV, 15 * MeV]:
        val, grad = g(E_low)
        assert float(val) == 0.0 and float(grad) == 0.0
    assert float(total(flux, -1.0)) == pytest.approx(float(total(flux, 0.0)), rel=1e-14)


def test_fold_array_and_pytree_outputs():
    out = HM.fold(lambda E: {"a": jnp.stack([E, 2 * E]), "b": jnp.ones(())}, 3 * MeV)
    assert out["a"].shape == (2,)
    assert float(out["a"][1]) == pytest.approx(2 * float(out["a"][0]), rel=1e-14)
    assert float(out["b"]) == pytest.approx(float(total(HM, 3 * MeV)), rel=1e-12)


def test_fold_vmap_over_thresholds():
    lows = jnp.array([0.5, 1.0, 3.0, 12.0]) * MeV
    got = jax.vmap(lambda E: HM.total(E))(lows)
    ref = [float(total(HM, e)) for e in lows]
    np.testing.assert_allclose(got, ref, rtol=1e-13)


# --- tabulated ---------------------------------------------------------------------------------


@pytest.mark.parametrize("E_low_mev, tol", [(0.5, 3e-4), (3.0, 3e-4), (8.0, 2e-3)])
def test_tabulated_reproduces_reactor(E_low_mev, tol):
    # 401 log-spaced knots on 0.05–10 MeV: log-log interpolation error ~ (Δ ln E)² / 8 ×
    # |d² ln Φ / d(ln E)²|, largest in the steep tail
    E_low = E_low_mev * MeV
    assert float(fold_sqrt(TAB, E_low)) == pytest.approx(float(fold_sqrt(HM, E_low)), rel=tol)
    x = np.array([0.1, 1.0, 2.0, 5.0]) * MeV
    np.testing.assert_allclose(dphi(TAB, x), dphi(HM, x), rtol=tol)


def test_tabulated_power_law_is_exact():
    E = np.array([1.0, 2.0, 4.0, 8.0]) * MeV
    table = TabulatedFlux(E, 3.0 * (E / MeV) ** -2.5, flavour=1, antineutrino=False)
    # ∫_1^8 3 x^-2.5 · x dx (x = E/MeV) = 6 (1 − 8^-0.5)
    got = table.fold(lambda e: e / MeV, 0.0) / MeV
    assert float(got) == pytest.approx(6 * (1 - 8**-0.5), rel=1e-9)
    assert float(table.dphi_dE(3 * MeV)) == pytest.approx(3 * 3.0**-2.5, rel=1e-12)
    assert float(table.dphi_dE(0.5 * MeV)) == 0.0 and float(table.dphi_dE(9 * MeV)) == 0.0
    ref = quad(lambda x: np.sqrt(x - 3) * 3 * x**-2.5, 3, 8, epsrel=1e-13)[0]
    got = table.fold(lambda e: jnp.sqrt(jnp.maximum(e / MeV - 3, 0)), 3 * MeV) / MeV
    assert float(got) == pytest.approx(ref, rel=1e-8)  # threshold inside a factor-2 panel


# --- monochromatic and sums --------------------------------------------------------------------


def test_monochromatic():
    line = MonochromaticFlux(29.8 * MeV, 2.0, flavour=1)
    assert line.flavour == 1 and line.antineutrino is False
    assert float(line.fold(lambda E: E**2, 10 * MeV)) == pytest.approx(2.0 * (29.8 * MeV) ** 2)
    assert float(line.fold(lambda E: E**2, 30 * MeV)) == 0.0
    assert float(line.total(0.0)) == 2.0 and float(line.dphi_dE(29.8 * MeV)) == 0.0
    d_energy = jax.grad(lambda m: m.fold(lambda E: E**2, 0.0))(line).energy
    assert float(d_energy) == pytest.approx(2.0 * 2 * 29.8 * MeV)


def test_flux_sum_equals_multi_core_reactor():
    L = np.array([72.0, 102.0]) * u.m
    a, b = ReactorFlux(4.25 * u.GW, L[0]), ReactorFlux(3.0 * u.GW, L[1])
    both = ReactorFlux(jnp.array([4.25, 3.0]) * u.GW, L)
    s = a + b
    assert isinstance(s, FluxSum) and s.components() == (a, b)
    for E_th in [0.5 * MeV, 4.0 * MeV]:
        assert float(s.fold(sqrt_thr(E_th), E_th)) == pytest.approx(
            float(fold_sqrt(both, E_th)), rel=1e-12
        )
    x = np.array([1.0, 3.0]) * MeV
    np.testing.assert_allclose(s.dphi_dE(x), both.dphi_dE(x), rtol=1e-12)
    assert s.flavour == 0 and s.antineutrino is True


def test_flux_sum_flattens_and_keeps_flavours():
    line = MonochromaticFlux(29.8 * MeV, 1.0, flavour=1)
    s = sum([HM, VE, line])
    assert isinstance(s, FluxSum) and len((s + HM).components()) == 4
    assert [c.flavour for c in s.components()] == [0, 0, 1]
    with pytest.raises(ValueError, match="flavour"):
        s.flavour
    assert float(s.total(0.0)) == pytest.approx(float(HM.total() + VE.total() + 1.0))
    with pytest.raises(ValueError, match="components"):
        FluxSum(())


# --- gradients and dtypes ----------------------------------------------------------------------


def test_grad_wrt_power_and_distance():
    P, L, E_th = 4.0 * u.GW, 100 * u.m, 3.0 * MeV

    def f(P, L):
        return ReactorFlux(P, L).fold(sqrt_thr(E_th), E_th)

    val = f(P, L)
    dP, dL = jax.grad(f, argnums=(0, 1))(P, L)
    assert float(dP) == pytest.approx(float(val / P), rel=1e-12)
    assert float(dL) == pytest.approx(float(-2 * val / L), rel=1e-12)
    g = eqx.filter_grad(lambda fl: fl.total(1.8 * MeV))(HM)
    assert np.all(np.isfinite(g.fission_fractions)) and np.all(np.isfinite(g.e_max))
    # the tail flux grows with the e_max cutoff at the rate dΦ/dE(e_max)
    assert float(g.e_max) == pytest.approx(float(HM.dphi_dE(10 * MeV)), rel=1e-10)


def test_float32_spectrum():
    x = jnp.array([0.5, 2.0, 5.0], dtype=jnp.float32) * jnp.float32(MeV)
    s32 = HM.spectrum_per_fission(x)
    assert s32.dtype == jnp.float32
    np.testing.assert_allclose(s32, HM.spectrum_per_fission(np.asarray(x, float)), rtol=1e-5)


# --- properties --------------------------------------------------------------------------------

_ALL = (HM, VE, TAB)


@jax.jit
def _dphi_all(E):
    vals = jnp.stack([f.dphi_dE(E) for f in _ALL])
    grads = jnp.stack([jax.vmap(jax.grad(f.dphi_dE))(E) for f in _ALL])
    return vals, grads


@given(st.lists(st.floats(0.0, 20.0), min_size=8, max_size=8))
@settings(max_examples=25, deadline=None)
def test_dphi_nonnegative_and_finite(x):
    vals, grads = _dphi_all(jnp.asarray(x) * MeV)
    assert np.all(np.isfinite(vals)) and np.all(vals >= 0) and np.all(np.isfinite(grads))


def test_dphi_at_edges():
    E = jnp.array([-1.0, 0.0, 1.8, 2.0, 10.0, 10.000001, 1e3]) * MeV
    vals, grads = _dphi_all(E)
    assert np.all(np.isfinite(vals)) and np.all(np.isfinite(grads))
    assert np.all(vals[:2, [0, 5, 6]] == 0) and np.all(vals[:2, 1:5] > 0)


@given(st.floats(0.0, 12.0), st.floats(0.0, 12.0))
@settings(max_examples=25, deadline=None)
def test_total_non_increasing(a, b):
    lo, hi = sorted((a, b))
    t_lo, t_hi = float(total(HM, lo * MeV)), float(total(HM, hi * MeV))
    assert t_lo >= t_hi * (1 - 1e-13) and t_hi >= 0


# --- validation --------------------------------------------------------------------------------

BAD = [
    (lambda: ReactorFlux(-1 * u.GW, 1 * u.m), "thermal_power"),
    (lambda: ReactorFlux(np.nan, 1 * u.m), "thermal_power"),
    (lambda: ReactorFlux(1 * u.GW, 0.0), "distance"),
    (lambda: ReactorFlux(1 * u.GW, np.inf), "distance"),
    (lambda: ReactorFlux(jnp.ones(2), jnp.ones(3)), "thermal_power and distance"),
    (lambda: ReactorFlux(1 * u.GW, 1 * u.m, fission_fractions=(0.5, 0.1, 0.3, 0.06)), "sum"),
    (lambda: ReactorFlux(1 * u.GW, 1 * u.m, fission_fractions=(1.2, -0.2, 0, 0)), "fractions"),
    (lambda: ReactorFlux(1 * u.GW, 1 * u.m, fission_fractions=(1.0, 0.0)), "fission_fractions"),
    (lambda: ReactorFlux(1 * u.GW, 1 * u.m, energies_per_fission=(0, 1, 1, 1)), "energies_per"),
    (lambda: ReactorFlux(1 * u.GW, 1 * u.m, spectrum="ill"), "spectrum"),
    (lambda: ReactorFlux(1 * u.GW, 1 * u.m, e_max=-1.0), "e_max"),
    (lambda: ReactorFlux(1 * u.GW, 1 * u.m, flavour=3), "flavour"),
    (lambda: ReactorFlux(1 * u.GW, 1 * u.m, n_energy=0), "n_energy"),
    (lambda: ReactorFlux(1 * u.GW, 1 * u.m, fissions_per_energy=-1.0), "fissions_per_energy"),
    (lambda: TabulatedFlux([1.0], [1.0]), "energies"),
    (lambda: TabulatedFlux([1.0, 2.0], [1.0, 1.0, 1.0]), "dphi_dE"),
    (lambda: TabulatedFlux([2.0, 1.0], [1.0, 1.0]), "energies"),
    (lambda: TabulatedFlux([1.0, 1.0], [1.0, 1.0]), "energies"),
    (lambda: TabulatedFlux([-1.0, 1.0], [1.0, 1.0]), "energies"),
    (lambda: TabulatedFlux([1.0, 2.0], [0.0, 1.0]), "dphi_dE"),
    (lambda: TabulatedFlux([1.0, 2.0], [np.nan, 1.0]), "dphi_dE"),
    (lambda: TabulatedFlux([1.0, 2.0], [1.0, 1.0], flavour=-1), "flavour"),
    (lambda: MonochromaticFlux(-1.0, 1.0), "energy"),
    (lambda: MonochromaticFlux(1.0, -1.0), "flux"),
    (lambda: MonochromaticFlux(1.0, 1.0, flavour=True), "flavour"),
]


@pytest.mark.parametrize("make, name", BAD)
def test_validation_errors(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_construction_under_jit_skips_checks():
    # traced values cannot be checked; construction inside jit must still work
    val = jax.jit(lambda P: ReactorFlux(P, 100 * u.m).total())(4 * u.GW)
    assert float(val) == pytest.approx(float(ReactorFlux(4 * u.GW, 100 * u.m).total()))
