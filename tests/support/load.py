"""Load test machinery: the real dashboard server, a full rebuild beside it, and N browser sessions.

Used by tests/dashboards/test_load.py (issue 8, "Load"). One Debian chromium, one browser
context per session (asyncio Playwright): each session logs in with its own account and walks
every page its role may open, round after round, while the same WINDOWWATCH_HOME is rebuilt
from scratch and republished (CURRENT switches mid-load). A page's time runs from the click
that opens it until its main content is rendered and Streamlit's run is over (title shown, no
stale element left, no running-status widget, every chart drawn) — a condition, never a sleep.

`python -m tests.support.load rebuild --home H --feeds F --as-of D` is the rebuild without
Airflow: the daily DAG's tasks (windowwatch.pipeline.step_*) in order, after deleting the
work warehouse so dbt builds every model from scratch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.paths import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 # 20 tabs in one browser: none of them may be throttled as a background tab
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows", "--disable-dev-shm-usage"]
PASSWORD = "load-pass-123"
PAGE_TIMEOUT_MS = 120_000  # a page not rendered within this counts as an error, not as a time
# Signing in is a browser's first page: every context fetches and compiles Streamlit's lazy JS
# chunks (plotly alone is ~4.5 MB) — 20 cold contexts at once cost far more than a page, so
# the login is timed (and reported) on its own, with its own limit.
LOGIN_TIMEOUT_MS = 240_000

# page key -> (zh title the h1 contains, CSS selector of its main content, how many at least).
# The main content is what the page exists to show on the small generated centre: KPI tiles,
# the ranking table, the case timeline chart …
PAGES: dict[str, tuple[str, str, int]] = {
    "overview": ("总览", '[data-testid="stMetric"]', 8),
    "rankings": ("星级窗口排名", '[data-testid="stDataFrame"]', 1),
    "timeliness": ("超时监控", '[data-testid="stDataFrame"]', 1),
    "offbook": ("体外循环", '[data-testid="stDataFrame"]', 1),
    "satisfaction": ("满意度", '[data-testid="stMetric"]', 4),
    "video": ("视频巡查", '[data-testid="stMetric"]', 2),
    "audit": ("双随机抽查", '[data-testid="stMain"] [data-testid="stAlert"], [data-testid="stDataFrame"]', 1),
    "reports": ("月度报告", '[data-testid="stMain"] [data-testid="stAlert"], [data-testid="stDownloadButton"]', 1),
    "window": ("窗口明细", '[data-testid="stMetric"]', 13),
    "case": ("办件时间线", '[data-testid="stTextInput"]', 1),
    "case_timeline": ("办件时间线", '[data-testid="stPlotlyChart"]', 1),
    "hall": ("今日窗口满意度", '[data-testid="stMetric"]', 3),
}
# the order an inspector walks them; "case_timeline" is typing a case id on the case page,
# and the hall screen (no sidebar) is left through its own link back to the overview
INSPECTOR_WALK = ["rankings", "timeliness", "offbook", "satisfaction", "video", "audit", "reports",
                  "window", "case", "case_timeline", "hall", "overview"]
NAV_LABEL = {  # sidebar link texts (zh), from the catalogue
    "overview": "总览", "rankings": "星级窗口排名", "timeliness": "超时监控", "offbook": "体外循环",
    "satisfaction": "满意度", "video": "视频巡查", "audit": "双随机抽查", "reports": "月度报告",
}

READY_JS = """([title, sel, min]) => {
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main) return false;
  const h1 = main.querySelector('h1');  // textContent, not innerText: polling must not force layouts
  if (!h1 || !h1.textContent.includes(title)) return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  if (document.querySelectorAll(sel).length < min) return false;
  return [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(el => el.querySelector('.main-svg'));
}"""
# what the page shows when something went wrong (an exception, a lost connection)
ERROR_JS = """() => {
  const out = [];
  if (document.querySelector('[data-testid="stException"]')) out.push('stException element');
  if (document.querySelector('[data-testid="stConnectionStatus"]')) out.push('connection status: ' +
      document.querySelector('[data-testid="stConnectionStatus"]').innerText);
  const body = document.body.textContent;
  for (const bad of ['Traceback', 'Connection error', 'Is Streamlit still running', 'connection lost',
                     'Connection lost', 'KeyError', 'NoneType', 'Exception:']) {
    if (body.includes(bad)) out.push('text ' + JSON.stringify(bad));
  }
  return out;
}"""
SNAPSHOT_JS = """() => {
  const m = document.body.textContent.match(/数据快照：(\\S+?\\.duckdb)/);
  return m ? m[1] : null;
}"""


# ---------------------------------------------------------------- the server


# ---------------------------------------------------------------- the rebuild


def rebuild_argv(home: Path, feeds: Path, as_of: str, airflow: bool) -> list[str]:
    """`windowwatch run` through Airflow, or the same tasks in one process (cheaper on 2 cores)."""
    if airflow:
        return [sys.executable, "-m", "windowwatch.cli", "run", "--feeds", str(feeds), "--as-of", as_of]
    return [sys.executable, "-m", "tests.support.load", "rebuild", "--home", str(home), "--feeds", str(feeds),
            "--as-of", as_of]


def rebuild_in_process(home: Path, feeds: Path, as_of: str) -> str:
    """The daily DAG's tasks in order, from an empty work warehouse; returns the published name."""
    import datetime as dt

    from windowwatch import pipeline as p
    from core.paths import Home

    h = Home(home)
    for f in (h.warehouse, h.warehouse.with_name(h.warehouse.name + ".wal")):
        f.unlink(missing_ok=True)  # a full rebuild: dbt builds every model from nothing
    run_id = f"manual__{dt.datetime.now(dt.UTC).isoformat()}"
    for source in p.step_list_sources(h, run_id, {"feeds": str(feeds), "as_of": as_of, "invocation": "load-test"}):
        p.step_ingest(h, run_id, source, str(feeds))
    p.step_supervision_export(h, run_id)
    p.step_raw_gate(h, run_id)
    p.step_build(h, run_id, as_of)
    p.step_marts_gate(h, run_id)
    name = p.step_publish(h, run_id)
    p.step_summary(h, run_id)
    return name


