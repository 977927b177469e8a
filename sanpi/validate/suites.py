"""The expectation suites, declared in code and stored in the GX project under expectations/.

Each suite reads one query result from the warehouse (its `QUERY`), so what is checked is stated here.
"""
from __future__ import annotations

import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

from sanpi.reference import units

PROJECT_CODE_PATTERN = r"^\d{6}-R\d{2}-\d{4}$"
STAGES = ["signed", "started", "production"]
# 亿元 per project above which an amount is implausible (the largest real projects are a few hundred).
MAX_PLAUSIBLE_PROJECT_YI = 3000

SUBMISSIONS_QUERY = """
SELECT f.round_no, f.city_code, f.stage_code, f.sector_code, p.project_code, p.project_name,
       CAST(f.investment_yi AS DOUBLE) AS investment_yi
FROM marts.fct_project_stage f
JOIN marts.dim_project p USING (project_key)
"""

RECONCILIATION_QUERY = """
SELECT round_no, stage_code, measure, status,
       CAST(provincial_value AS DOUBLE) AS provincial_value, CAST(city_sum AS DOUBLE) AS city_sum,
       CAST(difference AS DOUBLE) AS difference, CAST(tolerance AS DOUBLE) AS tolerance
FROM marts.rpt_reconciliation
"""

# Tolerances the reconciliation can carry: half a unit of the bulletin's last published decimal.
INVESTMENT_TOLERANCES = (0.5, 0.05, 0.005, 0.0005)


def submissions_expectations() -> list:
    unit_codes = sorted(u.code for u in units())
    return [
        *(gxe.ExpectColumnValuesToNotBeNull(column=c)
          for c in ("round_no", "city_code", "stage_code", "project_name", "investment_yi")),
        gxe.ExpectColumnValuesToBeInSet(column="stage_code", value_set=STAGES),
        gxe.ExpectColumnValuesToBeInSet(column="city_code", value_set=unit_codes),
        gxe.ExpectColumnValuesToNotBeInSet(column="sector_code", value_set=["unknown"]),
        gxe.ExpectColumnValuesToBeBetween(column="investment_yi", min_value=0, strict_min=True,
                                          max_value=MAX_PLAUSIBLE_PROJECT_YI),
        gxe.ExpectColumnValuesToMatchRegex(column="project_code", regex=PROJECT_CODE_PATTERN),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["round_no", "stage_code", "project_code"]),
    ]


def reconciliation_expectations() -> list:
    """Σ city counts = provincial count exactly; Σ city 亿元 = provincial 亿元 to the bulletin's rounding."""
    investment = Column("measure") == "investment_yi"
    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        # A tolerance outside this list would leave its rows unchecked by the expectations below.
        gxe.ExpectColumnValuesToBeInSet(column="tolerance", value_set=[0, *INVESTMENT_TOLERANCES]),
        gxe.ExpectColumnValuesToBeBetween(column="difference", min_value=0, max_value=0,
                                          row_condition=Column("measure") == "project_count"),
        *(gxe.ExpectColumnValuesToBeBetween(column="difference", min_value=-t, max_value=t,
                                            row_condition=investment & (Column("tolerance") == t))
          for t in INVESTMENT_TOLERANCES),
        # A bulletin figure with no city submissions behind it is a gap, not a pass.
        gxe.ExpectColumnValuesToNotBeNull(column="city_sum",
                                          row_condition=Column("provincial_value").is_not_null()),
    ]


SUITES = {
    "submissions": (SUBMISSIONS_QUERY, submissions_expectations),
    "reconciliation": (RECONCILIATION_QUERY, reconciliation_expectations),
}
