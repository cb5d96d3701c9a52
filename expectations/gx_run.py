"""Run expectation suites with Great Expectations and keep what the run needs from them.

Both gates take one code path (`run_sql_gate`): every suite is a query asset on a DuckDB
database, so GE sends its metric SQL to DuckDB and no batch is ever loaded into pandas (the
raw gate's database holds views over this run's landed Parquet, the marts gate reads the
warehouse). One ephemeral GE context per gate run (nothing of GE's state lands in the repo or
survives the task); each gate's Checkpoint builds its own Data Docs site once, under
`$WINDOWWATCH_HOME/data_docs/<gate>/`. Suites have a severity (bigquery-etl's #fail / #warn):
a failed `critical` suite stops the run, a failed `warning` suite is only reported.
"""

from __future__ import annotations

import logging
import os
import types
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from core.settings import settings

Severity = Literal["critical", "warning"]


def check(severity: Severity, expectation, why: str):
    """Tag an expectation with its severity and what a failure means (kept in its `meta`)."""
    expectation.meta = {**(expectation.meta or {}), "severity": severity, "why": why}
    return expectation


@dataclass
class Failure:
    suite: str
    severity: Severity
    expectation: str
    column: str | None
    why: str
    unexpected_count: int | None = None
    examples: list = field(default_factory=list)
    error: str | None = None
    rows: list[str] = field(default_factory=list)  # "<source file>:<line>" of failing rows (raw gate)

    def line(self) -> str:
        where = f" column {self.column}" if self.column else ""
        n = f" ({self.unexpected_count} rows)" if self.unexpected_count is not None else ""
        err = f" — error: {self.error}" if self.error else ""
        at = f" — at {', '.join(self.rows)}" if self.rows else ""
        return f"[{self.severity}] {self.suite}:{where} {self.expectation}{n}: {self.why}{at}{err}"


@dataclass
class GateResult:
    gate: str
    success: bool  # no critical failure
    suites: int = 0
    expectations: int = 0
    failures: list[Failure] = field(default_factory=list)
    data_docs_index: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def critical(self) -> list[Failure]:
        return [f for f in self.failures if f.severity == "critical"]

    @property
    def warnings(self) -> list[Failure]:
        return [f for f in self.failures if f.severity == "warning"]

    def to_json(self) -> dict:
        d = asdict(self)
        d["critical_failures"] = len(self.critical)
        d["warning_failures"] = len(self.warnings)
        return d

    def summary(self) -> str:
        head = (
            f"GE {self.gate} gate: {'PASSED' if self.success else 'FAILED'} — {self.suites} suites, "
            f"{self.expectations} expectations, {len(self.critical)} critical and {len(self.warnings)} warning failures"
        )
        return "\n".join([head, *(f"  {f.line()}" for f in self.failures), *(f"  note: {n}" for n in self.notes)])


