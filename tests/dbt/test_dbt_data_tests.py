"""The consolidated dbt data tests (macros/generic_tests/column_checks.sql, issue 7).

Each model's simple checks run as one `column_checks` test; these tests break rows of a built
small warehouse (a copy of the session's `small_pipeline` home, nothing rebuilt) and check that
the consolidated test still fails, with its severity, and that the build summary names the
broken column, the bad value and an example row.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from core.feeds import FEEDS
from core.paths import Home
from windowwatch.transform import DBT_PROJECT_DIR, build


@pytest.fixture()
def broken_home(small_pipeline, tmp_path, monkeypatch) -> Home:
    """A private copy of the small pipeline's home (landing, warehouse, state)."""
    src: Home = small_pipeline.home
    root = tmp_path / "home"
    shutil.copytree(src.root, root, ignore=shutil.ignore_patterns("duckdb_tmp", "dbt", "published", "gx_batches"))
    monkeypatch.setenv("WINDOWWATCH_HOME", str(root))
    monkeypatch.delenv("WINDOWWATCH_WAREHOUSE", raising=False)
    return Home(root)


def _sql(home: Home, *statements: str) -> None:
    con = duckdb.connect(str(home.warehouse))
    try:
        for s in statements:
            con.execute(s)
    finally:
        con.close()


def _run(home: Home, as_of: str, *tests: str):
    return build(home, as_of=as_of, select=list(tests))


def test_broken_rows_fail_the_consolidated_test_naming_the_column(small_pipeline, broken_home):
    h = broken_home
    one_event = "(select min(event_id) from intermediate.int_cases__events_latest)"
    other_event = "(select max(event_id) from intermediate.int_cases__events_latest)"
    _sql(h,
         f"update intermediate.int_cases__events_latest set event_type = 'teleport' where event_id = {one_event}",
         f"update intermediate.int_cases__events_latest set window_id = null where event_id = {other_event}",
         # a duplicated case: the hash-grouped unique check must still find it, with the real key
         "insert into marts.fct_case select * from marts.fct_case where case_id = (select min(case_id) from marts.fct_case)")
    with duckdb.connect(str(h.warehouse), read_only=True) as con:
        bad_event, nulled_event, dup_case = con.sql(
            "select (select event_id from intermediate.int_cases__events_latest where event_type = 'teleport'),"
            " (select event_id from intermediate.int_cases__events_latest where window_id is null),"
            " (select min(case_id) from marts.fct_case)").fetchall()[0]

    # one build each: dbt build skips the tests of models downstream of a failing test
    res = _run(h, small_pipeline.truth["as_of"], "int_cases__events_latest__column_checks")
    assert not res.success
    [ev] = res.failures
    assert ev.name == "int_cases__events_latest__column_checks"
    assert ev.failures == 2  # failing rows, as the one-column tests counted them
    assert f"accepted_values event_type = 'teleport': 1 row(s), e.g. {bad_event}" in ev.message
    assert f"not_null window_id: 1 row(s), e.g. {nulled_event}" in ev.message
    assert "event_type = 'teleport'" in res.summary() and "not_null window_id" in res.summary()

    res = _run(h, small_pipeline.truth["as_of"], "fct_case__column_checks")
    assert not res.success
    [case] = res.failures
    assert case.name == "fct_case__column_checks" and case.failures == 2
    assert f"unique case_id = '{dup_case}': 2 row(s)" in case.message


def test_a_warn_check_still_only_warns(small_pipeline, broken_home):
    h = broken_home
    _sql(h, "update marts.fct_case set limit_workdays = null where case_id = (select min(case_id) from marts.fct_case)")

    res = _run(h, small_pipeline.truth["as_of"], "fct_case__column_checks", "fct_case__column_checks_warn")

    assert res.success, res.summary()
    status = {n.name: n for n in res.nodes}
    assert status["fct_case__column_checks"].status == "pass"
    warn = status["fct_case__column_checks_warn"]
    assert warn.status == "warn" and warn.failures >= 1
    assert "not_null limit_workdays" in warn.message


def test_a_bad_landed_row_fails_its_feed_check(small_pipeline, broken_home):
    """Checks of the staging views moved to the landed rows (source landing.<feed>)."""
    h = broken_home
    files = sorted((h.landing / "evaluations").glob("part_date=*/*.parquet"))
    assert files
    target = files[-1]
    con = duckdb.connect()
    try:
        con.execute(f"copy (select * replace (case when _line = (select min(_line) from read_parquet('{target}'))"
                    f" then 'fax' else channel end as channel) from read_parquet('{target}')) to '{target}.tmp' (format parquet)")
    finally:
        con.close()
    Path(f"{target}.tmp").replace(target)

    res = _run(h, small_pipeline.truth["as_of"], "landing_evaluations__column_checks")

    assert not res.success
    [failed] = res.failures
    assert failed.name == "landing_evaluations__column_checks" and failed.failures == 1
    assert "accepted_values channel = 'fax': 1 row(s), e.g. " in failed.message and " line " in failed.message


def _column_checks(path: Path) -> list[dict]:
    """Every column_checks test's arguments in a YAML file, with the model or source it is on."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = []
    for section in ("models", "seeds"):
        for m in doc.get(section) or []:
            for t in m.get("data_tests") or []:
                if "column_checks" in t:
                    found.append({"on": m["name"], **t["column_checks"]})
    for s in doc.get("sources") or []:
        for tbl in s.get("tables") or []:
            for t in tbl.get("data_tests") or []:
                if "column_checks" in t:
                    found.append({"on": f"{s['name']}.{tbl['name']}", **t["column_checks"]})
    return found


def test_every_feed_rule_is_checked_on_its_landed_rows_and_no_test_runs_on_a_view():
    checks = _column_checks(DBT_PROJECT_DIR / "models/staging/_sources.yml")
    by_feed = {c["on"].split(".", 1)[1]: c["arguments"] for c in checks}
    for name, feed in FEEDS.items():
        args = by_feed[name]
        assert args.get("one_scan") is True, name
        assert set(feed.key) <= set(args["not_null"]), name
        if name == "transactions":  # the rest runs on int_cases__events_latest (the same rows, a table)
            continue
        required = {c.name for c in feed.columns if c.required and not c.pii}
        assert required <= set(args["not_null"]), name
        enums = {c.name: sorted(c.enum) for c in feed.columns if c.enum and c.type != "list"}
        assert {k: sorted(v) for k, v in (args.get("accepted_values") or {}).items()} == enums, name
    stg = yaml.safe_load((DBT_PROJECT_DIR / "models/staging/_stg_landing.yml").read_text(encoding="utf-8"))
    for m in stg["models"]:
        assert not m.get("data_tests") and not any(c.get("data_tests") for c in m["columns"]), m["name"]
        assert "column_checks" in m["description"], m["name"]  # says where its checks run


def test_every_yaml_test_is_a_column_checks_with_a_unique_name():
    names, plain = [], []
    for path in [*DBT_PROJECT_DIR.glob("models/**/*.yml"), *DBT_PROJECT_DIR.glob("seeds/*.yml")]:
        names += [c["name"] for c in _column_checks(path)]
        text = path.read_text(encoding="utf-8")
        for kind in ("- not_null", "- unique", "- accepted_values", "- accepted_range", "- expression_is_true",
                     "- unique_combination", "data_tests: [", "tests: ["):
            if kind in text:
                plain.append(f"{path.name}: {kind}")
    assert not plain, "one-column tests rescan their model; add the check to the model's column_checks"
    assert len(names) == len(set(names))
    assert all(n.endswith(("__column_checks", "__column_checks_warn")) for n in names)
