{#-
    The distinct-free list of `measure` values of a group, sorted ascending and joined by `delimiter` (a SQL
    string literal), so the text is the same on every engine. dbt's listagg takes an order-by clause on most
    adapters; dbt-spark ignores it (collect_list keeps whatever order the shuffle delivered), so Spark sorts
    the collected array instead.
-#}
{% macro sorted_listagg(measure, delimiter) -%}
    {{ return(adapter.dispatch('sorted_listagg', 'shegong')(measure, delimiter)) }}
{%- endmacro %}

{% macro default__sorted_listagg(measure, delimiter) -%}
    {{ dbt.listagg(measure, delimiter, "order by " ~ measure) }}
{%- endmacro %}

{% macro spark__sorted_listagg(measure, delimiter) -%}
    array_join(array_sort(collect_list({{ measure }})), {{ delimiter }})
{%- endmacro %}
