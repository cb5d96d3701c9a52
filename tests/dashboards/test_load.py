"""20 concurrent dashboard sessions during a full rebuild of the same home (issue 8, "Load").

The real server (`windowwatch serve`), the real snapshot of the small generated centre, one
Debian chromium with 20 browser contexts (18 inspectors walking every page they may open, 2
viewers signing in to the reports), and beside them a full rebuild of that home — the work
warehouse deleted, every dbt model built again, the gates, and a publish that switches
published/CURRENT while the sessions are running. Asserts zero errors (no exception element,
no lost connection, every page's main content rendered), every session completes, and that
the sessions moved to the new snapshot; prints p50/p95/max per page and overall and writes
them to test-artifacts/load/summary.json (every sample in summary-samples.json). The login —
a cold browser context's first page — is timed and reported apart from the pages.
Before the load one unmeasured walk warms the server (imports, query caches), as a server
that has been up for a while would be; the rebuild starts once every session is signing in.

`make test` runs one affordable variant: the DAG's tasks in one process for the rebuild; every
inspector walks every page once (and on, while the rebuild runs), then opens two pages of the
new snapshot. `make test-slow` runs
`windowwatch run` through Airflow and at least three rounds per session.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from core.paths import REPO_ROOT, Home
from tests.support.dashboard_server import dashboard_server
from tests.support.dashboard_snapshot import add_test_user
from tests.support.load import (INSPECTOR_WALK, PASSWORD, format_summary, rebuild_argv, run_load, summarize,
                                 write_summary)
from windowwatch.snapshot_publish import publish

ARTIFACTS = REPO_ROOT / "test-artifacts" / "load"
INSPECTORS, VIEWERS = 18, 2
# A regression guard, not the target: far above the p95 of an idle 2-core machine, yet below the
# page timeout, so pages that wait for a lock or for the rebuild fail the test. CI machines
# shared with other jobs can raise it (WINDOWWATCH_LOAD_P95_MAX_S).
P95_CEILING_S = float(os.environ.get("WINDOWWATCH_LOAD_P95_MAX_S", "60"))


@pytest.fixture()
def load_home(small_pipeline, tmp_path, monkeypatch) -> tuple[Home, Path, str, str]:
    """A home with the small centre landed, built and published, and 20 local accounts.

    A copy of the session's small pipeline (never its own home: other tests read that one)."""
    home = Home(tmp_path / "home")
    shutil.copytree(small_pipeline.home.root, home.root, symlinks=True)
    monkeypatch.setenv("WINDOWWATCH_HOME", str(home.root))
    monkeypatch.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
    snap = publish("initial-load-test", home).path
    for i in range(INSPECTORS):
        add_test_user(f"insp{i + 1:02d}", "inspector", PASSWORD)
    for i in range(VIEWERS):
        add_test_user(f"view{i + 1:02d}", "viewer", PASSWORD)
    con = duckdb.connect(str(snap), read_only=True)
    try:  # a case with events and an off-book signal: the full timeline
        case_id = con.execute("select s.case_id from marts.fct_off_book_signal s join marts.fct_case_event e "
                              "using (case_id) where s.case_id is not null order by 1 limit 1").fetchone()[0]
    finally:
        con.close()
    return home, small_pipeline.feeds, small_pipeline.truth["as_of"], case_id


def _load(load_home, tmp_path, *, airflow: bool, min_rounds: int, max_rounds: int, full_round_after_switch: bool,
          name: str) -> dict:
    home, feeds, as_of, case_id = load_home
    first = (home.published / "CURRENT").read_text(encoding="utf-8").strip()
    env = {**os.environ, "WINDOWWATCH_HOME": str(home.root), "WINDOWWATCH_SOURCE_RETRY_DELAY_S": "1"}
    if airflow:
        env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)  # SQLite under the home, as a user runs it
    rebuild_log = tmp_path / "rebuild.log"
    shutil.rmtree(ARTIFACTS / name, ignore_errors=True)  # screenshots of an earlier run's failures
    with dashboard_server(home.root, tmp_path / "serve.log") as (base, pid):
        state, rc = asyncio.run(run_load(
            base, home.root, rebuild_argv(home.root, feeds, as_of, airflow), env, rebuild_log,
            inspectors=INSPECTORS, viewers=VIEWERS, case_id=case_id, min_rounds=min_rounds, max_rounds=max_rounds,
            full_round_after_switch=full_round_after_switch, server_pid=pid, shots=ARTIFACTS / name))
        serve_log = (tmp_path / "serve.log").read_text(errors="replace")
    last = (home.published / "CURRENT").read_text(encoding="utf-8").strip()
    summary = summarize(state, {"variant": name, "inspectors": INSPECTORS, "viewers": VIEWERS,
                                "rebuild": "windowwatch run (Airflow)" if airflow else "DAG tasks in one process",
                                "snapshot_before": first, "snapshot_after": last})
    write_summary(summary, state.samples, ARTIFACTS, f"{name}.json")
    print("\n" + format_summary(summary))

    assert rc == 0, f"the rebuild failed (exit {rc}):\n{rebuild_log.read_text(errors='replace')[-4000:]}"
    assert last != first, "the rebuild did not publish a new snapshot"
    assert not state.errors, f"{len(state.errors)} errors under load:\n" + "\n".join(state.errors[:40])
    assert "Traceback" not in serve_log, serve_log[-4000:]
    # every session completed: all its rounds, every page of each
    assert sorted(state.rounds) == sorted([f"insp{i + 1:02d}" for i in range(INSPECTORS)]
                                          + [f"view{i + 1:02d}" for i in range(VIEWERS)])
    for user, rounds in state.rounds.items():
        assert rounds >= min_rounds, (user, rounds)
        got = [s.page for s in state.samples if s.session == user]
        if user.startswith("view"):
            assert got == ["login"] * rounds, (user, got)
        else:  # the login, then every page of each round (and the pages opened after the switch)
            assert len(got) >= 1 + rounds * len(INSPECTOR_WALK), (user, len(got))
            assert set(got) == {"login", *INSPECTOR_WALK}, (user, set(got))
    # CURRENT switched while sessions were on the pages, and they moved on to the new snapshot
    assert state.switched_at is not None
    assert any(s.start < state.switched_at for s in state.samples), "the switch came before any page was opened"
    assert {first, last} <= set(summary["snapshots_seen"]), summary["snapshots_seen"]
    for user in state.rounds:
        final = [s for s in state.samples if s.session == user][-1]
        assert final.snapshot == last, (user, final)
    assert summary["overall"]["p95"] < P95_CEILING_S, format_summary(summary)
    return summary


# 530 s of CI with two workers, and a p95 ceiling makes it a timed test: it runs in
# `make test-slow` (speed targets belong to the benchmark), not in `make test`.
@pytest.mark.slow
def test_20_sessions_during_a_full_rebuild(load_home, tmp_path):
    """What CI runs: every session walks until a whole round has started after the switch."""
    _load(load_home, tmp_path, airflow=False, min_rounds=1, max_rounds=4, full_round_after_switch=False,
          name="summary")


@pytest.mark.slow
def test_20_sessions_during_windowwatch_run(load_home, tmp_path):
    """`windowwatch run` through Airflow beside the sessions; at least three rounds each."""
    _load(load_home, tmp_path, airflow=True, min_rounds=3, max_rounds=8, full_round_after_switch=True,
          name="summary-slow")
