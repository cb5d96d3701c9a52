"""Supervision workflow 督办 (SPEC §4.11, docs/architecture.md#supervision).

A supervision item (督办件) is one thing an inspector must see through: opened by
`windowwatch supervise sync` from the published snapshot's triggers, walked through its states by
people (`supervise act`), escalated by working days, kept for good with every transition.

    model.py      the tables (SQLAlchemy Core) and the states, actions and roles
    store.py      the engine (SQLite WAL or PostgreSQL), migrations on start (migrations/)
    workflow.py   the transitions: role checks, optimistic concurrency, audit log, outbox
    calendar.py   working days from the published snapshot's marts.dim_date
    sync.py       the triggers of the snapshot -> items (set-based), escalation, sending
    notify.py     the outbox and its e-mail delivery (WINDOWWATCH_SMTP_URL)
    notices.py    the 督办通知书 and 效能告诫书 (draft) PDFs (WeasyPrint, templates/), stored under the home
    stats.py      the monthly figures per department (opened, on-time replies and fixes, escalated, open)
    export.py     items and transitions to landing at the start of each run, for the dbt marts
    video.py      视频复核: inspectors' decisions on pending video flags (the 视频巡查 page)
    demo.py       `windowwatch demo`'s walk of a few items through the states
    cli.py        `windowwatch supervise sync|list|act|send|open`
"""
