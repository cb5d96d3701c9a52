{#- Every row ever quarantined by ingest (SPEC §3, §5); the Parquet under quarantine/ stays the record. -#}
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
