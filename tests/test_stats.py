"""Tests of jaxdipole.stats against scipy.stats, mpmath closed forms and toy Monte Carlo."""

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from scipy import optimize, special
from scipy import stats as sps

from jaxdipole import stats

Z90 = 1.2815515655446004  # scipy.stats.norm.ppf(0.9)
LN10 = 2.302585092994046  # -ln(0.1)


# ------------------------------------------------------------------------------------------
# independent references (numpy / scipy / mpmath)
# ------------------------------------------------------------------------------------------


def ref_counting_limit(n, b, cl=0.9):
    """Classical Poisson upper limit on s by root-bracketing scipy's Poisson CDF."""
    if sps.poisson.cdf(n, b) <= 1.0 - cl:
        return 0.0
    f = lambda s: sps.poisson.cdf(n, s + b) - (1.0 - cl)
    return optimize.brentq(f, 0.0, 200.0, xtol=1e-14, rtol=1e-15)


def ref_deviance(n, nu):
    """2 sum [nu - n + n ln(n/nu)] with 0 ln 0 = 0, plain numpy."""
    n, nu = np.broadcast_arrays(np.asarray(n, float), np.asarray(nu, float))
    out = nu - n
    pos = n > 0
    out[pos] += n[pos] * np.log(n[pos] / nu[pos])
    return 2.0 * out.sum()


def mp_exclusion_z(s, b):
    s, b = mp.mpf(s), mp.mpf(b)
    if b == 0:
        return mp.sqrt(2 * s)
    return mp.sqrt(2 * (s - b * mp.log(1 + s / b)))


def mp_discovery_z(s, b):
    s, b = mp.mpf(s), mp.mpf(b)
    return mp.sqrt(2 * ((s + b) * mp.log(1 + s / b) - s))


def ref_q_profiled(x, s, b, sigma_b):
    """min over theta of the numpy deviance plus Gaussian penalty (scipy bounded Brent)."""
    fun = lambda th: ref_deviance(b, th * b + x * s) + ((th - 1.0) / sigma_b) ** 2
    res = optimize.minimize_scalar(
        fun, bounds=(0.05, 1.5), method="bounded", options={"xatol": 1e-12}
    )
    return res.fun, res.x


def dm_spectra(n_bins, n_events):
    """Idealised photon spectra, f_D(x) = 2(1 - x), f_M = 1 on x = E_gamma/E_N in [0, 1]."""
    e = np.linspace(0.0, 1.0, n_bins + 1)
    return n_events * np.diff(2.0 * e - e**2), n_events * np.diff(e)


B_TEST = np.array([0.5, 3.0, 10.0, 100.0, 1e4, 1e6, 0.0, 1e-8])  # backgrounds [events]

# jitted gradients shared between tests (one compilation each)
CUL_GRAD = jax.jit(jax.grad(stats.counting_upper_limit, argnums=(1, 2)))
AUL_GRAD = jax.jit(jax.vmap(jax.grad(stats.asimov_upper_limit)))
SSL_GRAD = jax.jit(jax.grad(stats.signal_strength_limit, argnums=(0, 1, 3)))


def _finite(tree):
    return all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree_util.tree_leaves(tree))


# ------------------------------------------------------------------------------------------
# confidence levels and Poisson basics
# ------------------------------------------------------------------------------------------


def test_cl_helpers():
    assert stats.CL90 == 0.9
    cls = np.array([0.6, 0.9, 0.95, 0.99, 0.999999])
    np.testing.assert_allclose(stats.z_from_cl(cls), sps.norm.ppf(cls), rtol=1e-12)
    assert abs(float(stats.z_from_cl(0.9)) - Z90) < 1e-12
    assert abs(float(stats.zero_background_limit()) - np.log(10.0)) < 1e-12
    np.testing.assert_allclose(stats.zero_background_limit(cls), -np.log(1.0 - cls), rtol=1e-12)


