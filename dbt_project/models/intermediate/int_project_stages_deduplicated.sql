-- One row per project per round per stage. A project listed more than once for the same round and
-- stage (e.g. on two sheets, or by two cities under one project code) is counted once: the first
-- row by file path, sheet and row number wins; source_row_count says how many rows were merged.
-- A table: the star schema, the lifecycle and the project history all read it. The grain is within
-- a round, so it is kept by round: a run rebuilds only the rounds whose files changed
-- (macros/incremental_rounds.sql).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_incremental_rounds() }}"
) }}

with mapped as (
    select * from {{ ref('int_project_stages_mapped') }}
    where {{ incremental_rounds_filter() }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by project_key, round_no, stage_code
            order by file_path, sheet nulls first, row_number
        ) as row_rank,
        count(*) over (partition by project_key, round_no, stage_code) as source_row_count
    from mapped
)

select * exclude (row_rank)
from ranked
where row_rank = 1
