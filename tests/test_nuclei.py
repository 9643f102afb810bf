"""Tests for jaxdipole.nuclei: catalogue masses, abundances, materials, Helm form factor."""

import equinox as eqx
import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
from scipy.special import spherical_jn

from jaxdipole import nuclei
from jaxdipole.nuclei import (
    Material,
    Nucleus,
    as_material,
    form_factor,
    helm_form_factor,
    material,
    nucleus,
)

AMU_GEV = 0.93149410372  # CODATA 2022
HBARC_GEV_FM = 6.62607015e-34 / (2 * np.pi) * 299792458.0 / 1.602176634e-10 * 1e15  # exact SI
N_A = 6.02214076e23  # exact (SI 2019)
GRAM_GEV = 1e-3 * 299792458.0**2 / 1.602176634e-10  # 1 g in GeV from exact SI definitions


# --- masses --------------------------------------------------------------------------------------


# Nuclear masses [GeV]: AME2020 atomic masses − Z m_e + B_e(Z) (Lunney, Pearson, Thibault,
# RMP 75 (2003) 1021); these rows were also checked against independent reference tables.
@pytest.mark.parametrize(
    "name, M",
    [
        ("O16", 14.8950827),
        ("Al27", 25.126508),
        ("Ca40", 37.214716),
        ("W184", 171.311835),
        ("Ge74", 68.840846),
    ],
)
def test_nuclear_mass_vs_physics_table(name, M):
    assert float(nucleus(name).mass) == pytest.approx(M, rel=2e-8)


# Atomic masses [u] from AME2020 (Wang et al., Chin. Phys. C 45 (2021) 030003), 7 decimals.
@pytest.mark.parametrize(
    "name, m_u",
    [
        ("Ar40", 39.9623831), ("Na23", 22.9897693), ("I127", 126.9044719),
        ("Cs133", 132.9054520), ("Ge70", 69.9242487), ("Ge72", 71.9220758),
        ("Ge73", 72.9234590), ("Ge76", 75.9214027), ("Xe129", 128.9047809),
        ("Xe131", 130.9050841), ("Xe132", 131.9041551), ("Xe134", 133.9053947),
        ("Xe136", 135.9072145),
    ],
)  # fmt: skip
def test_atomic_mass_vs_literature(name, m_u):
    nuc = nucleus(name)
    assert float(nuc.atomic_mass) / AMU_GEV == pytest.approx(m_u, abs=1.5e-7)
    # nuclear mass = atomic mass - Z m_e + electron binding (< 1 MeV for any Z here)
    diff = float(nuc.atomic_mass - nuc.mass)
    assert 0.9 * nuc.Z * 0.51099895e-3 < diff < nuc.Z * 0.51099895e-3


