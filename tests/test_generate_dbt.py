"""The generator's timeliness truth (overdue.csv) against the warehouse's fct_case.

generate -> ingest -> dbt build as of the truth's as-of date; every case the truth lists as
completed late / open red / open yellow has exactly that outcome and deadline in fct_case,
and no other case does. Slow (~2 min on a loaded 2-core machine): `pytest -m slow`.
"""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from windowwatch.generate import generate


@pytest.mark.slow
def test_overdue_truth_matches_fct_case(tmp_path, monkeypatch):
    from ingest.run import ingest_all
    from windowwatch.paths import Home
    from windowwatch.transform import build

    monkeypatch.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
    feeds = tmp_path / "feeds"
    truth = generate(feeds, scale="small", seed=5, progress=False)
    home = Home(tmp_path / "home")
    ingest_all(home, None, inbox=feeds)
    result = build(home, as_of=truth["as_of"])
    assert result.success, result.summary()
    con = duckdb.connect(str(home.warehouse))
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
    expected = pl.read_csv(feeds / "_truth" / "overdue.csv", infer_schema=False)
    exp = set(expected.rows())
    got = set(found.select("case_id", "kind", "deadline_date").rows())
    assert exp, "the generator listed no overdue case"
    assert got == exp, f"missed {sorted(exp - got)[:5]} extra {sorted(got - exp)[:5]}"
