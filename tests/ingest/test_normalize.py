"""Parsing and mapping rules of SPEC §3 (ingest.normalize), on real polars frames."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from ingest import normalize as n
from core.config import SourceOptions
from core.feeds import EVALUATIONS, REASON_CODES, TRANSACTIONS, VIDEO_FLAGS


def _parse(parsed: n.Parsed, values: list[str | None], name: str = "x") -> pl.DataFrame:
    df = pl.DataFrame({name: pl.Series(values, dtype=pl.String)})
    df = df.with_columns(parsed.value.alias(f"__v_{name}"))
    return df.with_columns([e.alias(rule) for rule, e in parsed.failures.items()])


def test_every_timestamp_format_parses_to_local_naive_datetime():
    cases = {
        "2025-01-06T09:03:01": dt.datetime(2025, 1, 6, 9, 3, 1),
        "2025-01-06T09:03:01.250": dt.datetime(2025, 1, 6, 9, 3, 1, 250000),
        "2025-01-06T09:03:01+08:00": dt.datetime(2025, 1, 6, 9, 3, 1),
        "2025-01-06T01:03:01Z": dt.datetime(2025, 1, 6, 9, 3, 1),  # UTC -> Asia/Shanghai
        "2025-01-06T09:03:01+0530": dt.datetime(2025, 1, 6, 11, 33, 1),
        "2025-01-05T20:03:01-05:00": dt.datetime(2025, 1, 6, 9, 3, 1),
        "2025-01-06 09:03:01": dt.datetime(2025, 1, 6, 9, 3, 1),
        "2025/01/06 09:03:01": dt.datetime(2025, 1, 6, 9, 3, 1),
        "2025/1/6 9:03:01": dt.datetime(2025, 1, 6, 9, 3, 1),
        "20250106T090301": dt.datetime(2025, 1, 6, 9, 3, 1),
        "20250106090301": dt.datetime(2025, 1, 6, 9, 3, 1),
    }
    out = _parse(n.parse_datetime("x"), list(cases))
    assert out["__v_x"].to_list() == list(cases.values())
    assert not out["bad_timestamp"].any()


@pytest.mark.parametrize("bad", ["2025-02-30 10:00:00", "昨天下午三点", "2025-01-06", "06/01/2025 10:00", "2025-01-06 25:00:00"])
def test_bad_timestamps_are_flagged(bad):
    out = _parse(n.parse_datetime("x"), [bad, None, "  "])
    assert out["bad_timestamp"].to_list() == [True, False, False]
    assert out["__v_x"].to_list() == [None, None, None]


def test_dates_months_times_booleans_numbers():
    d = _parse(n.parse_date("x"), ["2025-03-15", "2025/03/15", "20250315", "2025-03-15 00:00:00", "2025-13-01", "15.03.2025"])
    assert d["__v_x"].to_list()[:4] == [dt.date(2025, 3, 15)] * 4
    assert d["bad_value"].to_list() == [False] * 4 + [True, True]

    m = _parse(n.parse_month("x"), ["2025-03", "202503", "2025-03-15", "20250315", "2025-13", "三月"])
    assert m["__v_x"].to_list()[:4] == [dt.date(2025, 3, 1)] * 4
    assert m["bad_value"].to_list() == [False] * 4 + [True, True]

    t = _parse(n.parse_time("x"), ["08:30", "8:30", "18:00:00", "25:00", "noon"])
    assert t["__v_x"].to_list()[:3] == [dt.time(8, 30), dt.time(8, 30), dt.time(18, 0)]
    assert t["bad_value"].to_list() == [False, False, False, True, True]

    b = _parse(n.parse_bool("x"), ["true", "FALSE", "1", "0", "Y", "n", "是", "否", "也许"])
    assert b["__v_x"].to_list() == [True, False, True, False, True, False, True, False, None]
    assert b["bad_value"].to_list() == [False] * 8 + [True]

    i = _parse(n.parse_int("x"), ["3", "3.0", "-2", "3.5", "三"])
    assert i["__v_x"].to_list() == [3, 3, -2, None, None]
    f = _parse(n.parse_float("x"), ["12.5", "0", "二十元"])
    assert f["__v_x"].to_list() == [12.5, 0.0, None] and f["bad_value"].to_list() == [False, False, True]


def test_enum_labels_english_and_chinese():
    col = TRANSACTIONS.by_name["event_type"]
    out = _parse(n.parse_enum("x", col.enum), ["accept", "受理", " Complete ", "特别程序开始", "挂起", "审核中"])
    assert out["__v_x"].to_list() == ["accept", "accept", "complete", "suspend", "suspend", None]
    assert out["unknown_enum"].to_list() == [False] * 5 + [True]
    flags = _parse(n.parse_enum("x", VIDEO_FLAGS.by_name["review_status"].enum), ["已确认", "驳回", "pending"])
    assert flags["__v_x"].to_list() == ["confirmed", "dismissed", "pending"]


def test_list_columns_split_and_canonicalise():
    out = _parse(n.parse_list("x", REASON_CODES), ["slow;多次跑", "态度差；让去原单位办", "其他, unclear_guidance", "slow;不存在", None])
    assert out["__v_x"].to_list() == ["slow;multiple_trips", "attitude;sent_to_department", "other;unclear_guidance", None, None]
    assert out["unknown_enum"].to_list() == [False, False, False, True, False]


@pytest.mark.parametrize(
    "direction, expected",
    [("five_is_best", [5, 4, 3, 2, 1]), ("one_is_best", [1, 2, 3, 4, 5])],
)
def test_numeric_rating_follows_the_declared_direction(direction, expected):
    out = _parse(n.parse_rating("x", SourceOptions(rating_direction=direction)), ["5", "4", "3", "2", "1"])
    assert out["__v_x"].to_list() == expected
    assert not out["rating_out_of_range"].any() and not out["rating_direction_undeclared"].any()


def test_rating_labels_always_accepted_numbers_need_a_direction():
    values = ["非常满意", "满意", "基本满意", "不满意", "非常不满意", "very_satisfied", "5", "6", "0", "good"]
    out = _parse(n.parse_rating("x", SourceOptions()), values)
    assert out["__v_x"].to_list() == [5, 4, 3, 2, 1, 5, None, None, None, None]
    # the landing rule order puts rating_out_of_range before rating_direction_undeclared
    assert out["rating_out_of_range"].to_list() == [False] * 7 + [True, True, True]
    assert out["rating_direction_undeclared"].to_list() == [False] * 6 + [True] * 4


def test_headers_map_english_chinese_case_space_and_column_mapping():
    headers = ["Evaluation ID", "窗口编号", "满意度", "EVALUATED_AT", "客户评语", "junk"]
    options = SourceOptions(column_mapping={"evaluations": {"客户评语": "comment"}})
    hm = n.map_headers(headers, EVALUATIONS, options)
    assert hm.mapping == {"Evaluation ID": "evaluation_id", "窗口编号": "window_id", "满意度": "rating",
                          "EVALUATED_AT": "evaluated_at", "客户评语": "comment"}
    assert hm.unknown == ["junk"] and hm.missing_required == []
    assert n.map_headers(["evaluation_id", "rating"], EVALUATIONS, SourceOptions()).missing_required == ["window_id", "evaluated_at"]


# -- the fast timestamp paths (issue 7) must decide exactly as the general rule does

def _general_rule(values: list[str | None]) -> list:
    s = pl.Series("s", values, dtype=pl.String)
    out = n.reject_second_overflow(s, s.to_frame().select(n._offset_timestamp(pl.col("s"))).to_series())
    return out.zip_with(out.is_between(n.TS_MIN, n.TS_MAX, closed="left").fill_null(False),
                        pl.Series([None], dtype=pl.Datetime("us"))).to_list()


TS_TRICKY = ["2026-01-01 09:01:00", "2026-01-01T09:01:00", "20260101T090100", "20260101090100", "2026/01/01 09:01:00",
             "2026-02-30 09:01:00", "2026-02-29T09:01:00", "2024-02-29T09:01:00", "2026-13-01 00:00:00", "2026-01-01 24:00:00",
             "2026-01-01 23:59:60", "20261301T090100", "20260230T090100", "20260101T250000", "1999-12-31 23:59:59",
             "2000-01-01 00:00:00", "2099-12-31T23:59:59", "2100-01-01 00:00:00", "0001-01-01 00:00:00", "9999-12-31T23:59:59",
             "2026-01-01T09:01:00Z", "2026-01-01T09:01:00+08:00", "2026-01-01 09:01:00-0530", "2026-01-01T09:01:00+99:00",
             "2026-01-01T09:01:00.123", "2026-01-01 09:01", "2026-01-01T09:01:00T", "2026-01-01TT09:01:00", "", None,
             "20260101T0901000", "2026-01-01 09:01:00 ", "２０２６-01-01 09:01:00", "2026-01-01\t09:01:00", "2026-1-1 9:01:00"]


def test_fast_timestamps_equal_the_general_rule_on_tricky_values():
    got = n._timestamps(pl.Series("s", TS_TRICKY, dtype=pl.String)).to_list()
    assert got == _general_rule(TS_TRICKY)
    assert got[0] == got[1] == got[2] == got[3] == got[4] == dt.datetime(2026, 1, 1, 9, 1)
    assert got[TS_TRICKY.index("2026-01-01 23:59:60")] is None  # not 2026-01-02 00:00:00


def test_fast_timestamps_equal_the_general_rule_property():
    from hypothesis import given, settings, strategies as st

    digits = st.integers(0, 9).map(str)
    two = st.tuples(digits, digits).map("".join)
    year = st.sampled_from(["1999", "2000", "2026", "2099", "2100", "0000", "9999"])
    sep_date = st.tuples(year, two, two).map(lambda p: "-".join(p))
    compact_date = st.tuples(year, two, two).map("".join)
    clock = st.tuples(two, two, two)
    shaped = st.one_of(
        st.tuples(sep_date, st.sampled_from(["T", " "]), clock.map(":".join)).map("".join),
        st.tuples(compact_date, st.just("T"), clock.map("".join)).map("".join),
        st.tuples(compact_date, clock.map("".join)).map("".join),
        # a typed source's Datetime as text (normalize._FRACTION_TS), with odd fractions and tails
        st.tuples(sep_date, st.sampled_from(["T", " "]), clock.map(":".join),
                  st.sampled_from([".000000", ".5", ".123456789", ".1234567890123", ".", ".000000Z", ".5+08:00"])).map("".join),
        st.text(alphabet="0123456789-:T +Z./", max_size=26),
    )

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.one_of(st.none(), shaped), min_size=1, max_size=40))
    def check(values):
        assert n._timestamps(pl.Series("s", values, dtype=pl.String)).to_list() == _general_rule(values)

    check()
