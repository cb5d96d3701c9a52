"""Detection quality: the off-book and timeliness signals found in a warehouse against a generator's ground truth.

    uv run python -m windowwatch.detection --warehouse $WINDOWWATCH_HOME/warehouse.duckdb \\
        --truth <feeds>/_truth

`windowwatch generate` writes `_truth/signals.csv` (every injected anomaly: rule_id, case_id,
window_id, department_id, month — month only for OB_VOLUME_GAP, which is per department-month; the
时限合规 TL_ rules of SPEC §4.2.1 are in the same file, one row per (rule, case));
the build publishes `marts.fct_off_book_signal` and `marts.fct_timeliness_signal` (one row per offending
event there: compared as the set of distinct keys). A signal is the same when all five keys agree.
The 评价真实性 RI_ rules of SPEC §4.9 are in `_truth/rating_signals.csv` (rule_id, evaluation_id — empty for the
window-month rule RI_TOO_PERFECT — window_id, month YYYY-MM) against `marts.fct_rating_signal`: the same when all
four keys agree. The §4.4 v2 flags of `marts.fct_evaluation` (is_default, is_overturned, the verification and
callback deadlines and is_verified_on_time / is_called_back_on_time) are checked against
`_truth/evaluation_flags.csv` (`evaluation_flag_mismatches`).
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
RI_RULES = ["RI_BURST", "RI_NO_SERVICE", "RI_OFF_HOURS", "RI_TOO_PERFECT"]
KEY = ["rule_id", "case_id", "window_id", "department_id", "month"]
RI_KEY = ["rule_id", "evaluation_id", "window_id", "month"]

FOUND_SQL = """
    select rule_id, case_id, window_id, department_id,
           case when case_id is null then strftime(signal_date, '%Y-%m') end as month
    from marts.fct_off_book_signal
    union
    select rule_id, case_id, window_id, department_id, cast(null as varchar) as month
    from marts.fct_timeliness_signal
"""
# month: a date (the month's first day) in the mart, YYYY-MM in the truth
FOUND_RI_SQL = """
    select rule_id, evaluation_id, window_id, left(cast(month as varchar), 7) as month
    from marts.fct_rating_signal
"""
FLAGS_SQL = """
    select evaluation_id, is_default, is_overturned,
           cast(verification_deadline as date) as verification_deadline, is_verified_on_time,
           cast(callback_deadline as date) as callback_deadline, is_called_back_on_time
    from marts.fct_evaluation
    where is_default or is_overturned or verification_deadline is not null or callback_deadline is not null
"""
FLAGS = ["is_default", "is_overturned", "verification_deadline", "is_verified_on_time", "callback_deadline",
         "is_called_back_on_time"]


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


def _keys(df: pl.DataFrame, key: list[str] = KEY) -> set[tuple]:
    return set(df.select(key).rows())


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


def truth_rating_signals(truth_dir: str | Path) -> set[tuple]:
    """The injected rating-integrity patterns of `_truth/rating_signals.csv` as RI_KEY tuples (empty text = null)."""
    df = pl.read_csv(Path(truth_dir) / "rating_signals.csv", infer_schema=False)
    return _keys(df.with_columns(pl.col(c).replace("", None) for c in RI_KEY), RI_KEY)


def found_rating_signals(warehouse: str | Path) -> set[tuple]:
    """The signals of marts.fct_rating_signal as RI_KEY tuples (read-only)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return _keys(con.sql(FOUND_RI_SQL).pl(), RI_KEY)
    finally:
        con.close()


def compare(truth: set[tuple], found: set[tuple], spec_rules: list[str] = RULES) -> list[RuleQuality]:
    """One row per rule of docs/rules.md, then one per rule the spec does not define (if any fired)."""
    rules = spec_rules + sorted({k[0] for k in found | truth} - set(spec_rules))
    out = []
    for rule in rules:
        t = {k for k in truth if k[0] == rule}
        f = {k for k in found if k[0] == rule}
        out.append(RuleQuality(rule, len(t), len(f), sorted(t - f, key=str), sorted(f - t, key=str)))
    return out


def detection_table(warehouse: str | Path, truth_dir: str | Path) -> list[RuleQuality]:
    """OB_ and TL_ rules (five keys), then the RI_ rules (four keys)."""
    return (compare(truth_signals(truth_dir), found_signals(warehouse))
            + compare(truth_rating_signals(truth_dir), found_rating_signals(warehouse), RI_RULES))


def evaluation_flag_mismatches(warehouse: str | Path, truth_dir: str | Path) -> dict[str, list[tuple]]:
    """Per §4.4 flag, the evaluations where marts.fct_evaluation and `_truth/evaluation_flags.csv` disagree:
    (evaluation_id, truth, mart). The truth lists every default rating and every rating 不满意 / 非常不满意;
    an evaluation the mart flags that the truth does not list counts as a mismatch too."""
    truth = pl.read_csv(Path(truth_dir) / "evaluation_flags.csv", try_parse_dates=True,
                        schema_overrides={"evaluation_id": pl.String})
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        mart = con.sql(FLAGS_SQL).pl()
    finally:
        con.close()
    t = {r["evaluation_id"]: r for r in truth.iter_rows(named=True)}
    m = {r["evaluation_id"]: r for r in mart.iter_rows(named=True)}
    empty = {"is_default": False, "is_overturned": False}
    out: dict[str, list[tuple]] = {f: [] for f in FLAGS}
    for eid in sorted(set(t) | set(m)):
        for f in FLAGS:
            tv, mv = t.get(eid, empty).get(f), m.get(eid, empty).get(f)
            if tv != mv:
                out[f].append((eid, tv, mv))
    return out


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
    flags = evaluation_flag_mismatches(args.warehouse, args.truth)
    for f, bad in flags.items():
        print(f"{f}: {'agrees with the truth' if not bad else f'{len(bad)} mismatches, e.g. {bad[:3]}'}")
    return 0 if all(not r.missed and not r.extra for r in rows) and not any(flags.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
