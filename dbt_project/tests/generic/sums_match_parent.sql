{#
    Children sum to parent: aggregating the tested column of `model` by `group_by` must give the
    parent's `parent_column` for the same keys, within a tolerance.

    arguments:
      parent_model              ref() of the parent (one row per group_by key)
      parent_column             parent column holding the total
      group_by                  list of key columns present in both models
      aggregate                 sum (default) or count, applied to the tested column
      child_where / parent_where  optional SQL filters on either side
      only_matched              true: compare only keys present on both sides (a breakdown need not
                                exist for every headline); false (default): a key on one side only
                                counts as 0 on the other
      tolerance                 allowed absolute difference (default 0)
      child_tolerance_column    optional column whose sum over the children is added to the tolerance
      parent_tolerance_column   optional parent column added to the tolerance
    Returns one row per key whose totals disagree.
#}
{% test sums_match_parent(model, column_name, parent_model, parent_column, group_by,
                          aggregate='sum', child_where=none, parent_where=none,
                          only_matched=false, tolerance=0,
                          child_tolerance_column=none, parent_tolerance_column=none) %}
{{ config(store_failures=true) }}

with children as (
    select
        {% for col in group_by %}{{ col }}, {% endfor %}
        {{ aggregate }}({{ column_name }}) as child_total,
        {% if child_tolerance_column %}sum({{ child_tolerance_column }}){% else %}0{% endif %} as child_tolerance
    from {{ model }}
    {% if child_where %}where {{ child_where }}{% endif %}
    group by {% for col in group_by %}{{ col }}{% if not loop.last %}, {% endif %}{% endfor %}
),

parents as (
    select
        {% for col in group_by %}{{ col }}, {% endfor %}
        {{ parent_column }} as parent_total,
        {% if parent_tolerance_column %}{{ parent_tolerance_column }}{% else %}0{% endif %} as parent_tolerance
    from {{ parent_model }}
    {% if parent_where %}where {{ parent_where }}{% endif %}
),

compared as (
    select
        {% for col in group_by %}coalesce(c.{{ col }}, p.{{ col }}) as {{ col }}, {% endfor %}
        c.child_total,
        p.parent_total,
        coalesce(c.child_total, 0) - coalesce(p.parent_total, 0) as difference,
        {{ tolerance }} + coalesce(c.child_tolerance, 0) + coalesce(p.parent_tolerance, 0) as allowed_difference
    from children as c
    {% if only_matched %}inner{% else %}full outer{% endif %} join parents as p
        on {% for col in group_by %}c.{{ col }} is not distinct from p.{{ col }}{% if not loop.last %} and {% endif %}{% endfor %}
)

select *
from compared
where abs(difference) > allowed_difference

{% endtest %}
