"""Run records: what each pipeline run did, where the dashboards and `windowwatch run` read it.

    runs/<run_key>/steps/<step>.json   one file per task (and per mapped source), written by
                                       that task only — parallel tasks never share a file
    runs/<run_key>.json                the assembled record of the run
    runs/latest.json                   the same, for the newest run

The assembled record holds the status (running / succeeded / partial / failed), every step's
state, duration and counts, the failed sources, the failure (task, reason, counts), the gate
results and Data Docs index paths, and the snapshot that is live. Files are replaced
atomically (temp + os.replace), so a reader never sees half a record.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core import atomic
from core.paths import Home
from windowwatch.snapshot import POINTER

LATEST = "latest.json"
# Steps whose failure fails the run; a failed source only makes it "partial".
CRITICAL_STEPS = ("list_sources", "raw_gate", "dbt_build", "marts_gate", "publish")


def run_key(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", run_id).strip("._") or "run"


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def _write_json(path: Path, data: dict) -> None:
    atomic.write_text(path, json.dumps(data, ensure_ascii=False, indent=1, default=str))


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


class RunRecord:
    def __init__(self, home: Home, run_id: str):
        self.home = home
        self.run_id = run_id
        self.key = run_key(run_id)
        self.dir = home.runs / self.key

    # ------------------------------------------------------------ per-step files

    def step_path(self, step: str) -> Path:
        return self.dir / "steps" / f"{run_key(step)}.json"

    def write_step(self, step: str, data: dict) -> None:
        _write_json(self.step_path(step), {"step": step, **data})

    def read_step(self, step: str) -> dict | None:
        return _read_json(self.step_path(step))

    def steps(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for p in sorted((self.dir / "steps").glob("*.json")):
            d = _read_json(p)
            if d:
                out[d.get("step", p.stem)] = d
        return out

    def set_meta(self, **meta: Any) -> None:
        path = self.dir / "meta.json"
        _write_json(path, {**(_read_json(path) or {}), **meta})

    def meta(self) -> dict:
        return _read_json(self.dir / "meta.json") or {}

    @contextmanager
    def step(self, step: str, **info: Any):
        """Record a task: started, then succeeded with its counts or failed with the reason.

        The body may fill `out` (a dict) with counts and details. Exceptions are re-raised
        (Airflow decides about retries) after the failure is on disk.
        """
        started = dt.datetime.now(dt.timezone.utc)
        out: dict[str, Any] = {}
        base = {"status": "running", "started_at": started.astimezone().isoformat(timespec="seconds"), **info}
        prev = self.read_step(step)
        if prev and prev.get("status") in ("failed", "succeeded"):
            # a retry: keep what the earlier attempts did (e.g. deliveries landed before failing)
            keep = ("try_number", "status", "reason", "counts", "duration_s")
            base["previous_attempts"] = [*prev.get("previous_attempts", []), {k: prev.get(k) for k in keep}]
        self.write_step(step, base)
        self.assemble()
        try:
            yield out
        except BaseException as exc:
            ended = dt.datetime.now(dt.timezone.utc)
            self.write_step(
                step,
                {
                    **base,
                    **out,
                    "status": "failed",
                    "finished_at": ended.astimezone().isoformat(timespec="seconds"),
                    "duration_s": round((ended - started).total_seconds(), 2),
                    "reason": f"{type(exc).__name__}: {exc}"[:4000],
                    "traceback_tail": traceback.format_exc(limit=-3)[-2000:],
                },
            )
            self.assemble()
            raise
        ended = dt.datetime.now(dt.timezone.utc)
        self.write_step(
            step,
            {
                **base,
                **out,
                "status": "succeeded",
                "finished_at": ended.astimezone().isoformat(timespec="seconds"),
                "duration_s": round((ended - started).total_seconds(), 2),
            },
        )
        self.assemble()

    # ------------------------------------------------------------ the assembled record

    def assemble(self, final: bool = False) -> dict:
        meta = self.meta()
        steps = self.steps()
        sources = {k.split(".", 1)[1]: v for k, v in steps.items() if k.startswith("ingest.")}
        core = {k: v for k, v in steps.items() if not k.startswith("ingest.")}
        failed_sources = sorted(k for k, v in sources.items() if v.get("status") == "failed")
        failure = None
        for name in CRITICAL_STEPS:
            s = core.get(name)
            if s and s.get("status") == "failed":
                failure = {"task": name, "reason": s.get("reason"), "counts": s.get("counts", {})}
                break
        if final and failure is None:
            # A critical step that never ran (upstream failed/killed) fails the run too.
            for name in CRITICAL_STEPS:
                s = core.get(name)
                if not s or s.get("status") != "succeeded":
                    failure = {
                        "task": name,
                        "reason": "did not run to completion (an upstream task failed or the worker died)"
                        if not s
                        else f"ended in state {s.get('status')}",
                        "counts": {},
                    }
                    break
        if failure:
            status = "failed"
        elif not final:
            status = "running"
        elif failed_sources:
            status = "partial"
        else:
            status = "succeeded"
        finished_at = now_iso() if final else None
        if not final and failure:
            # A failure callback that fires after a failed run was summarised (the summary task
            # failing the run) must not reopen it: the record keeps when the run finished.
            finished_at = (_read_json(self.home.runs / f"{self.key}.json") or {}).get("finished_at")
        live = None
        try:
            live = (self.home.published / POINTER).read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            pass
        record = {
            "run_id": self.run_id,
            "run_key": self.key,
            "status": status,
            **{k: meta.get(k) for k in ("dag_id", "as_of", "feeds", "invocation", "started_at")},
            "finished_at": finished_at,
            "failure": failure,
            "failed_sources": failed_sources,
            "sources": sources,
            "steps": core,
            "published": (core.get("publish") or {}).get("snapshot") if (core.get("publish") or {}).get("status") == "succeeded" else None,
            "live_snapshot": live,
            "data_docs": {
                g: (core.get(f"{g}_gate") or {}).get("data_docs_index") for g in ("raw", "marts")
            },
        }
        _write_json(self.home.runs / f"{self.key}.json", record)
        _write_json(self.home.runs / LATEST, record)
        return record


def latest(home: Home) -> dict | None:
    return _read_json(home.runs / LATEST)


def format_summary(record: dict) -> str:
    """A short, human summary: per-task state and duration, snapshot, counts."""
    lines = [
        f"WindowWatch run {record.get('run_id')} — {str(record.get('status')).upper()}"
        f" (as of {record.get('as_of')}, feeds {record.get('feeds') or '-'})",
        f"{'task':<28}{'state':<11}{'seconds':>9}  counts",
    ]
    steps = dict(record.get("steps") or {})
    for name, s in (record.get("sources") or {}).items():
        steps[f"ingest[{name}]"] = s
    order = ["list_sources", *[k for k in steps if k.startswith("ingest[")], "raw_gate", "dbt_build", "marts_gate", "publish"]
    for name in order + [k for k in steps if k not in order]:
        s = steps.get(name)
        if not s:
            lines.append(f"{name:<28}{'not run':<11}{'':>9}")
            continue
        counts = s.get("counts") or {}
        c = ", ".join(f"{k}={v}" for k, v in counts.items())
        dur = s.get("duration_s")
        lines.append(f"{name:<28}{s.get('status', '?'):<11}{(f'{dur:.1f}' if isinstance(dur, (int, float)) else ''):>9}  {c}")
    if record.get("failed_sources"):
        lines.append(f"failed sources: {', '.join(record['failed_sources'])} (the other sources were processed)")
    for name, s in (record.get("sources") or {}).items():
        for u in s.get("unreadable") or []:
            lines.append(f"unreadable delivery of {name} (reported, the rest landed): {u}")
        for u in s.get("deferred") or []:
            lines.append(f"warning: {name}: {u}")
    for name, s in (record.get("steps") or {}).items():
        for w in s.get("warnings") or []:
            lines.append(f"warning: {name}: {w}")
    if record.get("failure"):
        f = record["failure"]
        lines.append(f"FAILED at {f['task']}: {f['reason']}")
        lines.append(f"the last published snapshot stays live: {record.get('live_snapshot') or '(none published yet)'}")
    if record.get("published"):
        lines.append(f"published: {record['published']}")
    kept = (steps.get("publish") or {}).get("kept_live")
    if kept:
        lines.append(f"NOT PUBLISHED: {kept}")
    for gate, idx in (record.get("data_docs") or {}).items():
        if idx:
            lines.append(f"Data Docs ({gate}): {idx}")
    return "\n".join(lines)
