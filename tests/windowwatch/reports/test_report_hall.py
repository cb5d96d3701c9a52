"""The 通报 states the 好差评 follow-up, the hall's operation, each deduction with its source and the month's
window adjustment proposals (SPEC v2 §4.4, §4.6, §4.8, §4.10; issues 17 and 25) — and says nothing of a
feed that was never delivered."""

from __future__ import annotations

import subprocess

from core.config import load_scoring
from windowwatch.reports import render


def _window(wid: str, name: str, **more) -> dict:
    base = {"window_id": wid, "window_name": name, "department_name": "市场监管局", "center_name": "示范市政务服务中心",
            "rank": 1, "score": 90.0, "stars": 4, "is_eligible": True, "cases_accepted": 30, "cases_completed": 25,
            "on_time_rate": 1.0, "adjusted_satisfaction": 0.95, "rectification_rate": 1.0, "off_book_rate": 0.0,
            "video_flags_confirmed": 0, "deductions": 0.0, "active_evaluation_rate": 0.5}
    return {**base, **more}


def _content(**extras) -> dict:
    windows = [
        _window("W01", "综合受理一号窗口", deductions=5.5, days_scheduled=20, days_staffed=18, days_covered=1,
                absent_days=1, late_arrivals=1, early_leaves=0, p90_wait_minutes=42.0, substantiated_complaints=1,
                inspection_findings=2, supervision_items_opened=3, supervision_acknowledged_on_time=2,
                supervision_escalated=1, active_evaluation_rate=0.4),
        _window("W02", "税务专窗", rank=2, score=88.0, days_scheduled=20, days_staffed=20, days_covered=0,
                absent_days=0, late_arrivals=0, early_leaves=1, p90_wait_minutes=8.5, substantiated_complaints=0,
                inspection_findings=0, cases_completed=75, active_evaluation_rate=0.8),
    ]
    return {"month": "2026-10", "windows": windows, "departments": [],
            "scoring": load_scoring().model_dump(mode="json"), **extras}


EXTRAS = {
    "satisfaction_loop": {"default_ratings": 7, "appeals_overturned": 2, "verification_due": 4, "verified_on_time": 3,
                          "callback_due": 0, "called_back_on_time": 0},
    "deductions": [{"window_id": "W01", "source": "absent_day", "items": 1, "points": 3.0},
                   {"window_id": "W01", "source": "complaint", "items": 1, "points": 2.0},
                   {"window_id": "W01", "source": "late", "items": 1, "points": 0.5}],
    "adjustments": [{"business_type": "个体工商户登记", "current_windows": 1, "tickets": 640, "p90_wait_minutes": 42.0,
                     "served_per_window_hour": 3.4, "proposal": 1, "evidence": "90%等候 42.0 分钟，超过 30 分钟"}],
}


def test_loop_line_counts_due_items_and_weights_the_active_rate():
    line = render.loop_line(_content(**EXTRAS))
    # (0.4 × 25 + 0.8 × 75) / 100 = 70.0 %; 3 of 4 verified on time; no callback due → 100.0 %
    assert line == ("好差评闭环：主动评价率 70.0%；差评核实及时率 75.0%（应核实 4 件）；实名差评回访及时率 100.0%（应回访 0 件）。"
                    "系统默认评价 7 条、申诉撤销差评 2 条，均不计入满意度。")
    assert render.loop_line(_content()) is None  # a snapshot from before v2 好差评 says nothing


def test_hall_line_names_only_the_delivered_parts():
    line = render.hall_line(_content())
    # in post 38 of (40 − 1) scheduled days not covered by leave
    assert line.startswith("大厅运行：在岗率 97.4%（缺岗 1 个窗口日，迟到 1 次、早退 1 次）")
    assert "90% 等候最长的窗口为综合受理一号窗口（42.0 分钟）" in line
    assert "查实投诉 1 件" in line and "明察暗访发现问题 2 项" in line and "督办 3 件（按期回告 2 件，升级 1 件）" in line
    bare = _content()
    for w in bare["windows"]:
        for k in ("days_scheduled", "p90_wait_minutes", "substantiated_complaints", "inspection_findings",
                  "supervision_items_opened"):
            w.pop(k, None)
    assert render.hall_line(bare) is None


def test_deductions_by_source_and_proposals_in_the_pdf(tmp_path):
    content = _content(**EXTRAS)
    manifest = {"version": 1, "created_at": "2026-11-02T09:00:00", "watermark": {"as_of_date": "2026-10-31"},
                "snapshot": {"file": "x.duckdb", "sha256": "0" * 64}, "content_hash": "1" * 64,
                "scoring_hash": "2" * 64, "audit_chain_head": "3" * 64}
    ctx = render.context(content, manifest, None, "zh")
    html = render.render_html(ctx)
    pdf = tmp_path / "ranking.pdf"
    render.write_pdf(html, pdf)
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    assert "扣分 5.5（缺岗 3、查实投诉 2、迟到早退 0.5）" in text.replace("\n", "")  # a table cell wraps
    assert "窗口动态增减建议" in text and "个体工商户登记" in text and "建议增开 1 个窗口" in text
    assert "好差评闭环：主动评价率 70.0%" in text
    en = render.render_html(render.context(content, manifest, None, "en"))
    assert "deductions 5.5 (absent days 3, substantiated complaints 2, late arrivals and early leaves 0.5)" in en
    # no proposal this month but queue data: the section says so; no queue data at all: no section
    no_proposal = render.context(_content(), manifest, None, "zh")
    assert no_proposal["adjustments"] == [] and "本月无增减窗口建议。" in render.render_html(no_proposal)


def test_xlsx_lists_deductions_and_proposals(tmp_path):
    import openpyxl

    path = tmp_path / "ranking.xlsx"
    render.write_ranking_xlsx(_content(**EXTRAS), path)
    book = openpyxl.load_workbook(path)
    rows = list(book["扣分明细"].iter_rows(values_only=True))
    assert rows[0] == ("窗口名称", "窗口编号", "扣分来源", "条数", "扣分")
    assert ("综合受理一号窗口", "W01", "缺岗", 1, 3) in rows
    proposals = list(book["窗口增减建议"].iter_rows(values_only=True))
    assert proposals[1][0] == "个体工商户登记" and proposals[1][5] == "建议增开 1 个窗口"
    plain = tmp_path / "plain.xlsx"
    render.write_ranking_xlsx(_content(), plain)
    assert {"扣分明细", "窗口增减建议"}.isdisjoint(openpyxl.load_workbook(plain).sheetnames)
