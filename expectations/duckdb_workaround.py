"""The one place that patches Great Expectations for DuckDB (STACK.md "Great Expectations").

GE 1.24.1 SQL datasources on DuckDB are broken upstream: the execution engine opens a fresh
pooled connection per metric query and closes it before the result is fetched, so every
expectation fails with `IndexError: list index out of range` in `resolve_metric_bundle`.
GE keeps one persisted connection for the dialects listed in the private tuple
`sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS`; adding `duckdb` to it makes
the checks run as SQL inside DuckDB.

Second gap: GE 1.24.1 has no regex SQL for DuckDB (`get_dialect_regex_expression` returns
None, and `expect_column_values_to_match_regex` raises "Regex is not supported for dialect
duckdb"). `apply` teaches it DuckDB's `regexp_matches` (RE2, a search like pandas'
`str.contains`), in the regex metric modules that bound the function by name at import.

tests/expectations/test_duckdb_workaround.py asserts both gaps still reproduce without the patch;
when one stops reproducing, that test fails with "upstream fixed: remove the workaround".
"""

from __future__ import annotations

DIALECT = "duckdb"


class _DialectName(str):
    """A plain string that also has `.value`, as GE's enum members do (both are used)."""

    @property
    def value(self) -> str:
        return str(self)


def _engine_module():
    from great_expectations.execution_engine import sqlalchemy_execution_engine

    return sqlalchemy_execution_engine


_REGEX_MODULES = (
    "great_expectations.expectations.metrics.util",
    "great_expectations.expectations.metrics.column_map_metrics.column_values_match_regex",
    "great_expectations.expectations.metrics.column_map_metrics.column_values_not_match_regex",
    "great_expectations.expectations.metrics.column_map_metrics.column_values_match_regex_list",
    "great_expectations.expectations.metrics.column_map_metrics.column_values_not_match_regex_list",
)
_ORIGINAL_REGEX = None


def _duckdb_regex(original):
    def get_dialect_regex_expression(column, regex, dialect, positive: bool = True):
        expr = original(column, regex, dialect, positive)
        if expr is None and str(getattr(dialect, "name", "")) == DIALECT:
            import sqlalchemy as sa

            expr = sa.func.regexp_matches(column, sa.literal(regex))
            return expr if positive else sa.not_(expr)
        return expr

    get_dialect_regex_expression.windowwatch_duckdb = True
    return get_dialect_regex_expression


def _patch_regex(on: bool) -> None:
    import importlib

    global _ORIGINAL_REGEX
    mods = [importlib.import_module(m) for m in _REGEX_MODULES]
    current = mods[0].get_dialect_regex_expression
    if on and not getattr(current, "windowwatch_duckdb", False):
        _ORIGINAL_REGEX = current
        patched = _duckdb_regex(current)
    elif not on and _ORIGINAL_REGEX is not None:
        patched = _ORIGINAL_REGEX
    else:
        return
    for m in mods:
        m.get_dialect_regex_expression = patched


def is_applied() -> bool:
    return any(str(getattr(d, "value", d)) == DIALECT for d in _engine_module()._PERSISTED_CONNECTION_DIALECTS)


def apply() -> None:
    """Idempotent: make GE keep one connection open for DuckDB."""
    mod = _engine_module()
    if not is_applied():
        mod._PERSISTED_CONNECTION_DIALECTS = tuple(mod._PERSISTED_CONNECTION_DIALECTS) + (_DialectName(DIALECT),)
    _patch_regex(True)


def remove() -> None:
    """Undo `apply` (used by the test that checks whether upstream still needs it)."""
    mod = _engine_module()
    mod._PERSISTED_CONNECTION_DIALECTS = tuple(
        d for d in mod._PERSISTED_CONNECTION_DIALECTS if str(getattr(d, "value", d)) != DIALECT
    )
    _patch_regex(False)


def query_asset(datasource, name: str, query: str):
    """Marts are reached as query assets: `add_table_asset(schema_name="marts")` reports
    "table does not exist" on DuckDB even with the patch."""
    return datasource.add_query_asset(name=name, query=query)


def release(datasource) -> None:
    """Close the connection the patch keeps open, and dispose the engine.

    Airflow's `dags test` runs every task in one process: a read-only DuckDB connection left
    open by the marts gate would make the publish step's read-write open of the same file fail
    ("different configuration than existing connections")."""
    engine_holder = getattr(datasource, "_execution_engine", None)
    if engine_holder is not None:
        conn = getattr(engine_holder, "_connection", None)
        if conn is not None:
            conn.close()
            engine_holder._connection = None
        engine_holder.close()
        getattr(engine_holder, "engine", None) and engine_holder.engine.dispose()
    sa_engine = getattr(datasource, "_engine", None)
    if sa_engine is not None:
        sa_engine.dispose()
