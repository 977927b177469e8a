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
    false                      as is_unknown,
    -- 航空港区 has no GB/T 2260 code: 410173 is its statistical division code (统计用区划代码)
    case when unit_code = '410173' then 'statistical' else 'gb_t_2260' end as code_kind,
    -- 航空港区 reports separately although it lies inside 郑州市
    case when unit_code = '410173' then '410100' end as parent_city_code,
    case unit_code when '419001' then 18 when '410173' then 19
         else cast(substr(unit_code, 3, 2) as integer) end as sort_order
from units

union all

select
    unit_code,
    name_zh,
    short_zh,
    name_en,
    unit_type,
    aliases,
    true,
    'none',
    cast(null as varchar),
    99
from unknown_member