def test_poisson_logpmf_and_nll():
    n = np.array([0, 1, 3, 7, 20, 0])
    nu = np.array([0.3, 2.5, 3.0, 1.1, 25.0, 4.0])
    np.testing.assert_allclose(stats.poisson_logpmf(n, nu), sps.poisson.logpmf(n, nu), rtol=1e-12)
    assert float(stats.poisson_logpmf(0.0, 0.0)) == 0.0
    assert float(stats.poisson_logpmf(2.0, 0.0)) == -np.inf
    # continuous (Asimov) counts: closed form with scipy's gammaln
    nc, nuc = 2.7, 3.9
    ref = nc * np.log(nuc) - nuc - special.gammaln(nc + 1.0)
    assert abs(float(stats.poisson_logpmf(nc, nuc)) - ref) < 1e-12
    np.testing.assert_allclose(stats.poisson_nll(n, nu), -sps.poisson.logpmf(n, nu).sum(), 1e-12)


def test_binned_q_matches_deviance():
    rng = np.random.default_rng(1)
    nu = rng.uniform(0.1, 20.0, 30)
    n = rng.poisson(nu).astype(float)  # includes zeros
    n[:3] = 0.0
    np.testing.assert_allclose(stats.binned_q(n, nu), ref_deviance(n, nu), rtol=1e-12)
    # likelihood ratio against the saturated model, via scipy's logpmf
    lr = 2.0 * (sps.poisson.logpmf(n, n).sum() - sps.poisson.logpmf(n, nu).sum())
    np.testing.assert_allclose(stats.binned_q(n, nu), lr, rtol=1e-10)
    assert float(stats.binned_q(np.zeros(4), np.zeros(4))) == 0.0
    assert float(stats.binned_q([0.0, 1.0], [2.0, 1.0])) == pytest.approx(4.0, rel=1e-14)
    assert float(stats.binned_q([1.0], [0.0])) == np.inf
    # nearly equal n and nu: no cancellation (mpmath reference)
    n1, nu1 = 1.0e6, 1.0e6 * (1.0 + 3e-9)
    with mp.workdps(40):
        ref = 2 * (mp.mpf(nu1) - n1 + n1 * mp.log(mp.mpf(n1) / mp.mpf(nu1)))
    assert float(stats.binned_q(n1, nu1)) == pytest.approx(float(ref), rel=1e-9)


# ------------------------------------------------------------------------------------------
# counting upper limit
# ------------------------------------------------------------------------------------------


def test_counting_upper_limit_zero_background():
    assert abs(float(stats.counting_upper_limit(0)) - 2.302585092994046) < 1e-9
    assert abs(float(stats.counting_upper_limit(0, 0.0, 0.95)) - np.log(20.0)) < 1e-9


def test_counting_upper_limit_vs_scipy_vmapped():
    ns = np.arange(11.0)
    bs = np.array([0.0, 0.5, 3.2])
    nn, bb = np.meshgrid(ns, bs, indexing="ij")
    f = jax.jit(jax.vmap(jax.vmap(stats.counting_upper_limit, (None, 0)), (0, None)))
    got = np.asarray(f(ns, bs))
    ref = np.vectorize(ref_counting_limit)(nn, bb)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-8)
    assert got[0, 2] == 0.0  # n = 0 with b = 3.2 > 2.303: the classical limit is empty


def test_counting_upper_limit_derivatives():
    g_b = CUL_GRAD
    h = 1e-5
    for n, b in [(0.0, 0.5), (3.0, 0.5), (6.0, 3.2), (10.0, 0.0)]:
        db, dcl = g_b(n, b, 0.9)
        fd_b = (ref_counting_limit(n, b + h) - ref_counting_limit(n, max(b - h, 0.0))) / (
            b + h - max(b - h, 0.0)
        )
        fd_cl = (ref_counting_limit(n, b, 0.9 + h) - ref_counting_limit(n, b, 0.9 - h)) / (2 * h)
        assert float(db) == pytest.approx(fd_b, rel=1e-6)
        assert float(dcl) == pytest.approx(fd_cl, rel=1e-6)
    # clamped region and the n = b = 0 corner: finite (zero) gradients
    db, _ = g_b(0.0, 3.2, 0.9)
    assert float(db) == 0.0
    assert np.all(np.isfinite(g_b(0.0, 0.0, 0.9)))


def test_counting_upper_limit_coverage_toys():
    s_true, b = 3.0, 2.0
    rng = np.random.default_rng(20240601)
    n = rng.poisson(s_true + b, 20000)
    values = np.arange(n.max() + 1.0)
    limits = np.asarray(stats.counting_upper_limit(values, b))
    coverage = np.mean(limits[n] >= s_true)
    assert 0.9 <= coverage <= 0.97


