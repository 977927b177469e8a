-- One row per file version ingest recorded (load_manifest), current or superseded: the load's own
-- accounting (rows_read = rows_loaded + rows_quarantined, is_balanced) and what the raw tables hold
-- for the file (rows_in_raw: submission rows for a submission, bulletin figures for a current
-- bulletin; quarantined_rows_in_raw: quarantined rows with a row number, for current versions),
-- plus its findings and reader warnings. The build fails on an unbalanced file and warns when the
-- raw tables do not hold what the manifest says.
with manifest as (
    select * from {{ ref('stg_raw__load_manifest') }}
),

submission_rows as (
    select file_sha256, count(*) as row_count
    from {{ ref('stg_raw__submission_rows_all_versions') }}
    group by file_sha256
),

figures as (
    select file_sha256, count(*) as row_count
    from {{ ref('stg_raw__bulletin_figures') }}
    group by file_sha256
),

henan_bulletins as (
    select distinct file_sha256 from {{ ref('stg_raw__bulletins') }}
),

quarantined as (
    select file_sha256, count(*) filter (where row_number is not null) as row_count, count(*) as all_rows
    from {{ ref('stg_raw__quarantine') }}
    group by file_sha256
),

findings as (
    select file_sha256, count(*) as finding_count
    from {{ ref('stg_raw__submission_findings') }}
    group by file_sha256
),

warnings as (
    select file_sha256, count(*) as warning_count
    from {{ ref('stg_raw__bulletin_warnings') }}
    group by file_sha256
)

select
    m.file_path,
    m.file_sha256,
    m.file_kind,
    m.round_no,
    m.city_code                                                  as submitted_city_code,
    m.is_current,
    m.loaded_at,
    m.superseded_at,
    m.rows_read,
    m.rows_loaded,
    m.rows_quarantined,
    m.rows_skipped,
    m.rows_read = m.rows_loaded + m.rows_quarantined             as is_balanced,
    case
        when m.file_kind = 'submission' then coalesce(s.row_count, 0)
        -- staging keeps current Henan bulletins only: other files cannot be counted here
        when m.is_current and h.file_sha256 is not null then coalesce(f.row_count, 0)
    end                                                          as rows_in_raw,
    case when m.is_current then coalesce(q.row_count, 0) end     as quarantined_rows_in_raw,
    coalesce(q.all_rows, 0) > 0 and coalesce(q.row_count, 0) = 0 as is_whole_file_quarantined,
    coalesce(fi.finding_count, 0)                                as finding_count,
    coalesce(w.warning_count, 0)                                 as warning_count
from manifest as m
left join submission_rows as s on s.file_sha256 = m.file_sha256
left join figures as f on f.file_sha256 = m.file_sha256
left join henan_bulletins as h on h.file_sha256 = m.file_sha256
left join quarantined as q on q.file_sha256 = m.file_sha256
left join findings as fi on fi.file_sha256 = m.file_sha256
left join warnings as w on w.file_sha256 = m.file_sha256
