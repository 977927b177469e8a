-- One row per round per combined stage per measure that a bulletin publishes only as a combined
-- headline: signed+started (签约+开工, "新增项目") and all (三批合计), against the sum of the city
-- submissions of the stages it covers. Same difference, tolerance and status rules as
-- rpt_reconciliation; only rounds with a published combined figure appear.
with provincial as (
    select *
    from {{ ref('int_bulletin_headlines_deduplicated') }}
    where stage_as_published in ('signed+started', 'all')
),

city as (
    select
        round_no,
        stage_code,
        project_count,
        investment_yi,
        city_code
    from {{ ref('fct_city_round_stage') }}
),

covered as (
    select
        p.round_no,
        p.stage_as_published,
        p.measure,
        p.value                  as provincial_value,
        p.qualifier              as provincial_qualifier,
        p.value_decimals,
        p.tolerance,
        p.source_text,
        p.file_path,
        p.has_conflicting_values,
        sum(case when p.measure = 'project_count' then c.project_count else c.investment_yi end) as city_total,
        count(distinct case when c.project_count > 0 then c.city_code end) as submitting_city_count
    from provincial as p
    left join city as c
        on c.round_no = p.round_no
       and (p.stage_as_published = 'all'
            or (p.stage_as_published = 'signed+started' and c.stage_code in ('signed', 'started')))
    group by all
),

summed as (
    select
        *,
        case when submitting_city_count > 0 then cast(city_total as decimal(18, 4)) end as city_sum
    from covered
)

select
    round_no,
    stage_as_published,
    measure,
    provincial_value,
    city_sum,
    cast(city_sum - provincial_value as decimal(18, 4))   as difference,
    tolerance,
    {{ reconciliation_status('provincial_value', 'city_sum', 'submitting_city_count',
                             'provincial_qualifier', 'tolerance', 'has_conflicting_values') }} as status,
    provincial_qualifier,
    value_decimals,
    submitting_city_count,
    source_text,
    file_path as bulletin_file_path
from summed