# ---------------------------------------------------------------- the sessions


@dataclass
class Sample:
    session: str
    role: str
    page: str
    round: int
    seconds: float
    start: float  # seconds since the load began
    snapshot: str | None


@dataclass
class LoadState:
    """Shared by the sessions: when CURRENT switched, whether the rebuild is over."""

    t0: float = field(default_factory=time.monotonic)
    switched_at: float | None = None  # seconds since t0
    rebuild_done: bool = False
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rounds: dict[str, int] = field(default_factory=dict)
    rebuild_started_at: float | None = None
    rebuild_seconds: float | None = None
    closing: bool = False  # set when the sessions close their own pages (their websockets close too)
    shots: Path | None = None  # where screenshots of failures go
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # server / browser / rebuild

    def now(self) -> float:
        return time.monotonic() - self.t0


async def _ready(page, key: str, timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
    title, sel, n = PAGES[key]
    await page.wait_for_function(READY_JS, arg=[title, sel, n], polling=100, timeout=timeout_ms)


async def _check_clean(page, where: str, state: LoadState) -> None:
    problems = await page.evaluate(ERROR_JS)
    if problems:
        state.errors.append(f"{where}: {', '.join(problems)}")


async def _timed(page, state: LoadState, session: str, role: str, key: str, rnd: int, action,
                 label: str | None = None, timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
    """Run `action` (a click), wait until page `key` is rendered, record the time as `label`."""
    start = state.now()
    t = time.monotonic()
    label = label or key
    try:
        await action()
        await _ready(page, key, timeout_ms)
    except Exception as exc:  # a timeout or a vanished element: an error of this page, the walk goes on
        state.errors.append(f"{session} round {rnd} {label}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
        await _check_clean(page, f"{session} round {rnd} {label}", state)
        await _keep_evidence(page, f"{session}-{rnd}-{label}", state)
        return
    seconds = time.monotonic() - t
    await _check_clean(page, f"{session} round {rnd} {label}", state)
    state.samples.append(Sample(session, role, label, rnd, round(seconds, 3), round(start, 3),
                                await page.evaluate(SNAPSHOT_JS)))


async def _context(browser):
    ctx = await browser.new_context(viewport={"width": 1280, "height": 1600}, locale="zh-CN")
    ctx.set_default_timeout(PAGE_TIMEOUT_MS)  # a click waits for the page like the user would
    return ctx


async def _keep_evidence(page, name: str, state: LoadState, most: int = 6) -> None:
    """A screenshot of the first few failures, for the person reading the test's output."""
    if state.shots is None or len(list(state.shots.glob("error-*.png"))) >= most:
        return
    try:
        state.shots.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(state.shots / f"error-{name}.png"), full_page=True, timeout=20_000)
    except Exception:
        pass


async def _login(page, base: str, user: str, landing: str, state: LoadState, session: str, role: str, rnd: int):
    await page.goto(base, timeout=LOGIN_TIMEOUT_MS)
    await page.get_by_label("用户名").fill(user, timeout=LOGIN_TIMEOUT_MS)
    await page.get_by_label("密码").fill(PASSWORD)

    async def submit():
        await page.get_by_role("button", name="登录").click()

    # login → the landing page rendered
    await _timed(page, state, session, role, landing, rnd, submit, label="login", timeout_ms=LOGIN_TIMEOUT_MS)


async def _open(page, key: str, case_id: str):
    if key == "case_timeline":
        box = page.get_by_label("办件编号", exact=False)
        await box.fill(case_id)
        await box.press("Enter")
    elif key == "window":
        await page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="窗口明细").click()
    elif key == "case":
        await page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="办件时间线").click()
    elif key == "hall":
        await page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="大屏", exact=True).click()
    elif key == "overview" and await page.locator('[data-testid="stSidebar"]').is_hidden():
        await page.get_by_role("link", name="退出大屏").click()
    else:
        await page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=NAV_LABEL[key], exact=True).click()


