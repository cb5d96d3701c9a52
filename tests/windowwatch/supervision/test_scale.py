"""`supervise sync` on a city snapshot (SPEC §9: ~2.5 M cases): set-based, so the first sync opens
hundreds of thousands of items in seconds and a re-run (the daily case) changes nothing quickly;
the queue lists and filters fast. Slow (`make test-slow`): builds the city snapshot (~15 s)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from core.paths import Home
from tests.support.dashboard_snapshot import build_city_snapshot
from windowwatch.supervision.cli import list_items
from windowwatch.supervision.store import open_store
from windowwatch.supervision.sync import sync


@pytest.mark.slow
def test_city_scale_sync_and_list(ww_home):
    h = Home(ww_home)
    h.published.mkdir(parents=True)
    build_city_snapshot(h.published / "warehouse-city.duckdb")
    (h.published / "CURRENT").write_text("warehouse-city.duckdb", encoding="utf-8")
    store = open_store(h, url=f"sqlite:///{ww_home / 'supervision.sqlite'}")
    try:
        t0 = time.monotonic()
        first = sync(store, now=dt.datetime(2026, 11, 2, 9, 0))
        first_s = time.monotonic() - t0
        t0 = time.monotonic()
        again = sync(store, now=dt.datetime(2026, 11, 3, 9, 0))
        again_s = time.monotonic() - t0
        t0 = time.monotonic()
        queue = list_items(store, "open", "D01")
        list_s = time.monotonic() - t0
    finally:
        store.dispose()
    print(f"city sync: {first.opened} items opened in {first_s:.1f} s, re-run {again_s:.1f} s, "
          f"list of {len(queue)} in {list_s:.2f} s")
    assert first.opened == first.triggers > 100_000 and again.opened == 0
    assert first_s < 120 and again_s < 10 and list_s < 1
