"""Dask distributed back end of :func:`mmnst_path.tiling.map_tiles` (imported only when used)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ConfigError
from .executor import TileError, _failure, _PathSource, _run_from_path, _run_on_pixels
from .grid import Tile, read_tile

__all__ = ["map_tiles_dask"]


def _connect(scheduler: Any) -> tuple[Any, bool]:
    """(client, whether we created it and must close it)."""
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler, False
    if isinstance(scheduler, str):
        try:
            return Client(scheduler, set_as_default=False), True
        except OSError as exc:
            msg = f"map_tiles: cannot connect to the Dask scheduler at {scheduler!r}: {exc}"
            raise ConfigError(msg) from exc
    msg = (
        "map_tiles: scheduler must be a Dask scheduler address such as 'tcp://host:8786' or a "
        f"distributed.Client, got {type(scheduler).__name__}"
    )
    raise ConfigError(msg)


def map_tiles_dask(
    scheduler: Any,
    src: _PathSource | None,
    reader: Any,
    where: str,
    tiles: list[Tile],
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    max_in_flight: int | None,
    progress: Callable[[int, int], None] | None,
) -> list[Any]:
    """Same contract as the local pool, on a Dask cluster, with at most ``max_in_flight`` tasks."""
    from distributed import as_completed

    client, owned = _connect(scheduler)
    try:
        if max_in_flight is None:
            threads = sum(client.nthreads().values()) or 1
            max_in_flight = 2 * threads
        total = len(tiles)
        results: list[Any] = [None] * total
        index: dict[str, int] = {}

        def submit(i: int) -> Any:
            tile = tiles[i]
            if src is not None:
                fut = client.submit(_run_from_path, src, tile, fn, args, pure=False)
            else:
                fut = client.submit(
                    _run_on_pixels, read_tile(reader, tile), tile, fn, args, where, pure=False
                )
            index[fut.key] = i
            return fut

        next_i = min(max_in_flight, total)
        live = [submit(i) for i in range(next_i)]
        queue = as_completed(live, loop=client.loop)  # no default client needed
        done = 0
        try:
            for fut in queue:
                i = index.pop(fut.key)
                try:
                    results[i] = fut.result()
                except TileError:
                    raise
                except Exception as exc:
                    raise _failure(fn, tiles[i], where, exc) from exc
                finally:
                    fut.release()
                done += 1
                if progress is not None:
                    progress(done, total)
                if next_i < total:
                    queue.add(submit(next_i))
                    next_i += 1
        except BaseException:
            queue.clear()
            raise
        return results
    finally:
        if owned:
            client.close()
