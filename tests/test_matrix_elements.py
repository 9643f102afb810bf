"""Full 2 -> 3 matrix element ν A -> ν A γ and its Monte Carlo phase space.

References: explicit helicity amplitudes (tests/reference_2to3.py), symmetries (gauge and Lorentz
invariance), the narrow-width limit against the on-shell chain (primakoff_sigma × BR and
radiative_sigma_binned), and finite differences for the gradients.
"""

from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reference_2to3 as ref

import jaxdipole as jd
from jaxdipole import matrix_elements, phase_space

CA = jd.nucleus("Ca40")
E8 = 8e-3
M4 = 4e-3
#: A coupling with Γ/m = 3.2e-3, so that the width and the non-resonant diagram are visible.
MU_BIG = 100.0


def mdl(nature="dirac", mu=(1e-9, 0.0, 0.0), m=M4):
    return jd.DipoleModel(m_N=m, mu=mu, nature=nature)


def points(model, n, seed=1, bw_fraction=0.5):
    pts = phase_space.sample(model, CA, E8, jax.random.key(seed), n, bw_fraction=bw_fraction)
    return [np.asarray(x) for x in (pts.k_in, pts.P_in, pts.k_out, pts.P_out, pts.q)]


def momenta(pts, i):
    return [p[i] for p in pts]


# ------------------------------------------------------------------------------- generators
def test_halton_radical_inverse():
    h = np.asarray(phase_space.halton(4, 2))
    np.testing.assert_allclose(h[:, 0], [0.5, 0.25, 0.75, 0.125], rtol=0, atol=1e-15)
    np.testing.assert_allclose(h[:, 1], [1 / 3, 2 / 3, 1 / 9, 4 / 9], rtol=0, atol=1e-15)
    h2 = np.asarray(phase_space.halton(2, 2, offset=2))
    np.testing.assert_array_equal(h2, h[2:])


def _radical_inverse(i, b):
    """Van der Corput radical inverse of i in base b, in exact rational arithmetic."""
    r, f = Fraction(0), Fraction(1, b)
    while i:
        i, d = divmod(i, b)
        r, f = r + d * f, f / b
    return float(r)


@pytest.mark.parametrize("offset", [0, 977, 2**40 + 12345, 2**62])
def test_halton_against_exact_radical_inverses(offset):
    # all eight bases, indices up to 2^62 (every digit of a 63-bit index)
    h = np.asarray(phase_space.halton(37, 8, offset=offset))
    primes = (2, 3, 5, 7, 11, 13, 17, 19)
    ref = [[_radical_inverse(offset + k, b) for b in primes] for k in range(1, 38)]
    np.testing.assert_allclose(h, ref, rtol=0, atol=4e-16)


def test_phase_space_momentum_conservation_and_masses():
    mod = mdl(mu=(MU_BIG, 0.0, 0.0))
    pts = phase_space.sample(mod, CA, E8, jax.random.key(2), 256)
    k, P, kp, Pp, q = (np.asarray(x) for x in (pts.k_in, pts.P_in, pts.k_out, pts.P_out, pts.q))
    np.testing.assert_allclose(k + P - kp - Pp - q, 0.0, atol=1e-15 * float(CA.mass))
    dot = lambda a, b: a[:, 0] * b[:, 0] - np.sum(a[:, 1:] * b[:, 1:], axis=1)
    np.testing.assert_allclose(dot(q, q) / q[:, 0] ** 2, 0.0, atol=1e-12)
    np.testing.assert_allclose(dot(kp, kp) / kp[:, 0] ** 2, 0.0, atol=1e-9)
    np.testing.assert_allclose(dot(Pp, Pp), float(CA.mass) ** 2, rtol=1e-14)
    w = dot(kp + q, kp + q)
    np.testing.assert_allclose(w - M4**2, np.asarray(pts.offshell), rtol=1e-6, atol=1e-16)
    assert np.all(np.asarray(pts.weight) >= 0) and np.all(np.isfinite(np.asarray(pts.weight)))


