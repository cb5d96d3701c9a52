"""Items an inspector opens by hand (SPEC §4.11: manual items with a subject and a note): the store on
SQLite and PostgreSQL, the role check, the audit log and `windowwatch supervise open`."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from core.paths import REPO_ROOT
from windowwatch.audit.log import AuditLog
from windowwatch.supervision.workflow import Refused, act, actor_for, get_item, history, open_manual


def _window_and_case(sup) -> tuple[str, str, str, str]:
    """A window of department D01 with one of its cases, and a window of another department."""
    con = duckdb.connect(str(sup.snapshot), read_only=True)
    try:
        window, case = con.execute("select c.window_id, c.case_id from marts.fct_case c join marts.dim_window w "
                                   "using (window_id) where w.department_id = 'D01' order by 1, 2 limit 1").fetchall()[0]
        other = con.execute("select window_id from marts.dim_window where department_id <> 'D01' order by 1 "
                            "limit 1").fetchall()[0][0]
        foreign_case = con.execute("select case_id from marts.fct_case where window_id = ? limit 1",
                                   [other]).fetchall()[0][0]
    finally:
        con.close()
    return window, case, other, foreign_case


def test_an_inspector_opens_items_by_hand_recorded_and_walked_like_any(sup):
    window, case, _, _ = _window_and_case(sup)
    insp = actor_for("insp", sup.home)
    first = open_manual(sup.store, insp, window, "现场检查发现窗口无人值守")
    second = open_manual(sup.store, insp, window, "群众来电反映态度生硬")
    on_case = open_manual(sup.store, insp, window, "办件材料疑似体外流转", case_id=case)
    assert (first["kind"], first["subject_id"], first["rule"], first["state"]) == ("manual", window, "MANUAL-1", "open")
    assert second["rule"] == "MANUAL-2" and second["item_id"] != first["item_id"]  # several on one window
    assert (on_case["subject_id"], on_case["window_id"], on_case["rule"]) == (case, window, "MANUAL-1")
    assert first["department_id"] == "D01" and first["evidence"] == "现场检查发现窗口无人值守"
    assert first["updated_by"] == "insp" and first["version"] == 1
    [h] = history(sup.store, first["item_id"])
    assert (h["actor"], h["action"], h["from_state"], h["to_state"], h["note"]) == (
        "insp", "open", None, "open", "现场检查发现窗口无人值守")
    opened = [e for e in AuditLog(sup.home).entries() if e.get("kind") == "supervision_transition"
              and e.get("action") == "open"]
    assert [(e["item_id"], e["user"], e["note"]) for e in opened][0] == (first["item_id"], "insp", "现场检查发现窗口无人值守")
    assert len(opened) == 3
    # it follows the same states: notified by an inspector, acknowledged by that department
    act(sup.store, first["item_id"], "notify", insp, "请回告")
    act(sup.store, first["item_id"], "acknowledge", actor_for("d01", sup.home), "已安排专人值守")
    assert get_item(sup.store, first["item_id"])["state"] == "acknowledged"


@pytest.mark.parametrize("user, why", [("d01", "only an inspector"), ("mgr", "only an inspector"),
                                       ("aud", "only an inspector")])
def test_only_an_inspector_opens_an_item_by_hand(sup, user, why):
    window, _, _, _ = _window_and_case(sup)
    with pytest.raises(Refused, match=why):
        open_manual(sup.store, actor_for(user, sup.home), window, "理由")


def test_a_manual_item_needs_a_known_window_its_own_case_and_a_reason(sup):
    window, case, other, foreign_case = _window_and_case(sup)
    insp = actor_for("insp", sup.home)
    with pytest.raises(Refused, match="needs its reason"):
        open_manual(sup.store, insp, window, "  ")
    with pytest.raises(Refused, match="not in the published data"):
        open_manual(sup.store, insp, "NO-SUCH-WINDOW", "理由")
    with pytest.raises(Refused, match="not in the published data"):
        open_manual(sup.store, insp, window, "理由", case_id="NO-SUCH-CASE")
    with pytest.raises(Refused, match=f"handled at window {other}"):
        open_manual(sup.store, insp, window, "理由", case_id=foreign_case)
    from windowwatch.supervision.cli import list_items

    assert list_items(sup.store) == []  # nothing half-made


def _ww(*args):
    return subprocess.run([sys.executable, "-m", "windowwatch.cli", *args], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=120)


def test_supervise_open_from_the_cli(sup):
    window, case, _, _ = _window_and_case(sup)
    r = _ww("supervise", "open", "--window", window, "--case", case, "--reason", "督查发现：超时未办", "--user", "insp")
    assert r.returncode == 0, r.stderr
    assert "opened by hand (MANUAL-1" in r.stdout
    from windowwatch.supervision.cli import list_items

    [item] = list_items(sup.store)
    assert (item["kind"], item["subject_id"], item["window_id"], item["state"]) == ("manual", case, window, "open")
    refused = _ww("supervise", "open", "--window", window, "--reason", "x", "--user", "d01")
    assert refused.returncode != 0 and "only an inspector" in refused.stderr
    assert len(list_items(sup.store)) == 1
