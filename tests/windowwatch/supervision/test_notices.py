"""The PDFs of a supervision item (SPEC §4.11): the 督办通知书 of a notify and the 效能告诫书 draft of
an escalated item, rendered by WeasyPrint with the CJK font and read back with pdftotext."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import sqlalchemy as sa

from windowwatch.supervision import notices
from windowwatch.supervision.model import ACTIONS, KINDS, STATES, items
from windowwatch.supervision.sync import sync
from windowwatch.supervision.workflow import act, actor_for, get_item, history

NOW = dt.datetime(2026, 10, 21, 9, 0)
# what must never show through in a Chinese document: the store's codes
ENGLISH = {*STATES, *ACTIONS, *KINDS, "system", "acknowledged", "rectified", "false_alarm", "handled", "RED_CARD",
           "None", "nan"}


def _text(path) -> str:
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert out.strip(), f"{path}: no text (fonts not embedded?)"
    return out


def _english_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[A-Za-z_]+", text) if w in ENGLISH}


def _red_item(sup) -> dict:
    sync(sup.store, now=NOW, send=False)
    with sup.store.engine.connect() as conn:
        return dict(conn.execute(sa.select(items).where(items.c.kind == "red_card", items.c.department_id == "D01")
                                 .order_by(items.c.item_id)).mappings().first())


def test_notify_makes_a_chinese_notice_with_the_reply_by_date(sup):
    i = _red_item(sup)["item_id"]
    after = act(sup.store, i, "notify", actor_for("insp", sup.home), "请核查超期原因并限期整改", now=NOW)
    item = get_item(sup.store, i)
    names = notices.names_from_snapshot(sup.snapshot, item)
    assert names.department_name != "D01"  # the snapshot's name, not the id
    paths = notices.ensure(sup.home, item, history(sup.store, i), names)
    assert set(paths) == {"notice"}
    path = paths["notice"]
    assert path.is_relative_to(sup.home.root) and path.read_bytes()[:5] == b"%PDF-"
    text = _text(path)
    flat = re.sub(r"\s+", "", text)
    reply = after["reply_by"]
    assert "督办通知书" in flat and f"第{i}号" in flat
    assert f"{reply.year}年{reply.month}月{reply.day}日" in flat, text
    assert re.sub(r"\s+", "", names.department_name) in flat and names.issuer in flat
    assert "红牌" in flat and "请核查超期原因并限期整改" in flat
    assert item["subject_id"] in text
    assert not _english_words(text), _english_words(text)
    # idempotent: a second call keeps the file
    mtime = path.stat().st_mtime_ns
    assert notices.ensure(sup.home, item, history(sup.store, i), names)["notice"].stat().st_mtime_ns == mtime


def test_an_escalated_item_has_a_warning_draft_with_its_history(sup):
    i = _red_item(sup)["item_id"]
    insp = actor_for("insp", sup.home)
    act(sup.store, i, "notify", insp, "请限期回告", now=NOW)
    act(sup.store, i, "escalate", insp, "部门逾期未回告", now=NOW + dt.timedelta(days=3))
    item = get_item(sup.store, i)
    assert notices.notice_path(sup.home, item) is not None
    paths = notices.ensure(sup.home, item, history(sup.store, i), notices.names_from_snapshot(sup.snapshot, item),
                           rule_label="超承诺时限")
    assert set(paths) == {"notice", "warning"}
    text = _text(paths["warning"])
    flat = re.sub(r"\s+", "", text)
    assert "效能告诫书" in flat and "草稿" in flat and f"第{i}号" in flat
    assert "部门逾期未回告" in flat and "立项" in flat and "已升级" in flat  # the history, in Chinese
    reply = item["reply_by"]
    assert f"{reply.year}年{reply.month}月{reply.day}日" in flat
    assert not _english_words(text), _english_words(text)


def test_an_open_item_has_no_pdf(sup):
    item = _red_item(sup)
    assert notices.ensure(sup.home, item, history(sup.store, item["item_id"]),
                          notices.names_from_snapshot(sup.snapshot, item)) == {}


def test_the_notices_are_signed_by_the_configured_issuing_office(tmp_path, monkeypatch):
    """The 落款 of a notice is the office the monthly report is signed by (report.issuing_office of the
    sources file); without it, the centre's 管理办公室 (here no snapshot: the default)."""
    item = {"department_id": "D01", "window_id": "W01"}
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - name: hall_inbox\n    kind: files\n", encoding="utf-8")
    monkeypatch.setenv("WINDOWWATCH_SOURCES", str(sources))
    assert notices.names_from_snapshot(None, item).issuer == notices.DEFAULT_ISSUER
    sources.write_text("sources:\n  - name: hall_inbox\n    kind: files\n"
                       "report:\n  issuing_office: 某市政务服务中心管理办公室\n", encoding="utf-8")
    assert notices.names_from_snapshot(None, item).issuer == "某市政务服务中心管理办公室"
