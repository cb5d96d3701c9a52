"""Generate the staging layer from the feed contract (core/feeds.py).

    uv run python dbt_project/scripts/make_staging.py

Writes models/staging/_sources.yml (source `landing`: one table per feed over its landing
Parquet, plus `quarantine`), stg_landing__<feed>.sql (typed, deduplicated) and
_stg_landing.yml (descriptions from the contract); each feed's key/required/enum/range checks are
one column_checks test on its source table (see source_checks). Run it after
changing feeds.py; tests/dbt/test_dbt_timeliness_contract.py fails while they disagree.
"""

from pathlib import Path

from core.feeds import FEEDS
from ingest.landing_schema import landing_schema
import polars as pl

SQLT = {pl.String(): "dbt.type_string()", pl.Int64(): "dbt.type_bigint()", pl.Float64(): "type_double()",
        pl.Boolean(): "dbt.type_boolean()", pl.Date(): "'date'", pl.Datetime("us"): "dbt.type_timestamp()",
        pl.Time(): "'time'", pl.Int8(): "'tinyint'"}
YT = {pl.String(): "varchar", pl.Int64(): "bigint", pl.Float64(): "double", pl.Boolean(): "boolean",
      pl.Date(): "date", pl.Datetime("us"): "timestamp", pl.Time(): "time", pl.Int8(): "tinyint"}
META_DESC = {"_delivery_id": "SHA-256 of the delivery's content (which delivery the row came from).",
             "_source": "Where the delivery came from: the inbox file path, or sql:<name> / http:<name>.",
             "_line": "1-based line of the row in its source file (CSV/XLSX header = line 1).",
             "_ingested_at": "When the delivery landed (local time)."}
# No data test runs on a staging view: a test on the view re-runs its dedup window over every
# landed row (city scale: 11.5 M transactions, 40–100 s per test; 2 M evaluations, ~10 s per
# test). A feed's column checks (key and required columns not null, enum values, ranges) run as
# ONE test on its landed rows (the source: a plain Parquet scan, every landed row, superseded
# ones too); the key is unique by construction of the view (row_number() … = 1) and its
# uniqueness is tested on the tables below, which hold the same rows.
# Feeds whose column checks run on a table holding the same deduplicated rows instead (the source
# keeps only the not-null key check: that table drops rows with a null key).
TESTED_ON = {"transactions": "int_cases__events_latest"}
UNIQUE_ON = {
    "windows": "int_reference__window_versions (window_id, valid_from; its validity intervals), int_reference__windows and dim_window",
    "items": "int_reference__item_versions (item_code, valid_from; its validity intervals), int_reference__items and dim_item",
    "staff": "dim_staff", "inspectors": "dim_inspector", "calendar": "int_calendar__days (date)",
    "hall_hours": "int_reference__hall_hours (window_id, day_kind)",
    "dept_volumes": "fct_department_month (department_id, month)", "transactions": "int_cases__events_latest",
    "evaluations": "fct_evaluation", "video_flags": "fct_video_flag",
    "step_limits": "int_timeliness__step_limits (item_code, from_event, to_event)",
    "extended_service": "nothing (OB_OFF_HOURS reads it per window and day)",
    "attendance": "fct_attendance_day's source rows (int_hall__attendance_staff_day)",
    "queue_tickets": "int_hall__queue_tickets_all", "work_orders": "fct_work_order", "inspections": "fct_inspection",
}
# Where a failing landed row is: its delivery and line (column_checks' example_key).
LANDED_ROW_KEY = "concat(_source, ' line ', cast(_line as string))"


def source_checks(feed: str) -> list[str]:
    """The feed's column_checks test on source `landing.<feed>` (YAML lines)."""
    f = FEEDS[feed]
    not_null = list(f.key) + [c.name for c in f.columns if c.required and c.name not in f.key and not c.pii]
    enums = {c.name: list(c.enum) for c in f.columns if c.enum and c.type != "list"}
    ranges = {c.name: "{min: 1, max: 5}" for c in f.columns if c.type == "rating"}
    if "confidence" in f.by_name:
        ranges["confidence"] = "{min: 0, max: 1}"
    ranges.update({c.name: f"{{min: {c.min_value:g}}}" for c in f.columns if c.min_value is not None})
    if feed in TESTED_ON:
        not_null, enums, ranges = list(f.key), {}, {}
    out = ["        data_tests:", "          - column_checks:", f"              name: landing_{feed}__column_checks",
           "              arguments:", f"                not_null: [{', '.join(not_null)}]"]
    if enums:
        out += ["                accepted_values:"] + [f"                  {n}: [{', '.join(v)}]" for n, v in enums.items()]
    if ranges:
        out += ["                in_range:"] + [f"                  {n}: {r}" for n, r in ranges.items()]
    out += [f"                key: \"{LANDED_ROW_KEY}\"", "                one_scan: true  # one read of the Parquet glob"]
    return out

root = Path(__file__).resolve().parent.parent / "models" / "staging"
src = ["version: 2", "", "sources:", "  - name: landing",
       "    description: >", "      Landing Parquet written by ingest: one folder per feed, partitioned by date,",
       "      each delivery once. Every feed folder holds `_empty.parquet` with the full schema so the",
       "      glob never fails; `union_by_name` lets older deliveries lack newer optional columns.",
       "    tables:"]
