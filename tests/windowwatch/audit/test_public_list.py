"""The public list (一公开) is one table in every format, its publication deadline counts the
snapshot's working days, and its publication is in the hash-chained log."""

from __future__ import annotations

import csv
import datetime as dt
import io
from html.parser import HTMLParser

import chinese_calendar
import duckdb
import openpyxl
import pytest

import windowwatch.audit as audit
from core.localtime import today_local
from tests.support.audit_snapshot import INSPECTORS, build_snapshot, write_plan
from windowwatch.audit.log import AuditLog
from windowwatch.spreadsheets import neutralize

NAMES = {i: n for i, n, _d, _a in INSPECTORS}


def _add_calendar(snapshot) -> None:
    """marts.dim_date as dbt builds it (the official calendar) over the months the tests use."""
    con = duckdb.connect(str(snapshot))
    try:
        con.execute("create table marts.dim_date (date date, is_workday boolean, is_assumed boolean, "
                    "holiday_name varchar, holiday_name_en varchar, source varchar)")
        d, rows = dt.date(2026, 9, 1), []
        while d <= dt.date(2026, 12, 31):
            rows.append((d, chinese_calendar.is_workday(d), False, None, None, "chinesecalendar"))
            d += dt.timedelta(days=1)
        con.executemany("insert into marts.dim_date values (?, ?, ?, ?, ?, ?)", rows)
        con.execute("checkpoint")
    finally:
        con.close()


@pytest.fixture()
def home(ww_home):
    _add_calendar(build_snapshot(ww_home))
    return ww_home


