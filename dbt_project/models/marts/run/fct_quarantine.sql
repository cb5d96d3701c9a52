{#- Every row ever quarantined by ingest (docs/rules.md#quarantine); the Parquet under quarantine/ stays the record. -#}
select
    feed,
    source_file,
    cast(line as {{ dbt.type_bigint() }}) as line,
    rule,
    raw,
    quarantined_at,
    detail
from {{ source('landing', 'quarantine') }}
where feed is not null
