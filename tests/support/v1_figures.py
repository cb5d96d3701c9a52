"""The v1 好差评 figures of a fixed input, for tests/dbt/test_dbt_satisfaction_v2.py (issue 17: "v1 figures
unchanged on data with no default ratings and no appeals").

The input is tests/data/v1_satisfaction/landing/<feed>.parquet: the landing of the generated small centre
(seed 1) of the v1 code, with every system-default rating turned into a `pc` one (v1 counted defaults as
opinions; v2 does not, by design), the PII hashes as short ids, and no v2 column (device_id, appeal_at, appeal_result, callback_result
were not in the v1 contract). It is fixed data, not the generator's output, so a change of the generator
cannot move it.

Standalone, this file is how the reference figures were made (tests/data/v1_satisfaction/README.md). It
imports only what both the v1 code and today's have (core.paths, windowwatch.transform), so it runs
against either, chosen by PYTHONPATH:

    # once: the fixture from a v1 home (generate small --seed 1, ingest, as in tests/support/small_pipeline.py)
    PYTHONPATH=<v1 tree> python tests/support/v1_figures.py compact <v1 home>/landing
    # the reference figures, with the v1 code (git worktree of b5fbdf4)
    PYTHONPATH=<v1 tree> python tests/support/v1_figures.py reference
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "v1_satisfaction"
AS_OF = "2026-10-31"  # the generated small centre's as-of date (Aug–Oct 2026)

# The v1 columns v2 must not move (rank, stars and score are other rules' business: issue 17 changes
# none of them, but the ranking rules of §4.6 may change beside it).
WINDOW_MONTH = ("month", "window_id", "cases_completed", "evaluations", "good_reviews", "bad_reviews",
                "satisfaction_rate", "adjusted_satisfaction", "center_satisfaction_rate", "rectification_due",
                "rectification_rate", "rectification_late", "evaluation_rate")
DEPARTMENT_MONTH = ("month", "department_id", "cases_completed", "evaluations", "good_reviews", "bad_reviews",
                    "satisfaction_rate", "adjusted_satisfaction", "rectification_due", "rectification_rate",
                    "rectification_late", "evaluation_rate")
EVALUATION = ("evaluation_id", "window_id", "rating", "evaluated_at", "is_good", "is_bad", "needs_rectification",
              "rectification_deadline", "rectification_month", "is_rectification_due", "is_rectified_on_time",
              "is_rectification_late")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 12))
    return str(value)


def _csv(rows: list[tuple]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([[_text(v) for v in r] for r in rows])
    return buf.getvalue()


def materialise(root: Path) -> "object":
    """A home under `root` whose landing is the fixture (one delivery file per feed)."""
    from core.paths import Home

    home = Home(root)
    home.ensure()
    for src in sorted((DATA / "landing").glob("*.parquet")):
        dest = home.landing / src.stem / "part_date=2026-10-31" / "v1-fixture.parquet"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    return home


def figures(warehouse: Path) -> dict[str, str]:
    """The v1 columns as CSV text (window and department months) and the SHA-256 of fct_evaluation's."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        def rows(table: str, columns: tuple[str, ...], order: str) -> list[tuple]:
            return con.sql(f"select {', '.join(columns)} from marts.{table} order by {order}").fetchall()

        evaluation = _csv([EVALUATION, *rows("fct_evaluation", EVALUATION, "evaluation_id")])
        return {
            "window_month.csv": _csv([WINDOW_MONTH, *rows("fct_window_month", WINDOW_MONTH, "month, window_id")]),
            "department_month.csv": _csv([DEPARTMENT_MONTH, *rows("fct_department_month", DEPARTMENT_MONTH,
                                                                  "month, department_id")]),
            "evaluation.sha256": hashlib.sha256(evaluation.encode()).hexdigest() + "\n",
        }
    finally:
        con.close()


def build_figures(root: Path) -> dict[str, str]:
    """Build the fixture with the code on the path (no unit or data tests) and read its figures."""
    from windowwatch.transform import build

    home = materialise(root)
    result = build(home, as_of=AS_OF, warehouse=home.warehouse, exclude=["resource_type:unit_test", "resource_type:test"])
    assert result.success, result.summary()
    return figures(home.warehouse)


def compact(landing: Path) -> None:
    """The fixture from a v1 home's landing: one zstd Parquet per feed, system defaults neutralised, PII
    hashes replaced by short ids."""
    import polars as pl

    out = DATA / "landing"
    out.mkdir(parents=True, exist_ok=True)
    for feed_dir in sorted(p for p in landing.iterdir() if p.is_dir() and not p.name.startswith("_")):
        parts = [pl.read_parquet(p) for p in sorted(feed_dir.glob("part_date=*/*.parquet"))]
        if not parts:
            continue
        frame = pl.concat(parts, how="vertical")
        # 64-hex HMACs do not compress: the same equalities (OB_REACCEPT compares applicants) under short ids
        frame = frame.with_columns(
            (pl.lit("h") + pl.col(c).rank("dense").cast(pl.String)).alias(c) for c in frame.columns if c.endswith("_hmac"))
        if feed_dir.name == "evaluations":
            frame = frame.with_columns(
                pl.when(pl.col("channel") == "default").then(pl.lit("pc")).otherwise(pl.col("channel")).alias("channel"))
        frame.write_parquet(out / f"{feed_dir.name}.parquet", compression="zstd", compression_level=19)


def main(argv: list[str]) -> None:
    import tempfile

    if argv[:1] == ["compact"]:
        compact(Path(argv[1]))
    elif argv[:1] == ["reference"]:
        with tempfile.TemporaryDirectory() as tmp:
            for name, text in build_figures(Path(tmp)).items():
                (DATA / name).write_text(text, encoding="utf-8")
        import core.paths

        print(json.dumps({"code": str(Path(core.paths.__file__).parent.parent)}))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