def quiet_gx() -> None:
    """GE logs every skipped docs registration at INFO and draws progress bars: keep logs readable."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    for name in ("great_expectations", "great_expectations._docs_decorators"):
        logging.getLogger(name).setLevel(logging.WARNING)


# Imported by GE at module level but used only inside functions the gates never call
# (expect_column_kl_divergence_to_be_less_than's charts and the KS-test metrics): together a
# third of GE's import (scipy.stats 0.9 s, altair 0.4 s of ~3.5 CPU-s). jsonschema: only the
# JSON-schema metric uses it (~0.06 s, 63 modules).
DEFERRED_MODULES = ("scipy.stats", "altair", "jsonschema")


class _Deferred(types.ModuleType):
    """Stands in for a module until its first attribute is read, then imports the real one.

    Only GE's own module-level references (`from scipy import stats`, `import altair as alt`)
    hold it: `import_gx` takes it out of sys.modules once GE is imported, so anyone importing
    the module later gets the real one. `__spec__` is a plain attribute, so the import system
    can look at it without importing."""

    def __init__(self, name: str):
        super().__init__(name)
        self.__spec__ = None

    def __getattr__(self, attr: str):
        real = self.__dict__.get("_real")
        if real is None:
            import importlib
            import sys

            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = self.__dict__["_real"] = importlib.import_module(self.__name__)
        return getattr(real, attr)


def import_gx():
    """Import great_expectations for the gates, at about half the CPU of a plain import.

    Each gate is a process of its own (an Airflow task, a bench stage), so GE's import (~3.5
    CPU-s, most of a day's raw gate) is paid on every run. Three things cut it:
    - pyspark is marked absent while GE imports, so GE takes its "not installed" stubs (its
      import, pyspark.ml and scipy, would be another third); the gates only run SQL on DuckDB.
    - `DEFERRED_MODULES` are stand-ins (`_Deferred`) while GE imports: imported on first use.
    - The cyclic garbage collector is off during the import (it would walk the growing heap of
      GE's ~400 pydantic models again and again) and the imported objects are then frozen
      (`gc.freeze`), so neither later collections nor interpreter exit walk them again.
    Every mark is removed right after, so pyspark, scipy.stats and altair stay importable for
    anyone else. If one of them is already imported, it is left as it is."""
    import gc
    import sys

    if "great_expectations" in sys.modules:
        return sys.modules["great_expectations"]
    quiet_gx()
    hide = "pyspark" not in sys.modules
    if hide:
        sys.modules["pyspark"] = None  # type: ignore[assignment] # `import pyspark` raises ImportError
    deferred = {name: _Deferred(name) for name in DEFERRED_MODULES if name not in sys.modules}
    sys.modules.update(deferred)
    collecting = gc.isenabled()
    gc.disable()
    try:
        import great_expectations as gx
    finally:
        if collecting:
            gc.enable()
            gc.freeze()
        if hide and sys.modules.get("pyspark", 0) is None:
            del sys.modules["pyspark"]
        for name, stand_in in deferred.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
    return gx


def while_importing_gx(work, *args):
    """`work(*args)` in a second thread while this one imports GE; returns its result.

    A gate's process starts with DuckDB work that needs no GE (the raw gate's batch views, the
    marts gate's count of landed cases: ~0.7 s at city) and GE's import (~1.4 s of Python).
    DuckDB runs its queries outside the GIL, so on two cores the two overlap. GE is imported
    in the calling (main) thread, as everywhere else; the work's exceptions reach the caller."""
    import sys
    from concurrent.futures import ThreadPoolExecutor

    if "great_expectations" in sys.modules:
        return work(*args)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gate-duckdb") as pool:
        future = pool.submit(work, *args)
        try:
            import_gx()
        except BaseException:
            future.exception()  # let the work finish; the import's error is the one to report
            raise
        return future.result()


def new_context(docs_dir: Path):
    gx = import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    try:
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    except Exception:  # cosmetic only
        pass
    docs_dir.mkdir(parents=True, exist_ok=True)
    for site in list(ctx.get_site_names()):
        ctx.delete_data_docs_site(site)
    from expectations.gx_docs_views import site_config_views

    ctx.add_data_docs_site(
        site_name="windowwatch",
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            **site_config_views(),  # GE's default sections and index, with compiled templates kept
        },
    )
    return ctx


def column_label(kwargs: dict) -> str | None:
    """The column(s) an expectation checks, as failures name them."""
    cols = kwargs.get("column") or kwargs.get("column_A") and f"{kwargs['column_A']},{kwargs['column_B']}"
    if not cols and kwargs.get("column_list"):
        cols = ",".join(kwargs["column_list"])
    return cols or None


def collect(result, gate: GateResult) -> None:
    """Turn a CheckpointResult into Failures; severity and reason come from each expectation's meta."""
    for vr in result.run_results.values():
        gate.suites += 1
        for r in vr.results:
            gate.expectations += 1
            if r.success:
                continue
            cfg = r.expectation_config
            meta = cfg.meta or {}
            kwargs = cfg.kwargs or {}
            res = r.result or {}
            exc = r.exception_info or {}
            error = None
            if isinstance(exc, dict) and exc.get("raised_exception"):
                error = str(exc.get("exception_message"))[:300]
            cols = column_label(kwargs)
            gate.failures.append(
                Failure(
                    suite=vr.suite_name,
                    severity=meta.get("severity", "critical"),
                    expectation=cfg.type,
                    column=cols or None,
                    why=meta.get("why", ""),
                    unexpected_count=res.get("unexpected_count"),
                    # partial_unexpected_list never holds raw PII: landing hashes it (docs/architecture.md#privacy-and-access)
                    examples=[str(v)[:80] for v in (res.get("partial_unexpected_list") or [])[:5]]
                    or ([str(res["observed_value"])[:300]] if res.get("observed_value") is not None else []),
                    error=error,
                )
            )
    gate.success = not gate.critical


def index_path(docs_dir: Path) -> str | None:
    idx = docs_dir / "index.html"
    return str(idx) if idx.exists() else None


