"""Issue 7 fast paths of ingest give exactly what the general rules give.

- the inbox scan runs in the background (`scan_inbox(lazy=True)`) and the worker decision is
  taken from the files scanned so far;
- a CSV without control bytes skips the per-value control-character check;
- text is stripped once per batch; ints and ratings parse without capturing regexes;
- PII is normalised on the distinct values only.
"""

from __future__ import annotations

import hashlib
import hmac as std_hmac
import random

import polars as pl
import pytest

from core.feeds import FEEDS
from ingest import landing, normalize as n, privacy, run, stage_pool, validation
from ingest.sources import files
from ingest.sources.files import FileDelivery, PendingFile
from core.config import SourceOptions
from core.paths import Home

TX_HEADER = "event_id,case_id,event_type,event_time,window_id,item_code,applicant_phone\n"


def _tx(rows: int, start: int = 0, value: str = "A") -> str:
    """`value` goes into case_id (a parsed text column: control characters there are bad_value)."""
    return TX_HEADER + "".join(f"E{i},C{i}{value},accept,2026-01-05 09:00:00,W1,I1,138 0013 {i % 10000:04d}\n"
                               for i in range(start, start + rows))


def _inbox(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "windows").mkdir(parents=True)
    (inbox / "windows" / "w.csv").write_text("window_id,window_name,hall\nW1,一号窗,H1\n", encoding="utf-8")
    (inbox / "items").mkdir()
    (inbox / "items" / "i.csv").write_text("item_code,item_name\nI1,事项\n", encoding="utf-8")
    (inbox / "transactions").mkdir()
    (inbox / "transactions" / "a.csv").write_text(_tx(50), encoding="utf-8")
    (inbox / "transactions" / "b-gbk.csv").write_bytes(_tx(20, 100, "张").encode("gb18030"))
    (inbox / "transactions" / "c-ctl.csv").write_text(_tx(5, 200, "x\x01y"), encoding="utf-8")
    (inbox / "transactions" / "d-gbk-ctl.csv").write_bytes(_tx(5, 300, "张\x07").encode("gb18030"))
    (inbox / "transactions" / "e.txt.unsupported").write_text("x", encoding="utf-8")
    (inbox / "transactions" / "f.jsonl").write_text('{"event_id": "J1", "case_id": "C1"}\n', encoding="utf-8")
    return inbox


def _summary(d):
    if isinstance(d, FileDelivery):
        return ("file", d.feed, d.source, d.content_id, d.encoding, d.control_free, tuple(d.headers))
    return ("unreadable", d.feed, d.source, d.reason)


def test_lazy_scan_resolves_to_what_the_eager_scan_gives(tmp_path):
    inbox = _inbox(tmp_path)
    eager = files.scan_inbox(inbox, SourceOptions(), tmp_path / "tmp")
    lazy = files.scan_inbox(inbox, SourceOptions(), tmp_path / "tmp", lazy=True)
    assert any(isinstance(d, PendingFile) for d in lazy.deliveries)
    resolved = [d.resolve() if isinstance(d, PendingFile) else d for d in lazy.deliveries]
    assert [_summary(d) for d in resolved] == [_summary(d) for d in eager.deliveries]
    by_name = {d.source.rsplit("/", 1)[-1]: d for d in eager.deliveries}
    # the content id is still the SHA-256 of the bytes
    assert by_name["a.csv"].content_id == hashlib.sha256((inbox / "transactions" / "a.csv").read_bytes()).hexdigest()
    # control bytes: none in a.csv / the GBK file; one in c and d (also inside GB18030 text); JSONL is never trusted
    assert [by_name[x].control_free for x in ("a.csv", "b-gbk.csv", "c-ctl.csv", "d-gbk-ctl.csv", "f.jsonl")] == \
        [True, True, False, False, False]
    assert by_name["b-gbk.csv"].encoding == "gb18030"


def test_control_bytes_are_the_control_characters_landing_refuses():
    import re

    refused = {b for b in range(128) if re.fullmatch(validation.CONTROL_CHARS, chr(b))}
    assert refused == set(files.CONTROL_BYTES)


def test_control_free_csv_lands_like_a_checked_one_and_control_chars_are_still_caught(ww_home, tmp_path, monkeypatch):
    monkeypatch.setenv(stage_pool.ENV, "0")
    inbox = _inbox(tmp_path)
    (inbox / "transactions" / "e.txt.unsupported").unlink()
    report = run.ingest_all(ww_home, None, inbox)
    by_source = {d.source.rsplit("/", 1)[-1]: d for d in report.deliveries}
    assert by_source["c-ctl.csv"].by_rule == {"bad_value": 5}
    assert by_source["d-gbk-ctl.csv"].by_rule == {"bad_value": 5}
    assert by_source["a.csv"].landed == 50 and by_source["b-gbk.csv"].landed == 20

    # the same delivery validated without the flag: identical good and bad rows
    d = files.scan_inbox(inbox, SourceOptions(), tmp_path / "tmp2").deliveries
    a = next(x for x in d if x.source.endswith("a.csv"))
    assert a.control_free
    feed = FEEDS["transactions"]
    hmap = n.map_headers(a.headers, feed, a.options)
    refs = {"windows": pl.Series(["W1"]), "items": pl.Series(["I1"])}
    batch = next(a.batches())
    fast = validation.BatchValidator(feed, a, hmap, refs, b"k").validate(batch)
    a.control_free = False
    slow = validation.BatchValidator(feed, a, hmap, refs, b"k").validate(batch)
    assert fast[0].equals(slow[0]) and fast[1].equals(slow[1])


