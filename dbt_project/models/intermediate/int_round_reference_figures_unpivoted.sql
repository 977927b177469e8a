-- One row per round per stage per measure that ref_rounds publishes a value for.
{{ config(materialized='ephemeral') }}

with rounds as (
    select * from {{ ref('ref_rounds') }}
),

unpivoted as (
    select round_no, 'signed' as stage_code, 'project_count' as measure, cast(signed_count as decimal(18, 4)) as value from rounds
    union all
    select round_no, 'signed', 'investment_yi', signed_invest_yi from rounds
    union all
    select round_no, 'started', 'project_count', cast(started_count as decimal(18, 4)) from rounds
    union all
    select round_no, 'started', 'investment_yi', started_invest_yi from rounds
    union all
    select round_no, 'production', 'project_count', cast(production_count as decimal(18, 4)) from rounds
    union all
    select round_no, 'production', 'investment_yi', production_invest_yi from rounds
)

select round_no, stage_code, measure, cast(value as decimal(18, 4)) as value
from unpivoted
where value is not null
