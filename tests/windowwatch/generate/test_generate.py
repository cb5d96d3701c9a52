"""`windowwatch generate`: determinism, contract-shaped output, realism, and a truthful truth.

The truth files are re-derived here from the generated files with code independent of the
generator (tests/support/feed_reader.py), for every rule that needs no working-day arithmetic;
the deadline rules are checked on the cases they list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import chinese_calendar
import polars as pl
import pytest

from tests.support.feed_reader import canonical_enum, is_bool, read_feed, row_at
from core.feeds import FEEDS, QUARANTINE_RULES, RATING_LABELS
from windowwatch.generate import generate
from windowwatch.generate.people import id_check_ok

SEED = 7


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "inbox"
    generate(out, scale="small", seed=SEED, progress=False)
    return out


@pytest.fixture(scope="module")
def truth(small) -> dict:
    return json.loads((small / "_truth" / "ground_truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tx(small) -> pl.DataFrame:
    return read_feed(small, "transactions")


@pytest.fixture(scope="module")
def signals(small) -> pl.DataFrame:
    return pl.read_csv(small / "_truth" / "signals.csv", infer_schema=False)


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _cases(signals: pl.DataFrame, rule: str) -> set[str]:
    return set(signals.filter(pl.col("rule_id") == rule)["case_id"].to_list())


def test_same_seed_gives_byte_identical_output(small, tmp_path):
    again = tmp_path / "again"
    generate(again, scale="small", seed=SEED, progress=False)
    assert _hashes(small) == _hashes(again)
    other = tmp_path / "other"
    generate(other, scale="small", seed=SEED + 1, progress=False)
    h_other = _hashes(other)
    assert h_other["transactions/2026-09.csv"] != _hashes(small)["transactions/2026-09.csv"]


def test_every_feed_and_truth_file_present(small, truth):
    for feed in FEEDS:
        if feed == "calendar":  # optional: 2026 is covered by chinesecalendar
            continue
        assert any((small / feed).iterdir()), feed
    for name in ("ground_truth.json", "signals.csv", "overdue.csv", "bad_reviews.csv", "vetoes.csv", "quarantine.csv"):
        assert (small / "_truth" / name).stat().st_size > 0, name
    assert truth["seed"] == SEED and truth["scale"] == "small"
    assert truth["period"] == {"start": "2026-08-01", "end": "2026-10-31"}
    # every reader gets exercised: Parquet, XLSX, JSONL, UTF-8 BOM, GBK with Chinese headers
    suffixes = {p.suffix for p in small.rglob("*") if p.is_file() and "_truth" not in p.parts}
    assert {".csv", ".parquet", ".xlsx", ".jsonl"} <= suffixes
    assert (small / "items/items.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    gbk = (small / "evaluations/2026-09-gbk.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")
    assert gbk.decode("gbk").startswith("评价编号,办件编号,窗口编号")
    assert "非常满意" in gbk.decode("gbk")


def test_every_timestamp_format_appears(small):
    firsts = {
        "transactions/2026-09.csv": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$",
        "transactions/2026-10.csv": r"^\d{8}T\d{6}$",
        "evaluations/2026-10.csv": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
        "evaluations/2026-09-gbk.csv": r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}$",
        "video_flags/2026-08.csv": r"^\d{14}$",
    }
    import re

    for rel, pattern in firsts.items():
        row = row_at(small / rel, 2)
        times = [v for k, v in row.items() if k in ("event_time", "evaluated_at", "flagged_at", "评价时间")]
        assert times and re.match(pattern, times[0]), (rel, times)


def test_arrivals_only_on_working_days_in_hours_except_injected(small, tx, signals):
    hours = pl.read_csv(small / "hall_hours/hall_hours.csv", infer_schema=False)
    by_window = {(r["scope_id"], r["day_kind"]): (r["open_time"], r["close_time"]) for r in hours.iter_rows(named=True)}
    centre = {(r["scope_id"], r["day_kind"]): (r["open_time"], r["close_time"])
              for r in hours.iter_rows(named=True) if r["scope_id"].startswith("C")}
    ev = tx.filter(pl.col("event_type").is_in(["submit", "accept", "complete"]) & pl.col("case_id").is_not_null()
                   & ~pl.col("case_id").str.starts_with("Q") & pl.col("event_time").is_not_null())
    days = ev["event_time"].dt.date().unique().to_list()
    work = {d: chinese_calendar.is_workday(d) for d in days}
    # 延时服务: a window open past its hours that day, up to and including until_time (SPEC §4.3 exemption)
    xs = read_feed(small, "extended_service")
    extended = {(w, dt.date.fromisoformat(d)): u
                for w, d, u in xs.select("window_id", "service_date", "until_time").rows()}
    assert len(extended) >= 3
    bad, exempt, submit_outside = set(), set(), set()
    for case, kind_, w, t in ev.select("case_id", "event_type", "window_id", "event_time").iter_rows():
        kind = "workday" if work[t.date()] else "non_workday"
        rng = by_window.get((w, kind)) or centre.get(("C370100", kind))
        s = t.strftime("%H:%M:%S")
        if rng is None or not (rng[0] <= s < rng[1]):
            if kind_ != "submit" and s <= extended.get((w, t.date()), ""):
                exempt.add(case)
            elif kind_ == "submit":
                submit_outside.add(case)
            else:
                bad.add(case)
    assert bad == _cases(signals, "OB_OFF_HOURS")
    assert len(bad) >= 2 and len(exempt) >= 3
    assert submit_outside <= bad  # applications arrive in hours too, except the injected cases
    # arrivals do follow the calendar: no normal case on National Day, cases on the 调休 Saturday
    acc = tx.filter(pl.col("event_type") == "accept")
    per_day = acc.group_by(pl.col("event_time").dt.date().alias("d")).len()
    counts = dict(per_day.iter_rows())
    assert counts.get(dt.date(2026, 10, 10), 0) > 100  # make-up working Saturday
    assert counts.get(dt.date(2026, 10, 3), 0) < 60  # holiday: the weekend window only (+ injected)
    # daily pattern: Mondays busier than Fridays
    wd = acc.group_by(pl.col("event_time").dt.weekday().alias("wd")).len()
    wdc = dict(wd.iter_rows())
    assert wdc[1] > wdc[5]
    # hourly pattern: morning peak above the lunch dip
    hrs = dict(acc.group_by(pl.col("event_time").dt.hour().alias("h")).len().iter_rows())
    assert hrs[10] > 2 * hrs[12]


def test_truth_lists_every_anomaly_kind(small, signals, truth):
    from windowwatch.detection import RULES

    assert set(signals["rule_id"]) == set(RULES)
    overdue = pl.read_csv(small / "_truth/overdue.csv", infer_schema=False)
    assert set(overdue["kind"]) == {"completed_late", "open_red", "open_yellow"}
    bad = pl.read_csv(small / "_truth/bad_reviews.csv", infer_schema=False)
    assert set(bad["state"]) == {"rectified_on_time", "rectified_late", "unrectified", "invalid", "rejected_at_callback"}
    ri = pl.read_csv(small / "_truth/rating_signals.csv", infer_schema=False)
    assert set(ri["rule_id"]) == {"RI_BURST", "RI_NO_SERVICE", "RI_OFF_HOURS", "RI_TOO_PERFECT"}
    assert truth["counts"]["rating_signals_by_rule"] == dict(ri.group_by("rule_id").len().rows())
    for kind in ("appeal_upheld", "appeal_overturned", "late_verification", "late_callback", "unsatisfied_callback",
                 "default_rating"):
        assert truth["counts"]["injected"][kind] >= 2, kind
    vetoes = pl.read_csv(small / "_truth/vetoes.csv", infer_schema=False)
    assert set(vetoes["reason"]) == {"private_handover", "backfill"}
    q = pl.read_csv(small / "_truth/quarantine.csv", infer_schema=False)
    assert set(q["rule"]) == set(QUARANTINE_RULES) - {"rating_direction_undeclared"}
    assert any("rating_direction_undeclared" in n for n in truth["notes"])
    assert truth["counts"]["signals_by_rule"]["OB_VOLUME_GAP"] >= 1


def test_quarantine_lines_really_are_bad(small):
    q = pl.read_csv(small / "_truth/quarantine.csv", infer_schema=False)
    windows = set(pl.read_csv(small / "windows/windows.csv", infer_schema=False)["window_id"])
    items = set(pl.read_csv(small / "items/items.csv", infer_schema=False)["item_code"])
    listed: dict[str, set[int]] = {}
    for feed, rel, line, rule in q.iter_rows():
        path = small / rel
        if rule == "unreadable_file":
            with pytest.raises(Exception):
                pl.read_parquet(path)
            continue
        if rule == "duplicate_conflict":  # a valid row on its own: see the test below
            continue
        line = int(line)
        listed.setdefault(rel, set()).add(line)
        row = row_at(path, line)
        assert _defect(feed, row, windows, items) == rule, (rel, line, row)
    # the other rows of those files have no defect (checked on every row of the smaller files)
    for rel, lines in listed.items():
        if "resend" in rel or "kiosk" in rel:
            continue
        path = small / rel
        total = len(path.read_bytes().decode("utf-8").rstrip("\n").split("\n"))
        sample = [n for n in range(2, total + 1) if n not in lines]
        sample = sample[:: max(1, len(sample) // 400)]
        for n in sample:
            assert _defect(rel.split("/")[0], row_at(path, n), windows, items) is None, (rel, n)


def _defect(feed: str, row: dict[str, str], windows: set[str], items: set[str]) -> str | None:
    f = FEEDS[feed]
    if any(c not in row for c in f.required):
        return "missing_column"
    if any(not row[c].strip() for c in f.required):
        return "missing_required"
    for c in f.columns:
        v = row.get(c.name, "")
        if not v:
            continue
        if c.enum and c.type != "list" and v not in canonical_enum(feed, c.name):
            return "unknown_enum"
        if c.type == "datetime" and not _is_ts(v):
            return "bad_timestamp"
        if c.type == "float" and not _is_float(v):
            return "bad_value"
        if c.type == "int" and not v.lstrip("-").isdigit():
            return "bad_value"
        if c.type == "bool" and not is_bool(v):
            return "bad_value"
        if c.type == "rating":
            labels = {a for vs in RATING_LABELS.values() for a in vs}
            if v not in labels and not (v.isdigit() and 1 <= int(v) <= 5):
                return "rating_out_of_range"
    if row.get("window_id") and row["window_id"] not in windows:  # an empty optional window (a hall-wide check) is none
        return "unknown_reference"
    if "item_code" in row and row["item_code"] not in items:
        return "unknown_reference"
    return None


def _is_ts(v: str) -> bool:
    for p in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y%m%dT%H%M%S", "%Y%m%d%H%M%S"):
        try:
            dt.datetime.strptime(v, p)
            return True
        except ValueError:
            pass
    return False


def _is_float(v: str) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def test_duplicate_conflict_rows_conflict_with_an_earlier_file(small, tx):
    q = pl.read_csv(small / "_truth/quarantine.csv", infer_schema=False).filter(pl.col("rule") == "duplicate_conflict")
    assert q.height == 2
    for rel, line in q.select("file", "line").iter_rows():
        row = row_at(small / rel, int(line))
        earlier = tx.filter((pl.col("event_id") == row["event_id"]) & (pl.col("_file") < rel))
        assert earlier.height == 1
        assert earlier["staff_id"][0] != row["staff_id"]
        assert earlier["recorded_at"][0] == dt.datetime.fromisoformat(row["recorded_at"])


def test_backfill_instant_handover_runaround_truth_match_the_files(small, tx, signals, truth):
    boundary = {b["rule_id"]: b["case_id"] for b in truth["boundary_cases"]}
    assert set(boundary) >= {"OB_INSTANT", "OB_BACKFILL", "OB_REACCEPT", "OB_OFF_HOURS", "TL_LATE_NOTICE",
                             "TL_EXTENSION_LATE", "TL_LATE_DELIVERY"}
    good = tx.filter(pl.col("case_id").is_not_null() & ~pl.col("case_id").str.starts_with("Q")
                     & ~pl.col("_file").str.contains("resend"))
    # OB_BACKFILL
    late = good.filter(pl.col("event_type").is_in(["accept", "complete"])
                       & ((pl.col("recorded_at") - pl.col("event_time")) > pl.duration(hours=24)))
    assert set(late["case_id"]) == _cases(signals, "OB_BACKFILL")
    lag = (good["recorded_at"] - good["event_time"]).dt.total_seconds()
    normal = lag.filter(~good["case_id"].is_in(list(_cases(signals, "OB_BACKFILL")) + [boundary["OB_BACKFILL"]]))
    assert normal.max() <= 2 * 3600
    b = good.filter((pl.col("case_id") == boundary["OB_BACKFILL"]) & (pl.col("event_type") == "accept"))
    assert (b["recorded_at"] - b["event_time"]).to_list() == [dt.timedelta(hours=24)]
    # OB_INSTANT
    items = pl.read_csv(small / "items/items.csv", infer_schema=False).with_columns(
        pl.col("item_kind").replace(canonical_enum("items", "item_kind")), pl.col("promised_limit").cast(pl.Int64))
    accepts = good.filter(pl.col("event_type") == "accept")
    wide = accepts.select("case_id", "item_code", "approval_mode", acc="event_time").join(
        good.filter(pl.col("event_type") == "complete").select("case_id", done="event_time"), on="case_id").join(
        items.select("item_code", "item_kind", "promised_limit", pl.col("approval_mode").replace(
            canonical_enum("items", "approval_mode")).alias("item_mode")), on="item_code")
    promised = wide.filter((pl.col("item_kind") == "promised") & (pl.col("promised_limit") >= 3))
    fast = promised.filter((pl.col("done") - pl.col("acc")) < pl.duration(minutes=15))
    # exempt (SPEC §4.3): the accept's approval mode, else the item's, is commitment 告知承诺 or tolerance 容缺受理
    exempt = pl.coalesce("approval_mode", "item_mode", pl.lit("standard")).is_in(["commitment", "tolerance"])
    inst = fast.filter(~exempt)
    assert set(inst["case_id"]) == _cases(signals, "OB_INSTANT")
    assert fast.filter(exempt & pl.col("approval_mode").is_not_null()).height >= 2  # the accept's mode exempts
    assert fast.filter(exempt & pl.col("approval_mode").is_null()).height >= 1  # the item's mode exempts
    assert inst.filter(pl.col("item_mode").is_in(["commitment", "tolerance"])).height >= 1  # the accept's standard wins
    b = promised.filter(pl.col("case_id") == boundary["OB_INSTANT"])
    assert (b["done"] - b["acc"]).to_list() == [dt.timedelta(minutes=15)]
    rest = promised.filter(~pl.col("case_id").is_in(fast["case_id"].implode())
                           & (pl.col("case_id") != boundary["OB_INSTANT"]))
    assert (rest["done"] - rest["acc"]).min() >= dt.timedelta(minutes=30)
    # OB_HANDOVER: confirmed private_handover flags x any event of the case at that window within ± 60 min
    flags = read_feed(small, "video_flags").filter(pl.col("flag_type") == "private_handover")
    assert {"confirmed", "pending", "dismissed"} <= set(flags["review_status"])

    def near(fl: pl.DataFrame) -> pl.DataFrame:
        return good.join(fl.select("window_id", "flagged_at"), on="window_id").filter(
            (pl.col("event_time") - pl.col("flagged_at")).abs() <= pl.duration(minutes=60))

    hit = near(flags.filter(pl.col("review_status") == "confirmed"))
    assert set(hit["case_id"]) == _cases(signals, "OB_HANDOVER")
    same_day = good.join(flags.filter(pl.col("review_status") == "confirmed").select("window_id", "flagged_at"),
                         on="window_id").filter(pl.col("event_time").dt.date() == pl.col("flagged_at").dt.date())
    assert same_day["case_id"].n_unique() > len(_cases(signals, "OB_HANDOVER"))  # v1's whole day tainted more
    decoy = near(flags.filter(pl.col("review_status") != "confirmed"))
    assert decoy.height > 0  # the pending/dismissed flags sit near case events, and must not fire
    # OB_RUNAROUND: reasons in English or Chinese (the GBK file)
    ev = read_feed(small, "evaluations")
    ra = ev.filter(pl.col("case_id").is_not_null()
                   & pl.col("reason_codes").fill_null("").str.contains("multiple_trips|sent_to_department|多次跑|让去原单位办"))
    assert set(ra["case_id"]) == _cases(signals, "OB_RUNAROUND")


def test_clock_and_reaccept_truth_match_the_files(small, tx, signals, truth):
    """The 时限合规 rules that need no working-day arithmetic, and OB_REACCEPT, re-derived from the files."""
    good = tx.filter(pl.col("case_id").is_not_null() & ~pl.col("case_id").str.starts_with("Q")
                     & ~pl.col("_file").str.contains("resend") & pl.col("event_time").is_not_null())
    per_type = good.group_by("case_id", "event_type").len()

    def having(kind: str, at_least: int) -> set[str]:
        return set(per_type.filter((pl.col("event_type") == kind) & (pl.col("len") >= at_least))["case_id"])

    assert having("supplement_request", 2) == _cases(signals, "TL_REPEAT_NOTICE")
    assert having("extend", 2) == _cases(signals, "TL_EXTENSION_REPEAT")
    susp = good.filter(pl.col("event_type") == "suspend")
    allowed = ["hearing", "tender", "auction", "inspection", "testing", "quarantine", "appraisal", "expert_review",
               "survey"]
    assert set(susp.filter(pl.col("pause_reason").is_null())["case_id"]) == _cases(signals, "TL_PAUSE_NO_REASON")
    bad = susp.filter(pl.col("pause_reason").is_not_null() & ~pl.col("pause_reason").is_in(allowed))
    assert set(bad["case_id"]) == _cases(signals, "TL_PAUSE_REASON")
    assert susp.filter(pl.col("pause_reason").is_in(allowed)).height > 5  # normal suspends give an allowed reason
    raw = pl.concat([pl.read_csv(p, infer_schema=False) for p in sorted((small / "transactions").glob("2026-*.csv"))],
                    how="diagonal_relaxed")
    assert raw["pause_reason"].drop_nulls().str.contains(r"[\u4e00-\u9fff]").any()  # Chinese values too
    items = pl.read_csv(small / "items/items.csv", infer_schema=False)
    ext = good.filter(pl.col("event_type") == "extend").sort("event_time").group_by("case_id").first().join(
        items.select("item_code", "max_extension_days"), on="item_code")
    over = ext.filter(pl.col("extend_days").cast(pl.Int64) > pl.col("max_extension_days").cast(pl.Int64).fill_null(10))
    assert set(over["case_id"]) == _cases(signals, "TL_EXTENSION_CAP")
    # OB_REACCEPT: an earlier rejected / withdrawn (never completed) case of the same applicant, window and item
    ends = good.filter(pl.col("event_type").is_in(["reject", "withdraw"])).sort("event_time").group_by("case_id").first(
    ).select("case_id", "window_id", "item_code", "event_time")
    done = set(good.filter(pl.col("event_type") == "complete")["case_id"])
    app = good.filter(pl.col("applicant_id").is_not_null()).select("case_id", "applicant_id").unique()
    earlier = ends.filter(~pl.col("case_id").is_in(list(done))).join(app, on="case_id").select(
        "window_id", "item_code", "applicant_id", e_case="case_id", end="event_time")
    acc = good.filter(pl.col("event_type") == "accept").drop("applicant_id").join(app, on="case_id").select(
        "case_id", "window_id", "item_code", "applicant_id", at="event_time")
    pairs = acc.join(earlier, on=["window_id", "item_code", "applicant_id"]).filter(
        (pl.col("case_id") != pl.col("e_case")) & (pl.col("at") >= pl.col("end"))
        & ((pl.col("at").dt.date() - pl.col("end").dt.date()).dt.total_days() <= 10))
    assert set(pairs["case_id"]) == _cases(signals, "OB_REACCEPT")
    b = {x["detail"].split(" calendar")[0][-2:]: x["case_id"]
         for x in truth["boundary_cases"] if x["rule_id"] == "OB_REACCEPT"}
    assert b["10"] in _cases(signals, "OB_REACCEPT") and b["11"] not in _cases(signals, "OB_REACCEPT")
    # the notice exactly 5 working days after submit is not late
    bn = next(x["case_id"] for x in truth["boundary_cases"] if x["rule_id"] == "TL_LATE_NOTICE")
    ev = dict(good.filter(pl.col("case_id") == bn).select("event_type", "event_time").rows())
    d, n = ev["submit"].date(), 0
    while d < ev["supplement_request"].date():
        d += dt.timedelta(days=1)
        n += chinese_calendar.is_workday(d)
    assert n == 5 and bn not in _cases(signals, "TL_LATE_NOTICE")
    # step_limits: a '*' row and item rows that refer to items of the feed
    steps = pl.read_csv(small / "step_limits/step_limits.csv", infer_schema=False)
    assert "*" in set(steps["item_code"]) and set(steps["item_code"]) - {"*"} <= set(items["item_code"])


def test_volume_gap_truth_matches_dept_volumes(small, tx, signals):
    windows = pl.read_csv(small / "windows/windows.csv", infer_schema=False)
    acc = tx.filter((pl.col("event_type") == "accept") & pl.col("case_id").is_not_null()).join(
        windows.select("window_id", "department_id"), on="window_id")
    recorded = acc.group_by("department_id", pl.col("event_time").dt.strftime("%Y-%m").alias("month")).len()
    vol = pl.read_csv(small / "dept_volumes/dept_volumes.csv", infer_schema=False).with_columns(
        pl.col("reported_cases").cast(pl.Int64))
    j = vol.join(recorded, on=["department_id", "month"], how="left").with_columns(pl.col("len").fill_null(0))
    gaps = j.filter(pl.col("reported_cases") > 1.10 * pl.col("len"))
    listed = signals.filter(pl.col("rule_id") == "OB_VOLUME_GAP")
    assert set(zip(gaps["department_id"], gaps["month"])) == set(zip(listed["department_id"], listed["month"]))
    ratio = j["reported_cases"] / j["len"]
    assert ((ratio <= 1.05) | (ratio >= 1.15)).all()  # nothing near the 110 % threshold


def test_overdue_and_rectification_truth_is_consistent(small, tx):
    overdue = pl.read_csv(small / "_truth/overdue.csv", try_parse_dates=True, schema_overrides={"case_id": pl.String})
    as_of = dt.date(2026, 10, 31)
    status = tx.filter(pl.col("case_id").is_in(overdue["case_id"].implode())).group_by("case_id").agg(
        pl.col("event_time").filter(pl.col("event_type") == "complete").max().alias("done"),
        pl.col("event_time").filter(pl.col("event_type") == "accept").max().alias("acc"))
    j = overdue.join(status, on="case_id")
    assert j.height == overdue.height
    for case, kind, deadline, done, acc in j.select("case_id", "kind", "deadline_date", "done", "acc").iter_rows():
        assert deadline >= acc.date()
        if kind == "completed_late":
            assert done is not None and done.date() > deadline
        else:
            assert done is None
            if kind == "open_red":
                assert deadline < as_of
            else:
                assert deadline >= as_of
                # the deadline of a workday item is a working day (calendar items are moved onto one)
                assert chinese_calendar.is_workday(deadline) or deadline == acc.date()
    bad = pl.read_csv(small / "_truth/bad_reviews.csv", try_parse_dates=True)
    ev = read_feed(small, "evaluations").join(bad, on="evaluation_id")
    assert ev.height == bad.height
    for state, deadline, at, rect, verdict, cb_result in ev.select(
            "state", "rectification_deadline", "evaluated_at", "rectified_at", "verdict", "callback_result").iter_rows():
        assert deadline > at.date()
        if state == "rectified_on_time":
            assert rect.date() <= deadline
        elif state == "rectified_late":
            assert rect.date() > deadline
        elif state == "unrectified":
            assert rect is None
        elif state == "rejected_at_callback":  # 发回重办: rectified_at given, the applicant unsatisfied
            assert rect is not None and verdict == "valid" and cb_result == "unsatisfied"
        else:
            assert verdict == "invalid"


def _nth_workday_after(day: dt.date, n: int) -> dt.date:
    while n:
        day += dt.timedelta(days=1)
        n -= chinese_calendar.is_workday(day)
    return day


def _real_evaluations(small: Path) -> pl.DataFrame:
    ev = read_feed(small, "evaluations")
    return ev.filter(~pl.col("evaluation_id").str.starts_with("QE") & ~pl.col("_file").str.contains("kiosk"))


def test_rating_integrity_truth_matches_the_files(small, tx):
    """SPEC §4.9 re-derived here from the files (pads, hall hours, extended service, transactions) with plain
    Python: every rating the truth lists fires its rule and no other rating fires any."""
    ev = _real_evaluations(small)
    truth = pl.read_csv(small / "_truth/rating_signals.csv", infer_schema=False)
    # device_id: every pad rating has its pad, some pads serve two windows, nothing else has a device
    pads = ev.filter(pl.col("channel") == "pad")
    assert pads["device_id"].null_count() == 0
    assert ev.filter(pl.col("channel") != "pad")["device_id"].null_count() == ev.filter(pl.col("channel") != "pad").height
    assert pads.group_by("device_id").agg(pl.col("window_id").n_unique().alias("w"))["w"].max() == 2
    hall = ev.filter(pl.col("channel").is_in(["pad", "terminal"])).with_columns(
        pl.coalesce("device_id", "window_id").alias("key")).sort("evaluated_at")
    found: set[tuple] = set()
    month = lambda t: t.strftime("%Y-%m")  # noqa: E731
    # RI_BURST: ≥ 5 ratings of one device (window without one) within 3 minutes, each of them
    by_key: dict[str, list] = {}
    for eid, key, t, w in hall.select("evaluation_id", "key", "evaluated_at", "window_id").iter_rows():
        by_key.setdefault(key, []).append((t, eid, w))
    for rows in by_key.values():
        for i in range(len(rows)):
            j = i
            while j + 1 < len(rows) and rows[j + 1][0] - rows[i][0] <= dt.timedelta(minutes=3):
                j += 1
            if j - i + 1 >= 5:
                found |= {("RI_BURST", eid, w, month(t)) for t, eid, w in rows[i:j + 1]}
    # RI_NO_SERVICE: no transaction event at the window within ± 30 min
    good = tx.filter(pl.col("case_id").is_not_null() & ~pl.col("case_id").str.starts_with("Q"))
    times = {w: sorted(g["event_time"].to_list()) for (w,), g in good.group_by("window_id")}
    import bisect
    for eid, w, t in hall.select("evaluation_id", "window_id", "evaluated_at").iter_rows():
        ts = times.get(w, [])
        k = bisect.bisect_left(ts, t)
        near = [abs(x - t) for x in ts[max(0, k - 1):k + 1]]
        if not near or min(near) > dt.timedelta(minutes=30):
            found.add(("RI_NO_SERVICE", eid, w, month(t)))
    # RI_OFF_HOURS: outside the window's hours (hall_hours, else 08:30–18:00 on working days), unless at or
    # before the until_time of its extended_service that day
    hh = pl.read_csv(small / "hall_hours/hall_hours.csv", infer_schema=False)
    own = {(r["scope_id"], r["day_kind"]): (r["open_time"], r["close_time"]) for r in hh.iter_rows(named=True)}
    xs = pl.read_csv(small / "extended_service/extended_service.csv", infer_schema=False)
    until = {(r["window_id"], r["service_date"]): r["until_time"] for r in xs.iter_rows(named=True)}
    for eid, w, t in hall.select("evaluation_id", "window_id", "evaluated_at").iter_rows():
        kind = "workday" if chinese_calendar.is_workday(t.date()) else "non_workday"
        hours = own.get((w, kind), ("08:30:00", "18:00:00") if kind == "workday" else None)
        clock = t.strftime("%H:%M:%S")
        outside = hours is None or not (hours[0] <= clock <= hours[1])
        if outside and not ((w, t.date().isoformat()) in until and clock <= until[(w, t.date().isoformat())]):
            found.add(("RI_OFF_HOURS", eid, w, month(t)))
    # RI_TOO_PERFECT: ≥ 50 active ratings all 非常满意, p = c^n < 0.001 (c: the centre's other windows)
    act = ev.filter(pl.col("channel") != "default").with_columns(pl.col("evaluated_at").dt.strftime("%Y-%m").alias("m"))
    for (m,), part in act.group_by("m"):
        per = part.group_by("window_id").agg(pl.len().alias("n"), (pl.col("rating") == 5).sum().alias("n5"))
        tot, tot5 = per["n"].sum(), per["n5"].sum()
        for w, n, n5 in per.iter_rows():
            c = (tot5 - n5) / (tot - n)
            if n >= 50 and n5 == n and c ** n < 0.001:
                found.add(("RI_TOO_PERFECT", None, w, m))
    expected = {(r, e or None, w, m) for r, e, w, m in truth.rows()}
    assert found == expected, (sorted(found - expected, key=str)[:5], sorted(expected - found, key=str)[:5])
    by_rule = truth.group_by("rule_id").len()
    assert dict(by_rule.rows())["RI_TOO_PERFECT"] == 1 and dict(by_rule.rows())["RI_BURST"] >= 10
    # every injected rating is a case-less pad rating of 非常满意 that fires one rule only
    assert truth.filter(pl.col("evaluation_id").is_not_null())["evaluation_id"].is_duplicated().sum() == 0
    injected = ev.filter(pl.col("evaluation_id").is_in(truth["evaluation_id"].drop_nulls().implode()))
    assert injected["case_id"].null_count() == injected.height and set(injected["rating"]) == {5}


def test_closed_loop_truth_matches_the_files(small, tx):
    """SPEC §4.4 v2 re-derived from the files: default ratings, appeals, verification and callback deadlines."""
    ev = _real_evaluations(small)
    flags = pl.read_csv(small / "_truth/evaluation_flags.csv", try_parse_dates=True)
    # default ratings: 基本满意 exactly 7 days after the case's completion, no device, not real-name
    default = ev.filter(pl.col("channel") == "default")
    assert default.height > 100 and set(default["rating"]) == {3}
    assert default["device_id"].null_count() == default.height and not default["is_real_name"].is_in(["true", "是"]).any()
    done = tx.filter(pl.col("event_type") == "complete").select("case_id", "event_time").unique()
    j = default.join(done, on="case_id")
    assert j.height == default.height
    assert ((j["evaluated_at"] - j["event_time"]) == dt.timedelta(days=7)).all()
    assert set(flags.filter(pl.col("is_default"))["evaluation_id"]) == set(default["evaluation_id"])
    # appeals: upheld and overturned; an overturned review is no bad review any more and is never rectified
    appealed = ev.filter(pl.col("appeal_result").is_not_null())
    assert set(appealed["appeal_result"]) == {"upheld", "overturned"}
    assert (appealed["appeal_at"] > appealed["evaluated_at"]).all() and (appealed["rating"] <= 2).all()
    over = appealed.filter(pl.col("appeal_result") == "overturned")
    assert set(flags.filter(pl.col("is_overturned"))["evaluation_id"]) == set(over["evaluation_id"])
    assert over["rectified_at"].null_count() == over.height
    bad_truth = pl.read_csv(small / "_truth/bad_reviews.csv", infer_schema=False)
    assert not set(over["evaluation_id"]) & set(bad_truth["evaluation_id"])
    # verification within 3 working days, callback within 5 working days of the rectification (real-name,
    # valid, not overturned): recomputed with the official calendar
    bad = ev.filter(pl.col("rating") <= 2).join(flags, on="evaluation_id", how="left")
    assert bad.height == flags.filter(~pl.col("is_default")).height
    late_v = late_c = 0
    for r in bad.iter_rows(named=True):
        deadline = _nth_workday_after(r["evaluated_at"].date(), 3)
        assert r["verification_deadline"] == deadline
        on_time = r["verified_at"] is not None and r["verified_at"].date() <= deadline
        assert r["is_verified_on_time"] == on_time, r
        late_v += r["verified_at"] is not None and not on_time
        due = (r["is_real_name"] in ("true", "是") and r["verdict"] != "invalid" and r["appeal_result"] != "overturned"
               and r["rectified_at"] is not None)
        if not due:
            assert r["is_called_back_on_time"] is None and r["callback_deadline"] is None, r
            continue
        cdl = _nth_workday_after(r["rectified_at"].date(), 5)
        assert r["callback_deadline"] == cdl
        assert r["is_called_back_on_time"] == (r["callback_at"] is not None and r["callback_at"].date() <= cdl), r
        late_c += r["callback_at"] is not None and r["callback_at"].date() > cdl
    assert late_v >= 2 and late_c >= 2
    # callback results: mostly satisfied; 发回重办 (unsatisfied) gets no second round
    results = ev.filter(pl.col("callback_at").is_not_null())["callback_result"]
    assert results.null_count() == 0 and {"satisfied", "basically_satisfied", "unsatisfied"} <= set(results)
    rejected = ev.filter(pl.col("callback_result") == "unsatisfied")["case_id"]
    assert ev.filter(pl.col("case_id").is_in(rejected.implode()) & (pl.col("round") == "2")).height == 0
    assert ev.filter(pl.col("round") == "2").height > 0


def test_realism_same_day_satisfaction_evaluation_rate(small, tx, truth):
    done = tx.filter(pl.col("event_type") == "complete").select("case_id", done="event_time")
    acc = tx.filter(pl.col("event_type") == "accept").select("case_id", acc="event_time")
    j = acc.join(done, on="case_id")
    same_day = (j["done"].dt.date() == j["acc"].dt.date()).mean()
    assert 0.86 <= same_day <= 0.91, same_day
    assert abs(same_day - truth["counts"]["same_day_share"]) < 0.002
    ev = read_feed(small, "evaluations").filter(pl.col("rating").is_between(1, 5))
    satisfaction = (ev.filter(pl.col("channel") != "default")["rating"] >= 4).mean()  # SPEC §4.4 v2: active ratings
    assert satisfaction >= 0.99, satisfaction
    rate = ev.filter(pl.col("case_id").is_not_null())["case_id"].n_unique() / j.height
    assert 0.70 <= rate <= 0.85, rate
    # statuses: some rejected, withdrawn, still open (recent) and every case has an accept
    types = set(tx["event_type"].drop_nulls())
    assert {"reject", "withdraw", "supplement_request", "supplement_received", "suspend", "resume", "extend",
            "approve", "deliver"} <= types
    assert truth["counts"]["open_cases"] > 0
    # video flags: AI with confidences in range, inspectors without, a pending backlog at the end
    flags = read_feed(small, "video_flags").filter(pl.col("flag_id").str.starts_with("V"))
    ai = flags.filter(pl.col("source") == "ai")["confidence"].cast(pl.Float64)
    assert ai.min() >= 0.5 and ai.max() <= 0.99
    assert flags.filter(pl.col("source") == "inspector")["confidence"].null_count() == flags.filter(
        pl.col("source") == "inspector").height
    assert flags.filter(pl.col("review_status") == "pending").height > 0


def test_pii_columns_look_real_and_some_comments_leak(small, tx):
    ids = tx["applicant_id"].drop_nulls()
    assert ids.len() > 1000
    assert all(id_check_ok(v) for v in ids.head(2000).to_list())
    assert tx["applicant_phone"].drop_nulls().str.contains(r"^1[3-9]\d{9}$").all()
    ev = read_feed(small, "evaluations")
    leaks = ev["comment"].drop_nulls().str.contains(r"1[3-9]\d{9}|\d{17}[\dX]")
    assert 1 <= leaks.sum() <= 50


def test_cli_generate_with_as_of(tmp_path, capsys):
    from windowwatch.cli import main

    out = tmp_path / "feeds"
    assert main(["generate", "--scale", "small", "--out", str(out), "--seed", "3", "--as-of", "2026-10-15"]) == 0
    gt = json.loads((out / "_truth/ground_truth.json").read_text(encoding="utf-8"))
    assert gt["period"] == {"start": "2026-08-01", "end": "2026-10-15"}
    tx = read_feed(out, "transactions")
    assert tx["event_time"].max() <= dt.datetime(2026, 10, 15, 23, 59, 59)
    assert tx["recorded_at"].max() <= dt.datetime(2026, 10, 15, 23, 59, 59)
    assert "signals_by_rule" in capsys.readouterr().out


def test_several_centres_stream_to_per_centre_files(tmp_path, monkeypatch):
    """The province path (several centres per month) at toy size: per-centre files, unique ids."""
    import dataclasses

    from windowwatch.generate import scales

    toy = dataclasses.replace(scales.SCALES["small"], name="toy", centers=2, windows=8, departments=4, months=2,
                              cases_per_workday=40, weekend_cases_per_day=3, inspectors=6)
    monkeypatch.setitem(scales.SCALES, "toy", toy)
    out = tmp_path / "toy"
    gt = generate(out, scale="toy", seed=2, progress=False)
    assert gt["centres"] == ["C370100", "C370200"]
    names = {p.name for p in (out / "transactions").iterdir()}
    assert {"2026-09-C370100.parquet", "2026-09-C370200.parquet", "2026-10-C370100.csv", "2026-10-C370200.csv"} <= names
    tx = read_feed(out, "transactions")
    real = tx.filter(~pl.col("_file").str.contains("resend") & ~pl.col("event_id").str.starts_with("Q"))
    assert real["event_id"].n_unique() == real.height
    windows = pl.read_csv(out / "windows/windows.csv", infer_schema=False)
    assert windows["window_id"].n_unique() == windows.height == 16
    assert set(pl.read_csv(out / "_truth/signals.csv", infer_schema=False)["rule_id"]) >= {"OB_INSTANT", "OB_OFF_HOURS"}


def test_as_of_beyond_the_official_calendar_is_flagged(tmp_path):
    gt = generate(tmp_path / "late", scale="small", seed=4, as_of=dt.date(2027, 1, 31), progress=False)
    assumed = gt["calendar"]["assumed_mon_fri_days_used"]
    assert assumed and assumed[0] == "2027-01-01" and assumed[-1] == "2027-01-31"


def test_rates_are_configurable(tmp_path, truth):
    gt = generate(tmp_path / "more", scale="small", seed=SEED, progress=False,
                  rates={"instant": 0.01, "min_per_chunk": 3})
    assert gt["rates"]["instant"] == 0.01
    assert gt["counts"]["signals_by_rule"]["OB_INSTANT"] > 3 * truth["counts"]["signals_by_rule"]["OB_INSTANT"]
