-- One row per reporting unit: the 19 units of ref_units plus the unknown member 000000 (未知), so a
-- fact with an unrecognised city code stays visible instead of being dropped.
with units as (
    select * from {{ ref('ref_units') }}
),

unknown_member as (
    select
        '000000'  as unit_code,
        '未知'    as name_zh,
        '未知'    as short_zh,
        'Unknown' as name_en,
        '未知'    as unit_type,
        cast(null as varchar) as aliases
)

select
    unit_code                  as city_code,
    name_zh                    as city_name_zh,
    short_zh                   as city_short_name_zh,
    name_en                    as city_name_en,
    unit_type                  as city_type,
    aliases                    as city_aliases,
    false                      as is_unknown
from units

union all

select
    unit_code,
    name_zh,
    short_zh,
    name_en,
    unit_type,
    aliases,
    true
from unknown_member