# ------------------------------------------------------------------------------------------
# Asimov significances and counting limits
# ------------------------------------------------------------------------------------------


def test_asimov_z_closed_forms():
    s = np.array([0.1, 1.0, 3.0, 10.0, 50.0, 2.0, 0.4])
    b = np.array([0.01, 1.0, 10.0, 3.0, 1e4, 2.0, 0.3999])
    with mp.workdps(50):
        ref_e = [float(mp_exclusion_z(si, bi)) for si, bi in zip(s, b, strict=True)]
        ref_d = [float(mp_discovery_z(si, bi)) for si, bi in zip(s, b, strict=True)]
        ref_e_small = float(mp_exclusion_z("1e-6", "1e6"))
        ref_d_small = float(mp_discovery_z("1e-6", "1e6"))
    np.testing.assert_allclose(stats.asimov_exclusion_z(s, b), ref_e, rtol=1e-12)
    np.testing.assert_allclose(stats.asimov_discovery_z(s, b), ref_d, rtol=1e-12)
    # b = 0
    assert float(stats.asimov_exclusion_z(4.5, 0.0)) == pytest.approx(3.0, rel=1e-14)
    assert float(stats.asimov_discovery_z(4.5, 0.0)) == np.inf
    assert float(stats.asimov_exclusion_z(0.0, 0.0)) == 0.0
    assert float(stats.asimov_discovery_z(0.0, 0.0)) == 0.0
    # s << b: Z -> s/sqrt(b)
    ze = float(stats.asimov_exclusion_z(1e-6, 1e6))
    zd = float(stats.asimov_discovery_z(1e-6, 1e6))
    assert ze == pytest.approx(1e-9, rel=1e-6)
    assert zd == pytest.approx(1e-9, rel=1e-6)
    assert ze == pytest.approx(ref_e_small, rel=1e-12)
    assert zd == pytest.approx(ref_d_small, rel=1e-12)


def test_asimov_upper_limit():
    got = np.asarray(stats.asimov_upper_limit(B_TEST))
    f = lambda s, bi: np.sqrt(2.0 * (s - bi * np.log1p(s / bi))) - Z90
    b = B_TEST[:5]
    roots = np.array([optimize.brentq(f, 1e-3, 1e3, args=(bi,), xtol=1e-13) for bi in b])
    ref = np.maximum(roots, LN10)
    np.testing.assert_allclose(got[:5], ref, rtol=1e-10)
    assert got[0] == pytest.approx(LN10, rel=1e-14)  # floored
    # limits: large b -> z sqrt(b) + z^2/3; b -> 0 -> -ln 0.1
    big = got[5]
    assert big / (Z90 * 1e3) == pytest.approx(1.0, abs=1e-3)
    assert big == pytest.approx(Z90 * 1e3 + Z90**2 / 3.0, rel=1e-5)
    np.testing.assert_allclose(got[6:], LN10, atol=1e-9)
    # derivative in b (implicit) vs finite differences of the scipy root
    h = 1e-4
    b2 = np.array([3.0, 100.0])
    fd = [
        (
            optimize.brentq(f, 1e-3, 1e3, args=(bi + h,), xtol=1e-14)
            - optimize.brentq(f, 1e-3, 1e3, args=(bi - h,), xtol=1e-14)
        )
        / (2 * h)
        for bi in b2
    ]
    np.testing.assert_allclose(AUL_GRAD(b2), fd, rtol=1e-6)


def test_asimov_q_exclusion():
    s = np.array([1.0, 0.5, 2.0, 0.0, 0.7])
    b = np.array([4.0, 0.0, 9.0, 3.0, 0.0])
    np.testing.assert_allclose(stats.asimov_q_exclusion(s, b), ref_deviance(b, b + s), rtol=1e-12)
    assert float(stats.asimov_q_exclusion([0.5, 0.7], [0.0, 0.0])) == pytest.approx(2.4, 1e-14)
    # one bin: Z^2
    ze = float(stats.asimov_exclusion_z(2.0, 9.0))
    assert float(stats.asimov_q_exclusion(2.0, 9.0)) == pytest.approx(ze**2, rel=1e-12)


# ------------------------------------------------------------------------------------------
# binned signal-strength limit
# ------------------------------------------------------------------------------------------

S_BINS = np.array([3.0, 5.0, 2.0, 0.5, 0.0, 1.0])
B_BINS = np.array([20.0, 8.0, 1.0, 0.2, 4.0, 0.0])


