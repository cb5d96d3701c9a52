"""`windowwatch report verify [--month YYYY-MM]`: is every published version what was published?

For each `reports/YYYY-MM/vN/`: the manifest's sha256 equals the one anchored in the
hash-chained audit log when vN was published (so the manifest itself cannot be edited
unseen, and the log's own chain is checked on the way); every file the manifest lists is
there with its sha256; no file was added; data.json still hashes to the content hash. Each
problem names the file, the rule and what to do.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from core.paths import Home
from core.paths import home as default_home
from windowwatch.audit.hashing import file_sha256
from windowwatch.audit.log import AuditLog, LogError
from windowwatch.reports.data import content_hash
from windowwatch.reports.publication import ANCHOR_KIND, _anchors, versions_of

REPAIR = "restore it from a backup or publish the month again (a new version); never edit a published version"


@dataclass
class ReportVerification:
    by_version: dict[str, list[str]] = field(default_factory=dict)  # "YYYY-MM/vN" -> its problems
    log_problems: list[str] = field(default_factory=list)  # the audit log that anchors them is damaged

    @property
    def versions(self) -> list[str]:
        return list(self.by_version)

    @property
    def problems(self) -> list[str]:
        return [*self.log_problems, *(p for ps in self.by_version.values() for p in ps)]

    @property
    def ok(self) -> bool:
        return not self.problems


def _check_version(d: Path, anchor: dict | None) -> list[str]:
    man_path = d / "manifest.json"
    try:
        manifest = json.loads(man_path.read_text(encoding="utf-8"))
        files = dict(manifest["files"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"{man_path}: rule manifest_unreadable — {type(exc).__name__}: {exc}; {REPAIR}"]
    problems = []
    if anchor is None:
        problems.append(f"{man_path}: rule manifest_unanchored — the audit log holds no record of this version "
                        "(a publish killed before it recorded one): run `windowwatch report publish --month "
                        f"{d.parent.name}` to record it, then verify again")
    elif file_sha256(man_path) != anchor.get("manifest_sha256"):
        problems.append(f"{man_path}: rule manifest_changed — its sha256 differs from the one logged at publication "
                        f"(audit log entry seq={anchor.get('seq')}); {REPAIR}")
    for name, sha in sorted(files.items()):
        p = d / name
        if not p.is_file():
            problems.append(f"{p}: rule file_missing — listed in manifest.json; {REPAIR}")
        elif file_sha256(p) != sha:
            problems.append(f"{p}: rule file_changed — its sha256 differs from manifest.json; {REPAIR}")
    extra = sorted(p.name for p in d.iterdir() if p.name not in files and p.name != "manifest.json")
    for name in extra:
        problems.append(f"{d / name}: rule file_added — not part of the publication; move it out of {d}")
    data = d / "data.json"
    if data.is_file() and not any(str(data) in p for p in problems):
        try:
            if content_hash(json.loads(data.read_text(encoding="utf-8"))) != manifest.get("content_hash"):
                problems.append(f"{data}: rule content_changed — it no longer hashes to manifest content_hash; {REPAIR}")
        except ValueError as exc:
            problems.append(f"{data}: rule content_unreadable — {exc}; {REPAIR}")
    return problems


def _anchored_months(h: Home) -> set[str]:
    """Months the audit log holds a publication of (none when the log cannot be read: the
    per-month check then names the damage)."""
    try:
        return {e["month"] for e in AuditLog(h).entries() if e.get("kind") == ANCHOR_KIND}
    except LogError:
        return set()


def verify_reports(month: str | None = None, home: Home | str | Path | None = None) -> ReportVerification:
    h = home if isinstance(home, Home) else (Home(Path(home).resolve()) if home else default_home())
    out = ReportVerification()
    if not h.reports.is_dir() and not _anchored_months(h):
        return out
    months = [month] if month else sorted({p.name for p in (h.reports.iterdir() if h.reports.is_dir() else ()) if p.is_dir()}
                                           | _anchored_months(h))
    for m in months:
        try:
            anchors = _anchors(h, m)
        except LogError as exc:
            out.log_problems.append(f"{exc}\n(the audit log anchors the published reports: fix it first — `windowwatch audit verify`)")
            anchors = {}
        present = versions_of(h.reports / m) if (h.reports / m).is_dir() else []
        for v in present:
            out.by_version[f"{m}/v{v}"] = _check_version(h.reports / m / f"v{v}", anchors.get(v))
        for v in sorted(set(anchors) - set(present)):
            out.by_version[f"{m}/v{v}"] = [
                f"{h.reports / m / f'v{v}'}: rule version_missing — the audit log records its publication (entry "
                f"seq={anchors[v].get('seq')}, content hash {anchors[v].get('content_hash')}) but the version is gone; "
                "restore it from a backup: a published version is never removed"]
    return out


def main(args) -> int:
    rep = verify_reports(getattr(args, "month", None))
    if not rep.versions and not rep.problems:
        print("no published report" + (f" for {args.month}" if getattr(args, "month", None) else ""))
        return 0
    if rep.ok:
        print(f"OK: {len(rep.versions)} version(s) verified: {', '.join(rep.versions)}")
        return 0
    for p in rep.problems:
        print(p, file=sys.stderr)
    print(f"windowwatch report verify: FAILED ({len(rep.problems)} problem(s))", file=sys.stderr)
    return 1
