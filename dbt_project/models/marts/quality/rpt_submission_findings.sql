-- One row per finding about a current submission file version (报送问题) that did not stop its rows
-- from loading: a declared 合计 (total) row that differs from the sum of the rows, a duplicate
-- project, an implausible amount, one project code under two units ... with where it is (file,
-- sheet, row) and, for numeric findings, expected, actual and difference = actual − expected.
with findings as (
    select * from {{ ref('stg_raw__submission_findings') }}
),

aliases as (
    select unit_alias, unit_code from {{ ref('int_unit_aliases_unnested') }}
),

manifest as (
    select file_sha256, max(loaded_at) as loaded_at
    from {{ ref('stg_raw__load_manifest') }}
    group by file_sha256
)

select
    f.round_no,
    coalesce(a.unit_code, '000000')                      as city_code,
    c.city_name_zh,
    f.finding,
    f.detail,
    f.expected,
    f.actual,
    cast(f.actual - f.expected as decimal(18, 4))        as difference,
    f.file_path,
    f.file_sha256,
    f.sheet,
    f.row_number,
    m.loaded_at
from findings as f
left join aliases as a on a.unit_alias = lower(trim(f.city_code))
left join {{ ref('dim_city') }} as c on c.city_code = coalesce(a.unit_code, '000000')
left join manifest as m using (file_sha256)
