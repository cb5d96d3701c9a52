"""The published report is a 通报 a centre can post (SPEC §4.8 v2, issue 20): the PDF read back as
text has no English word, rule id or hash before its closing 数据说明, names every window in full,
ends its body with the 落款 of the configuration; the XLSX has Chinese headers, names,
percentage and date formats and a frozen header row; ranking.en.html says the same in English."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess

import duckdb
import openpyxl
import pytest

from core.config import DEFAULT_SOURCES, load_sources
from core.paths import Home
from tests.support.audit_snapshot import SCORES_2026_10, WINDOWS, build_snapshot
from windowwatch.reports import publish_month

OFFICE = "测试市政务服务中心管理办公室"
LONG_NAME = "出入境证件办理与港澳台通行证签注综合窗口"  # 20 characters: the old chart cut labels at 14
NAMES = {"W02": LONG_NAME, "W06": "就业服务与失业保险待遇核定窗口"}
# the veto reason as int_scoring__window_month_scored stores it: bilingual, with the evidence ids
VETO = ("私下收件 private_handover flag confirmed: F7 2026-10-09 10:00:00; "
        "补录 OB_BACKFILL on cases accepted this month: C-W04-001, C-W04-002")
ALLOWED_ASCII_WORDS: set[str] = set()  # none needed: the body is Chinese throughout
HEX = re.compile(r"\b[0-9a-f]{16,}\b")
RULE_ID = re.compile(r"\b[A-Z]{2}_[A-Z_]+\b")
DATA_NOTES = "数据说明"


def _v2_marts(path) -> None:
    """What the v2 ranking (helper G's dbt change) publishes: no score and no stars without a
    completed case, score_note, the veto reason with its evidence."""
    con = duckdb.connect(str(path))
    try:
        con.execute("alter table marts.fct_window_month add column score_note varchar")
        con.execute("update marts.fct_window_month set veto_reason = ? where window_id = 'W04'", [VETO])
        con.execute("update marts.fct_window_month set score_note = 'S_left_out;R_left_out' where window_id = 'W05'")
        con.execute("update marts.fct_window_month set score = null, stars = null, rank = null, is_eligible = false, "
                    "cases_completed = 0 where window_id = 'W06'")
        con.execute("checkpoint")
    finally:
        con.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report_text") / "home"
    root.mkdir()
    sources = root.parent / "sources.yaml"
    sources.write_text("sources:\n  - name: hall_inbox\n    kind: files\n    options:\n      rating_direction: five_is_best\n"
                       f"report:\n  issuing_office: {OFFICE}\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WINDOWWATCH_HOME", str(root))
        mp.setenv("WINDOWWATCH_SOURCES", str(sources))
        mp.delenv("WINDOWWATCH_SCORING", raising=False)
        h = Home(root)
        _v2_marts(build_snapshot(root, "r1", window_names=NAMES))
        publish_month("2026-10", h)
        scores = dict(SCORES_2026_10)
        scores["W02"] = (87.5, 3, 3, True, False, False, None, 28, 0)
        scores["W03"] = (90.4, 4, 2, True, False, False, None, 25, 2)
        _v2_marts(build_snapshot(root, "r2", scores=scores, window_names=NAMES, assumed_calendar={"W05"}))
        v2 = publish_month("2026-10", h)
    assert v2.created and v2.version == 2
    # -raw: the content stream's order, so a table cell's wrapped lines stay together
    text = subprocess.run(["pdftotext", "-raw", str(v2.path / "ranking.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    manifest = json.loads((v2.path / "manifest.json").read_text(encoding="utf-8"))
    return {"path": v2.path, "text": text, "manifest": manifest}


def _body(text: str) -> str:
    assert text.count(DATA_NOTES) >= 1, "no 数据说明 section"
    return text[: text.index(DATA_NOTES)]


def test_pdf_body_has_no_english_rule_ids_or_hashes(report):
    body = _body(report["text"])
    words = set(re.findall(r"[A-Za-z]{3,}", body)) - ALLOWED_ASCII_WORDS
    assert not words, f"English words before {DATA_NOTES}: {sorted(words)}"
    assert not RULE_ID.findall(body)
    assert not HEX.findall(body)
    m = report["manifest"]
    for value in (m["content_hash"], m["scoring_hash"], m["snapshot"]["sha256"], m["audit_chain_head"]):
        assert value not in body
    assert m["snapshot"]["file"] not in body
    # the data notes hold them, and the scoring file's parameters with Chinese labels
    notes = report["text"][report["text"].index(DATA_NOTES):]
    flat = re.sub(r"\s+", "", notes)
    for value in (m["content_hash"], m["scoring_hash"], m["audit_chain_head"], m["snapshot"]["file"]):
        assert value in flat, value
    for label in ("审计日志链头", "评分文件", "参评最少办结件数", "权重：按时办结（T）", "星级分数线"):
        assert label in notes, label


def test_pdf_names_every_window_in_full_and_translates_codes(report):
    body = _body(report["text"])
    flat = re.sub(r"\s+", "", body)
    for wid, name, _dept in WINDOWS:
        assert NAMES.get(wid, name) in flat, NAMES.get(wid, name)
    assert LONG_NAME in body, "the chart labels a bar with the full name, on one line"
    html = (report["path"] / "ranking.html").read_text(encoding="utf-8")
    assert f">{LONG_NAME}</text>" in html
    for name in ("市公安局", "市市场监管局", "市人社局"):
        assert name in flat
    # the veto in words with its evidence counted; score_note and 不参评 as the v2 marts give them
    assert "一票否决：经视频确认的私下收件/递件1次；当月受理办件存在事后补录2件" in flat
    assert "满意度、差评整改率未计入得分" in flat
    assert "不参评（样本不足）" in flat
    for heading in ("一、总体情况", "二、红旗窗口", "三、星级评定结果", "四、末位窗口", "五、部门情况", "六、评分规则",
                    "考核窗口/参评窗口", "本版变更说明"):
        assert heading in flat, heading


def test_pdf_lists_windows_in_rank_order(report):
    flat = re.sub(r"\s+", "", _body(report["text"]))
    table = flat[flat.index("三、星级评定结果"):flat.index("四、末位窗口")]
    data = json.loads((report["path"] / "data.json").read_text(encoding="utf-8"))
    ranked = sorted(data["windows"], key=lambda w: (w["rank"] is None, w["rank"] or 0))
    # a table row starts with its rank ("—" without one) and the window's name
    rows = [f"{'—' if w['rank'] is None else w['rank']}{NAMES.get(w['window_id'], w['window_name'])}" for w in ranked]
    positions = [table.index(r) for r in rows]
    assert positions == sorted(positions), rows
    assert rows[-1] == f"—{NAMES['W06']}"  # no rank: last


def test_signoff_from_the_configuration_with_the_publication_date(report):
    body = _body(report["text"])
    d = dt.date.fromisoformat(report["manifest"]["created_at"][:10])
    assert OFFICE in body
    date = f"{d.year}年{d.month}月{d.day}日"
    assert date in body
    assert body.rindex(OFFICE) > body.index("六、评分规则") and body.rindex(date) > body.rindex(OFFICE)


def test_the_demo_configuration_names_an_issuing_office():
    assert load_sources(DEFAULT_SOURCES).report.issuing_office == "XX市政务服务中心管理办公室"


def test_english_rendering_beside_it(report):
    en = (report["path"] / "ranking.en.html").read_text(encoding="utf-8")
    assert report["manifest"]["files"]["ranking.en.html"]
    assert "Summary" in en and "Red-flag windows" in en and "Annex: data notes" in en
    assert "private handover confirmed on video (1); backfilled records on cases accepted this month (2)" in en
    assert "not ranked (too few cases)" in en and LONG_NAME in en
    assert OFFICE in en  # no English name configured: the Chinese one


def test_xlsx_chinese_headers_names_formats_frozen(report):
    wb = openpyxl.load_workbook(report["path"] / "ranking.xlsx")
    assert wb.sheetnames == ["排名", "评分构成", "部门", "数据说明"]
    for sheet in wb:
        assert sheet.freeze_panes == "A2", sheet.title
        header = [c.value for c in sheet[1]]
        assert all(re.search(r"[\u4e00-\u9fff]", h) for h in header), (sheet.title, header)
    ws = wb["排名"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r)) for r in ws.iter_rows(min_row=2)]
    assert [r["窗口名称"].value for r in rows][:3] == ["户籍业务窗口", "企业开办窗口", LONG_NAME]
    first = rows[0]
    assert first["所属部门"].value == "市公安局" and first["参评"].value == "是"
    assert first["得分"].number_format == "0.00"
    assert first["月份"].is_date and first["月份"].value.date() == dt.date(2026, 10, 1)
    assert "年" in first["月份"].number_format
    by_name = {r["窗口名称"].value: r for r in rows}
    assert by_name["食品经营许可窗口"]["一票否决"].value == "经视频确认的私下收件/递件 1 次；当月受理办件存在事后补录 2 件"
    assert by_name[NAMES["W06"]]["星级"].value == "不参评（样本不足）" and by_name[NAMES["W06"]]["得分"].value is None
    assert "未计入得分" in by_name["社保登记窗口"]["得分说明"].value
    comp = wb["评分构成"]
    header = [c.value for c in comp[1]]
    row = dict(zip(header, comp[2]))
    for col in ("按时办结率", "好评率", "体外循环率", "按时办结（T）"):
        assert row[col].number_format == "0.0%" and 0 <= row[col].value <= 1, col
    dept = wb["部门"]
    header = [c.value for c in dept[1]]
    assert header[0] == "部门" and "按时办结率" in header and "部门编号" not in header
    assert {r[0].value for r in dept.iter_rows(min_row=2)} == {"市公安局", "市市场监管局", "市人社局"}
    assert dept.cell(2, header.index("按时办结率") + 1).number_format == "0.0%"
    about = {r[0]: r[1] for r in wb["数据说明"].iter_rows(min_row=2, values_only=True)}
    assert about["落款单位"] == OFFICE and about["内容哈希"] == report["manifest"]["content_hash"]
    assert isinstance(about["数据截至"], dt.datetime) and about["审计日志链头"] == report["manifest"]["audit_chain_head"]


def test_codes_of_the_marts_in_words():
    from windowwatch.reports.labels import score_note_text, veto_text

    assert veto_text("补录 OB_BACKFILL on cases accepted this month: K9") == "当月受理办件存在事后补录 1 件"
    assert veto_text("补录 OB_BACKFILL") == "当月受理办件存在事后补录"  # no evidence list: no count
    assert veto_text("私下收件 private_handover flag confirmed: F7 2025-10-09 10:00:00, F8 2025-10-10 09:00:00",
                     "en") == "private handover confirmed on video (2)"
    assert veto_text("OB_SOMETHING_NEW on cases") == "违规事项"  # an unknown rule: no code, no English
    assert veto_text(None) is None
    assert score_note_text("S_left_out") == "满意度未计入得分（全中心当月无相应数据，其余权重按比例折算）"
    assert score_note_text("S_left_out;R_left_out", "en").startswith("satisfaction, rectification rate left out")
    assert score_note_text(None) is None


def test_every_parameter_of_the_scoring_file_has_a_chinese_label():
    from core.config import load_scoring
    from windowwatch.reports.labels import scoring_rows

    rows = scoring_rows(load_scoring().model_dump(mode="json"))
    assert len(rows) > 30
    unlabelled = [key for label, key, _value in rows if not re.search(r"[\u4e00-\u9fff]", label)]
    assert not unlabelled, f"add them to windowwatch/reports/labels.py: {unlabelled}"


def test_every_department_column_has_a_chinese_header():
    """The 部门 sheet shows every column of fct_department_month: each needs its Chinese name."""
    import yaml

    from core.paths import REPO_ROOT
    from windowwatch.reports.labels import COLUMNS

    doc = yaml.safe_load((REPO_ROOT / "dbt_project/models/marts/scoring/_scoring.yml").read_text(encoding="utf-8"))
    model = next(m for m in doc["models"] if m["name"] == "fct_department_month")
    columns = {c["name"] for c in model["columns"]} - {"month", "department_id", "as_of_date"}
    assert len(columns) > 10
    missing = sorted(columns - set(COLUMNS))
    assert not missing, f"add their Chinese names to COLUMNS in windowwatch/reports/labels.py: {missing}"
