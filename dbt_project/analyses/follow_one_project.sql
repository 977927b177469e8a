-- Follow one project through the rounds (单个项目全周期): every listing, in order, with the version of
-- its attributes that applied. Set the project with --vars '{project_code: "410100-R01-0001"}'.
select
    f.round_no,
    s.stage_name_zh                                  as stage,
    f.project_code,
    f.project_name,
    f.investment_yi,
    f.is_carried_over,
    h.version_no,
    h.changed_columns,
    l.signed_round_no,
    l.started_round_no,
    l.production_round_no
from {{ ref('fct_project_stage') }} as f
join {{ ref('dim_stage') }} as s using (stage_code)
join {{ ref('fct_project_lifecycle') }} as l using (lifecycle_key)
left join {{ ref('dim_project_history') }} as h
    on h.project_key = f.project_key
   and f.round_no between h.valid_from_round_no and coalesce(h.valid_to_round_no, f.round_no)
where l.project_code = '{{ var("project_code", "410100-R01-0001") }}'
order by f.round_no, s.stage_order
