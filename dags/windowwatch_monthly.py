"""WindowWatch monthly publication (docs/architecture.md): on the publish day (default the 3rd,
WINDOWWATCH_PUBLISH_DAY) freeze and render last month's ranking with
`windowwatch.reports.publication.publish_month`.

The schedule runs daily at 06:00 in Asia/Shanghai (after the evening's daily run has published)
and a cheap first task skips the run unless it is the publish day
(in Asia/Shanghai), so the day is configuration, not a cron edit. conf `month` (YYYY-MM)
publishes that month now, whatever the day. Publishing reads the published snapshot only
(never the work warehouse), so it needs no DuckDB writer slot; it is idempotent (an unchanged
month creates no new version).
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

from core.localtime import LOCAL_TZ
from core.settings import settings
from windowwatch.pipeline import MONTHLY_DAG_ID

PUBLISH_DAY = settings().publish_day
MONTHLY_CRON = "0 6 * * *"


def month_to_publish(today: dt.date, conf_month: str | None, publish_day: int = PUBLISH_DAY) -> str | None:
    """The month to publish on `today`, or None when today is not the publish day."""
    if conf_month:
        return conf_month
    if today.day != publish_day:
        return None
    return (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


@dag(
    dag_id=MONTHLY_DAG_ID,
    schedule=CronTriggerTimetable(MONTHLY_CRON, timezone=LOCAL_TZ.key),
    start_date=dt.datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={"month": Param(None, type=["null", "string"], description="publish this month (YYYY-MM) now")},
    tags=["windowwatch"],
    doc_md=__doc__,
)
def windowwatch_monthly():
    @task.short_circuit
    def is_publish_day() -> bool:
        ctx = get_current_context()
        logical = ctx.get("logical_date") or dt.datetime.now(dt.timezone.utc)
        conf = dict(getattr(ctx.get("dag_run"), "conf", None) or {})
        month = month_to_publish(logical.astimezone(LOCAL_TZ).date(), conf.get("month") or ctx["params"].get("month"))
        ctx["ti"].xcom_push(key="month", value=month)
        return month is not None

    @task
    def publish_month() -> dict:
        from windowwatch.reports.publication import publish_month as publish

        ctx = get_current_context()
        month = ctx["ti"].xcom_pull(task_ids="is_publish_day", key="month")
        r = publish(month)
        state = "published" if r.created else "unchanged"
        print(f"{month} v{r.version} {state}: {r.path}")
        return {"month": month, "version": r.version, "created": r.created, "path": str(r.path)}

    is_publish_day() >> publish_month()


windowwatch_monthly()
