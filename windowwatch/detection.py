"""Detection quality: the off-book and timeliness signals found in a warehouse against a generator's ground truth.

    uv run python -m windowwatch.detection --warehouse $WINDOWWATCH_HOME/warehouse.duckdb \\
        --truth <feeds>/_truth

`windowwatch generate` writes `_truth/signals.csv` (every injected anomaly: rule_id, case_id,
window_id, department_id, month — month only for OB_VOLUME_GAP, which is per department-month; the
时限合规 TL_ rules of SPEC §4.2.1 are in the same file, one row per (rule, case));
the build publishes `marts.fct_off_book_signal` and `marts.fct_timeliness_signal` (one row per offending
event there: compared as the set of distinct keys). A signal is the same when all five keys agree.
Used by tests/windowwatch/test_detection.py (small scale, asserts 1.0/1.0) and for the city-scale report.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

OB_RULES = ["OB_BACKFILL", "OB_INSTANT", "OB_OFF_HOURS", "OB_HANDOVER", "OB_RUNAROUND", "OB_VOLUME_GAP", "OB_REACCEPT"]
TL_RULES = ["TL_LATE_NOTICE", "TL_REPEAT_NOTICE", "TL_PAUSE_REASON", "TL_PAUSE_NO_REASON", "TL_EXTENSION_REPEAT",
            "TL_EXTENSION_CAP", "TL_EXTENSION_LATE", "TL_LEGAL_OVERDUE", "TL_STEP_OVERDUE", "TL_LATE_DELIVERY"]
RULES = OB_RULES + TL_RULES
KEY = ["rule_id", "case_id", "window_id", "department_id", "month"]

FOUND_SQL = """
    select rule_id, case_id, window_id, department_id,
           case when case_id is null then strftime(signal_date, '%Y-%m') end as month
    from marts.fct_off_book_signal
    union
    select rule_id, case_id, window_id, department_id, cast(null as varchar) as month
    from marts.fct_timeliness_signal
"""


@dataclass
class RuleQuality:
    rule_id: str
    truth: int
    found: int
    missed: list[tuple]
    extra: list[tuple]

    @property
    def true_positives(self) -> int:
        return self.truth - len(self.missed)

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.truth if self.truth else None

    @property
    def precision(self) -> float | None:
        return (self.found - len(self.extra)) / self.found if self.found else None


def _keys(df: pl.DataFrame) -> set[tuple]:
    return set(df.select(KEY).rows())


def truth_signals(truth_dir: str | Path) -> set[tuple]:
    """The injected anomalies of `_truth/signals.csv` as KEY tuples (empty text = null)."""
    df = pl.read_csv(Path(truth_dir) / "signals.csv", infer_schema=False)
    return _keys(df.with_columns(pl.col(c).replace("", None) for c in KEY))


def found_signals(warehouse: str | Path) -> set[tuple]:
    """The signals of marts.fct_off_book_signal and marts.fct_timeliness_signal as KEY tuples (read-only)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return _keys(con.sql(FOUND_SQL).pl())
    finally:
        con.close()


def compare(truth: set[tuple], found: set[tuple]) -> list[RuleQuality]:
    """One row per rule of docs/rules.md, then one per rule the spec does not define (if any fired)."""
    rules = RULES + sorted({k[0] for k in found | truth} - set(RULES))
    out = []
    for rule in rules:
        t = {k for k in truth if k[0] == rule}
        f = {k for k in found if k[0] == rule}
        out.append(RuleQuality(rule, len(t), len(f), sorted(t - f, key=str), sorted(f - t, key=str)))
    return out


def detection_table(warehouse: str | Path, truth_dir: str | Path) -> list[RuleQuality]:
    return compare(truth_signals(truth_dir), found_signals(warehouse))


def format_table(rows: list[RuleQuality]) -> str:
    """A Markdown table: rule, injected, found, true positives, precision, recall."""
    def num(x: float | None) -> str:
        return "—" if x is None else f"{x:.4f}"

    lines = ["| rule | injected | found | true positives | precision | recall |", "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r.rule_id} | {r.truth} | {r.found} | {r.true_positives} | {num(r.precision)} | {num(r.recall)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m windowwatch.detection", description=__doc__.split("\n")[0])
    parser.add_argument("--warehouse", required=True, help="the built warehouse.duckdb")
    parser.add_argument("--truth", required=True, help="the generator's _truth directory")
    args = parser.parse_args(argv)
    rows = detection_table(args.warehouse, args.truth)
    print(format_table(rows))
    for r in rows:
        if r.missed or r.extra:
            print(f"{r.rule_id}: missed {r.missed[:3]} extra {r.extra[:3]}")
    return 0 if all(not r.missed and not r.extra for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
