"""Faults (issue 8): kill -9 at seeded random moments of ingest, and a full disk.

After a kill and a re-run, landing and quarantine hold exactly what an uninterrupted run
writes (content hash, `_ingested_at`/`quarantined_at` aside), the ledger has the same counts,
and no temp file, pending marker or staging folder is left. A full disk (a small tmpfs as
WINDOWWATCH_HOME) gives a clear error, leaves no ledger entry for a partial delivery, and a
re-run once space is back ends equal to a clean run.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import psutil
import pytest

from core.paths import REPO_ROOT

DAYS = [f"2025-03-{d:02d}" for d in range(3, 29)]
TX_HEADER = "event_id,case_id,event_type,event_time,recorded_at,window_id,item_code,applicant_id,applicant_phone,channel\n"


def write_inbox(root: Path, files: int = 6, rows: int = 3000) -> Path:
    """Several deliveries (CSV, GBK CSV, JSONL, Parquet), a few bad rows in each, so a kill can
    fall between deliveries, inside one, or in the ledger write."""
    inbox = root / "inbox"
    (inbox / "windows").mkdir(parents=True)
    (inbox / "items").mkdir()
    (inbox / "windows" / "w.csv").write_text("window_id,window_name,department_id\n" + "".join(f"W{i:02d},窗口{i},D{i % 3}\n" for i in range(20)), encoding="utf-8")
    (inbox / "items" / "i.csv").write_text("item_code,item_name,promised_limit,limit_unit\nI1,事项一,5,工作日\nI2,事项二,0,workday\n", encoding="utf-8")
    tx = inbox / "transactions"
    tx.mkdir()
    rng = random.Random(7)
    for f in range(files):
        lines = []
        for r in range(rows):
            day = DAYS[(f * rows + r) % len(DAYS)]
            kind = "accept" if r % 2 == 0 else "complete"
            window = f"W{rng.randrange(20):02d}" if r % 97 else "W99"  # an unknown window now and then
            when = f"{day} {9 + r % 8:02d}:{r % 60:02d}:00"
            lines.append(f"F{f}E{r},F{f}C{r // 2},{kind},{when},{when},{window},I{1 + r % 2},1101011990030{r % 10000:04d}1,1381234{r % 10000:04d},窗口\n")
        body = TX_HEADER + "".join(lines)
        if f % 3 == 1:
            (tx / f"part{f}.csv").write_bytes(body.encode("gbk"))
        elif f % 3 == 2:
            df = pl.read_csv(body.encode("utf-8"), infer_schema=False)
            df.write_parquet(tx / f"part{f}.parquet")
        else:
            (tx / f"part{f}.csv").write_text(body, encoding="utf-8")
    ev = inbox / "evaluations"
    ev.mkdir()
    (ev / "e.jsonl").write_text("".join(json.dumps({"evaluation_id": f"V{i}", "window_id": f"W{i % 20:02d}", "rating": "满意" if i % 5 else "不满意",
                                                    "evaluated_at": f"{DAYS[i % len(DAYS)]} 10:00:00", "comment": f"电话13812345{i % 1000:03d}"},
                                                   ensure_ascii=False) + "\n" for i in range(2000)), encoding="utf-8")
    return inbox


def sources(root: Path) -> Path:
    cfg = root / "sources.yaml"
    cfg.write_text("sources:\n  - name: inbox\n    kind: files\n", encoding="utf-8")
    return cfg


def ingest_cmd(inbox: Path, cfg: Path) -> list[str]:
    return [sys.executable, "-m", "windowwatch.cli", "ingest", "--feeds", str(inbox), "--config", str(cfg)]


def env_for(home: Path) -> dict[str, str]:
    return dict(os.environ, WINDOWWATCH_HOME=str(home), WINDOWWATCH_PII_KEY="fault-test-key")


def run_ingest(home: Path, inbox: Path, cfg: Path) -> subprocess.CompletedProcess:
    return subprocess.run(ingest_cmd(inbox, cfg), cwd=REPO_ROOT, env=env_for(home), capture_output=True, text=True, timeout=300)


def content_hashes(home: Path) -> dict[str, str]:
    """Per landing/quarantine file: a hash of its rows (sorted, load times aside); per ledger
    entry: its counts. Two homes with equal maps hold the same data."""
    out: dict[str, str] = {}
    for root in ("landing", "quarantine"):
        for p in sorted((home / root).rglob("*.parquet")):
            df = pl.read_parquet(p, hive_partitioning=False)
            df = df.drop([c for c in ("_ingested_at", "quarantined_at") if c in df.columns])
            df = df.sort(df.columns)
            out[str(p.relative_to(home))] = hashlib.sha256(df.write_csv().encode("utf-8")).hexdigest()
    for p in sorted((home / "landing" / "_ledger").glob("*.json")):
        entry = json.loads(p.read_text(encoding="utf-8"))
        entry.pop("landed_at", None)
        out[str(p.relative_to(home))] = json.dumps(entry, sort_keys=True, ensure_ascii=False)
    return out


def orphans(home: Path) -> list[str]:
    left = [p for p in home.rglob("*") if p.name.endswith((".tmp", ".pending"))]
    staging = home / "tmp" / "ingest"
    if staging.is_dir():
        left += list(staging.iterdir())
    return [str(p.relative_to(home)) for p in left]


@pytest.fixture(scope="module")
def fault_setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    inbox = write_inbox(root)
    cfg = sources(root)
    clean = root / "clean"
    clean.mkdir()
    t0 = time.monotonic()
    proc = run_ingest(clean, inbox, cfg)
    duration = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {"root": root, "inbox": inbox, "cfg": cfg, "clean": content_hashes(clean), "duration": duration}


DELIVERIES = 9  # write_inbox: 2 reference + 6 transactions + 1 evaluations
NAMED_STEPS = ("after_quarantine_write", "after_partition_write", "before_ledger", "after_ledger")


def _ledgered(home: Path) -> int:
    ledger = home / "landing" / "_ledger"
    return len(list(ledger.glob("*.json"))) if ledger.is_dir() else 0


def kill_plan(setup: dict, seed: int) -> dict:
    """Where a trial's kill -9 falls, drawn from its seed.

    Every 4th seed kills at a named step (the first delivery reaching it, so the narrow
    windows between two writes are hit by construction, before anything is ledgered or right
    after the first entry). The others wait until the run has ledgered a seeded number of
    deliveries, then a seeded fraction of one delivery's time: the kill point follows the
    run's own progress, so it falls mid-run however fast ingest is or how loaded the machine."""
    rng = random.Random(seed)
    if seed % 4 == 0:
        return {"step": NAMED_STEPS[(seed // 4) % len(NAMED_STEPS)]}
    return {"after_ledgered": rng.randrange(0, DELIVERIES - 1),
            "delay": round(rng.uniform(0.0, 0.9) * setup["duration"] / DELIVERIES, 3)}


def stage_workers_of(pid: int) -> list[int]:
    """Staging worker processes (ingest/stage_pool.py) started by the ingest with this pid."""
    mark = f"serve({pid})"
    out = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        if any(mark in part for part in (p.info["cmdline"] or [])):
            out.append(p.info["pid"])
    return out


def kill_trial(setup: dict, seed: int, home: Path, workers: int | None = None) -> dict:
    """Start ingest, SIGKILL it at a seeded point (kill_plan), re-run it to the end, compare.
    workers: force that many staging worker processes in the killed run (the inbox is small
    enough for `auto` to stage in-process)."""
    plan = kill_plan(setup, seed)
    home.mkdir()
    env = env_for(home)
    if workers is not None:
        env["WINDOWWATCH_INGEST_WORKERS"] = str(workers)
    if "step" in plan:
        env["WINDOWWATCH_FAULT_AT"] = plan["step"]  # the process kills itself with SIGKILL there
    proc = subprocess.Popen(ingest_cmd(setup["inbox"], setup["cfg"]), cwd=REPO_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if "step" not in plan:
        while proc.poll() is None and _ledgered(home) < plan["after_ledgered"]:
            time.sleep(0.005)
        time.sleep(plan["delay"])
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
    rc = proc.wait(timeout=120)
    deadline = time.monotonic() + 5  # workers die with their parent (PR_SET_PDEATHSIG / a watch thread)
    while stage_workers_of(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    workers_left = stage_workers_of(proc.pid)
    ledgered = _ledgered(home)
    rerun = run_ingest(home, setup["inbox"], setup["cfg"])
    assert rerun.returncode == 0, f"seed {seed} ({plan}): " + rerun.stderr[-2000:]
    got = content_hashes(home)
    diff = sorted(k for k in set(got) | set(setup["clean"]) if got.get(k) != setup["clean"].get(k))
    return {"seed": seed, "plan": plan, "killed": rc == -signal.SIGKILL, "ledgered_before_rerun": ledgered,
            "diff": diff, "orphans": orphans(home), "workers_left": workers_left}


def _assert_trials(results: list[dict]) -> None:
    for r in results:
        assert r["diff"] == [], f"seed {r['seed']}: {r}"
        assert r["orphans"] == [], f"seed {r['seed']}: {r}"
        assert r["workers_left"] == [], f"seed {r['seed']}: staging workers outlived the killed ingest: {r}"
    killed = [r for r in results if r["killed"]]
    assert killed, f"no trial was killed mid-run: {results}"
    print("kill -9 trials:", json.dumps(results))


def test_kill_9_at_random_points_then_rerun_equals_clean_run(fault_setup, tmp_path):
    results = [kill_trial(fault_setup, seed, tmp_path / f"trial{seed}") for seed in (11, 12, 13)]
    _assert_trials(results)


def test_kill_9_with_staging_worker_processes(fault_setup, tmp_path):
    """Issue 7: deliveries staged in worker processes while the main process is killed: the
    workers go with it, the re-run cleans their staging and ends equal to a clean run."""
    results = [kill_trial(fault_setup, seed, tmp_path / f"trial{seed}", workers=2) for seed in (21, 22, 23, 24)]
    _assert_trials(results)
    assert any("step" in r["plan"] and r["killed"] for r in results)  # seed 24: a named step, certainly mid-run


@pytest.mark.slow
def test_kill_9_twenty_trials(fault_setup, tmp_path):
    results = [kill_trial(fault_setup, seed, tmp_path / f"trial{seed}") for seed in range(100, 120)]
    _assert_trials(results)
    # the kill points spread over the run: some before anything was ledgered, some after
    summary = [(r["seed"], r["plan"], r["killed"], r["ledgered_before_rerun"]) for r in results]
    assert any(r["ledgered_before_rerun"] == 0 for r in results if r["killed"]), f"(seed, plan, killed, ledgered): {summary}"
    assert any(r["ledgered_before_rerun"] > 0 for r in results if r["killed"]), f"(seed, plan, killed, ledgered): {summary}"
    # the progress-relative kills land mid-run, not after the run ended
    assert sum(r["killed"] for r in results) >= 15, f"(seed, plan, killed, ledgered): {summary}"


# ---------------------------------------------------------------- a full disk


@pytest.fixture()
def small_tmpfs(tmp_path):
    if os.geteuid() != 0:
        pytest.fail("the full-disk test mounts a tmpfs and needs root (CI runs as root)")
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1500k", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_full_disk_gives_a_clear_error_and_corrupts_nothing(fault_setup, small_tmpfs):
    home = small_tmpfs / "home"
    home.mkdir()
    proc = run_ingest(home, fault_setup["inbox"], fault_setup["cfg"])
    assert proc.returncode != 0
    err = proc.stderr
    assert "No space left on device" in err or "no space" in err.lower(), err[-2000:]
    assert "Traceback" not in err, err[-3000:]
    assert "free" in err.lower() and "re-run" in err.lower(), err[-1000:]  # says what to do
    # nothing half-written is visible: every ledgered delivery's files are complete and readable
    for p in home.rglob("*.parquet"):
        pl.read_parquet(p, hive_partitioning=False)
    for p in (home / "landing" / "_ledger").glob("*.json"):
        entry = json.loads(p.read_text(encoding="utf-8"))
        n = sum(pl.read_parquet(f, hive_partitioning=False).height
                for f in (home / "landing" / entry["feed"]).glob(f"part_date=*/{entry['content_id']}.parquet"))
        assert n == entry["landed"], entry["source"]
    # space comes back: the re-run completes and equals a clean run
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_tmpfs)], check=True)
    again = run_ingest(home, fault_setup["inbox"], fault_setup["cfg"])
    assert again.returncode == 0, again.stderr[-2000:]
    got = content_hashes(home)
    assert got == fault_setup["clean"]
    assert orphans(home) == []
