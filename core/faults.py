"""Fault injection for crash tests, shared by every stage (docs/architecture.md#failures-and-hostile-input).

`WINDOWWATCH_FAULT_AT=<step>` kills the process with SIGKILL (no clean-up, like a power cut)
when the code reaches `checkpoint("<step>")`. Unset (production), a checkpoint is one
environment lookup. The tests also kill real processes after a seeded random delay; named
steps make sure the narrow windows between two writes are hit every time.

Steps by stage:
- ingest (ingest/landing.py): after_quarantine_write, after_partition_write, before_ledger,
  after_ledger
- publish (windowwatch/snapshot_publish.py): publish.after_copy (snapshot in place, CURRENT not yet
  switched)
- report (windowwatch/reports/publication.py): report.before_rename (vN assembled in its temp
  folder), report.after_rename (vN in place, not yet anchored in the audit log)
- audit (windowwatch/audit/log.py, findings.py): audit.before_head (entry appended, HEAD not
  yet rewritten), audit.before_findings_parquet (finding logged, findings.parquet not yet
  rewritten)
- supervision (windowwatch/supervision/workflow.py, sync.py): supervision.before_commit (a transition
  updated, recorded and in the audit log, its store transaction not yet committed),
  supervision.sync_before_commit (a sync's items opened and escalated, not yet committed)

Disk-full points (`disk_full`): instead of a kill, the process gets the OSError (errno ENOSPC)
a full disk gives, at that write — deterministic, without a small file system (root only):
- publish.disk_full (windowwatch/snapshot_publish.py): the snapshot copy half written in
  `published/.warehouse-<run>.duckdb.tmp`
"""

from __future__ import annotations

import errno
import os
import signal

from core.settings import settings

ENV = "WINDOWWATCH_FAULT_AT"  # core/settings.py: fault_at

STEPS = (
    "after_quarantine_write",
    "after_partition_write",
    "before_ledger",
    "after_ledger",
    "publish.after_copy",
    "report.before_rename",
    "report.after_rename",
    "audit.before_head",
    "audit.before_findings_parquet",
    "supervision.before_commit",
    "supervision.sync_before_commit",
)
DISK_FULL_STEPS = ("publish.disk_full",)


def checkpoint(step: str) -> None:
    if settings().fault_at == step:
        os.kill(os.getpid(), signal.SIGKILL)


def disk_full(step: str, path: str | os.PathLike) -> None:
    """Raise the error a full disk gives while writing `path`, when the fault point is `step`."""
    if settings().fault_at == step:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
