"""A staging worker process (ingest/stage_pool.py starts it): `python -m ingest.stage_worker PARENT_PID`.

It stages and prepares the deliveries the pool sends, one at a time, through the lander's
public `stage` and `prepare`, and exits with its parent.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import time
from pathlib import Path

from core.paths import Home
from ingest.landing import Lander


def _exit_with_parent(parent: int) -> None:
    """A worker must never outlive the ingest that started it (kill -9 of the main process):
    on Linux the kernel kills it with its parent (PR_SET_PDEATHSIG); a watch thread covers the
    rest (and the moment before the prctl)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.05)
        os._exit(1)

    threading.Thread(target=watch, name="ingest-parent-watch", daemon=True).start()


def _stage_one(home_root: str, delivery, stage: str, ingested_at, key: bytes | None, references: dict) -> tuple:
    lander = Lander(Home(Path(home_root)), key=key)
    feed, stage_dir, hmap, rows_in, at = lander.stage(delivery, Path(stage), ingested_at, references)
    # the order-independent part of the finish too (final files under the staging folder)
    prepared = lander.prepare(delivery, feed, stage_dir, hmap, rows_in, at)
    return feed.name, str(stage_dir), hmap, rows_in, at, prepared


def _limit_memory(limit: int) -> None:
    """Bound this worker's address space (ingest/stage_pool.py: worker_memory_bytes): a delivery
    that needs more fails here (MemoryError, or polars aborts the process) instead of growing
    until the kernel's OOM killer takes the machine's memory and the whole run with it."""
    if limit > 0:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def serve(parent: int, memory_limit: int = 0) -> None:
    """The worker process: requests (pickled arguments of `_stage_one`) on stdin, replies
    (ok, result or exception) on what was stdout; anything printed goes to stderr."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    _exit_with_parent(parent)
    _limit_memory(memory_limit)
    while True:
        try:
            args = pickle.load(requests)
        except EOFError:
            return  # the main process closed the pool (or died)
        try:
            reply = (True, _stage_one(*args))
        except BaseException as exc:  # sent back and raised in the main process, in delivery order
            try:
                pickle.dumps(exc)
            except Exception:
                exc = RuntimeError(f"{type(exc).__name__}: {str(exc)[:500]}")
            reply = (False, exc)
        pickle.dump(reply, replies)
        replies.flush()


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 0)
