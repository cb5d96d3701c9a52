"""Great Expectations quality gates of the daily pipeline.

    raw.py                the raw gate: suites per feed (from core/feeds.py) on this run's deliveries
    marts.py              the marts gate: suites per mart, run as SQL inside DuckDB
    gx_run.py             severities (critical stops the run, warning reports), results, Data Docs
    duckdb_workaround.py  the one patch GE 1.24 needs for DuckDB SQL (tested for an upstream fix)
"""