def test_signal_strength_single_bin():
    s_up = np.asarray(stats.asimov_upper_limit(B_TEST))
    for s, i in [(2.0, 2), (0.3, 4), (5.0, 1), (1.0, 7)]:
        x = float(stats.signal_strength_limit(np.array([s]), np.array([B_TEST[i]])))
        assert x == pytest.approx(s_up[i] / s, rel=1e-10)
    # background-free: the counting floor -ln(0.1)/sum(s)
    x0 = float(stats.signal_strength_limit(S_BINS, np.zeros_like(S_BINS)))
    assert x0 == pytest.approx(LN10 / S_BINS.sum(), rel=1e-12)


def test_signal_strength_multibin_root_and_empty_bin():
    x = float(stats.signal_strength_limit(S_BINS, B_BINS))
    assert ref_deviance(B_BINS, B_BINS + x * S_BINS) == pytest.approx(Z90**2, rel=1e-10)
    assert x > LN10 / S_BINS.sum()  # root above the floor here
    x_e = float(stats.signal_strength_limit(np.append(S_BINS, 0.0), np.append(B_BINS, 0.0)))
    assert x_e == pytest.approx(x, rel=1e-12)
    # 2-D binning flattened internally
    x2 = float(stats.signal_strength_limit(S_BINS.reshape(2, 3), B_BINS.reshape(2, 3)))
    assert x2 == pytest.approx(x, rel=1e-12)


def test_signal_strength_nuisance():
    x0 = float(stats.signal_strength_limit(S_BINS, B_BINS))
    x_prev = x0
    for sig in [0.05, 0.2, 0.5]:
        x = float(stats.signal_strength_limit(S_BINS, B_BINS, sigma_b=sig))
        assert x > x_prev  # weaker with a larger background uncertainty
        q, _ = ref_q_profiled(x, S_BINS, B_BINS, sig)
        assert q == pytest.approx(Z90**2, rel=1e-7)
        x_prev = x
    x_tiny = float(stats.signal_strength_limit(S_BINS, B_BINS, sigma_b=1e-7))
    assert x_tiny == pytest.approx(x0, rel=1e-6)
    # profiled theta vs brute-force scipy minimisation
    for x, sig in [(0.5, 0.1), (1.3, 0.3), (3.0, 0.5)]:
        theta = float(stats._profiled_theta(jnp.asarray(x), S_BINS, B_BINS, jnp.asarray(sig)))
        _, theta_ref = ref_q_profiled(x, S_BINS, B_BINS, sig)
        assert theta == pytest.approx(theta_ref, abs=1e-6)


def test_signal_strength_gradients():
    f = stats.signal_strength_limit
    for sig in [0.0, 0.2]:
        gs, gb, gsig = SSL_GRAD(S_BINS, B_BINS, 0.9, sig)
        assert _finite((gs, gb, gsig))
        for i in [0, 1, 2, 3, 5]:  # bins away from the b = 0 / s = 0 kinks
            e = np.zeros_like(S_BINS)
            e[i] = 1e-4 * max(S_BINS[i], 1.0)
            fd_s = float(f(S_BINS + e, B_BINS, 0.9, sig)) - float(f(S_BINS - e, B_BINS, 0.9, sig))
            assert float(gs[i]) == pytest.approx(fd_s / (2 * e[i]), rel=1e-5, abs=1e-10)
            if B_BINS[i] > 0:
                e[i] = 1e-4 * B_BINS[i]
                fd_b = float(f(S_BINS, B_BINS + e, 0.9, sig)) - float(
                    f(S_BINS, B_BINS - e, 0.9, sig)
                )
                assert float(gb[i]) == pytest.approx(fd_b / (2 * e[i]), rel=1e-5, abs=1e-10)
    h = 1e-5
    fd_sig = (float(f(S_BINS, B_BINS, 0.9, 0.2 + h)) - float(f(S_BINS, B_BINS, 0.9, 0.2 - h))) / (
        2 * h
    )
    assert float(gsig) == pytest.approx(fd_sig, rel=1e-5)
    assert float(gsig) > 0


# ------------------------------------------------------------------------------------------
# simple-vs-simple tests: Asimov vs toys, Dirac vs Majorana
# ------------------------------------------------------------------------------------------


