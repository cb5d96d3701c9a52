"""The generator's timeliness truth (overdue.csv) against the warehouse's fct_case.

On the session's generated small centre (tests/support/small_pipeline.py): every case the truth lists
as completed late / open red / open yellow has exactly that outcome and deadline in fct_case,
and no other case does.
"""

from __future__ import annotations

import duckdb
import polars as pl


def test_overdue_truth_matches_fct_case(small_pipeline):
    con = duckdb.connect(str(small_pipeline.home.warehouse), read_only=True)
    try:
        found = con.sql("""
            select case_id,
                   case when status = 'completed' and not is_on_time then 'completed_late'
                        when status = 'open' and card = 'red' then 'open_red'
                        when status = 'open' and card = 'yellow' then 'open_yellow' end as kind,
                   strftime(cast(deadline_at as date), '%Y-%m-%d') as deadline_date
            from marts.fct_case
        """).pl().filter(pl.col("kind").is_not_null())
    finally:
        con.close()
    expected = pl.read_csv(small_pipeline.truth_dir / "overdue.csv", infer_schema=False)
    exp = set(expected.rows())
    got = set(found.select("case_id", "kind", "deadline_date").rows())
    assert exp, "the generator listed no overdue case"
    assert got == exp, f"missed {sorted(exp - got)[:5]} extra {sorted(got - exp)[:5]}"
