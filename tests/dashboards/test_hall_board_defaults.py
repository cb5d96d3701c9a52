"""The hall screen's figures of the day count people's ratings only: a system-default rating (channel
`default`, 系统默认评价) is nobody's opinion (SPEC v2 §4.4; issue 17), as the live feed beside it."""

from __future__ import annotations

import datetime as dt

import duckdb

from dashboards import queries

DAY = dt.date(2026, 10, 30)


def test_hall_board_leaves_system_default_ratings_out(tmp_path):
    path = tmp_path / "snapshot.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.dim_window as select * from (values "
                "('W01', '一号窗口', '市场监管局', 'C1', 'D1'), ('W02', '二号窗口', '税务局', 'C1', 'D2')) "
                "t(window_id, window_name, department_name, center_id, department_id)")
    con.execute("create table marts.fct_case (case_id varchar, window_id varchar, status varchar, card varchar)")
    con.execute("create table marts.fct_evaluation as select * from (values "
                "('E1', 'W01', 'pad', timestamp '2026-10-30 10:00:00', true, false), "
                "('E2', 'W01', 'default', timestamp '2026-10-30 23:59:00', true, false), "
                "('E3', 'W01', 'default', timestamp '2026-10-30 23:59:00', true, false), "
                "('E4', 'W01', 'qr', timestamp '2026-10-30 11:00:00', false, true), "
                "('E5', 'W02', 'default', timestamp '2026-10-30 23:59:00', true, false)) "
                "t(evaluation_id, window_id, channel, evaluated_at, is_good, is_bad)")
    con.close()
    board = queries.hall_board(str(path), queries.Filters(), DAY).set_index("window_name")
    assert board.loc["一号窗口", "ratings"] == 2  # E1 and E4; not the two defaults
    assert board.loc["一号窗口", "satisfaction_rate"] == 0.5 and board.loc["一号窗口", "bad"] == 1
    assert board.loc["二号窗口", "ratings"] == 0  # only a default: no opinion at all that day