def test_every_isotope_is_reasonable():
    # mass per nucleon within the physical band (binding 7-9 MeV / nucleon), A - Z neutrons
    for name in nuclei.NUCLEUS_NAMES:
        nuc = nucleus(name)
        per_nucleon = float(nuc.atomic_mass) / AMU_GEV / nuc.A
        assert abs(per_nucleon - 1.0) < 1.5e-2, name
        if not name[-1].isdigit():
            continue
        assert int(name.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")) == nuc.A
        assert float(nuc.n_neutrons) == nuc.A - nuc.Z
        assert abs(float(nuc.atomic_mass) / AMU_GEV - nuc.A) < 0.1, name


# IUPAC standard atomic weights and (half-)uncertainty intervals (CIAAW).
STANDARD_WEIGHTS = {
    "O": (15.9994, 0.0004),  # interval [15.99903, 15.99977]
    "Si": (28.085, 0.001),  # [28.084, 28.086]
    "Ar": (39.948, 0.001),  # conventional 39.95; atmospheric 39.948(1)
    "Ca": (40.078, 0.004),
    "Ge": (72.630, 0.008),
    "Xe": (131.293, 0.006),
    "W": (183.84, 0.01),
}


@pytest.mark.parametrize("el", sorted(STANDARD_WEIGHTS))
def test_natural_mean_atomic_weight(el):
    w, tol = STANDARD_WEIGHTS[el]
    # the effective nucleus ...
    assert float(nucleus(el).atomic_mass) / AMU_GEV == pytest.approx(w, abs=tol)
    # ... and the isotope expansion (atoms per mass -> mean mass per atom)
    mat = material(el)
    mean = 1.0 / float(jnp.sum(mat.nuclei_per_mass)) / AMU_GEV
    assert mean == pytest.approx(w, abs=tol)
    assert all(n.Z == nucleus(el).Z for n in mat.nuclei)


def test_abundances_sum_to_one():
    for el, ab in nuclei._ABUNDANCE.items():
        assert sum(ab.values()) == pytest.approx(1.0, abs=1e-12), el
        assert all(0 < x <= 1 for x in ab.values())


def test_natural_effective_nucleus_matches_isotope_sum():
    mat = material("Ge")
    x = np.asarray(mat.nuclei_per_mass) / np.sum(np.asarray(mat.nuclei_per_mass))
    # number fractions recovered from the mass fractions are the IUPAC abundances
    np.testing.assert_allclose(x, [0.2057, 0.2745, 0.0775, 0.3650, 0.0773], rtol=1e-12)
    eff = nucleus("natGe")
    assert float(eff.mass) == pytest.approx(
        sum(xi * float(n.mass) for xi, n in zip(x, mat.nuclei, strict=True))
    )
    A_mean = sum(xi * n.A for xi, n in zip(x, mat.nuclei, strict=True))
    assert float(eff.n_neutrons) == pytest.approx(A_mean - 32, rel=1e-12)
    assert eff.A == 73 and eff.Z == 32
    c_fm = 1.23 * A_mean ** (1 / 3) - 0.60
    assert float(eff.helm_c) * HBARC_GEV_FM == pytest.approx(c_fm, rel=1e-12)


def test_names_case_insensitive_and_aliases():
    assert float(nucleus("ge74").mass) == float(nucleus("Ge74").mass)
    assert float(nucleus("GE").mass) == float(nucleus("natGe").mass)
    assert float(nucleus("natw").mass) == float(nucleus("W").mass)
    assert material("cawo4").name == "CaWO4"
    assert len(material("natGe").nuclei) == 5
    assert len(material("LXe").nuclei) == 9
    single = material("ge74")
    assert len(single.nuclei) == 1 and float(single.mass_fractions[0]) == 1.0


# --- materials -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, n_atoms, per_gram", [("CaWO4", 6, 2.0916e21), ("Al2O3", 5, 5.9064e21)]
)
def test_molecules_per_gram(name, n_atoms, per_gram):
    mat = material(name)
    npm = np.asarray(mat.nuclei_per_mass) * GRAM_GEV  # nuclei per gram
    Zs = np.array([n.Z for n in mat.nuclei])
    n_O = npm[Zs == 8].sum()
    n_O_per_molecule = {"CaWO4": 4, "Al2O3": 3}[name]
    assert n_O / n_O_per_molecule == pytest.approx(per_gram, rel=1e-3)
    assert float(mat.molecules_per_mass) * GRAM_GEV == pytest.approx(per_gram, rel=1e-3)
    assert npm.sum() == pytest.approx(n_atoms * per_gram, rel=1e-3)
    if (
        name == "CaWO4"
    ):  # stoichiometry Ca : W : O = 1 : 1 : 4 (exact by construction of abundances)
        assert npm[Zs == 20].sum() == pytest.approx(n_O / 4, rel=1e-12)
        assert npm[Zs == 74].sum() == pytest.approx(n_O / 4, rel=1e-12)


def test_mass_fractions():
    for name in nuclei.MATERIAL_NAMES:
        mat = material(name)
        w = np.asarray(mat.mass_fractions)
        assert w.sum() == pytest.approx(1.0, abs=1e-12) and np.all(w >= 0), name
    mat = material("CaWO4")
    Zs = np.array([n.Z for n in mat.nuclei])
    w = np.asarray(mat.mass_fractions)
    assert w[Zs == 74].sum() == pytest.approx(183.84 / (40.078 + 183.84 + 4 * 15.999), rel=1e-3)
    assert w[Zs == 8].sum() == pytest.approx(4 * 15.999 / (40.078 + 183.84 + 4 * 15.999), rel=1e-3)
    assert {n.name for n in mat.nuclei} >= {"Ca40", "Ca48", "W180", "W186", "O16", "O18"}
    assert len(mat.nuclei) == 6 + 5 + 3


def test_user_material_and_as_material():
    mix = Material.from_nuclei(["Ge74", nucleus("Si28")], [0.25, 0.75], name="mix")
    npm = np.asarray(mix.nuclei_per_mass)
    assert npm[0] == pytest.approx(0.25 / (73.921177761 * AMU_GEV), rel=1e-9)
    assert npm[1] == pytest.approx(0.75 / (27.97692653442 * AMU_GEV), rel=1e-9)
    nuc = nucleus("W184")
    m = as_material(nuc)
    assert m.nuclei == (nuc,) and float(m.mass_fractions[0]) == 1.0
    assert as_material(mix) is mix
    assert as_material("CsI").name == "CsI"
    with pytest.raises(TypeError):
        as_material(3.0)
    # differentiable w.r.t. the fractions
    g = jax.grad(lambda w: jnp.sum(Material("m", mix.nuclei, w).nuclei_per_mass))(
        jnp.array([0.25, 0.75])
    )
    assert np.all(np.isfinite(np.asarray(g)))


# --- validation ----------------------------------------------------------------------------------