# ----------------------------------------------------------- |M|² against explicit amplitudes
@pytest.mark.parametrize(
    "final_state, antineutrino, diagram_a, diagram_b",
    [
        ("lnc", False, True, True),
        ("lnv", False, True, True),
        ("lnc", True, True, True),
        ("lnv", True, True, True),
        ("lnc", False, False, True),
        ("lnv", False, True, False),
    ],
)
def test_trace_matches_helicity_amplitudes(final_state, antineutrino, diagram_a, diagram_b):
    mod = mdl("majorana", mu=(MU_BIG, 0.3 * MU_BIG, 0.0))
    G = float(jd.decay_width(mod))
    pts = points(mod, 4)
    for i in range(4):
        a = momenta(pts, i)
        got = matrix_elements.squared_amplitude(
            mod, CA, *a, flavour_out=1, final_state=final_state, antineutrino=antineutrino,
            diagram_a=diagram_a, diagram_b=diagram_b,
        )  # fmt: skip
        l = a[0] - a[2] - a[4]
        E_R = -ref.dot(l, l) / (2 * float(CA.mass))
        F = float(jd.form_factor(CA, E_R))
        want = ref.msq(
            *a, M4, G, CA.Z, F, MU_BIG, 0.3 * MU_BIG, final_state == "lnv", antineutrino,
            diagram_a, diagram_b,
        )  # fmt: skip
        assert float(got) == pytest.approx(want, rel=1e-10)


def test_dirac_is_majorana_lnc_and_dirac_has_no_lnv():
    dirac, maj = mdl("dirac", (MU_BIG, 0, 0)), mdl("majorana", (MU_BIG, 0, 0))
    G_D = jd.decay_width(dirac)
    assert float(jd.decay_width(maj) / G_D) == pytest.approx(2.0, rel=1e-14)
    pts = points(dirac, 3)
    for i in range(3):
        a = momenta(pts, i)
        d = matrix_elements.squared_amplitude(dirac, CA, *a)
        m = matrix_elements.squared_amplitude(maj, CA, *a, final_state="lnc", width=G_D)
        assert float(m) == pytest.approx(float(d), rel=1e-13)
        assert float(matrix_elements.squared_amplitude(dirac, CA, *a, final_state="lnv")) == 0.0


def test_interference_structure():
    # LNC: the real photon is emitted through σ·F P_R in (a) and σ·F P_L in (b), i.e. with
    # opposite helicities, so (a) and (b) do not interfere; LNV (Majorana): both P_L, they do,
    # and the relative sign of the diagrams matters there.
    mod = mdl("majorana", (MU_BIG, 0, 0))
    pts = points(mod, 3)

    def f(a, fs, da, db):
        return matrix_elements.squared_amplitude(
            mod, CA, *a, final_state=fs, diagram_a=bool(da), diagram_b=bool(db)
        )

    for i in range(3):
        a = momenta(pts, i)
        for fs in ("lnc", "lnv"):
            both, only_a, only_b = (float(f(a, fs, *d)) for d in ((1, 1), (1, 0), (0, 1)))
            interference = both - only_a - only_b
            if fs == "lnc":
                assert abs(interference) <= 1e-12 * both
            else:
                assert abs(interference) > 1e-3 * both


