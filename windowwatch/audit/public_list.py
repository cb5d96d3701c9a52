"""一公开: the public list of a draw and its findings (CSV, XLSX, HTML), without PII.

It holds only what the log holds — case, window and department ids, inspector ids (and names
of these public officials), problem codes, scrubbed notes — plus window names from the
snapshot. Applicant data never reaches the audit log, so it cannot reach the export.

One function builds the list (`build_public_list`: every cell as the text it is published
with) and `render` writes that same table as CSV, XLSX or HTML, so the formats cannot disagree;
the dashboard's downloads and `audit export` both call them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from core.paths import Home
from windowwatch.audit.findings import findings_rows
from windowwatch.audit.log import AuditLog
from windowwatch.audit.pools import _has_table
from windowwatch.snapshot import NoSnapshot, current_snapshot
from windowwatch.spreadsheets import csv_bytes, xlsx_bytes

TEMPLATES = Path(__file__).resolve().parent / "templates"
RATING_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}

CASE_COLUMNS = [
    ("case_id", "办件编号 case"),
    ("stratum", "分层 stratum"),
    ("window_id", "窗口编号 window"),
    ("window_name", "窗口名称 window name"),
    ("department_id", "部门编码 department"),
    ("inspectors", "检查人员 inspectors"),
    ("problem_codes", "发现问题 findings"),
    ("note", "说明 note"),
    ("recorded_at", "记录时间 recorded"),
]
CALLBACK_COLUMNS = [
    ("evaluation_id", "评价编号 evaluation"),
    ("window_id", "窗口编号 window"),
    ("window_name", "窗口名称 window name"),
    ("rating", "满意度 rating"),
    ("reason", "抽取原因 reason"),
    ("callback_deadline", "回访期限 callback deadline"),  # SPEC §4.4 v2; empty for a random 基本满意 or a v1 draw
]


META_LABELS = {
    "draw_id": "抽取编号",
    "name": "计划名称",
    "drawn_at": "抽取时间",
    "plan_hash": "计划哈希",
    "entropy": "公开随机数",
    "seed": "随机种子",
    "snapshot": "数据快照",
    "entry_hash": "日志条目哈希",
    "chain_head": "审计日志链头",
}


PENDING, NO_PROBLEM, UNSTAFFED = "待检查", "无问题", "未配齐"
FORMATS = ("csv", "xlsx", "html")
CHAIN_HEAD_HEADER = "审计日志链头 chain_head"


class ExportError(ValueError):
    pass


def _local_time(stamp: str | None) -> str | None:
    """2026-10-21T09:30:00+08:00 (as the log records local time) → 2026-10-21 09:30:00."""
    return stamp[:19].replace("T", " ") if stamp else stamp


def inspector_label(inspector_id: str, names: dict[str, str]) -> str:
    """张明（I01）: the name from the inspector pool with the id beside (the id alone without a name)."""
    name = names.get(inspector_id)
    return f"{name}（{inspector_id}）" if name else inspector_id


def inspector_names(h: Home | None = None) -> dict[str, str]:
    """inspector_id -> name from the published snapshot's inspector pool (the `inspectors` feed)."""
    return _names(AuditLog(h).home)[1]


