"""The v2 optional columns of `evaluations` (SPEC §3: device_id 评价设备编号, appeal_at 申诉时间,
appeal_result 申诉结果, callback_result 回访结果; docs/rules.md#satisfaction) land through every kind of
source — inbox files, a SQL query (real PostgreSQL) and a paged HTTP API — with their Chinese names and
enum labels; an unknown label is quarantined; a home whose empty landing files predate them is rewritten."""

from __future__ import annotations

import datetime as dt

import polars as pl
import sqlalchemy as sa

from core.config import Source
from core.feeds import FEEDS, landing_contract_fingerprint
from ingest.landing_schema import landing_schema
from ingest.run import ingest_source
from tests.ingest.sources.test_http import FakeAgency, serving
from tests.support.inbox import landed, make_inbox, quarantined, run, write_csv
from tests.support.pg_server import new_database

V2 = ("device_id", "appeal_at", "appeal_result", "callback_result")
CN_HEADER = ["评价编号", "窗口编号", "满意度", "评价时间", "评价设备编号", "申诉时间", "申诉结果", "回访结果"]
CN_ROWS = [
    ["V1", "W01", "不满意", "2025-03-03 10:00:00", "PAD-01", "2025-03-04 09:00:00", "撤销差评", ""],
    ["V2", "W01", "非常不满意", "2025-03-03 11:00:00", "PAD-01", "2025/03/05 09:30:00", "维持差评", "不满意"],
    ["V3", "W01", "满意", "2025-03-03 12:00:00", "", "", "", "基本满意"],
]
EXPECTED = [
    ("V1", "PAD-01", dt.datetime(2025, 3, 4, 9), "overturned", None),
    ("V2", "PAD-01", dt.datetime(2025, 3, 5, 9, 30), "upheld", "unsatisfied"),
    ("V3", None, None, None, "basically_satisfied"),
]


def _v2(home) -> list[tuple]:
    return landed(home, "evaluations").sort("evaluation_id").select("evaluation_id", *V2).rows()


def test_the_contract_and_the_empty_landing_files_carry_the_v2_columns(ww_home):
    from core.paths import Home
    from windowwatch.transform import ensure_empty_files

    schema = landing_schema(FEEDS["evaluations"])
    assert {c: schema[c] for c in V2} == {"device_id": pl.String, "appeal_at": pl.Datetime("us"),
                                          "appeal_result": pl.String, "callback_result": pl.String}
    assert FEEDS["evaluations"].by_name["appeal_result"].enum == {"upheld": ("维持差评",), "overturned": ("撤销差评",)}
    # an `_empty.parquet` of the v1 contract (no v2 columns, another fingerprint) is rewritten by the next build
    home = Home(ww_home)
    ensure_empty_files(home)
    empty = ww_home / "landing" / "evaluations" / "_empty.parquet"
    pl.DataFrame(schema={k: v for k, v in schema.items() if k not in V2}).write_parquet(empty)
    (ww_home / "landing" / "_empty.contract").write_text("v1-contract\n", encoding="utf-8")
    ensure_empty_files(home)
    assert dict(pl.read_parquet(empty).schema) == schema
    assert (ww_home / "landing" / "_empty.contract").read_text(encoding="utf-8").strip() == landing_contract_fingerprint()


def test_files_land_the_v2_columns_with_chinese_names_and_labels(ww_home, tmp_path):
    inbox = make_inbox(tmp_path)
    write_csv(inbox / "evaluations" / "e.csv", [CN_HEADER, *CN_ROWS,
                                                ["V4", "W01", "满意", "2025-03-03 13:00:00", "", "", "改判", ""]])
    report = run(ww_home, inbox)
    assert report.exit_code == 0
    assert _v2(ww_home) == EXPECTED
    assert quarantined(ww_home, "evaluations").select("line", "rule").rows() == [(5, "unknown_enum")]
    # an appeal is follow-up: the row is dated by its latest time (a re-delivery with the appeal is an update)
    rec = landed(ww_home, "evaluations").sort("evaluation_id")["recorded_at"].to_list()
    assert rec == [dt.datetime(2025, 3, 4, 9), dt.datetime(2025, 3, 5, 9, 30), dt.datetime(2025, 3, 3, 12)]


def test_a_sql_query_lands_the_v2_columns(postgres_url, ww_home, tmp_path):
    run(ww_home, make_inbox(tmp_path))  # windows W01, W02
    url = new_database(postgres_url)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("create table haocha (evaluation_id text, window_id text, rating text, evaluated_at timestamp, "
                                 "device_id text, appeal_at timestamp, appeal_result text, callback_result text)"))
            conn.execute(sa.text("insert into haocha values (:i, :w, :r, :at, :d, :aa, :ar, :cr)"), [
                dict(zip(("i", "w", "r", "at", "d", "aa", "ar", "cr"), [v or None for v in row])) for row in CN_ROWS])
        # columns under their Chinese aliases for two of them, the English names for the rest
        query = ("select evaluation_id, window_id, rating, evaluated_at, device_id as 评价设备编号, appeal_at, "
                 "appeal_result as 申诉结果, callback_result from haocha")
        rep = ingest_source(ww_home, Source(name="haocha_db", kind="sql", feed="evaluations", url=url, query=query))
        assert rep.exit_code == 0, rep.as_dict()
        assert rep.by_feed()["evaluations"]["landed"] == 3
    finally:
        engine.dispose()
    assert _v2(ww_home) == EXPECTED


def test_an_http_api_lands_the_v2_columns(ww_home, tmp_path):
    run(ww_home, make_inbox(tmp_path))
    with serving(FakeAgency()) as api:
        api.items = [dict(zip(CN_HEADER, (v or None for v in row)), recorded_at=f"2025-03-06 0{i}:00:00")
                     for i, row in enumerate(CN_ROWS, start=1)]
        rep = ingest_source(ww_home, Source(name="haocha_api", kind="http", feed="evaluations", url=api.url))
    assert rep.exit_code == 0, rep.as_dict()
    assert _v2(ww_home) == EXPECTED
