-- One row per project followed through its life (lifecycle_key, 项目全周期): everything
-- fct_project_lifecycle says about a project that does not depend on the latest round of the
-- warehouse (latest_round_no moves every row each round, so fct_project_lifecycle adds it and what
-- follows from it in a view over this table). Definitions: see fct_project_lifecycle.
-- Kept by lifecycle key: a run rebuilds the lifecycles with a row in a changed round, now or
-- before (within first..last round), and those whose member projects changed (member_key_hash:
-- a project moved to another lifecycle, or changed its match method) (macros/incremental_rounds.sql).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_incremental_lifecycles() }}"
) }}

with stages as (
    select * from {{ ref('fct_project_stage') }}
    where {{ incremental_lifecycles_filter() }}
),

stage_order as (
    select stage_code, stage_order from {{ ref('dim_stage') }}
),

identities as (
    select * from {{ ref('int_project_identities') }}
    where {{ incremental_lifecycles_filter() }}
),

rows as (
    select s.*, o.stage_order
    from stages as s
    join stage_order as o using (stage_code)
),

per_stage as (
    -- arg_min_null takes the value (NULL or not) of the first row by a key that is unique within the
    -- lifecycle, as first(... order by ...) would, without sorting each group; a descending part of
    -- the order is the negated number
    select
        lifecycle_key,
        min(round_no) filter (where stage_code = 'signed')                               as signed_round_no,
        min(round_no) filter (where stage_code = 'started')                              as started_round_no,
        min(round_no) filter (where stage_code = 'production')                           as production_round_no,
        arg_min_null(investment_yi, {'r': round_no, 'k': project_key}) filter (where stage_code = 'signed')
                                                                                         as signed_investment_yi,
        arg_min_null(investment_yi, {'r': round_no, 'k': project_key}) filter (where stage_code = 'started')
                                                                                         as started_investment_yi,
        arg_min_null(investment_yi, {'r': round_no, 'k': project_key}) filter (where stage_code = 'production')
                                                                                         as production_investment_yi,
        arg_min_null(investment_yi, {'r': -round_no, 's': -stage_order, 'k': project_key}) as latest_investment_yi,
        arg_min_null(stage_code, {'r': round_no, 's': stage_order})                      as entry_stage_code,
        max(stage_order)                                                                 as furthest_stage_order,
        min(round_no)                                                                    as first_round_no,
        max(round_no)                                                                    as last_round_no,
        count(distinct round_no)                                                         as listed_round_count,
        count(distinct project_key)                                                      as project_key_count,
        -- the project's key and code: a coded listing before a codeless one, then the latest
        arg_min_null({'project_key': project_key, 'project_code': project_code},
                     {'n': project_code is null, 'r': -round_no, 's': -stage_order, 'k': project_key})
                                                                                         as identity,
        -- name, city, county and sector from the latest listing (in that round: the latest stage)
        arg_min_null({'project_name': project_name, 'city_code': city_code, 'county': county, 'sector_code': sector_code},
                     {'r': -round_no, 's': -stage_order, 'n': project_code is null, 'k': project_key})
                                                                                         as attributes,
        count(*)                                                                         as project_stage_count
    from rows
    group by lifecycle_key
),

members as (
    select
        lifecycle_key,
        bool_or(match_method <> 'project_code')                 as has_name_match,
        {{ lifecycle_member_hash('project_key', 'match_method') }} as member_key_hash
    from identities
    group by lifecycle_key
),

shaped as (
    select
        p.*,
        case p.furthest_stage_order when 1 then 'signed' when 2 then 'started' when 3 then 'production' end
            as furthest_stage_code,
        case p.furthest_stage_order
            when 1 then p.signed_round_no when 2 then p.started_round_no when 3 then p.production_round_no
        end as furthest_stage_round_no
    from per_stage as p
)

select
    s.lifecycle_key,
    s.identity.project_key,
    s.identity.project_code,
    s.attributes.project_name,
    s.attributes.city_code,
    s.attributes.county,
    s.attributes.sector_code,
    {{ size_band_code('s.latest_investment_yi') }}                     as size_band_code,
    coalesce(m.has_name_match, false)                                  as has_name_match,
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
    m.member_key_hash
from shaped as s
left join members as m using (lifecycle_key)
