-- One row per sector label (产业类别, as cities and bulletins write it, trimmed), mapped to a sector of
-- the warehouse taxonomy: the core mapping (ref_sector_labels, which the sample generator also reads),
-- labels seen in real city and bulletin texts (ref_sector_labels_observed), and every sector's own
-- Chinese name. When a label is listed twice, the core mapping wins.
{{ config(materialized='ephemeral') }}

with sectors as (
    select sector_code, sector_name_zh from {{ ref('ref_sectors') }}
),

labels as (
    select
        trim(l.sector_label)                                        as sector_label,
        l.sector_code,
        case when trim(l.sector_label) = s.sector_name_zh then 'exact' else 'variant' end as match_kind,
        'ref_sector_labels'                                         as label_source,
        1                                                           as priority
    from {{ ref('ref_sector_labels') }} as l
    left join sectors as s using (sector_code)

    union all

    select trim(sector_label), sector_code, match_kind, 'ref_sector_labels_observed', 2
    from {{ ref('ref_sector_labels_observed') }}

    union all

    select trim(sector_name_zh), sector_code, 'exact', 'ref_sectors', 3
    from sectors
    where sector_code <> 'unknown'
),

ranked as (
    select *, row_number() over (partition by sector_label order by priority) as label_rank
    from labels
    where sector_label is not null and sector_label <> ''
)

select sector_label, sector_code, match_kind, label_source
from ranked
where label_rank = 1