def build_data_docs(ctx, checkpoint_result) -> None:
    """Render all of a Checkpoint's results in one Data Docs build (as GE's UpdateDataDocsAction
    does, with the same call), after `complete_examples` has finished them.

    The stock action rebuilds the site (recompiling every Jinja template) once per validation:
    ~2.5 s each, most of a gate's time with a dozen suites."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    ids: list = []
    for result_id, result in checkpoint_result.run_results.items():
        ids += [result_id, ExpectationSuiteIdentifier(name=result.suite_name)]
    ctx.build_data_docs(resource_identifiers=ids, dry_run=False, build_index=True)


# The Checkpoint's first pass: SUMMARY without examples. A row-level expectation's result is
# otherwise a count (aggregated with the batch's other counts in one query) plus a second query
# for up to 20 example values, sent even when the count is 0: 70 of the raw gate's ~136
# queries, each a scan of the batch (city: 2.2 of ~12 CPU-s). With partial_unexpected_count 0
# the example query is `LIMIT 0`, which DuckDB answers without reading anything.
COUNTS_FIRST = {"result_format": "SUMMARY", "partial_unexpected_count": 0}
SUMMARY = {"result_format": "SUMMARY"}


def _kwargs_key(config) -> tuple:
    import json

    kwargs = {k: v for k, v in (config.kwargs or {}).items() if k != "batch_id"}
    return config.type, json.dumps(kwargs, sort_keys=True, default=str)


def complete_examples(ctx, checkpoint_result, batches: dict) -> int:
    """Make the first pass's results exactly what one SUMMARY pass gives; returns how many
    expectations were validated again.

    - unexpected_count 0: SUMMARY's only difference is an empty `partial_unexpected_counts`
      (its example list is empty either way), so it is added.
    - unexpected_count > 0 (a failure, or a `mostly` pass): the expectation is validated again
      with SUMMARY on the same batch (`Batch.validate`, which stores nothing, so Data Docs
      shows only the Checkpoint's own runs) and its result replaces the first one.
    tests/expectations/test_counts_first.py compares the completed results with one SUMMARY pass."""
    import great_expectations as gx

    again_total = 0
    for result_id, vr in checkpoint_result.run_results.items():
        redo, changed = {}, False
        for r in vr.results:
            res = r.result or {}
            count = res.get("unexpected_count")
            if count:
                redo[_kwargs_key(r.expectation_config)] = r
            elif count == 0 and "partial_unexpected_list" in res and "partial_unexpected_counts" not in res:
                res["partial_unexpected_counts"] = []
                changed = True
        if redo:
            bd, _ = batches[vr.suite_name]
            again = [r.expectation_config.to_domain_obj() for r in redo.values()]
            for e in again:
                e.id = None  # a copy, outside any suite
            suite = gx.ExpectationSuite(name=f"{vr.suite_name}.examples", expectations=again)
            for r in bd.get_batch().validate(suite, result_format=SUMMARY).results:
                first = redo.get(_kwargs_key(r.expectation_config))
                if first is None or first.success != r.success:
                    raise RuntimeError(f"{vr.suite_name}: {r.expectation_config.type} gave another verdict when validated again")
                first.result = r.result
            again_total += len(redo)
        if redo or changed:  # Data Docs renders what the store holds
            ctx.validation_results_store.store_validation_results(vr, result_id)
    return again_total


def duckdb_config(home_root: Path, threads: int | None = None) -> dict:
    """DuckDB settings of a gate's connection: bounded memory, spilling under $WINDOWWATCH_HOME.

    The gates' own limit (not the dbt build's WINDOWWATCH_DUCKDB_MEMORY): a gate only scans
    and aggregates, and its process has to stay far below the build's memory.
    Threads: WINDOWWATCH_GX_DUCKDB_THREADS if set, else the gate's `threads`, else DuckDB's
    default (all cores). Measured at city on the shared 2-core machine: one thread saves the
    marts gate ~1.2 of ~9.5 CPU-s (its unique checks are window counts, which scale poorly)
    and was no slower under load (idle, two threads may win back a second of wall), but costs
    the full raw gate ~2 CPU-s and 10 s wall (Parquet scans)."""
    tmp = home_root / "duckdb_tmp" / "gx"
    tmp.mkdir(parents=True, exist_ok=True)
    # Spill files a killed gate left (DuckDB deletes its own on close). Gates run one at a time
    # (Airflow's one-slot pool) and this folder is theirs alone, not the dbt build's.
    for stale in tmp.iterdir():
        if stale.is_file():
            stale.unlink(missing_ok=True)
    config = {"memory_limit": settings().gx_duckdb_memory, "temp_directory": str(tmp)}
    threads = int(settings().gx_duckdb_threads or threads or 0)
    if threads:
        config["threads"] = threads
    return config


@dataclass(frozen=True)
class SqlSuite:
    name: str  # <gate>.<what>.<severity>
    query: str  # the batch: a DuckDB query (GE runs its metric SQL on it as a subquery)
    expectations: tuple
    index_columns: tuple[str, ...] = ()  # columns that locate a failing row (raw: _source, _line)


@contextmanager
def session_settings(statements: tuple[str, ...]):
    """Run `statements` (DuckDB `SET …`) on every DuckDB connection SQLAlchemy opens meanwhile.

    For settings that `connect_args` cannot carry: duckdb_engine hands its config to
    `duckdb.connect`, which rejects extension settings such as `parquet_metadata_cache` (the
    parquet extension is loaded only on first use). A pool "connect" listener (SQLAlchemy's
    public event API) sets them on GE's connection instead; it is removed on exit, so other
    engines of the same process (Airflow's `dags test`) are untouched afterwards."""
    if not statements:
        yield
        return
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    def on_connect(dbapi_connection, _record) -> None:
        if type(dbapi_connection).__module__.split(".")[0] not in ("duckdb", "duckdb_engine", "_duckdb"):
            return
        cur = dbapi_connection.cursor()
        try:
            for sql in statements:
                cur.execute(sql)
        finally:
            cur.close()

    event.listen(Pool, "connect", on_connect)
    try:
        yield
    finally:
        event.remove(Pool, "connect", on_connect)


def run_sql_gate(
    gate: GateResult, database: Path, suites: list[SqlSuite], docs_dir: Path, duckdb_config: dict | None = None,
    session_sql: tuple[str, ...] = (), counts_first: bool = True,
):
    """Validate `suites` on the DuckDB file `database` (opened read-only) in one Checkpoint;
    returns GE's CheckpointResult.

    `session_sql`: DuckDB statements run on GE's connection before its first query
    (`session_settings`). `counts_first`: the Checkpoint runs with `COUNTS_FIRST` and
    `complete_examples` finishes its results (False: one SUMMARY pass, the reference).

    One Checkpoint (a real GE one) validates every suite: one validation definition per suite
    on its query asset, Data Docs built once for all of them (`build_data_docs`).
    Only when a suite with index columns fails are its failing rows located (`locate_failures`):
    asking GE for the index columns of every expectation would cost one more scan of the batch
    per expectation on every run."""
    from expectations import duckdb_workaround

    gx = import_gx()
    duckdb_workaround.apply()
    ctx = new_context(docs_dir)
    connect_args: dict = {"read_only": True}
    if duckdb_config:
        connect_args["config"] = dict(duckdb_config)
    with session_settings(session_sql):
        ds = ctx.data_sources.add_sql(name=gate.gate, connection_string=f"duckdb:///{database}", kwargs={"connect_args": connect_args})
        result = _validate(ctx, gx, gate, ds, suites, counts_first)
    gate.data_docs_index = index_path(docs_dir)
    return result


def _validate(ctx, gx, gate: GateResult, ds, suites: list[SqlSuite], counts_first: bool = True):
    from expectations import duckdb_workaround

    try:
        vds, batches = [], {}
        for s in suites:
            asset = duckdb_workaround.query_asset(ds, s.name, s.query)
            bd = asset.add_batch_definition_whole_table("all")
            batches[s.name] = (bd, s)
            suite = ctx.suites.add(gx.ExpectationSuite(name=s.name, expectations=list(s.expectations)))
            vds.append(ctx.validation_definitions.add(gx.ValidationDefinition(name=s.name, data=bd, suite=suite)))
        cp = ctx.checkpoints.add(
            gx.Checkpoint(name=gate.gate, validation_definitions=vds, actions=[], result_format=COUNTS_FIRST if counts_first else SUMMARY)
        )
        result = cp.run()
        if counts_first:
            complete_examples(ctx, result, batches)
        build_data_docs(ctx, result)
        collect(result, gate)
        locate_failures(ctx, gate, batches)
        return result
    finally:
        duckdb_workaround.release(ds)


def locate_failures(ctx, gate: GateResult, batches: dict) -> None:
    """Fill `Failure.rows` ("<source>:<line>") for failed critical row-level expectations of
    suites that have index columns, by validating just those expectations again with GE's
    `unexpected_index_column_names` (one filtered query each, only when the run stops anyway;
    a warning, e.g. a repeated id at city scale, would cost a second full aggregation)."""
    gx = import_gx()
    for name, (bd, s) in batches.items():
        failed = {(f.expectation, f.column): f for f in gate.critical if f.suite == name and f.unexpected_count}
        if not s.index_columns or not failed:
            continue
        again = []
        for e in s.expectations:
            kwargs = {k: v for k, v in e.configuration.kwargs.items() if k != "batch_id"}
            if (e.expectation_type, column_label(kwargs)) in failed:
                again.append(type(e)(**kwargs, meta=e.meta))
        suite = ctx.suites.add(gx.ExpectationSuite(name=f"{name}.located", expectations=again))
        vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=f"{name}.located", data=bd, suite=suite))
        result = vd.run(
            result_format={"result_format": "SUMMARY", "unexpected_index_column_names": list(s.index_columns), "partial_unexpected_count": 5}
        )
        for r in result.results:
            f = failed.get((r.expectation_config.type, column_label(r.expectation_config.kwargs or {})))
            where = [i for i in ((r.result or {}).get("partial_unexpected_index_list") or []) if isinstance(i, dict)]
            if f is not None:
                f.rows = list(dict.fromkeys(":".join(str(i.get(c)) for c in s.index_columns) for i in where))[:5]
