"""The per-release cache of compiled functions: kept per release object and key, one release
at a time."""

from __future__ import annotations

from jaxdipole._release_cache import for_last_release


class _Release:  # a plain record, unhashable as the data releases
    __hash__ = None  # type: ignore[assignment]


def test_kept_for_the_last_release_and_each_key():
    calls = []

    @for_last_release(key=float)
    def build(release, prior=1.0):
        calls.append((release, prior))
        return object()

    a, b = _Release(), _Release()
    x = build(a, 0.5)
    assert build(a, 0.5) is x and build(a, prior=0.5) is x and len(calls) == 1
    y = build(a)  # the default is part of the key
    assert y is not x and build(a, 1) is y and len(calls) == 2
    z = build(b, 0.5)  # another release object: built anew, the former one's results dropped
    assert z is not x and len(calls) == 3
    assert build(a, 0.5) is not x and len(calls) == 4
