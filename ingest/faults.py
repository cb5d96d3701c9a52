"""Fault injection for ingest's crash tests: the shared mechanism lives in windowwatch/faults.py.

Kept so `from ingest import faults` (ingest/landing.py) and older tests keep working.
Ingest steps: after_quarantine_write, after_partition_write (after the first landing file is
in place), before_ledger, after_ledger.
"""

from __future__ import annotations

from windowwatch.faults import ENV, checkpoint  # noqa: F401

STEPS = ("after_quarantine_write", "after_partition_write", "before_ledger", "after_ledger")
