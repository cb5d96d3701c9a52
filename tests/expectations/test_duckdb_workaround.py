"""Tells when Great Expectations fixes SQL on DuckDB upstream (STACK.md), so the workaround in
expectations/duckdb_workaround.py can go."""

from __future__ import annotations

import json

import duckdb

from expectations import duckdb_workaround


def _validate(db_path) -> object:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    ctx = gx.get_context(mode="ephemeral")
    ds = ctx.data_sources.add_sql(name="wh", connection_string=f"duckdb:///{db_path}")
    asset = duckdb_workaround.query_asset(ds, "t", "select * from marts.t")
    bd = asset.add_batch_definition_whole_table("all")
    suite = ctx.suites.add(gx.ExpectationSuite(name="s", expectations=[gxe.ExpectColumnValuesToBeBetween(column="rate", min_value=0, max_value=1)]))
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name="v", data=bd, suite=suite))
    return vd.run()


def test_duckdb_sql_still_needs_the_workaround(tmp_path):
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema marts; create table marts.t as select range / 100.0 as rate from range(100)")
    con.close()

    was_applied = duckdb_workaround.is_applied()
    duckdb_workaround.remove()
    try:
        broken = _validate(db)
    finally:
        if was_applied:
            duckdb_workaround.apply()
    if broken.success:
        raise AssertionError(
            "upstream fixed: Great Expectations now validates DuckDB SQL without the persisted-connection patch — "
            "remove the workaround (expectations/duckdb_workaround.py) and this test"
        )
    # exception_info maps each failed metric to its exception (message, traceback)
    messages = " ".join(json.dumps(r.exception_info, default=str) for r in broken.results)
    assert "list index out of range" in messages, messages

    duckdb_workaround.apply()
    fixed = _validate(db)
    assert fixed.success, [r.exception_info for r in fixed.results]


def test_duckdb_regex_still_needs_the_workaround(tmp_path):
    """GE 1.24.1 has no regex SQL for DuckDB: the raw gate's list-code checks need the patch."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    db = tmp_path / "r.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema marts; create table marts.t as select * from (values ('a;b'), ('a'), ('a;zz'), (null)) v(codes)")
    con.close()

    def run():
        ctx = gx.get_context(mode="ephemeral")
        ds = ctx.data_sources.add_sql(name="wh", connection_string=f"duckdb:///{db}")
        bd = duckdb_workaround.query_asset(ds, "t", "select * from marts.t").add_batch_definition_whole_table("all")
        suite = ctx.suites.add(
            gx.ExpectationSuite(name="s", expectations=[gxe.ExpectColumnValuesToMatchRegex(column="codes", regex="^(?:a|b)(?:;(?:a|b))*$")])
        )
        try:
            return ctx.validation_definitions.add(gx.ValidationDefinition(name="v", data=bd, suite=suite)).run(
                result_format={"result_format": "SUMMARY"}
            ).results[0]
        finally:
            duckdb_workaround.release(ds)

    duckdb_workaround.remove()
    try:
        duckdb_workaround._patch_regex(False)  # only the regex part off: the connection patch stays on
        from expectations.duckdb_workaround import _engine_module

        _engine_module()._PERSISTED_CONNECTION_DIALECTS += (duckdb_workaround._DialectName("duckdb"),)
        broken = run()
    finally:
        duckdb_workaround.apply()
    if broken.success:
        raise AssertionError("upstream fixed: GE now has regex SQL for DuckDB — remove the regex part of expectations/duckdb_workaround.py")
    assert "Regex is not supported for dialect duckdb" in json.dumps(broken.exception_info, default=str)

    fixed = run()
    assert not fixed.success and fixed.result["unexpected_count"] == 1, fixed.result
    assert fixed.result["partial_unexpected_list"] == ["a;zz"]
