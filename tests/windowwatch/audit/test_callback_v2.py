"""回访抽样 under SPEC §4.4 v2 (issue 17): the callback sample draws the real-name bad reviews that need a
callback (not verified invalid, not overturned, not a system default) whose callback deadline falls in the
month, each with that deadline, and the random 基本满意 only among applicant-given ratings; a pre-v2 snapshot
keeps the v1 rule. The expected sample is computed here from the snapshot with plain SQL + hashlib."""

from __future__ import annotations

import hashlib
import math
import shutil

import duckdb
import pytest

from tests.support.audit_snapshot import build_snapshot
from windowwatch.audit import draw_callbacks, get_draw, verify
from windowwatch.audit.public_list import build_public_list
from windowwatch.cli import main as cli_main

V2 = {  # evaluation_id -> (is_default, verdict, appeal_result, is_real_name, callback deadline or None)
    "EV004": (False, "valid", None, True, "2026-10-20 23:59:59"),  # rating 2: called back, deadline in October
    "EV007": (False, "invalid", None, True, None),  # rating 1 verified invalid: no callback
    "EV014": (False, "valid", "overturned", True, None),  # rating 2 overturned: no callback
    "EV017": (False, "valid", None, False, None),  # rating 1, anonymous: no callback
    "EV024": (False, "valid", None, True, "2026-11-03 23:59:59"),  # rating 2, deadline next month: not yet
    "EV037": (False, "valid", None, True, "2026-10-09 23:59:59"),  # rating 1 rated in September, due October
}
DEFAULTS = ("EV002", "EV003", "EV006", "EV009")  # 基本满意 given by the system


def _snapshot(home):
    return home / "published" / (home / "published" / "CURRENT").read_text().strip()


def _h(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture(scope="session")
def _v2_template(tmp_path_factory):
    root = tmp_path_factory.mktemp("callback-v2")
    build_snapshot(root)
    published = root / "published"
    path = next(published.glob("*.duckdb"))
    con = duckdb.connect(str(path))
    for col in ("is_default boolean default false", "needs_callback boolean default false",
                "callback_deadline timestamp", "verdict varchar", "appeal_result varchar", "is_real_name boolean"):
        con.execute(f"alter table marts.fct_evaluation add column {col}")
    for eid, (_d, verdict, appeal, real_name, deadline) in V2.items():
        con.execute("update marts.fct_evaluation set verdict = ?, appeal_result = ?, is_real_name = ?, "
                    "needs_callback = ?, callback_deadline = ?::timestamp where evaluation_id = ?",
                    [verdict, appeal, real_name, deadline is not None, deadline, eid])
    con.execute(f"update marts.fct_evaluation set is_default = true where evaluation_id in {DEFAULTS}")
    con.execute("checkpoint")
    con.close()
    return published


@pytest.fixture()
def v2_home(ww_home, _v2_template):
    shutil.copytree(_v2_template, ww_home / "published")
    return ww_home


def test_v2_sample_is_the_bad_reviews_needing_a_callback_with_their_deadline(v2_home):
    con = duckdb.connect(str(_snapshot(v2_home)), read_only=True)
    ratings = dict(con.execute("select evaluation_id, rating from marts.fct_evaluation").fetchall())
    neutral = [e for e, in con.execute(
        "select evaluation_id from marts.fct_evaluation where rating = 3 and not is_default "
        "and evaluated_at >= date '2026-10-01' and evaluated_at < date '2026-11-01'").fetchall()]
    con.close()
    assert {ratings[e] for e in V2} == {1, 2} and all(ratings[e] == 3 for e in DEFAULTS)
    r = draw_callbacks("2026-10", 0.5, "witnessed v2")
    got = {s["evaluation_id"]: s for s in r.sample}
    bad = {e: s["callback_deadline"] for e, s in got.items() if s["reason"] == "bad"}
    assert bad == {"EV004": "2026-10-20 23:59:59", "EV037": "2026-10-09 23:59:59"}
    keyed = sorted((_h(r.seed + ":" + e), e) for e in neutral)
    want_random = {e for _, e in keyed[: math.ceil(0.5 * len(neutral))]}
    random_ = {e for e, s in got.items() if s["reason"] == "random"}
    assert random_ == want_random and not random_ & set(DEFAULTS)
    assert all(got[e]["callback_deadline"] is None for e in random_)
    assert verify().ok  # the logged v2 pool recomputes to the same sample
    listed = build_public_list(r.draw_id)
    assert "回访期限 callback deadline" in listed.headers
    deadline_col = listed.headers.index("回访期限 callback deadline")
    assert sorted(row[deadline_col] for row in listed.rows if row[deadline_col]) == sorted(bad.values())
    assert get_draw(r.draw_id)["pools"]["evaluations"][0].keys() >= {"needs_callback", "callback_deadline", "is_default"}


def test_cli_prints_the_callback_deadline(v2_home, capsys):
    assert cli_main(["audit", "callback", "--month", "2026-10", "--share", "0", "--entropy", "9"]) == 0
    out = capsys.readouterr().out
    assert "EV004" in out and "回访期限 2026-10-20 23:59:59" in out and "EV007" not in out


def test_pre_v2_snapshot_keeps_the_v1_rule(ww_home, tmp_path):
    build_snapshot(tmp_path)
    shutil.copytree(tmp_path / "published", ww_home / "published")
    r = draw_callbacks("2026-10", 0.0, "v1")
    con = duckdb.connect(str(_snapshot(ww_home)), read_only=True)
    bad = {e for e, in con.execute("select evaluation_id from marts.fct_evaluation where rating <= 2 "
                                   "and evaluated_at >= date '2026-10-01' and evaluated_at < date '2026-11-01'").fetchall()}
    con.close()
    assert {s["evaluation_id"] for s in r.sample} == bad
    assert all("callback_deadline" not in s for s in r.sample)
    assert verify().ok