def test_unknown_names():
    with pytest.raises(ValueError, match="Unobtainium7"):
        nucleus("Unobtainium7")
    with pytest.raises(ValueError, match="name"):
        nucleus("Ge75")
    with pytest.raises(ValueError, match="PbWO4"):
        material("PbWO4")


@pytest.mark.parametrize(
    "fractions", [[0.5, 0.4], [1.2, -0.2], [0.5, float("nan")], [1.0], [0.5, 0.5 + 1e-8]]
)
def test_bad_fractions(fractions):
    with pytest.raises(ValueError, match="mass_fractions"):
        Material.from_nuclei(["Ge74", "Ge72"], fractions)


def test_bad_nucleus():
    with pytest.raises(ValueError, match="mass"):
        Nucleus("X", 32, 74, -1.0)
    with pytest.raises(ValueError, match="mass"):
        Nucleus("X", 32, 74, float("nan"))
    with pytest.raises(ValueError):
        Nucleus("X", 0, 1, 1.0)
    with pytest.raises(ValueError):
        Nucleus("X", 32, 20, 20.0)
    with pytest.raises(ValueError):
        Nucleus("X", 32.5, 74, 68.8)
    with pytest.raises(ValueError, match="mass_fractions"):
        Material("m", (nucleus("O16"),), [1.0, 0.0])


def test_traced_construction_does_not_raise():
    f = jax.jit(lambda M: helm_form_factor(Nucleus("X", 32, 74, M), 0.05))
    assert np.isfinite(float(f(68.84)))
    assert np.isfinite(float(jax.grad(lambda M: form_factor(Nucleus("X", 32, 74, M), 1e-6))(68.8)))


# --- Helm form factor ----------------------------------------------------------------------------


def helm_reference(M_unused, A, q):
    """Independent numpy/scipy Helm F with the parameters written out in fm."""
    c = 1.23 * A ** (1 / 3) - 0.60
    a, s = 0.52, 0.9
    rn = np.sqrt(c**2 + 7 / 3 * np.pi**2 * a**2 - 5 * s**2)
    x = q * rn / HBARC_GEV_FM
    return 3 * spherical_jn(1, x) / x * np.exp(-((q * s / HBARC_GEV_FM) ** 2) / 2)


def helm_mp(x):
    with mpmath.workdps(50):
        x = mpmath.mpf(x)
        return float(3 * (mpmath.sin(x) - x * mpmath.cos(x)) / x**3)


def test_helm_radius():
    c = 1.23 * 74 ** (1 / 3) - 0.60
    rn = np.sqrt(c**2 + 7 / 3 * np.pi**2 * 0.52**2 - 5 * 0.81)
    assert float(nucleus("Ge74").helm_rn) * HBARC_GEV_FM == pytest.approx(rn, rel=1e-12)
    assert rn == pytest.approx(1.14 * 74 ** (1 / 3), rel=0.02)  # Lewin-Smith: r_n ~ 1.14 A^(1/3) fm


@pytest.mark.parametrize("name", ["Ge74", "W184"])
def test_helm_vs_scipy(name):
    nuc = nucleus(name)
    for q in [1e-3, 0.01, 0.03, 0.05, 0.08, 0.12, 0.2]:  # GeV; q r_n from ~0.02 to ~10
        ref = helm_reference(None, nuc.A, q)
        assert float(helm_form_factor(nuc, q)) == pytest.approx(ref, rel=1e-12, abs=1e-16), q


def test_helm_values():
    nuc = nucleus("W184")
    assert float(helm_form_factor(nuc, 0.0)) == 1.0
    qs = jnp.linspace(0.0, 0.5, 2001)
    F = jax.vmap(lambda q: helm_form_factor(nuc, q))(qs)
    assert np.all(np.abs(np.asarray(F)) <= 1.0)
    assert np.all(np.diff(np.asarray(F)[:200]) < 0)  # decreasing before the first zero
    # first zero of j1(x)/x at x = 4.493409457909064
    q0 = 4.493409457909064 / float(nuc.helm_rn)
    assert abs(float(helm_form_factor(nuc, q0))) < 1e-14
    assert float(helm_form_factor(nuc, -0.07)) == float(helm_form_factor(nuc, 0.07))


