"""Local accounts (`windowwatch users add`) and the login lock-out (SPEC §8)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from core.settings import settings
from tests.support.dashboard_snapshot import add_test_user, publish_fixture
from windowwatch import accounts
from core.paths import Home, REPO_ROOT

APP = REPO_ROOT / "dashboards" / "app.py"


def test_users_add_cli_stores_an_argon2_hash(ww_home):
    r = subprocess.run([sys.executable, "-m", "windowwatch.cli", "users", "add", "wang", "--role", "auditor",
                        "--password-stdin"], input="correct horse battery\n", capture_output=True, text=True,
                       cwd=REPO_ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    data = yaml.safe_load((ww_home / "accounts.yaml").read_text(encoding="utf-8"))
    entry = data["users"]["wang"]
    assert entry["role"] == "auditor"
    assert entry["password_hash"].startswith("$argon2id$")
    assert "correct horse" not in (ww_home / "accounts.yaml").read_text(encoding="utf-8")
    assert oct((ww_home / "accounts.yaml").stat().st_mode & 0o777) == "0o600"
    assert accounts.verify("wang", "correct horse battery", Home(ww_home)).role == "auditor"
    assert accounts.verify("wang", "wrong password", Home(ww_home)) is None


def test_users_add_rejects_bad_input(ww_home):
    r = subprocess.run([sys.executable, "-m", "windowwatch.cli", "users", "add", "wang", "--role", "viewer",
                        "--password-stdin"], input="short\n", capture_output=True, text=True, cwd=REPO_ROOT,
                       timeout=60)
    assert r.returncode == 2 and "at least 8" in r.stderr
    r = subprocess.run([sys.executable, "-m", "windowwatch.cli", "users", "add", "wang", "--role", "admin",
                        "--password-stdin"], input="long-enough-pw\n", capture_output=True, text=True,
                       cwd=REPO_ROOT, timeout=60)
    assert r.returncode != 0  # argparse refuses an unknown role
    with pytest.raises(accounts.AccountError):
        accounts.add_user("bad name!", "viewer", "long-enough-pw", Home(ww_home))
    assert not (ww_home / "accounts.yaml").exists()


def test_lockout_after_repeated_failures(ww_home):
    h = Home(ww_home)
    add_test_user("li", "inspector", "the-right-pass")
    for i in range(settings().login_max_failures):
        assert accounts.verify("li", f"wrong-{i}", h) is None
    until = accounts.locked_until("li", h)
    assert until is not None
    assert dt.timedelta(minutes=settings().login_lock_minutes - 1) < until - dt.datetime.now().astimezone()
    # locked: even the right password is refused, and the lock is on disk (survives a restart)
    assert accounts.verify("li", "the-right-pass", h) is None
    state = json.loads((ww_home / "state" / "login_failures.json").read_text(encoding="utf-8"))
    assert state["li"]["count"] >= settings().login_max_failures and state["li"]["locked_until"]
    # once the lock has expired the right password works again and clears the count
    later = dt.datetime.now().astimezone() + dt.timedelta(minutes=settings().login_lock_minutes + 1)
    assert accounts.locked_until("li", h, now=later) is None


def test_unknown_user_is_counted_like_a_wrong_password(ww_home):
    h = Home(ww_home)
    add_test_user("li", "inspector", "the-right-pass")
    assert accounts.verify("nobody", "whatever-pass", h) is None
    state = json.loads((ww_home / "state" / "login_failures.json").read_text(encoding="utf-8"))
    assert state["nobody"]["count"] == 1


def _login(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="login_user").input(name)
    at.text_input(key="login_password").input(password)
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_login_form_locks_out(ww_home):
    publish_fixture(ww_home)
    add_test_user("li", "inspector", "the-right-pass")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    for i in range(settings().login_max_failures - 1):
        _login(at, "li", f"wrong-{i}")
        assert at.error[0].value == "用户名或密码错误。"
    _login(at, "li", "wrong-last")
    assert "锁定" in at.error[0].value
    _login(at, "li", "the-right-pass")
    assert "锁定" in at.error[0].value
    assert not at.metric  # still on the login page


def test_login_form_signs_in_and_session_expires(ww_home, monkeypatch):
    publish_fixture(ww_home)
    add_test_user("li", "inspector", "the-right-pass")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    _login(at, "li", "the-right-pass")
    assert at.title[0].value == "总览"
    monkeypatch.setenv("WINDOWWATCH_SESSION_MINUTES", "0")
    at.run()
    assert at.title[0].value.startswith("窗口效能电子监察")
    assert any("自动退出" in i.value for i in at.info)
    assert not at.metric


def test_logout(ww_home):
    publish_fixture(ww_home)
    add_test_user("li", "inspector", "the-right-pass")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    _login(at, "li", "the-right-pass")
    at.sidebar.button(key="logout").click().run()
    assert at.text_input(key="login_password") is not None
    assert not at.metric


def test_sso_offered_only_when_configured(ww_home):
    publish_fixture(ww_home)
    add_test_user("li", "inspector", "the-right-pass")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not [b for b in at.button if b.key == "login_sso"]
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                          "client_id": "windowwatch", "client_secret": "s",
                          "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}
    at.run()
    assert not at.exception
    assert [b for b in at.button if b.key == "login_sso"]
    # the local form stays available next to SSO
    assert at.text_input(key="login_password") is not None


def test_demo_user_only_when_no_accounts(ww_home):
    h = Home(ww_home)
    name, password = accounts.ensure_demo_user(h)
    assert name == "demo" and len(password) >= 12
    assert accounts.verify("demo", password, h).role == "inspector"
    assert accounts.ensure_demo_user(h) is None  # never resets an existing store


# ---------------------------------------------------------------- lock-out and expiry, end to end


def test_lockout_persists_across_sessions_and_processes(ww_home):
    """Locked in one browser session: a new session, and a freshly started process (a restarted
    dashboard server), still refuse the right password until the lock expires."""
    publish_fixture(ww_home)
    add_test_user("li", "inspector", "the-right-pass")
    first = AppTest.from_file(str(APP), default_timeout=60).run()
    for i in range(settings().login_max_failures):
        _login(first, "li", f"wrong-{i}")
    assert "锁定" in first.error[0].value
    second = AppTest.from_file(str(APP), default_timeout=60).run()  # a new session (new browser, cleared cookies)
    _login(second, "li", "the-right-pass")
    assert "锁定" in second.error[0].value and not second.metric
    assert second.text_input(key="login_password") is not None
    fresh = subprocess.run([sys.executable, "-c", "from windowwatch import accounts; "
                            "print(accounts.verify('li', 'the-right-pass') is None, accounts.locked_until('li') is not None)"],
                           cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert fresh.returncode == 0, fresh.stderr[-2000:]
    assert fresh.stdout.split() == ["True", "True"]
    # another account is not affected by li's lock
    add_test_user("wang", "auditor", "wang-right-pass")
    third = AppTest.from_file(str(APP), default_timeout=60).run()
    _login(third, "wang", "wang-right-pass")
    assert third.title[0].value == "总览"


def _audit_log_kinds(home) -> list[str]:
    from windowwatch.audit.log import AuditLog

    return [e["kind"] for e in AuditLog(Home(home)).entries()]


def test_expired_session_cannot_use_the_widgets_it_was_shown(ww_home, monkeypatch, deferred_downloads):
    """An auditor's page shows the commit button and download buttons; after the inactivity
    timeout, pressing them does nothing: the commit is not logged and the downloads refuse."""
    from dashboards.auth import SessionExpired

    publish_fixture(ww_home)
    add_test_user("zhao", "auditor", "zhao-right-pass")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    _login(at, "zhao", "zhao-right-pass")
    at.switch_page("app_pages/timeliness.py").run()
    csv_download = next(v for k, v in deferred_downloads.items() if k.startswith("open_cases") and k.endswith(".csv"))
    assert csv_download().count(b"\n") > 1  # while signed in the download works
    at.switch_page("app_pages/audit.py").run()
    assert not at.exception
    commit = at.button(key="audit_commit_btn")
    before = _audit_log_kinds(ww_home)

    monkeypatch.setenv("WINDOWWATCH_SESSION_MINUTES", "0")  # the session is now past its timeout
    commit.click().run()
    assert not at.exception
    assert _audit_log_kinds(ww_home) == before, "an expired session committed a plan"
    assert at.text_input(key="login_password") is not None
    assert any("自动退出" in i.value for i in at.info)
    # the download callables handed out before the timeout refuse too (they run in the download
    # request, outside any page run, so the login check of app.py never sees them)
    with pytest.raises(SessionExpired):
        csv_download()


def test_download_after_logout_refuses(ww_home, deferred_downloads):
    from dashboards.auth import SessionExpired

    publish_fixture(ww_home)
    add_test_user("li", "inspector", "the-right-pass")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    _login(at, "li", "the-right-pass")
    at.switch_page("app_pages/timeliness.py").run()
    xlsx_download = next(v for k, v in deferred_downloads.items() if k.startswith("open_cases") and k.endswith(".xlsx"))
    assert xlsx_download()[:2] == b"PK"
    at.sidebar.button(key="logout").click().run()
    with pytest.raises(SessionExpired):
        xlsx_download()


def test_inspector_account_links_to_an_inspector_id(ww_home):
    r = subprocess.run([sys.executable, "-m", "windowwatch.cli", "users", "add", "zhang", "--role", "inspector",
                        "--inspector-id", "K01", "--password-stdin"], input="correct horse battery\n",
                       capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert accounts.verify("zhang", "correct horse battery", Home(ww_home)).inspector_id == "K01"
    # only inspectors carry one: an auditor with an inspector id is refused, nothing is written
    with pytest.raises(accounts.AccountError, match="only for --role inspector"):
        accounts.add_user("wang", "auditor", "long-enough-pw", Home(ww_home), inspector_id="K02")
    assert "wang" not in accounts.load_accounts(Home(ww_home))