# ------------------------------------------------------------------------- gauge invariance
@pytest.mark.parametrize("lnv", [False, True])
@pytest.mark.parametrize("diagrams", [(True, False), (False, True), (True, True)])
def test_gauge_invariance(lnv, diagrams):
    mod = mdl("majorana", (MU_BIG, 0, 0))
    da, db = diagrams
    pts = points(mod, 3)
    for i in range(3):
        k, P, kp, Pp, q = momenta(pts, i)
        kw = dict(lnv=lnv, diagram_a=da, diagram_b=db)

        def amp(eps, k=k, P=P, kp=kp, Pp=Pp, q=q, kw=kw, **extra):
            A = matrix_elements.amplitude_matrix(mod, CA, k, P, kp, Pp, q, eps, **kw, **extra)
            return matrix_elements.spin_summed(A, k, kp)

        e1, e2 = ref.photon_polarisations(q)
        scale = float(amp(e1) + amp(e2))
        assert scale > 0
        # the physical polarisation sum equals the −g_ρσ sum of squared_amplitude
        full = matrix_elements.squared_amplitude(
            mod, CA, k, P, kp, Pp, q, final_state="lnv" if lnv else "lnc", diagram_a=da,
            diagram_b=db,
        )  # fmt: skip
        assert float(full) / MU_BIG**4 == pytest.approx(scale, rel=1e-10)
        # real photon: ε -> q/q⁰ (same size as a unit polarisation)
        assert float(amp(q / q[0])) <= 1e-20 * scale
        # exchanged photon: nuclear current conserved (to the rounding of P' = P + l, ~1e-15 M),
        # and J -> l gives 0
        l = k - kp - q
        assert abs(ref.dot(P + Pp, l)) <= 1e-11 * float(CA.mass) * np.max(np.abs(l))
        J_scale = 2 * float(CA.mass) * np.sqrt(4 * np.pi * jd.constants.alpha) * CA.Z
        l_as_J = (k - kp - q) * J_scale / np.max(np.abs(k - kp - q))
        assert float(amp(e1, current=l_as_J) + amp(e2, current=l_as_J)) <= 1e-20 * scale


# ------------------------------------------------------------------------ Lorentz invariance
def _random_lorentz(rng):
    rap = rng.uniform(0.2, 2.0)
    n = rng.normal(size=3)
    n /= np.linalg.norm(n)
    g, gb = np.cosh(rap), np.sinh(rap)
    B = np.eye(4)
    B[0, 0] = g
    B[0, 1:] = B[1:, 0] = gb * n
    B[1:, 1:] += (g - 1) * np.outer(n, n)
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    R = np.eye(4)
    R[1:, 1:] = Q
    return R @ B


@pytest.mark.parametrize("nature, antineutrino", [("dirac", False), ("majorana", True)])
def test_lorentz_invariance(nature, antineutrino):
    mod = mdl(nature, (MU_BIG, 0, 0))
    rng = np.random.default_rng(7)
    pts = points(mod, 4)
    f = jax.jit(
        lambda *a: matrix_elements.squared_amplitude(mod, CA, *a, antineutrino=antineutrino)
    )
    for i in range(4):
        a = momenta(pts, i)
        L = _random_lorentz(rng)
        base = float(f(*a))
        boosted = float(f(*[L @ p for p in a]))
        assert boosted == pytest.approx(base, rel=1e-10)


# ------------------------------------------------------------------------- differentiability
@pytest.mark.parametrize("mu, offset", [(1e-9, 0.02), (MU_BIG, 1.0)])
def test_gradients_vs_finite_differences(mu, offset):
    # one point at w − m² = offset · (m Γ) (near resonance) or 0.02 m² (far from it)
    mod = mdl("dirac", (mu, 0, 0))
    G = float(jd.decay_width(mod))
    w = M4**2 + (offset * M4 * G if mu > 1 else offset * M4**2)
    M = float(CA.mass)
    w_max = (2 * M * E8 / (np.sqrt(M * (M + 2 * E8)) + M)) ** 2
    u0 = (w - phase_space.W_FLOOR * w_max) / ((1 - phase_space.W_FLOOR) * w_max)
    p = phase_space.sample(mod, CA, E8, jnp.asarray([[u0, 0.4, 0.3, 0.6, 0.2]]), bw_fraction=0.0)
    a = [x[0] for x in (p.k_in, p.P_in, p.k_out, p.P_out, p.q)]

    @jax.jit
    def f(m_N, mu_e):
        return matrix_elements.squared_amplitude(mdl("dirac", (mu_e, 0.0, 0.0), m=m_N), CA, *a)

    g_m, g_mu = jax.jit(jax.grad(f, argnums=(0, 1)))(M4, mu)
    assert np.isfinite(float(g_m)) and np.isfinite(float(g_mu))
    h_m, h_mu = 1e-7 * M4, 1e-6 * mu
    fd_m = (f(M4 + h_m, mu) - f(M4 - h_m, mu)) / (2 * h_m)
    fd_mu = (f(M4, mu + h_mu) - f(M4, mu - h_mu)) / (2 * h_mu)
    assert float(g_m) == pytest.approx(float(fd_m), rel=1e-6)
    assert float(g_mu) == pytest.approx(float(fd_mu), rel=1e-6)


