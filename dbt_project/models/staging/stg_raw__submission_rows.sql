-- City submission rows of current file versions only: the current slice of the all-versions view,
-- so both read and type raw.submission_rows the same way.
select * exclude (is_current)
from {{ ref('stg_raw__submission_rows_all_versions') }}
where is_current
