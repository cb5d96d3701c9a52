"""`windowwatch generate`: the hall-operation feeds (SPEC §3, §4.10; issue 25).

The four feeds exist at small scale, land through the real ingest with nothing quarantined but the
planted bad rows, and their planted patterns are re-derived here from the files (tests/support/feed_reader.py,
chinesecalendar, plain polars), independently of the generator, and compared with the truth files. The
feeds generated before them are byte-identical to what the generator wrote before it had them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import shutil
from pathlib import Path

import chinese_calendar
import polars as pl
import pytest

from tests.support.feed_reader import read_feed
from core.config import load_scoring
from windowwatch.generate import generate

SEED = 1  # the seed the frozen hashes below were recorded with
AS_OF = dt.date(2026, 10, 31)
PERIOD = [dt.date(2026, 8, 1) + dt.timedelta(days=k) for k in range((AS_OF - dt.date(2026, 8, 1)).days + 1)]
HALL = ("attendance", "queue_tickets", "work_orders", "inspections")
BAD_ID = {"attendance": "QA", "queue_tickets": "QT", "work_orders": "QG", "inspections": "QJ"}

# sha256 of `windowwatch generate --scale small --seed 1` before the hall feeds existed (commit 08149c3): the
# earlier feeds and truth files must not move. Update only together with a deliberate change of those feeds.
FROZEN = {
    "_truth/bad_reviews.csv": "d137dd191bf670348f9791f01d445c4a95f9298a686b74e626b13db108e53d72",
    "_truth/evaluation_flags.csv": "6f5df1b4b848c0614f8df1437777c666fb12273776af4f5bb0f5dc6e812312af",
    "_truth/overdue.csv": "008d5b98bb592a368aaf7ac8c8003fee78d667e9c1b9b88063b0a4e1662076e2",
    "_truth/rating_signals.csv": "07949b08fc662c012756ddfcd38c7537fb9ea68814a1fcf08e3784fc7e9dd718",
    "_truth/signals.csv": "02b95f491662c4b62f16e64c4ac4cc7ca0b3f321c162d0e02608591af5f56d50",
    "_truth/vetoes.csv": "1d7a705c227b2b0f4e34838bd6cee314245c2e7146ed065d9be4478c90b133f2",
    "dept_volumes/dept_volumes.csv": "276415c246cba37933b8ff87f968b0dfc740862674fefc472796193064d3447e",
    "evaluations/2026-08.csv": "3ad36fe2c1d1b2c75c700020b5321f38b98ae181e3a4400bbcb5f1de007959bb",
    "evaluations/2026-09-gbk.csv": "e9a018acdd0763ce839fafae13ed4585ac358d342439ae67d76e6ac40603e9c5",
    "evaluations/2026-09.csv": "4ae92aec1bf7f42e42558e3f0bcf9220dbed73b0cc239ac230775b8106556b18",
    "evaluations/2026-10-kiosk.csv": "d4240831bacd4b9b6feaa00f17cf5bd1dbfb27310e116ba27cf7aedd3b05786f",
    "evaluations/2026-10.csv": "00a26ec7f4e3f0e1c6f4800e42f76618b0a91ec734eb5c06f7d6f5b1a2247630",
    "extended_service/extended_service.csv": "7d49ab9d490421fb05ccfd663aa6e9db03c9b4d5348317b73c855c89af834624",
    "hall_hours/hall_hours.csv": "daae98110e0f66834438aca08a12e257745bdd3b9e3200edaec78b666e2064da",
    "inspectors/inspectors.jsonl": "3b19a977e86c4bd19f20c4df3ff3278ed9f08b4b02038b826b5037bf553acf3a",
    "items/items.csv": "fac74668f0b2883b2b9e463cb7df00b4db6b5adc7444367eb7bcdf581c49b06c",
    "staff/staff.xlsx": "860dad0107632200c4774d2c19272650a8a114f5b5290bf9df40e49f50abfcef",
    "step_limits/step_limits.csv": "f24bcf88a86d9b04124e491915da729e828c36bb477ea703c253ed0c5beb0f20",
    "transactions/2026-08.parquet": "38188f823870bf149ef505e6889bc29f1073e25cd8e4d49780c5f78806361768",
    "transactions/2026-09.csv": "ea4459b274b86a3f7178f5cb1bc1ae9a19a5dfb6170500eb5033ab9e94700209",
    "transactions/2026-10.csv": "96dce99a4251dbc74147bb8168348e9bf9251d7942bd3f422519514b2e53f84b",
    "transactions/resend-2026-10-31.csv": "05360b5913a3474ca5824e169e27ff3a8dd39becb6284887e0da67e7e795c3d6",
    "video_flags/2026-08.csv": "4a3008c66b04399a7a31ece984a9e42d99c8d7a61d13963413419cae544426d7",
    "video_flags/2026-09.csv": "0fd009952fd6bc4c29635211e6bde3ec02a2090df5329962c1bc958e287ef1d0",
    "video_flags/2026-10-corrupt.parquet": "8ce937a9c2d7e29154410a850df5e67873e64d8c89f841a7843915b7a23f5a0f",
    "video_flags/2026-10.csv": "6a2124a4b66887bb5d4ce46d1ba1ad1168018af209dedc7463cdbb6c2e51885b",
    "windows/windows.csv": "9db321dfbd586e6ecd76e9284f86bf6a72ad1d5dca4f8716d281ac36a2300b11",
}
# the quarantine truth before: every line of it is still listed, and only hall-feed lines were added
FROZEN_QUARANTINE = "b696ddb13484617c67f3fc57899c51ec7f6fb4cf99b5e3f729c624ff5ba64192"


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen_hall") / "inbox"
    generate(out, scale="small", seed=SEED, progress=False)
    return out


def _truth(small: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(small / "_truth" / f"{name}.csv", infer_schema=False)


def _feed(small: Path, feed: str) -> pl.DataFrame:
    df = read_feed(small, feed)
    return df.filter(~pl.col(df.columns[0]).str.starts_with(BAD_ID[feed]))


def _hours(small: Path) -> dict[tuple[str, str], tuple[dt.time, dt.time]]:
    hh = pl.read_csv(small / "hall_hours/hall_hours.csv", infer_schema=False)
    return {(s, k): (dt.time.fromisoformat(o), dt.time.fromisoformat(c)) for s, k, o, c in hh.rows()}


def _window_hours(small: Path, windows: list[str]) -> dict[tuple[str, dt.date], tuple[dt.datetime, dt.datetime]]:
    """(window, day) -> (open, close) for every day the window's hall hours open (its own rows, else the centre's)."""
    hours = _hours(small)
    centre = next(s for s, _ in hours if s.startswith("C"))
    out = {}
    for w in windows:
        for d in PERIOD:
            kind = "workday" if chinese_calendar.is_workday(d) else "non_workday"
            h = hours.get((w, kind)) or hours.get((centre, kind))
            if h:
                out[(w, d)] = (dt.datetime.combine(d, h[0]), dt.datetime.combine(d, h[1]))
    return out


def test_earlier_feeds_are_byte_identical(small):
    got = {rel: hashlib.sha256((small / rel).read_bytes()).hexdigest() for rel in FROZEN}
    assert got == FROZEN
    q = pl.read_csv(small / "_truth/quarantine.csv", infer_schema=False)
    old = q.filter(~pl.col("feed").is_in(HALL))
    assert hashlib.sha256(old.write_csv(null_value="", line_terminator="\n").encode()).hexdigest() == FROZEN_QUARANTINE
    new = q.filter(pl.col("feed").is_in(HALL))
    assert sorted(new.group_by("feed", "rule").len().rows()) == sorted(
        (f, r, 1) for f in HALL for r in ("unknown_enum", "unknown_reference"))


def test_four_feeds_in_every_shape(small):
    for feed in HALL:
        files = sorted(p.name for p in (small / feed).iterdir())
        assert len(files) == 3, (feed, files)
        assert _feed(small, feed).height > 0
    assert (small / "attendance/2026-08.csv").read_bytes().startswith("\ufeff考勤编号".encode())
    assert (small / "queue_tickets/2026-08.parquet").exists()
    assert (small / "work_orders/2026-08.jsonl").exists()
    with pytest.raises(UnicodeDecodeError):
        (small / "inspections/2026-09.csv").read_bytes().decode("utf-8")


def test_attendance_patterns_and_consistency_with_the_cases(small):
    grace = dt.timedelta(minutes=load_scoring().hall.late_grace_minutes)
    windows = pl.read_csv(small / "windows/windows.csv", infer_schema=False)["window_id"].to_list()
    staff = pl.read_excel(small / "staff/staff.xlsx", infer_schema_length=0).select(
        "staff_id", pl.col("window_id").alias("staff_window"))
    att = _feed(small, "attendance").join(staff, on="staff_id", how="left").with_columns(
        pl.coalesce("window_id", "staff_window").alias("w"), pl.col("work_date").str.to_date())
    assert att["w"].null_count() == 0 and att["window_id"].null_count() > 0  # null: the staff's window
    hours = _window_hours(small, windows)
    late, window_days = set(), {}
    for aid, w, d, sin, sout, kind in att.select("attendance_id", "w", "work_date", "sign_in_at", "sign_out_at",
                                                 "absence_type").iter_rows():
        op, cl = hours[(w, d)]  # a row only on a day the window opens
        if sin is not None and sin > op + grace:
            late.add((aid, "late_arrival"))
        if sout is not None and sout < cl - grace:
            late.add((aid, "early_leave"))
        signed, excused = window_days.get((w, d), (False, False))
        window_days[(w, d)] = (signed or sin is not None, excused or kind in ("leave", "business"))
    truth_late = {(a, k) for a, k in _truth(small, "hall_late_events").select("attendance_id", "kind").rows()}
    assert late == truth_late
    assert {k for _, k in late} == {"late_arrival", "early_leave"}
    # every scheduled window-day has a row; absent = nobody signed in and nobody on leave or business
    assert set(window_days) == set(hours)
    absent = {(w, d.isoformat()) for (w, d), (s, e) in window_days.items() if not s and not e}
    covered = [k for k, (s, e) in window_days.items() if not s and e]
    assert absent == set(_truth(small, "hall_absent_window_days").select("window_id", "work_date").rows())
    assert len(absent) >= 3 and len(covered) >= 3  # one of each per month
    kinds = dict(att.group_by("absence_type").len().rows())
    assert kinds["absent"] > len(absent) and kinds["leave"] >= 2 and kinds["business"] >= 2
    wm = _truth(small, "hall_attendance_window_month")
    assert wm["absent_days"].cast(pl.Int64).sum() == len(absent)
    assert wm["days_covered"].cast(pl.Int64).sum() == len(covered)
    # consistent with the cases: whoever signed in did so before their first case event of the day and signed
    # out after their last one within the hall's hours (延时服务 included)
    tx = read_feed(small, "transactions").filter(pl.col("case_id").is_not_null() & ~pl.col("case_id").str.starts_with(
        "Q") & ~pl.col("_file").str.contains("resend"))
    xs = read_feed(small, "extended_service")
    until = {(w, d): u for w, d, u in xs.select("window_id", "service_date", "until_time").rows()}
    ev = tx.with_columns(pl.col("event_time").dt.date().alias("d")).group_by("staff_id", "window_id", "d").agg(
        pl.col("event_time").min().alias("first"), pl.col("event_time").max().alias("last"),
        pl.col("event_time").sort().alias("times"))
    signed = att.filter(pl.col("sign_in_at").is_not_null()).join(
        ev, left_on=["staff_id", "work_date"], right_on=["staff_id", "d"])
    assert signed.height > 1000
    for w, d, sin, sout, first, times in signed.select("w", "work_date", "sign_in_at", "sign_out_at", "first",
                                                       "times").iter_rows():
        assert sin <= first, (w, d, sin, first)
        close = hours[(w, d)][1]
        if (w, d.isoformat()) in until:
            close = dt.datetime.combine(d, dt.time.fromisoformat(until[(w, d.isoformat())]))
        assert all(t <= sout for t in times if t <= close), (w, d, sout)


def _p90(values: list[float]) -> float:
    values = sorted(values)
    return values[math.ceil(0.9 * len(values) - 1e-9) - 1]


def test_queue_patterns_and_adjustment_proposals(small):
    h = load_scoring().hall
    windows = pl.read_csv(small / "windows/windows.csv", infer_schema=False)["window_id"].to_list()
    t = _feed(small, "queue_tickets")
    served = t.filter(pl.col("status") == "served")
    assert set(t["status"]) == {"served", "no_show", "cancelled"}
    assert served.filter(~((pl.col("issued_at") <= pl.col("called_at")) & (pl.col("called_at") <= pl.col("served_at"))
                           & (pl.col("served_at") <= pl.col("finished_at")))).height == 0
    assert t.filter(pl.col("status") == "cancelled")["window_id"].null_count() == t.filter(
        pl.col("status") == "cancelled").height
    assert t.filter(pl.col("status") == "no_show")["called_at"].null_count() == 0
    # every served ticket is an in-hall application: its service starts at a submit event of a case at that window
    tx = read_feed(small, "transactions").filter((pl.col("event_type") == "submit") & (pl.col("channel") == "window"))
    hit = served.join(tx.select("window_id", served_at="event_time"), on=["window_id", "served_at"], how="semi")
    assert hit.height == served.height
    items = set(pl.read_csv(small / "items/items.csv", infer_schema=False)["item_code"])
    assert set(served["business_type"]) - items == {"综合受理"}  # item codes, and one queue name
    # 窗口动态增减 re-derived: open hours = hall hours x scheduled days of the windows that served the type
    hours = _window_hours(small, windows)
    open_h: dict[tuple[str, str], float] = {}
    for (w, d), (op, cl) in hours.items():
        key = (w, d.strftime("%Y-%m"))
        open_h[key] = open_h.get(key, 0.0) + (cl - op).total_seconds() / 3600
    got = set()
    s = served.with_columns(pl.col("issued_at").dt.strftime("%Y-%m").alias("m"),
                            ((pl.col("called_at") - pl.col("issued_at")).dt.total_seconds() / 60).alias("wait"))
    for (m, bt), g in s.group_by("m", "business_type"):
        p90 = _p90(g["wait"].to_list())
        ws = set(g["window_id"])
        per_hour = g.height / sum(open_h[(w, m)] for w in ws)
        if p90 > h.queue_add_p90_minutes:
            got.add((m, bt, "1"))
        elif len(ws) > 1 and per_hour < h.queue_merge_per_hour and p90 < h.queue_merge_p90_minutes:
            got.add((m, bt, "-1"))
    assert got == set(_truth(small, "hall_adjustment_proposals").select("month", "business_type", "proposal").rows())
    assert {p for _, _, p in got} == {"1", "-1"}


def test_work_order_patterns(small):
    wo = _feed(small, "work_orders")
    assert set(wo["channel"]) == {"hotline_12345", "cant_get_done", "mailbox"}
    assert set(wo["category"]) == {"complaint", "consultation", "suggestion", "praise"}
    subst = wo.filter((pl.col("category") == "complaint") & (pl.col("substantiated") == "true")
                      & pl.col("window_id").is_not_null())
    assert set(subst["order_id"]) == set(_truth(small, "hall_substantiated_complaints")["order_id"])
    assert subst.height >= 3
    end = dt.datetime.combine(AS_OF, dt.time(23, 59, 59))
    late = wo.filter((pl.col("due_at") <= end) & (pl.col("closed_at").is_null() | (pl.col("closed_at") > pl.col("due_at"))))
    assert set(late["order_id"]) == set(_truth(small, "hall_work_orders_closed_late")["order_id"]) and late.height >= 2
    assert wo.filter(pl.col("closed_at") < pl.col("received_at")).height == 0
    # the planted phone and ID numbers are in the files' text (the ingest test checks they do not land)
    pii = _truth(small, "hall_work_order_pii")
    assert set(pii["kind"]) == {"phone", "id_number"}
    text = dict(wo.select("order_id", "content").rows())
    assert all(v in text[o] for o, _, v in pii.rows())


def test_inspection_patterns(small):
    required = load_scoring().hall.spot_checks_per_day
    ins = _feed(small, "inspections")
    spot = ins.filter(pl.col("method") == "video_spot").group_by(pl.col("inspected_at").dt.date().alias("d")).len()
    done = dict(spot.rows())
    short = {(d.isoformat(), done.get(d, 0)) for d in PERIOD if chinese_calendar.is_workday(d)
             and done.get(d, 0) < required}
    truth = {(d, int(n)) for d, n in _truth(small, "hall_spot_check_short_days").select("date", "done").rows()}
    assert short == truth and any(n == 0 for _, n in short) and any(n > 0 for _, n in short)
    assert {"on_site", "mystery"} <= set(ins["method"])
    hall_wide = ins.filter(pl.col("window_id").is_null())
    assert hall_wide.height >= 3 and (hall_wide["deduction"].cast(pl.Float64) > 0).all()
    at_windows = ins.filter(pl.col("window_id").is_not_null() & (pl.col("finding") != "none"))
    assert at_windows.height >= 3 and (at_windows["deduction"].cast(pl.Float64) > 0).all()
    per_wm = at_windows.group_by(pl.col("inspected_at").dt.strftime("%Y-%m"), "window_id").agg(
        pl.col("deduction").cast(pl.Float64).sum())
    truth_wm = _truth(small, "hall_inspection_window_month").with_columns(pl.col("deduction_points").cast(pl.Float64))
    assert dict(((m, w), p) for m, w, p in per_wm.rows()) == {
        (m, w): p for m, w, p in truth_wm.filter(pl.col("deduction_points") > 0).select(
            "month", "window_id", "deduction_points").rows()}


def test_hall_feeds_land_through_the_real_ingest(small, tmp_path, monkeypatch):
    """Nothing of the four feeds is quarantined but the planted bad rows; the work orders land scrubbed."""
    from core.config import load_sources
    from core.paths import Home
    from ingest.run import ingest_all

    monkeypatch.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
    home = Home(tmp_path / "home")
    monkeypatch.setenv("WINDOWWATCH_HOME", str(home.root))
    inbox = tmp_path / "inbox"  # the hall feeds and the reference feeds they refer to (transactions are not needed)
    for feed in HALL + ("windows", "items", "staff", "inspectors", "hall_hours"):
        shutil.copytree(small / feed, inbox / feed)
    report = ingest_all(home, load_sources(), inbox=inbox)
    by_feed = report.by_feed()
    truth = pl.read_csv(small / "_truth/quarantine.csv", infer_schema=False)
    for feed in HALL:
        files = [p for p in (home.quarantine / feed).glob("*.parquet") if p.name != "_empty.parquet"]
        got = set()
        for p in files:
            q = pl.read_parquet(p)
            got |= {(f.removeprefix("files:"), int(n), r) for f, n, r in q.select("source_file", "line", "rule").rows()}
        expected = {(f, int(n), r) for fd, f, n, r in truth.rows() if fd == feed}
        assert got == expected, feed
        rows = _feed(small, feed).height
        assert by_feed[feed]["landed"] == rows and by_feed[feed]["quarantined"] == 2, (feed, by_feed[feed])
    landed = pl.concat([pl.read_parquet(p, hive_partitioning=False)
                        for p in sorted((home.landing / "work_orders").glob("part_date=*/*.parquet"))])
    content = "\n".join(landed["content"].drop_nulls().to_list())
    pii = _truth(small, "hall_work_order_pii")
    assert pii.height >= 2 and not any(v in content for v in pii["value"])
    assert "[已脱敏]" in content
