"""Grinding a draw (docs/rules.md, "Double-random audit"): the plan is committed, and waits,
before the entropy is known; one plan has one hash."""

from __future__ import annotations

import time

import pytest
import yaml
from tests.support.audit_snapshot import build_snapshot, write_plan

from windowwatch.audit import AuditLog, DrawError, commit_plan, draw, load_plan, verify
from windowwatch.cli import main as cli_main


@pytest.fixture()
def home(ww_home, monkeypatch):
    build_snapshot(ww_home)
    monkeypatch.setenv("WINDOWWATCH_AUDIT_COMMIT_MIN_MINUTES", "30")
    return ww_home


def _kinds() -> list[str]:
    return [e["kind"] for e in AuditLog().entries()]


def test_a_plan_never_committed_is_refused(home, tmp_path, capsys):
    plan_file = write_plan(tmp_path / "p.yaml")
    assert cli_main(["audit", "draw", "--plan", str(plan_file), "--entropy", "42"]) != 0
    err = capsys.readouterr().err
    assert "never committed" in err and "windowwatch audit commit --plan" in err and "30 minutes" in err
    assert _kinds() == [], "a refused draw logs nothing, not even a commit"


def test_a_plan_committed_too_recently_is_refused_and_says_when(home, tmp_path, capsys):
    plan_file = write_plan(tmp_path / "p.yaml")
    assert cli_main(["audit", "commit", "--plan", str(plan_file)]) == 0
    assert "no earlier than 30 minutes" in capsys.readouterr().out
    assert cli_main(["audit", "draw", "--plan", str(plan_file), "--entropy", "42"]) != 0
    err = capsys.readouterr().err
    assert "less than 30 minutes ago" in err and "may be drawn from" in err
    assert _kinds() == ["commit"]


def test_after_the_wait_the_commit_is_used_once(home, tmp_path, monkeypatch):
    monkeypatch.setenv("WINDOWWATCH_AUDIT_COMMIT_MIN_MINUTES", "0.03")  # 1.8 s
    plan = load_plan(write_plan(tmp_path / "p.yaml"))
    commit_plan(plan)
    with pytest.raises(DrawError, match="may be drawn from"):
        draw(plan, "e")
    time.sleep(2.2)
    r = draw(plan, "e")
    assert r.entry["commit_seq"] == 1
    with pytest.raises(DrawError, match="used by an earlier draw"):  # a repeat needs a new commit and wait
        draw(plan, "other entropy")
    assert _kinds() == ["commit", "draw"] and verify().ok


def test_a_plan_edited_since_its_commit_is_refused(home, tmp_path, monkeypatch):
    monkeypatch.setenv("WINDOWWATCH_AUDIT_COMMIT_MIN_MINUTES", "0.03")
    plan_file = write_plan(tmp_path / "p.yaml")
    commit_plan(load_plan(plan_file))
    time.sleep(2.2)
    write_plan(plan_file, sample={"per_stratum": 4})  # a bigger sample, chosen after the commit
    with pytest.raises(DrawError, match=r"edited since its commit C00001"):
        draw(load_plan(plan_file), "e")
    assert _kinds() == ["commit"]


def test_one_plan_one_hash(home, tmp_path, monkeypatch):
    monkeypatch.setenv("WINDOWWATCH_AUDIT_COMMIT_MIN_MINUTES", "0")
    ints = load_plan(write_plan(tmp_path / "a.yaml", sample={"per_stratum": 2}, inspectors_per_case=2,
                                risk_boost={"bottom_windows": 2, "off_book_windows": 3}))
    floats = load_plan(write_plan(tmp_path / "b.yaml", sample={"per_stratum": 2.0}, inspectors_per_case=2.0,
                                  risk_boost={"bottom_windows": 2.0, "off_book_windows": 3.0}))
    assert yaml.safe_load((tmp_path / "b.yaml").read_text())["sample"]["per_stratum"] == 2.0
    assert ints.plan_hash() == floats.plan_hash()
    assert floats.canonical()["sample"] == {"per_stratum": 2}
    assert draw(ints, "same entropy").sample == draw(floats, "same entropy").sample
    assert verify().ok
