-- One row per match the lifecycle is unsure of (不确定匹配), for a person to confirm or correct:
--   ambiguous_name       a project without a code whose normalised name equals that of several coded
--                        projects of its city: not merged (one row per candidate)
--   similar_name         a project without a code whose name is only similar (Jaro-Winkler >=
--                        var('name_similarity_threshold')) to a coded project of its city: not merged
--                        (one row per candidate, best 3)
--   name_match_county_differs  merged by name, but the county (所在县区) differs from the coded project's
--   code_in_several_cities     one project code listed under more than one reporting unit: merged by code
--   code_name_changed          one project code listed under names that are not even similar: merged by
--                              code, but the code may have been reused for another project
-- is_merged tells whether the lifecycle treats the two as one project.
-- NOT MATERIALIZED: each CTE below is read more than once, and DuckDB would otherwise materialise
-- it whole (1M project-stage rows at 10^6) instead of scanning only what each reader needs
with identities as not materialized (
    select * from {{ ref('int_project_identities') }}
),

matches as not materialized (
    select * from {{ ref('int_project_name_matches') }}
),

projects as not materialized (
    select project_key, project_code, project_name, city_code, county
    from {{ ref('dim_project') }}
),

stages as not materialized (
    select project_key, project_code, round_no, city_code, project_name, project_name_normalized
    from {{ ref('int_project_stages_deduplicated') }}
),

name_candidates as (
    select
        case
            when m.match_kind = 'exact_name' and i.exact_candidate_count > 1 then 'ambiguous_name'
            when m.match_kind = 'similar_name' then 'similar_name'
            when m.match_kind = 'exact_name' and p.county is not null and c.county is not null
                 and p.county <> c.county then 'name_match_county_differs'
        end                                         as issue,
        m.project_key,
        i.lifecycle_key,
        p.project_code,
        m.city_code,
        p.project_name,
        m.candidate_project_key,
        m.candidate_project_code,
        c.project_name                              as candidate_project_name,
        m.name_similarity,
        i.lifecycle_key = m.candidate_project_key   as is_merged,
        'county ' || coalesce(p.county, '?') || ' vs ' || coalesce(c.county, '?') as detail
    from matches as m
    join identities as i using (project_key)
    join projects as p on p.project_key = m.project_key
    join projects as c on c.project_key = m.candidate_project_key
),

-- coded projects listed under more than one city or name. A cheap superset first (min <> max of the
-- values' hashes: different hashes are different values; NULLs hash too), then the exact count(distinct)
-- and the ordered aggregates on those few projects' rows only.
several as (
    select
        project_key,
        min(hash(city_code)) <> max(hash(city_code))                               as has_several_cities,
        min(hash(project_name_normalized)) <> max(hash(project_name_normalized))   as has_several_names
    from stages
    where project_code is not null
    group by project_key
    having has_several_cities or has_several_names
),

code_cities as (
    select
        project_key,
        any_value(project_code)                                   as project_code,
        string_agg(distinct city_code, ', ' order by city_code)   as city_codes
    from stages
    where project_code is not null
      and project_key in (select project_key from several where has_several_cities)
    group by project_key
    having count(distinct city_code) > 1
),

code_names as (
    select
        project_key,
        any_value(project_code)                                   as project_code,
        -- the name breaks ties within a round (one code listed under two names), so reruns agree
        first(project_name order by round_no, project_name)                 as first_name,
        first(project_name order by round_no desc, project_name desc)       as latest_name,
        jaro_winkler_similarity(
            first(project_name_normalized order by round_no, project_name),
            first(project_name_normalized order by round_no desc, project_name desc)) as name_similarity
    from stages
    where project_code is not null
      and project_key in (select project_key from several where has_several_names)
    group by project_key
    having count(distinct project_name_normalized) > 1
)

select * from name_candidates where issue is not null

union all

select
    'code_in_several_cities', k.project_key, i.lifecycle_key, k.project_code, p.city_code, p.project_name,
    cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as double), true,
    'listed under units ' || k.city_codes
from code_cities as k
join identities as i using (project_key)
join projects as p using (project_key)

union all

select
    'code_name_changed', n.project_key, i.lifecycle_key, n.project_code, p.city_code, n.latest_name,
    cast(null as varchar), cast(null as varchar), n.first_name, n.name_similarity, true,
    'first listed as ' || n.first_name
from code_names as n
join identities as i using (project_key)
join projects as p using (project_key)
where n.name_similarity < {{ var('name_similarity_threshold') }}
