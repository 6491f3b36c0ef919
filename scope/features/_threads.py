"""Control of the number of threads numba kernels use.

numba's thread count is process-global state; :func:`numba_threads` sets it for the duration of
one call and puts the previous value back, so a library call never leaves a surprise behind.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

import numba

log = logging.getLogger(__name__)


def resolve_threads(n_threads: int | None) -> int:
    """Return the thread count a call will really use.

    Parameters
    ----------
    n_threads : int or None
        Requested threads; ``None`` or ``0`` means "what numba uses now".

    Returns
    -------
    int
        A value between 1 and ``numba.config.NUMBA_NUM_THREADS``.
    """
    ceiling = int(numba.config.NUMBA_NUM_THREADS)
    if not n_threads:
        return int(numba.get_num_threads())
    n = int(n_threads)
    if n < 1:
        n = 1
    if n > ceiling:
        # numba cannot start more threads than it was launched with; say so instead of failing
        log.warning("requested %d threads but numba allows at most %d; using %d", n, ceiling, ceiling)
        n = ceiling
    return n


@contextlib.contextmanager
def numba_threads(n_threads: int | None) -> Iterator[int]:
    """Run the body with numba's parallel regions limited to ``n_threads``.

    Parameters
    ----------
    n_threads : int or None
        Threads to use; ``None`` leaves the current setting.

    Yields
    ------
    int
        The number of threads in effect.
    """
    previous = int(numba.get_num_threads())
    n = resolve_threads(n_threads)
    numba.set_num_threads(n)
    try:
        yield n
    finally:
        numba.set_num_threads(previous)
