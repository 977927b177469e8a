-- One row per candidate match of a project listed without a code (无项目编码) to a coded project of
-- the same city (conformed city code), by normalised name: `exact_name` when the normalised names
-- are equal, else `similar_name` when their Jaro-Winkler similarity reaches
-- var('name_similarity_threshold') (the best candidates only, at most 3 per codeless project).
-- Only exact, single candidates are used to merge lifecycles (int_project_identities); everything
-- else is reported in rpt_lifecycle_uncertain_matches.
-- A table: the name comparison (a join of every codeless project to the coded projects of its city)
-- is the costliest step of the lifecycle, and int_project_identities and
-- rpt_lifecycle_uncertain_matches both read it.
{{ config(materialized='table') }}

with codeless as (
    select distinct project_key, city_code, project_name_normalized
    from {{ ref('int_project_stages_deduplicated') }}
    where project_code is null
),

coded as (
    -- only cities with a codeless project can match (both joins below are within a city)
    select distinct project_key, project_code, city_code, project_name_normalized
    from {{ ref('int_project_stages_deduplicated') }}
    where project_code is not null
      and city_code in (select city_code from codeless)
),

exact_matches as (
    select distinct
        c.project_key      as project_key,
        k.project_key      as candidate_project_key,
        k.project_code     as candidate_project_code,
        c.city_code,
        c.project_name_normalized,
        k.project_name_normalized as candidate_name_normalized,
        'exact_name'       as match_kind,
        1.0                as name_similarity
    from codeless as c
    join coded as k
        on k.city_code = c.city_code
       and k.project_name_normalized = c.project_name_normalized
),

similar_names as (
    select
        c.project_key,
        k.project_key      as candidate_project_key,
        k.project_code     as candidate_project_code,
        c.city_code,
        c.project_name_normalized,
        k.project_name_normalized as candidate_name_normalized,
        'similar_name'     as match_kind,
        jaro_winkler_similarity(c.project_name_normalized, k.project_name_normalized) as name_similarity
    from codeless as c
    join coded as k
        on k.city_code = c.city_code
       and k.project_name_normalized <> c.project_name_normalized
    where c.project_key not in (select project_key from exact_matches)
      and jaro_winkler_similarity(c.project_name_normalized, k.project_name_normalized)
          >= {{ var('name_similarity_threshold') }}
),

best_similar as (
    select * exclude (candidate_rank)
    from (
        select
            *,
            row_number() over (
                partition by project_key, candidate_project_key order by name_similarity desc
            ) as pair_rank,
            dense_rank() over (partition by project_key order by name_similarity desc, candidate_project_key) as candidate_rank
        from similar_names
    )
    where pair_rank = 1 and candidate_rank <= 3
)

select
    project_key, candidate_project_key, candidate_project_code, city_code,
    project_name_normalized, candidate_name_normalized, match_kind,
    cast(name_similarity as double) as name_similarity
from exact_matches

union all

select
    project_key, candidate_project_key, candidate_project_code, city_code,
    project_name_normalized, candidate_name_normalized, match_kind,
    cast(name_similarity as double)
from best_similar
