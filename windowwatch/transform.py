"""Run the dbt project (landing -> staging -> intermediate -> marts) in-process.

`build()` is the one entry point the CLI, the Airflow DAG and the tests use. It passes the
scoring file as dbt vars and the as-of date as the environment variable WINDOWWATCH_AS_OF (read
by macros/as_of.sql when SQL is compiled, so a daily run keeps dbt's partial parsing), keeps a
copy of the scoring file it used next to the warehouse (`state/scoring-used.yaml` + its hash in
`marts.run_config`), and makes sure every feed has its `_empty.parquet` in landing (and
quarantine one file) so the source globs never fail on a fresh home.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.localtime import today_local
from core.paths import FINDINGS_PARQUET, REPO_ROOT, SUPERVISION_EXPORT_DIR, SUPERVISION_EXPORT_TABLES, Home
from core.settings import settings
from windowwatch import unchanged_nodes

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def ensure_empty_files(home: Home) -> None:
    """The empty schema files dbt's source globs rely on (landing and quarantine, written by
    ingest's own code so the schema has one definition), and audit/findings.parquet.

    ingest's writer is imported only when a file is missing (a fresh home): a daily build finds
    them all and skips the import (performance, docs/scaling.md)."""
    from core.feeds import FEEDS, landing_contract_fingerprint

    marker = home.landing / "_empty.contract"  # ingest.landing_files.EMPTY_CONTRACT
    try:
        current = marker.read_text(encoding="utf-8").strip() == landing_contract_fingerprint()
    except FileNotFoundError:
        current = False
    if not current or not all((root / feed / "_empty.parquet").exists()
                              for feed in FEEDS for root in (home.landing, home.quarantine)):
        from ingest.landing_files import ensure_empty_files as ensure_landing_empty_files

        ensure_landing_empty_files(home)
    ensure_findings_file(home)
    ensure_supervision_export(home)


def ensure_supervision_export(home: Home) -> None:
    """landing/_supervision/{items,transitions,video_reviews}.parquet, the source of the 督办 marts,
    empty with the full schema when no run has exported the store yet (windowwatch/supervision/export.py).
    The export module (SQLAlchemy and the store's tables: 0.26 s) is imported only when one is missing."""
    folder = home.landing / SUPERVISION_EXPORT_DIR
    if all((folder / f"{name}.parquet").exists() for name in SUPERVISION_EXPORT_TABLES):
        return
    from windowwatch.supervision.export import ensure_export_files

    ensure_export_files(home)


def ensure_findings_file(home: Home) -> None:
    """audit/findings.parquet, the source of fct_audit_finding, when it is missing.

    windowwatch/audit/findings.py rewrites it from the hash-chained audit log on every finding;
    when it is missing (fresh home, or deleted) it is rebuilt the same way from the log — empty,
    with the full schema, when the log holds no finding. A tampered log raises LogError (it
    names the line) rather than publishing findings that cannot be trusted.
    """
    if (home.audit / FINDINGS_PARQUET).exists():
        return
    from windowwatch.audit.findings import write_findings_parquet
    from windowwatch.audit.log import AuditLog

    log = AuditLog(home)
    log.dir.mkdir(parents=True, exist_ok=True)
    with log.locked():
        if not (home.audit / FINDINGS_PARQUET).exists():
            write_findings_parquet(log.entries(), log)


# ------------------------------------------------------------------ build


@dataclass
class NodeStatus:
    unique_id: str
    name: str
    resource_type: str  # model, test, seed, unit_test
    status: str  # success, pass, warn, error, fail, skipped
    message: str | None = None
    failures: int | None = None  # failing rows of a test
    seconds: float = 0.0


@dataclass
class BuildResult:
    success: bool
    nodes: list[NodeStatus] = field(default_factory=list)
    elapsed: float = 0.0
    as_of: str | None = None
    warehouse: Path | None = None
    scoring_hash: str | None = None
    error: str | None = None  # a failure outside any node (parse error, bad project)
    assumed_calendar_cases: int | None = None  # cases whose arithmetic used an assumed day
    full_refresh_reason: str | None = None  # why the build rebuilt everything though not asked to

    @property
    def failures(self) -> list[NodeStatus]:
        return [n for n in self.nodes if n.status in ("error", "fail", "runtime error")]

    @property
    def warnings(self) -> list[NodeStatus]:
        return [n for n in self.nodes if n.status == "warn"]

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for n in self.nodes:
            counts[n.status] = counts.get(n.status, 0) + 1
        parts = ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        head = "dbt build ok" if self.success else "dbt build FAILED"
        lines = [f"{head} as of {self.as_of} in {self.elapsed:.1f}s ({parts})"]
        if self.error:
            lines.append(f"  error: {self.error}")
        if self.full_refresh_reason:
            lines.append(f"  full refresh: {self.full_refresh_reason}")
        for n in self.failures:
            lines.append(f"  {n.status}: {n.unique_id}: {(n.message or '').strip()}")
        if self.assumed_calendar_cases:
            lines.append(
                f"  WARNING: {self.assumed_calendar_cases} case(s) used days outside the official calendar "
                "(Mon–Fri assumed): deliver the `calendar` feed for those years"
            )
        return "\n".join(lines)


def _store_scoring(home: Home, scoring_path: Path | None):
    from core.config import DEFAULT_SCORING, load_scoring

    path = Path(scoring_path or settings().scoring or DEFAULT_SCORING)
    scoring = load_scoring(path)
    home.state.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, home.state / "scoring-used.yaml")
    (home.state / "scoring-used.json").write_text(
        json.dumps({"path": str(path), "sha256": scoring.content_hash(), "scoring": json.loads(scoring.canonical_json())},
                   ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
    return scoring


def _release_duckdb() -> None:
    """Close the DuckDB instance dbt-duckdb keeps open in this process after a run.

    dbt-duckdb caches one environment per process (DuckDBConnectionManager._ENV, private); while
    it lives, the warehouse file stays locked for writing and a read-only connect in this
    process fails ("different configuration"). Closing it also checkpoints the WAL.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter
        return
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
    if env is not None:
        env.close()


def _release_dbt_locks() -> None:
    """Free the locks dbt's adapters hold now, not at interpreter exit.

    dbt makes them from a "spawn" multiprocessing context: each is a named POSIX semaphore that
    multiprocessing unlinks from an atexit finalizer. An Airflow task process ends with
    `os._exit`, which skips it, so the resource tracker warned "There appear to be N leaked
    semaphore objects" on every build, and Airflow logged that at error level. Dropping the
    adapters and collecting them runs each lock's finalizer (unlink) here. The next build
    registers new adapters (dbt resets them at every invocation anyway)."""
    import gc

    try:
        from dbt.adapters.factory import reset_adapters
    except ImportError:
        return
    reset_adapters()
    gc.collect()


def _count_assumed(warehouse: Path) -> int | None:
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None
    try:
        return con.sql("select count(*) from marts.fct_case where uses_assumed_calendar").fetchall()[0][0]
    except duckdb.Error:
        return None
    finally:
        con.close()


def build(
    home: Home | str | Path | None = None,
    as_of: dt.date | str | None = None,
    full_refresh: bool = False,
    select: str | list[str] | None = None,
    target: str = "duckdb",
    warehouse: str | Path | None = None,
    scoring_path: str | Path | None = None,
    exclude: str | list[str] | None = None,
    unit_tests: bool = False,
) -> BuildResult:
    """Run `dbt build` on the project as of `as_of` (default: today in Asia/Shanghai) for `home`
    (default: WINDOWWATCH_HOME).

    The dbt unit tests (`unit_tests:` in the model YAML: fixed given/expect rows for the calendar,
    time-limit, off-book and scoring rules) run only with `unit_tests=True`. They check the SQL,
    not the data, so a daily build that has not changed the SQL learns nothing from them, while
    each one costs a round of temporary tables. CI runs every one of them
    (tests/dbt/test_dbt_unit_tests.py builds the project with unit_tests=True, and the test_dbt_*
    rule tests do too).

    Never raises for a failing model or test: the result says what failed (per node, with
    dbt's message); a bad scoring file raises ConfigError (it names the file and key).
    """
    from dbt.cli.main import dbtRunner

    if home is None:
        h = Home.from_env()
    elif isinstance(home, Home):
        h = home
    else:
        h = Home(Path(home).resolve())
    h.ensure()
    ensure_empty_files(h)
    today = today_local()
    as_of_text = (as_of if isinstance(as_of, str) else (as_of or today).isoformat())[:10]
    dt.date.fromisoformat(as_of_text)  # fail early on a bad date
    scoring = _store_scoring(h, Path(scoring_path) if scoring_path else None)
    # Not the as-of date: a change of --vars makes dbt re-parse the whole project, and the date
    # changes every day. It goes in WINDOWWATCH_AS_OF below (macros/as_of.sql).
    dbt_vars = {**scoring.dbt_vars(), "scoring_hash": scoring.content_hash()}
    # an explicit warehouse, else WINDOWWATCH_WAREHOUSE (what profiles.yml and the pipeline read), else the home's
    wh = Path(warehouse or settings().warehouse or h.warehouse).resolve()
    code = model_code_fingerprint()
    code_marker = _code_marker(wh)
    existed = wh.exists()
    refresh_reason = None
    if target == "duckdb" and existed and not full_refresh and _read_marker(code_marker) != code:
        # The incremental models keep rows computed by the code of an earlier build; rows that code
        # computed differently (or a new column, which dbt refuses: on_schema_change='fail') would
        # stay. A warehouse built by other model code is rebuilt once, in full.
        full_refresh = True
        refresh_reason = ("the dbt models changed since this warehouse was built "
                          f"({code_marker.name} {_read_marker(code_marker) or 'missing'} → {code[:12]})")

    args = [
        "build",
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target", target,
        "--target-path", str(h.root / "dbt" / "target"),
        "--log-path", str(h.root / "dbt" / "logs"),
        "--vars", json.dumps(dbt_vars),
        "--quiet",
        # dbt's file log at its default (debug) holds every statement of every node, ~14,000 lines
        # a city build, and writing them cost ~1 CPU-s of an incremental day (performance, docs/scaling.md). The SQL run
        # stays in target/run and target/compiled; WINDOWWATCH_DBT_LOG_LEVEL=debug brings it back.
        "--log-level-file", settings().dbt_log_level,
    ]
    if full_refresh:
        args.append("--full-refresh")
    # Nodes whose inputs did not change since they were built are kept as they are
    # (windowwatch/unchanged_nodes.py), on a build of the whole project (an `exclude`, e.g. of the
    # data tests, only leaves more out). Not with `select` (a partial build says what to run) nor
    # with the dbt unit tests (they run with their model).
    reuse = None
    project = None
    if target == "duckdb" and not select and not unit_tests:
        project = unchanged_nodes.project_fingerprint(DBT_PROJECT_DIR, _reuse_extra(dbt_vars, target))
        if existed and not full_refresh:
            relations, token = _warehouse_facts(wh)
            reuse = unchanged_nodes.plan(h.root / "dbt" / "target" / "manifest.json", wh, project, as_of_text, str(h.root),
                                         token)
            if reuse is not None and not {reuse.names[uid] for uid in reuse.reused if not uid.startswith("test.")} <= relations:
                reuse = None  # a kept table is missing (dropped by hand?): build everything
    excluded = [exclude] if isinstance(exclude, str) else list(exclude or [])
    if not unit_tests:
        excluded.append("resource_type:unit_test")
    if reuse is not None and reuse.reused:
        selection = reuse.dbt_selection()
        if selection[0] == "--exclude":
            excluded += selection[1:]
        else:
            select = selection[1:]
        nothing_to_run = not reuse.run
    else:
        nothing_to_run = False
    for flag, value in (("--select", select), ("--exclude", excluded)):
        if value:
            args += [flag, *([value] if isinstance(value, str) else value)]

    env = {"WINDOWWATCH_HOME": str(h.root), "WINDOWWATCH_WAREHOUSE": str(wh), "WINDOWWATCH_AS_OF": as_of_text}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    (h.root / "duckdb_tmp").mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    built_at = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    if target == "duckdb":
        # forget first what is about to be rebuilt: a build killed half-way leaves it to be rebuilt
        unchanged_nodes.forget(wh, [] if reuse is None else reuse.names.keys() - reuse.reused.keys(),
                               everything=reuse is None)
    try:
        res = None if nothing_to_run else dbtRunner().invoke(args)
    finally:
        _release_duckdb()
        _release_dbt_locks()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    elapsed = time.monotonic() - started

    nodes: list[NodeStatus] = []
    failed_tests: dict[str, str] = {}  # unique_id -> compiled SQL of a failing or warning data test
    for r in getattr(getattr(res, "result", None), "results", None) or []:
        node = r.node
        if str(getattr(r.status, "value", r.status)) in ("fail", "warn") and getattr(node, "compiled_code", None):
            failed_tests[node.unique_id] = node.compiled_code
        nodes.append(NodeStatus(
            unique_id=node.unique_id,
            name=node.name,
            resource_type=str(getattr(node.resource_type, "value", node.resource_type)),
            status=str(getattr(r.status, "value", r.status)),
            message=r.message,
            failures=r.failures,
            seconds=float(r.execution_time or 0.0),
        ))
    error = None
    if res is not None and res.exception is not None:
        error = f"{type(res.exception).__name__}: {res.exception}"
    if target == "duckdb":
        _record_reuse(h, wh, reuse, project, nodes, as_of_text, built_at,
                      whole=project is not None and error is None)
    for uid, entry in sorted((reuse.reused if reuse else {}).items()):
        nodes.append(NodeStatus(unique_id=uid, name=reuse.names[uid],
                                resource_type=uid.split(".")[0], status="reused",
                                message=f"inputs unchanged since the build of {entry.get('built_at')} (as of {entry.get('as_of')})"))
    result = BuildResult(
        success=(res is None or bool(res.success)) and error is None,
        nodes=nodes,
        elapsed=elapsed,
        as_of=as_of_text,
        warehouse=wh,
        scoring_hash=scoring.content_hash(),
        error=error,
        full_refresh_reason=refresh_reason,
    )
    # the warehouse's rows are this code's: after a fresh build, or a full refresh of everything
    if result.success and target == "duckdb" and (not existed or (full_refresh and not select)):
        from core.atomic import write_text

        write_text(code_marker, code + "\n")
    if wh.exists():
        result.assumed_calendar_cases = _count_assumed(wh)
        if failed_tests and target == "duckdb":
            _explain_failed_tests(wh, nodes, failed_tests)
    return result


def _reuse_extra(dbt_vars: dict, target: str) -> str:
    """What beside the project's files makes a node compute other rows: the vars, the target and
    the versions of dbt and DuckDB."""
    import duckdb
    from dbt.version import __version__ as dbt_version

    return json.dumps({"vars": dbt_vars, "target": target, "dbt": str(dbt_version), "duckdb": duckdb.__version__}, sort_keys=True)


def _warehouse_facts(warehouse: Path) -> tuple[set[str], str | None]:
    """The warehouse's table and view names and the token of the last recording
    (windowwatch/unchanged_nodes.py), read-only; nothing when another connection of this process
    holds it open for writing."""
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return set(), None
    try:
        names = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        try:
            token = con.execute(f"select max(token) from {unchanged_nodes.TOKEN_TABLE}").fetchall()[0][0]
        except duckdb.CatalogException:
            token = None
    finally:
        con.close()
    return names, token


def _write_token(warehouse: Path) -> str:
    """A new random token into the warehouse (unchanged_nodes.TOKEN_TABLE), for the state to name."""
    import uuid

    import duckdb

    # letters only (a–p for the hex digits): a run of digits could look like an ID number to a PII scan
    token = "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(f"create or replace table {unchanged_nodes.TOKEN_TABLE} as select ? as token", [token])
    finally:
        con.close()
    return token


def _record_reuse(h: Home, wh: Path, reuse, project: str | None, nodes: list[NodeStatus], as_of: str, built_at: str,
                  whole: bool) -> None:
    """Record what this build completed (windowwatch/unchanged_nodes.py). With a plan, the
    signatures computed before the build; after a whole build without one (the first, a full
    refresh), those of its own manifest now; after a partial build, nothing it ran stays recorded."""
    results = [(n.unique_id, n.status) for n in nodes]
    if not wh.is_file():
        return
    # the token first: killed before the state names it, the next build trusts nothing
    token = _write_token(wh)
    if reuse is not None:
        unchanged_nodes.record(wh, reuse.signatures, results, as_of, built_at, str(h.root), token)
    elif whole and project is not None and (h.root / "dbt" / "target" / "manifest.json").is_file():
        manifest = h.root / "dbt" / "target" / "manifest.json"
        graph = unchanged_nodes.Graph.from_manifest(json.loads(manifest.read_text(encoding="utf-8")))
        unchanged_nodes.record(wh, graph.signatures(project, as_of), results, as_of, built_at, str(h.root), token, replace=True)
    else:
        unchanged_nodes.record(wh, {}, results, as_of, built_at, str(h.root), token)


def model_code_fingerprint() -> str:
    """A hash of every SQL file of the dbt project's models and macros (the code an incremental
    model's kept rows were computed with). ~100 small files: a few milliseconds."""
    import hashlib

    digest = hashlib.sha256()
    for folder in ("models", "macros"):
        for path in sorted((DBT_PROJECT_DIR / folder).rglob("*.sql")):
            digest.update(path.relative_to(DBT_PROJECT_DIR).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _code_marker(warehouse: Path) -> Path:
    """Beside the warehouse file: the fingerprint of the model code that built it."""
    return warehouse.with_name(warehouse.name + ".models")


def _read_marker(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def _explain_failed_tests(warehouse: Path, nodes: list[NodeStatus], compiled: dict[str, str], limit: int = 5) -> None:
    """Add to a failing column_checks test's message what failed: check, column, value, rows and
    an example key (dbt's own message only counts rows; one test checks many columns).

    Re-runs the test's compiled query, read-only, only for failed tests. Other tests' rows may
    hold any column of the model, so they are left as dbt reported them.
    """
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return
    try:
        for n in nodes:
            sql = compiled.get(n.unique_id)
            if not sql:
                continue
            try:
                rel = con.sql(f"select * from ({sql}) as failing_rows limit {limit + 1}")
                cols, rows = rel.columns, rel.fetchall()
            except duckdb.Error:
                continue
            if cols[:2] != ["check_name", "column_name"]:
                continue
            found = [
                f"{d['check_name']} {d['column_name']}"
                + (f" = {d['value']!r}" if d.get("value") is not None else "")
                + f": {d['n_rows']} row(s)"
                + (f", e.g. {d['example_key']}" if d.get("example_key") is not None else "")
                for d in (dict(zip(cols, row)) for row in rows[:limit])
            ]
            more = " …" if len(rows) > limit else ""
            n.message = f"{(n.message or '').strip()} — " + "; ".join(found) + more
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    """`python -m windowwatch.transform [--as-of DATE] [--full-refresh] [--select ...]`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m windowwatch.transform", description=main.__doc__)
    parser.add_argument("--as-of", help="YYYY-MM-DD (default: today)")
    parser.add_argument("--full-refresh", action="store_true")
    parser.add_argument("--select", nargs="*")
    parser.add_argument("--exclude", nargs="*")
    parser.add_argument("--scoring", help="scoring file (default: WINDOWWATCH_SCORING or the packaged one)")
    parser.add_argument("--unit-tests", action="store_true", help="also run the dbt unit tests (CI does)")
    args = parser.parse_args(argv)
    result = build(as_of=args.as_of, full_refresh=args.full_refresh, select=args.select,
                   exclude=args.exclude, scoring_path=args.scoring, unit_tests=args.unit_tests)
    print(result.summary())
    return 0 if result.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
