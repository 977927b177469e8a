-- One row per project key, with the lifecycle key that follows the project across rounds and stages:
--   project_code           the project has a code: the code identifies it (lifecycle_key = project_key)
--   name_to_coded_project  no code, and its normalised name equals the name of exactly one coded
--                          project of the same city: it is that project
--   name_in_city           no code and no such single match: identified by city and normalised name
--                          (so spelling variants of the same name are one project)
-- Ambiguous and near matches are never merged; rpt_lifecycle_uncertain_matches lists them.
-- A table: four marts and its tests read it, and a view would be computed again for each. Kept by
-- project: a coded project's identity never changes (its code is its lifecycle), so a run adds the
-- projects new in a changed round, rebuilds every project without a code (few, and a new coded
-- project of their city and name can change theirs), and drops those no longer listed anywhere
-- (macros/incremental_rounds.sql, delete_incremental_identities).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_incremental_identities() }}"
) }}

with projects as (
    -- a coded project's key is md5 of its code (one code per key) and only its code matters below:
    -- one distinct pass over the coded rows; city and name are taken for the codeless ones only
    select distinct
        project_key,
        project_code,
        cast(null as varchar)                   as city_code,
        cast(null as varchar)                   as project_name_normalized
    from {{ ref('int_project_stages_deduplicated') }}
    where project_code is not null
      and {{ incremental_projects_filter() }}
    union all
    select
        project_key,
        cast(null as varchar)                   as project_code,
        any_value(city_code)                    as city_code,
        any_value(project_name_normalized)      as project_name_normalized
    from {{ ref('int_project_stages_deduplicated') }}
    where project_code is null
    group by project_key
),

matches as (
    select
        project_key,
        count(distinct candidate_project_key) filter (where match_kind = 'exact_name')   as exact_candidate_count,
        count(distinct candidate_project_key) filter (where match_kind = 'similar_name') as similar_candidate_count,
        min(candidate_project_key) filter (where match_kind = 'exact_name')              as exact_candidate_key
    from {{ ref('int_project_name_matches') }}
    group by project_key
)

select
    p.project_key,
    case
        when p.project_code is not null then p.project_key
        when m.exact_candidate_count = 1 then m.exact_candidate_key
        else md5('name|' || p.city_code || '|' || p.project_name_normalized)
    end                                                    as lifecycle_key,
    case
        when p.project_code is not null then 'project_code'
        when m.exact_candidate_count = 1 then 'name_to_coded_project'
        else 'name_in_city'
    end                                                    as match_method,
    coalesce(m.exact_candidate_count, 0)                   as exact_candidate_count,
    coalesce(m.similar_candidate_count, 0)                 as similar_candidate_count
from projects as p
left join matches as m using (project_key)
