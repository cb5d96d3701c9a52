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

Bounded memory (issue 21): each worker runs under an address-space limit
(WINDOWWATCH_INGEST_WORKER_MEMORY_MB, `worker_memory_bytes`). A delivery that needs more kills
only its worker (an allocation failure aborts polars) or raises MemoryError in it: the delivery
is refused by name (`WorkerDied`, reported as unreadable), a fresh worker takes the next
delivery, and every other delivery still lands.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path

from core.settings import settings
from ingest.delivery import NOT_IN_BOUNDED_MEMORY

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


def worker_memory_bytes(workers: int) -> int | None:
    """The address-space limit of one worker (RLIMIT_AS), None for none: the setting in MiB, else
    3/4 of the machine's memory shared by the workers (the main process and the OS keep the rest)."""
    mb = settings().ingest_worker_memory_mb
    if mb == 0:
        return None
    if mb is not None:
        return mb << 20
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    return total * 3 // 4 // max(1, workers)


class WorkerDied(RuntimeError):
    """A staging worker died while it staged a delivery (out of memory, most likely): that
    delivery is refused by name; the pool starts a fresh worker for the next one."""


def _death(proc: subprocess.Popen, limit: int | None) -> str:
    try:
        code = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    how = f"signal {signal.Signals(-code).name}" if code < 0 and -code in signal.valid_signals() else f"exit code {code}"
    cap = f"the limit of {limit / 2**20:,.0f} MiB per worker" if limit else "no per-worker limit"
    return NOT_IN_BOUNDED_MEMORY.format(how=f"the staging worker reading it died, {how}; {cap}, WINDOWWATCH_INGEST_WORKER_MEMORY_MB")


class StagePool:
    """Worker processes that stage deliveries; results are read back by `Lander.land`.

    Plain child processes (`python -c "...serve()"`), not multiprocessing: nothing of the
    caller's `__main__` is re-imported, polars/DuckDB thread pools are never forked, and the
    children are waited for, so their CPU time counts in the caller's rusage. One feeder
    thread per worker takes the next task in submission order."""

    def __init__(self, workers: int):
        self.workers = workers
        self.memory_limit = worker_memory_bytes(workers)
        self._tasks: queue.Queue = queue.Queue()
        self._procs: list[subprocess.Popen] = []
        self._threads: list[threading.Thread] = []
        for i in range(workers):
            self._procs.append(self._start())
            t = threading.Thread(target=self._feed, args=(i,), name=f"ingest-stage-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def _start(self) -> subprocess.Popen:
        # the caller's cwd (delivery paths may be relative) and this copy of the packages
        root = str(Path(__file__).resolve().parent.parent)
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        return subprocess.Popen([sys.executable, "-m", "ingest.stage_worker", str(os.getpid()), str(self.memory_limit or 0)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                env={**os.environ, **worker_threads_env(self.workers), "PYTHONPATH": path})

    def _feed(self, i: int) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            future, args = task
            if not future.set_running_or_notify_cancel():
                continue
            proc = self._procs[i]
            try:
                pickle.dump(args, proc.stdin)
                proc.stdin.flush()
                ok, value = pickle.load(proc.stdout)
            except (EOFError, OSError, pickle.UnpicklingError):
                # died on this delivery (out of memory, most likely): refuse it, go on with a fresh worker
                future.set_exception(WorkerDied(_death(proc, self.memory_limit)))
                for pipe in (proc.stdin, proc.stdout):
                    try:
                        pipe.close()
                    except OSError:
                        pass
                self._procs[i] = self._start()
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
            try:
                proc.stdin.close()
            except OSError:
                pass
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()