def test_dirac_majorana_idealised_kl():
    d, m = dm_spectra(200, 1.0)
    q_m = float(stats.hypothesis_q(m, d))
    q_d = float(stats.hypothesis_q(d, m))
    # exact binned reference, and the continuum KL within the binning error (~1.1/n_bins)
    assert q_m == pytest.approx(2.0 * np.sum(m * np.log(m / d)), rel=1e-12)
    assert q_m == pytest.approx(2.0 * (1.0 - np.log(2.0)), rel=1e-2)
    assert q_d == pytest.approx(2.0 * (np.log(2.0) - 0.5), rel=1e-3)
    d2, m2 = dm_spectra(2000, 1.0)
    assert float(stats.hypothesis_q(m2, d2)) == pytest.approx(2.0 * (1.0 - np.log(2.0)), rel=1e-3)
    # dirac_majorana_z: truth selects the direction; equal_rate removes the normalisation
    d50, m50 = dm_spectra(200, 50.0)
    zm = float(stats.dirac_majorana_z(1.7 * d50, m50))  # rescaled Dirac: shape-only test
    assert zm == pytest.approx(np.sqrt(50.0 * q_m), rel=1e-12)
    zd = float(stats.dirac_majorana_z(d50, m50, truth="dirac"))
    assert zd == pytest.approx(np.sqrt(50.0 * q_d), rel=1e-12)
    q_rate = float(stats.hypothesis_q(m50, 1.7 * d50))
    assert q_rate == pytest.approx(ref_deviance(m50, 1.7 * d50), rel=1e-12)
    assert float(stats.hypothesis_z(m50, 1.7 * d50)) == pytest.approx(np.sqrt(q_rate), 1e-14)


def test_asimov_vs_toys_no_background():
    n_events = 40.0
    d, m = dm_spectra(20, n_events)
    q_a = float(stats.hypothesis_q(m, d))
    assert 9.0 < q_a < 25.0
    rng = np.random.default_rng(7)
    data = rng.poisson(m, size=(4000, m.size))
    llr = 2.0 * (data @ np.log(m / d) - (m.sum() - d.sum()))  # 2 ln L(M)/L(D)
    assert np.median(llr) == pytest.approx(q_a, rel=0.1)


def test_asimov_vs_toys_with_background():
    d, m = dm_spectra(20, 60.0)
    bkg = np.full(20, 1.5)
    q_a = float(stats.hypothesis_q(d, m, bkg))
    assert 9.0 < q_a < 25.0
    toys = np.asarray(stats.poisson_toys(jax.random.key(3), d + bkg, 4000))
    assert toys.shape == (4000, 20) and toys.dtype == np.float64
    np.testing.assert_allclose(toys.mean(axis=0), d + bkg, rtol=0.1)
    t = 2.0 * (toys @ np.log((d + bkg) / (m + bkg)) - (d.sum() - m.sum()))
    assert np.median(t) == pytest.approx(q_a, rel=0.1)
    z = float(stats.dirac_majorana_z(d, m, bkg, truth="dirac", equal_rate=False))
    assert z == pytest.approx(np.sqrt(ref_deviance(d + bkg, m + bkg)), rel=1e-12)


# ------------------------------------------------------------------------------------------
# finite gradients at the boundaries
# ------------------------------------------------------------------------------------------


@jax.jit
def _elementwise_grads(n, nu, s_pts, b_pts):
    g = {}
    g["binned_q"] = jax.grad(stats.binned_q, argnums=(0, 1))(n, nu)
    g["nll"] = jax.grad(stats.poisson_nll, argnums=(0, 1))(n, nu)
    for fun in [stats.asimov_exclusion_z, stats.asimov_discovery_z, stats.asimov_q_exclusion]:
        g[fun.__name__] = jax.vmap(jax.grad(fun, argnums=(0, 1)))(s_pts, b_pts)
    return g