def test_worker_decision_waits_only_for_the_files_that_settle_it(tmp_path, monkeypatch, ww_home):
    inbox = _inbox(tmp_path)
    monkeypatch.delenv(stage_pool.ENV, raising=False)
    monkeypatch.setattr(stage_pool, "AUTO_MIN_BYTES", 1)
    lander = landing.Lander(Home(ww_home))
    scan = files.scan_inbox(inbox, SourceOptions(), tmp_path / "tmp", lazy=True)
    deliveries = list(scan.deliveries)
    assert run._workers_for(lander, deliveries) == stage_pool.worker_count(1 << 30, 2) > 0
    # two files to land settle it: the rest stays pending (scanned in the background)
    assert sum(not isinstance(d, PendingFile) for d in deliveries) == 2 < len(deliveries)
    # nothing to land (all in the ledger): no workers, whatever the size
    monkeypatch.setattr(landing.Lander, "ledger_path", lambda self, cid: tmp_path)  # exists
    assert run._workers_for(lander, list(files.scan_inbox(inbox, SourceOptions(), tmp_path / "tmp", lazy=True).deliveries)) == 0


# ------------------------------------------------------------------ parse rules, old formulation as the reference


def _old_text(name):
    s = pl.col(name).cast(pl.String).str.replace_all("\ufeff", "", literal=True).str.strip_chars()
    return pl.when(s.str.len_chars() == 0).then(None).otherwise(s)


def _old_int(s):
    cleaned = s.str.replace(r"^([+-]?\d+)\.0*$", "$1")
    return pl.when(cleaned.str.contains(r"^[+-]?\d{1,18}$")).then(cleaned).otherwise(None).cast(pl.Int64, strict=False)


def _old_parse_rating(name, options):
    """parse_rating as it was before issue 7's change (a capturing replace per row)."""
    s = _old_text(name)
    labels = {label.lower(): level for level, names in n.RATING_LABELS.items() for label in names}
    from_label = s.str.to_lowercase().replace_strict(labels, default=None, return_dtype=pl.Int8)
    number = s.str.replace(r"^(\d+)\.0*$", "$1")
    is_number = number.str.contains(r"^\d{1,9}$")
    num = pl.when(is_number).then(number).otherwise(None).cast(pl.Int64, strict=False)
    in_range = num.is_between(1, 5)
    if options.rating_direction == "five_is_best":
        from_number = num
    elif options.rating_direction == "one_is_best":
        from_number = 6 - num
    else:
        from_number = pl.lit(None, dtype=pl.Int64)
    value = pl.coalesce([from_label, pl.when(in_range).then(from_number).otherwise(None).cast(pl.Int8)])
    failures = {
        "rating_out_of_range": s.is_not_null() & from_label.is_null() & ~(is_number & in_range).fill_null(False),
        "rating_direction_undeclared": s.is_not_null() & from_label.is_null() & n.vcol(name).is_null(),
    }
    return n.Parsed(value, failures)


def _apply(df, p):
    out = df.with_columns(p.value.alias("__v_x"))
    return out.with_columns(*[e.alias(r) for r, e in p.failures.items()])


def _values():
    rng = random.Random(7)
    alphabet = "0123456789.+- ٣a\ufeff\t"
    vals = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 22))) for _ in range(20_000)]
    vals += [str(rng.randint(0, 10 ** rng.randint(1, 20))) + rng.choice(["", ".", ".0", ".00", ".01"]) for _ in range(10_000)]
    vals += ["3", "3.0", "-2", "3.5", "三", "+7", "007", "3.", "1234567890123456789", "123456789012345678.00", "1.2.0",
             "", "  ", "\ufeff5", " 4 ", None, "٣", "-0", "+0.000", ".0", "-.5"]
    return pl.DataFrame({"x": pl.Series(vals, dtype=pl.String)})


def test_text_int_and_rating_equal_the_capturing_regex_rules():
    df = _values()
    new = df.select(n.text("x").alias("t"), n.parse_int("x").value.alias("i"))
    old = df.select(_old_text("x").alias("t"), _old_int(_old_text("x")).alias("i"))
    assert new.equals(old)
    for direction in ("five_is_best", "one_is_best", None):
        options = SourceOptions(rating_direction=direction)
        assert _apply(df, n.parse_rating("x", options)).equals(_apply(df, _old_parse_rating("x", options))), direction


def test_stripped_column_parse_equals_parse_of_the_raw_text():
    df = _values().with_columns(pl.col("x").alias("y"))
    for col in (FEEDS["transactions"].by_name[c] for c in ("extend_days", "event_time", "fee_amount", "event_type")):
        raw = n.parse_column(col, SourceOptions())
        fast = n.parse_column(col, SourceOptions(), stripped=True)
        frame = df.rename({"x": col.name}).drop("y")
        a = frame.with_columns(raw.value.alias(f"__v_{col.name}"))
        a = a.with_columns(*[e.alias(r) for r, e in raw.failures.items()])
        b = frame.with_columns(n.text(col.name).alias(f"__t_{col.name}")).with_columns(fast.value.alias(f"__v_{col.name}"))
        b = b.with_columns(*[e.alias(r) for r, e in fast.failures.items()]).drop(f"__t_{col.name}")
        assert a.equals(b), col.name


@pytest.mark.parametrize("column", ["applicant_phone", "applicant_id"])
def test_pii_normalised_on_distinct_values_hashes_like_every_row(column):
    key = b"k-test"
    values = pl.Series(column, ["138 0013 8000", "+86 13800138000", "13800138000", None, "  ", "()", "370102(1990)0101123x",
                                "370102199001011234", "0086-138-0013-8000", "13800138000"] * 3)
    got = privacy.hmac_series(values, key, column)
    norm = values.to_frame().select(privacy.normalize_pii(pl.col(column), column)).to_series()
    want = [None if v is None else std_hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in norm.to_list()]
    assert got.to_list() == want
    assert got.name == column
