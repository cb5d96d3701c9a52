"""`windowwatch serve` for browser tests: a real server on a free port, stopped with its group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from core.paths import REPO_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dashboard_server(home: Path, log_path: Path, timeout: float = 120, extra_args: tuple[str, ...] = ()):
    """`windowwatch serve --port N` on a free port; yields (base url, pid); stops it (its group) after."""
    import httpx

    port = free_port()
    env = {**os.environ, "WINDOWWATCH_HOME": str(home), "WINDOWWATCH_PII_KEY": "test-key-not-secret"}
    log = open(log_path, "w+")
    proc = subprocess.Popen([sys.executable, "-m", "windowwatch.cli", "serve", "--port", str(port), *extra_args],
                            cwd=REPO_ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"windowwatch serve exited with {proc.returncode}:\n{log.read()[-3000:]}")
            try:
                if httpx.get(f"{base}/_stcore/health", timeout=2).text.strip() == "ok":
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the dashboards did not answer /_stcore/health within {timeout:.0f} s")
            time.sleep(0.5)
        yield base, proc.pid
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        log.close()


@contextmanager
def published_fixture_server(tmp_path_factory, name: str, users: dict[str, tuple[str, str]], timeout: float = 90):
    """A home with the published fixture snapshot (tests/support/dashboard_snapshot.py) and the given
    accounts ({name: (role, password)}), served by `windowwatch serve`; yields (base url, snapshot).
    WINDOWWATCH_HOME points at the home while it runs and is restored after."""
    from tests.support.dashboard_snapshot import add_test_user, publish_fixture

    home = tmp_path_factory.mktemp(name) / "home"
    home.mkdir()
    old = os.environ.get("WINDOWWATCH_HOME")
    os.environ["WINDOWWATCH_HOME"] = str(home)
    try:
        snap = publish_fixture(home)
        for user, (role, password) in users.items():
            add_test_user(user, role, password)
        log_path = tmp_path_factory.mktemp(f"{name}-log") / "serve.log"
        with dashboard_server(home, log_path, timeout=timeout) as (base, _pid):
            yield base, snap
    finally:
        if old is None:
            os.environ.pop("WINDOWWATCH_HOME", None)
        else:
            os.environ["WINDOWWATCH_HOME"] = old