def test_gradients_finite_at_boundaries():
    # counts/expectations with zeros, denormals and values below the 1e-150 guard
    n = jnp.array([0.0, 0.0, 0.0, 1e-200, 1e-310, 1.0, 1e-160, 1e-200])
    nu = jnp.array([0.0, 1.0, 2.0, 1e-160, 1.0, 1e-310, 1e-200, 1e-200])
    tiny = [(1e-300, 1.0), (1.0, 1e-300), (1e-200, 0.0), (1e-200, 3e-200), (5e-324, 1e-320)]
    s_pts, b_pts = np.array([(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), *tiny]).T
    g = _elementwise_grads(n, nu, s_pts, b_pts)
    for name, leaf in g.items():
        assert _finite(leaf), name
    # exclusion Z has slope 1/sqrt(b) at s = 0 (no sqrt(0) singularity)
    assert float(g["asimov_exclusion_z"][0][2]) == pytest.approx(1.0, rel=1e-12)
    assert _finite(AUL_GRAD(np.array([0.0, 1e-300])))
    assert _finite(CUL_GRAD(0.0, 0.0, 0.9))
    s_bins = np.array([1.0, 0.0, 2.0, 0.0, 0.0, 0.0])  # b = 0, s = 0 and empty bins
    b_bins = np.array([0.0, 2.0, 3.0, 0.0, 0.0, 0.0])
    assert _finite(SSL_GRAD(s_bins, b_bins, 0.9, 0.1))
    # q = 0: identical spectra
    d, _ = dm_spectra(10, 30.0)
    assert _finite(jax.grad(stats.dirac_majorana_z, argnums=(0, 1, 2))(d, d, jnp.ones(10)))
    assert float(stats.dirac_majorana_z(d, d)) == 0.0


def test_signal_strength_limit_vmap_jit():
    s = np.stack([S_BINS, 2.0 * S_BINS])
    got = jax.jit(jax.vmap(stats.signal_strength_limit))(s, np.stack([B_BINS, B_BINS]))
    x0 = float(stats.signal_strength_limit(S_BINS, B_BINS))
    np.testing.assert_allclose(got, [x0, x0 / 2.0], rtol=1e-12)


# ------------------------------------------------------------------------------------------
# input validation
# ------------------------------------------------------------------------------------------


def test_invalid_input_raises():
    with pytest.raises(ValueError, match="b must be"):
        stats.asimov_upper_limit(-1.0)
    with pytest.raises(ValueError, match="b must be"):
        stats.counting_upper_limit(2, -0.5)
    with pytest.raises(ValueError, match="n_obs must be"):
        stats.counting_upper_limit(-1, 0.5)
    with pytest.raises(ValueError, match=r"cl must lie in the open interval \(0, 1\)"):
        stats.z_from_cl(1.5)
    with pytest.raises(ValueError, match="cl must lie"):
        stats.counting_upper_limit(2, 0.5, cl=1.5)
    with pytest.raises(ValueError, match="cl must lie"):
        stats.signal_strength_limit(S_BINS, B_BINS, cl=0.0)
    with pytest.raises(ValueError, match="same shape"):
        stats.hypothesis_q(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="incompatible shapes"):
        stats.binned_q(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="incompatible shapes"):
        stats.signal_strength_limit(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="nu must be"):
        stats.binned_q(np.ones(2), np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="sigma_b must be"):
        stats.signal_strength_limit(S_BINS, B_BINS, sigma_b=-0.1)
    with pytest.raises(ValueError, match="positive total"):
        stats.signal_strength_limit(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="truth must be one of"):
        stats.dirac_majorana_z(np.ones(3), np.ones(3), truth="both")
    with pytest.raises(ValueError, match="n_toys"):
        stats.poisson_toys(jax.random.key(0), np.ones(3), 0)


@pytest.mark.parametrize(
    "g, a, b",
    [
        (lambda s: np.sqrt(s) - 1.3, 0.0, 4.0),  # sqrt(q)-like: the limits' case
        (lambda s: np.tanh(5.0 * (s - 2.0)) + 0.1, 0.5, 9.0),  # flat ends
        (lambda s: (s - 1.0) ** 3 + 1e-3 * s, 0.0, 3.0),  # a flat crossing
    ],
)
def test_limit_root_finder_against_brentq(g, a, b):
    # the regula falsi (Illinois) that solves q(s) = q_crit for the data limits: the root of
    # scipy's brentq to 1e-9 relative, in few evaluations
    from scipy.optimize import brentq

    from jaxdipole.coherent import _illinois

    calls = []

    def counted(s):
        calls.append(s)
        return float(g(s))

    root = _illinois(counted, a, b, float(g(a)), float(g(b)))
    assert root == pytest.approx(brentq(g, a, b, xtol=1e-14), rel=1e-9)
    assert len(calls) <= 20  # 8, 11, 14 (bisection to 1e-9: ~32)
