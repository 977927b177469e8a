-- One row per round per stage per measure (project_count, investment_yi): the provincial headline
-- against the sum of the city submissions. Every round and stage present on either side appears
-- with both measures. difference = city_sum - provincial_value; status is match / mismatch within
-- the rounding tolerance, unchecked (no provincial figure), no_submissions (no city rows) or conflict
-- (the bulletin sources disagree on the figure, so none is taken: see rpt_bulletin_conflicts).
with provincial as (
    select *
    from {{ ref('int_bulletin_headlines_deduplicated') }}
    where stage_code is not null
),

city as (
    select
        round_no,
        stage_code,
        sum(project_count)                                          as project_count,
        cast(sum(investment_yi) as decimal(18, 4))                  as investment_yi,
        count(distinct case when project_count > 0 then city_code end) as submitting_city_count
    from {{ ref('fct_city_round_stage') }}
    group by round_no, stage_code
),

city_long as (
    select round_no, stage_code, 'project_count' as measure,
           cast(project_count as decimal(18, 4)) as city_sum, submitting_city_count
    from city
    union all
    select round_no, stage_code, 'investment_yi', investment_yi, submitting_city_count
    from city
),

reference as (
    select * from {{ ref('int_round_reference_figures_unpivoted') }}
),

round_stages as (
    select round_no, stage_code from provincial
    union
    select round_no, stage_code from city
),

spine as (
    select rs.round_no, rs.stage_code, m.measure
    from round_stages as rs
    cross join (values ('project_count'), ('investment_yi')) as m (measure)
),

joined as (
    select
        s.round_no,
        s.stage_code,
        s.measure,
        p.value                                    as provincial_value,
        p.qualifier                                as provincial_qualifier,
        p.value_decimals,
        case when p.value is not null
             then {{ rounding_tolerance('s.measure', 'p.value_decimals') }} end as tolerance,
        case when coalesce(c.submitting_city_count, 0) > 0 then c.city_sum end as city_sum,
        coalesce(c.submitting_city_count, 0)       as submitting_city_count,
        r.value                                    as reference_published_value,
        p.has_conflicting_values,
        p.source_text,
        p.file_path                                as bulletin_file_path
    from spine as s
    left join provincial as p
        on p.round_no = s.round_no and p.stage_code = s.stage_code and p.measure = s.measure
    left join city_long as c
        on c.round_no = s.round_no and c.stage_code = s.stage_code and c.measure = s.measure
    left join reference as r
        on r.round_no = s.round_no and r.stage_code = s.stage_code and r.measure = s.measure
)

select
    round_no,
    stage_code,
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
    reference_published_value,
    has_conflicting_values,
    source_text,
    bulletin_file_path
from joined
