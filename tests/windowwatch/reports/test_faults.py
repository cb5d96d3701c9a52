"""Faults (issue 8): kill -9 `windowwatch report publish --month`, and tampering with a report.

A killed publication leaves either no vN or a complete one (every file matching its manifest);
after the re-run there is exactly v1, equal in content to an uninterrupted run's, anchored once
in the audit log, and no temp folder is left. Editing any byte of a published file or of its
manifest is caught by `windowwatch report verify`.
"""

from __future__ import annotations

import json
import shutil
import sys
import time

import pytest

from tests.support.faults import copy_home, kill_after, kill_at_step, orphans, run, timed_rerun
from windowwatch.audit.log import AuditLog
from windowwatch.audit.verify_draws import verify as verify_audit_log
from windowwatch.cli import main as cli_main
from core.paths import REPO_ROOT, Home
from windowwatch.reports.publication import publish_month, versions_of
from windowwatch.reports.verify_reports import verify_reports


def publish_cmd(month: str) -> list[str]:
    return [sys.executable, "-m", "windowwatch.cli", "report", "publish", "--month", month]


@pytest.fixture(scope="module")
def reference(fault_world, tmp_path_factory):
    """An uninterrupted publication: its content hash and how long it took."""
    home = copy_home(fault_world.base, tmp_path_factory.mktemp("report_ref") / "home")
    t0 = time.monotonic()
    proc = run(publish_cmd(fault_world.month), home)
    seconds = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr[-2000:]
    manifest = json.loads((home / "reports" / fault_world.month / "v1" / "manifest.json").read_text(encoding="utf-8"))
    return {"home": home, "seconds": seconds, "content_hash": manifest["content_hash"], "files": sorted(manifest["files"])}


def check_after_kill(home, month) -> list[str]:
    """What a reader may see right after the kill: no vN, or a complete one (maybe not yet anchored)."""
    rep = verify_reports(month, Home(home))
    bad = [p for p in rep.problems if "manifest_unanchored" not in p]
    return bad


def check_after_rerun(home, month, reference) -> list[str]:
    problems = []
    month_dir = home / "reports" / month
    if versions_of(month_dir) != [1]:
        problems.append(f"versions {versions_of(month_dir)} (expected exactly v1)")
    rep = verify_reports(month, Home(home))
    problems += rep.problems
    man = json.loads((month_dir / "v1" / "manifest.json").read_text(encoding="utf-8"))
    if man["content_hash"] != reference["content_hash"]:
        problems.append("content differs from an uninterrupted run")
    if sorted(man["files"]) != reference["files"]:
        problems.append(f"files {sorted(man['files'])}")
    anchors = [e for e in AuditLog(Home(home)).entries() if e.get("kind") == "report"]
    if [(e["month"], e["version"]) for e in anchors] != [(month, 1)]:
        problems.append(f"anchors in the audit log: {[(e['month'], e['version']) for e in anchors]} (expected once)")
    if not verify_audit_log(h=Home(home)).ok:
        problems.append("audit log does not verify")
    return problems


def report_trial(world, reference, home, seed=None, step=None) -> dict:
    cmd = publish_cmd(world.month)
    if step:
        k = kill_at_step(cmd, home, step)
    else:
        k = kill_after(cmd, home, seed, lo=0.3 * reference["seconds"], hi=1.0 * reference["seconds"])
    after_kill = check_after_kill(home, world.month)
    k.notes.append(f"versions_after_kill={versions_of(home / 'reports' / world.month)}")
    timed_rerun(cmd, home, k)
    return {"trial": k.label(), "killed": k.killed, "after_kill": after_kill,
            "after_rerun": check_after_rerun(home, world.month, reference), "orphans": orphans(home)}


def _assert_trials(results: list[dict]) -> None:
    print("report kill -9 trials:", json.dumps(results, ensure_ascii=False))
    for r in results:
        assert r["after_kill"] == [], f"half-written version visible after {r['trial']}: {r['after_kill']}"
        assert r["after_rerun"] == [], f"after the re-run of {r['trial']}: {r['after_rerun']}"
        assert r["orphans"] == [], f"left behind after {r['trial']}: {r['orphans']}"
    assert any(r["killed"] for r in results), f"no trial was killed mid-publication: {results}"


@pytest.mark.parametrize("step", ["report.before_rename", "report.after_rename"])
def test_kill_at_named_steps_then_rerun(fault_world, reference, tmp_path, step):
    r = report_trial(fault_world, reference, copy_home(fault_world.base, tmp_path / "home"), step=step)
    assert r["killed"], r
    _assert_trials([r])


def test_kill_9_report_publish_at_random_points(fault_world, reference, tmp_path):
    _assert_trials([report_trial(fault_world, reference, copy_home(fault_world.base, tmp_path / f"t{s}"), seed=s)
                    for s in (31, 32, 33)])


@pytest.mark.slow
def test_kill_9_report_publish_twenty_trials(fault_world, reference, tmp_path):
    _assert_trials([report_trial(fault_world, reference, copy_home(fault_world.base, tmp_path / f"t{s}"), seed=s)
                    for s in range(300, 320)])


# ------------------------------------------------------------------ tampering