def _finished(state: LoadState, round_started: float, rnd: int, min_rounds: int) -> bool:
    """Walk on until the rebuild is over and one whole round started after the switch."""
    return (rnd >= min_rounds and state.rebuild_done and state.switched_at is not None
            and round_started > state.switched_at)


# after the rebuild, a session that has not opened a page since the switch opens these two
# (cheaper than a whole round, the variant `make test` runs)
AFTER_SWITCH = ["rankings", "overview"]


async def inspector_session(browser, base: str, user: str, case_id: str, state: LoadState,
                            min_rounds: int, max_rounds: int, full_round_after_switch: bool) -> None:
    ctx = await _context(browser)
    page = await ctx.new_page()
    closing = _watch(page, user, state)
    try:
        await _login(page, base, user, "overview", state, user, "inspector", 0)
        rnd = 0
        while rnd < max_rounds:
            rnd += 1
            started = state.now()
            for key in INSPECTOR_WALK:
                await _timed(page, state, user, "inspector", key, rnd, lambda k=key: _open(page, k, case_id))
            state.rounds[user] = rnd
            if _finished(state, started, rnd, min_rounds):
                break
            if rnd >= min_rounds and not full_round_after_switch and state.rebuild_done:
                if state.switched_at is not None and started <= state.switched_at:
                    for key in AFTER_SWITCH:  # round rnd + 1, partial: the new snapshot's pages open
                        await _timed(page, state, user, "inspector", key, rnd + 1, lambda k=key: _open(page, k, case_id))
                break
    finally:
        closing()
        await ctx.close()


async def viewer_session(browser, base: str, user: str, state: LoadState, min_rounds: int, max_rounds: int) -> None:
    """A viewer sees only the published reports: each round signs in afresh and lands there."""
    rnd = 0
    while rnd < max_rounds:
        rnd += 1
        started = state.now()
        ctx = await _context(browser)
        page = await ctx.new_page()
        closing = _watch(page, user, state)
        try:
            await _login(page, base, user, "reports", state, user, "viewer", rnd)
            nav_links = await page.locator('[data-testid="stSidebarNav"] a').count()
            if nav_links > 1:
                state.errors.append(f"{user}: a viewer sees {nav_links} pages in the navigation")
        finally:
            closing()
            await ctx.close()
        state.rounds[user] = rnd
        if _finished(state, started, rnd, min_rounds):
            break
        await asyncio.sleep(2)  # a viewer reads the list before signing in again


