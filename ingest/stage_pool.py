"""Staging deliveries in worker processes (performance, docs/scaling.md): ingest uses both cores.

Staging a delivery (read, map headers, hash PII, parse, row checks, good/bad rows staged) and
preparing its final files (duplicate rule within the delivery, quarantine, landing files per
date, key index: `Lander.prepare`) depend on no other delivery of the run, except the
reference feeds it checks against. Both run in worker processes while the main process
finishes the previous deliveries strictly in delivery order (a key check against earlier
deliveries, then renames, ledger last; the full duplicate check when keys meet), so decisions
are exactly those of one run per delivery. Results come back as files in the
main process's staging folder (`tmp/ingest/<main pid>/<content id>/`), never as pickled frames.

Workers are fresh interpreters (`ingest/stage_worker.py`, no fork: polars and DuckDB hold
thread pools a fork would copy in an undefined state) and exit on their own within a fraction
of a second when the main process dies (kill -9 included); the next run removes the dead
process's staging folder (`landing.remove_leftovers`). Nothing a worker writes is visible
outside that folder: landing, quarantine, key index and ledger are written by the main process.

WINDOWWATCH_INGEST_WORKERS: `auto` (default: 2 workers when a run has at least two file
deliveries to land and enough bytes to pay for starting them, else none), `0` (stage in the
main process, for debugging), or a number of workers.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path

from core.settings import settings

ENV = "WINDOWWATCH_INGEST_WORKERS"  # core/settings.py: ingest_workers
# 2 cores: staging is ~60 % of ingest's CPU and the in-order finish ~40 % (a city subset: 23.5 vs
# 16.5 CPU-s), so two workers plus the main process keep both cores busy.
AUTO_WORKERS = 2
# Starting a worker costs 1-2 CPU-s (imports polars, DuckDB, pyarrow); below this many bytes of
# deliveries to stage (e.g. an incremental day, ~46 k rows) the main process stages them itself.
AUTO_MIN_BYTES = 48 * 2**20


def worker_count(pending_bytes: int, pending_deliveries: int) -> int:
    """How many worker processes this run uses (0: stage in the main process)."""
    setting = settings().ingest_workers.strip().lower()
    if setting != "auto":
        try:
            n = int(setting)
        except ValueError:
            raise ValueError(f"{ENV}={setting!r}: use 'auto', 0 (stage in the main process) or a number of workers") from None
        return max(0, min(n, 8))
    if pending_deliveries >= 2 and pending_bytes >= AUTO_MIN_BYTES:
        return min(AUTO_WORKERS, os.cpu_count() or 1)
    return 0


def worker_threads_env(workers: int) -> dict[str, str]:
    """Thread pools of a worker: with as many workers as cores, each worker's own polars and
    DuckDB pools (default: one thread per core) only oversubscribe the cores. Set before the
    worker imports polars (POLARS_MAX_THREADS is read once, at import)."""
    if settings().ingest_worker_threads == "default":  # for measuring
        return {}
    threads = str(max(1, (os.cpu_count() or 1) // max(1, workers)))
    return {"POLARS_MAX_THREADS": threads, "WINDOWWATCH_INGEST_DUCKDB_THREADS": threads}


class WorkerDied(RuntimeError):
    pass


class StagePool:
    """Worker processes that stage deliveries; results are read back by `Lander.land`.

    Plain child processes (`python -c "...serve()"`), not multiprocessing: nothing of the
    caller's `__main__` is re-imported, polars/DuckDB thread pools are never forked, and the
    children are waited for, so their CPU time counts in the caller's rusage. One feeder
    thread per worker takes the next task in submission order."""

    def __init__(self, workers: int):
        self.workers = workers
        self._tasks: queue.Queue = queue.Queue()
        self._procs: list[subprocess.Popen] = []
        self._threads: list[threading.Thread] = []
        for i in range(workers):
            # the caller's cwd (delivery paths may be relative) and this copy of the packages
            root = str(Path(__file__).resolve().parent.parent)
            path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
            proc = subprocess.Popen([sys.executable, "-m", "ingest.stage_worker", str(os.getpid())],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    env={**os.environ, **worker_threads_env(workers), "PYTHONPATH": path})
            self._procs.append(proc)
            t = threading.Thread(target=self._feed, args=(proc,), name=f"ingest-stage-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def _feed(self, proc: subprocess.Popen) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            future, args = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                pickle.dump(args, proc.stdin)
                proc.stdin.flush()
                ok, value = pickle.load(proc.stdout)
            except (EOFError, OSError, pickle.UnpicklingError) as exc:
                future.set_exception(WorkerDied(f"an ingest staging worker (pid {proc.pid}) died: {exc!r}; re-run the ingest"))
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def submit(self, home_root: Path, delivery, stage: Path, ingested_at, key: bytes | None, references: dict) -> Future:
        """references: the reference keys (`Lander._references_for`) read by the main process
        when it released the delivery, so a worker never sees a half-landed reference feed."""
        future: Future = Future()
        self._tasks.put((future, (str(home_root), delivery, str(stage), ingested_at, key, references)))
        return future

    def close(self) -> None:
        """Cancel what has not started, wait for what runs, stop the workers."""
        while True:
            try:
                task = self._tasks.get_nowait()
            except queue.Empty:
                break
            if task is not None:
                task[0].cancel()
        for _ in self._threads:
            self._tasks.put(None)
        for t in self._threads:
            t.join()
        for proc in self._procs:
            proc.stdin.close()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()