stg_yml = ["version: 2", "", "models:"]
def coldesc(feed, c, name):
    if name in META_DESC:
        return META_DESC[name]
    col = FEEDS[feed].by_name.get(c)
    bits = []
    if col is not None:
        if col.aliases: bits.append("(" + " / ".join(col.aliases) + ")")
        if col.description: bits.append(col.description)
        if col.enum: bits.append("One of: " + ", ".join(f"{k} {v[0]}" for k, v in col.enum.items()) + ".")
        if col.pii == "hash": bits.append("PII: keyed HMAC-SHA256 of the raw value; never the raw value.")
        if col.pii == "scrub": bits.append("PII scrubbed: ID-card and phone numbers removed at ingest.")
        if col.type == "rating": bits.append("5 = 非常满意 … 1 = 非常不满意.")
        if col.type == "list": bits.append("Canonical values joined by ';'.")
    elif name in META_DESC:
        bits.append(META_DESC[name])
    return (name.replace("_", " ") + " " + " ".join(bits)).strip().replace('"', "'")
for feed, f in FEEDS.items():
    schema = landing_schema(feed)
    src += [f"      - name: {feed}",
            f"        description: \"{(f.description or feed).replace(chr(34), chr(39))} ({f.kind} feed; key {', '.join(f.key)})\"",
            "        config:",
            "          meta:",
            f"            external_location: \"read_parquet('{{{{ env_var('WINDOWWATCH_HOME', 'var') }}}}/landing/{feed}/**/*.parquet', union_by_name=true, hive_partitioning=false)\"",
            *source_checks(feed),
            "        columns:"]
    for name, t in schema.items():
        base = name[:-5] if name.endswith("_hmac") else name
        src += [f"          - name: {name}", f"            data_type: {YT[t]}",
                f"            description: \"{coldesc(feed, base, name)}\""]
    sel = ",\n".join(f"        {{{{ dbt.safe_cast('{n}', {SQLT[t]}) }}}} as {n}" for n, t in schema.items())
    keys = ", ".join(f.key)
    versioned = f.kind == "reference" and "valid_from" in f.by_name
    if versioned:  # one row per version: key and valid_from (docs/rules.md#reference-versions)
        keys = f"{keys}, valid_from"
    if f.kind == "event":
        order = f"coalesce(recorded_at, {f.time_column}) desc, _ingested_at desc, _delivery_id desc, _line desc"
        rule = f"Events: re-delivery of the same {keys} with a later recorded_at is an update, so the row with\n    the latest recorded_at is kept (tie: latest _ingested_at, then _delivery_id, _line - deterministic)."
    else:
        order = "_ingested_at desc, _delivery_id desc, _line desc"
        rule = f"Reference snapshot: per {keys}, the row of the latest delivery that has it\n    (latest _ingested_at, then _delivery_id, _line - deterministic)."
        if versioned:
            rule += ("\n    A row with valid_from is the version of its key from that date; rows without it are the\n"
                     "    version from the beginning (int_reference__*_versions: docs/rules.md#reference-versions).")
    sql = f"""{{#- {feed}: typed landing rows, one per {keys}.
    {rule} -#}}
with source as (
    select * from {{{{ source('landing', '{feed}') }}}}
),

typed as (
    select
{sel}
    from source
),

ranked as (
    select
        typed.*,
        row_number() over (partition by {keys} order by {order}) as _row_rank
    from typed
)

select
{",".join(chr(10) + "    " + n for n in schema).lstrip(chr(10))}
from ranked
where _row_rank = 1
"""
    (root / f"stg_landing__{feed}.sql").write_text(sql)
    kind_note = "latest recorded_at wins" if f.kind == "event" else "latest delivery that has the key wins"
    if versioned:
        kind_note = "latest delivery that has the key and valid_from wins"
    if feed in TESTED_ON:
        tested_on = (f" Column tests run on {TESTED_ON[feed]} (the same rows, materialized); null keys on the"
                     f" landed rows: test landing_{feed}__column_checks.")
    else:
        tested_on = (f" No test runs on this staging model: the column checks run on the landed rows (test"
                     f" landing_{feed}__column_checks on source landing.{feed}); the key is unique by construction"
                     f" here and tested on {UNIQUE_ON[feed]}.")
    stg_yml += [f"  - name: stg_landing__{feed}",
                f"    description: \"{(f.description or feed).replace(chr(34), chr(39))} Staging view: typed landing rows, one per {keys} ({kind_note}).{tested_on}\"",
                "    columns:"]
    for name, t in schema.items():
        base = name[:-5] if name.endswith("_hmac") else name
        stg_yml += [f"      - name: {name}", f"        description: \"{coldesc(feed, base, name)}\""]
src += ["      - name: quarantine",
        "        description: \"Every row ever quarantined by ingest (docs/rules.md#quarantine), one Parquet per delivery under quarantine/<feed>/.\"",
        "        config:", "          meta:",
        "            external_location: \"read_parquet('{{ env_var('WINDOWWATCH_HOME', 'var') }}/quarantine/**/*.parquet', union_by_name=true, hive_partitioning=false)\"",
        "        columns:"]
for n, t, d in [("feed", "varchar", "Feed the row was meant for."), ("source_file", "varchar", "Delivery the row came from (inbox path or sql:/http: source)."),
                ("line", "bigint", "1-based line in the source file."), ("rule", "varchar", "Quarantine rule id (core.feeds.QUARANTINE_RULES)."),
                ("detail", "varchar", "What is wrong, for a person."), ("raw", "varchar", "The raw row as delivered (PII columns hashed or dropped)."),
                ("quarantined_at", "timestamp", "When the row was quarantined (local time).")]:
    src += [f"          - name: {n}", f"            data_type: {t}", f"            description: \"{d}\""]
(root / "_sources.yml").write_text("\n".join(src) + "\n")
(root / "_stg_landing.yml").write_text("\n".join(stg_yml) + "\n")
