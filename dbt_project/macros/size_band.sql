{#
    Size bands (规模) by total investment in 亿元, from the ref_size_bands seed: a band holds
    lower_yi <= investment < upper_yi (upper_yi NULL = no upper limit).
#}
{% macro size_band_code(investment_yi) -%}
    case
        when {{ investment_yi }} is null then null
        when {{ investment_yi }} < 1 then 'under_1'
        when {{ investment_yi }} < 10 then '1_to_10'
        when {{ investment_yi }} < 50 then '10_to_50'
        when {{ investment_yi }} < 100 then '50_to_100'
        else '100_plus'
    end
{%- endmacro %}

{#
    Bounds in 亿元 of a size-band label as bulletins write it (规模分类):
      "10亿元以上" / "超10亿元" / "10亿元及以上"  -> [10, NULL)   (以上 includes the number, as in
                                                              Chinese statistical usage)
      "1亿元以下"                               -> [0, 1)
      "30-50亿元" / "30–50亿" / "30至50亿元"      -> [30, 50)
      "1万亿元以上"                              -> [10000, NULL)
    Anything else gives NULL bounds (the label is kept as written).
    `bound` is 'lower' or 'upper'.
#}
{% macro size_label_bound(label, bound) -%}
    {%- set num = "([0-9]+(?:\\.[0-9]+)?)" -%}
    {%- set l = "replace(replace(trim(" ~ label ~ "), ' ', ''), '　', '')" -%}
    {%- set scale = "case when " ~ l ~ " like '%万亿%' then 10000 else 1 end" -%}
    {%- if bound == 'lower' -%}
    case
        when regexp_matches({{ l }}, '^{{ num }}[-–—~至到]{{ num }}万?亿') then
            cast(regexp_extract({{ l }}, '^{{ num }}', 1) as decimal(18, 4)) * {{ scale }}
        when regexp_matches({{ l }}, '^(超|超过)?{{ num }}万?亿元?(及)?以上$')
          or regexp_matches({{ l }}, '^(超|超过){{ num }}万?亿元?$') then
            cast(regexp_extract({{ l }}, '{{ num }}', 1) as decimal(18, 4)) * {{ scale }}
        when regexp_matches({{ l }}, '^{{ num }}万?亿元?以下$') then cast(0 as decimal(18, 4))
    end
    {%- else -%}
    case
        when regexp_matches({{ l }}, '^{{ num }}[-–—~至到]{{ num }}万?亿') then
            cast(regexp_extract({{ l }}, '^{{ num }}[-–—~至到]{{ num }}', 2) as decimal(18, 4)) * {{ scale }}
        when regexp_matches({{ l }}, '^{{ num }}万?亿元?以下$') then
            cast(regexp_extract({{ l }}, '{{ num }}', 1) as decimal(18, 4)) * {{ scale }}
    end
    {%- endif -%}
{%- endmacro %}
