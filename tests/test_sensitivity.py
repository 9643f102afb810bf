"""Sensitivity curves: the limits reproduce the required event counts when the rates are
re-evaluated at μ_90, the μ scaling laws (Primakoff ∝ μ², radiative long-lived ∝ μ⁴, prompt
∝ μ² BR), and implicit derivatives."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import norm

import jaxdipole as jd
from jaxdipole import rates
from jaxdipole.experiment import Experiment
from jaxdipole.sensitivity import primakoff_reach, radiative_reach, recoil_edges, scale_couplings

u = jd.units
MU_REF = 1e-9 * u.mu_B
# One W184 detector at Chooz (single nucleus: fast to compile), NUCLEUS-like window/background.
EXP = Experiment(
    jd.nucleus("W184"), 100 * u.g, 1 * u.year, jd.experiments.chooz_flux(), 20 * u.eV,
    10 * u.cm, recoil_max=1 * u.keV, background=100 / (u.kg * u.day * u.keV),
)  # fmt: skip
FAST = {"precise": False, "n_recoil": 8}


def model(m=5 * u.MeV, nature="dirac", **kw):
    return jd.DipoleModel(m_N=m, mu=(MU_REF, 0.0, 0.0), nature=nature, **kw)


def deviance(n, nu):
    n, nu = np.asarray(n, float), np.asarray(nu, float)
    log_term = np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0) / nu), 0.0)
    return 2.0 * np.sum(nu - n + log_term)


@eqx.filter_jit
def _prim(md, exp, n_bins, include_cevns):
    return primakoff_reach(md, exp, edges=n_bins, include_cevns=include_cevns)


@eqx.filter_jit
def _rad(md, exp):
    return radiative_reach(md, exp, **FAST)


def test_primakoff_counting_zero_background_is_2p303_events():
    exp = EXP.with_(background=0.0)
    mu90 = float(_prim(model(), exp, None, False))
    n90 = float(rates.primakoff_events(jd.DipoleModel(5 * u.MeV, (mu90, 0.0, 0.0)), exp))
    assert n90 == pytest.approx(-np.log(0.1), rel=1e-9)
    n_ref = float(rates.primakoff_events(model(), exp))
    assert mu90 == pytest.approx(MU_REF * np.sqrt(-np.log(0.1) / n_ref), rel=1e-9)


def test_primakoff_binned_limit_solves_asimov_deviance():
    mu90 = float(_prim(model(), EXP, 12, True))
    edges = recoil_edges(EXP, 12)
    # Rates re-evaluated at the limit (not rescaled), background = flat + SM CEvNS.
    s = np.asarray(rates.recoil_binned(jd.DipoleModel(5 * u.MeV, (mu90, 0.0, 0.0)), EXP, edges))
    b = np.asarray(rates.background_binned(EXP, edges) + rates.cevns_binned(EXP, edges))
    z = norm.ppf(0.9)
    assert deviance(b, b + s) == pytest.approx(z**2, rel=1e-7)
    assert s.sum() > -np.log(0.1)  # above the zero-background floor here
    # More background (no CEvNS removal) -> weaker limit; a coupling pattern scale is irrelevant.
    assert float(_prim(model(), EXP, 12, True)) > float(_prim(model(), EXP, 12, False))
    scaled = scale_couplings(model(), 7.0)
    assert float(_prim(scaled, EXP, 12, True)) == pytest.approx(mu90, rel=1e-10)


def test_radiative_limit_long_lived_is_fourth_root():
    md = model()
    mu90 = float(_rad(md, EXP))
    n_ref = float(jd.radiative_events(md, EXP, **FAST))
    # N long-lived (cτ ~ 5 km ≫ 10 cm at the limit): N ∝ μ⁴ up to O(L/λ) ~ 1e-5.
    assert mu90 == pytest.approx(MU_REF * (-np.log(0.1) / n_ref) ** 0.25, rel=1e-4)
    n90 = float(jd.radiative_events(scale_couplings(md, mu90 / MU_REF), EXP, **FAST))
    assert n90 == pytest.approx(-np.log(0.1), rel=1e-9)


def test_radiative_limit_prompt_is_square_root_and_transition_solved():
    md = model()
    prompt = EXP.with_(decay_length=None)
    mu90 = float(_rad(md, prompt))
    n_ref = float(jd.radiative_events(md, prompt, **FAST))
    assert mu90 == pytest.approx(MU_REF * np.sqrt(-np.log(0.1) / n_ref), rel=1e-9)
    # A 10 MeV-class N with a decay region comparable to its decay length at the limit.
    heavy = model(8 * u.MeV)
    far = EXP.with_(decay_length=100 * u.m, target_mass=0.3 * u.g)
    mu_far = float(_rad(heavy, far))
    k = mu_far / MU_REF
    n90 = float(jd.radiative_events(scale_couplings(heavy, k), far, **FAST))
    assert n90 == pytest.approx(-np.log(0.1), rel=1e-8)

    # genuinely in the transition: the local power d ln N / d ln μ is strictly between 2 and 4
    def logn(t):
        return jnp.log(jd.radiative_events(scale_couplings(heavy, jnp.exp(t)), far, **FAST))

    slope = float(jax.grad(logn)(jnp.log(k)))
    assert 2.2 < slope < 3.8


def test_sterile_to_sterile_limit_and_beyond_kinematic_reach():
    md = model(5 * u.MeV, m_N_prime=2.5 * u.MeV, mu_prime=MU_REF)
    mu90 = float(_rad(md, EXP))
    n90 = float(jd.radiative_events(scale_couplings(md, mu90 / MU_REF), EXP, **FAST))
    assert n90 == pytest.approx(-np.log(0.1), rel=1e-8)
    # Beyond the reactor end point no N is produced: inf, and no NaN in gradients.
    heavy = model(30 * u.MeV)
    assert np.isinf(float(_rad(heavy, EXP)))
    assert np.isinf(float(_prim(heavy, EXP, 12, True)))
    g = jax.grad(lambda thr: _prim(heavy, EXP.with_(recoil_threshold=thr), 12, True))(20 * u.eV)
    assert np.isfinite(float(g))
    g = jax.grad(lambda thr: _rad(heavy, EXP.with_(recoil_threshold=thr)))(20 * u.eV)
    assert np.isfinite(float(g))


@pytest.mark.parametrize("mode", ["primakoff", "radiative"])
def test_threshold_derivative_matches_finite_differences(mode):
    def f(thr):
        exp = EXP.with_(recoil_threshold=thr)
        if mode == "primakoff":
            return primakoff_reach(model(), exp, edges=6)
        return radiative_reach(model(), exp, **FAST)

    f = jax.jit(f)
    x = 30 * u.eV
    g = float(jax.grad(f)(x))
    h = 1e-3 * x
    fd = (float(f(x + h)) - float(f(x - h))) / (2 * h)
    assert np.isfinite(g) and g > 0  # a higher threshold loses signal
    assert g == pytest.approx(fd, rel=1e-5)


def test_recoil_edges_validation():
    with pytest.raises(ValueError, match="recoil_max"):
        recoil_edges(EXP.with_(recoil_max=jnp.inf, background=0.0))
    with pytest.raises(ValueError, match="edges"):
        recoil_edges(EXP, 0)
    with pytest.raises(ValueError, match="fractions"):
        recoil_edges(EXP, jnp.array([0.0, 0.7, 0.5]))
    e = recoil_edges(EXP, jnp.array([0.0, 0.5, 1.0]))
    assert np.allclose(e, [20 * u.eV, np.sqrt(20 * u.eV * u.keV), u.keV], rtol=1e-12)
    with pytest.raises(ValueError, match="flavour"):
        primakoff_reach(model(), EXP, flavour=3)


def test_combined_reach_of_split_detectors_equals_one_detector():
    from jaxdipole.sensitivity import combined_primakoff_reach

    one = float(_prim(model(), EXP, 6, True))
    half = EXP.with_(target_mass=EXP.target_mass / 2)
    two = float(eqx.filter_jit(combined_primakoff_reach)(model(), (half, half), edges=6))
    # Independent limit of the two halves: the half detector's bins (rates at MU_REF, s ∝ μ²),
    # both copies in one Asimov deviance solved by scipy, floored at 2.303 signal events.
    edges = recoil_edges(half, 6)
    s = np.asarray(rates.recoil_binned(model(), half, edges))
    b = np.asarray(rates.background_binned(half, edges) + rates.cevns_binned(half, edges))
    s2, b2 = np.tile(s, 2), np.tile(b, 2)
    z = norm.ppf(0.9)
    x = brentq(lambda x: deviance(b2, b2 + x * s2) - z**2, 1e-12, 1e12, xtol=1e-300, rtol=1e-14)
    x = max(x, -np.log(0.1) / s2.sum())
    assert two == pytest.approx(MU_REF * np.sqrt(x), rel=1e-9)
    # every bin's deviance adds up to the full detector's: the same limit
    assert one == pytest.approx(MU_REF * np.sqrt(x), rel=1e-9)
    with pytest.raises(ValueError, match="exps"):
        combined_primakoff_reach(model(), ())


def test_radiative_reach_narrow_width_is_inf_off_shell():
    """Above the reactor end point no N is produced on shell: the narrow-width reach is inf
    (the full-amplitude reach there: test_reach_curves_extend_off_shell_with_the_full_amplitude)."""
    prompt = EXP.with_(decay_length=None)
    md = model(12 * u.MeV)
    assert np.isinf(float(_rad(md, prompt)))
    with pytest.raises(ValueError, match="method"):
        radiative_reach(md, prompt, method="exact")


def test_reach_curves_extend_off_shell_with_the_full_amplitude():
    """Off shell the full 2 -> 3 amplitude (radiative_reach(method="full"), called by
    reach_curves) still gives a (weak) limit; there the rate is ∝ μ⁴ exactly."""
    m = np.array([5.0, 12.0]) * u.MeV
    curves = jd.reach.reach_curves(EXP, m, scenarios=["radiative_dirac", "offshell_dirac"])
    assert np.isfinite(curves["radiative_dirac"][0]) and np.isinf(curves["radiative_dirac"][1])
    assert np.isinf(curves["offshell_dirac"][0])  # on shell: the narrow-width curve applies
    # the off-shell value is a root of the full-amplitude rate (reach_curves' Monte-Carlo
    # points), re-evaluated with a model built at that coupling: 2.303 events; and the μ⁴ law
    prompt, kw = EXP.with_(decay_length=None), {"n_points": 2**13, "batch_size": 2**13}
    mu90 = curves["offshell_dirac"][1]
    n90 = jd.radiative_events_mc(jd.DipoleModel(12 * u.MeV, (mu90, 0.0, 0.0)), prompt, **kw)
    assert float(n90.events) == pytest.approx(-np.log(0.1), rel=1e-9)
    n_ref = float(jd.radiative_events_mc(model(12 * u.MeV), prompt, **kw).events)
    assert mu90 == pytest.approx(MU_REF * (-np.log(0.1) / n_ref) ** 0.25, rel=1e-6)
    with pytest.raises(ValueError, match="scenarios"):
        jd.reach.reach_curves(EXP, m, scenarios=["nonsense"])


# --- which couplings a reach scales (scale=) ---------------------------------------------------


def sterile_model(mu_prime, m=2 * u.MeV, ratio=0.1):
    return model(m, m_N_prime=ratio * m, mu_prime=mu_prime)


@eqx.filter_jit
def _rad_scaled(md, exp, scale, channels="all"):
    return radiative_reach(md, exp, scale=scale, channels=channels, **FAST)


def test_fixed_mu_prime_reach_gives_2p303_sterile_photon_events():
    md = sterile_model(1e-5 * u.mu_B)  # N' γ decays dominate the width: partly prompt in 10 cm
    mu90 = float(_rad_scaled(md, EXP, "active", "sterile"))
    at_limit = jd.DipoleModel(md.m_N, (mu90, 0.0, 0.0), "dirac", md.m_N_prime, md.mu_prime)
    n90 = float(jd.radiative_events(at_limit, EXP, channels="sterile", **FAST))
    assert n90 == pytest.approx(-np.log(0.1), rel=1e-9)
    # μ_NN' held fixed: the limit differs from the one with both moments scaled together
    both = float(_rad_scaled(md, EXP, "all", "sterile"))
    assert abs(both / mu90 - 1) > 0.5


def test_default_and_callable_scalings_solve_their_own_coupling_families():
    """The default scales μ_e and μ_NN' together, a callable scales its own family: each limit
    gives 2.303 photon events in a model built by hand at the limit (and the 'active' family,
    μ_NN' kept, would not -- so the check tells the families apart)."""
    md = sterile_model(MU_REF)
    m, m_p = md.m_N, md.m_N_prime
    ln10 = -np.log(0.1)

    def events(mu_e, mu_p):
        built = jd.DipoleModel(m, (mu_e, 0.0, 0.0), "dirac", m_p, mu_p)
        return float(jd.radiative_events(built, EXP, **FAST))

    default = float(_rad(md, EXP))
    k = default / MU_REF
    assert events(default, k * MU_REF) == pytest.approx(ln10, rel=1e-9)
    assert abs(events(default, MU_REF) / ln10 - 1) > 1e-3
    # μ_NN' grows as k²: not one of the named scalings
    quad = float(_rad_scaled(md, EXP, lambda m, k: m.__class__(
        m.m_N, m.mu * k, m.nature, m.m_N_prime, m.mu_prime * k**2)))  # fmt: skip
    k = quad / MU_REF
    assert events(quad, k**2 * MU_REF) == pytest.approx(ln10, rel=1e-9)


def test_prompt_limit_is_primakoff_events_times_photon_efficiency():
    # prompt decays, every photon in the window: N_γ = ε_γ N_Primakoff whatever μ_NN' does
    exp = EXP.with_(decay_length=None, photon_energy_min=0.0, photon_efficiency=0.7)
    md = sterile_model(1e-6 * u.mu_B)
    mu90 = float(_rad_scaled(md, exp, "active", "all"))
    n_ref = float(rates.primakoff_events(md, exp))
    assert mu90 == pytest.approx(MU_REF * np.sqrt(-np.log(0.1) / (0.7 * n_ref)), rel=1e-9)


def test_long_lived_limit_scales_as_one_over_mu_prime():
    # N long-lived (decay length ~ 25 km ≫ 10 cm): N_γ ∝ μ_e² · L Γ_NN' ∝ μ_e² μ_NN'²
    mu_a = float(_rad_scaled(sterile_model(1e-8 * u.mu_B), EXP, "active", "sterile"))
    mu_b = float(_rad_scaled(sterile_model(2e-8 * u.mu_B), EXP, "active", "sterile"))
    assert mu_a / mu_b == pytest.approx(2.0, rel=1e-5)


def test_saturating_rate_gives_inf_and_fixed_couplings_alone_give_zero():
    # μ_NN' tiny: the N' γ branching ratio falls as μ_e grows, the rate saturates below 2.303
    md = sterile_model(1e-12 * u.mu_B)
    n_far = float(
        jd.radiative_events(
            scale_couplings(md, 1e8, scale="active"), EXP, channels="sterile", **FAST
        )
    )
    assert n_far < 0.1
    assert np.isinf(float(_rad_scaled(md, EXP, "active", "sterile")))
    g = jax.grad(lambda mp: _rad_scaled(sterile_model(mp), EXP, "active", "sterile"))(
        1e-12 * u.mu_B
    )
    assert float(g) == 0.0
    # a reactor has no ν_μ: scaling μ_μ changes nothing, so the limit is 0 when μ_e alone gives
    # more than 2.303 events and inf when it gives fewer
    two = jd.DipoleModel(2 * u.MeV, (1e-7 * u.mu_B, MU_REF, 0.0))
    assert float(_rad_scaled(two, EXP, 1)) == 0.0
    two = jd.DipoleModel(2 * u.MeV, (1e-12 * u.mu_B, MU_REF, 0.0))
    assert np.isinf(float(_rad_scaled(two, EXP, 1)))


def test_scale_validation():
    md = sterile_model(MU_REF)
    with pytest.raises(ValueError, match="scale"):
        radiative_reach(md, EXP, scale="sterile")
    with pytest.raises(ValueError, match="scale"):
        radiative_reach(md, EXP, scale=True)
    with pytest.raises(ValueError, match="flavour=0 with scale=1"):
        radiative_reach(md, EXP, scale=1, flavour=0)
    with pytest.raises(ValueError, match=r"mu\[1\] is 0"):
        radiative_reach(md, EXP, scale=1)


def test_fixed_mu_prime_reach_derivatives_match_finite_differences():
    # μ_NN', m_N'/m_N, the photon threshold and the decay length, in the partly prompt regime
    m = 2 * u.MeV

    def f(p):
        mp, ratio, e_min, length = p
        md = jd.DipoleModel(m, (MU_REF, 0.0, 0.0), "dirac", ratio * m, mp)
        exp = EXP.with_(photon_energy_min=e_min, decay_length=length)
        return radiative_reach(md, exp, scale="active", channels="sterile", **FAST)

    f = jax.jit(f)
    p0 = jnp.array([1e-5 * u.mu_B, 0.1, 400 * u.keV, 10 * u.cm])
    grad = np.asarray(jax.grad(f)(p0))
    for i in range(4):
        h = 1e-4 * p0[i]
        fd = (float(f(p0.at[i].add(h))) - float(f(p0.at[i].add(-h)))) / (2 * float(h))
        assert grad[i] == pytest.approx(fd, rel=2e-5), i
    assert grad[0] < 0 and grad[2] > 0  # a larger μ_NN' helps; a higher photon threshold hurts


def test_fixed_coupling_scenarios_names_labels_and_validation():
    name = jd.reach.fixed_name("mu_prime", 1e-5 * u.mu_B)
    assert name == "sterile_mu_prime_1e-05"
    label = jd.reach.scenario_label(name, 0.1)
    assert "1e-05 mu_B" in label and "0.1 m_N" in label
    assert jd.reach.valid_assumptions(name) == ("production",)
    assert "decay" in jd.reach.valid_assumptions("radiative_majorana")
    with pytest.raises(ValueError, match="scenario"):
        jd.reach.scenario_label("sterile_mu_prime_abc")
    with pytest.raises(ValueError, match="mu_prime"):
        jd.reach.reach_curves(EXP, [5 * u.MeV], scenarios=[], mu_prime=[-1.0])
    # the scenario equals radiative_reach with mu_NN' fixed, N' gamma photons only
    m = np.array([2.0]) * u.MeV
    curves = jd.reach.reach_curves(EXP, m, scenarios=["primakoff"], mu_prime=1e-5 * u.mu_B)
    assert list(curves) == ["primakoff", name]
    # its value: 2.303 N' γ photons with μ_e at the curve and μ_NN' at the fixed value
    at_limit = jd.DipoleModel(m[0], (curves[name][0], 0.0, 0.0), "dirac", 0.5 * m[0], 1e-5 * u.mu_B)
    n90 = float(jd.radiative_events(at_limit, EXP, channels="sterile", **FAST))
    assert n90 == pytest.approx(-np.log(0.1), rel=1e-9)
    won = jd.reach.beats(m, curves)[name]
    env = jd.limits.strongest_limit(m, "e", assumptions=("production",))
    expect = curves[name] < min(curves["primakoff"][0], env[0])
    assert won["mask"].tolist() == expect.tolist()


def test_primakoff_reach_scale_choices():
    with pytest.raises(ValueError, match="scale must be 'all' or 'active'"):
        primakoff_reach(model(), EXP, scale=1)
    with pytest.raises(ValueError, match="scale"):
        jd.sensitivity.combined_primakoff_reach(model(), (EXP,), scale=lambda m, k: m)