# -------------------------------------------------------------------- narrow-width limit (MC)
E_EDGES = jnp.asarray([0.0, 1.5e-3, 2.5e-3, 3.5e-3, 4.5e-3, 6e-3, 8e-3])
C_EDGES = jnp.asarray([-1.0, 0.0, 0.6, 1.0])
N_MC = 2**16


@jax.jit
def chain_binned(model):
    """On-shell chain (prompt decays, N -> ν_e γ) in the test bins."""
    return jd.radiative_sigma_binned(model, CA, E8, E_EDGES, C_EDGES, channels=0, n_recoil=32)


@pytest.mark.parametrize(
    "nature, antineutrino, sampler",
    [("dirac", False, "halton"), ("majorana", False, "random"), ("dirac", True, "halton")],
)
def test_narrow_width_limit(nature, antineutrino, sampler):
    # physical width (Γ/m ~ 1e-25): σ(ν A -> ν_e A γ) = σ_Primakoff × BR(N -> ν_e γ), and the
    # (E_γ, cos θ_γ) histogram equals the on-shell chain with full spin correlations
    mod = mdl(nature, mu=(1e-9, 0.5e-9, 0.0))
    br = float(jd.branching_ratios(mod)[0])
    assert br == pytest.approx(0.8, rel=1e-12)
    r = phase_space.integrate(
        mod, CA, E8, N_MC, 2**14, sampler=sampler, e_edges=E_EDGES, cos_edges=C_EDGES,
        flavour_out=0, antineutrino=antineutrino, key=jax.random.key(11),
    )  # fmt: skip
    want = float(jd.primakoff_sigma(mod, CA, E8)) * br
    sig, err = float(r.sigma), float(r.error)
    assert abs(sig / want - 1) < 0.01
    assert abs(sig - want) < 4 * err
    assert err / sig < 0.005
    assert float(jnp.sum(r.hist)) == pytest.approx(sig, rel=1e-12)
    binned = np.asarray(chain_binned(mod))
    h, he = np.asarray(r.hist), np.asarray(r.hist_error)
    pulls = (h - binned) / np.where(he > 0, he, 1.0)
    assert np.all(np.abs(pulls) < 4.0), pulls
    assert np.mean(pulls**2) < 3.0
    # the comparison has power: Dirac and Majorana spectra differ by many MC errors
    other = mdl("majorana" if nature == "dirac" else "dirac", mu=(1e-9, 0.5e-9, 0.0))
    alt = np.asarray(chain_binned(other)) * br / float(jd.branching_ratios(other)[0])
    assert np.max(np.abs((h - alt) / np.where(he > 0, he, 1.0))) > 10.0


def test_majorana_lnc_lnv_split_and_non_resonant_diagram():
    # user-level path: sample() points, then weight · |M|² with the exact off-shellness
    maj = mdl("majorana")
    sig_p = float(jd.primakoff_sigma(maj, CA, E8))
    u = phase_space.halton(2**15, phase_space.DIM)
    pts_a = phase_space.sample(maj, CA, E8, u)
    pts_b = phase_space.sample(maj, CA, E8, u, bw_fraction=0.0)

    @jax.jit
    def estimates(pa, pb, model):
        def one(p, **kw):
            f = jax.vmap(
                lambda k, P, kp, Pp, q, d: matrix_elements.squared_amplitude(
                    model, CA, k, P, kp, Pp, q, offshell_a=d, **kw
                )
            )
            return p.weight * f(p.k_in, p.P_in, p.k_out, p.P_out, p.q, p.offshell)

        return (
            one(pa, final_state="lnc"),
            one(pa, final_state="lnv"),
            one(pb, final_state="lnc", diagram_a=False),
        )

    def mean_err(v):
        v = np.asarray(v)
        return v.mean(), v.std() / np.sqrt(v.size)

    lnc, lnv, non_res = (mean_err(v) for v in estimates(pts_a, pts_b, maj))
    # Majorana: half of the N decay into ν γ, half into ν̄ γ (production identical to Dirac)
    for s, e in (lnc, lnv):
        assert abs(s / sig_p - 0.5) < 0.005 and abs(s - 0.5 * sig_p) < 4 * e
    # the non-resonant diagram alone: finite, positive, ∝ μ⁴ (no 1/Γ): negligible at physical μ
    s_b, e_b = non_res
    assert np.isfinite(s_b) and s_b > 0 and e_b < 0.05 * s_b
    ratio = s_b / (lnc[0] + lnv[0])
    assert 1e-28 < ratio < 1e-20  # ≈ 0.26 Γ/m = 8e-26 at μ = 1e-9 GeV^-1
    # σ_b / μ⁴ does not depend on the coupling (the width enters only as (Γ/m)² ~ 1e-5 here)
    big = mdl("majorana", (MU_BIG, 0, 0))
    s_b2 = mean_err(estimates(pts_a, pts_b, big)[2])[0]
    assert s_b2 / MU_BIG**4 == pytest.approx(s_b / 1e-36, rel=1e-4)


