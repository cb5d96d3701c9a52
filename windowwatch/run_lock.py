"""One run per home at a time (SPEC §6): `$WINDOWWATCH_HOME/run.lock`.

`windowwatch run` (and `windowwatch demo`, `quarantine delivery`) hold an exclusive
`fcntl.flock` on the file for the whole run — the Airflow child it starts and every task that
child runs included. The tasks never take the lock themselves (the holder is their parent: a
task that waited for it would wait forever); under a scheduler, where no `windowwatch run`
holds the home, the first task only checks that nobody does (`check_free`).

The file holds who has it (pid, start time, what): a second run says which run holds the home
and exits non-zero, never touching the first. The lock belongs to the open file, not to the
file's content: a holder that dies (even by kill -9) releases it, so a stale file never blocks,
and the file is never replaced or deleted (a new inode would let two holders in at once).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.paths import Home

LOCK_FILE = "run.lock"


class HomeBusy(RuntimeError):
    """Another process holds the home (the message names its pid and start time)."""


def lock_path(home: Home) -> Path:
    return home.root / LOCK_FILE


def _holder_text(fd: int) -> str:
    try:
        raw = os.pread(fd, 4096, 0).decode("utf-8", errors="replace")
        info = json.loads(raw)
    except (OSError, ValueError):
        return "another process (it has not written its pid yet)"
    extra = f", as of {info['as_of']}" if info.get("as_of") else ""
    return f"{info.get('what', 'a run')} pid {info.get('pid')} started at {info.get('started_at')}{extra}"


def _busy(home: Home, fd: int) -> HomeBusy:
    return HomeBusy(
        f"{home.root} is held by {_holder_text(fd)} ({lock_path(home)}): one run per home at a time — "
        "wait for it to finish (nothing of it was touched)"
    )


@contextmanager
def hold(home: Home, what: str = "windowwatch run", **info: str | None) -> Iterator[dict]:
    """Hold the home for the body; raises HomeBusy at once when another process holds it."""
    home.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(home), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(home, fd) from None
        holder = {
            "what": what,
            "pid": os.getpid(),
            "started_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            **info,
        }
        data = json.dumps(holder, ensure_ascii=False).encode("utf-8")
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        try:
            yield holder
        finally:
            os.ftruncate(fd, 0)  # nobody holds it now (the lock itself goes with the close)
    finally:
        os.close(fd)  # releases the flock


def check_free(home: Home) -> None:
    """Raise HomeBusy when a process holds the home now (a scheduled run's first task)."""
    path = lock_path(home)
    if not path.exists():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy(home, fd) from None
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
