-- One row per project per version of its attributes (SCD type 2, 项目属性变更历史): a new version
-- starts in the first round where the project's name, city, county, enterprise, sector label, sector
-- or amount (亿元) differs from the round it was last listed in. A version is valid from
-- valid_from_round_no up to and including valid_to_round_no (NULL = the current version); in each
-- round the attributes of the project's latest stage in that round count. changed_columns names what
-- changed against the previous version.
-- Kept by project: a run rebuilds the history of the projects listed in a changed round, now or
-- before (a project's rounds all lie within the valid_from..last_listed span of one of its versions).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="""{{ delete_incremental_projects(
        'select h.project_key from ' ~ this ~ ' as h join changed_rounds as c
           on c.round_no between h.valid_from_round_no and h.last_listed_round_no') }}"""
) }}

with stages as (
    select * from {{ ref('int_project_stages_deduplicated') }}
    where {{ incremental_projects_filter() }}
),

stage_order as (
    select stage_code, stage_order from {{ ref('ref_stages') }}
),

per_round as (
    select * exclude (stage_rank)
    from (
        select
            s.project_key,
            s.round_no,
            s.stage_code,
            s.project_code,
            s.project_name,
            s.city_code,
            s.county,
            s.enterprise,
            s.sector_label,
            s.sector_code,
            s.investment_yi,
            s.size_band_code,
            row_number() over (
                partition by s.project_key, s.round_no
                order by o.stage_order desc nulls last, s.file_path, s.row_number
            ) as stage_rank
        from stages as s
        left join stage_order as o using (stage_code)
    )
    where stage_rank = 1
),

compared as (
    select
        *,
        lag(project_name)  over w as prev_project_name,
        lag(city_code)     over w as prev_city_code,
        lag(county)        over w as prev_county,
        lag(enterprise)    over w as prev_enterprise,
        lag(sector_label)  over w as prev_sector_label,
        lag(sector_code)   over w as prev_sector_code,
        lag(investment_yi) over w as prev_investment_yi,
        lag(round_no)      over w as prev_round_no
    from per_round
    window w as (partition by project_key order by round_no)
),

flagged as (
    select
        *,
        concat_ws(', ',
            case when project_name is distinct from prev_project_name then 'project_name' end,
            case when city_code is distinct from prev_city_code then 'city_code' end,
            case when county is distinct from prev_county then 'county' end,
            case when enterprise is distinct from prev_enterprise then 'enterprise' end,
            case when sector_label is distinct from prev_sector_label then 'sector_label' end,
            case when sector_code is distinct from prev_sector_code then 'sector_code' end,
            case when investment_yi is distinct from prev_investment_yi then 'investment_yi' end
        ) as changes
    from compared
),

versioned as (
    select
        *,
        cast(sum(case when prev_round_no is null or changes <> '' then 1 else 0 end)
            over (partition by project_key order by round_no rows unbounded preceding) as integer) as version_no
    from flagged
),

versions as (
    select
        project_key,
        version_no,
        min(round_no)                                   as valid_from_round_no,
        max(round_no)                                   as last_listed_round_no,
        count(*)                                        as listed_round_count,
        first(project_code order by round_no) as project_code,
        first(project_name order by round_no) as project_name,
        first(city_code order by round_no) as city_code,
        first(county order by round_no) as county,
        first(enterprise order by round_no) as enterprise,
        first(sector_label order by round_no) as sector_label,
        first(sector_code order by round_no) as sector_code,
        first(investment_yi order by round_no) as investment_yi,
        first(size_band_code order by round_no) as size_band_code,
        first(stage_code order by round_no) as first_stage_code,
        case when version_no = 1 then cast(null as varchar)
             else first(changes order by round_no) end        as changed_columns
    from versioned
    group by project_key, version_no
)

select
    md5(project_key || '|' || version_no)               as project_version_key,
    project_key,
    version_no,
    valid_from_round_no,
    lead(valid_from_round_no) over w - 1                as valid_to_round_no,
    lead(valid_from_round_no) over w is null            as is_current,
    last_listed_round_no,
    listed_round_count,
    project_code,
    project_name,
    city_code,
    county,
    enterprise,
    sector_label,
    sector_code,
    investment_yi,
    size_band_code,
    first_stage_code,
    changed_columns
from versions
window w as (partition by project_key order by version_no)
