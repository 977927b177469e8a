-- One row per submission file version (报送文件版本) of a round and reporting unit, current or
-- superseded, in order of arrival: when it arrived, whether it is current, and what changed against
-- the previous version of the same round and unit, in project count and 亿元 per stage (delta_* =
-- this version − previous; NULL for a first version) and in projects (by project key and stage):
-- added, removed, or listed in both with a different amount.
with versions as (
    select * from {{ ref('int_submission_file_versions') }}
),

cities as (
    select city_code, city_name_zh from {{ ref('dim_city') }}
),

aliases as (
    select unit_alias, unit_code from {{ ref('int_unit_aliases_unnested') }}
),

-- the projects of the versions compared (a version that has a previous one, and that previous one):
-- the rows of files never revised, most of the history, are not keyed and summed on every build
compared_files as (
    select file_sha256 from versions where previous_file_sha256 is not null
    union
    select previous_file_sha256 from versions where previous_file_sha256 is not null
),

version_projects as (
    select
        file_sha256,
        {{ project_key("nullif(trim(project_code), '')", 'city_code', 'trim(project_name)') }} as project_key,
        stage_code,
        sum(investment_yi) as investment_yi
    from {{ ref('stg_raw__submission_rows_all_versions') }}
    where file_sha256 in (select file_sha256 from compared_files)
    group by all
),

added_or_changed as (
    select
        v.file_sha256,
        count(*) filter (where p.project_key is null)                              as projects_added,
        count(*) filter (where p.project_key is not null
                           and p.investment_yi is distinct from c.investment_yi)   as projects_amount_changed
    from versions as v
    join version_projects as c on c.file_sha256 = v.file_sha256
    left join version_projects as p
        on p.file_sha256 = v.previous_file_sha256
       and p.project_key = c.project_key
       and p.stage_code = c.stage_code
    where v.previous_file_sha256 is not null
    group by v.file_sha256
),

removed as (
    select v.file_sha256, count(*) as projects_removed
    from versions as v
    join version_projects as p on p.file_sha256 = v.previous_file_sha256
    left join version_projects as c
        on c.file_sha256 = v.file_sha256
       and c.project_key = p.project_key
       and c.stage_code = p.stage_code
    where c.project_key is null
    group by v.file_sha256
)

select
    v.round_no,
    coalesce(a.unit_code, '000000')                                           as city_code,
    ci.city_name_zh,
    v.version_no,
    v.version_count,
    v.is_current,
    v.loaded_at,
    v.superseded_at,
    v.file_path,
    v.file_sha256,
    v.previous_file_sha256,
    prev.file_path                                                            as previous_file_path,
    v.rows_read,
    v.rows_loaded,
    v.rows_quarantined,
    v.signed_count,
    v.signed_investment_yi,
    v.started_count,
    v.started_investment_yi,
    v.production_count,
    v.production_investment_yi,
    v.signed_count + v.started_count + v.production_count                     as total_count,
    v.signed_investment_yi + v.started_investment_yi + v.production_investment_yi as total_investment_yi,
    v.signed_count - prev.signed_count                                        as delta_signed_count,
    v.signed_investment_yi - prev.signed_investment_yi                        as delta_signed_investment_yi,
    v.started_count - prev.started_count                                      as delta_started_count,
    v.started_investment_yi - prev.started_investment_yi                      as delta_started_investment_yi,
    v.production_count - prev.production_count                                as delta_production_count,
    v.production_investment_yi - prev.production_investment_yi                as delta_production_investment_yi,
    case when prev.file_sha256 is not null then coalesce(ac.projects_added, 0) end          as projects_added,
    case when prev.file_sha256 is not null then coalesce(r.projects_removed, 0) end         as projects_removed,
    case when prev.file_sha256 is not null then coalesce(ac.projects_amount_changed, 0) end as projects_amount_changed
from versions as v
left join versions as prev on prev.file_sha256 = v.previous_file_sha256
left join aliases as a on a.unit_alias = lower(trim(v.submitted_city_code))
left join cities as ci on ci.city_code = coalesce(a.unit_code, '000000')
left join added_or_changed as ac on ac.file_sha256 = v.file_sha256
left join removed as r on r.file_sha256 = v.file_sha256
