"""Recoil kinematics against brute-force mpmath solutions and limits."""

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxdipole.kinematics import (
    log_recoil_ratio,
    min_neutrino_energy,
    n_kinematics,
    recoil_range,
    threshold_energy,
)

mp.mp.dps = 60


def _mp_range(E, m, M):
    """E_R extremes by brute force: CM-frame two-body kinematics in 60-digit arithmetic."""
    E, m, M = mp.mpf(E), mp.mpf(m), mp.mpf(M)
    s = M * M + 2 * M * E
    sq = mp.sqrt(s)
    p_in = (s - M * M) / (2 * sq)
    lam = (s - (m + M) ** 2) * (s - (m - M) ** 2)
    p_out = mp.sqrt(lam) / (2 * sq)
    EA_in = (s + M * M) / (2 * sq)
    EA_out = (s + M * M - m * m) / (2 * sq)
    res = []
    for cos in (1, -1):  # forward N: smallest recoil
        t = 2 * M * M - 2 * (EA_in * EA_out - p_in * p_out * cos)
        res.append(-t / (2 * M))
    return float(res[0]), float(res[1])


CASES = [
    (8e-3, 4e-3, 37.214716),  # Ca40, m = 4 MeV, E = 8 MeV
    (5e-3, 1e-6, 171.311835),  # m = 1 keV on W: the b - r cancellation case
    (50e-3, 1e-8, 171.311835),  # m = 10 eV, E = 50 MeV: (b - r) would lose all digits
    (3e-3, 1e-3, 68.840846),
    (10e-3, 9.99e-3, 14.8950827),  # close to threshold
    (1.0, 0.1, 0.93827),  # light target, relativistic recoil
]


@pytest.mark.parametrize("E, m, M", CASES)
def test_recoil_range_vs_mpmath(E, m, M):
    lo, hi = recoil_range(E, m, M)
    lo_ref, hi_ref = _mp_range(E, m, M)
    assert float(lo) == pytest.approx(lo_ref, rel=1e-12)
    assert float(hi) == pytest.approx(hi_ref, rel=1e-12)
    ratio = float(mp.log(mp.mpf(hi_ref) / mp.mpf(lo_ref)))
    assert float(log_recoil_ratio(E, m, M)) == pytest.approx(ratio, rel=1e-12)


def test_ca40_example_range():
    # Ca40, m = 4 MeV, E = 8 MeV: E_R in [15.44 eV, 2.99 keV] (60-digit mpmath reference)
    lo, hi = recoil_range(8e-3, 4e-3, 37.214716)
    assert float(lo) == pytest.approx(15.43e-9, rel=1e-3)
    assert float(hi) == pytest.approx(2.9927e-6, rel=1e-4)


def test_high_energy_limits():
    E, m, M = 5e-3, 1e-7, 68.84
    lo, hi = recoil_range(E, m, M)
    assert float(hi) == pytest.approx(2 * E**2 / (M + 2 * E), rel=1e-9)
    assert float(lo) == pytest.approx(m**4 / (8 * E**2 * M), rel=1e-6)


def test_threshold_and_below():
    m, M = 5e-3, 68.840846
    Eth = float(threshold_energy(m, M))
    assert Eth == pytest.approx(m + m * m / (2 * M), rel=1e-15)
    lo, hi = recoil_range(0.999 * Eth, m, M)
    assert float(lo) == 0.0 and float(hi) == 0.0
    lo, hi = recoil_range(Eth * (1 + 1e-9), m, M)
    # both limits merge at b/(2s) at threshold
    b = 2 * Eth**2 * M - (Eth + M) * m * m
    s = M * (M + 2 * Eth)
    assert float(lo) == pytest.approx(b / (2 * s), rel=1e-3)
    assert float(hi) == pytest.approx(b / (2 * s), rel=1e-3)
    assert float(lo) <= float(hi)


def test_gradients_finite_around_threshold():
    m, M = 5e-3, 68.840846
    Eth = float(threshold_energy(m, M))
    Es = jnp.asarray([0.5 * Eth, 0.999999 * Eth, Eth, 1.000001 * Eth, 2 * Eth])
    for f in (
        lambda E: recoil_range(E, m, M)[0],
        lambda E: recoil_range(E, m, M)[1],
        lambda E: log_recoil_ratio(E, m, M),
    ):
        g = jax.vmap(jax.grad(f))(Es)
        assert np.all(np.isfinite(np.asarray(g)))
        gm = jax.vmap(jax.grad(lambda mm, E: recoil_range(E, mm, M)[0]), (None, 0))(m, Es)
        assert np.all(np.isfinite(np.asarray(gm)))


def test_min_neutrino_energy_inverts_range():
    m, M = 4e-3, 37.214716
    for E in (4.1e-3, 6e-3, 8e-3, 30e-3):
        lo, hi = recoil_range(E, m, M)
        assert float(min_neutrino_energy(lo, m, M)) == pytest.approx(E, rel=1e-9)
        assert float(min_neutrino_energy(hi, m, M)) == pytest.approx(E, rel=1e-9)
    # m = 0: CEvNS formula
    T = 10e-9
    assert float(min_neutrino_energy(T, 0.0, M)) == pytest.approx(
        (T + np.sqrt(T * T + 2 * M * T)) / 2, rel=1e-14
    )


def test_n_kinematics_conservation():
    E, m, M = 8e-3, 4e-3, 37.214716
    lo, hi = recoil_range(E, m, M)
    T = float(jnp.sqrt(lo * hi))
    E_N, k, cos = n_kinematics(E, T, m, M)
    p_R = np.sqrt(T * (T + 2 * M))
    # momentum conservation: p_nu = k_N + p_R; |p_R|^2 = E^2 + k^2 - 2 E k cos
    assert p_R**2 == pytest.approx(E**2 + float(k) ** 2 - 2 * E * float(k) * float(cos), rel=1e-10)
    assert float(E_N) ** 2 - float(k) ** 2 == pytest.approx(m * m, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    st.floats(1e-4, 0.1),  # E [GeV]
    st.floats(1e-6, 0.999),  # m / E
    st.sampled_from([14.895, 37.2147, 68.8408, 171.3118]),
)
def test_range_ordered_property(E, x, M):
    m = x * E
    lo, hi = recoil_range(E, m, M)
    lo, hi = float(lo), float(hi)
    assert np.isfinite(lo) and np.isfinite(hi)
    assert 0.0 <= lo <= hi
    if E > float(threshold_energy(m, M)) * (1 + 1e-6):
        assert lo > 0 and hi > lo
