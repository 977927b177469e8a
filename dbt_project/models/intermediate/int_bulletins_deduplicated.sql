-- One row per round: the Henan bulletin of that round. Should two current bulletin files report the
-- same round, the one loaded last wins (then the later file path); bulletin_file_count tells, and
-- has_conflicting_metadata says whether they disagree on the date or the main venue.
{{ config(materialized='ephemeral') }}

with bulletins as (
    select * from {{ ref('stg_raw__bulletins') }}
),

manifest as (
    select file_sha256, max(loaded_at) as loaded_at
    from {{ ref('stg_raw__load_manifest') }}
    where is_current
    group by file_sha256
),

ranked as (
    select
        b.*,
        m.loaded_at,
        row_number() over (
            partition by b.round_no
            order by m.loaded_at desc nulls last, b.file_path desc
        ) as file_rank,
        count(*) over (partition by b.round_no) as bulletin_file_count,
        count(distinct b.held_on) over (partition by b.round_no) > 1
            or count(distinct b.main_venue) over (partition by b.round_no) > 1 as has_conflicting_metadata
    from bulletins as b
    left join manifest as m using (file_sha256)
    where b.round_no is not null
)

select * exclude (file_rank)
from ranked
where file_rank = 1
