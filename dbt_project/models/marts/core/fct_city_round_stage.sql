-- One row per round per city per stage. For every round with city submissions, every one of the
-- 19 units appears with every stage, with zeros where it listed no project (so missing reports are
-- visible); the unknown city 000000 appears only when rows were mapped to it.
with facts as (
    select * from {{ ref('fct_project_stage') }}
),

cities as (
    select city_code, is_unknown from {{ ref('dim_city') }}
),

stages as (
    select stage_code from {{ ref('dim_stage') }}
),

submission_files as (
    select distinct round_no, city_code
    from {{ ref('stg_raw__load_manifest') }}
    where is_current and file_kind = 'submission'
),

rounds as (
    select round_no from facts
    union
    select round_no from submission_files where round_no is not null
),

totals as (
    select
        round_no,
        city_code,
        stage_code,
        count(*)                                     as project_count,
        cast(sum(investment_yi) as decimal(18, 4))   as investment_yi
    from facts
    group by round_no, city_code, stage_code
),

grid as (
    select r.round_no, c.city_code, s.stage_code
    from rounds as r
    cross join cities as c
    cross join stages as s
    where not c.is_unknown
    union
    select round_no, city_code, stage_code from totals
)

select
    g.round_no,
    g.city_code,
    g.stage_code,
    coalesce(t.project_count, 0)                            as project_count,
    coalesce(t.investment_yi, cast(0 as decimal(18, 4)))    as investment_yi,
    t.project_count is not null                             as has_projects,
    f.city_code is not null                                 as has_submission_file
from grid as g
left join totals as t
    on t.round_no = g.round_no and t.city_code = g.city_code and t.stage_code = g.stage_code
left join submission_files as f
    on f.round_no = g.round_no and f.city_code = g.city_code
