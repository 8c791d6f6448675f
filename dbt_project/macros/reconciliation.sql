{#-
    Status of a reported figure against the registry figure for the same metric, region and year.
    Tolerances come from vars (dbt_project.yml), documented in fct_indicator_reconciliation.yml:
      exact    consistent when |reported - registry| <= reconciliation_exact_tolerance x registry
      approx   consistent when |reported - registry| <= reconciliation_approx_tolerance x reported
               (约/近 X speaks of X's neighbourhood, so the stated figure is the yardstick)
      at_least consistent when registry >= reported x (1 - exact tolerance)
                            and registry <= reported x (1 + reconciliation_bound_headroom)
      at_most  consistent when registry <= reported x (1 + exact tolerance)
                            and registry >= reported x (1 - reconciliation_bound_headroom)
    otherwise over_reported (reported > registry) or under_reported; not_comparable when either side is null.
-#}
{% macro reconciliation_status(reported, registry, qualifier) -%}
    {%- set exact = var('reconciliation_exact_tolerance') -%}
    {%- set approx = var('reconciliation_approx_tolerance') -%}
    {%- set headroom = var('reconciliation_bound_headroom') -%}
    case
        when {{ reported }} is null or {{ registry }} is null then 'not_comparable'
        when {{ reported }} = {{ registry }} then 'consistent'
        when {{ qualifier }} = 'exact'
            and abs({{ reported }} - {{ registry }}) <= {{ exact }} * {{ registry }} then 'consistent'
        when {{ qualifier }} = 'approx'
            and abs({{ reported }} - {{ registry }}) <= {{ approx }} * {{ reported }} then 'consistent'
        when {{ qualifier }} = 'at_least'
            and {{ registry }} >= {{ reported }} * (1 - {{ exact }})
            and {{ registry }} <= {{ reported }} * (1 + {{ headroom }}) then 'consistent'
        when {{ qualifier }} = 'at_most'
            and {{ registry }} <= {{ reported }} * (1 + {{ exact }})
            and {{ registry }} >= {{ reported }} * (1 - {{ headroom }}) then 'consistent'
        when {{ reported }} > {{ registry }} then 'over_reported'
        else 'under_reported'
    end
{%- endmacro %}

{#- The tolerance rule applied, as text, for the reviewer. -#}
{% macro reconciliation_rule(qualifier) -%}
    {%- set exact = var('reconciliation_exact_tolerance') -%}
    {%- set approx = var('reconciliation_approx_tolerance') -%}
    {%- set headroom = var('reconciliation_bound_headroom') -%}
    case {{ qualifier }}
        when 'exact' then '|reported - registry| <= {{ exact }} x registry'
        when 'approx' then '|reported - registry| <= {{ approx }} x reported'
        when 'at_least' then 'reported x {{ 1 - exact }} <= registry <= reported x {{ 1 + headroom }}'
        when 'at_most' then 'reported x {{ 1 - headroom }} <= registry <= reported x {{ 1 + exact }}'
    end
{%- endmacro %}
