"""`windowwatch serve [--port N]`: the dashboards, `streamlit run dashboards/app.py` headless.

The process is replaced by Streamlit (exec), so signals sent to `windowwatch serve` reach the
server directly and stopping it leaves nothing behind.
"""

from __future__ import annotations

import os
import sys

from core.paths import REPO_ROOT, home
from core.settings import settings
from windowwatch.snapshot import NoSnapshot, current_snapshot

APP = REPO_ROOT / "dashboards" / "app.py"


def streamlit_argv(port: int, address: str | None = None) -> list[str]:
    """The Streamlit command line; it listens on `address`, else WINDOWWATCH_SERVE_ADDRESS
    (127.0.0.1: only this machine, a reverse proxy with TLS in front — docs/operations.md)."""
    address = address or settings().serve_address
    argv = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.runOnSave", "false",
        "--server.fileWatcherType", "none",  # no reloads in production, and no inotify load
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
        "--client.showErrorDetails", "false",  # tracebacks can carry data: keep them in the log
        # Streamlit's default full gc.collect(2) after every script run holds the GIL for
        # 0.4-0.6 s on our heap (~165k objects: pandas, plotly, duckdb; measured on the shared
        # 2-core box) and stalls every other session: under 20 sessions py-spy found ~8x more
        # time in it than in the pages' own code; turning it off halved the server's CPU
        # (tests/dashboards/test_load.py). Python's generational GC still runs as usual.
        "--runner.postScriptGC", "false",
        "--theme.font", "Noto Sans CJK SC, sans-serif",
    ]
    argv += ["--server.address", address]
    return argv


def main(args) -> int:
    h = home()
    try:
        print(f"windowwatch serve: snapshot {current_snapshot(h).name}", file=sys.stderr)
    except NoSnapshot as exc:
        print(f"windowwatch serve: {exc} (the dashboards start anyway and say so)", file=sys.stderr)
    if not h.accounts.exists():
        print("windowwatch serve: no accounts yet: create one with "
              "`windowwatch users add NAME --role inspector`", file=sys.stderr)
    address = getattr(args, "address", None) or settings().serve_address
    argv = streamlit_argv(args.port, address)
    print(f"windowwatch serve: http://{address}:{args.port}/  (WINDOWWATCH_HOME={h.root})", file=sys.stderr)
    sys.stderr.flush()
    os.chdir(REPO_ROOT)  # .streamlit/ (secrets for OIDC) is looked up in the working directory
    os.execv(argv[0], argv)
    return 0  # not reached
