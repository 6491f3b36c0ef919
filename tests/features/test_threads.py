"""Work splitting over threads."""

import threading

import numpy as np
import pytest

from scope.features._threads import resolve_threads, run_chunks


@pytest.mark.parametrize("n_threads,chunk", [(1, None), (2, None), (3, 1), (2, 7)])
def test_every_item_is_processed_once(n_threads, chunk):
    hits = np.zeros(50, dtype=int)
    lock = threading.Lock()

    def work(a, b):
        with lock:
            hits[a:b] += 1

    used = run_chunks(work, 50, n_threads, chunk=chunk)
    assert np.all(hits == 1)
    assert used == (1 if n_threads == 1 else n_threads)


def test_thread_count_is_what_was_asked():
    seen = set()

    def work(a, b):
        seen.add(threading.get_ident())
        threading.Event().wait(0.01)

    assert run_chunks(work, 8, 2, chunk=1) == 2
    assert len(seen) == 2
    assert resolve_threads(None) >= 1 and resolve_threads(5) == 5


def test_worker_errors_propagate():
    def work(a, b):
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run_chunks(work, 4, 2, chunk=1)
    assert run_chunks(work, 0, 2) >= 1  # nothing to do: never called
