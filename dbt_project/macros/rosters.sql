{#-
    Monthly full rosters carried forward: for every month of int_months and every reporting region that has
    sent a roster by then, that region's latest roster on or before the month. A key listed by two regions'
    rosters keeps the most recent roster's row (then the lower reporting region code). Emits a whole select
    (one row per key and month: month_start, month_end, roster_month, the roster's columns and roster_rank,
    always 1) for the caller to wrap in a CTE. Subqueries, not a WITH, so it nests on every engine.
-#}
{% macro rosters_as_of_months(roster_relation, key_column) -%}
select *
from (

    select
        region_months.month_start,
        region_months.month_end,
        region_months.roster_month,
        roster.*,
        row_number() over (
            partition by roster.{{ key_column }}, region_months.month_start
            order by region_months.roster_month desc, roster.reporting_region_code
        ) as roster_rank
    from (

        select
            roster_months.reporting_region_code,
            months.month_start,
            months.month_end,
            max(roster_months.period_month) as roster_month
        from {{ ref('int_months') }} as months
        inner join (

            select distinct
                reporting_region_code,
                period_month
            from {{ roster_relation }}

        ) as roster_months
            on roster_months.period_month <= months.month_start
        group by roster_months.reporting_region_code, months.month_start, months.month_end

    ) as region_months
    inner join {{ roster_relation }} as roster
        on
            region_months.reporting_region_code = roster.reporting_region_code
            and region_months.roster_month = roster.period_month

) as carried
where roster_rank = 1
{%- endmacro %}
