"""Issue 21 finding 5, end to end on the session's small generated centre (generate → ingest → dbt build):
a 减时限 reform and a window moved to another department, delivered through ingest as CSV with the
Chinese header 生效日期 (valid_from), change only what is accepted from that date
(docs/rules.md#reference-versions).
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil

from core.config import load_sources
from core.paths import Home
from ingest.run import ingest_all
from tests.support.warehouse import warehouse_rows
from windowwatch.transform import build

ITEM_HEADER = {
    "item_code": "实施编码",
    "item_name": "事项名称",
    "department_id": "部门编码",
    "item_kind": "办件类型",
    "legal_limit": "法定办结时限",
    "promised_limit": "承诺办结时限",
    "limit_unit": "时限单位",
    "fee_required": "是否收费",
    "max_extension_days": "延期上限",
    "deliver_limit": "送达时限",
    "approval_mode": "审批方式",
    "valid_from": "生效日期",
}
WINDOW_HEADER = {
    "window_id": "窗口编号",
    "window_name": "窗口名称",
    "department_id": "部门编码",
    "department_name": "部门名称",
    "center_id": "中心编码",
    "center_name": "中心名称",
    "window_kind": "窗口类型",
    "opened_on": "启用日期",
    "closed_on": "停用日期",
    "valid_from": "生效日期",
}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_csv(path, header: dict[str, str], row: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header.values())
        writer.writerow([_text(row.get(name)) for name in header])


def _cases(home: Home) -> dict[str, dict]:
    return {r["case_id"]: r for r in warehouse_rows(home, "select * from marts.fct_case")}


def test_reform_and_move_with_valid_from_through_ingest_keep_history(small_pipeline, tmp_path, monkeypatch):
    root = tmp_path / "home"
    shutil.copytree(small_pipeline.home.root, root, symlinks=True)
    monkeypatch.setenv("WINDOWWATCH_HOME", str(root))
    monkeypatch.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
    home = Home(root)
    as_of = small_pipeline.truth["as_of"]
    before = _cases(home)

    # the promised workday item with the most cases, reformed from its median acceptance date on
    item = warehouse_rows(
        home,
        "select i.*, count(*) as n, "
        "cast(quantile_disc(cast(c.accepted_at as date), 0.5) as date) as median_accepted "
        "from intermediate.int_reference__items i join marts.fct_case c using (item_code) "
        "where i.item_kind = 'promised' and i.limit_unit = 'workday' and i.promised_limit >= 3 "
        "group by all order by n desc, item_code limit 1",
    )[0]
    reform: dt.date = item["median_accepted"]
    cut = item["promised_limit"] - 2
    # the window with cases in the as-of month and before, moved to another department from that month
    month = dt.date.fromisoformat(as_of).replace(day=1)
    window = warehouse_rows(
        home,
        "select w.*, (select min(department_id) from intermediate.int_reference__windows o "
        "where o.department_id <> w.department_id) as other_department "
        "from intermediate.int_reference__windows w join marts.fct_case c using (window_id) "
        f"group by all having min(cast(c.accepted_at as date)) < date '{month}' "
        f"and max(cast(c.accepted_at as date)) >= date '{month}' order by count(*) desc, window_id limit 1",
    )[0]

    inbox = tmp_path / "inbox"
    _write_csv(
        inbox / "items" / "reform.csv", ITEM_HEADER, {**item, "promised_limit": cut, "valid_from": reform.isoformat()}
    )
    _write_csv(
        inbox / "windows" / "move.csv",
        WINDOW_HEADER,
        {**window, "department_id": window["other_department"], "valid_from": month.isoformat()},
    )
    report = ingest_all(home, load_sources(), inbox=inbox)
    assert report.by_feed()["items"]["landed"] == 1 and report.by_feed()["windows"]["landed"] == 1
    result = build(home, as_of=as_of, exclude="resource_type:unit_test")
    assert result.success, result.summary()
    after = _cases(home)
    assert set(after) == set(before)

    earlier = [c for c, r in before.items() if r["item_code"] == item["item_code"] and r["accepted_at"].date() < reform]
    later = [c for c, r in before.items() if r["item_code"] == item["item_code"] and r["accepted_at"].date() >= reform]
    assert earlier and later
    keep = ("limit_workdays", "deadline_at", "is_on_time", "overdue_workdays", "card", "status")
    for c in earlier:  # deadlines and overdue status unchanged
        assert {k: after[c][k] for k in keep} == {k: before[c][k] for k in keep}, c
    for c in later:  # the new promised limit: the deadline comes earlier
        assert after[c]["deadline_at"] < before[c]["deadline_at"], c
        assert after[c]["limit_workdays"] <= before[c]["limit_workdays"] - 2, c

    moved = [c for c, r in before.items() if r["window_id"] == window["window_id"]]
    for c in moved:
        expected = window["other_department"] if before[c]["accepted_at"].date() >= month else window["department_id"]
        assert after[c]["department_id"] == expected, c
    months = warehouse_rows(
        home,
        "select month, department_id from marts.fct_window_month "
        f"where window_id = '{window['window_id']}' order by month",
    )
    assert months[-1] == {"month": month, "department_id": window["other_department"]}
    assert len(months) > 1 and all(m["department_id"] == window["department_id"] for m in months[:-1])
