"""`windowwatch supervise sync | list | act` and the v2 roles of `users add` (SPEC §6, §8)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from core.paths import REPO_ROOT, Home
from windowwatch import accounts


def _ww(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "windowwatch.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=120)


def test_sync_list_json_and_act(sup):
    r = _ww("supervise", "sync")
    assert r.returncode == 0, r.stderr
    assert "opened=" in r.stdout
    r = _ww("supervise", "list", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert rows and set(rows[0]) == {"item_id", "kind", "subject_id", "rule", "state", "department_id", "window_id",
                                     "opened_at", "reply_by", "version"}
    item = next(x for x in rows if x["state"] == "open" and x["department_id"] == "D01")
    r = _ww("supervise", "act", str(item["item_id"]), "--action", "notify", "--user", "insp", "--note", "请核查")
    assert r.returncode == 0, r.stderr
    assert "notified" in r.stdout and "reply by" in r.stdout
    r = _ww("supervise", "list", "--state", "notified", "--department", "D01", "--json")
    listed = json.loads(r.stdout)
    assert [x["item_id"] for x in listed] == [item["item_id"]] and listed[0]["version"] == 2
    assert listed[0]["reply_by"].endswith("T23:59:59")
    assert json.loads(_ww("supervise", "list", "--department", "D99", "--json").stdout) == []
    v = _ww("audit", "verify")  # the supervision entries keep the chain whole
    assert v.returncode == 0, v.stdout + v.stderr


@pytest.mark.parametrize("args, why", [
    (["--action", "acknowledge", "--user", "d02", "--note", "x"], "liaison of department D02"),
    (["--action", "notify", "--user", "mgr", "--note", "x"], "read-only"),
    (["--action", "close", "--user", "insp", "--note", "x"], "close needs --reason"),
    (["--action", "notify", "--user", "ghost", "--note", "x"], "has no account"),
])
def test_a_refused_act_exits_non_zero_and_says_why(sup, args, why):
    from windowwatch.supervision.cli import list_items
    from windowwatch.supervision.sync import sync
    from windowwatch.supervision.workflow import act, actor_for

    sync(sup.store, send=False)
    item = next(x for x in list_items(sup.store, "open", "D01"))
    if "acknowledge" in args:
        act(sup.store, item["item_id"], "notify", actor_for("insp", sup.home), "督办")
    r = _ww("supervise", "act", str(item["item_id"]), *args)
    assert r.returncode != 0
    assert "refused" in r.stderr and why in r.stderr


def test_a_stale_version_is_refused_by_the_cli(sup):
    from windowwatch.supervision.cli import list_items
    from windowwatch.supervision.sync import sync

    sync(sup.store, send=False)
    item = list_items(sup.store, "open", "D01")[0]
    ok = _ww("supervise", "act", str(item["item_id"]), "--action", "notify", "--user", "insp", "--note", "a",
             "--expect-version", "1")
    assert ok.returncode == 0, ok.stderr
    r = _ww("supervise", "act", str(item["item_id"]), "--action", "escalate", "--user", "insp2", "--note", "b",
            "--expect-version", "1")
    assert r.returncode != 0 and "changed by insp at" in r.stderr


def test_sync_without_a_snapshot_says_so(ww_home, monkeypatch):
    monkeypatch.delenv("WINDOWWATCH_SUPERVISION_URL", raising=False)
    r = _ww("supervise", "sync")
    assert r.returncode != 0 and "nothing published yet" in r.stderr


def test_users_add_department_and_manager(ww_home):
    r = _ww("users", "add", "li", "--role", "department", "--department-id", "D01", "--email", "li@d01.example",
            "--password-stdin", stdin="correct horse battery\n")
    assert r.returncode == 0, r.stderr
    r = _ww("users", "add", "boss", "--role", "manager", "--password-stdin", stdin="correct horse battery\n")
    assert r.returncode == 0, r.stderr
    users = yaml.safe_load((ww_home / "accounts.yaml").read_text(encoding="utf-8"))["users"]
    assert users["li"]["role"] == "department" and users["li"]["department_id"] == "D01"
    assert users["li"]["email"] == "li@d01.example" and users["boss"]["role"] == "manager"
    account = accounts.verify("li", "correct horse battery", Home(ww_home))
    assert account.role == "department" and account.department_id == "D01"


@pytest.mark.parametrize("args, why", [
    (["--role", "department"], "needs --department-id"),
    (["--role", "inspector", "--department-id", "D01"], "only for --role department"),
    (["--role", "manager", "--email", "not-an-address"], "not an e-mail address"),
])
def test_users_add_refuses_a_department_without_its_department(ww_home, args, why):
    r = _ww("users", "add", "x", *args, "--password-stdin", stdin="correct horse battery\n")
    assert r.returncode != 0 and why in r.stderr
    assert not (ww_home / "accounts.yaml").exists()


def test_an_accounts_file_with_a_department_without_its_id_is_refused(ww_home):
    (ww_home / "accounts.yaml").write_text(yaml.safe_dump(
        {"users": {"x": {"role": "department", "password_hash": "$argon2id$x"}}}), encoding="utf-8")
    with pytest.raises(accounts.AccountError, match="needs its department_id"):
        accounts.load_accounts(Home(ww_home))


def test_a_notify_from_the_cli_makes_its_notice_at_the_transition(sup):
    """The 督办通知书 exists as soon as `supervise act … notify` returns (no page drawn), in Chinese,
    with the item's number and the issuing office; an escalation makes its 效能告诫书 draft too."""
    from windowwatch.supervision import notices
    from windowwatch.supervision.cli import list_items
    from windowwatch.supervision.sync import sync
    from windowwatch.supervision.workflow import get_item

    sync(sup.store, send=False)
    item_id = list_items(sup.store, "open", "D01")[0]["item_id"]
    assert not notices.folder(sup.home, item_id).exists()
    r = _ww("supervise", "act", str(item_id), "--action", "notify", "--user", "insp", "--note", "请核查超期原因")
    assert r.returncode == 0, r.stderr
    item = get_item(sup.store, item_id)
    path = notices.notice_path(sup.home, item)
    assert path.is_file() and f"notice: {path}" in r.stdout
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    issuer = notices.names_from_snapshot(sup.snapshot, item).issuer
    assert "督办通知书" in text and f"第 {item_id} 号" in text and issuer in text and "请核查超期原因" in text
    assert "notified" not in text and "notify" not in text
    r = _ww("supervise", "act", str(item_id), "--action", "escalate", "--user", "insp", "--note", "逾期未回告")
    assert r.returncode == 0, r.stderr
    warning = notices.warning_path(sup.home, get_item(sup.store, item_id))
    wtext = subprocess.run(["pdftotext", str(warning), "-"], capture_output=True, text=True, check=True).stdout
    assert warning.is_file() and f"效告〔{item['notified_at'].year}〕第 {item_id} 号" in wtext and "（草稿）" in wtext
    assert path.is_file()  # the notice of the notification is kept
