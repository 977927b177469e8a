-- One row per cumulative statement (累计) in a current Henan bulletin file, as published: "since July
-- 2021, N rounds ... X projects, total investment Y亿元". Published cumulative totals are not on one
-- definition (domain notes: 13110 projects after 6 rounds cannot be on the same basis as 14156 after
-- 10), so they are kept as stated; rpt_cumulative_comparison sets them next to sums computed under
-- each definition. statement_count and has_conflicting_values compare the files stating a
-- cumulative total over the same number of rounds.
with bulletins as (
    select * from {{ ref('stg_raw__bulletins') }}
    where cumulative_projects is not null or cumulative_investment_yi is not null
)

select
    file_sha256,
    file_path,
    source_url,
    round_no                                                  as bulletin_round_no,
    held_on,
    coalesce(cumulative_rounds, round_no)                     as cumulative_rounds,
    cumulative_rounds is null                                 as is_rounds_inferred,
    cumulative_projects,
    cumulative_investment_yi,
    cumulative_qualifier,
    count(*) over w                                           as statement_count,
    count(distinct cumulative_projects) over w > 1
        or count(distinct cumulative_investment_yi) over w > 1 as has_conflicting_values
from bulletins
window w as (partition by coalesce(cumulative_rounds, round_no))
