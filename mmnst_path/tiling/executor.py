"""Run a function over the tiles of a slide: in-process, on local processes, or on Dask.

``map_tiles(source, tiles, fn, args=...)`` calls ``fn(rgb, tile, *args)`` for every tile, where
``rgb`` is the tile image read by :func:`read_tile`, and returns the results in tile order
whatever order they finished in (so aggregation is deterministic).

Design points:

- **Workers open the slide from its path**, once per process (the reader is cached per process
  and thread), and never receive an open handle: OpenSlide handles cannot be pickled and file
  handles must not be shared between processes. For an in-memory image (a reader without a
  path, e.g. :class:`~mmnst_path.io.ArrayReader`) the parent reads each tile and ships its
  pixels instead, so the whole image is never copied into every worker.
- **Bounded work in flight**: at most ``max_in_flight`` tiles (default ``2 * workers``) are
  submitted and not yet collected, so memory stays flat whatever the slide size.
- **Start method 'spawn'**, always, for local processes: ``fork`` copies a parent that may hold
  threads (OpenSlide's cache, BLAS thread pools, a Dask client, napari's Qt) and can deadlock
  or corrupt them; ``forkserver`` is not available on Windows; ``spawn`` behaves the same on
  Linux, macOS and Windows, and is also what Dask's worker processes use, so a function that
  works here works on a cluster. The price is a fresh interpreter per worker (~0.3 s) and
  that ``fn`` must be importable (a module-level function) and scripts need an
  ``if __name__ == "__main__":`` guard.
- **Errors name the tile and the file**: an exception raised by ``fn`` (or by reading) comes
  back as :class:`TileError` with the tile index, grid position, level-0 core and the slide
  path in its message, chained to the original exception.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import pickle
import threading
import traceback
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, MmnstPathError
from .grid import Tile, read_tile

__all__ = ["TileError", "costliest_first", "map_tiles", "start_pool"]

START_METHOD = "spawn"


class TileError(MmnstPathError, RuntimeError):
    """The function mapped over tiles failed on one tile (the message names tile and file)."""


@dataclass(frozen=True, slots=True)
class _PathSource:
    """What a worker needs to open the slide itself."""

    path: str
    mpp: float | None

    def describe(self) -> str:
        return self.path


_LOCAL = threading.local()

#: readers kept open per worker process (and thread); the least recently used is closed beyond
#: this, so a long-lived Dask worker serving many slides does not accumulate open files
READER_CACHE_SIZE = 4


def _cached_reader(src: _PathSource) -> Any:
    """The reader of ``src`` for this process and thread, opened on first use."""
    cache: OrderedDict[_PathSource, Any] | None = getattr(_LOCAL, "readers", None)
    if cache is None:
        cache = _LOCAL.readers = OrderedDict()
    reader = cache.get(src)
    if reader is None:
        from ..io import open_slide

        with warnings.catch_warnings():  # the parent reported the file's metadata warnings once
            warnings.simplefilter("ignore")
            reader = cache[src] = open_slide(src.path, mpp=src.mpp)
        while len(cache) > READER_CACHE_SIZE:
            _, old = cache.popitem(last=False)
            old.close()
    else:
        cache.move_to_end(src)
    return reader


def _describe_tile(tile: Tile) -> str:
    c = tile.core
    return (
        f"tile {tile.index} (grid {tile.grid_pos[0]},{tile.grid_pos[1]}; level-0 core row={c.row}, "
        f"col={c.col}, {c.height}x{c.width})"
    )


def _fn_name(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def _failure(fn: Callable[..., Any], tile: Tile, where: str, exc: BaseException) -> TileError:
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
    msg = (
        f"{_fn_name(fn)} failed on {_describe_tile(tile)} of {where}: {type(exc).__name__}: {exc}\n"
        f"--- worker traceback ---\n{tb}"
    )
    return TileError(msg)


def _run_from_path(src: _PathSource, tile: Tile, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Worker task: open (cached) the slide, read the tile, apply ``fn``."""
    try:
        rgb = read_tile(_cached_reader(src), tile)
        return fn(rgb, tile, *args)
    except Exception as exc:
        raise _failure(fn, tile, src.describe(), exc) from exc


def _run_on_pixels(
    rgb: Any, tile: Tile, fn: Callable[..., Any], args: tuple[Any, ...], where: str
) -> Any:
    """Worker task for in-memory sources: the pixels come with the task."""
    try:
        return fn(rgb, tile, *args)
    except Exception as exc:
        raise _failure(fn, tile, where, exc) from exc


