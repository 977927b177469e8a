-- One row per project followed through its life (lifecycle_key, 项目全周期): the round it was first
-- listed as signed (签约), started (开工) and in production (投产), the amount at each step, how many
-- rounds each step took, and whether it has stopped moving. Projects are followed by project code,
-- and by normalised name within the city where the code is missing (int_project_identities).
-- Definitions (vars in dbt_project.yml):
--   rounds_signed_to_started    started_round_no - signed_round_no (NULL unless started at or after signing)
--   rounds_started_to_production production_round_no - started_round_no (likewise)
--   is_not_moved                 not in production, and its furthest stage was reached at least
--                                var('stalled_after_rounds') rounds before the latest round listed
--   has_stage_order_anomaly      listed as started before signed, or in production before started
with stages as (
    select * from {{ ref('fct_project_stage') }}
),

stage_order as (
    select stage_code, stage_order from {{ ref('dim_stage') }}
),

identities as (
    select * from {{ ref('int_project_identities') }}
),

latest as (
    select max(round_no) as latest_round_no from stages
),

rows as (
    select s.*, o.stage_order
    from stages as s
    join stage_order as o using (stage_code)
),

per_stage as (
    select
        lifecycle_key,
        min(round_no) filter (where stage_code = 'signed')                               as signed_round_no,
        min(round_no) filter (where stage_code = 'started')                              as started_round_no,
        min(round_no) filter (where stage_code = 'production')                           as production_round_no,
        first(investment_yi order by round_no, project_key) filter (where stage_code = 'signed')     as signed_investment_yi,
        first(investment_yi order by round_no, project_key) filter (where stage_code = 'started')    as started_investment_yi,
        first(investment_yi order by round_no, project_key) filter (where stage_code = 'production') as production_investment_yi,
        first(investment_yi order by round_no desc, stage_order desc, project_key)       as latest_investment_yi,
        first(stage_code order by round_no, stage_order)                                 as entry_stage_code,
        max(stage_order)                                                                 as furthest_stage_order,
        min(round_no)                                                                    as first_round_no,
        max(round_no)                                                                    as last_round_no,
        count(distinct round_no)                                                         as listed_round_count,
        count(distinct project_key)                                                      as project_key_count,
        -- the project's key and code: a coded listing before a codeless one, then the latest
        first(project_key order by project_code is null, round_no desc, stage_order desc, project_key) as project_key,
        first(project_code order by project_code is null, round_no desc, stage_order desc, project_key) as project_code,
        count(*)                                                                         as project_stage_count
    from rows
    group by lifecycle_key
),

representative as (
    -- name, city, county and sector from the latest listing (in that round: the latest stage)
    select * exclude (attribute_rank)
    from (
        select
            r.lifecycle_key,
            r.project_name,
            r.city_code,
            r.county,
            r.sector_code,
            row_number() over (
                partition by r.lifecycle_key
                order by r.round_no desc, r.stage_order desc, r.project_code is null, r.project_key
            ) as attribute_rank
        from rows as r
    )
    where attribute_rank = 1
),

name_matched as (
    select i.lifecycle_key, bool_or(i.match_method <> 'project_code') as has_name_match
    from identities as i
    group by i.lifecycle_key
),

shaped as (
    select
        p.*,
        case p.furthest_stage_order when 1 then 'signed' when 2 then 'started' when 3 then 'production' end
            as furthest_stage_code,
        case p.furthest_stage_order
            when 1 then p.signed_round_no when 2 then p.started_round_no when 3 then p.production_round_no
        end as furthest_stage_round_no,
        l.latest_round_no
    from per_stage as p
    cross join latest as l
)

select
    s.lifecycle_key,
    s.project_key,
    s.project_code,
    r.project_name,
    r.city_code,
    r.county,
    r.sector_code,
    {{ size_band_code('s.latest_investment_yi') }}                     as size_band_code,
    coalesce(n.has_name_match, false)                                  as has_name_match,
    s.project_key_count,
    s.first_round_no,
    s.last_round_no,
    s.listed_round_count,
    s.project_stage_count,
    s.entry_stage_code,
    s.signed_round_no,
    s.started_round_no,
    s.production_round_no,
    s.signed_investment_yi,
    s.started_investment_yi,
    s.production_investment_yi,
    s.latest_investment_yi,
    s.furthest_stage_code,
    s.furthest_stage_round_no,
    case when s.started_round_no >= s.signed_round_no
         then s.started_round_no - s.signed_round_no end               as rounds_signed_to_started,
    case when s.production_round_no >= s.started_round_no
         then s.production_round_no - s.started_round_no end           as rounds_started_to_production,
    s.started_round_no is not null                                     as is_started,
    s.production_round_no is not null                                  as is_in_production,
    coalesce(s.started_round_no < s.signed_round_no, false)
        or coalesce(s.production_round_no < s.started_round_no, false) as has_stage_order_anomaly,
    s.latest_round_no,
    s.latest_round_no - s.furthest_stage_round_no                      as rounds_since_last_move,
    s.furthest_stage_code <> 'production'
        and s.latest_round_no - s.furthest_stage_round_no >= {{ var('stalled_after_rounds') }}
                                                                       as is_not_moved
from shaped as s
join representative as r using (lifecycle_key)
left join name_matched as n using (lifecycle_key)
