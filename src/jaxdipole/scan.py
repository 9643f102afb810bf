"""Parameter scans: evaluate a scalar-argument function on a grid, batched and sharded.

:func:`scan` is a host-level driver: it flattens a product (or zipped) grid into points, splits
them into equal, padded chunks, and evaluates each chunk with one compiled program that shards
the chunk's points over a 1-D device mesh (``jax.shard_map``) and, on each device, runs
``jax.lax.map(jax.vmap(fn), ..., batch_size=batch_size)`` over its local points (memory-bounded).
The Python loop runs over chunks, never over grid points.
"""

from __future__ import annotations

import math
import operator
import sys
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ._checks import is_traced

__all__ = ["scan"]

_AXIS = "points"
_AUTO_CHUNKS = 20  # chunks when a progress report is requested and chunk_size is None
#: Points vmapped at a time on a device when ``batch_size`` is None and a device holds more:
#: a 10⁶-point grid of reactor event rates then peaks at 0.5 GB instead of 2.9 GB and runs
#: 1.7× faster on a 2-core CPU (benchmarks/README.md).
AUTO_BATCH = 1 << 16
_ARRAY_TYPES = (jax.Array, np.ndarray, np.generic, bool, int, float, complex)


def _shard_map(f, mesh, in_specs, out_specs):
    """``jax.shard_map`` (public since jax 0.7), else ``jax.experimental.shard_map``.

    The per-device body is a plain pointwise evaluation with no collectives, so the
    varying-manual-axes check is switched off: it rejects loops (``lax.fori_loop``, root
    finders) whose initial carry is a constant while the body makes it device-varying.
    """
    sm = getattr(jax, "shard_map", None)
    if sm is not None:
        return sm(f, mesh=mesh, in_specs=in_specs, out_specs=out_specs, check_vma=False)
    from jax.experimental.shard_map import shard_map as sm  # pragma: no cover - older jax

    return sm(f, mesh=mesh, in_specs=in_specs, out_specs=out_specs, check_rep=False)


def _positive_int(name: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
    try:
        n = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be a positive integer or None, got {value!r}") from None
    if n < 1:
        raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
    return n


def _check_axes(axes, product: bool) -> tuple[tuple[str, ...] | None, list[np.ndarray]]:
    """Names (None for positional axes) and the axes as 1-D NumPy arrays."""
    if isinstance(axes, Mapping):
        names: tuple[str, ...] | None = tuple(axes)
        values = list(axes.values())
        labels = [f"axes[{k!r}]" for k in names]
    elif isinstance(axes, Sequence) and not isinstance(axes, str):
        names = None
        values = list(axes)
        labels = [f"axes[{i}]" for i in range(len(values))]
    else:
        raise ValueError(
            "axes must be a sequence of 1-D arrays or a dict name -> 1-D array, "
            f"got {type(axes).__name__} (wrap a single axis in a list: axes=[x])"
        )
    if not values:
        raise ValueError("axes must not be empty: give at least one 1-D array")
    arrays = []
    for label, v in zip(labels, values, strict=True):
        try:
            a = np.asarray(v)
        except jax.errors.TracerArrayConversionError:
            raise ValueError(f"{label} must be a concrete array, not a traced value") from None
        if a.ndim != 1:
            raise ValueError(
                f"{label} must be a 1-D array, got shape {a.shape}"
                + (" (wrap a single axis in a list: axes=[x])" if a.ndim == 0 else "")
            )
        if a.size == 0:
            raise ValueError(f"{label} must not be empty")
        arrays.append(a)
    if not product and len({a.size for a in arrays}) > 1:
        sizes = ", ".join(f"{lab}: {a.size}" for lab, a in zip(labels, arrays, strict=True))
        raise ValueError(f"with product=False all axes must have the same length, got {sizes}")
    return names, arrays


class _Bar:
    """Progress bar on stderr (tqdm; a widget in notebooks): desc, percent, done/total,
    elapsed < remaining. ``update`` takes the number done so far."""

    def __init__(self, desc: str, total: int):
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, desc=desc, file=sys.stderr, mininterval=0, miniters=1)
        self._done = 0

    def update(self, done: int) -> None:
        self._bar.update(done - self._done)
        self._done = done

    def close(self) -> None:
        self._bar.close()


# fn -> list of (key, values fn reads, compiled runner); see _cached_runner
_RUNNERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_RUNNERS_PER_FN = 8


