-- Every name a reporting unit goes by (code, official name, short name, English name, aliases),
-- normalised to lower case without surrounding spaces, mapped to the unit's code.
with units as (
    select * from {{ ref('ref_units') }}
),

names as (
    select unit_code, unit_code as unit_alias, 'code' as alias_kind from units
    union all
    select unit_code, name_zh, 'name_zh' from units
    union all
    select unit_code, short_zh, 'short_zh' from units
    union all
    select unit_code, name_en, 'name_en' from units
    union all
    select unit_code, unnest(string_split(aliases, '|')), 'alias' from units where aliases is not null
),

normalised as (
    select
        lower(trim(unit_alias)) as unit_alias,
        unit_code,
        alias_kind,
        -- the same string can be listed twice for one unit (e.g. short name and alias); a string
        -- shared by two units stays twice and fails the unique test on unit_alias
        row_number() over (
            partition by lower(trim(unit_alias)), unit_code
            order by case alias_kind when 'code' then 1 when 'name_zh' then 2 when 'short_zh' then 3
                                     when 'name_en' then 4 else 5 end
        ) as alias_rank
    from names
    where unit_alias is not null and trim(unit_alias) <> ''
)

select unit_alias, unit_code, alias_kind
from normalised
where alias_rank = 1
