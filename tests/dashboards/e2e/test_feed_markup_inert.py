"""Text from the feeds is shown as text, never rendered (docs/architecture.md#privacy-and-access):
window, department and item names, comments, evidence, a report's changes and an audit plan
carry Markdown and HTML whose every URL points at a local server that records requests. The
inspector opens every page, the viewer the reports: no request reaches that server, no link
to it exists, no script runs."""

from __future__ import annotations

import pytest

from core.paths import Home
from dashboards.i18n import t
from tests.support.browser import PAGES, assert_clean, go, login, settle
from tests.support.dashboard_server import dashboard_server
from tests.support.dashboard_snapshot import published_home
from tests.support.feed_markup import Recorder, changes_markdown, corpus, poison_snapshot
from tests.support.security import add_account, fake_report

SHOWS_NAMES = {"rankings", "window", "case", "audit", "reports"}  # pages that print a name or plan in Markdown
ACCOUNTS = {"inspector": ("mk.insp", "insp-pass-123"), "viewer": ("mk.view", "view-pass-123")}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    import windowwatch.audit as audit

    recorder = Recorder()
    payloads = corpus(recorder.port)
    with recorder.running(), published_home(tmp_path_factory, "markup") as (root, snap):
        assert poison_snapshot(snap, payloads) >= 6
        report = fake_report(root)
        (report / "changes.md").write_text(changes_markdown(payloads), encoding="utf-8")
        plan = audit.parse_plan_text(audit.EXAMPLE_PLAN.read_text(encoding="utf-8"))
        plan = audit.parse_plan({**plan.canonical(), "name": "计划 " + " ".join(payloads[:2])})
        result = audit.draw(plan, "开奖号 " + " ".join(payloads), Home(root), user="fixture")
        staffed = next(s for s in result.sample if s["inspectors"])
        audit.add_finding(result.draw_id, staffed["case_id"], "", "备注 " + " ".join(payloads), staffed["inspectors"],
                          Home(root))
        for role, (name, pw) in ACCOUNTS.items():
            add_account(name, role, pw)
        with dashboard_server(root, tmp_path_factory.mktemp("markup-log") / "serve.log") as (base, _pid):
            yield {"base": base, "recorder": recorder, "snapshot": snap, "draw_id": result.draw_id}


def _watch(page, port: int) -> dict[str, list]:
    seen: dict[str, list] = {"requests": [], "dialogs": []}
    page.on("request", lambda r: seen["requests"].append(r.url) if f":{port}" in r.url else None)
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    return seen


def _bad_links(page, port: int) -> list[str]:
    links = page.eval_on_selector_all(
        "[href], [src], [xlink\\:href]",
        "els => els.map(e => [e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('xlink:href') || '',"
        " e.outerHTML.slice(0, 300)])")
    return [html for h, html in links if f"127.0.0.1:{port}" in h or h.strip().lower().startswith("javascript:")]


def _check(page, world, where: str, seen) -> None:
    port = world["recorder"].port
    assert_clean(page, where)
    page.wait_for_timeout(500)  # an image or script would have fired by now
    assert _bad_links(page, port) == [], where
    assert seen["requests"] == [] and world["recorder"].paths == [], f"{where}: {seen['requests']} {world['recorder'].paths}"
    assert seen["dialogs"] == [], where
    if where.rsplit("/", 1)[-1] in SHOWS_NAMES:  # the text itself is there, as text: shown, not dropped
        assert "[官网通知](http" in page.locator("body").inner_text(), where


def _open_changes(page) -> None:
    page.get_by_text(t("reports.changes", lang="zh")).first.click()
    settle(page)


def test_every_page_shows_feed_markup_as_text(world, browser):
    name, pw = ACCOUNTS["inspector"]
    page = login(browser, world["base"], name, pw)
    seen = _watch(page, world["recorder"].port)
    for key in PAGES:
        if key == "hall":
            continue
        go(page, key, "zh")
        if key == "case":
            import duckdb

            con = duckdb.connect(str(world["snapshot"]), read_only=True)
            case_id = con.execute("select case_id from marts.fct_evaluation where comment is not null "
                                  "order by case_id limit 1").fetchone()[0]
            con.close()
            box = page.get_by_label("办件编号")
            box.fill(case_id)
            box.press("Enter")
            settle(page)
        if key == "reports":
            _open_changes(page)
        _check(page, world, f"inspector/{key}", seen)
    go(page, "hall", "zh")
    _check(page, world, "inspector/hall", seen)
    page.close()


def test_the_viewer_pages_show_feed_markup_as_text(world, browser):
    name, pw = ACCOUNTS["viewer"]
    page = login(browser, world["base"], name, pw)
    seen = _watch(page, world["recorder"].port)
    _open_changes(page)
    _check(page, world, "viewer/reports", seen)
    page.close()
