"""The append-only, hash-chained audit log: `$WINDOWWATCH_HOME/audit/log.jsonl`.

One JSON object per line. Every entry holds `seq` (1, 2, …), `prev_hash` (the previous
entry's `entry_hash`; 64 zeros for the first) and `entry_hash` = H(canonical JSON of the entry
without `entry_hash`). Editing, reordering or removing an entry breaks the chain; removing the
last entries is caught by `HEAD` (seq and hash of the last entry, rewritten after each append).

Appends hold an exclusive lock, write the whole line in one write() and fsync it. A crash in
the middle leaves a line without its newline (a torn tail): reading reports it, appending
refuses until `windowwatch audit verify --repair-torn-tail` moves it aside.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import getpass
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import faults
from core.localtime import LOCAL_TZ
from core.paths import Home
from core.paths import home as default_home
from windowwatch.audit.hashing import GENESIS, H, canonical_json

LOG_NAME = "log.jsonl"
_CACHE: dict[Path, tuple[tuple[int, int, int], list[dict[str, Any]]]] = {}
HEAD_NAME = "HEAD"


class LogError(RuntimeError):
    """The log is damaged or tampered with; the message names the file, line and rule."""


@dataclass(frozen=True)
class TornTail:
    line: int  # 1-based line number of the torn line
    offset: int  # byte offset where it starts
    size: int


def entry_hash(entry: dict[str, Any]) -> str:
    return H(canonical_json({k: v for k, v in entry.items() if k != "entry_hash"}))


def current_user() -> str:
    try:
        return os.environ.get("USER") or getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "unknown"




def now_local() -> str:
    """Now, local with its offset (+08:00), as the log records it."""
    return dt.datetime.now(LOCAL_TZ).isoformat(timespec="seconds")


class AuditLog:
    def __init__(self, h: Home | str | Path | None = None):
        if h is None:
            h = default_home()
        elif not isinstance(h, Home):
            h = Home(Path(h).resolve())
        self.home = h
        self.dir = self.home.audit
        self.path = self.dir / LOG_NAME
        self.head_path = self.dir / HEAD_NAME

    # ------------------------------------------------------------------ reading
    def read_raw(self) -> tuple[list[tuple[int, dict[str, Any] | None, str]], TornTail | None]:
        """(line number, parsed entry or None if not JSON, raw text) per complete line, and the torn tail."""
        if not self.path.exists():
            return [], None
        data = self.path.read_bytes()
        torn = None
        body = data
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            body = data[:cut]
            torn = TornTail(line=body.count(b"\n") + 1, offset=cut, size=len(data) - cut)
        out = []
        for i, raw in enumerate(body.decode("utf-8", errors="replace").split("\n")[:-1], start=1):
            try:
                obj = json.loads(raw)
                out.append((i, obj if isinstance(obj, dict) else None, raw))
            except json.JSONDecodeError:
                out.append((i, None, raw))
        return out, torn

    def entries(self) -> list[dict[str, Any]]:
        """Every entry, after checking the chain; raises LogError naming the first bad line.

        The checked list is cached per (log size, mtime, HEAD mtime) in this process: a city-scale
        log holds megabytes of pools, and the dashboard lists draws often. `verify` never
        uses the cache.
        """
        stamp = self._stamp()
        cached = _CACHE.get(self.path)
        if stamp is not None and cached is not None and cached[0] == stamp:
            return list(cached[1])
        lines, torn = self.read_raw()
        problems = check_chain(self.path, lines, torn, self.read_head())
        if problems:
            raise LogError("\n".join(problems))
        out = [e for _, e, _ in lines]
        if stamp is not None:
            _CACHE[self.path] = (stamp, out)
        return list(out)

    def chain_head(self) -> str:
        """The entry_hash of the last entry (GENESIS for an empty log): what every published
        report and public list prints, so a log rewritten later contradicts them (docs/operations.md)."""
        entries = self.entries()
        return entries[-1]["entry_hash"] if entries else GENESIS

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            st, hd = self.path.stat(), self.head_path.stat()
        except FileNotFoundError:
            return None
        return (st.st_size, st.st_mtime_ns, hd.st_mtime_ns)

    def read_head(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.head_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except json.JSONDecodeError:
            return {"seq": -1, "entry_hash": "unreadable"}

    # ------------------------------------------------------------------ writing
    @contextmanager
    def locked(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._remove_stale_temps()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _remove_stale_temps(self) -> None:
        """Temp files only a lock holder writes (HEAD.tmp here, .findings.*.parquet in findings.py):
        any present while we hold the lock were left by a writer that was killed."""
        for p in (self.head_path.with_suffix(".tmp"), *self.dir.glob(".findings.*.parquet")):
            p.unlink(missing_ok=True)

    def append(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Append one entry (seq, prev_hash, entry_hash, at, user filled in); returns it."""
        with self.locked():
            return self.append_locked(entry)

    def append_locked(self, entry: dict[str, Any]) -> dict[str, Any]:
        existing = self.entries()  # refuses on a broken chain or torn tail
        last = existing[-1] if existing else None
        full = {
            **entry,
            "seq": (last["seq"] + 1) if last else 1,
            "at": entry.get("at") or now_local(),
            "user": entry.get("user") or current_user(),
            "prev_hash": last["entry_hash"] if last else GENESIS,
        }
        full["entry_hash"] = entry_hash(full)
        line = (json.dumps(full, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(line)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)
        faults.checkpoint("audit.before_head")
        self._write_head(full)
        return full

    def _write_head(self, entry: dict[str, Any]) -> None:
        tmp = self.head_path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"seq": entry["seq"], "entry_hash": entry["entry_hash"]}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.head_path)

    def repair_torn_tail(self) -> Path | None:
        """Move an unacknowledged torn last line aside (log.torn-<time>), keeping its bytes."""
        with self.locked():
            _, torn = self.read_raw()
            if torn is None:
                return None
            data = self.path.read_bytes()
            aside = self.dir / f"log.torn-{dt.datetime.now():%Y%m%dT%H%M%S}"
            aside.write_bytes(data[torn.offset :])
            with open(self.path, "r+b") as fh:
                fh.truncate(torn.offset)
                fh.flush()
                os.fsync(fh.fileno())
            return aside


