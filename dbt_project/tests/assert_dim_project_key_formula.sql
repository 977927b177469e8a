{{ config(store_failures=true) }}
-- The project key is md5(coalesce(project_code, city_code || '|' || project_name)) of the submitted
-- city code: recompute it from dim_project (in an incremental build, for the projects it rebuilt).
select project_key, project_code, submitted_city_code, project_name
from {{ ref('dim_project') }}
where project_key <> {{ project_key('project_code', 'submitted_city_code', 'project_name') }}
  and {{ changed_keys_condition(ref('dim_project'), 'project_key') }}
