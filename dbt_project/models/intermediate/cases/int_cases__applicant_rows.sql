{#- The landed transaction rows that carry an applicant (applicant_id hash, never the raw value:
    ingest.privacy), every landed version — a view over landing, read by OB_REACCEPT
    (int_off_book__reaccept.sql) for a few cases only. The events model carries no applicant column
    (privacy, and 64 bytes × every event); a rule that needs the applicant matches these rows to the
    current version of their event (int_cases__events_latest: event_id, _delivery_id, _line). -#}
{{ config(materialized='view') }}
select
    {{ typed_landing_columns('transactions', only=['event_id', 'case_id', 'applicant_id_hmac', '_delivery_id', '_line']) }}
from {{ source('landing', 'transactions') }}
where applicant_id_hmac is not null
