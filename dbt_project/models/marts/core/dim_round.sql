-- One row per round seen anywhere: in city submissions, in Henan bulletins or in ref_rounds.
-- held_on and main_venue come from the round's bulletin, else from ref_rounds; the event's format
-- (video conference, main venue with sub-venues ...) from ref_round_events where sources say.
with bulletins as (
    select * from {{ ref('int_bulletins_deduplicated') }}
),

reference as (
    select * from {{ ref('ref_rounds') }}
),

events as (
    select * from {{ ref('ref_round_events') }}
),

submissions as (
    select
        round_no,
        count(distinct city_code) as submitting_city_count,
        count(*)                  as project_stage_count
    from {{ ref('int_project_stages_deduplicated') }}
    group by round_no
),

figures as (
    select distinct round_no
    from {{ ref('int_bulletin_figures_resolved') }}
    where round_no is not null
),

all_rounds as (
    select round_no from bulletins
    union
    select round_no from reference
    union
    select round_no from submissions
    union
    select round_no from figures
)

select
    r.round_no,
    '第' || r.round_no || '期'                                     as round_name_zh,
    coalesce(b.held_on, ref.held_on)                               as held_on,
    case when b.held_on is not null then 'bulletin'
         when ref.held_on is not null then 'ref_rounds' end        as held_on_source,
    coalesce(b.main_venue, ref.main_venue)                         as main_venue,
    case when b.main_venue is not null then 'bulletin'
         when ref.main_venue is not null then 'ref_rounds' end     as main_venue_source,
    ref.held_on                                                    as reference_held_on,
    b.held_on is not null and ref.held_on is not null
        and b.held_on <> ref.held_on                               as held_on_differs_from_reference,
    b.file_path                                                    as bulletin_file_path,
    b.source_url                                                   as bulletin_source_url,
    coalesce(b.bulletin_file_count, 0)                             as bulletin_file_count,
    b.cumulative_rounds,
    b.cumulative_projects,
    b.cumulative_investment_yi,
    b.cumulative_qualifier,
    b.round_no is not null                                         as has_bulletin,
    s.round_no is not null                                         as has_submissions,
    ref.round_no is not null                                       as is_in_reference,
    coalesce(s.submitting_city_count, 0)                           as submitting_city_count,
    coalesce(s.project_stage_count, 0)                             as project_stage_count,
    year(coalesce(b.held_on, ref.held_on))                         as held_year,
    year(coalesce(b.held_on, ref.held_on)) || 'Q'
        || quarter(coalesce(b.held_on, ref.held_on))               as held_quarter,
    e.event_name_zh,
    e.event_format,
    e.event_format_zh,
    e.format_source                                                as event_format_source,
    coalesce(b.has_conflicting_metadata, false)                    as has_conflicting_bulletin_metadata,
    coalesce(r.round_no = max(case when s.round_no is not null then r.round_no end) over (), false)
                                                                   as is_latest_submitted_round
from all_rounds as r
left join bulletins as b on b.round_no = r.round_no
left join reference as ref on ref.round_no = r.round_no
left join submissions as s on s.round_no = r.round_no
left join events as e on e.round_no = r.round_no
where r.round_no is not null
