"""Lock-out under concurrency (docs/rules.md, "Sign-in and lock-out"): failures that arrive at
once are each counted, and the right password after the limit is refused."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

from core.paths import Home
from core.settings import settings
from windowwatch import accounts

RIGHT = "the-right-pass"


def _wrong_in_child(home: str, n: int, barrier) -> None:
    barrier.wait()
    for i in range(n):
        assert accounts.verify("li", f"wrong-{i}", Home(Path(home))) is None


def test_twenty_concurrent_wrong_sign_ins_count_as_twenty(ww_home):
    h = Home(ww_home)
    accounts.add_user("li", "inspector", RIGHT, h)
    # 2 processes x (5 threads x 2 attempts): every verify races the others on the failures file
    ctx = multiprocessing.get_context("fork")
    proc_barrier = ctx.Barrier(3)
    procs = [ctx.Process(target=_wrong_in_child, args=(str(ww_home), 5, proc_barrier)) for _ in range(2)]
    for p in procs:
        p.start()
    thread_barrier = threading.Barrier(5)

    def wrong() -> None:
        thread_barrier.wait()
        for i in range(2):
            assert accounts.verify("li", f"bad-{i}", h) is None

    threads = [threading.Thread(target=wrong) for _ in range(5)]
    proc_barrier.wait()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    assert accounts.failures("li", h) == 20
    assert settings().login_max_failures < 20 and accounts.locked_until("li", h) is not None
    assert accounts.verify("li", RIGHT, h) is None, "the right password after the limit must be refused"
    assert accounts.failures("li", h) == 20, "a refused right password neither counts nor clears"
