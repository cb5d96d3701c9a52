"""`windowwatch report publish --month YYYY-MM` (docs/rules.md): versioned, immutable publications.

A version lives in `$WINDOWWATCH_HOME/reports/YYYY-MM/vN/`: data.json (the frozen content;
H(canonical JSON of it) is the content hash), scoring.yaml (the file the snapshot was computed with, verbatim; a different file in force is refused),
manifest.json (content hash, created_at/by, snapshot file and sha256, data watermark, file
hashes), changes.json/.md/.en.md against v(N−1), ranking.{html,pdf,xlsx} (the 通报, in Chinese) and
ranking.en.html (the same document in English). It is assembled in a
temporary directory and renamed into place under a lock, so a version is either complete or
absent, and an existing vN is never written again. Identical content creates nothing.

Each version's manifest sha256 is then anchored in the hash-chained audit log (kind
`report`), so `windowwatch.reports.verify_reports` (`windowwatch report verify`) detects an edited byte in any
file or in the manifest itself. A run killed between the rename and the anchor leaves vN
unanchored; the next publish of that month anchors it (and removes the temp folders a killed
run left).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from core import faults
from core.atomic import fsync_dir
from core.config import DEFAULT_SCORING, load_scoring
from core.paths import Home
from core.paths import home as default_home
from core.settings import settings
from windowwatch.audit.hashing import file_sha256
from windowwatch.audit.log import AuditLog, LogError, current_user, now_local
from windowwatch.reports.changes import diff, to_markdown
from windowwatch.reports.data import ReportError, content_hash, read_month, snapshot_scoring_file
from windowwatch.reports.render import ReportConfigError, context, render_html, write_pdf, write_ranking_xlsx
from windowwatch.snapshot import NoSnapshot, snapshot_scoring_hash

VERSION_DIR = re.compile(r"^v(\d+)$")


@dataclass
class PublishResult:
    month: str
    version: int
    path: Path
    created: bool  # False: identical content, nothing written ("unchanged: vN")
    content_hash: str
    changes: dict[str, Any] | None = None
    files: dict[str, Path] = field(default_factory=dict)


def _home(h: Home | str | Path | None) -> Home:
    if h is None:
        return default_home()
    return h if isinstance(h, Home) else Home(Path(h).resolve())


def versions_of(month_dir: Path) -> list[int]:
    if not month_dir.is_dir():
        return []
    return sorted(int(m.group(1)) for p in month_dir.iterdir() if p.is_dir() and (m := VERSION_DIR.match(p.name)))


@contextmanager
def _month_lock(month_dir: Path):
    month_dir.mkdir(parents=True, exist_ok=True)
    with open(month_dir / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


TMP_PREFIX = ".tmp-v"
ANCHOR_KIND = "report"


def _remove_stale_temps(month_dir: Path) -> None:
    """Temp folders are only written under the month lock: any present now were left by a killed run."""
    for p in month_dir.glob(f"{TMP_PREFIX}*"):
        shutil.rmtree(p, ignore_errors=True)


def _anchors(h: Home, month: str) -> dict[int, dict[str, Any]]:
    """version -> the audit-log entry that anchors it (the first one; there is never a second)."""
    out: dict[int, dict[str, Any]] = {}
    for e in AuditLog(h).entries():
        if e.get("kind") == ANCHOR_KIND and e.get("month") == month:
            out.setdefault(int(e["version"]), e)
    return out


def _anchor_missing(h: Home, month_dir: Path) -> None:
    """Record every version of the month that has no anchor yet (held under the month lock)."""
    month = month_dir.name
    log = AuditLog(h)
    with log.locked():
        done = _anchors(h, month)
        for v in versions_of(month_dir):
            if v in done:
                continue
            man = month_dir / f"v{v}" / "manifest.json"
            try:
                content_hash_ = json.loads(man.read_text(encoding="utf-8"))["content_hash"]
            except (OSError, ValueError, KeyError, TypeError):
                continue  # not a publication (made by hand): the publish below refuses it by name
            log.append_locked({"kind": ANCHOR_KIND, "month": month, "version": v,
                               "content_hash": content_hash_, "manifest_sha256": file_sha256(man)})


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def check_scoring(snapshot: Path) -> Path:
    """The scoring file to publish with: the one the snapshot was computed with (SPEC §4.8).

    Refuses (ReportError, naming both hashes) when the scoring file in force differs from the
    snapshot's: the rules printed with a ranking must be the ones it was computed with."""
    current_file = Path(settings().scoring or DEFAULT_SCORING)
    current_hash = load_scoring(current_file).content_hash()
    recorded = snapshot_scoring_hash(snapshot)
    kept = snapshot_scoring_file(snapshot)
    if recorded is None:  # a snapshot that records no hash: the file in force is all we have
        return kept or current_file
    if current_hash != recorded:
        raise ReportError(
            f"the scoring file in force {current_file} (sha256 {current_hash}) is not the one snapshot "
            f"{snapshot.name} was computed with (sha256 {recorded}): publishing refuses a different file. "
            f"Restore that file{f' (a copy is kept at {kept})' if kept else ''}, or run `windowwatch run` with "
            "the new one first and publish from its snapshot"
        )
    return kept or current_file


