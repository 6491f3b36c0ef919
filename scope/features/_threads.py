"""Threads for the numba kernels.

Kernels are compiled ``nogil`` and work on a range of light curves; :func:`run_chunks` spreads
the ranges over a pool of ``n_threads`` Python threads, which then run truly in parallel. This
gives the same speed-up as a ``prange`` loop (the work per chunk is far larger than the call
overhead) while avoiding numba's parallel-region compilation, which doubled the one-off JIT time
of every kernel. The thread count asked for is the one used: ``n_threads`` workers, no hidden
pool (the reference's Rust backend ignored ``--Ncore``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numba


def available_cpus() -> int:
    """CPUs this process may run on (respects affinity masks such as a Slurm allocation)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def resolve_threads(n_threads: int | None) -> int:
    """Return the thread count a call will really use.

    Parameters
    ----------
    n_threads : int or None
        Requested threads; ``None`` or ``0`` means numba's setting (``NUMBA_NUM_THREADS``,
        ``numba.set_num_threads``), capped at the CPUs available to this process.

    Returns
    -------
    int
        At least 1.
    """
    if not n_threads:
        return max(1, min(int(numba.get_num_threads()), available_cpus()))
    return max(1, int(n_threads))


def run_chunks(fn: Callable[[int, int], None], n_items: int, n_threads: int | None, chunk: int | None = None) -> int:
    """Call ``fn(start, stop)`` over ``[0, n_items)`` in chunks, on ``n_threads`` threads.

    ``fn`` must release the GIL (a ``nogil`` numba function) and write disjoint outputs.

    Parameters
    ----------
    fn : callable
        Worker taking a half-open range of item indices.
    n_items : int
        Number of items (light curves).
    n_threads : int or None
        Threads (see :func:`resolve_threads`).
    chunk : int, optional
        Items per call; default: an even split over the threads. Use 1 for expensive items of
        uneven cost (dynamic load balancing).

    Returns
    -------
    int
        The number of threads used.
    """
    workers = min(resolve_threads(n_threads), max(1, n_items))
    if n_items <= 0:
        return workers
    if chunk is None:
        chunk = -(-n_items // workers)
    chunk = max(1, int(chunk))
    ranges = [(start, min(n_items, start + chunk)) for start in range(0, n_items, chunk)]
    if workers == 1 or len(ranges) == 1:
        for start, stop in ranges:
            fn(start, stop)
        return 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # list() re-raises the first exception of any worker
        list(pool.map(lambda r: fn(*r), ranges))
    return workers