@jax.jit
def _mc_values(pts, model):
    """weight · |M|² per point (Dirac or Majorana, all final states, both diagrams)."""
    f = jax.vmap(
        lambda k, P, kp, Pp, q, d: matrix_elements.squared_amplitude(
            model, CA, k, P, kp, Pp, q, offshell_a=d
        )
    )
    return pts.weight * f(pts.k_in, pts.P_in, pts.k_out, pts.P_out, pts.q, pts.offshell)


@pytest.mark.parametrize("E_nu, mu", [(3e-3, 1e-9), (E8, MU_BIG)])
def test_multichannel_weights_do_not_bias(E_nu, mu):
    # the estimate must not depend on how points are shared between the Breit–Wigner and the
    # flat channel: below the N threshold (resonance outside the range; off-shell N only) and
    # at Γ/m = 3e-3 (resonance inside, width resolvable by the flat channel)
    mod = mdl("dirac", (mu, 0, 0))
    u = phase_space.halton(2**14, phase_space.DIM)
    est = []
    for f in (0.3, 0.9) if mu > 1 else (0.0, 0.9):
        v = np.asarray(_mc_values(phase_space.sample(mod, CA, E_nu, u, bw_fraction=f), mod))
        assert np.all(np.isfinite(v)) and np.all(v >= 0)
        est.append((v.mean(), v.std() / np.sqrt(v.size)))
    (s1, e1), (s2, e2) = est
    assert s1 > 0 and s2 > 0
    assert abs(s1 - s2) < 4 * np.hypot(e1, e2)
    assert abs(s1 / s2 - 1) < 0.03


def test_batching_does_not_change_the_estimate():
    # same Halton points in 4 lax.map steps (as in test_narrow_width_limit) or in one
    mod = mdl("dirac", mu=(1e-9, 0.5e-9, 0.0))
    kw = dict(
        sampler="halton", e_edges=E_EDGES, cos_edges=C_EDGES, flavour_out=0,
        key=jax.random.key(11),
    )  # fmt: skip
    a = phase_space.integrate(mod, CA, E8, N_MC, 2**14, **kw)
    b = phase_space.integrate(mod, CA, E8, N_MC, N_MC, **kw)
    assert a.n_points == b.n_points == N_MC
    assert float(a.sigma) == pytest.approx(float(b.sigma), rel=1e-12)
    assert float(a.error) == pytest.approx(float(b.error), rel=1e-9)
    np.testing.assert_allclose(np.asarray(a.hist), np.asarray(b.hist), rtol=1e-11)


def test_bad_input():
    mod = mdl()
    with pytest.raises(ValueError, match="final_state"):
        phase_space.cross_section(mod, CA, E8, 16, 16, final_state="both")
    with pytest.raises(ValueError, match="bw_fraction"):
        phase_space.cross_section(mod, CA, E8, 16, 16, bw_fraction=1.5)
    with pytest.raises(ValueError, match="e_edges"):
        phase_space.photon_histogram(mod, CA, E8, jnp.asarray([0.0, 2e-3, 1e-3]))
    with pytest.raises(ValueError, match="shape"):
        phase_space.sample(mod, CA, E8, jnp.zeros((4, 3)))
