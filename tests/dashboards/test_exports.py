"""Every list exports what it shows (issue 19): 超时监控's open cases, 体外循环's signals, 满意度's bad
reviews, 视频巡查's pending reviews, 大厅运行's lists, 排名 and 工作人员 offer CSV and Excel named by the list, the filters and the data's date; the file holds the rows
of the list under the page's filters, with the headers in Chinese and codes in words."""

from __future__ import annotations

import csv
import io
import re

import pytest

from dashboards.i18n import t
from tests.support.app_pages import signed_in
from tests.support.dashboard_snapshot import add_test_user, published_home
from tests.support.untranslated import untranslated

PASSWORD = "export-pass-123"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    with published_home(tmp_path_factory, "exports") as (h, snap):
        add_test_user("insp", "inspector", PASSWORD)
        yield h, snap


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize("page,name,id_col,link_col", [
    ("timeliness", "open_cases", "case_id", "open_case"),
    ("offbook", "off_book_signals", "case_id", "open_case"),
    ("satisfaction", "bad_reviews", "evaluation_id", "open_case"),
    # 视频巡查's pending-review backlog (issue 19 leftovers): each flag links to its window
    ("video", "video_pending", "flag_id", "open_window"),
    # 大厅运行's attendance (its first section), each window linking to 窗口明细
    ("hall_ops", "hall_attendance", "window_name", "open_window"),
    # 排名 and 工作人员 (session 10: every list exports, dated and filter-named)
    ("rankings", "rankings", "window_name", "open_window"),
    ("staff", "staff", "staff_id", "open_window"),
])
def test_the_export_holds_the_shown_rows(home, deferred_downloads, page, name, id_col, link_col):
    at = signed_in("insp", PASSWORD, page, {"month": "2026-10", "dept": "D01"})
    header, link = t(f"col.{id_col}", lang="zh"), t(f"col.{link_col}", lang="zh")
    frames = [df.value.data if hasattr(df.value, "data") else df.value for df in at.dataframe]  # a Styler: .data
    shown = next(f for f in frames if header in f.columns and link in f.columns)  # the list with its links
    assert len(shown), f"the fixture's {page} list is empty under the filters"
    files = {k: v for k, v in deferred_downloads.items() if k.startswith(f"{name}_")}
    stems = {re.sub(r"\.(csv|xlsx)$", "", k) for k in files}
    assert stems == {f"{name}_2026-10_D01_as-of-2026-10-20"}, files.keys()
    exported = rows_of(next(v for k, v in files.items() if k.endswith(".csv"))())
    assert [r[header] for r in exported] == [str(v) for v in shown[header]]
    assert link not in exported[0]  # the link column is the screen's, not the file's
    assert not untranslated(" ".join(exported[0].keys())), exported[0].keys()
    xlsx = next(v for k, v in files.items() if k.endswith(".xlsx"))()
    assert xlsx[:2] == b"PK"
