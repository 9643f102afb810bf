"""The top-level namespace: curated (``__all__``), every name resolving, the version from the
installed package's metadata."""

from __future__ import annotations

import importlib.metadata
import types

import jaxdipole as jd


def test_all_names_resolve_and_are_public():
    assert len(set(jd.__all__)) == len(jd.__all__)
    for name in jd.__all__:
        assert hasattr(jd, name), name
        assert name == "__version__" or not name.startswith("_"), name
    ns: dict = {}
    exec("from jaxdipole import *", ns)  # the star import gives exactly __all__
    assert set(ns) - {"__builtins__"} == set(jd.__all__)


def test_entry_points_and_modules_are_exported():
    # the binned and windowed forms beside the totals, the presets namespace and its module
    for name in ("primakoff_sigma_window", "cevns_binned", "primakoff_window_events",
                 "cevns_window_events", "mean_decay_length", "photon_map", "scan"):  # fmt: skip
        assert name in jd.__all__ and callable(getattr(jd, name))
    assert isinstance(jd.experiment, types.ModuleType) and jd.experiment.Experiment is jd.Experiment
    assert callable(jd.experiments.nucleus_phase1)
    assert jd.primakoff_sigma_window is jd.primakoff.primakoff_sigma_window


def test_version_is_the_installed_metadata():
    assert jd.__version__ == importlib.metadata.version("jaxdipole")
