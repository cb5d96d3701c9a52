{#- The working-day calendar (docs/rules.md#working-days): one row per date, with the running working-day number
    every deadline is computed from (macros/calendar.sql).
    Precedence: the `calendar` feed > the official calendar (seed generated from chinesecalendar)
    > assumed (working day iff Monday–Friday, is_assumed = true: results that use such a day say so).
    Range: 2004-01-01 (or the earliest data) through max(as-of date, latest data, last official
    day) + 400 days, so every deadline, pause and rectification date has its day. -#}
with official as (
    select
        date,
        is_workday,
        is_makeup_workday,
        nullif(holiday_name, '') as holiday_name,
        nullif(holiday_name_en, '') as holiday_name_en
    from {{ ref('official_calendar') }}
),

feed as (
    select date, is_workday, note
    from {{ ref('stg_landing__calendar') }}
    where date is not null and is_workday is not null
),

data_dates as (
    select min(event_date) as first_day, max(event_date) as last_day
    from {{ ref('int_cases__events') }}
    union all
    select cast(min(evaluated_at) as date), cast(max(evaluated_at) as date)
    from {{ ref('stg_landing__evaluations') }}
    union all
    select cast(min(flagged_at) as date), cast(max(flagged_at) as date)
    from {{ ref('stg_landing__video_flags') }}
    union all
    select min(date), max(date) from feed
    union all
    select min(date), max(date) from official
    union all
    select {{ as_of_date() }}, {{ as_of_date() }}
),

bounds as (
    select
        least(cast('2004-01-01' as date), min(first_day)) as first_day,
        {{ add_days(400, 'max(last_day)') }} as last_day
    from data_dates
),

spine as (
    {{ date_series('bounds', 'first_day', 'last_day') }}
),

days as (
    select
        spine.date_day as date,
        case
            when feed.date is not null then feed.is_workday
            when official.date is not null then official.is_workday
            else {{ iso_weekday('spine.date_day') }} <= 5
        end as is_workday,
        (feed.date is null and official.date is null) as is_assumed,
        coalesce(feed.note, official.holiday_name) as holiday_name,
        case when feed.date is null then official.holiday_name_en end as holiday_name_en,
        case
            when feed.date is not null then feed.is_workday and {{ iso_weekday('spine.date_day') }} > 5
            when official.date is not null then official.is_makeup_workday
            else false
        end as is_makeup_workday,
        case
            when feed.date is not null then 'feed'
            when official.date is not null then 'official'
            else 'assumed'
        end as source
    from spine
    left join feed on feed.date = spine.date_day
    left join official on official.date = spine.date_day
)

select
    date,
    is_workday,
    is_assumed,
    holiday_name,
    holiday_name_en,
    is_makeup_workday,
    source,
    case when is_workday then 1 else 0 end as is_workday_int,
    case when is_assumed then 1 else 0 end as is_assumed_int,
    sum(case when is_workday then 1 else 0 end) over (order by date rows between unbounded preceding and current row) as workday_seq,
    sum(case when is_assumed then 1 else 0 end) over (order by date rows between unbounded preceding and current row) as assumed_seq
from days
