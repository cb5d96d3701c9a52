"""The dashboards driven in-process with Streamlit's AppTest, against a fixture snapshot.

Every page is opened for every role; the numbers on screen are compared with the fixture
marts, queried here independently with DuckDB.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.support.dashboard_snapshot import AS_OF, add_test_user, publish_fixture, published_home
from dashboards.common import fmt_int, fmt_pct, fmt_score
from core.paths import REPO_ROOT

APP = REPO_ROOT / "dashboards" / "app.py"
PASSWORDS = {"insp": "insp-pass-123", "aud": "aud-pass-123", "view": "view-pass-123"}
ROLES = {"insp": "inspector", "aud": "auditor", "view": "viewer"}
INSPECTOR_PAGES = ["overview", "rankings", "timeliness", "offbook", "satisfaction", "video", "audit", "reports",
                   "window_detail", "case_detail", "hall", "hall_ops", "staff"]
TITLES_ZH = {"overview": "总览", "rankings": "星级窗口排名", "timeliness": "超时监控", "offbook": "体外循环",
             "satisfaction": "满意度", "video": "视频巡查", "audit": "双随机抽查", "reports": "月度报告",
             "window_detail": "窗口明细", "case_detail": "办件时间线", "hall": "今日窗口满意度",
             "hall_ops": "大厅运行", "staff": "星级服务人员"}
MONTH = dt.date(2026, 10, 1)
UNTRANSLATED = re.compile(r"^(col|enum|nav|overview|rankings|timeliness|offbook|satisfaction|video|audit|reports|"
                          r"window|case|hall|hall_ops|staff|filter|common|login|app|role)\.[A-Za-z_.0-9]+$")


@pytest.fixture(scope="module")
def dash_home(tmp_path_factory):
    with published_home(tmp_path_factory, "dash") as (home, snap):
        # ROLES, not PASSWORDS: a test below adds accounts to PASSWORDS, and a module importing this
        # fixture may build its home after that test ran in the same process
        for name, role in ROLES.items():
            add_test_user(name, role, PASSWORDS[name])
        yield home, snap


@pytest.fixture(scope="module")
def marts(dash_home):
    con = duckdb.connect(str(dash_home[1]), read_only=True)
    yield con
    con.close()


def one(con, sql, params=()):
    return con.execute(sql, list(params)).fetchone()[0]


def login(name: str, query: dict | None = None, lang: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    if query:
        at.query_params.update(query)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    at.text_input(key="login_user").input(name)
    at.text_input(key="login_password").input(PASSWORDS[name])
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def all_text(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "markdown", "caption", "info", "warning", "error", "success", "subheader")
             for e in getattr(at, kind)]
    for df in at.dataframe:
        v = df.value
        frame = v.data if hasattr(v, "data") else v  # a Styler carries its frame in .data
        parts.append(frame.to_csv())
    return "\n".join(str(p) for p in parts)


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, f"{page}: {[e.message for e in at.exception]}"
    return at


# ---------------------------------------------------------------- every page, every role


@pytest.mark.parametrize("user", ["insp", "aud"])
def test_every_page_opens_without_exception(dash_home, user):
    at = login(user)
    for page in INSPECTOR_PAGES:
        open_page(at, page)
        assert TITLES_ZH[page] in at.title[0].value, page
        text = all_text(at)
        headers = [str(c) for df in at.dataframe for c in (df.value.data if hasattr(df.value, "data") else df.value).columns]
        leaked = [s for s in headers + [m.label for m in at.metric] if UNTRANSLATED.match(s)]
        assert not leaked, f"{page}: untranslated keys {leaked}"
        assert "Traceback" not in text


def test_every_page_in_english(dash_home):
    at = login("insp", lang="en")
    open_page(at, "overview")
    assert at.title[0].value == "Overview"
    for page in INSPECTOR_PAGES:
        open_page(at, page)
        # no CJK in the page chrome: titles and metric labels come from the English catalogue
        labels = [at.title[0].value, *[m.label for m in at.metric]]
        assert not [s for s in labels if re.search(r"[\u4e00-\u9fff]", s)], f"{page}: {labels}"


def test_viewer_sees_only_reports(dash_home):
    at = login("view")
    assert at.title[0].value == "月度报告"
    # no filters (no raw data) and no way to the inspector pages
    assert not [s for s in at.sidebar.selectbox if s.key and s.key.startswith("flt_")]
    with pytest.raises(ValueError):
        at.switch_page("app_pages/overview.py")
    assert not at.metric and not at.dataframe


@pytest.mark.parametrize("role, pages", [("manager", ["overview", "rankings", "reports", "hall", "hall_ops", "supervision"]),
                                         ("department", ["reports", "supervision"])])
def test_manager_and_department_see_only_their_pages(dash_home, role, pages):
    """SPEC §8 v2 roles, until the 督办 page and department scoping exist: the management office sees
    the overview, rankings, reports and the hall (no applicant-level case list); a department liaison
    the reports."""
    name = f"{role}1"
    PASSWORDS[name] = f"{role}-pass-123"
    add_test_user(name, role, PASSWORDS[name], **({"department_id": "D01"} if role == "department" else {}))
    at = login(name)
    assert at.sidebar.caption and any(("管理办公室" if role == "manager" else "部门联络员") in c.value
                                      for c in at.sidebar.caption)
    for page in pages:
        open_page(at, page)
    for page in ("timeliness", "offbook", "satisfaction", "case_detail", "window_detail", "audit", "staff"):
        with pytest.raises(ValueError):
            at.switch_page(f"app_pages/{page}.py")


def test_not_logged_in_sees_only_login(dash_home):
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert at.text_input(key="login_password") is not None
    assert not at.metric and not at.dataframe
    with pytest.raises(ValueError):
        at.switch_page("app_pages/overview.py")


# ---------------------------------------------------------------- the numbers equal the marts


def test_overview_numbers_equal_marts(dash_home, marts):
    at = login("insp", query={"month": "2026-10"})
    m = metrics(at)
    month_end = dt.date(2026, 11, 1)
    accepted = one(marts, "select count(*) from marts.fct_case where accepted_at >= ? and accepted_at < ?", (MONTH, month_end))
    on_time = one(marts, "select avg(is_on_time::int) from marts.fct_case where status = 'completed' "
                         "and completed_at >= ? and completed_at < ?", (MONTH, month_end))
    good = one(marts, "select avg(is_good::int) from marts.fct_evaluation where evaluated_at >= ? and evaluated_at < ?",
               (MONTH, month_end))
    red = one(marts, "select count(*) from marts.fct_case where status = 'open' and card = 'red'")
    yellow = one(marts, "select count(*) from marts.fct_case where status = 'open' and card = 'yellow'")
    off_book = one(marts, "select count(*) from marts.fct_case where off_book_signals > 0 and accepted_at >= ? "
                          "and accepted_at < ?", (MONTH, month_end))
    pending = one(marts, "select count(*) from marts.fct_video_flag where review_status = 'pending'")
    assert m["受理件数"] == fmt_int(accepted)
    assert m["按时办结率"] == fmt_pct(on_time)
    assert m["好评率"] == fmt_pct(good)
    assert m["在办红牌"] == fmt_int(red) and red > 0
    assert m["在办黄牌"] == fmt_int(yellow)
    assert m["体外循环疑点件"] == fmt_int(off_book)
    assert m["待审核视频线索"] == fmt_int(pending)
    prev_accepted = one(marts, "select count(*) from marts.fct_case where accepted_at >= ? and accepted_at < ?",
                        (dt.date(2026, 9, 1), MONTH))
    delta = {x.label: x.delta for x in at.metric}["受理件数"]
    assert delta == f"{accepted - prev_accepted:+,}"
    text = all_text(at)
    assert "warehouse-fixture-1.duckdb" in text and AS_OF.isoformat() in text
    assert "2027-01-01" in text  # the assumed-calendar warning names the first assumed day
    assert any("成功" in s.value for s in at.success)


def test_rankings_equal_marts(dash_home, marts):
    at = open_page(login("insp", query={"month": "2026-10"}), "rankings")
    rows = marts.execute("""select w.window_name, m.score, m.rank from marts.fct_window_month m
                            join marts.dim_window w using (window_id) where m.month = ?
                            order by m.rank nulls last, m.score desc""", [MONTH]).fetchall()
    table = at.dataframe[0].value
    assert list(table["窗口"]) == [r[0] for r in rows]
    assert list(table["得分"]) == [fmt_score(r[1]) for r in rows]
    assert list(table["名次"]) == [str(r[2]) if r[2] is not None else "—" for r in rows]
    red = marts.execute("select w.window_name from marts.fct_window_month m join marts.dim_window w using (window_id) "
                        "where m.month = ? and m.is_red_flag", [MONTH]).fetchall()
    vetoed = one(marts, "select count(*) from marts.fct_window_month where month = ? and veto_reason is not null", (MONTH,))
    text = all_text(at)
    for (name,) in red:
        assert f":material/flag: **{name}**" in text
    assert text.count(":material/block:") == vetoed and vetoed > 0
    assert "weights" in at.code[0].value  # the scoring config in force


def test_rankings_show_the_snapshots_scoring_file(dash_home):
    """The breakdown and the configuration shown are the scoring file the snapshot was computed
    with (kept beside it at publish), not the file in force now (issue 21, finding 6)."""
    import yaml

    from core.config import DEFAULT_SCORING, load_scoring
    from windowwatch.snapshot import scoring_copy

    kept = scoring_copy(dash_home[1])
    data = yaml.safe_load(DEFAULT_SCORING.read_text(encoding="utf-8"))
    data["score"]["min_completed_cases"] = 7
    kept.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    try:
        at = open_page(login("insp", query={"month": "2026-10"}), "rankings")
        shown = yaml.safe_load(at.code[0].value)
        assert shown["score"]["min_completed_cases"] == 7
        assert load_scoring(kept).content_hash()[:16] in all_text(at)
    finally:
        kept.unlink()


def test_timeliness_equals_marts(dash_home, marts):
    at = open_page(login("insp"), "timeliness")
    m = metrics(at)
    for card, label in (("red", "红牌"), ("yellow", "黄牌"), ("green", "绿牌")):
        n = one(marts, "select count(*) from marts.fct_case where status = 'open' and card = ?", (card,))
        assert m[label] == fmt_int(n)
    table = at.dataframe[0].value
    n_red_yellow = one(marts, "select count(*) from marts.fct_case where status = 'open' and card in ('red', 'yellow')")
    assert len(table) == n_red_yellow
    # 法定超时 first (more serious than a red card), then the most overdue
    worst = marts.execute("select case_id, overdue_workdays from marts.fct_case where card = 'red' "
                          "order by is_legal_overdue desc, overdue_workdays desc, case_id limit 1").fetchone()
    assert table.iloc[0]["办件编号"] == worst[0] and table.iloc[0]["超期工作日"] == worst[1]
    assert table.iloc[0]["法定超时"] == "是"
    # one click to the case: the first column links its drill-down (a shareable URL)
    assert table.columns[0] == "办件" and table.iloc[0]["办件"] == f"case?case={worst[0]}"
    legal = one(marts, "select count(*) from marts.fct_case where status = 'open' and is_legal_overdue")
    assert legal >= 1 and m["法定超时（在办）"] == fmt_int(legal)
    # the month's timeliness signals, each in Chinese
    signals = next(d.value for d in at.dataframe if "规则" in d.value.columns)
    n = one(marts, "select count(*) from marts.fct_timeliness_signal where date_trunc('month', signal_date) = ?", (MONTH,))
    assert len(signals) == n >= 1
    assert set(signals["规则"]) <= {"超法定时限", "特别程序事由不符"}
    assert not any("=" in e for e in signals["证据"]), list(signals["证据"])
    assert len(at.get("download_button")) == 2
    # the card filter narrows the list
    at.multiselect(key="tl_cards").set_value(["green"]).run()
    green = one(marts, "select count(*) from marts.fct_case where status = 'open' and card = 'green'")
    assert len(at.dataframe[0].value) == green


def test_offbook_equals_marts(dash_home, marts):
    at = open_page(login("insp", query={"month": "2026-09"}), "offbook")
    m = metrics(at)
    rows = marts.execute("select rule_id, count(*) from marts.fct_off_book_signal where signal_date >= ? "
                         "and signal_date < ? group by rule_id", [dt.date(2026, 9, 1), MONTH]).fetchall()
    labels = {"OB_BACKFILL": "补录", "OB_INSTANT": "秒办", "OB_OFF_HOURS": "非工作时间", "OB_RUNAROUND": "两头跑",
              "OB_VOLUME_GAP": "应进未进"}
    assert rows
    for rule, n in rows:
        assert m[labels[rule]] == fmt_int(n)
    text = all_text(at)
    assert "部门上报 80 件" in text  # the department-level volume gap evidence
    # the evidence of the chosen case: its signal and its events with the recorded-at gap
    assert "办件证据" in text


def test_satisfaction_equals_marts_and_masks_pii(dash_home, marts):
    at = open_page(login("insp", query={"month": "2026-10"}), "satisfaction")
    m = metrics(at)
    n = one(marts, "select count(*) from marts.fct_evaluation where evaluated_at >= ? and evaluated_at < ?",
            (MONTH, dt.date(2026, 11, 1)))
    outstanding = one(marts, "select count(*) from marts.fct_evaluation where is_bad and rectified_at is null "
                             "and coalesce(verdict, '') <> 'invalid'")
    late = one(marts, "select count(*) from marts.fct_evaluation where is_bad and rectified_at is null "
                      "and coalesce(verdict, '') <> 'invalid' and rectification_deadline::date < ?", (AS_OF,))
    assert m["评价数"] == fmt_int(n)
    assert m["待整改差评"] == fmt_int(outstanding)
    assert m["逾期未整改"] == fmt_int(late)
    # the comment that still carries a phone number is shown masked, in its month
    month = one(marts, "select strftime(evaluated_at, '%Y-%m') from marts.fct_evaluation "
                       "where comment like '%13912345678%'")
    at = open_page(login("insp", query={"month": month}), "satisfaction")
    text = all_text(at)
    assert "13912345678" not in text
    assert "139****5678" in text


def test_video_equals_marts(dash_home, marts):
    at = open_page(login("insp", query={"month": "2026-10"}), "video")
    m = metrics(at)
    confirmed = one(marts, "select count(*) from marts.fct_video_flag where review_status = 'confirmed' "
                           "and flagged_at >= ? and flagged_at < ?", (MONTH, dt.date(2026, 11, 1)))
    pending = one(marts, "select count(*) from marts.fct_video_flag where review_status = 'pending'")
    assert m["已确认线索"] == fmt_int(confirmed)
    assert m["待审核线索"] == fmt_int(pending)
    assert len(at.dataframe[0].value) == pending


def test_window_drilldown_equals_marts(dash_home, marts):
    at = login("insp", query={"month": "2026-10", "window": "W02"})
    at = open_page(at, "window_detail")
    score, veto = marts.execute("select score, veto_reason from marts.fct_window_month where window_id = 'W02' "
                                "and month = ?", [MONTH]).fetchone()
    assert metrics(at)["得分"] == fmt_score(score)
    assert veto == "private_handover" and any("一票否决" in e.value for e in at.error)
    n = one(marts, "select count(*) from marts.fct_case where window_id = 'W02' and "
                   "(date_trunc('month', accepted_at) = ? or date_trunc('month', completed_at) = ?)", (MONTH, MONTH))
    assert len(at.dataframe[0].value) == n


def test_case_timeline_shows_events(dash_home, marts):
    case_id, n_events = marts.execute("select case_id, count(*) from marts.fct_case_event group by case_id "
                                      "order by count(*) desc, case_id limit 1").fetchone()
    at = login("insp", query={"case": case_id})
    at = open_page(at, "case_detail")
    assert at.text_input(key="case_id_input").value == case_id
    events = at.dataframe[0].value
    assert len(events) == n_events
    assert "受理" in set(events["环节"])
    at.text_input(key="case_id_input").input("NO-SUCH-CASE").run()
    assert any("NO-SUCH-CASE" in w.value for w in at.warning)


def test_case_page_explains_how_the_deadline_was_counted(dash_home, marts):
    case_id, clock_start, deadline = marts.execute(
        "select case_id, clock_start_date, deadline_date from marts.fct_case where is_legal_overdue and status = 'open' "
        "order by case_id limit 1").fetchone()
    at = open_page(login("insp", query={"case": case_id}), "case_detail")
    text = all_text(at)
    assert "法定超时" in text
    clock = "\n".join(e.value for e in at.markdown if "计时起点" in e.value)
    assert f"计时起点：{clock_start}" in clock
    # the special procedure with a reason the law does not allow: shown, not counted, and why
    assert "特别程序" in clock and "暂停 3 个工作日，计入 0 个（特别程序事由不符）" in clock, clock
    assert "合计时限" in clock and f"办结期限：{deadline}" in clock and "数据截至" in clock
    skipped = one(marts, "select count(*) from marts.dim_date where date > ? and date <= ? and not is_workday",
                  (clock_start, deadline))
    if skipped:
        assert f"跳过非工作日 {skipped} 天" in clock
    signals = next(d.value for d in at.dataframe if "规则" in d.value.columns)
    assert {"特别程序事由不符", "超法定时限"} <= set(signals["规则"])
    assert any("不属于可不计入时限的法定事由" in e for e in signals["证据"])
    assert not any("=" in e for e in signals["证据"])
    # English: the same explanation, no Chinese rule name through
    at = open_page(login("insp", query={"case": case_id}, lang="en"), "case_detail")
    assert any("Clock starts" in e.value for e in at.markdown)


def test_hall_screen_equals_marts(dash_home, marts):
    at = open_page(login("insp"), "hall")
    day = one(marts, "select max(evaluated_at)::date from marts.fct_evaluation where evaluated_at::date <= ?", (AS_OF,))
    n = one(marts, "select count(*) from marts.fct_evaluation where evaluated_at::date = ?", (day,))
    red = one(marts, "select count(*) from marts.fct_case where status = 'open' and card = 'red'")
    m = metrics(at)
    assert m["今日评价数"] == fmt_int(n)
    assert m["在办红牌"] == fmt_int(red)
    assert str(day) in at.title[0].value


def test_filters_live_in_the_url(dash_home, marts):
    at = login("insp", query={"month": "2026-09"})
    assert at.caption[0].value.endswith("2026-09")
    at.sidebar.selectbox(key="flt_center").select("C02").run()
    assert at.query_params["center"] == "C02"
    w04 = one(marts, "select count(*) from marts.fct_case where window_id = 'W04' and accepted_at >= ? "
                     "and accepted_at < ?", (dt.date(2026, 9, 1), MONTH))
    assert metrics(at)["受理件数"] == fmt_int(w04)
    # the URL alone reproduces the view
    at2 = login("insp", query={"month": "2026-09", "center": "C02"})
    assert metrics(at2)["受理件数"] == fmt_int(w04)


def test_language_switch(dash_home):
    at = login("insp")
    assert at.title[0].value == "总览"
    at.sidebar.radio(key="lang").set_value("en").run()
    assert at.title[0].value == "Overview"
    assert at.query_params["lang"] == "en"


# ---------------------------------------------------------------- variants of the snapshot


def _fresh_home(tmp_path, monkeypatch, **kw) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("WINDOWWATCH_HOME", str(home))
    if kw.pop("publish", True):
        publish_fixture(home, **kw)
    add_test_user("insp", "inspector", PASSWORDS["insp"])
    return home


def test_case_timeline_without_event_mart(tmp_path, monkeypatch):
    _fresh_home(tmp_path, monkeypatch, with_case_events=False, run_id="noevents")
    con = duckdb.connect(str(tmp_path / "home" / "published" / "warehouse-noevents.duckdb"), read_only=True)
    case_id = one(con, "select case_id from marts.fct_case where status = 'completed' order by case_id limit 1")
    con.close()
    at = open_page(login("insp", query={"case": case_id}), "case_detail")
    assert any("fct_case_event" in c.value for c in at.caption)
    assert set(at.dataframe[0].value["环节"]) == {"受理", "办结时限", "办结"}


def test_failed_run_is_shown(tmp_path, monkeypatch):
    _fresh_home(tmp_path, monkeypatch, run_status="failed", run_id="bad")
    at = login("insp")
    errors = " ".join(e.value for e in at.error)
    assert "dbt_build" in errors and "contract violated" in errors


def test_no_snapshot_says_so(tmp_path, monkeypatch):
    _fresh_home(tmp_path, monkeypatch, publish=False)
    at = login("insp")
    assert any("windowwatch run" in w.value for w in at.warning)
    for page in INSPECTOR_PAGES:
        open_page(at, page)


def test_published_reports_are_listed(tmp_path, monkeypatch):
    home = _fresh_home(tmp_path, monkeypatch, run_id="rep")
    month_dir = home / "reports" / "2026-10" / "v1"
    month_dir.mkdir(parents=True)
    files = ("ranking.pdf", "ranking.xlsx", "ranking.html", "ranking.en.html")
    for name in files:
        (month_dir / name).write_bytes(b"x")
    (month_dir / "manifest.json").write_text(json.dumps({
        "content_hash": "ab" * 32, "created_at": "2026-11-01T09:00:00+08:00", "watermark": "2026-10-31",
        "snapshot": {"file": "warehouse-rep.duckdb"},
        "files": {n: "00" * 32 for n in files}}), encoding="utf-8")
    add_test_user("view", "viewer", PASSWORDS["view"])
    at = login("view")
    assert at.title[0].value == "月度报告"
    assert len(at.get("download_button")) == 4  # the 通报 as PDF, Excel, HTML and its English HTML
