"""Shared pieces of the kill -9 trials of every stage after ingest (issue 8).

A trial copies a built small world (the session's `small_pipeline`, published once: the
`fault_world` fixture of tests/conftest.py) to its own WINDOWWATCH_HOME, starts the stage as a
real process, kills it with SIGKILL after a seeded random delay (or at a named step of
core/faults.py), re-runs the stage to the end and compares with an uninterrupted run.
`orphans()` lists what a killed run may leave behind; after the re-run it must be empty.

Run as a module, this file is the worker for the stages that have no CLI of their own:
`python -m tests.support.faults ge-raw|ge-marts|publish RUN_ID` (prints one JSON line).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.paths import REPO_ROOT

PII_KEY = "test-key-not-secret"  # the key small_pipeline landed with
TRIAL_RUN_DIR = "runs/fault-trial"  # where the raw gate writes its batches (the pipeline uses the run's folder)


def env_for(home: Path, fault_at: str | None = None) -> dict[str, str]:
    env = dict(os.environ, WINDOWWATCH_HOME=str(home), WINDOWWATCH_PII_KEY=PII_KEY, PYTHONUNBUFFERED="1")
    env.pop("WINDOWWATCH_WAREHOUSE", None)
    env.pop("WINDOWWATCH_FAULT_AT", None)
    if fault_at:
        env["WINDOWWATCH_FAULT_AT"] = fault_at
    return env


def copy_home(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns("airflow"))
    return dst


def run(cmd: list[str], home: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO_ROOT, env=env_for(home), capture_output=True, text=True, timeout=timeout)


@dataclass
class Kill:
    seed: int
    delay: float | None  # seconds after start; None when killed at a named step
    step: str | None = None
    killed: bool = False  # SIGKILL landed (False: the run ended before the delay)
    rc: int | None = None
    rerun_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def label(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


def kill_after(cmd: list[str], home: Path, seed: int, lo: float, hi: float) -> Kill:
    """Start `cmd`, SIGKILL it after a delay drawn from random.Random(seed) in [lo, hi] seconds."""
    delay = round(random.Random(seed).uniform(lo, hi), 2)
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env_for(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        rc = proc.wait(timeout=delay)
        return Kill(seed, delay, killed=False, rc=rc)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        rc = proc.wait(timeout=60)
        return Kill(seed, delay, killed=rc == -signal.SIGKILL, rc=rc)


def kill_at_step(cmd: list[str], home: Path, step: str) -> Kill:
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env_for(home, fault_at=step), capture_output=True, timeout=900)
    return Kill(0, None, step=step, killed=proc.returncode == -signal.SIGKILL, rc=proc.returncode)


def timed_rerun(cmd: list[str], home: Path, k: Kill) -> subprocess.CompletedProcess:
    t0 = time.monotonic()
    proc = run(cmd, home)
    k.rerun_seconds = round(time.monotonic() - t0, 1)
    assert proc.returncode == 0, f"re-run after {k.label()} failed:\n{proc.stderr[-3000:]}"
    return proc


# ------------------------------------------------------------------ what a killed run leaves


def orphans(home: Path) -> list[str]:
    """Temp files and folders a killed writer may leave anywhere in the home."""
    left = []
    for p in home.rglob("*"):
        n = p.name
        if (n.endswith((".tmp", ".pending", ".wal")) or n.startswith((".tmp-", ".findings.", "gx-raw-"))
                or (p.is_file() and p.parent.name in ("duckdb_tmp",))):
            left.append(p)
    staging = home / "tmp" / "ingest"
    if staging.is_dir():
        left += list(staging.iterdir())
    return sorted(str(p.relative_to(home)) for p in left)


# ------------------------------------------------------------------ comparisons


def db_hash(path: Path, schema: str = "marts") -> dict[str, str]:
    """Per table of the schema: a hash of its rows in a fixed order (content, not file bytes)."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]).fetchall()]
        out = {}
        for t in tables:
            df = con.sql(f'select * from "{schema}"."{t}"').pl()
            df = df.sort(df.columns, nulls_last=True) if df.height else df
            out[t] = hashlib.sha256(df.write_csv().encode("utf-8")).hexdigest()
        return out
    finally:
        con.close()


def diff_keys(a: dict, b: dict) -> list[str]:
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def gate_outcome(gate_json: dict) -> dict:
    """What a gate decided, without where its Data Docs went or sample values."""
    fails = sorted((f["suite"], f["severity"], f["expectation"], f["column"] or "", f["unexpected_count"] or 0)
                   for f in gate_json["failures"])
    return {"success": gate_json["success"], "suites": gate_json["suites"], "expectations": gate_json["expectations"],
            "failures": [list(f) for f in fails]}


# ------------------------------------------------------------------ the world every trial copies


@dataclass(frozen=True)
class FaultWorld:
    base: Path  # a built home with a published snapshot (CURRENT -> warehouse-base.duckdb), no reports, no audit log
    as_of: str
    month: str  # the month the reports trials publish
    marts: dict[str, str]  # db_hash of the uninterrupted build
    build_seconds: float  # how long that build took in-process (tests included)


def build_fault_world(small_pipeline, root: Path) -> FaultWorld:
    """small_pipeline's home copied to root/base and published there."""
    from core.paths import Home
    from windowwatch.snapshot_publish import publish

    base = copy_home(small_pipeline.home.root, root / "base")
    for d in ("published", "reports", "audit", "runs", "data_docs"):  # other tests may have used the shared home
        shutil.rmtree(base / d, ignore_errors=True)
    assert (base / "warehouse.duckdb").is_file() and not (base / "warehouse.duckdb.wal").exists()
    publish("base", Home(base))
    as_of = small_pipeline.truth["as_of"]
    return FaultWorld(base, as_of, as_of[:7], db_hash(base / "warehouse.duckdb"), small_pipeline.build.elapsed)


# ------------------------------------------------------------------ the worker


def _worker(argv: list[str]) -> int:
    from core.paths import Home

    h = Home.from_env()
    stage = argv[0]
    if stage == "ge-raw":
        from expectations.raw import check_raw

        files = sorted(h.landing.glob("*/part_date=*/*.parquet"))
        batch_dir = h.root / TRIAL_RUN_DIR
        batch_dir.mkdir(parents=True, exist_ok=True)
        gate = check_raw(files, h.landing, h.data_docs / "raw", batch_dir=batch_dir)
        print(json.dumps(gate_outcome(gate.to_json())))
    elif stage == "ge-marts":
        from expectations.marts import check_marts

        gate = check_marts(h.warehouse, h.landing, h.data_docs / "marts")
        print(json.dumps(gate_outcome(gate.to_json())))
    elif stage == "publish":
        from windowwatch.snapshot_publish import publish

        res = publish(argv[1], h)
        print(json.dumps({"snapshot": res.path.name}))
    else:
        print(f"unknown stage {stage}", file=sys.stderr)
        return 2
    return 0


WORKER = [sys.executable, "-m", "tests.support.faults"]  # run with cwd=REPO_ROOT, as run() and kill_after() do

if __name__ == "__main__":
    raise SystemExit(_worker(sys.argv[1:]))