def test_helm_small_x_branches():
    xs = nuclei._X_SERIES
    for x in [xs * (1 - 1e-9), xs, xs * (1 + 1e-9), 1e-3, 0.9e-3, 1.1e-3, 0.1, 0.3]:
        ref = float(helm_mp(x))
        assert float(nuclei._helm_series(jnp.asarray(x))) == pytest.approx(ref, rel=1e-15)
    for x in [xs * (1 - 1e-9), xs * (1 + 1e-9)]:
        s = float(nuclei._helm_series(jnp.asarray(x)))
        d = float(nuclei._helm_direct(jnp.asarray(x)))
        assert s == pytest.approx(d, rel=1e-13)
    # public function across the switch and near 1e-3 (q r_n) with s = 0 vs mpmath
    nuc = eqx.tree_at(lambda n: n.helm_s, nucleus("Ge74"), jnp.asarray(0.0))
    rn = float(nuc.helm_rn)
    for x in [1e-8, 1e-3 * (1 - 1e-6), 1e-3 * (1 + 1e-6), xs * 0.999, xs * 1.001, 2.0]:
        assert float(helm_form_factor(nuc, x / rn)) == pytest.approx(float(helm_mp(x)), rel=1e-14)


def test_helm_gradients():
    nuc = nucleus("Ge74")
    f = lambda q: helm_form_factor(nuc, q)
    g0 = jax.grad(f)(0.0)
    assert np.isfinite(float(g0)) and float(g0) == 0.0
    for q in [1e-4, 0.02, 0.06, 0.15]:
        h = 1e-5  # GeV
        fd = (float(f(q + h)) - float(f(q - h))) / (2 * h)
        assert float(jax.grad(f)(q)) == pytest.approx(fd, rel=1e-6, abs=1e-10)
    # gradient w.r.t. the Nucleus pytree vs finite differences in each Helm parameter
    q = 0.05
    g = eqx.filter_grad(lambda n: helm_form_factor(n, q))(nuc)
    for field in ("helm_c", "helm_a", "helm_s"):
        v = float(getattr(nuc, field))
        where = lambda n, field=field: getattr(n, field)
        up, down = (
            float(helm_form_factor(eqx.tree_at(where, nuc, jnp.asarray(v * (1 + sgn * 1e-6))), q))
            for sgn in (1, -1)
        )
        fd = (up - down) / (2e-6 * v)
        assert float(getattr(g, field)) == pytest.approx(fd, rel=1e-6), field
    assert float(g.mass) == 0.0  # F(q) does not depend on M at fixed q
    assert all(np.isfinite(float(leaf)) for leaf in jax.tree_util.tree_leaves(g))
    # recoil-energy form, including E_R = 0
    gE = jax.grad(lambda E: form_factor(nuc, E))
    assert np.isfinite(float(gE(0.0)))
    E = 1e-5
    fdE = (float(form_factor(nuc, E * (1 + 1e-6))) - float(form_factor(nuc, E * (1 - 1e-6)))) / (
        2e-6 * E
    )
    assert float(gE(E)) == pytest.approx(fdE, rel=1e-6)


def test_form_factor_recoil_energy_and_kinds():
    nuc = nucleus("W184")
    E_R = np.array([0.0, 1e-7, 1e-6, 1e-5, 1e-4])  # GeV
    F = form_factor(nuc, jnp.asarray(E_R))
    q = np.sqrt(2 * float(nuc.mass) * E_R[1:])
    np.testing.assert_allclose(np.asarray(F)[1:], helm_reference(None, 184, q), rtol=1e-12)
    assert float(F[0]) == 1.0
    assert float(form_factor(nuc, 1e-5, kind="HELM")) == float(F[3])
    assert float(form_factor(nuc, 1e-5, kind="helm")) < 1.0
    for kind in (False, None, "unit"):
        out = form_factor(nuc, jnp.asarray(E_R), kind=kind)
        assert out.shape == E_R.shape and np.all(np.asarray(out) == 1.0)
    with pytest.raises(ValueError, match="kind"):
        form_factor(nuc, 1e-5, kind="fourier-bessel")


def test_jit_vmap_dtype():
    nuc = nucleus("Ge74")
    E = jnp.geomspace(1e-9, 1e-4, 17)
    eager = np.array([float(form_factor(nuc, e)) for e in E])
    np.testing.assert_allclose(np.asarray(jax.vmap(lambda e: form_factor(nuc, e))(E)), eager)
    jitted = jax.jit(jax.vmap(form_factor, in_axes=(None, 0)))(nuc, E)
    np.testing.assert_allclose(np.asarray(jitted), eager, rtol=1e-14)
    # vmap over a stacked batch of nuclei (dynamic fields)
    batch = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), nuc, nuc)
    out = jax.vmap(lambda n: helm_form_factor(n, 0.05))(batch)
    assert out.shape == (2,) and float(out[0]) == float(helm_form_factor(nuc, 0.05))
    assert form_factor(nuc, jnp.float32(1e-5)).dtype == jnp.float32
    ref64 = float(form_factor(nuc, 1e-5))
    assert float(form_factor(nuc, jnp.float32(1e-5))) == pytest.approx(ref64, rel=1e-5)
    assert form_factor(nuc, 1e-5).dtype == jnp.float64
    assert form_factor(nuc, jnp.float32(1e-5), kind=False).dtype == jnp.float32