def check_chain(
    path: Path,
    lines: list[tuple[int, dict[str, Any] | None, str]],
    torn: TornTail | None,
    head: dict[str, Any] | None,
) -> list[str]:
    """Problems of the chain, one message per problem, each naming the line and the rule."""
    problems: list[str] = []
    prev = GENESIS
    for expected_seq, (line, entry, _raw) in enumerate(lines, start=1):
        where = f"{path}:{line}"
        if entry is None:
            problems.append(f"{where}: rule log_unparseable — the line is not a JSON object (edited?)")
            break
        seq = entry.get("seq")
        label = _label(entry)
        if entry.get("entry_hash") != entry_hash(entry):
            problems.append(f"{where}: rule entry_edited — {label}: its content no longer matches its entry_hash")
        if entry.get("prev_hash") != prev:
            problems.append(
                f"{where}: rule chain_broken — {label}: prev_hash does not match the previous entry "
                "(an entry was removed, inserted or reordered before it)"
            )
        if seq != expected_seq:
            problems.append(f"{where}: rule seq_gap — {label}: seq {seq}, expected {expected_seq} (removed or reordered)")
        prev = entry.get("entry_hash")
        if problems:
            break
    if torn is not None:
        problems.append(
            f"{path}:{torn.line}: rule torn_tail — the last line ({torn.size} bytes) is incomplete (a crash "
            "mid-write); nothing was acknowledged for it: run `windowwatch audit verify --repair-torn-tail`"
        )
    if not problems and head is not None:
        n = len(lines)
        last = lines[-1][1] if lines else None
        hseq = head.get("seq")
        if hseq is None or hseq > n:
            problems.append(
                f"{path}: rule entries_removed — HEAD records entry {hseq} ({head.get('entry_hash')}) "
                f"but the log holds {n} entries: entries at the end were removed"
            )
        elif hseq == n and last and head.get("entry_hash") != last.get("entry_hash"):
            problems.append(f"{path}: rule head_mismatch — the last entry is not the one HEAD records (replaced?)")
        elif hseq < n - 1 or (hseq == n - 1 and hseq >= 1 and head.get("entry_hash") != lines[hseq - 1][1].get("entry_hash")):
            # one behind is a crash between the append and the HEAD update; more is a rollback
            problems.append(f"{path}: rule head_behind — HEAD records entry {hseq} of {n}: HEAD was rolled back or replaced")
    elif not problems and head is None and len(lines) > 1:
        problems.append(f"{path}: rule head_missing — {len(lines)} entries but no HEAD file (deleted?)")
    return problems


def _label(entry: dict[str, Any]) -> str:
    kind = entry.get("kind", "?")
    ident = entry.get("draw_id") or entry.get("finding_id") or entry.get("commit_id") or ""
    return f"entry seq={entry.get('seq')} {kind} {ident}".rstrip()
