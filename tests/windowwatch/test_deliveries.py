"""A delivery the raw gate rejected is gated again on every later run until it passes or is taken
back (`windowwatch quarantine delivery ID`) — issue 21, finding 1 (SPEC §3, "v2, deliveries").

Through Airflow (`windowwatch run`'s `run_dag`, SQLite metadata under the test's home): the bypass
was a run that looked only at what it landed itself."""

from __future__ import annotations

import pytest

import json

import duckdb

from core.paths import Home
from tests.support.tiny_inbox import negative_extension_inbox, run_env, write_tiny_inbox
from windowwatch.audit.log import AuditLog
from windowwatch.cli import main as cli_main
from windowwatch.deliveries import TAKEN_BACK, verdict
from windowwatch.pipeline import run_dag
from windowwatch.snapshot import current_snapshot


def _log_tail(h: Home) -> str:
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in (h.airflow_home / "logs").glob("*.log"))


@pytest.mark.slow  # make test-slow (CI time, session 9: see the closing note)
def test_rejected_delivery_is_gated_again_until_taken_back(ww_home, tmp_path, monkeypatch, capsys):
    run_env(monkeypatch)
    h = Home(ww_home)
    inbox = negative_extension_inbox(write_tiny_inbox(tmp_path / "inbox"))

    rc, first = run_dag(h, str(inbox), "2025-10-31", stream=False)
    assert first is not None, _log_tail(h)
    assert rc != 0 and first["status"] == "failed" and first["failure"]["task"] == "raw_gate", first["failure"]
    assert "extend_days" in first["failure"]["reason"]
    assert not (h.published / "CURRENT").exists()

    # Run 2, same command, nothing fixed: the rejected delivery is gated again and nothing is built.
    rc, second = run_dag(h, str(inbox), "2025-10-31", stream=False)
    assert second is not None, _log_tail(h)
    assert rc != 0 and second["status"] == "failed", second["steps"].get("publish")
    assert second["failure"]["task"] == "raw_gate"
    gate = second["steps"]["raw_gate"]
    assert gate["counts"]["files"] >= 1 and gate["counts"]["earlier_deliveries"] >= 1
    assert "extend_days" in second["failure"]["reason"]
    assert "dbt_build" not in second["steps"] and "publish" not in second["steps"]
    assert not (h.published / "CURRENT").exists(), "data the raw gate rejected was published"
    assert second["sources"]["hall_inbox"]["counts"]["landed"] == 0, "nothing new landed in run 2"

    # The gate names the deliveries not passed; the one with the bad rows is taken back.
    bad = [
        cid
        for cid in gate["deliveries_not_passed"]
        if "extensions" in json.loads((h.ledger / f"{cid}.json").read_text(encoding="utf-8"))["source"]
    ]
    assert len(bad) == 1, gate["deliveries_not_passed"]
    assert f"delivery {bad[0]} (transactions, " in second["failure"]["reason"]
    assert "failed before" in second["failure"]["reason"] and "quarantine delivery" in second["failure"]["reason"]
    assert (
        cli_main(["quarantine", "delivery", bad[0][:12], "--user", "auditor1", "--reason", "negative extensions"]) == 0
    )
    assert "taken back" in capsys.readouterr().out
    v = verdict(h, bad[0])
    assert v["status"] == TAKEN_BACK and v["user"] == "auditor1" and v["reason"] == "negative extensions"
    entry = [e for e in AuditLog(h).entries() if e.get("kind") == "delivery_taken_back"]
    assert len(entry) == 1 and entry[0]["content_id"] == bad[0] and entry[0]["user"] == "auditor1"
    assert not list(h.landing.glob(f"transactions/part_date=*/{bad[0]}.parquet"))
    # taking it back again is safe: nothing changes, no second log entry
    assert cli_main(["quarantine", "delivery", bad[0], "--user", "auditor1", "--reason", "again"]) == 0
    assert "already taken back" in capsys.readouterr().out
    assert len([e for e in AuditLog(h).entries() if e.get("kind") == "delivery_taken_back"]) == 1
    assert cli_main(["quarantine", "delivery", "0123456789abcdef", "--user", "a", "--reason", "r"]) == 2
    assert "no landed delivery has this id" in capsys.readouterr().err

    rc, third = run_dag(h, str(inbox), "2025-10-31", stream=False)
    assert rc == 0 and third["status"] == "succeeded", (third or {}).get("failure") or _log_tail(h)
    assert third["steps"]["raw_gate"]["counts"]["critical_failures"] == 0
    con = duckdb.connect(str(current_snapshot(h)), read_only=True)
    try:
        cases = con.execute("select count(*) from marts.fct_case").fetchone()[0]
    finally:
        con.close()
    assert cases == 6
    # every delivery left now passed: a fourth run would gate nothing
    assert all(
        (verdict(h, p.stem) or {}).get("status") == "passed"
        for p in h.landing.glob("*/part_date=*/*.parquet")
        if not p.name.startswith("_")
    )
