{#-
    Fails with one row per column the model's yml documents that the built relation lacks: a mart's documented
    columns are its published interface, the ones BI reports select. Columns the relation has beyond them pass
    (that every built mart column is documented is checked by the project's own tests, on the catalog). Names
    compare case-insensitively, as both engines resolve them. The relation's columns are read from the engine's
    catalog when the test runs, after the model is built.
-#}
{% test documented_columns(model) %}

{%- set missing = [] -%}
{%- if execute -%}
    {%- set built = adapter.get_columns_in_relation(model) | map(attribute="name") | map("lower") | list -%}
    {#- By its unique id (a model's relation is named after it): scanning every node of the graph for it took
        30 ms a test. -#}
    {%- set node = graph.nodes.get("model." ~ project_name ~ "." ~ model.identifier) -%}
    {%- if node is none -%}
        {{ exceptions.raise_compiler_error("documented_columns: no model of this project builds " ~ model) }}
    {%- endif -%}
    {%- for column in node.columns -%}
        {%- if column | lower not in built -%}
            {%- do missing.append(column) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}

{%- if missing %}
    {%- for column in missing %}
select {{ dbt.string_literal(column) }} as missing_column
{{ "union all" if not loop.last }}
    {%- endfor %}
{%- else %}
select missing_column from (select cast(null as {{ dbt.type_string() }}) as missing_column) as none_missing
where missing_column is not null
{%- endif %}

{% endtest %}