def _values_read(fn) -> tuple:
    """The objects ``fn`` reads directly: its closure cells and the globals its code names."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return ()
    cells = []
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            cells.append(cell.cell_contents)
        except ValueError:  # empty cell
            cells.append(None)
    g = getattr(fn, "__globals__", {})
    return tuple(cells) + tuple(g[n] for n in code.co_names if n in g)


def _cached_runner(fn, key: tuple, build: Callable[[], Any]):
    """The jitted chunk runner for (fn, key), reused while fn reads the same objects.

    Repeated scans of one function then trace and compile once (jax.jit's own cache handles
    new chunk shapes). The cache entry holds the objects fn read at the first call (keeping
    their ids unique) and is dropped with fn; rebinding a variable fn closes over, or a
    global it names, makes a new entry. Values reached only through other functions are
    constants of the compiled program, as for ``jax.jit``.
    """
    try:
        entries = _RUNNERS.setdefault(fn, [])
    except TypeError:  # not weak-referenceable: no caching
        return build()
    read = _values_read(fn)
    if is_traced(read):
        return build()  # traced closure (scan under grad/jit): nothing to reuse
    ids = tuple(id(v) for v in read)
    for k, (entry_key, entry_ids, _, runner) in enumerate(entries):
        if entry_key == key and entry_ids == ids:
            entries.append(entries.pop(k))  # most recently used last
            return runner
    runner = build()
    entries.append((key, ids, read, runner))
    del entries[:-_RUNNERS_PER_FN]
    return runner


def scan(
    fn: Callable[..., Any],
    axes: Sequence[Any] | Mapping[str, Any],
    *,
    product: bool = True,
    batch_size: int | None = None,
    chunk_size: int | None = None,
    devices: Sequence[Any] | None = None,
    progress: bool | Callable[[int, int], Any] = False,
    desc: str = "scan",
) -> Any:
    """Evaluate ``fn`` on a grid of scalar arguments, batched, chunked and sharded over devices.

    Parameters
    ----------
    fn : callable
        Function of one scalar per axis (positional, or by keyword when ``axes`` is a dict)
        returning a pytree of arrays. It may close over models and experiments.
    axes : sequence of 1-D arrays, or dict name -> 1-D array
        Values of each argument (concrete arrays; dtypes are kept).
    product : bool
        True: outer-product grid, ``'ij'`` order, leading shape ``tuple(len(a) for a in axes)``.
        False: zipped points (all axes of the same length N), leading shape ``(N,)``.
    batch_size : int, optional
        Points vmapped at a time on each device (``jax.lax.map(..., batch_size=)``), bounding
        memory; None: all of a device's points in a chunk at once up to :data:`AUTO_BATCH`
        (65 536) points, batches of that size beyond.
    chunk_size : int, optional
        Points per host-level call, rounded up to a multiple of ``n_devices * batch_size``.
        Default: all points in one call (about 20 calls when ``progress`` is set).
    devices : sequence of jax.Device, optional
        Devices of the 1-D mesh the points are split over (default ``jax.devices()``).
    progress : bool or callable
        True: text progress bar on stderr, updated after each chunk. A callable is called as
        ``progress(done, total)`` (points) after each chunk instead.
    desc : str
        Label of the progress bar.

    Returns
    -------
    PyTree
        ``fn``'s output structure, each leaf a JAX array of shape grid shape + leaf shape,
        replicated over ``devices``.

    Notes
    -----
    The points are padded (repeating a valid point) to equal chunks, so the program is traced
    and compiled once per call; the padding is dropped from the output. Each chunk's points are
    split over the devices with ``jax.shard_map``; the results equal the unsharded evaluation.
    The compiled program is cached per ``fn`` (and batch size, devices): scanning the same
    function again -- with new axes values or another grid size of the same chunk layout --
    does not recompile. The cache is keyed on the objects ``fn`` reads directly (its closure
    variables and the globals it names), so rebinding one of them (``exp = ...``) recompiles;
    objects reached only through other functions are treated as constants, as by
    ``jax.jit``. A new closure (a ``lambda`` or inner ``def`` per call) compiles per call.
    ``jax.grad`` through ``scan`` w.r.t. values ``fn`` closes over works
    (the chunk loop is unrolled into the trace); the axes themselves must be concrete.

    Multi-host: after ``jax.distributed.initialize()`` in every process, ``jax.devices()`` spans
    all processes, and the same ``scan`` call, run by every process with the same arguments,
    shards the points over all of them; every process receives the full (replicated) result.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import jaxdipole as jd
    >>> exp = jd.experiments.ge_reactor()
    >>> def events(m_N, mu):
    ...     model = jd.DipoleModel(m_N=m_N, mu=jnp.stack([mu, 0.0, 0.0]), nature="dirac")
    ...     return jd.primakoff_events(model, exp)
    >>> m_N = jnp.geomspace(1e-4, 1e-2, 30)  # GeV
    >>> mu = jnp.geomspace(1e-11, 1e-8, 20)  # GeV^-1
    >>> n = jd.scan(events, [m_N, mu], batch_size=64)
    >>> n.shape
    (30, 20)
    """
    if not callable(fn):
        raise ValueError(f"fn must be callable, got {type(fn).__name__}")
    names, arrays = _check_axes(axes, product)
    batch_size = _positive_int("batch_size", batch_size)
    chunk_size = _positive_int("chunk_size", chunk_size)
    devices = list(jax.devices() if devices is None else devices)
    if not devices:
        raise ValueError("devices must not be empty")
    if not (isinstance(progress, bool) or callable(progress)):
        raise ValueError(f"progress must be a bool or a callable(done, total), got {progress!r}")

    def point_fn(*xs):
        return fn(**dict(zip(names, xs, strict=True))) if names is not None else fn(*xs)

    def checked_fn(*xs):
        out = point_fn(*xs)
        leaves = jax.tree_util.tree_leaves(out)
        bad = [type(x).__name__ for x in leaves if not isinstance(x, _ARRAY_TYPES)]
        if bad or not leaves:
            got = f"leaves of type {', '.join(sorted(set(bad)))}" if bad else "no array leaves"
            raise ValueError(f"fn must return a pytree of arrays, got {got}")
        return out

    grid_shape = tuple(a.size for a in arrays) if product else (arrays[0].size,)
    total = math.prod(grid_shape)
    n_dev = len(devices)

    # chunk layout: chunk = n_dev * local points, local a multiple of the batch
    chunk = chunk_size if chunk_size is not None else total
    if chunk_size is None and progress is not False:
        chunk = max(1, math.ceil(total / _AUTO_CHUNKS))
    local = math.ceil(chunk / n_dev)
    if batch_size is None and local > AUTO_BATCH:
        batch_size = AUTO_BATCH
    batch = None if batch_size is None else min(batch_size, local)
    if batch is not None:
        local = math.ceil(local / batch) * batch
        if batch == local:
            batch = None  # one batch: plain vmap
    chunk = n_dev * local
    n_chunks = math.ceil(total / chunk)

    mesh = Mesh(np.asarray(devices, dtype=object), (_AXIS,))
    in_sharding = NamedSharding(mesh, PartitionSpec(_AXIS))
    out_sharding = NamedSharding(mesh, PartitionSpec())  # gathered: replicated on every device

    def local_eval(*xs):
        # fn's output is checked while it is traced here (one trace per scan call)
        if batch is None:
            return jax.vmap(checked_fn)(*xs)
        # lax.map with batch_size vmaps checked_fn over each batch of `batch` points
        return jax.lax.map(lambda p: checked_fn(*p), xs, batch_size=batch)

    def build():
        sharded = _shard_map(
            local_eval, mesh, in_specs=PartitionSpec(_AXIS), out_specs=PartitionSpec(_AXIS)
        )
        return jax.jit(sharded, out_shardings=out_sharding)

    run = _cached_runner(fn, (names, batch, tuple(devices)), build)

    def chunk_inputs(start: int) -> list[jax.Array]:
        idx = np.minimum(np.arange(start, start + chunk), total - 1)  # pad: repeat last point
        if product:
            coords = [a[i] for a, i in zip(arrays, np.unravel_index(idx, grid_shape), strict=True)]
        else:
            coords = [a[idx] for a in arrays]
        return [
            jax.make_array_from_callback(c.shape, in_sharding, lambda s, c=c: c[s]) for c in coords
        ]

    bar = _Bar(desc, total) if progress is True else None
    hook = progress if callable(progress) and not isinstance(progress, bool) else None
    outs = []
    try:
        for k in range(n_chunks):
            out = run(*chunk_inputs(k * chunk))
            outs.append(out)
            if bar is not None or hook is not None:
                jax.block_until_ready(out)
                done = min((k + 1) * chunk, total)
                if bar is not None:
                    bar.update(done)
                if hook is not None:
                    hook(done, total)
    finally:
        if bar is not None:
            bar.close()

    def assemble(*leaves):
        flat = leaves[0] if len(leaves) == 1 else jnp.concatenate(leaves, axis=0)
        return flat[:total].reshape(grid_shape + flat.shape[1:])

    return jax.tree.map(assemble, *outs)
