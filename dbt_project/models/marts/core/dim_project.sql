-- One row per project (project_key). Name, city, county, enterprise, sector and size band come from
-- the latest round the project appears in (in that round: the latest stage); first/last rounds per
-- stage summarise its path. lifecycle_key links the project to fct_project_lifecycle (a project
-- listed without a code can be the same project as a coded one: see int_project_identities);
-- dim_project_history keeps the earlier values of the attributes.
-- Kept by project: a run rebuilds the projects listed in a changed round, now or before (within
-- first..last round), and those whose lifecycle key or match method changed (only a project without
-- a code can: a coded one is always its own lifecycle, by project_code).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="""{{ delete_incremental_projects(
        'select d.project_key from ' ~ this ~ ' as d join changed_rounds as c
           on c.round_no between d.first_round_no and d.last_round_no
         union
         select d.project_key
         from (select project_key, lifecycle_key, match_method from ' ~ this ~ ' where project_code is null) as d
         join ' ~ ref('int_project_identities') ~ ' as i using (project_key)
         where d.lifecycle_key is distinct from i.lifecycle_key
            or d.match_method is distinct from i.match_method') }}"""
) }}

with stages as (
    select * from {{ ref('int_project_stages_deduplicated') }}
    where {{ incremental_projects_filter() }}
),

stage_order as (
    select stage_code, stage_order from {{ ref('ref_stages') }}
),

latest as (
    select
        s.*,
        row_number() over (
            partition by s.project_key
            order by s.round_no desc, o.stage_order desc nulls last, s.file_path, s.row_number
        ) as recency_rank
    from stages as s
    left join stage_order as o using (stage_code)
),

identities as (
    select * from {{ ref('int_project_identities') }}
),

path as (
    select
        project_key,
        min(round_no)                                                 as first_round_no,
        max(round_no)                                                 as last_round_no,
        count(distinct round_no)                                      as round_count,
        min(case when stage_code = 'signed' then round_no end)        as first_signed_round_no,
        min(case when stage_code = 'started' then round_no end)       as first_started_round_no,
        min(case when stage_code = 'production' then round_no end)    as first_production_round_no
    from stages
    group by project_key
)

select
    l.project_key,
    l.project_code,
    l.project_name,
    l.city_code,
    l.submitted_city_code,
    l.county,
    l.sector_code,
    l.sector_label,
    l.investment_yi                 as latest_investment_yi,
    l.round_no                      as latest_round_no,
    l.stage_code                    as latest_stage_code,
    p.first_round_no,
    p.last_round_no,
    p.round_count,
    p.first_signed_round_no,
    p.first_started_round_no,
    p.first_production_round_no,
    l.enterprise,
    l.size_band_code,
    i.lifecycle_key,
    i.match_method
from latest as l
join path as p using (project_key)
left join identities as i using (project_key)
where l.recency_rank = 1
