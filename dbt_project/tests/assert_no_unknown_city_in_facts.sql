-- Warns (does not fail the build) when submission rows carry a city code that is not one of the 19
-- reporting units: they are kept under the unknown member 000000 and should be fixed at the source.
{{ config(severity='warn', store_failures=true) }}

select round_no, submitted_city_code, count(*) as project_rows
from {{ ref('fct_project_stage') }}
where city_code = '000000'
group by round_no, submitted_city_code