def _resolve_source(source: Any) -> tuple[_PathSource | None, Any, str]:
    """(path source for workers or None, in-process reader or None, description)."""
    if isinstance(source, str | os.PathLike):
        path = str(Path(source))
        return _PathSource(path, None), None, path
    if hasattr(source, "read_region") and hasattr(source, "level_shapes"):
        reader_path = getattr(source, "path", None)
        if reader_path is not None:
            src = _PathSource(str(reader_path), getattr(source, "mpp", None))
            return src, source, src.path
        return None, source, source.describe() if hasattr(source, "describe") else repr(source)
    msg = (
        "map_tiles: source must be a slide path (str or os.PathLike) or a SlideReader, "
        f"got {type(source).__name__}"
    )
    raise ConfigError(msg)


def _check_picklable(fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        pickle.dumps(fn)
    except Exception as exc:
        msg = (
            f"map_tiles: fn must be a module-level (importable, picklable) function to run in "
            f"worker processes, got {fn!r} ({type(exc).__name__}: {exc})"
        )
        raise ConfigError(msg) from exc
    try:
        pickle.dumps(args)
    except Exception as exc:
        msg = f"map_tiles: args must be picklable to reach worker processes ({type(exc).__name__}: {exc})"
        raise ConfigError(msg) from exc


def map_tiles(
    source: str | os.PathLike[str] | Any,
    tiles: Sequence[Tile],
    fn: Callable[..., Any],
    *,
    args: tuple[Any, ...] = (),
    workers: int | None = None,
    scheduler: str | Any | None = None,
    max_in_flight: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    order: Sequence[int] | None = None,
    pool: cf.ProcessPoolExecutor | None = None,
) -> list[Any]:
    """Apply ``fn(rgb, tile, *args)`` to every tile; results in tile order.

    Parameters
    ----------
    source : str, os.PathLike or SlideReader
        The slide. Workers open a path themselves (once per process); a reader with a
        ``path`` is reopened from it in workers (with its mpp); a reader without one (an
        in-memory image) is read by the parent and the tile pixels are sent to the workers.
    tiles : sequence of Tile
        Tiles planned by :func:`plan_grid` for this slide.
    fn : callable
        Module-level function ``fn(rgb, tile, *args)``; ``rgb`` is the (M, N, 3) uint8 tile
        image at ``tile.analysis_mpp`` with shape ``tile.shape``. Its return value must be
        picklable and should be small (counts, centroids), not full-resolution arrays.
    args : tuple
        Extra positional arguments (picklable), e.g. a frozen config.
    workers : int, optional
        Local processes (default ``os.cpu_count()``). ``1`` runs everything in this process
        without a pool (easiest to debug). Ignored when ``scheduler`` is given.
    scheduler : str or distributed.Client, optional
        A Dask distributed scheduler address (``"tcp://host:8786"``) or a connected client:
        tiles then run on that cluster, with the same results.
    max_in_flight : int, optional
        Tiles submitted but not yet collected (default twice the number of workers or
        cluster threads). Bounds memory.
    progress : callable, optional
        Called as ``progress(done, total)`` in this process after each finished tile (and
        once with ``done=0`` before starting).
    order : sequence of int, optional
        The order in which tiles are started: a permutation of ``range(len(tiles))`` (positions
        in ``tiles``). Starting the costliest tiles first lets the workers finish together
        (:func:`costliest_first`); results are still returned in tile order.
    pool : concurrent.futures.ProcessPoolExecutor, optional
        Local worker processes started earlier (:func:`start_pool`, e.g. while the caller
        detected tissue), used instead of a new pool when more than one worker runs, and left
        running (the caller shuts it down).

    Returns
    -------
    list
        ``fn``'s results, ``result[i]`` for ``tiles[i]``.

    Raises
    ------
    TileError
        When ``fn`` (or reading) fails on a tile; the message names the tile and the file
        and the original exception is chained (and its traceback quoted).
    ConfigError
        On a bad source, worker count, or a non-picklable ``fn``.
    """
    tiles = list(tiles)
    total = len(tiles)
    src, reader, where = _resolve_source(source)
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        msg = f"map_tiles: workers must be a positive integer, got {workers!r}"
        raise ConfigError(msg)
    if max_in_flight is not None and (not isinstance(max_in_flight, int) or max_in_flight < 1):
        msg = f"map_tiles: max_in_flight must be a positive integer, got {max_in_flight!r}"
        raise ConfigError(msg)
    if order is not None:
        perm = [int(i) for i in order]
        if sorted(perm) != list(range(total)):
            msg = f"map_tiles: order must be a permutation of range({total}) (tile positions), got {list(order)!r}"
            raise ConfigError(msg)
        done_in_order = map_tiles(source, [tiles[i] for i in perm], fn, args=args, workers=workers,
                                  scheduler=scheduler, max_in_flight=max_in_flight, progress=progress, pool=pool)
        results: list[Any] = [None] * total
        for k, i in enumerate(perm):
            results[i] = done_in_order[k]
        return results
    if progress is not None:
        progress(0, total)
    if total == 0:
        return []
    if scheduler is not None:
        _check_picklable(fn, args)
        from ._dask import map_tiles_dask

        return map_tiles_dask(
            scheduler, src, reader, where, tiles, fn, args, max_in_flight, progress
        )
    n_workers = min(workers if workers is not None else (os.cpu_count() or 1), total)
    if n_workers == 1:
        return _map_in_process(src, reader, where, tiles, fn, args, progress)
    _check_picklable(fn, args)
    return _map_local_pool(src, reader, where, tiles, fn, args, n_workers, max_in_flight, progress, pool)


def _noop() -> None:
    return None


def _warm(warm_up: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """Process initializer: ``warm_up(*args)``, whose failure is not fatal (the tiles then do the
    same work and report their own errors)."""
    with contextlib.suppress(Exception):  # an optimisation only: the tile tasks raise what matters
        warm_up(*args)


def start_pool(workers: int, *, warm_up: Callable[..., Any] | None = None,
               args: tuple[Any, ...] = ()) -> cf.ProcessPoolExecutor:
    """Start ``workers`` local worker processes now (start method 'spawn'), each running
    ``warm_up(*args)`` once as it starts (importing modules, loading models, loading compiled
    kernels), so this start-up overlaps what the caller does before its first tile.

    Pass the pool to :func:`map_tiles` (``pool=``) and shut it down when done
    (``pool.shutdown()``). ``warm_up`` must be a module-level function; an exception in it is
    ignored (the tiles then do that work themselves).
    """
    if not isinstance(workers, int) or workers < 1:
        msg = f"start_pool: workers must be a positive integer, got {workers!r}"
        raise ConfigError(msg)
    ctx = multiprocessing.get_context(START_METHOD)
    if warm_up is None:
        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    else:
        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_warm, initargs=(warm_up, args))
    for _ in range(workers):  # processes are spawned as tasks arrive: one task each starts them all
        pool.submit(_noop)
    return pool


def costliest_first(costs: Sequence[float]) -> list[int]:
    """Positions sorted by decreasing cost (ties: in order): the ``order`` of :func:`map_tiles`
    for the longest-processing-time-first rule, which keeps a pool's workers busy to the end
    (the last tiles started are the short ones)."""
    return sorted(range(len(costs)), key=lambda i: (-float(costs[i]), i))


def _map_in_process(
    src: _PathSource | None,
    reader: Any,
    where: str,
    tiles: list[Tile],
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    progress: Callable[[int, int], None] | None,
) -> list[Any]:
    own = reader is None
    if own:
        from ..io import open_slide

        assert src is not None
        reader = open_slide(src.path, mpp=src.mpp)
    try:
        results = []
        for done, tile in enumerate(tiles, start=1):
            try:
                results.append(fn(read_tile(reader, tile), tile, *args))
            except Exception as exc:
                raise _failure(fn, tile, where, exc) from exc
            if progress is not None:
                progress(done, len(tiles))
        return results
    finally:
        if own:
            reader.close()


def _submit(
    pool: cf.Executor,
    src: _PathSource | None,
    reader: Any,
    where: str,
    tile: Tile,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
) -> cf.Future[Any]:
    if src is not None:
        return pool.submit(_run_from_path, src, tile, fn, args)
    return pool.submit(_run_on_pixels, read_tile(reader, tile), tile, fn, args, where)


def _map_local_pool(
    src: _PathSource | None,
    reader: Any,
    where: str,
    tiles: list[Tile],
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    n_workers: int,
    max_in_flight: int | None,
    progress: Callable[[int, int], None] | None,
    given: cf.ProcessPoolExecutor | None = None,
) -> list[Any]:
    total = len(tiles)
    limit = max_in_flight if max_in_flight is not None else 2 * n_workers
    results: list[Any] = [None] * total
    ctx = multiprocessing.get_context(START_METHOD)
    pool = given if given is not None else cf.ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx)
    pending: dict[cf.Future[Any], int] = {}
    next_i = done = 0
    try:
        while done < total:
            while next_i < total and len(pending) < limit:
                pending[_submit(pool, src, reader, where, tiles[next_i], fn, args)] = next_i
                next_i += 1
            finished, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in sorted(finished, key=pending.__getitem__):
                i = pending.pop(fut)
                try:
                    results[i] = fut.result()
                except TileError:
                    raise
                except Exception as exc:  # e.g. a worker killed (BrokenProcessPool)
                    raise _failure(fn, tiles[i], where, exc) from exc
                done += 1
                if progress is not None:
                    progress(done, total)
    finally:
        if given is None:
            pool.shutdown(wait=True, cancel_futures=True)
        else:  # the caller's pool: only this call's unfinished tiles are dropped
            for fut in pending:
                fut.cancel()
    return results
