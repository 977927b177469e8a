-- One row per round N per counting definition (累计口径): the cumulative number of projects and 亿元
-- over rounds 1..N computed from the city submissions (or the published round totals), next to what
-- a bulletin states for the same N. Definitions:
--   distinct_projects       projects (lifecycle keys) listed in any stage of rounds 1..N, each counted
--                           once; 亿元 = sum of each project's latest listed amount up to round N
--   stage_entries           project-stage rows of rounds 1..N (a project signed, started and in
--                           production counts 3 times; carried-over 投产 included)
--   new_entries             签约 + 开工 rows of rounds 1..N (投产 left out: it is carried over)
--   published_stage_totals  sum of the provincial headline figures of all stages, rounds 1..N
--                           (is_complete = every round 1..N published all six figures)
-- A computed figure matches a stated one when they differ by at most 0.05% of the stated value
-- (cumulative statements are rounded, e.g. 13.87万亿元, and their decimals are not recorded).
-- not materialised: read three times, each reader scans the table itself (no copy of every row)
with stages as not materialized (
    select s.*, o.stage_order
    from {{ ref('fct_project_stage') }} as s
    join {{ ref('dim_stage') }} as o using (stage_code)
),

stated as (
    select
        cumulative_rounds                                   as as_of_round_no,
        count(*)                                            as statement_count,
        bool_or(has_conflicting_values)                     as has_conflicting_statements,
        case when count(distinct cumulative_projects) <= 1 then max(cumulative_projects) end
                                                            as stated_projects,
        case when count(distinct cumulative_investment_yi) <= 1 then max(cumulative_investment_yi) end
                                                            as stated_investment_yi,
        string_agg(distinct file_path, '; ' order by file_path) as stated_in_files
    from {{ ref('fct_bulletin_cumulative') }}
    group by cumulative_rounds
),

rounds as (
    select distinct round_no as as_of_round_no from stages
    union
    select as_of_round_no from stated
),

-- Running sums over rounds, not a join of every round to all earlier ones: the work grows with the
-- rows, not with rows x rounds (which, at 90 rounds of history, took most of a build and 9 GB).
round_listing as (
    -- a project's amount as of the end of each round it is listed in (its last stage that round)
    select
        lifecycle_key,
        round_no,
        -- the first row by stage_order desc, project_key (unique in a lifecycle's round), unsorted
        arg_min_null(investment_yi, {'s': -stage_order, 'k': project_key}) as investment_yi
    from stages
    group by lifecycle_key, round_no
),

amount_changes as (
    -- how each listing moves the sum of latest amounts, and whether it is the project's first
    select
        round_no,
        count(*) filter (where previous_yi is null)                  as new_projects,
        sum(investment_yi - coalesce(previous_yi, 0))                as latest_yi_change
    from (
        select *, lag(investment_yi) over (partition by lifecycle_key order by round_no) as previous_yi
        from round_listing
    )
    group by round_no
),

round_entries as (
    select
        round_no,
        count(*)                                                     as stage_entries,
        sum(investment_yi)                                           as stage_entries_yi,
        count(*) filter (where stage_code <> 'production')           as new_entries,
        sum(investment_yi) filter (where stage_code <> 'production') as new_entries_yi
    from stages
    group by round_no
),

running as (
    select
        r.as_of_round_no,
        sum(coalesce(a.new_projects, 0)) over w       as distinct_projects,
        sum(coalesce(a.latest_yi_change, 0)) over w   as distinct_projects_yi,
        sum(coalesce(e.stage_entries, 0)) over w      as stage_entries,
        sum(coalesce(e.stage_entries_yi, 0)) over w   as stage_entries_yi,
        sum(coalesce(e.new_entries, 0)) over w        as new_entries,
        sum(coalesce(e.new_entries_yi, 0)) over w     as new_entries_yi
    from rounds as r
    left join amount_changes as a on a.round_no = r.as_of_round_no
    left join round_entries as e on e.round_no = r.as_of_round_no
    window w as (order by r.as_of_round_no rows between unbounded preceding and current row)
),

distinct_projects as (
    select as_of_round_no, 'distinct_projects' as definition,
           distinct_projects as computed_projects, distinct_projects_yi as computed_investment_yi, true as is_complete
    from running
),

entries as (
    select * from running
),

published as (
    select
        r.as_of_round_no,
        sum(t.project_count)                                            as published_projects,
        sum(t.investment_yi)                                            as published_yi,
        count(distinct t.round_no) filter (
            where t.project_count is not null and t.investment_yi is not null)  as complete_stage_rounds,
        count(*) filter (where t.project_count is not null and t.investment_yi is not null) as complete_figures
    from rounds as r
    left join {{ ref('fct_bulletin_total') }} as t on t.round_no <= r.as_of_round_no
    group by r.as_of_round_no
),

computed as (
    select * from distinct_projects
    union all
    select as_of_round_no, 'stage_entries', stage_entries, stage_entries_yi, true from entries
    union all
    select as_of_round_no, 'new_entries', new_entries, new_entries_yi, true from entries
    union all
    select as_of_round_no, 'published_stage_totals', published_projects, published_yi,
           complete_figures = 3 * as_of_round_no
    from published
)

select
    c.as_of_round_no,
    c.definition,
    cast(c.computed_projects as bigint)                                 as computed_projects,
    cast(c.computed_investment_yi as decimal(18, 4))                    as computed_investment_yi,
    c.is_complete,
    s.stated_projects,
    s.stated_investment_yi,
    s.stated_in_files,
    coalesce(s.has_conflicting_statements, false)                       as has_conflicting_statements,
    c.computed_projects - s.stated_projects                             as project_difference,
    cast(c.computed_investment_yi - s.stated_investment_yi as decimal(18, 4)) as investment_difference,
    case when s.stated_projects is not null
         then abs(c.computed_projects - s.stated_projects) <= 0.0005 * s.stated_projects end
                                                                        as matches_stated_projects,
    case when s.stated_investment_yi is not null
         then abs(c.computed_investment_yi - s.stated_investment_yi) <= 0.0005 * s.stated_investment_yi end
                                                                        as matches_stated_investment
from computed as c
left join stated as s using (as_of_round_no)
