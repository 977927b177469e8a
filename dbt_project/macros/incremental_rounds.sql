{#
    Incremental builds, by round (see models/overview.md, "Incremental builds").

    A round changes when a submission file of that round is loaded, superseded or reinstated: its
    fingerprint is an md5 of the current (sha256, file_path) pairs of the round in raw.load_manifest.
    incremental_state.round_fingerprints holds the fingerprints the incremental models were last built
    from; it advances at the end of a run (on-run-end: advance_round_fingerprints) only when every
    incremental model of the project was built in that run and nothing failed (no model error, no
    failing test), so a failed or partial run leaves it behind and the next run redoes those rounds
    and their tests (every incremental step is delete + insert, so redoing one is harmless).

    What the fingerprints do not see: changes to the models, macros and seeds. sanpi.transform runs a
    full refresh when those change; run `dbt build --full-refresh` yourself after editing them by hand.
#}

{% macro incremental_state_schema() -%} incremental_state {%- endmacro %}

{% macro round_fingerprints_sql() -%}
    select
        round_no,
        md5(string_agg(file_key, ',' order by file_key)) as fingerprint
    from (
        select distinct round_no, sha256 || '|' || file_path as file_key
        from {{ source('raw', 'load_manifest') }}
        where kind = 'submission' and superseded_at is null and round_no is not null
    )
    group by round_no
{%- endmacro %}

{#- True when the state of an earlier build exists (else the incremental models rebuild everything). -#}
{% macro round_state_exists() %}
    {% if not execute %}{{ return(false) }}{% endif %}
    {% set relation = adapter.get_relation(database=target.database, schema=incremental_state_schema(),
                                           identifier='round_fingerprints') %}
    {{ return(relation is not none) }}
{% endmacro %}

{#- The rounds whose current files differ from those of the last complete build (new, changed, gone). -#}
{% macro changed_rounds_sql() -%}
    select round_no
    from ({{ round_fingerprints_sql() }}) as current_state
    full outer join {{ incremental_state_schema() }}.round_fingerprints as built_state using (round_no)
    where current_state.fingerprint is distinct from built_state.fingerprint
{%- endmacro %}

{#- on-run-end: record the fingerprints the incremental models now reflect, if all of them were built. -#}
{% macro advance_round_fingerprints(results) -%}
    {% if execute and flags.WHICH in ('run', 'build') %}
        {% set built = [] %}
        {% for result in results if result.status == 'success' %}
            {% do built.append(result.node.unique_id) %}
        {% endfor %}
        {% set missing = [] %}
        {% for node in graph.nodes.values()
               if node.resource_type == 'model' and node.config.materialized == 'incremental'
                  and node.unique_id not in built %}
            {% do missing.append(node.name) %}
        {% endfor %}
        {% set failed = [] %}
        {% for result in results if result.status in ('error', 'fail') %}
            {% do failed.append(result.node.name) %}
        {% endfor %}
        {% if missing %}
            {% do log('incremental state not advanced (not built in this run: ' ~ missing | join(', ')
                      ~ '): the next run redoes the same rounds', info=true) %}
        {% elif failed %}
            {#- tests of changed rounds and rebuilt keys only check what a run rebuilds: had the state
                advanced, the next run would rebuild nothing and pass the same rows unchecked -#}
            {% do log('incremental state not advanced (failed in this run: ' ~ failed | join(', ')
                      ~ '): the next run redoes the same rounds and tests them again', info=true) %}
        {% else %}
            {#- returned as the hook's own SQL, which dbt runs and commits -#}
            create schema if not exists {{ incremental_state_schema() }};
            create or replace table {{ incremental_state_schema() }}.round_fingerprints as
            {{ round_fingerprints_sql() }}
        {% endif %}
    {% endif %}
{% endmacro %}

{#-
    pre_hook of a model kept incrementally by project: store the project keys to rebuild in
    incremental_state.<model>__projects (the projects listed in a changed round now, plus those
    `previous_sql` finds in the model's own table: listed there in a changed round before, or whose
    identity changed), then delete their rows. The model selects the rows of those projects again
    (incremental_projects_filter). Without state: every row is deleted and rebuilt.
-#}
{% macro delete_incremental_projects(previous_sql='') %}
    {% set listed = 'select project_key from ' ~ ref('int_project_stages_deduplicated')
                    ~ ' where round_no in (select round_no from changed_rounds)' %}
    {{ delete_projects_to_rebuild(listed ~ (' union ' ~ previous_sql if previous_sql else '')) }}
{% endmacro %}

{#- pre_hook of int_project_identities: a coded project's identity never changes, so the rows to
    rebuild are those of projects new in a changed round, of every project without a code (a new coded
    project of its city and name can change its identity) and of projects no longer listed anywhere.
    (Deleting and inserting again the coded projects a new round lists once more, scattered over the
    whole table, made the next checkpoint touch every row group of it.) -#}
{% macro delete_incremental_identities() %}
    {% set stages = ref('int_project_stages_deduplicated') %}
    {{ delete_projects_to_rebuild(
        'select project_key from (select project_key from ' ~ stages
        ~ ' where round_no in (select round_no from changed_rounds)) anti join ' ~ this ~ ' using (project_key)
         union
         select project_key from ' ~ this ~ " where match_method <> 'project_code'
         union
         select project_key from " ~ this ~ ' anti join ' ~ stages ~ ' using (project_key)') }}
{% endmacro %}

{#- The keys `keys_sql` selects (it may read `changed_rounds`) go to incremental_state.<model>__projects
    and their rows are deleted; without state, every row is. -#}
{% macro delete_projects_to_rebuild(keys_sql) %}
    {% if execute and this is not none and is_incremental() %}
        {% if round_state_exists() %}
            {% set keys = incremental_state_schema() ~ '.' ~ this.identifier ~ '__projects' %}
            create schema if not exists {{ incremental_state_schema() }};
            create or replace table {{ keys }} as
            with changed_rounds as ({{ changed_rounds_sql() }})
            {{ keys_sql }};
            delete from {{ this }} where project_key in (select project_key from {{ keys }})
        {% else %}
            delete from {{ this }}
        {% endif %}
    {% elif execute and this is not none %}
        {{ drop_rebuilt_keys('__projects') }}
    {% endif %}
{% endmacro %}

{#- A model built whole drops the keys table an earlier incremental build left, so that its tests
    check every row (changed_keys_condition). -#}
{% macro drop_rebuilt_keys(suffix) -%}
    drop table if exists {{ incremental_state_schema() }}.{{ this.identifier }}{{ suffix }}
{%- endmacro %}

{% macro incremental_projects_filter(column='project_key') -%}
    {% if this is not none and is_incremental() and round_state_exists() -%}
        {{ column }} in (select project_key from {{ incremental_state_schema() }}.{{ this.identifier }}__projects)
    {%- else -%}
        true
    {%- endif %}
{%- endmacro %}

{#- pre_hook of a model kept incrementally by round: delete the rows of the changed rounds (all rows
    without state); the model selects those rounds again (incremental_rounds_filter). -#}
{% macro delete_incremental_rounds() %}
    {% if execute and this is not none and is_incremental() %}
        {% if round_state_exists() %}
            delete from {{ this }} where round_no in ({{ changed_rounds_sql() }})
        {% else %}
            delete from {{ this }}
        {% endif %}
    {% endif %}
{% endmacro %}

{% macro incremental_rounds_filter(column='round_no') -%}
    {% if this is not none and is_incremental() and round_state_exists() -%}
        {{ column }} in ({{ changed_rounds_sql() }})
    {%- else -%}
        true
    {%- endif %}
{%- endmacro %}

{#-
    Data tests marked `meta: {changed_rounds_only: true}` check, in an incremental build, only the rows
    of the changed rounds: for tests of a per-round grain (keys within a round, foreign keys to the
    seeded dimensions) the other rounds' rows are the ones already checked. A full-refresh build, and
    any build without incremental state, checks every row (sanpi.transform refreshes fully whenever the
    dbt project changes; tests/test_dbt_project.py builds from scratch).
-#}
{% macro duckdb__get_where_subquery(relation) -%}
    {% set where = config.get('where', '') %}
    {% set meta = config.get('meta', {}) or {} %}
    {% if meta.get('changed_rounds_only') and execute and not flags.FULL_REFRESH and round_state_exists() %}
        {% set rounds = 'round_no in (' ~ changed_rounds_sql() ~ ')' %}
        {% set where = '(' ~ where ~ ') and ' ~ rounds if where else rounds %}
    {% endif %}
    {% if meta.get('changed_keys_only') %}
        {% set keys = changed_keys_condition(relation, meta.get('changed_keys_only')) %}
        {% set where = '(' ~ where ~ ') and ' ~ keys if where else keys %}
    {% endif %}
    {% if where %}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {% do return(filtered) %}
    {%- else -%}
        {% do return(relation) %}
    {%- endif -%}
{%- endmacro %}

{#-
    Data tests marked `meta: {changed_keys_only: project_key}` (or lifecycle_key) check, in an
    incremental build, only the rows of the projects (lifecycles) the model rebuilt in this run, listed
    in incremental_state.<model>__projects (__lifecycles) by its pre_hook: for tests whose failing rows
    share the key (a key twice, a project's versions out of order) the other rows are those an earlier
    build checked. Every row is checked in a full refresh, without incremental state, and when the
    model was built whole (its pre_hook then drops the keys table; looked up in the database, not in
    dbt's cache of relations, which predates this run's hooks).
-#}
{% macro changed_keys_condition(relation, column) -%}
    {% set suffix = '__lifecycles' if column == 'lifecycle_key' else '__projects' %}
    {% set keys = incremental_state_schema() ~ '.' ~ relation.identifier ~ suffix %}
    {% if execute and not flags.FULL_REFRESH and round_state_exists() %}
        {% set found = run_query("select count(*) from duckdb_tables() where schema_name = '"
                                 ~ incremental_state_schema() ~ "' and table_name = '" ~ relation.identifier
                                 ~ suffix ~ "'") %}
        {% if found.columns[0].values()[0] > 0 %}
            {{- return(column ~ ' in (select ' ~ column ~ ' from ' ~ keys ~ ')') -}}
        {% endif %}
    {% endif %}
    {{- return('true') -}}
{%- endmacro %}

{#-
    Lifecycles (int_project_lifecycles) are kept by lifecycle key. A lifecycle changes when one of
    its rows does (its project-stage rows in a changed round: now, from fct_project_stage, or before,
    within the first..last round the stored row spans) or when its members do: a project that joins
    or leaves it, or changes its match method (member_key_hash against int_project_identities). The
    keys to rebuild go to incremental_state.<model>__lifecycles and their rows are deleted; the model
    selects those lifecycles again (incremental_lifecycles_filter). Without state: all rows.
-#}
{#- Only members without a code are hashed: a coded project is always its own lifecycle (it joins or
    leaves one only with its rows, in a changed round); NULL when the lifecycle has no such member. -#}
{% macro lifecycle_member_hash(project_key, match_method) -%}
    bit_xor(hash({{ project_key }} || '|' || {{ match_method }})) filter (where {{ match_method }} <> 'project_code')
{%- endmacro %}

{% macro delete_incremental_lifecycles() %}
    {% if execute and this is not none and is_incremental() %}
        {% if round_state_exists() %}
            {% set keys = incremental_state_schema() ~ '.' ~ this.identifier ~ '__lifecycles' %}
            create schema if not exists {{ incremental_state_schema() }};
            create or replace table {{ keys }} as
            with changed_rounds as ({{ changed_rounds_sql() }}),
            members as (
                select lifecycle_key, {{ lifecycle_member_hash('project_key', 'match_method') }} as member_key_hash
                from {{ ref('int_project_identities') }}
                where match_method <> 'project_code'
                group by lifecycle_key
            )
            select lifecycle_key
            from {{ ref('fct_project_stage') }}
            where round_no in (select round_no from changed_rounds)
            union
            select l.lifecycle_key
            from {{ this }} as l
            join changed_rounds as c on c.round_no between l.first_round_no and l.last_round_no
            union
            select lifecycle_key
            from members
            full outer join (select lifecycle_key, member_key_hash from {{ this }} where member_key_hash is not null) as built
                using (lifecycle_key)
            where members.member_key_hash is distinct from built.member_key_hash;
            delete from {{ this }} where lifecycle_key in (select lifecycle_key from {{ keys }})
        {% else %}
            delete from {{ this }}
        {% endif %}
    {% elif execute and this is not none %}
        {{ drop_rebuilt_keys('__lifecycles') }}
    {% endif %}
{% endmacro %}

{% macro incremental_lifecycles_filter(column='lifecycle_key') -%}
    {% if this is not none and is_incremental() and round_state_exists() -%}
        {{ column }} in (select lifecycle_key from {{ incremental_state_schema() }}.{{ this.identifier }}__lifecycles)
    {%- else -%}
        true
    {%- endif %}
{%- endmacro %}
