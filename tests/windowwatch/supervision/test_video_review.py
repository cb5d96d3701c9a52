"""视频复核 (SPEC §4.11): an inspector confirms or dismisses a pending video flag with a note — stored
(SQLite and PostgreSQL), in the audit log, a confirmation opening its supervision item once, and the
decision winning over the feed's review_status in fct_video_flag from the next build on."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
import sqlalchemy as sa

from core.paths import Home
from windowwatch.audit.log import AuditLog
from windowwatch.supervision import video
from windowwatch.supervision.model import items
from windowwatch.supervision.sync import sync
from windowwatch.supervision.workflow import Actor, Refused, actor_for, history

NOW = dt.datetime(2026, 10, 21, 9, 0)


def _flags(snapshot, status: str, n: int = 2) -> list[tuple[str, str, str]]:
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return con.execute("select flag_id, window_id, flag_type from marts.fct_video_flag where review_status = ? "
                           "order by flag_id limit ?", [status, n]).fetchall()
    finally:
        con.close()


def test_an_inspector_confirms_and_dismisses_pending_flags(sup):
    sync(sup.store, now=NOW, send=False)
    (f1, w1, type1), (f2, _, _) = _flags(sup.snapshot, "pending")
    insp = actor_for("insp", sup.home)
    done = video.review(sup.store, insp, f1, "confirmed", "视频显示工作人员玩手机 5 分钟", now=NOW)
    assert (done["decision"], done["reviewer"], done["reviewed_at"], done["window_id"]) == ("confirmed", "insp", NOW, w1)
    # the confirmation opened the flag's item under the key `supervise sync` gives it
    with sup.store.engine.connect() as conn:
        item = conn.execute(sa.select(items).where(items.c.item_id == done["item_id"])).mappings().one()
    assert (item["kind"], item["subject_id"], item["rule"], item["state"]) == ("video_flag", f1, type1.upper(), "open")
    assert history(sup.store, item["item_id"])[0]["actor"] == "insp"
    dismissed = video.review(sup.store, insp, f2, "dismissed", "误报：画面中为群众", now=NOW)
    assert dismissed["item_id"] is None
    assert video.reviewed_ids(sup.store, [f1, f2, "nope"]) == {f1, f2}
    logged = [e for e in AuditLog(sup.home).entries() if e.get("kind") == "video_review"]
    assert [(e["flag_id"], e["decision"], e["user"], e["note"]) for e in logged] == [
        (f1, "confirmed", "insp", "视频显示工作人员玩手机 5 分钟"), (f2, "dismissed", "insp", "误报：画面中为群众")]
    # a sync on the same snapshot (the flag still pending there) opens nothing twice and clears nothing
    again = sync(sup.store, now=NOW + dt.timedelta(hours=1), send=False)
    assert again.opened == 0 and again.cleared == 0
    with sup.store.engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(items).where(items.c.subject_id == f1)).scalar_one()
        cleared = conn.execute(sa.select(items.c.trigger_cleared).where(items.c.item_id == done["item_id"])).scalar()
    assert n == 1 and not cleared


def test_a_decision_is_final_and_only_an_inspector_takes_one(sup):
    (f1, _, _), = _flags(sup.snapshot, "pending", 1)
    (confirmed, _, _), = _flags(sup.snapshot, "confirmed", 1)
    video.review(sup.store, actor_for("insp", sup.home), f1, "dismissed", "误报", now=NOW)
    with pytest.raises(Refused, match=r"already dismissed by insp at \d{4}-\d\d-\d\d \d\d:\d\d"):
        video.review(sup.store, actor_for("insp2", sup.home), f1, "confirmed", "我看是违规", now=NOW)
    assert video.decision_of(sup.store, f1)["reviewer"] == "insp"
    for user in ("d01", "mgr", "aud"):
        with pytest.raises(Refused, match="only an inspector"):
            video.review(sup.store, actor_for(user, sup.home), f1, "confirmed", "x")
    with pytest.raises(Refused, match="only pending flags"):
        video.review(sup.store, actor_for("insp", sup.home), confirmed, "dismissed", "x")
    with pytest.raises(Refused, match="note is required"):
        video.review(sup.store, actor_for("insp", sup.home), f1, "confirmed", " ")
    with pytest.raises(Refused, match="not in the published data"):
        video.review(sup.store, actor_for("insp", sup.home), "NO-SUCH-FLAG", "confirmed", "x")


def test_a_clip_plays_only_from_the_clip_root_or_a_url(tmp_path, monkeypatch):
    home = Home(tmp_path / "home")
    (home.root / "clips" / "W01").mkdir(parents=True)
    (home.root / "clips" / "W01" / "a.mp4").write_bytes(b"\x00")
    (tmp_path / "secret.mp4").write_bytes(b"\x00")
    monkeypatch.delenv(video.CLIP_ROOT_ENV, raising=False)
    assert video.clip_source("W01/a.mp4", home) == (home.root / "clips" / "W01" / "a.mp4").resolve()
    assert video.clip_source("https://cam.example/x.mp4", home) == "https://cam.example/x.mp4"
    assert video.clip_source("../../secret.mp4", home) is None  # never outside the root
    assert video.clip_source("clip://W01/3", home) is None and video.clip_source(None, home) is None
    monkeypatch.setenv(video.CLIP_ROOT_ENV, str(tmp_path))
    assert video.clip_source("secret.mp4", home) == (tmp_path / "secret.mp4").resolve()


def test_the_decision_wins_over_the_feed_from_the_next_build(tmp_path, monkeypatch):
    from tests.support.landing import write_landing
    from windowwatch.supervision.export import export
    from windowwatch.supervision.store import open_store
    from windowwatch.transform import build

    home = Home(tmp_path.resolve())
    monkeypatch.setenv("WINDOWWATCH_HOME", str(home.root))
    monkeypatch.delenv("WINDOWWATCH_SUPERVISION_URL", raising=False)
    write_landing(home, "windows", [{"window_id": "W01", "window_name": "综合窗口1", "department_id": "D01",
                                     "department_name": "市公安局", "center_id": "C01", "center_name": "市政务服务中心"}])
    write_landing(home, "video_flags", [
        {"flag_id": "F1", "window_id": "W01", "flagged_at": "2025-10-20 10:00:00", "flag_type": "phone",
         "source": "ai", "confidence": 0.9, "review_status": "pending", "clip_ref": "W01/f1.mp4"},
        {"flag_id": "F2", "window_id": "W01", "flagged_at": "2025-10-20 11:00:00", "flag_type": "absent",
         "source": "ai", "confidence": 0.8, "review_status": "pending"},
        {"flag_id": "F3", "window_id": "W01", "flagged_at": "2025-10-20 12:00:00", "flag_type": "eating",
         "source": "ai", "confidence": 0.7, "review_status": "pending"}])
    select = "+fct_video_flag +dim_window"
    first = build(home, as_of="2025-10-31", select=select)
    assert first.success, first.summary()

    def published() -> dict[str, tuple]:
        con = duckdb.connect(str(home.warehouse), read_only=True)
        try:
            return {r[0]: r[1:] for r in con.execute("select flag_id, review_status, reviewer_id, counts_for_discipline "
                                                      "from marts.fct_video_flag").fetchall()}
        finally:
            con.close()

    assert {f: s[0] for f, s in published().items()} == {"F1": "pending", "F2": "pending", "F3": "pending"}
    store = open_store(home)
    try:
        insp = Actor(name="insp", role="inspector")
        video.review(store, insp, "F1", "confirmed", "确认玩手机", snapshot=home.warehouse)
        video.review(store, insp, "F2", "dismissed", "误报", snapshot=home.warehouse)
        export(store)  # the start of the next run
    finally:
        store.dispose()
    second = build(home, as_of="2025-10-31", select=select)
    assert second.success, second.summary()
    after = published()
    assert after["F1"] == ("confirmed", "insp", True)
    assert after["F2"] == ("dismissed", "insp", False)
    assert after["F3"] == ("pending", None, False)  # not reviewed: the feed's