def _names(h: Home) -> tuple[dict[str, str], dict[str, str]]:
    """window_id -> window_name, inspector_id -> name; empty when no snapshot is published."""
    try:
        path = current_snapshot(h)
    except NoSnapshot:
        return {}, {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        windows = dict(con.execute("select window_id, window_name from marts.dim_window").fetchall())
        if _has_table(con, "marts", "dim_inspector"):
            insp = dict(con.execute("select inspector_id, inspector_name from marts.dim_inspector").fetchall())
        else:  # a snapshot from before dim_inspector: ids without names
            insp = {}
    finally:
        con.close()
    return windows, insp


def public_rows(draw_id: str, h: Home | None = None) -> tuple[dict[str, Any], list[dict[str, Any]], list[tuple[str, str]]]:
    """(draw metadata, rows, [(key, header)]) of the public list."""
    log = AuditLog(h)
    entries = log.entries()
    d = next((e for e in entries if e.get("kind") in ("draw", "callback") and e.get("draw_id") == draw_id), None)
    if d is None:
        raise ExportError(f"draw {draw_id} is not in {log.path}")
    windows, insp = _names(log.home)
    meta = {
        "draw_id": d["draw_id"],
        "name": d["plan"].get("name"),
        "drawn_at": d["at"],
        "plan_hash": d["plan_hash"],
        "entropy": d["entropy"],
        "seed": d["seed"],
        "snapshot": f"{d['snapshot']['file']} sha256={d['snapshot']['sha256']}",
        "entry_hash": d["entry_hash"],
        # the log's head at export: a log rewritten later contradicts the posted list
        # (`windowwatch audit verify --anchor`, windowwatch/audit/VERIFY.md)
        "chain_head": entries[-1]["entry_hash"],
    }
    if d["kind"] == "callback":
        rows = [
            {**s, "window_name": windows.get(s["window_id"]), "rating": RATING_LABELS.get(s["rating"], s["rating"]),
             "reason": "差评全部回访" if s["reason"] == "bad" else "基本满意随机抽取"}
            for s in d["result"]["sample"]
        ]
        return meta, rows, CALLBACK_COLUMNS
    case_info = {c["case_id"]: c for c in d["pools"]["cases"]}
    latest: dict[str, dict[str, Any]] = {}
    for f in findings_rows(entries, draw_id):
        latest[f["case_id"]] = f  # the latest finding of a case is the one published
    rows = []
    for s in d["result"]["sample"]:
        c = case_info.get(s["case_id"], {})
        f = latest.get(s["case_id"], {})
        rows.append(
            {
                "case_id": s["case_id"],
                "stratum": s["stratum"],
                "window_id": c.get("window_id"),
                "window_name": windows.get(c.get("window_id")),
                "department_id": c.get("department_id"),
                "inspectors": "、".join(inspector_label(i, insp) for i in s["inspectors"]) or UNSTAFFED,
                "problem_codes": (f.get("problem_codes") or NO_PROBLEM) if f else PENDING,
                "note": f.get("note"),
                "recorded_at": _local_time(f.get("recorded_at")),
                "_unstaffed": s["case_id"] in d["result"]["unstaffed"],
            }
        )
    return meta, rows, CASE_COLUMNS


def verification_bundle(draw_id: str, h: Home | None = None) -> dict[str, Any]:
    """The draw's log entry and its commit entry, verbatim: with them anyone can recompute the
    entry hashes, the seed and the whole draw (windowwatch/audit/VERIFY.md). No PII: the pools
    hold case, window, department and inspector ids only."""
    entries = AuditLog(h).entries()
    d = next((e for e in entries if e.get("kind") in ("draw", "callback") and e.get("draw_id") == draw_id), None)
    if d is None:
        raise ExportError(f"draw {draw_id} is not in the audit log")
    commit = next((e for e in entries if e.get("seq") == d.get("commit_seq")), None)
    return {"commit": commit, "draw": d}


@dataclass(frozen=True)
class PublicList:
    """A draw's public list as published: `rows` hold every cell as its text ("" when empty)."""

    draw_id: str
    kind: str
    meta: dict[str, Any]
    keys: list[str]
    headers: list[str]
    rows: list[list[str]]
    unstaffed: list[bool] = field(default_factory=list)  # per row


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def build_public_list(draw_id: str, h: Home | None = None) -> PublicList:
    """The one table every format renders (CSV, XLSX, HTML and the dashboard)."""
    meta, rows, cols = public_rows(draw_id, h)
    keys = [k for k, _ in cols]
    return PublicList(
        draw_id=draw_id,
        kind="callback" if cols is CALLBACK_COLUMNS else "draw",
        meta=meta,
        keys=keys,
        headers=[t for _, t in cols],
        rows=[[_text(r.get(k)) for k in keys] for r in rows],
        unstaffed=[bool(r.get("_unstaffed")) for r in rows],
    )


def render(pl: PublicList, fmt: str) -> bytes:
    """The list as CSV (the chain head as a last column: a CSV has no header block), XLSX (the
    draw's metadata on a second sheet) or HTML (the 公示页)."""
    if fmt == "csv":
        return csv_bytes([[*r, pl.meta["chain_head"]] for r in pl.rows], [*pl.headers, CHAIN_HEAD_HEADER])
    if fmt == "xlsx":
        return xlsx_bytes({"抽查名单": pl.rows, "draw": [[k, _text(v)] for k, v in pl.meta.items()]},
                          columns={"抽查名单": pl.headers, "draw": ["field", "value"]})
    if fmt == "html":
        env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
        return env.get_template("public_list.html").render(
            title=f"双随机抽查结果公示 {pl.meta['name']} ({pl.draw_id})",
            meta=pl.meta,
            meta_rows=[(f"{META_LABELS.get(k, k)} {k}", v) for k, v in pl.meta.items()],
            columns=pl.headers,
            rows=list(zip(pl.rows, pl.unstaffed)),
            unstaffed=[r[0] for r, u in zip(pl.rows, pl.unstaffed) if u],
        ).encode("utf-8")
    raise ExportError(f"format {fmt!r}: use csv, xlsx or html")


def export_draw(draw_id: str, fmt: str, out_dir: str | Path, h: Home | None = None) -> Path:
    if fmt not in (*FORMATS, "json"):
        raise ExportError(f"format {fmt!r}: use csv, xlsx, html or json (the verification bundle)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"audit-{draw_id}.{fmt}"
    if fmt == "json":
        data = json.dumps(verification_bundle(draw_id, h), ensure_ascii=False, indent=1).encode("utf-8")
    else:
        data = render(build_public_list(draw_id, h), fmt)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