def _flip_byte(path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    i = len(data) // 2 if offset is None else offset
    data[i] ^= 0x01
    path.chmod(0o644)
    path.write_bytes(bytes(data))


def _tamper_manifest_consistently(v1) -> None:
    """Replace the PDF and rewrite the manifest's hash of it: only the audit-log anchor can tell."""
    import hashlib

    pdf = v1 / "ranking.pdf"
    _flip_byte(pdf)
    man = json.loads((v1 / "manifest.json").read_text(encoding="utf-8"))
    man["files"]["ranking.pdf"] = hashlib.sha256(pdf.read_bytes()).hexdigest()
    (v1 / "manifest.json").write_text(json.dumps(man, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


TAMPERS = {
    "pdf_byte": (lambda v1: _flip_byte(v1 / "ranking.pdf"), "ranking.pdf: rule file_changed"),
    "xlsx_byte": (lambda v1: _flip_byte(v1 / "ranking.xlsx"), "ranking.xlsx: rule file_changed"),
    "html_byte": (lambda v1: _flip_byte(v1 / "ranking.html"), "ranking.html: rule file_changed"),
    "manifest_byte": (lambda v1: _flip_byte(v1 / "manifest.json", offset=40), "manifest.json: rule manifest"),
    "manifest_rehashed": (_tamper_manifest_consistently, "manifest.json: rule manifest_changed"),
    "file_removed": (lambda v1: (v1 / "ranking.xlsx").unlink(), "ranking.xlsx: rule file_missing"),
    "file_added": (lambda v1: (v1 / "extra.html").write_text("x"), "extra.html: rule file_added"),
}


@pytest.fixture(scope="module")
def published_once(fault_world, tmp_path_factory):
    home = copy_home(fault_world.base, tmp_path_factory.mktemp("tamper") / "home")
    assert publish_month(fault_world.month, Home(home)).created
    return home


def _tampered_copy(published_once, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    for d in ("reports", "audit"):
        shutil.copytree(published_once / d, home / d)
    return home


def test_untampered_report_verifies(fault_world, published_once, tmp_path, monkeypatch, capsys):
    home = _tampered_copy(published_once, tmp_path)
    rep = verify_reports(fault_world.month, Home(home))
    assert rep.ok and rep.versions == [f"{fault_world.month}/v1"], rep.problems
    monkeypatch.setenv("WINDOWWATCH_HOME", str(home))
    assert cli_main(["report", "verify", "--month", fault_world.month]) == 0
    assert "OK: 1 version(s)" in capsys.readouterr().out


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_tampering_with_a_published_report_is_detected(fault_world, published_once, tmp_path, monkeypatch, capsys, tamper):
    home = _tampered_copy(published_once, tmp_path)
    v1 = home / "reports" / fault_world.month / "v1"
    edit, expected = TAMPERS[tamper]
    edit(v1)
    rep = verify_reports(fault_world.month, Home(home))
    assert not rep.ok
    assert any(expected in p for p in rep.by_version[f"{fault_world.month}/v1"]), rep.problems
    monkeypatch.setenv("WINDOWWATCH_HOME", str(home))
    assert cli_main(["report", "verify"]) == 1
    err = capsys.readouterr().err
    assert expected in err and "FAILED" in err, err


def test_tampering_with_the_anchor_in_the_audit_log_is_detected(fault_world, published_once, tmp_path):
    home = _tampered_copy(published_once, tmp_path)
    log = home / "audit" / "log.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    entry = json.loads(lines[-1])
    assert entry["kind"] == "report"
    entry["manifest_sha256"] = "0" * 64
    lines[-1] = json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n"
    log.write_text("".join(lines), encoding="utf-8")
    rep = verify_reports(fault_world.month, Home(home))
    assert any("entry_edited" in p for p in rep.problems), rep.problems


def test_a_killed_publication_is_anchored_by_the_next_publish(fault_world, tmp_path):
    """Killed after the rename: v1 is complete but unanchored (verify says so and what to do);
    publishing again anchors it without creating v2."""
    home = copy_home(fault_world.base, tmp_path / "home")
    k = kill_at_step(publish_cmd(fault_world.month), home, "report.after_rename")
    assert k.killed
    rep = verify_reports(fault_world.month, Home(home))
    assert [p.split(" — ")[0].rsplit(" ", 1)[-1] for p in rep.problems] == ["manifest_unanchored"], rep.problems
    assert "report publish --month" in rep.problems[0]
    again = run(publish_cmd(fault_world.month), home)
    assert again.returncode == 0 and "unchanged: v1" in again.stdout, again.stdout + again.stderr
    assert verify_reports(fault_world.month, Home(home)).ok


def test_reports_page_shows_verified_and_tampered_versions(fault_world, published_once, tmp_path, monkeypatch):
    """月度报告 checks the selected month on every view: a caption when intact, an error naming the
    changed file when a byte of the PDF was edited."""
    from streamlit.testing.v1 import AppTest

    from tests.support.dashboard_snapshot import add_test_user

    home = _tampered_copy(published_once, tmp_path)
    shutil.copytree(published_once / "published", home / "published")
    monkeypatch.setenv("WINDOWWATCH_HOME", str(home))
    monkeypatch.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
    add_test_user("viewer1", "viewer", "viewer-pass-123")

    def reports_page() -> AppTest:
        at = AppTest.from_file(str(REPO_ROOT / "dashboards" / "app.py"), default_timeout=90)
        at.run()
        at.text_input(key="login_user").input("viewer1")
        at.text_input(key="login_password").input("viewer-pass-123")
        at.button[0].click().run()
        assert not at.exception, [e.message for e in at.exception]
        assert at.title[0].value == "月度报告"
        return at

    at = reports_page()
    assert any("已校验" in c.value for c in at.caption), [c.value for c in at.caption]
    assert not at.error
    _flip_byte(home / "reports" / fault_world.month / "v1" / "ranking.pdf")
    at = reports_page()
    errors = [e.value for e in at.error]
    assert any("校验失败" in e and "ranking.pdf" in e and "file_changed" in e for e in errors), errors