class _Table(HTMLParser):
    """The <table> of the HTML notice: header cells and body rows, as the browser shows their text."""

    def __init__(self):
        super().__init__()
        self.headers, self.rows, self._cell, self._in = [], [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell, self._in = [], tag

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr":
            (self.headers if self._in == "th" else self.rows).append(self._row)

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _formats(draw_id: str, h) -> tuple[list[list[str]], list[list], list[list[str]], audit.PublicList]:
    pl = audit.build_public_list(draw_id, h)
    rows = list(csv.reader(io.StringIO(audit.render(pl, "csv").decode("utf-8-sig"), newline="")))
    wb = openpyxl.load_workbook(io.BytesIO(audit.render(pl, "xlsx")))
    sheet = [list(r) for r in wb["抽查名单"].iter_rows(values_only=True)]
    parser = _Table()
    parser.feed(audit.render(pl, "html").decode("utf-8"))
    return rows, sheet, [parser.headers[0], *parser.rows], pl


def test_csv_excel_and_html_hold_the_same_cells_including_a_recorded_finding(home, tmp_path):
    r = audit.draw(audit.load_plan(write_plan(tmp_path / "p.yaml")), "2026-11-02 体彩 09321", home)
    staffed = [s for s in r.sample if s["inspectors"]]
    found, clean, pending = staffed[0], staffed[1], staffed[2]
    audit.add_finding(r.draw_id, found["case_id"], ["申请材料不全", "超时未说明"], "-缺营业执照副本", found["inspectors"], home)
    audit.add_finding(r.draw_id, clean["case_id"], [], "", clean["inspectors"][:1], home)

    csv_rows, sheet, html_rows, pl = _formats(r.draw_id, home)
    assert csv_rows[0] == [*pl.headers, "审计日志链头 chain_head"]
    assert sheet[0] == html_rows[0] == pl.headers
    assert len(csv_rows) == len(sheet) == len(html_rows) == 1 + len(r.sample)
    for i, expected in enumerate(pl.rows, start=1):
        # spreadsheets get the leading apostrophe that keeps "-…" from running as a formula; the page shows the text
        assert csv_rows[i][:-1] == [neutralize(v) for v in expected], i
        assert [v if v is not None else "" for v in sheet[i]] == [neutralize(v) for v in expected], i
        assert html_rows[i] == expected, i
        assert csv_rows[i][-1] == pl.meta["chain_head"]

    by_case = {row[0]: dict(zip(pl.keys, row)) for row in html_rows[1:]}
    assert by_case[found["case_id"]]["problem_codes"] == "申请材料不全;超时未说明"
    assert by_case[found["case_id"]]["note"] == "-缺营业执照副本"
    assert by_case[clean["case_id"]]["problem_codes"] == "无问题"
    assert by_case[pending["case_id"]]["problem_codes"] == "待检查"
    # inspectors by name with the id beside, from the inspector pool
    a, b = found["inspectors"]
    assert by_case[found["case_id"]]["inspectors"] == f"{NAMES[a]}（{a}）、{NAMES[b]}（{b}）"
    # the CLI export writes the same bytes as the page's download
    for fmt in ("csv", "html"):
        assert audit.export_draw(r.draw_id, fmt, tmp_path / "out", home).read_bytes() == audit.render(pl, fmt)


def test_the_deadline_counts_the_calendars_working_days(home, tmp_path):
    sept = audit.draw(audit.load_plan(write_plan(tmp_path / "s.yaml", name="九月稽核",
                                                 population={"month": "2026-09", "status": "completed"})), "e1", home)
    octo = audit.draw(audit.load_plan(write_plan(tmp_path / "o.yaml")), "e2", home)

    def twentieth_workday_after(day: dt.date) -> dt.date:
        n = 0
        while n < audit.PUBLICATION_WORKDAYS:
            day += dt.timedelta(days=1)
            n += chinese_calendar.is_workday(day)
        return day

    st = audit.publication_statuses(home, today=dt.date(2026, 11, 1))
    assert st[sept.draw_id].period_end == dt.date(2026, 9, 30)
    # the National Day week and its make-up day are counted as the calendar says, not Monday–Friday
    assert st[sept.draw_id].deadline == twentieth_workday_after(dt.date(2026, 9, 30)) == dt.date(2026, 11, 3)
    assert st[octo.draw_id].deadline == twentieth_workday_after(dt.date(2026, 10, 31)) == dt.date(2026, 11, 27)
    assert not st[octo.draw_id].deadline_assumed
    assert st[sept.draw_id].overdue is False  # 1 Nov: not yet due
    assert audit.publication_statuses(home, today=dt.date(2026, 11, 3))[sept.draw_id].overdue is False
    assert audit.publication_statuses(home, today=dt.date(2026, 11, 4))[sept.draw_id].overdue is True


def test_publication_is_logged_once_per_list_and_a_later_finding_changes_the_list(home, tmp_path):
    r = audit.draw(audit.load_plan(write_plan(tmp_path / "p.yaml")), "e", home)
    assert audit.publication_statuses(home)[r.draw_id].published is False
    e = audit.publish_list(r.draw_id, home, user="aud")
    assert (e["kind"], e["draw_id"], e["user"], e["publication_id"]) == ("public_list_published", r.draw_id, "aud", "P00001")
    assert audit.publish_list(r.draw_id, home, user="aud")["seq"] == e["seq"]  # unchanged: nothing new
    st = audit.publication_statuses(home)[r.draw_id]
    assert st.published and not st.overdue
    assert st.late == (today_local() > st.deadline)
    assert not audit.changed_since_publication(r.draw_id, home)
    case = next(s for s in r.sample if s["inspectors"])
    audit.add_finding(r.draw_id, case["case_id"], ["其他"], "", case["inspectors"], home)
    assert audit.changed_since_publication(r.draw_id, home)
    assert audit.publish_list(r.draw_id, home)["publication_id"] == "P00002"
    assert audit.verify(r.draw_id, home).ok and AuditLog(home).entries()[-1]["kind"] == "public_list_published"
    with pytest.raises(audit.ExportError):
        audit.publish_list("D09999", home)


def test_the_plan_yaml_of_the_form_hashes_like_the_plan(tmp_path):
    plan = audit.load_plan(audit.EXAMPLE_PLAN)
    text = audit.plan_yaml(plan)
    assert "#" not in text and "docs/" not in text and text.startswith("name: ")
    assert audit.parse_plan_text(text).plan_hash() == plan.plan_hash()
    ratio = audit.parse_plan({"name": "比例", "population": {"month": "2026-10", "status": "open", "item_codes": ["0012"]},
                              "strata": "none", "sample": {"ratio": 0.05, "min": 1}, "inspectors_per_case": 2,
                              "max_cases_per_inspector": 3})
    again = audit.parse_plan_text(audit.plan_yaml(ratio))
    assert again.plan_hash() == ratio.plan_hash() and again.population.item_codes == ["0012"]
    # the example plan shown to users cites no internal document
    assert "docs/" not in audit.EXAMPLE_PLAN.read_text(encoding="utf-8")
    assert ".py" not in audit.EXAMPLE_PLAN.read_text(encoding="utf-8")
