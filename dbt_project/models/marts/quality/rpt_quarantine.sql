-- One row per input row ingest refused to load (隔离行), of current file versions (and of files that
-- never reached the manifest), with the file's kind, round and reporting unit, the row as read and
-- the reason. A row with no row_number stands for a whole file that could not be read.
with quarantine as (
    select * from {{ ref('stg_raw__quarantine') }}
),

manifest as (
    select
        file_sha256,
        any_value(file_kind)    as file_kind,
        any_value(round_no)     as round_no,
        any_value(city_code)    as submitted_city_code,
        max(loaded_at)          as loaded_at
    from {{ ref('stg_raw__load_manifest') }}
    group by file_sha256
),

aliases as (
    select unit_alias, unit_code from {{ ref('int_unit_aliases_unnested') }}
)

select
    m.round_no,
    case when m.submitted_city_code is not null
         then coalesce(a.unit_code, '000000') end       as city_code,
    c.city_name_zh,
    coalesce(m.file_kind, 'unknown')                    as file_kind,
    q.file_path,
    q.file_sha256,
    q.sheet,
    q.row_number,
    q.row_number is null                                as is_whole_file,
    q.column_name,
    q.raw_values,
    q.reason,
    q.quarantined_at,
    m.file_sha256 is not null                           as is_in_manifest
from quarantine as q
left join manifest as m using (file_sha256)
left join aliases as a on a.unit_alias = lower(trim(m.submitted_city_code))
left join {{ ref('dim_city') }} as c on c.city_code = coalesce(a.unit_code, '000000')
