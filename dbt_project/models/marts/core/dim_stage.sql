-- One row per stage of the campaign: signed (签约一批), started (开工一批), production (投产一批).
select
    stage_code,
    stage_name_zh,
    stage_name_en,
    stage_order,
    -- since round 8 the production batch is generated from earlier 开工 projects (结转投产)
    stage_code = 'production' as is_carry_over_stage
from {{ ref('ref_stages') }}
