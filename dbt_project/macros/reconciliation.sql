{#
    Rounding tolerance of a published figure: a count is exact (0); an amount in 亿元 published
    with d decimals stands for anything within half a unit of its last digit, 0.5 * 10^-d
    (d = 1 -> 0.05; d = 0 -> 0.5; d = -3, e.g. "1.8万亿元" = 18000亿元 -> 500).
#}
{% macro rounding_tolerance(measure, value_decimals) -%}
    case
        when {{ measure }} = 'project_count' then cast(0 as decimal(24, 6))
        when {{ value_decimals }} is null then null
        else cast(0.5 * pow(10, -({{ value_decimals }})) as decimal(24, 6))
    end
{%- endmacro %}

{#
    Status of one reconciliation row (checked in this order):
      conflict        the current bulletin sources state the figure with values that cannot all be
                      right (see rpt_bulletin_conflicts): no provincial figure is taken
      unchecked       no provincial figure was published for this round / stage / measure
      no_submissions  a figure was published but no city submitted a project for the stage
      match           |city_sum - provincial_value| <= tolerance
                      (qualifier lower_bound, e.g. "超200亿元": city_sum >= provincial_value - tolerance)
      mismatch        otherwise
#}
{% macro reconciliation_status(provincial_value, city_sum, submitting_city_count, qualifier, tolerance,
                               has_conflict='false') -%}
    case
        when coalesce({{ has_conflict }}, false) then 'conflict'
        when {{ provincial_value }} is null then 'unchecked'
        when coalesce({{ submitting_city_count }}, 0) = 0 then 'no_submissions'
        when {{ qualifier }} = 'lower_bound' then
            case when {{ city_sum }} >= {{ provincial_value }} - {{ tolerance }} then 'match' else 'mismatch' end
        when abs({{ city_sum }} - {{ provincial_value }}) <= {{ tolerance }} then 'match'
        else 'mismatch'
    end
{%- endmacro %}
