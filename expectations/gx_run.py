"""Run expectation suites with Great Expectations and keep what the run needs from them.

One ephemeral GE context per gate (nothing of GE's state lands in the repo or survives the
task); each gate's Checkpoint runs UpdateDataDocsAction into its own Data Docs site under
`$WINDOWWATCH_HOME/data_docs/<gate>/`. Suites have a severity (bigquery-etl's #fail / #warn):
a failed `critical` suite stops the run, a failed `warning` suite is only reported.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

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

    def line(self) -> str:
        where = f" column {self.column}" if self.column else ""
        n = f" ({self.unexpected_count} rows)" if self.unexpected_count is not None else ""
        err = f" — error: {self.error}" if self.error else ""
        return f"[{self.severity}] {self.suite}:{where} {self.expectation}{n}: {self.why}{err}"


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


def new_context(docs_dir: Path):
    quiet_gx()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    try:
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    except Exception:  # cosmetic only
        pass
    docs_dir.mkdir(parents=True, exist_ok=True)
    for site in list(ctx.get_site_names()):
        ctx.delete_data_docs_site(site)
    ctx.add_data_docs_site(
        site_name="windowwatch",
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    return ctx


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
            cols = kwargs.get("column") or kwargs.get("column_A") and f"{kwargs['column_A']},{kwargs['column_B']}"
            if not cols and kwargs.get("column_list"):
                cols = ",".join(kwargs["column_list"])
            gate.failures.append(
                Failure(
                    suite=vr.suite_name,
                    severity=meta.get("severity", "critical"),
                    expectation=cfg.type,
                    column=cols or None,
                    why=meta.get("why", ""),
                    unexpected_count=res.get("unexpected_count"),
                    # partial_unexpected_list never holds raw PII: landing hashes it (SPEC §8)
                    examples=[str(v)[:80] for v in (res.get("partial_unexpected_list") or [])[:5]]
                    or ([str(res["observed_value"])[:300]] if res.get("observed_value") is not None else []),
                    error=error,
                )
            )
    gate.success = not gate.critical


def index_path(docs_dir: Path) -> str | None:
    idx = docs_dir / "index.html"
    return str(idx) if idx.exists() else None


_ONCE_ACTION = None


def data_docs_action():
    """An UpdateDataDocsAction that renders all of a Checkpoint's results in one Data Docs build.

    The stock action rebuilds the site (recompiling every Jinja template) once per validation:
    ~2.5 s each, most of a gate's time with a dozen suites. GE registers action classes by
    their `type`, so the subclass is created once, with a type of its own."""
    global _ONCE_ACTION
    if _ONCE_ACTION is None:
        from typing import Literal

        from great_expectations.checkpoint import UpdateDataDocsAction
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

        class UpdateDataDocsOnce(UpdateDataDocsAction):
            type: Literal["windowwatch_update_data_docs_once"] = "windowwatch_update_data_docs_once"

            def run(self, checkpoint_result, action_context=None) -> dict:
                ids: list = []
                for result_id, result in checkpoint_result.run_results.items():
                    ids += [result_id, ExpectationSuiteIdentifier(name=result.suite_name)]
                self._build_data_docs(site_names=self.site_names, resource_identifiers=ids)
                return {}

        _ONCE_ACTION = UpdateDataDocsOnce
    return _ONCE_ACTION(name="data_docs")
