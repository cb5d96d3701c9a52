"""一公开: the public list of a draw and its findings (CSV, XLSX, HTML), without PII.

It holds only what the log holds — case, window and department ids, inspector ids (and names
of these public officials), problem codes, scrubbed notes — plus window names from the
snapshot. Applicant data never reaches the audit log, so it cannot reach the export.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from core.paths import Home
from windowwatch.audit.findings import findings_rows
from windowwatch.audit.log import AuditLog
from windowwatch.audit.pools import _has_table
from windowwatch.snapshot import NoSnapshot, current_snapshot
from windowwatch.spreadsheets import write_csv, write_xlsx

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


class ExportError(ValueError):
    pass


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
                "inspectors": "、".join(f"{i} {insp.get(i) or ''}".strip() for i in s["inspectors"]) or "未配齐 unstaffed",
                "problem_codes": (f.get("problem_codes") or "无问题") if f else "待检查",
                "note": f.get("note"),
                "recorded_at": f.get("recorded_at"),
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


def export_draw(draw_id: str, fmt: str, out_dir: str | Path, h: Home | None = None) -> Path:
    if fmt not in ("csv", "xlsx", "html", "json"):
        raise ExportError(f"format {fmt!r}: use csv, xlsx, html or json (the verification bundle)")
    if fmt == "json":
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"audit-{draw_id}.json"
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(verification_bundle(draw_id, h), ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)
        return path
    meta, rows, cols = public_rows(draw_id, h)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"audit-{draw_id}.{fmt}"
    keys = [k for k, _ in cols]
    headers = [t for _, t in cols]
    table = [[r.get(k) for k in keys] for r in rows]
    if fmt == "csv":  # the head as a last column: a CSV has no place for a header block
        write_csv(path, [[*r, meta["chain_head"]] for r in table], [*headers, "审计日志链头 chain_head"])
    elif fmt == "xlsx":
        write_xlsx(path, {"抽查名单": table, "draw": [[k, v] for k, v in meta.items()]},
                   columns={"抽查名单": headers, "draw": ["field", "value"]})
    else:
        env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
        html = env.get_template("public_list.html").render(
            title=f"双随机抽查结果公示 {meta['name']} ({draw_id})",
            meta=meta,
            meta_rows=[(f"{META_LABELS.get(k, k)} {k}", v) for k, v in meta.items()],
            columns=headers,
            keys=keys,
            rows=rows,
            unstaffed=[r["case_id"] for r in rows if r.get("_unstaffed")],
        )
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(path)
    return path