def _watch(page, session: str, state: LoadState):
    """Record JS errors and a closed Streamlit websocket (the "connection lost" a user would
    see). Returns the function to call before the session closes the page itself."""
    own = {"closing": False}
    page.on("pageerror", lambda exc: state.errors.append(f"{session}: page error {exc}"))

    def on_close(_ws):
        if not (own["closing"] or state.closing):
            state.errors.append(f"{session}: the Streamlit websocket closed at {state.now():.1f}s")

    def on_ws(ws):
        if "_stcore/stream" in ws.url:
            ws.on("close", on_close)

    page.on("websocket", on_ws)
    return lambda: own.update(closing=True)


VIEWER_MAX_ROUNDS = 60  # a viewer's round is one sign-in: they go on until the rebuild is over


async def warm_up(browser, base: str, case_id: str, state: LoadState) -> None:
    """One unmeasured walk before the load (its samples and errors are dropped, the load is what counts)."""
    scratch = LoadState(t0=state.t0)
    ctx = await _context(browser)
    page = await ctx.new_page()
    try:
        await _login(page, base, "insp01", "overview", scratch, "warmup", "inspector", 0)
        for key in INSPECTOR_WALK:
            await _timed(page, scratch, "warmup", "inspector", key, 0, lambda k=key: _open(page, k, case_id))
    finally:
        await ctx.close()


async def watch_current(published: Path, state: LoadState, first: str) -> None:
    """Note when published/CURRENT starts naming another file."""
    pointer = published / "CURRENT"
    while state.switched_at is None:
        try:
            if pointer.read_text(encoding="utf-8").strip() != first:
                state.switched_at = state.now()
                return
        except FileNotFoundError:
            pass
        await asyncio.sleep(0.2)


def _cpu(p) -> float:
    t = p.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


def server_cpu(pid: int) -> float:
    import psutil

    return _cpu(psutil.Process(pid))


def browser_cpu() -> float:
    """CPU seconds of this process's chromium: live processes, plus the renderers it reaped."""
    import psutil

    total = 0.0
    for p in psutil.Process().children(recursive=True):
        try:
            if "chrom" in p.name():
                parent = p.parent()
                total += _cpu(p) if parent is None or "chrom" not in parent.name() else p.cpu_times().user + p.cpu_times().system
        except psutil.Error:
            pass
    return total


async def run_load(base: str, home: Path, rebuild: list[str], rebuild_env: dict, rebuild_log: Path, *,
                   inspectors: int, viewers: int, case_id: str, min_rounds: int, max_rounds: int,
                   server_pid: int | None = None, shots: Path | None = None,
                   full_round_after_switch: bool = True, warmup: bool = True, stagger_s: float = 1.0) -> tuple[LoadState, int]:
    """Start the rebuild, then the sessions; returns the state and the rebuild's exit code."""
    from playwright.async_api import async_playwright

    state = LoadState(shots=shots)
    first = (home / "published" / "CURRENT").read_text(encoding="utf-8").strip()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        if warmup:  # a server that has been up for a while: modules imported, caches filled
            await warm_up(browser, base, case_id, state)
        state.t0 = time.monotonic()
        server_cpu0 = server_cpu(server_pid) if server_pid else 0.0
        browser_cpu0 = browser_cpu()
        sessions = []
        for i in range(inspectors):
            sessions.append(asyncio.create_task(inspector_session(
                browser, base, f"insp{i + 1:02d}", case_id, state, min_rounds, max_rounds, full_round_after_switch)))
            await asyncio.sleep(stagger_s)  # people do not all press Enter in the same millisecond
        for i in range(viewers):
            sessions.append(asyncio.create_task(viewer_session(
                browser, base, f"view{i + 1:02d}", state, min_rounds, VIEWER_MAX_ROUNDS)))
        # the rebuild starts once everybody is signing in, so its publish lands mid-walk
        with open(rebuild_log, "w") as log:
            proc = await asyncio.create_subprocess_exec(*rebuild, cwd=str(REPO_ROOT), env=rebuild_env,
                                                        stdout=log, stderr=subprocess.STDOUT)
            state.rebuild_started_at = state.now()
            watcher = asyncio.create_task(watch_current(home / "published", state, first))

            async def rebuild_done() -> int:
                rc = await proc.wait()
                state.rebuild_done = True
                state.rebuild_seconds = round(state.now() - state.rebuild_started_at, 1)
                return rc

            rebuild_task = asyncio.create_task(rebuild_done())
            try:
                results = await asyncio.gather(*sessions, return_exceptions=True)
                for r in results:
                    if isinstance(r, BaseException):
                        state.errors.append(f"a session died: {type(r).__name__}: {str(r)[:300]}")
                rc = await rebuild_task
            finally:
                state.closing = True
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
                watcher.cancel()
        state.cpu_seconds["browser"] = round(browser_cpu() - browser_cpu0, 1)
        if server_pid:
            state.cpu_seconds["server"] = round(server_cpu(server_pid) - server_cpu0, 1)
        await browser.close()
    return state, rc


