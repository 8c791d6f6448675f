{#-
    round() to n decimals. PostgreSQL has no round(double precision, integer), so other adapters round a
    numeric cast; DuckDB rounds doubles directly.
-#}
{% macro round_to(expression, places) -%}
    {{ return(adapter.dispatch('round_to', 'shegong')(expression, places)) }}
{%- endmacro %}

{% macro default__round_to(expression, places) -%}
    round(cast({{ expression }} as {{ dbt.type_numeric() }}), {{ places }})
{%- endmacro %}

{% macro duckdb__round_to(expression, places) -%}
    round(cast({{ expression }} as double), {{ places }})
{%- endmacro %}

{#- Text 'true'/'false' (any case, surrounding blanks ignored) to boolean; anything else is null. -#}
{% macro text_to_boolean(expression) -%}
    case lower(trim({{ expression }}))
        when 'true' then true
        when 'false' then false
    end
{%- endmacro %}

{#- A rate in percent with one decimal, null when the denominator is zero or null. -#}
{% macro percent_rate(numerator, denominator) -%}
    case
        when {{ denominator }} > 0
            then {{ round_to('100.0 * ' ~ numerator ~ ' / ' ~ denominator, 1) }}
    end
{%- endmacro %}
