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
-- A view: int_project_lifecycles keeps the lifecycles incrementally; only latest_round_no (the
-- latest round listed anywhere) and what depends on it change for every project each round, and
-- they are added here at read time.
{{ config(materialized='view') }}

with lifecycles as (
    select * from {{ ref('int_project_lifecycles') }}
),

latest as (
    -- the latest round listed anywhere (a scan of one integer column)
    select max(round_no) as latest_round_no from {{ ref('fct_project_stage') }}
)

select
    -- every stored column but the incremental bookkeeping, in the stored order
    s.* exclude (member_key_hash),
    l.latest_round_no,
    l.latest_round_no - s.furthest_stage_round_no                      as rounds_since_last_move,
    s.furthest_stage_code <> 'production'
        and l.latest_round_no - s.furthest_stage_round_no >= {{ var('stalled_after_rounds') }}
                                                                       as is_not_moved
from lifecycles as s
cross join latest as l