def publish_month(month: str, home: Home | str | Path | None = None) -> PublishResult:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ReportError(f"month {month!r}: expected YYYY-MM")
    h = _home(home)
    content, watermark, snapshot_path = read_month(month, h)
    scoring_file = check_scoring(snapshot_path)
    chash = content_hash(content)
    month_dir = h.reports / month
    with _month_lock(month_dir):
        _remove_stale_temps(month_dir)
        _anchor_missing(h, month_dir)
        existing = versions_of(month_dir)
        prev = None
        if existing:
            last = existing[-1]
            try:
                manifest = json.loads((month_dir / f"v{last}" / "manifest.json").read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ReportError(
                    f"{month_dir / f'v{last}'}: not a complete publication ({exc}); versions are only "
                    "created by rename, so this directory was made by hand — move it away and publish again"
                ) from None
            if manifest["content_hash"] == chash:
                return PublishResult(month, last, month_dir / f"v{last}", False, chash)
            prev = (last, json.loads((month_dir / f"v{last}" / "data.json").read_text(encoding="utf-8")))
        version = (existing[-1] + 1) if existing else 1
        changes = diff(prev[1], content, prev[0]) if prev else None
        manifest = {
            "month": month,
            "version": version,
            "content_hash": chash,
            "created_at": now_local(),
            "created_by": current_user(),
            "snapshot": {"file": snapshot_path.name, "sha256": file_sha256(snapshot_path)},
            "watermark": watermark,
            "scoring_hash": load_scoring(scoring_file).content_hash(),  # the snapshot's (check_scoring)
            "previous": {"version": prev[0], "content_hash": json.loads(
                (month_dir / f"v{prev[0]}" / "manifest.json").read_text(encoding="utf-8"))["content_hash"]} if prev else None,
            "windows": len(content["windows"]),
            # the log's chain head now, printed in the report: a log rewritten later contradicts
            # every posted copy (`audit verify --anchor`, docs/operations.md)
            "audit_chain_head": AuditLog(h).chain_head(),
        }
        tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{version}-", dir=month_dir))
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700; a published report is readable
        try:
            _write_json(tmp / "data.json", content)
            shutil.copyfile(scoring_file, tmp / "scoring.yaml")
            if changes is not None:
                _write_json(tmp / "changes.json", changes)
                (tmp / "changes.md").write_text(to_markdown(month, version, changes), encoding="utf-8")
                # its English rendering, for 月度报告 switched to English
                (tmp / "changes.en.md").write_text(to_markdown(month, version, changes, lang="en"), encoding="utf-8")
            try:
                html = render_html(context(content, manifest, changes))
                html_en = render_html(context(content, manifest, changes, lang="en"))
            except ReportConfigError as exc:  # the 落款's section of the sources file
                raise ReportError(str(exc)) from None
            (tmp / "ranking.html").write_text(html, encoding="utf-8")
            (tmp / "ranking.en.html").write_text(html_en, encoding="utf-8")
            write_pdf(html, tmp / "ranking.pdf")
            write_ranking_xlsx(content, tmp / "ranking.xlsx", manifest)
            manifest["files"] = {p.name: file_sha256(p) for p in sorted(tmp.iterdir()) if p.is_file()}
            _write_json(tmp / "manifest.json", manifest)
            for p in tmp.iterdir():
                with open(p, "rb") as fh:
                    os.fsync(fh.fileno())
            fsync_dir(tmp)
            final = month_dir / f"v{version}"
            faults.checkpoint("report.before_rename")
            os.rename(tmp, final)  # fails rather than overwrite: a published version is immutable
            fsync_dir(month_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        faults.checkpoint("report.after_rename")
        _anchor_missing(h, month_dir)
    files = {n: final / n for n in ("ranking.pdf", "ranking.xlsx", "ranking.html", "ranking.en.html")}
    return PublishResult(month, version, final, True, chash, changes, files)


def list_versions(month: str | None = None, home: Home | str | Path | None = None) -> list[dict[str, Any]]:
    """Every published version (newest month first, then newest version first), for 月度报告:
    month, version, path, content_hash, created_at, watermark, snapshot, files {name: {path, sha256}}."""
    h = _home(home)
    if not h.reports.is_dir():
        return []
    months = [month] if month else sorted((p.name for p in h.reports.iterdir() if p.is_dir()), reverse=True)
    out = []
    for m in months:
        for v in sorted(versions_of(h.reports / m), reverse=True):
            d = h.reports / m / f"v{v}"
            man = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
            out.append(
                {
                    "month": m,
                    "version": v,
                    "path": d,
                    "content_hash": man["content_hash"],
                    "created_at": man["created_at"],
                    "created_by": man.get("created_by"),
                    "watermark": man["watermark"],
                    "snapshot": man["snapshot"],
                    "has_changes": (d / "changes.md").exists(),
                    "files": {n: {"path": d / n, "sha256": s} for n, s in man["files"].items()},
                }
            )
    return out


def main(args) -> int:
    try:
        r = publish_month(args.month)
    except (ReportError, NoSnapshot) as exc:
        print(f"windowwatch report publish: {exc}", file=sys.stderr)
        return 2
    except LogError as exc:  # the audit log that anchors each version is damaged
        print(f"windowwatch report publish: {exc}\nrun `windowwatch audit verify` and repair the log first", file=sys.stderr)
        return 1
    except duckdb.Error as exc:
        print(f"windowwatch report publish: reading the published snapshot failed: {type(exc).__name__}: {exc} — "
              "is the pipeline's last run complete (`windowwatch run`)?", file=sys.stderr)
        return 1
    if not r.created:
        print(f"unchanged: v{r.version}")
        return 0
    print(f"published {r.month} v{r.version}: {r.path}")
    print(f"content hash {r.content_hash}")
    if r.changes is not None:
        print((r.path / "changes.md").read_text(encoding="utf-8"))
    return 0
