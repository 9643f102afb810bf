"""The README's Python examples run as written (each block in order, one namespace)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_examples_run():
    blocks = _blocks()
    if not blocks:
        pytest.fail("README.md has no python examples")
    namespace: dict = {}
    for code in blocks:
        if "jax.distributed.initialize" in code:  # needs a cluster
            continue
        exec(compile(code, str(README), "exec"), namespace)
    assert float(namespace["rate_per_nucleus"]) > 0
    assert namespace["sig"].shape == (256,)
