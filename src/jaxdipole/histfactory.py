"""The COHERENT likelihoods of jaxdipole as HistFactory (pyhf JSON) workspaces.

:func:`cenns10_workspace` and :func:`csi2021_workspace` write the binned likelihoods of
:mod:`jaxdipole.coherent` (CENNS-10 liquid argon) and :mod:`jaxdipole.coherent_csi` (CsI 2021)
as pyhf workspace specifications (schema ``1.0.0``), plain JSON-serialisable Python that
:func:`write_workspace` stores; ``pyhf.Workspace(spec).model(modifier_settings=
MODIFIER_SETTINGS)`` rebuilds the model. pyhf itself is not needed to build a specification.

What maps exactly and what does not
-----------------------------------
* Poisson counts, the released shape variations (``histosys``, interpolated as pyhf
  ``code4p``, exactly as jaxdipole's ``_histosys``), the free normalisations (``normfactor``)
  and the steady-state background of CsI (one free rate per PE bin, common to the C and AC
  windows: one sample per PE bin, each with its own ``normfactor`` shared by both channels)
  are exact.
* jaxdipole constrains the CEvNS and background scales *linearly*: a scale a with a Gaussian
  prior 1 ± p. HistFactory has no Gaussian-constrained multiplicative scale other than the
  single ``lumi`` parameter, so two representations are offered (``normalisation``):

  ``"normsys"`` (default)
      the conventional ``normsys`` with hi = 1 + p, lo = 1 − p and a unit-Gaussian pull α:
      multiplicative, so the shape variations of the sample scale with it as in jaxdipole,
      but not linear in α. pyhf's default ``code1`` is exponential, (1 + p)^α or (1 − p)^|α|;
      :data:`MODIFIER_SETTINGS` asks for ``code4``, exact at α = 0, ±1 and polynomial in
      between (exponential beyond). The implied prior on the scale is thus log-normal-like
      rather than Gaussian, a difference that grows with p and |α|. A prior p ≥ 1 (CENNS-10
      delayed BRN) has lo ≤ 0, which ``normsys`` cannot take: it falls back to ``"histosys"``
      (exact there: that sample has no shape variation).
  ``"histosys"``
      a ``histosys`` with ±1σ templates (1 ± p) × nominal: the variation being symmetric, the
      sample becomes (1 + p α) × nominal under any interpolation code, jaxdipole's prior
      exactly. Being additive, it does not scale the shape variations of the same sample:
      jaxdipole's (1 + p α)(nominal + Σ_k δ_k) becomes (1 + p α) nominal + Σ_k δ_k, a
      difference p α δ_k (CENNS-10 prompt BRN and CEvNS, CsI CEvNS; the other scaled samples
      carry no shape variation and are exact).

  Both agree with jaxdipole at the nominal point and to first order around it. In the SM fits
  of the releases the fitted CEvNS count differs from jaxdipole's by 1e-4 to 3e-4 (``normsys``) and
  1 % (CENNS-10, ``histosys``: the BRN cross term) or 1e-5 (CsI, ``histosys``: exact).
* pyhf's workspace schema has no place for interpolation codes: pass
  :data:`MODIFIER_SETTINGS` to ``Workspace.model``; pyhf's defaults (``code0`` for
  ``histosys``, ``code1`` for ``normsys``) differ from jaxdipole's ``code4p`` shapes.
* pyhf bounds every parameter: the constrained pulls within ±5σ (and above −1/p under
  ``"histosys"``, so that no scale turns negative), the free scales within
  [0, 10], the steady-state rates of CsI within [0, 50] × their AC reference and the signal
  strength within ``poi_bounds``; jaxdipole's scales are unbounded.
* pyhf orders channels, samples and parameters by name: read its results through
  ``model.config.channel_slices`` and ``model.config.par_slice``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
from jax.typing import ArrayLike

from ._io import write_text

__all__ = ["MODIFIER_SETTINGS", "cenns10_workspace", "csi2021_workspace", "write_workspace"]

#: The interpolation codes of jaxdipole's likelihoods, for ``pyhf.Workspace.model``:
#: ``ws.model(modifier_settings=MODIFIER_SETTINGS)`` (shapes ``code4p``; ``normsys`` ``code4``:
#: polynomial inside ±1σ, exponential outside).
MODIFIER_SETTINGS = {"histosys": {"interpcode": "code4p"}, "normsys": {"interpcode": "code4"}}

Normalisation = Literal["histosys", "normsys"]


def _floats(x: ArrayLike, what: str) -> list[float]:
    a = np.asarray(x, dtype=float).ravel()
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{what}: every entry must be finite")
    return [float(v) for v in a]


def _shaped(x: ArrayLike, shapes: tuple[tuple[int, ...], ...], what: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.shape not in shapes:
        raise ValueError(f"{what} must have shape {' or '.join(map(str, shapes))}, got {a.shape}")
    return a


def _scale(name: str, prior: float, nominal: np.ndarray, how: Normalisation) -> dict:
    """Modifier of a scale with a Gaussian prior 1 ± ``prior`` on a sample ``nominal``."""
    if how not in ("histosys", "normsys"):
        raise ValueError(f"normalisation must be 'histosys' or 'normsys', got {how!r}")
    if how == "normsys" and prior < 1.0:
        return {"name": name, "type": "normsys", "data": {"hi": 1.0 + prior, "lo": 1.0 - prior}}
    data = {
        "hi_data": _floats((1.0 + prior) * nominal, name),
        "lo_data": _floats((1.0 - prior) * nominal, name),
    }
    return {"name": name, "type": "histosys", "data": data}


def _scale_parameter(name: str, prior: float, how: Normalisation) -> dict:
    lo = -5.0 if how == "normsys" and prior < 1.0 else -min(5.0, 1.0 / prior)
    return {"name": name, "inits": [0.0], "bounds": [[lo, 5.0]]}


def _histosys(name: str, up: np.ndarray, down: np.ndarray) -> dict:
    data = {"hi_data": _floats(up, name), "lo_data": _floats(down, name)}
    return {"name": name, "type": "histosys", "data": data}


def _normfactor(name: str) -> dict:
    return {"name": name, "type": "normfactor", "data": None}


def _spec(channels, observations, name, poi, parameters) -> dict[str, Any]:
    types: dict[str, set[str]] = {}
    for channel in channels:
        for sample in channel["samples"]:
            for mod in sample["modifiers"]:
                types.setdefault(mod["name"], set()).add(mod["type"])
    names = [p["name"] for p in parameters]
    if len(set(names)) != len(names) or any(len(t) > 1 for t in types.values()):
        raise ValueError(f"poi {poi!r} clashes with a nuisance parameter of the model")
    return {
        "version": "1.0.0",
        "channels": channels,
        "observations": observations,
        "measurements": [{"name": name, "config": {"poi": poi, "parameters": parameters}}],
    }


def cenns10_workspace(
    release,
    sm: ArrayLike,
    signal: ArrayLike | None = None,
    *,
    poi: str = "mu",
    cevns_free: bool | None = None,
    normalisation: Normalisation = "normsys",
    poi_bounds: tuple[float, float] = (0.0, 1e6),
) -> dict[str, Any]:
    """The CENNS-10 likelihood of :mod:`jaxdipole.coherent` as a pyhf workspace.

    One channel ``cenns10`` of the 12 energy × 8 F90 × 10 time bins, flattened in C order
    (energy-major), observed counts ``release.data``. Samples (events per bin):

    * ``cevns``: the nuclear recoils ``sm`` spread over F90 by
      :func:`~jaxdipole.coherent.f90_shape`; scale ``cevns_scale`` (free ``normfactor``,
      as :func:`~jaxdipole.coherent.cenns10_sm_fit`) or ``cevns_norm`` (prior 1 ±
      :data:`~jaxdipole.coherent.CEVNS_PRIOR`, as the limit likelihood);
    * ``brn``, ``delayed_brn``, ``steady_state``: the release's expectations with priors
      :data:`~jaxdipole.coherent.BACKGROUND_PRIORS` (``<name>_norm``);
    * ``signal`` (when given): normfactor ``poi``, not scaled by the CEvNS normalisation.

    The released shape variations (``release.shape_systematics``) are ``histosys`` modifiers
    named as there: the BRN ones with the released ±1σ templates, the CEvNS ones with the
    released relative change per bin applied to the ``cevns`` and ``signal`` samples (as
    :func:`~jaxdipole.coherent.cenns10_expected` does). See the module docstring for the
    scale representations (``normalisation``) and the interpolation codes.

    Parameters
    ----------
    release : CENNS10Release
        The data release (:func:`~jaxdipole.coherent.load_cenns10`).
    sm : array_like, shape (12, 10)
        SM CEvNS counts per (energy, time) bin [events], summed over F90.
    signal : array_like, shape (12, 10), optional
        Signal counts per (energy, time) bin at unit strength [events].
    poi : str
        Name of the signal strength; without a signal the POI is ``cevns_scale`` (or
        ``cevns_norm`` if ``cevns_free`` is False).
    cevns_free : bool, optional
        Whether the CEvNS scale is free; default: free without a signal, under its prior with
        one (jaxdipole's SM fit and limit likelihoods).
    normalisation : {"histosys", "normsys"}
        Representation of the Gaussian-constrained scales.
    poi_bounds : (float, float)
        Bounds of the signal strength.

    Returns
    -------
    dict
        The workspace specification (JSON-serialisable).
    """
    from .coherent import BACKGROUND_PRIORS, CEVNS_PRIOR, f90_shape

    shape = release.data.shape
    sm = _shaped(sm, ((shape[0], shape[2]),), "sm")
    free = signal is None if cevns_free is None else bool(cevns_free)
    f90 = f90_shape(release)[:, :, None]
    e = release.expected

    def spread(nr):
        return nr[:, None, :] * f90

    # the CEvNS shape variations: the released relative change per bin, on any nuclear recoils
    rel = {}
    for name in sorted(release.shape_systematics):
        component, up, down = release.shape_systematics[name]
        if component == "cevns":
            nominal = e["cevns"]
            safe = np.where(nominal > 0, nominal, 1.0)
            rel[name] = (
                np.where(nominal > 0, up / safe - 1.0, 0.0),
                np.where(nominal > 0, 1.0 - down / safe, 0.0),
            )

    def nr_shapes(nr):
        return [_histosys(k, nr * (1.0 + u_), nr * (1.0 - d_)) for k, (u_, d_) in rel.items()]

    cevns = spread(sm)
    if free:
        mods = [_normfactor("cevns_scale")]
        parameters = [{"name": "cevns_scale", "inits": [1.0], "bounds": [[0.0, 10.0]]}]
    else:
        mods = [_scale("cevns_norm", CEVNS_PRIOR, cevns, normalisation)]
        parameters = [_scale_parameter("cevns_norm", CEVNS_PRIOR, normalisation)]
    mods += nr_shapes(cevns)
    samples = [{"name": "cevns", "data": _floats(cevns, "sm"), "modifiers": mods}]

    for name in ("brn", "delayed_brn", "steady_state"):
        nominal, prior = e[name], BACKGROUND_PRIORS[name]
        mods = [_scale(f"{name}_norm", prior, nominal, normalisation)]
        parameters.append(_scale_parameter(f"{name}_norm", prior, normalisation))
        for sys_name in sorted(release.shape_systematics):
            component, up, down = release.shape_systematics[sys_name]
            if component == name:
                mods.append(_histosys(sys_name, up, down))
        samples.append({"name": name, "data": _floats(nominal, name), "modifiers": mods})

    if signal is not None:
        sig = spread(_shaped(signal, ((shape[0], shape[2]),), "signal"))
        mods = [_normfactor(poi), *nr_shapes(sig)]
        samples.append({"name": "signal", "data": _floats(sig, "signal"), "modifiers": mods})
        parameters.append({"name": poi, "inits": [0.0], "bounds": [list(map(float, poi_bounds))]})
        the_poi = poi
    else:
        the_poi = "cevns_scale" if free else "cevns_norm"
    channels = [{"name": "cenns10", "samples": samples}]
    observations = [{"name": "cenns10", "data": _floats(release.data, "data")}]
    return _spec(channels, observations, "cenns10", the_poi, parameters)


def _stack(x: ArrayLike, n_pe: int, n_t: int, what: str) -> np.ndarray:
    from .coherent_csi import VARIATIONS

    shapes = ((n_pe, n_t), (1 + 2 * len(VARIATIONS), n_pe, n_t))
    return _shaped(x, shapes, what)


def _response_mods(stack: np.ndarray) -> list[dict]:
    """histosys of the response variations of a (7, n_pe, n_t) stack (none for a 2-D one)."""
    from .coherent_csi import VARIATIONS

    if stack.ndim == 2:
        return []
    return [
        _histosys(name, stack[2 * k + 1], stack[2 * k + 2]) for k, name in enumerate(VARIATIONS)
    ]


def csi2021_workspace(
    release,
    sm: ArrayLike,
    signal: ArrayLike | None = None,
    *,
    poi: str = "mu",
    cevns_free: bool | None = None,
    normalisation: Normalisation = "normsys",
    poi_bounds: tuple[float, float] = (0.0, 1e6),
) -> dict[str, Any]:
    """The CsI 2021 likelihood of :mod:`jaxdipole.coherent_csi` as a pyhf workspace.

    Two channels of n_pe × n_t bins (C order, PE-major): ``csi2021_c`` (coincidence window,
    counts ``release.data``) and ``csi2021_ac`` (anti-coincidence, ``release.anticoincidence``).
    Samples (events per bin):

    * ``cevns`` (C): ``sm`` (its nominal), scale ``cevns_scale`` (free ``normfactor``, as
      :func:`~jaxdipole.coherent_csi.csi2021_sm_fit`) or ``cevns_norm`` (prior 1 ±
      :data:`~jaxdipole.coherent_csi.CEVNS_PRIOR`), and, if ``sm`` holds the response
      variations, one ``histosys`` per entry of :data:`~jaxdipole.coherent_csi.VARIATIONS`;
    * ``brn``, ``nin`` (C): the release's templates with priors
      :data:`~jaxdipole.coherent_csi.BACKGROUND_PRIORS` (``<name>_norm``);
    * ``steady_state_pe<i>`` (C and AC), one per PE bin i: the AC window's counts in that PE
      bin (at least 0.5, jaxdipole's reference) spread in time as flat × timing efficiency,
      zero in the other PE bins, with a free ``normfactor`` of the same name shared by both
      channels. This is exactly jaxdipole's one free rate per PE bin common to both windows
      (a per-bin ``shapefactor`` would free every time bin as well);
    * ``signal`` (C, when given): normfactor ``poi`` and, for a stack, the response
      ``histosys`` (shared with ``cevns``).

    See the module docstring for the scale representations (``normalisation``) and the
    interpolation codes.

    Parameters
    ----------
    release : CsI2021Release
        The data release (:func:`~jaxdipole.coherent_csi.load_csi2021`).
    sm : array_like, shape (n_pe, n_t) or (7, n_pe, n_t)
        SM CEvNS counts per (PE, time) bin [events], or the stack of
        :func:`~jaxdipole.coherent_csi.csi2021_cevns_variations` (nominal, then +1σ, −1σ of
        each variation).
    signal : array_like, shape (n_pe, n_t) or (7, n_pe, n_t), optional
        Signal counts at unit strength [events] (or their response variations).
    poi, cevns_free, normalisation, poi_bounds
        As for :func:`cenns10_workspace`.

    Returns
    -------
    dict
        The workspace specification (JSON-serialisable).
    """
    from .coherent_csi import BACKGROUND_PRIORS, CEVNS_PRIOR, _ss_reference, _steady_state_shape

    n_pe, n_t = release.data.shape
    sm = _stack(sm, n_pe, n_t, "sm")
    free = signal is None if cevns_free is None else bool(cevns_free)
    nominal = sm if sm.ndim == 2 else sm[0]

    if free:
        mods = [_normfactor("cevns_scale")]
        parameters = [{"name": "cevns_scale", "inits": [1.0], "bounds": [[0.0, 10.0]]}]
    else:
        mods = [_scale("cevns_norm", CEVNS_PRIOR, nominal, normalisation)]
        parameters = [_scale_parameter("cevns_norm", CEVNS_PRIOR, normalisation)]
    mods += _response_mods(sm)
    c_samples = [{"name": "cevns", "data": _floats(nominal, "sm"), "modifiers": mods}]
    for name in ("brn", "nin"):
        prior = BACKGROUND_PRIORS[name]
        template = getattr(release, name)
        c_samples.append(
            {
                "name": name,
                "data": _floats(template, name),
                "modifiers": [_scale(f"{name}_norm", prior, template, normalisation)],
            }
        )
        parameters.append(_scale_parameter(f"{name}_norm", prior, normalisation))

    ss_ref = _ss_reference(release)
    t_shape = _steady_state_shape(release)
    ac_samples = []
    for i in range(n_pe):
        name = f"steady_state_pe{i}"
        template = np.zeros((n_pe, n_t))
        template[i] = ss_ref[i] * t_shape
        sample = {"name": name, "data": _floats(template, name), "modifiers": [_normfactor(name)]}
        c_samples.append(sample)
        ac_samples.append(sample)
        parameters.append({"name": name, "inits": [1.0], "bounds": [[0.0, 50.0]]})

    if signal is not None:
        sig = _stack(signal, n_pe, n_t, "signal")
        mods = [_normfactor(poi), *_response_mods(sig)]
        sig_nominal = sig if sig.ndim == 2 else sig[0]
        c_samples.append(
            {"name": "signal", "data": _floats(sig_nominal, "signal"), "modifiers": mods}
        )
        parameters.append({"name": poi, "inits": [0.0], "bounds": [list(map(float, poi_bounds))]})
        the_poi = poi
    else:
        the_poi = "cevns_scale" if free else "cevns_norm"
    channels = [
        {"name": "csi2021_c", "samples": c_samples},
        {"name": "csi2021_ac", "samples": ac_samples},
    ]
    observations = [
        {"name": "csi2021_c", "data": _floats(release.data, "data")},
        {"name": "csi2021_ac", "data": _floats(release.anticoincidence, "anticoincidence")},
    ]
    return _spec(channels, observations, "csi2021", the_poi, parameters)


def write_workspace(spec: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write the workspace ``spec`` to ``path`` as JSON, atomically (the file is written
    completely or not at all); returns the path."""
    return write_text(path, json.dumps(spec, indent=1, allow_nan=False) + "\n")
