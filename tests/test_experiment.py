"""Experiment parameter pytree (jaxdipole.experiment): construction, validation, presets."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdipole as jd
from jaxdipole import experiment as X
from jaxdipole import rates as R
from jaxdipole.experiment import Experiment
from jaxdipole.flux import MonochromaticFlux, ReactorFlux
from jaxdipole.nuclei import Material

u = jd.units
eV, keV, MeV = 1e-9, 1e-6, 1e-3
# formula units per gram from the standard atomic weights Ca 40.078, W 183.84, O 15.999,
# Al 26.9815 (IUPAC) and N_A
CAWO4_PER_G = 2.0916e21
AL2O3_PER_G = 5.9064e21
FLOAT_FIELDS = (
    "target_mass", "exposure", "recoil_threshold", "recoil_max",
    "efficiency", "photon_energy_min", "photon_energy_max", "photon_efficiency",
    "photon_cos_min", "photon_cos_max", "background",
)  # fmt: skip


def line():
    return MonochromaticFlux(8 * MeV, 1e12 / (u.cm2 * u.s))


def basic(**kw):
    args = dict(
        target=jd.material("CaWO4"), target_mass=10 * u.g, exposure=1 * u.year, flux=line(),
        recoil_threshold=20 * u.eV,
    )  # fmt: skip
    args.update(kw)
    return Experiment(**args)


def by_z(mat: Material, values, Z: int) -> float:
    return float(sum(v for v, n in zip(np.asarray(values), mat.nuclei, strict=True) if n.Z == Z))


# ============================================================ construction
def test_defaults_and_storage():
    exp = basic()
    assert isinstance(exp.target, Material) and exp.target.name == "CaWO4"
    assert exp.prompt and exp.decay_length is None and exp.decay_region() is None
    # built without a resolution: stored as None, σ = 0 where a value is needed
    assert not exp.smeared and exp.resolution is None and float(exp.resolution_sigma()) == 0.0
    for f in FLOAT_FIELDS:
        a = getattr(exp, f)
        assert a.shape == () and a.dtype == jnp.float64 and not a.weak_type, f
    assert float(exp.recoil_max) == math.inf
    assert float(exp.efficiency) == 1.0 and float(exp.photon_efficiency) == 1.0
    assert float(exp.photon_energy_min) == pytest.approx(100 * keV, rel=1e-15)
    assert float(exp.photon_energy_max) == math.inf
    assert (float(exp.photon_cos_min), float(exp.photon_cos_max)) == (-1.0, 1.0)
    assert float(exp.background) == 0.0 and exp.name == "experiment"
    finite = basic(decay_length=10 * u.cm)
    assert not finite.prompt
    assert float(finite.decay_length) / u.cm == pytest.approx(10.0, rel=1e-14)
    smeared = basic(resolution=3 * eV)
    for a in (finite.decay_length, smeared.resolution):
        assert a.shape == () and a.dtype == jnp.float64 and not a.weak_type
    assert smeared.smeared and float(smeared.resolution_sigma()) == pytest.approx(3 * eV)
    # a traced resolution (even 0) keeps the turn-on quadrature
    flags = []
    jax.vmap(lambda r: flags.append(basic(resolution=r).smeared) or r)(jnp.zeros(2))
    assert flags == [True]


def test_target_conversions():
    ge = jd.nucleus("Ge74")
    e1 = basic(target=ge)
    assert len(e1.target.nuclei) == 1 and e1.target.nuclei[0] is ge
    assert float(e1.target.mass_fractions[0]) == 1.0
    e2 = basic(target="Al2O3")
    assert e2.target.name == "Al2O3" and {n.Z for n in e2.target.nuclei} == {8, 13}
    mat = jd.material("Ge")
    assert basic(target=mat).target is mat


def test_background_units():
    b = 100 / (u.kg * u.day * u.keV)  # "100 counts/(kg day keV)" as documented
    exp = basic(background=b, recoil_max=1 * keV)
    assert float(exp.background) * u.kg * u.day * u.keV == pytest.approx(100.0, rel=1e-14)


def test_nuclei_counts_cawo4_and_al2o3():
    exp = basic()
    counts = exp.nuclei_counts
    n_mol = CAWO4_PER_G * 10  # 10 g
    assert by_z(exp.target, counts, 74) == pytest.approx(n_mol, rel=2e-4)
    assert by_z(exp.target, counts, 20) == pytest.approx(n_mol, rel=2e-4)
    assert by_z(exp.target, counts, 8) == pytest.approx(4 * n_mol, rel=2e-4)
    al = basic(target="Al2O3", target_mass=1 * u.g)
    assert by_z(al.target, al.nuclei_counts, 13) == pytest.approx(2 * AL2O3_PER_G, rel=2e-4)
    assert by_z(al.target, al.nuclei_counts, 8) == pytest.approx(3 * AL2O3_PER_G, rel=2e-4)
    assert float(exp.mass_exposure) / (u.kg * u.day) == pytest.approx(0.01 * 365.25, rel=1e-14)


# ============================================================ validation
BAD = [
    ({"target_mass": -1 * u.g}, "target_mass"),
    ({"target_mass": 0.0}, "target_mass"),
    ({"target_mass": float("nan")}, "target_mass"),
    ({"target_mass": float("inf")}, "target_mass"),
    ({"exposure": -1.0}, "exposure"),
    ({"recoil_threshold": -1 * eV}, "recoil_threshold"),
    ({"recoil_threshold": float("nan")}, "recoil_threshold"),
    ({"decay_length": -1 * u.cm}, "decay_length"),
    ({"decay_length": 0.0}, "decay_length"),
    ({"recoil_max": float("nan")}, "recoil_max"),
    ({"recoil_max": 10 * eV}, "recoil_threshold < recoil_max"),
    ({"resolution": -1 * eV}, "resolution"),
    ({"efficiency": 1.5}, "efficiency"),
    ({"efficiency": -0.1}, "efficiency"),
    ({"photon_efficiency": 2.0}, "photon_efficiency"),
    ({"photon_energy_min": -1.0}, "photon_energy_min"),
    ({"photon_energy_min": 2 * MeV, "photon_energy_max": 1 * MeV}, "photon_energy_min <"),
    ({"photon_cos_min": -1.5}, "photon_cos_min"),
    ({"photon_cos_max": 1.01}, "photon_cos_max"),
    ({"photon_cos_min": 0.5, "photon_cos_max": 0.2}, "photon_cos_min < photon_cos_max"),
    ({"background": -1.0}, "background"),
    ({"background": 1.0}, "finite recoil_max"),
    ({"target": 42}, "target"),
    ({"target": "unobtainium"}, "unobtainium"),
    ({"flux": 3.0}, "flux"),
    ({"recoil_threshold": jnp.array([1.0, 2.0]) * eV}, "scalar"),
]


@pytest.mark.parametrize("kw, match", BAD)
def test_bad_inputs_raise_valueerror_naming_argument(kw, match):
    with pytest.raises(ValueError, match=match):
        basic(**kw)


def test_with_and_tree_at():
    exp = basic(decay_length=10 * u.cm)
    e2 = exp.with_(recoil_threshold=10 * eV, resolution=2 * eV)
    assert float(e2.recoil_threshold) == pytest.approx(10 * eV) and not e2.prompt
    assert float(exp.recoil_threshold) == pytest.approx(20 * eV)  # original unchanged
    assert exp.with_(decay_length=None).prompt
    with pytest.raises(ValueError, match="efficiency"):
        exp.with_(efficiency=2.0)
    with pytest.raises(ValueError, match="unknown field"):
        exp.with_(threshold=1.0)
    e3 = eqx.tree_at(lambda e: e.exposure, exp, jnp.asarray(2 * u.year))
    assert float(e3.exposure) == pytest.approx(2 * u.year) and not e3.prompt


def test_pytree_jit_vmap_grad():
    exp = basic()

    @jax.jit
    def count_exposure(e):
        return jnp.sum(e.nuclei_counts) * e.exposure

    g = jax.grad(count_exposure)(exp)
    assert isinstance(g, Experiment)
    assert float(g.exposure) == pytest.approx(float(jnp.sum(exp.nuclei_counts)), rel=1e-14)
    assert float(g.recoil_threshold) == 0.0
    # constructing inside vmap (traced values are not validated)
    masses = jnp.array([1.0, 2.0, 4.0]) * u.g
    out = jax.vmap(lambda m: count_exposure(exp.with_(target_mass=m)))(masses)
    np.testing.assert_allclose(out / out[0], [1.0, 2.0, 4.0], rtol=1e-14)


# ============================================================ presets
def test_chooz_flux_numbers():
    f = X.chooz_flux()
    assert f.spectrum == "huber-mueller" and f.antineutrino and f.flavour == 0
    np.testing.assert_allclose(np.asarray(f.thermal_power) / u.GW, [4.25, 4.25], rtol=1e-14)
    np.testing.assert_allclose(np.asarray(f.distance) / u.m, [72.0, 102.0], rtol=1e-14)
    # 3.712e11 + 1.849e11 cm^-2 s^-1 above 1.8 MeV (independent integration of the HM spectra)
    tot = float(f.total(1.8 * MeV)) * u.cm2 * u.s
    assert tot == pytest.approx(3.712e11 + 1.849e11, rel=1e-3)
    assert X.chooz_flux(spectrum="vogel-engel").spectrum == "vogel-engel"


def test_nucleus_phase1_documented_numbers():
    e = X.nucleus_phase1()
    assert float(e.target_mass) / u.g == pytest.approx(11.25, rel=1e-14)
    assert float(e.exposure) / u.year == pytest.approx(1.0, rel=1e-14)
    assert float(e.recoil_threshold) / eV == pytest.approx(20.0, rel=1e-14)
    assert float(e.recoil_max) / keV == pytest.approx(1.0, rel=1e-14)
    assert float(e.background) * u.kg * u.day * u.keV == pytest.approx(100.0, rel=1e-14)
    assert not e.prompt and float(e.decay_length) / u.cm == pytest.approx(10.0, rel=1e-14)
    assert float(e.photon_energy_min) / keV == pytest.approx(100.0, rel=1e-14)
    assert (float(e.photon_cos_min), float(e.photon_cos_max)) == (-1.0, 1.0)
    assert isinstance(e.flux, ReactorFlux)
    np.testing.assert_allclose(np.asarray(e.flux.distance) / u.m, [72.0, 102.0], rtol=1e-14)
    # the mixture: 6.84 g CaWO4 + 4.41 g Al2O3
    n = e.nuclei_counts
    assert by_z(e.target, n, 74) == pytest.approx(6.84 * CAWO4_PER_G, rel=2e-4)
    assert by_z(e.target, n, 13) == pytest.approx(2 * 4.41 * AL2O3_PER_G, rel=2e-4)
    assert by_z(e.target, n, 8) == pytest.approx(
        4 * 6.84 * CAWO4_PER_G + 3 * 4.41 * AL2O3_PER_G, rel=2e-4
    )
    assert float(jnp.sum(e.target.mass_fractions)) == pytest.approx(1.0, abs=1e-14)
    o = X.nucleus_phase1(recoil_threshold=10 * eV, exposure=5 * u.year, background=0.0)
    assert float(o.recoil_threshold) / eV == pytest.approx(10.0)
    assert float(o.exposure) / u.year == pytest.approx(5.0) and float(o.background) == 0.0


def test_nucleus_upgrade_and_ge_reactor_numbers():
    up = X.nucleus_upgrade()
    assert float(up.target_mass) / u.kg == pytest.approx(1.0, rel=1e-14)
    np.testing.assert_allclose(
        up.target.mass_fractions, X.nucleus_phase1().target.mass_fractions, rtol=1e-14
    )
    ge = X.ge_reactor()
    assert [n.name for n in ge.target.nuclei] == ["Ge74"]
    assert float(ge.target_mass) / u.kg == pytest.approx(1.0, rel=1e-14)
    assert float(ge.recoil_threshold) / eV == pytest.approx(10.0, rel=1e-14)
    assert ge.prompt and float(ge.background) == 0.0
    assert ge.flux.spectrum == "vogel-engel"
    assert float(ge.flux.thermal_power) / u.GW == pytest.approx(4.0, rel=1e-14)
    assert float(ge.flux.distance) / u.m == pytest.approx(100.0, rel=1e-14)
    # 6.14102 ν̄/fission × 3.0921e16 /s/MW × 4000 MW / (4π (100 m)²) = 6.044e11 cm^-2 s^-1
    assert float(ge.flux.total()) * u.cm2 * u.s == pytest.approx(6.044e11, rel=1e-3)
    nat = X.ge_reactor(target="Ge")
    assert {n.A for n in nat.target.nuclei} == {70, 72, 73, 74, 76}


def test_preset_bad_overrides():
    with pytest.raises(ValueError, match="exposure"):
        X.nucleus_phase1(exposure=-1.0)
    with pytest.raises(ValueError, match="target"):
        X.nucleus_phase1_detectors(target="Ge")
    with pytest.raises(ValueError, match="recoil_threshold"):
        X.ge_reactor(recoil_threshold=-1.0)
    with pytest.raises(TypeError):
        X.nucleus_phase1(threshold=1.0)  # misspelt keyword


@jax.jit
def all_rates(model, exp):
    return R.primakoff_events(model, exp), R.cevns_events(exp), R.background_events(exp)


def test_presets_give_finite_positive_rates_and_mixture_is_additive():
    mod = jd.DipoleModel(m_N=5 * MeV, mu=1e-9 * u.mu_B)
    phase1 = X.nucleus_phase1()
    cawo4, al2o3 = X.nucleus_phase1_detectors()
    assert float(cawo4.target_mass) / u.g == pytest.approx(6.84, rel=1e-14)
    assert float(al2o3.target_mass) / u.g == pytest.approx(4.41, rel=1e-14)
    r_mix = [float(x) for x in all_rates(mod, phase1)]
    r_a = [float(x) for x in all_rates(mod, cawo4)]
    r_b = [float(x) for x in all_rates(mod, al2o3)]
    for mix, a, b in zip(r_mix, r_a, r_b, strict=True):
        assert np.isfinite(mix) and mix > 0 and a > 0 and b > 0
        assert mix == pytest.approx(a + b, rel=1e-10)  # one mixed Material == two detectors
    # background: 100 /(kg day keV) × 0.98 keV × 11.25 g × 365.25 d
    assert r_mix[2] == pytest.approx(100 * 0.98 * 0.01125 * 365.25, rel=1e-12)
    # the 1 kg upgrade: same composition and settings -> rates scale with the mass
    up = X.nucleus_upgrade().with_(name=phase1.name)  # same static structure: reuses the compile
    r_up = [float(x) for x in all_rates(mod, up)]
    for mix, big in zip(r_mix, r_up, strict=True):
        assert big == pytest.approx(mix * 1000 / 11.25, rel=1e-12)
    ge = [float(x) for x in all_rates(mod, X.ge_reactor())]
    assert all(np.isfinite(ge)) and ge[0] > 0 and ge[1] > 0 and ge[2] == 0.0
    # 10.61 CEvNS events /(kg day) (independent integration, see test_cevns) -> × 365.25 for the
    # 1-year default
    assert ge[1] / 365.25 == pytest.approx(10.61, rel=5e-3)


def test_static_flags_cannot_disagree_with_their_fields():
    # prompt and smeared are read off the fields (None without them): a decay length or a
    # resolution put in with tree_at switches the path with it, so the result is the one of the
    # experiment built with it -- not a prompt or unsmeared result that ignores the value
    model = jd.DipoleModel(5 * u.MeV, (1e-9, 0.0, 0.0))
    exp = jd.experiments.ge_reactor()
    edges = jnp.linspace(0.5 * u.MeV, 5 * u.MeV, 5)
    assert exp.prompt and exp.decay_region() is None
    none = {"is_leaf": lambda x: x is None}  # tree_at replaces a None field only with this
    smuggled = eqx.tree_at(lambda e: e.decay_length, exp, jnp.asarray(1 * u.m), **none)
    good = exp.with_(decay_length=1 * u.m)
    assert not smuggled.prompt and not good.prompt
    assert float(good.decay_region()) == pytest.approx(1 * u.m)
    spec = jax.jit(lambda e: jd.photon_energy_spectrum(model, e, edges))
    np.testing.assert_array_equal(np.asarray(spec(smuggled)), np.asarray(spec(good)))
    # back to prompt by tree_at (None): the prompt result
    back = eqx.tree_at(lambda e: e.decay_length, good, None, **none)
    assert back.prompt
    np.testing.assert_array_equal(np.asarray(spec(back)), np.asarray(spec(exp)))
    sm = eqx.tree_at(lambda e: e.resolution, exp, jnp.asarray(30 * u.eV), **none)
    assert sm.smeared and not exp.smeared
    np.testing.assert_array_equal(
        np.asarray(spec(sm)), np.asarray(spec(exp.with_(resolution=30 * u.eV)))
    )
    # part of the N decay beyond 1 m at 5 MeV and 1e-9 GeV^-1: fewer photons than prompt
    n_good = float(jnp.sum(jd.photon_energy_spectrum(model, good, edges)))
    n_prompt = float(jnp.sum(jd.photon_energy_spectrum(model, exp, edges)))
    assert 0.0 < n_good < n_prompt


def test_stacked_species_carry_only_their_own_fields():
    # the species of a target are folded together as one stacked pytree: names in order, no
    # single-species Z / A, every dynamic field and the Helm radius per species
    from jaxdipole.nuclei import SpeciesStack

    nuclei = jd.material("CaWO4").nuclei
    st = SpeciesStack.of(nuclei)
    assert st.names == tuple(n.name for n in nuclei)
    assert not hasattr(st, "Z") and not hasattr(st, "A")
    for i, n in enumerate(nuclei):
        assert float(st.charge[i]) == float(n.Z) and float(st.mass[i]) == float(n.mass)
        assert float(st.helm_rn[i]) == pytest.approx(float(n.helm_rn), rel=1e-15)
    with pytest.raises(ValueError, match="at least one"):
        SpeciesStack.of(())
