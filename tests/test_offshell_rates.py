"""Radiative events from the full 2 -> 3 matrix element at an experiment (Monte Carlo).

References: the narrow-width chain (jd.radiative_events, jd.photon_energy_spectrum) in the
on-shell regime; exact coupling scaling (μ⁴, flavour sums) and the analytic gradient in the
off-shell regime; continuity in m_N across the flux end point; the scatter over seeds for the
quoted errors.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdipole as jd
from jaxdipole.experiment import Experiment
from jaxdipole.flux import Flux
from jaxdipole.offshell_rates import radiative_events_mc

u = jd.units
#: Prompt, single-nucleus NUCLEUS-like detector at Chooz (reactor end point 10 MeV).
EXP = Experiment(jd.nucleus("W184"), 1 * u.kg, 1 * u.year, jd.experiments.chooz_flux(),
                 20 * u.eV, None, recoil_max=1 * u.keV)  # fmt: skip
#: E_γ bins covering the photon window [100 keV, 10 MeV].
E_EDGES = jnp.asarray([0.1, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 10.0]) * 1e-3
N_POINTS = 2**15


def mdl(m, mu=None, nature="dirac"):
    return jd.DipoleModel(m_N=m, mu=1e-9 if mu is None else mu, nature=nature)


def mc(model, exp=EXP, **kw):
    """One shared static configuration (Halton, 2^15 points, E_γ histogram): compiled once."""
    kw.setdefault("e_edges", E_EDGES)
    return radiative_events_mc(model, exp, n_points=N_POINTS, **kw)


_nw_spectrum = jax.jit(lambda md: jd.photon_energy_spectrum(md, EXP, E_EDGES))


# ------------------------------------------------------------------------- on-shell regime
def test_on_shell_matches_narrow_width_chain():
    # physical width (Γ/m ~ 1e-24): the 2 -> 3 rate is the on-shell chain with prompt decays
    mod = mdl(4e-3)
    r = mc(mod)
    want = float(jd.radiative_events(mod, EXP))
    ev, err = float(r.events), float(r.error)
    assert want > 0.1
    assert abs(ev / want - 1) < 0.01 and abs(ev - want) < 3 * err
    assert err / ev < 0.01
    # the bins cover the photon window: they hold every event
    assert r.hist is not None and r.hist_error is not None
    assert float(jnp.sum(r.hist)) == pytest.approx(ev, rel=1e-12)
    # E_γ spectrum (the angular window is the whole sphere here)
    h, he = np.asarray(r.hist[:, 0]), np.asarray(r.hist_error[:, 0])
    nw = np.asarray(_nw_spectrum(mod))
    pulls = (h - nw) / he
    assert np.all(np.abs(pulls) < 3.0), pulls
    big = nw > 0.05 * want  # the bins with most of the events: within 2 %
    assert np.all(np.abs(h[big] / nw[big] - 1) < 0.02), h / nw - 1
    # power of the comparison: the Majorana spectrum (same total) is harder by many errors
    alt = np.asarray(_nw_spectrum(mdl(4e-3, nature="majorana")))
    assert np.max(np.abs((h - alt) / he)) > 10.0


def test_on_shell_multi_species_windows_and_efficiencies():
    # 18 isotopes (CaWO4 + Al2O3), Majorana N, resolution, efficiencies, photon energy and
    # angular windows: every ingredient of the experiment against the narrow-width chain
    exp = jd.experiments.nucleus_phase1(
        decay_length=None, resolution=5 * u.eV, efficiency=0.8, photon_efficiency=0.7,
        photon_energy_min=0.5 * u.MeV, photon_cos_min=-0.5, photon_cos_max=0.9,
    )  # fmt: skip
    assert len(exp.target.nuclei) == 18 and exp.smeared
    mod = mdl(3e-3, nature="majorana")
    r = radiative_events_mc(mod, exp, n_points=N_POINTS)
    want = float(jd.radiative_events(mod, exp))
    ev, err = float(r.events), float(r.error)
    assert abs(ev / want - 1) < 0.015 and abs(ev - want) < 3 * err


# ------------------------------------------------------------------------ off-shell regime
def test_off_shell_rate_scales_as_mu4():
    # m_N = 12 MeV above the 10 MeV reactor end point: no on-shell N, the narrow-width rate is
    # exactly 0; the off-shell N gives a finite rate ∝ μ_e² Σ_β μ_β²
    mod = mdl(12e-3)
    assert float(jd.radiative_events(mod, EXP)) == 0.0
    r = mc(mod)
    ev, err = float(r.events), float(r.error)
    assert np.isfinite(ev) and ev > 0 and err < 0.02 * ev
    assert 1e-29 < ev < 1e-25  # ~1.1e-27 events/(kg yr) at μ = 1e-9 GeV^-1
    # same points at 2μ: ×16 (the width enters as (Γ/m)² ~ 1e-47)
    assert float(mc(mdl(12e-3, mu=2e-9)).events) / ev == pytest.approx(16.0, rel=1e-6)
    # a μ_μ equal to μ_e doubles Σ_β μ_β² (outgoing ν_μ); without μ_e no ν̄_e is absorbed
    assert float(mc(mdl(12e-3, mu=(1e-9, 1e-9, 0.0))).events) / ev == pytest.approx(2.0, rel=1e-6)
    assert float(mc(mdl(12e-3, mu=(0.0, 1e-9, 0.0))).events) == 0.0


def test_gradient_in_the_coupling():
    # d events / d μ_e = 4 events / μ_e (same points; reverse mode through lax.map)
    def f(mu_e):
        return radiative_events_mc(mdl(12e-3, mu=mu_e), EXP, n_points=2**12, batch_size=2**11)

    val, grad = jax.value_and_grad(lambda m: f(m).events)(1e-9)
    assert float(val) > 0
    assert float(grad) == pytest.approx(4.0 * float(val) / 1e-9, rel=1e-6)


def test_continuity_across_the_end_point():
    # m_N from 9.8 to 10.2 MeV: the on-shell (narrow-width) part vanishes at the 10 MeV end
    # point, the off-shell part (∝ μ⁴) goes on. Large couplings make the off-shell part visible
    # next to the on-shell one (∝ μ²).
    masses = np.arange(9.8, 10.21, 0.05) * 1e-3
    below = masses < 9.99e-3

    def scan(mu):
        res = [mc(mdl(m, mu=mu)) for m in masses]
        nw = [float(jd.radiative_events(mdl(m, mu=mu), EXP)) for m in masses]
        return (np.array([float(r.events) for r in res]), np.array([float(r.error) for r in res]),
                np.array(nw))  # fmt: skip

    # Γ/m = 2e-5: the remainder MC − narrow width is the off-shell part, smooth across the end
    # point (a quadratic in m_N within the errors) though the narrow-width part has a kink there
    ev, err, nw = scan(3.0)
    assert np.all(nw[below] > 0.2 * ev[below]) and np.all(nw[~below] == 0)
    rest = ev - nw
    x = (masses - 10e-3) / 1e-3
    fit = np.polyval(np.polyfit(x, rest, 2, w=1 / err), x)
    assert np.all(np.abs(rest - fit) < 3 * err), (rest - fit) / err
    assert np.all(np.abs(rest / fit - 1) < 0.05)
    off_shell = rest / 3.0**4  # [events / GeV^-4]
    # Γ/m = 2e-3: the rate itself is smooth; each value within errors of its neighbours' mean
    ev30, err30, _ = scan(30.0)
    assert np.all(np.diff(ev30) < 3 * np.hypot(err30[1:], err30[:-1]))  # decreasing
    mid = np.sqrt(ev30[:-2] * ev30[2:])
    assert np.all(np.abs(ev30[1:-1] - mid) < 3 * err30[1:-1])
    # above the end point the rate is the off-shell one, ∝ μ⁴ also at μ = 30 GeV^-1
    np.testing.assert_allclose(ev30[~below] / 30.0**4, off_shell[~below], rtol=1e-3)


# ------------------------------------------------------------------------------ the errors
@pytest.mark.parametrize("m", [4e-3, 12e-3])
def test_quoted_error_matches_the_scatter_over_seeds(m):
    # random sampler: the per-point error estimate against 12 independent runs
    mod = mdl(m)
    runs = [
        radiative_events_mc(mod, EXP, n_points=2**12, sampler="random", key=jax.random.key(s))
        for s in range(12)
    ]
    ev = np.array([float(r.events) for r in runs])
    err = np.array([float(r.error) for r in runs])
    ratio = np.std(ev, ddof=1) / np.mean(err)
    assert 0.6 < ratio < 1.5, ratio  # χ²_11 / 11 in [0.36, 2.25] at 0.999 probability
    if m < 10e-3:
        want = float(jd.radiative_events(mod, EXP))
        assert abs(np.mean(ev) - want) < 3 * np.mean(err) / np.sqrt(12)


# ------------------------------------------------------------------------------- bad input
def test_bad_input():
    mod = mdl(4e-3)
    with pytest.raises(ValueError, match="decay_length"):
        radiative_events_mc(mod, EXP.with_(decay_length=10 * u.cm))
    with pytest.raises(ValueError, match="sampler"):
        radiative_events_mc(mod, EXP, sampler="sobol")
    with pytest.raises(ValueError, match="e_edges"):
        radiative_events_mc(mod, EXP, e_edges=jnp.asarray([2e-3, 1e-3]))
    with pytest.raises(ValueError, match="needs e_edges"):
        radiative_events_mc(mod, EXP, cos_edges=jnp.asarray([-1.0, 1.0]))

    class Custom(Flux):
        flavour: int = 0
        antineutrino: bool = True

        def dphi_dE(self, E):
            return jnp.ones_like(E)

        def fold(self, fn, E_low=0.0):
            return fn(jnp.asarray(5e-3))

    with pytest.raises(ValueError, match="not supported"):
        radiative_events_mc(mod, EXP.with_(flux=Custom()))
