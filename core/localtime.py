"""Local time: every date and time WindowWatch shows or computes is Asia/Shanghai (no DST since
1991), naive in storage. The one definition of the zone (docs/architecture.md)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def now_local() -> dt.datetime:
    """Now, local, naive, to the second (what landing and run records store)."""
    return dt.datetime.now(LOCAL_TZ).replace(tzinfo=None, microsecond=0)


def today_local() -> dt.date:
    return dt.datetime.now(LOCAL_TZ).date()