# ---------------------------------------------------------------- figures


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 100])."""
    s = sorted(values)
    if not s:
        return math.nan
    return s[max(0, math.ceil(q / 100 * len(s)) - 1)]


def summarize(state: LoadState, meta: dict) -> dict:
    def stats(xs: list[float]) -> dict:
        return {"n": len(xs), "p50": percentile(xs, 50), "p95": percentile(xs, 95), "max": max(xs) if xs else None}

    by_page: dict[str, list[float]] = {}
    for s in state.samples:
        by_page.setdefault(s.page, []).append(s.seconds)
    pages = [s for s in state.samples if s.page != "login"]  # the login is reported on its own
    after = [s.seconds for s in pages if state.switched_at is not None and s.start >= state.switched_at]
    return {
        **meta,
        "sessions": len(state.rounds),
        "rounds": state.rounds,
        "switched_at_s": None if state.switched_at is None else round(state.switched_at, 1),
        "rebuild_started_at_s": state.rebuild_started_at,
        "rebuild_seconds": state.rebuild_seconds,
        "load_seconds": round(state.now(), 1),
        "cpu_seconds": state.cpu_seconds,
        "errors": state.errors,
        "overall": stats([s.seconds for s in pages]),
        "after_switch": stats(after),
        "pages": {k: stats(v) for k, v in sorted(by_page.items())},
        "snapshots_seen": sorted({s.snapshot or "?" for s in state.samples}),
    }


def format_summary(summary: dict) -> str:
    lines = [f"{'page':<14} {'n':>4} {'p50 s':>7} {'p95 s':>7} {'max s':>7}"]
    rows = [*summary["pages"].items(), ("OVERALL pages", summary["overall"]), ("after switch", summary["after_switch"])]
    for k, v in rows:
        if v["n"]:
            lines.append(f"{k:<14} {v['n']:>4} {v['p50']:>7.2f} {v['p95']:>7.2f} {v['max']:>7.2f}")
    lines.append(f"sessions {summary['sessions']}, load {summary['load_seconds']} s, CURRENT switched at "
                 f"{summary['switched_at_s']} s, errors {len(summary['errors'])}, cpu s {summary['cpu_seconds']}")
    return "\n".join(lines)


def write_summary(summary: dict, samples: list[Sample], out_dir: Path, name: str = "summary.json") -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / name.replace(".json", "-samples.json")).write_text(
        json.dumps([asdict(s) for s in samples], ensure_ascii=False), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    rb = sub.add_parser("rebuild", help="the daily DAG's tasks in one process, from an empty warehouse")
    rb.add_argument("--home", required=True, type=Path)
    rb.add_argument("--feeds", required=True, type=Path)
    rb.add_argument("--as-of", required=True)
    args = ap.parse_args(argv)
    started = time.monotonic()
    name = rebuild_in_process(args.home, args.feeds, args.as_of)
    print(f"rebuild: published {name} in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
