"""Fault injection for crash tests: `WINDOWWATCH_FAULT_AT=<step>` kills the process (SIGKILL,
no clean-up, like a power cut) when landing reaches that named step.

Steps: after_quarantine_write, after_partition_write (after the first landing file is in
place), before_ledger, after_ledger.
"""

from __future__ import annotations

import os
import signal

STEPS = ("after_quarantine_write", "after_partition_write", "before_ledger", "after_ledger")


def checkpoint(step: str) -> None:
    if os.environ.get("WINDOWWATCH_FAULT_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)
