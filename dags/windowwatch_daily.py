"""WindowWatch daily pipeline (docs/architecture.md): ingest every source (and, beside it, export the
督办 store to landing) → GE raw gate → dbt build →
GE marts gate → publish → supervise sync (督办 items from the published triggers) → run summary.

Thin on purpose: every task calls one `windowwatch.pipeline.step_*` function. One ingest task
per configured source (dynamic task mapping) with retries and exponential back-off, so one
broken source does not stop the others; the raw gate runs whatever their outcome
(trigger rule all_done) and the failed sources are recorded. One writer at a time:
max_active_runs=1 and the one-slot pool `windowwatch_duckdb` on every task that writes DuckDB.
The final `run_summary` task (all_done) writes runs/latest.json and fails the DAG run when a
critical step failed; the last published snapshot then stays live.

Scheduled every day at WINDOWWATCH_DAILY_AT (default 21:00, after the hall closes) in
Asia/Shanghai; a run covers that local day (its as-of date, in the run record). A files source
with no inbox (no `path:` and no conf feeds) fails the run at once, without retries
(docs/operations.md#running-under-a-real-scheduler-airflow).

conf / params: feeds (the inbox folder of files sources), as_of (YYYY-MM-DD, default: the
run's logical date in Asia/Shanghai), allow_older (publish even when as_of is older than the
live snapshot's; without it such a run builds and gates and the live snapshot stays).
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from core.localtime import LOCAL_TZ
from core.settings import settings
from windowwatch.pipeline import DAG_ID, POOL, MissingInbox, daily_cron, run_as_of

RETRIES = settings().source_retries
RETRY_DELAY = dt.timedelta(seconds=settings().source_retry_delay_s)


def _home():
    from core.paths import Home

    return Home.from_env()


def _run_id() -> str:
    return get_current_context()["run_id"]


def _conf() -> dict:
    ctx = get_current_context()
    params = dict(ctx["params"] or {})
    conf = dict(getattr(ctx.get("dag_run"), "conf", None) or {})
    merged = {**params, **{k: v for k, v in conf.items() if v is not None}}
    if not merged.get("as_of"):
        merged["as_of"] = run_as_of(ctx.get("logical_date"), getattr(ctx.get("dag_run"), "run_after", None))
    return merged


def _record_failure(context) -> None:
    """on_failure_callback: a task that died outside its step wrapper is still recorded."""
    from windowwatch.runs import RunRecord

    ti = context.get("ti") or context.get("task_instance")
    task_id = getattr(ti, "task_id", "unknown")
    rec = RunRecord(_home(), context["run_id"])
    if task_id == "ingest":  # the step wrapper records each source, under its name
        return
    if task_id == "run_summary":  # the run's failure, already in the final record
        return
    name = task_id
    prev = rec.read_step(name) or {}
    if prev.get("status") != "failed":
        rec.write_step(name, {**prev, "status": "failed", "reason": str(context.get("exception") or "task failed")[:2000]})
        rec.assemble()


@dag(
    dag_id=DAG_ID,
    schedule=CronTriggerTimetable(daily_cron(), timezone=LOCAL_TZ.key),
    start_date=dt.datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"on_failure_callback": _record_failure},
    params={
        "feeds": Param(None, type=["null", "string"], description="inbox folder of files sources"),
        "as_of": Param(None, type=["null", "string"], description="build as of this date (YYYY-MM-DD)"),
        "allow_older": Param(False, type=["null", "boolean"],
                             description="publish even when as_of is older than the live snapshot's"),
    },
    tags=["windowwatch"],
    doc_md=__doc__,
)
def windowwatch_daily():
    @task
    def list_sources() -> list[str]:
        from windowwatch.pipeline import step_list_sources

        try:
            return step_list_sources(_home(), _run_id(), _conf())
        except MissingInbox as exc:  # no retry can fix it
            raise AirflowFailException(str(exc)) from None

    @task(retries=RETRIES, retry_delay=RETRY_DELAY, retry_exponential_backoff=True, max_retry_delay=dt.timedelta(minutes=10))
    def ingest(source: str) -> dict:
        from windowwatch.pipeline import step_ingest

        ti = get_current_context()["ti"]
        try:
            return step_ingest(_home(), _run_id(), source, _conf().get("feeds"), try_number=ti.try_number)
        except MissingInbox as exc:  # no retry can fix it
            raise AirflowFailException(str(exc)) from None

    @task
    def supervision_export() -> dict:
        from windowwatch.pipeline import step_supervision_export

        return step_supervision_export(_home(), _run_id())

    @task(trigger_rule="all_done")
    def raw_gate() -> dict:
        from windowwatch.pipeline import step_raw_gate

        return step_raw_gate(_home(), _run_id())

    @task(pool=POOL)
    def dbt_build() -> dict:
        from windowwatch.pipeline import step_build

        return step_build(_home(), _run_id(), _conf().get("as_of"))

    @task(pool=POOL)
    def marts_gate() -> dict:
        from windowwatch.pipeline import step_marts_gate

        return step_marts_gate(_home(), _run_id())

    @task(pool=POOL)
    def publish() -> str:
        from windowwatch.pipeline import step_publish

        return step_publish(_home(), _run_id())

    @task
    def supervise_sync() -> dict:
        from windowwatch.pipeline import step_supervise_sync

        return step_supervise_sync(_home(), _run_id())

    @task(trigger_rule="all_done")
    def run_summary() -> None:
        from windowwatch.pipeline import step_summary

        record = step_summary(_home(), _run_id())
        if record["status"] == "failed":
            f = record["failure"]
            raise AirflowFailException(f"run failed at {f['task']}: {f['reason']}")

    sources = list_sources()
    exported = supervision_export()  # the 督办 store to landing, beside ingest; the build waits for it
    sources >> exported
    landed = ingest.expand(source=sources)
    gate = raw_gate()
    landed >> gate
    build = dbt_build()
    [gate, exported] >> build
    build >> marts_gate() >> publish() >> supervise_sync() >> run_summary()


windowwatch_daily()
