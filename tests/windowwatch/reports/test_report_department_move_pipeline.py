"""Issue 21 finding 5 end to end (generate → ingest → dbt build → publish the snapshot): a window moved
to another department from the as-of month, delivered through ingest with 生效日期 (valid_from), is
in the previous month's report under its old department, by the old department's name, and a
dashboard query filtered by the old department for that month includes it; in the as-of month it is
under the new one.
"""

from __future__ import annotations

import datetime as dt
import shutil

from core.config import load_sources
from core.paths import Home
from dashboards import queries as q
from ingest.run import ingest_all
from tests.support.warehouse import warehouse_rows
from tests.windowwatch.test_reference_versions_pipeline import WINDOW_HEADER, _write_csv
from windowwatch.reports.data import read_month
from windowwatch.snapshot_publish import publish
from windowwatch.transform import build


def test_report_and_filter_of_the_month_before_a_move(small_pipeline, tmp_path, monkeypatch):
    root = tmp_path / "home"
    shutil.copytree(small_pipeline.home.root, root, symlinks=True)
    for d in ("published", "reports", "audit", "runs", "data_docs"):  # other tests may have used the shared home
        shutil.rmtree(root / d, ignore_errors=True)
    monkeypatch.setenv("WINDOWWATCH_HOME", str(root))
    monkeypatch.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
    home = Home(root)
    as_of = small_pipeline.truth["as_of"]
    month = dt.date.fromisoformat(as_of).replace(day=1)
    before = (month - dt.timedelta(days=1)).replace(day=1)
    window = warehouse_rows(
        home,
        "select w.*, o.department_id as other_department, o.department_name as other_name "
        "from intermediate.int_reference__windows w join marts.fct_case c using (window_id), "
        "(select department_id, min(department_name) as department_name from intermediate.int_reference__windows "
        " group by all) o "
        "where o.department_id <> w.department_id "
        f"group by all having min(cast(c.accepted_at as date)) < date '{before}' "
        f"and max(cast(c.accepted_at as date)) >= date '{month}' "
        "order by count(*) desc, w.window_id, o.department_id limit 1",
    )[0]
    wid, old, old_name = window["window_id"], window["department_id"], window["department_name"]
    new, new_name = window["other_department"], window["other_name"]

    inbox = tmp_path / "inbox"
    _write_csv(inbox / "windows" / "move.csv", WINDOW_HEADER,
               {**window, "department_id": new, "department_name": new_name, "valid_from": month.isoformat()})
    report = ingest_all(home, load_sources(), inbox=inbox)
    assert report.by_feed()["windows"]["landed"] == 1
    result = build(home, as_of=as_of, exclude="resource_type:unit_test")
    assert result.success, result.summary()
    published = publish("moved", home)

    # dim_window says today's department: the new one
    assert warehouse_rows(home, f"select department_id from marts.dim_window where window_id = '{wid}'") == [
        {"department_id": new}]

    prev, _, snapshot = read_month(before.isoformat()[:7], home)
    assert snapshot == published.path
    row = next(w for w in prev["windows"] if w["window_id"] == wid)
    assert (row["department_id"], row["department_name"]) == (old, old_name)
    depts = {d["department_id"]: d["department_name"] for d in prev["departments"]}
    assert depts[old] == old_name
    cur, _, _ = read_month(month.isoformat()[:7], home)
    row = next(w for w in cur["windows"] if w["window_id"] == wid)
    assert (row["department_id"], row["department_name"]) == (new, new_name)

    path = str(snapshot)
    assert wid in set(q.ranking(path, q.Filters(dept=old), before).window_id)
    assert wid not in set(q.ranking(path, q.Filters(dept=new), before).window_id)
    assert wid in set(q.ranking(path, q.Filters(dept=new), month).window_id)
    assert wid not in set(q.ranking(path, q.Filters(dept=old), month).window_id)
