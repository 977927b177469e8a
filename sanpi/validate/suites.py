"""The expectation suites, declared here and stored in the GX project under expectations/.

Every suite runs inside DuckDB (GX's SQL route, see gx_duckdb.py) over one query of the warehouse, its
asset. Checks that compare numbers are UnexpectedRowsExpectations: SQL that returns the offending rows
in one shape (round_no, stage_code, unit, measure, observed, expected, detail), which the runner stores
in dq.validation_findings. Severity: a critical failure fails the pipeline; a warning is reported;
info lists what could not be checked (e.g. rounds without a bulletin figure: unchecked, not passing).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sanpi.reference import units

# GX's FailureSeverity values. The suites are declared without importing GX (~1.6 s), so the runner can
# start their queries while GX is still importing; Expectation.build() makes the GX objects.
CRITICAL, WARNING, INFO = "critical", "warning", "info"
PROJECT_CODE_PATTERN = r"^\d{6}-R\d{2,}-\d{4,}$"
STAGES = ["signed", "started", "production"]
MAX_PLAUSIBLE_PROJECT_YI = 3000   # one project above this many 亿元: a unit error, not a project
APPROX_SHARE = 0.01                # a figure published as 约/近 X matches within 1% of X

# Does a city sum satisfy a published figure, given how it was published?
#   exact: within half a unit of the last published decimal; approx (约): within 1% as well;
#   lower_bound (超/逾): at least the figure.
QUALIFIED_MATCH = f"""CASE {{q}}
    WHEN 'lower_bound' THEN {{obs}} >= {{exp}} - {{tol}}
    WHEN 'approx' THEN abs({{obs}} - {{exp}}) <= greatest({{tol}}, {APPROX_SHARE} * abs({{exp}}))
    ELSE abs({{obs}} - {{exp}}) <= {{tol}} END"""


def _gx_escaped(text: str) -> str:
    """GX fills {batch} with str.format: other braces (regex counts) must be doubled."""
    return text.replace("{", "{{").replace("}", "}}")


def qualified_match(observed: str, expected: str, tolerance: str, qualifier: str) -> str:
    return QUALIFIED_MATCH.format(obs=observed, exp=expected, tol=tolerance, q=qualifier)


def finding_rows(select_from_where: str) -> str:
    """Wrap a query so its rows carry the finding columns in a fixed order."""
    return f"""SELECT round_no, stage_code, unit, measure, CAST(observed AS DOUBLE) AS observed,
       CAST(expected AS DOUBLE) AS expected, detail FROM ({select_from_where}) AS finding"""


@dataclass(frozen=True)
class Expectation:
    """One GX expectation as declared: its class in great_expectations.expectations and its arguments."""
    kind: str
    kwargs: dict = field(default_factory=dict)

    def build(self):
        import great_expectations.expectations as gxe
        from great_expectations.expectations.metadata_types import FailureSeverity

        kwargs = dict(self.kwargs)
        kwargs["severity"] = FailureSeverity(kwargs["severity"])
        return getattr(gxe, self.kind)(**kwargs)


def expect(kind: str, severity: str = CRITICAL, **kwargs) -> Expectation:
    return Expectation(kind, {**kwargs, "severity": severity})


def unexpected(description: str, query: str, severity=CRITICAL) -> Expectation:
    return expect("UnexpectedRowsExpectation", severity, description=description,
                  unexpected_rows_query=finding_rows(query))


@dataclass(frozen=True)
class Suite:
    name: str
    asset_query: str                 # the rows the suite is about ({batch} in its queries)
    declare: Callable[[], list]      # -> [Expectation]
    description: str

    def build(self) -> list:
        """The suite's GX expectation objects (imports GX)."""
        return [e.build() for e in self.declare()]

    def unexpected_rows_queries(self) -> list[str]:
        """The suite's unexpected-rows queries ({batch} not substituted), in order, without GX."""
        return [e.kwargs["unexpected_rows_query"] for e in self.declare() if e.kind == "UnexpectedRowsExpectation"]


# -- reconciliation -----------------------------------------------------------------------------------
_RECONCILED = """SELECT round_no, stage_code, '河南省' AS unit, measure, city_sum AS observed,
       provincial_value AS expected,
       'city submissions sum to ' || city_sum || ', bulletin says ' || provincial_value
       || ' (' || coalesce(provincial_qualifier, 'exact') || ', tolerance ' || tolerance || ')' AS detail
FROM {table} WHERE status IN ('match', 'mismatch') AND measure = '{measure}'
  AND NOT (""" + qualified_match("city_sum", "provincial_value", "tolerance",
                                 "coalesce(provincial_qualifier, 'exact')") + ")"

_BREAKDOWN_VS_CITIES = """
WITH published AS (
    SELECT round_no, stage_code, sector_code, measure, sum(value) AS value, max(tolerance) AS tolerance,
           min(qualifier) AS qualifier, string_agg(DISTINCT breakdown_category, '、') AS categories
    FROM marts.fct_bulletin_breakdown
    WHERE breakdown_dimension = 'sector' AND unit_level = 'province' AND is_preferred_statement
      AND stage_code IS NOT NULL AND sector_code IS NOT NULL
    GROUP BY ALL),
cities AS (
    SELECT round_no, stage_code, sector_code, sum(project_count) AS projects, sum(investment_yi) AS investment_yi
    FROM marts.fct_city_round_stage_sector GROUP BY ALL)
SELECT p.round_no, p.stage_code, '河南省' AS unit, p.measure || ' ' || p.categories AS measure,
       coalesce(CASE WHEN p.measure = 'project_count' THEN c.projects ELSE c.investment_yi END, 0) AS observed,
       p.value AS expected, 'sector ' || p.categories || ': city submissions against the bulletin' AS detail
FROM published p LEFT JOIN cities c USING (round_no, stage_code, sector_code)
WHERE NOT (""" + qualified_match(
    "coalesce(CASE WHEN p.measure = 'project_count' THEN c.projects ELSE c.investment_yi END, 0)",
    "p.value", "p.tolerance", "p.qualifier") + ")"

_BREAKDOWN_SUMS = """
WITH parts AS (
    SELECT round_no, stage_code, breakdown_dimension, measure, sum(value) AS total, max(headline_value) AS headline,
           max(tolerance) * count(*) AS tolerance
    FROM marts.fct_bulletin_breakdown
    WHERE unit_level = 'province' AND is_preferred_statement AND headline_value IS NOT NULL
    GROUP BY ALL)
SELECT round_no, stage_code, '河南省' AS unit, measure || ' by ' || breakdown_dimension AS measure,
       total AS observed, headline AS expected,
       breakdown_dimension || ' lines add up to ' || total || ' of the headline ' || headline AS detail
FROM parts WHERE total {op} headline {sign} tolerance"""

_SIZE_BANDS_VS_PROJECTS = """
WITH bands AS (
    SELECT round_no, stage_code, breakdown_category, measure, value, tolerance, qualifier,
           size_lower_yi, size_upper_yi
    FROM marts.fct_bulletin_breakdown
    WHERE breakdown_dimension = 'size_band' AND unit_level = 'province' AND is_preferred_statement
      AND stage_code IS NOT NULL AND (size_lower_yi IS NOT NULL OR size_upper_yi IS NOT NULL))
SELECT b.round_no, b.stage_code, '河南省' AS unit, b.measure || ' ' || b.breakdown_category AS measure,
       (SELECT CASE WHEN b.measure = 'project_count' THEN count(*) ELSE coalesce(sum(f.investment_yi), 0) END
        FROM marts.fct_project_stage f
        WHERE f.round_no = b.round_no AND f.stage_code = b.stage_code
          AND (b.size_lower_yi IS NULL OR f.investment_yi >= b.size_lower_yi)
          AND (b.size_upper_yi IS NULL OR f.investment_yi < b.size_upper_yi)) AS observed,
       b.value AS expected, 'size band ' || b.breakdown_category || ': projects in the lists against the bulletin' AS detail
FROM bands b"""


def reconciliation_expectations() -> list:
    band_match = qualified_match("observed", "expected", "tolerance", "qualifier")
    return [
        expect("ExpectTableRowCountToBeBetween", CRITICAL, min_value=1),
        unexpected("Σ city project counts = the provincial count, for every round and stage",
                   _RECONCILED.format(table="{batch}", measure="project_count")),
        unexpected("Σ city 亿元 = the provincial 亿元 within the bulletin's rounding (约: 1%, 超: at least)",
                   _RECONCILED.format(table="{batch}", measure="investment_yi")),
        unexpected("every provincial figure has city submissions behind it",
                   """SELECT round_no, stage_code, '河南省' AS unit, measure, NULL AS observed,
                             provincial_value AS expected, 'no city submitted projects for this stage' AS detail
                      FROM {batch} WHERE status = 'no_submissions'"""),
        unexpected("combined figures (签约+开工, 三批合计) = the sum of the stages they cover",
                   _RECONCILED.format(table="(SELECT *, stage_as_published AS stage_code FROM marts.rpt_reconciliation_combined)",
                                      measure="project_count").replace("measure = 'project_count'", "TRUE")),
        unexpected("sector breakdowns (分行业/分领域) = the city submissions of that sector", _BREAKDOWN_VS_CITIES),
        unexpected("breakdown lines never add up to more than their headline",
                   _BREAKDOWN_SUMS.format(op=">", sign="+")),
        unexpected("breakdown lines add up to their headline (bulletins do leave lines out)",
                   _BREAKDOWN_SUMS.format(op="<", sign="-"), WARNING),
        unexpected("size bands (10亿元以上 …) = the projects of that size in the lists",
                   f"SELECT * FROM ({_SIZE_BANDS_VS_PROJECTS}) s JOIN (SELECT DISTINCT round_no, stage_code, "
                   "breakdown_category, measure AS m, tolerance, qualifier FROM marts.fct_bulletin_breakdown "
                   "WHERE breakdown_dimension = 'size_band') t ON t.round_no = s.round_no AND t.stage_code = s.stage_code "
                   f"AND s.measure = t.m || ' ' || t.breakdown_category WHERE NOT ({band_match})", WARNING),
        unexpected("bulletin sources agree on each figure",
                   """SELECT round_no, stage_code, '河南省' AS unit, measure, NULL AS observed, NULL AS expected,
                             'the bulletin files disagree on this figure: see marts.rpt_bulletin_conflicts' AS detail
                      FROM {batch} WHERE status = 'conflict'""", WARNING),
        unexpected("cumulative statements match the sum of rounds under at least one counting definition",
                   """SELECT as_of_round_no AS round_no, NULL AS stage_code, '河南省' AS unit, 'cumulative projects' AS measure,
                             min(computed_projects) AS observed, max(stated_projects) AS expected,
                             'no counting definition reproduces the stated cumulative figure' AS detail
                      FROM marts.rpt_cumulative_comparison WHERE stated_projects IS NOT NULL
                      GROUP BY as_of_round_no HAVING NOT bool_or(coalesce(matches_stated_projects, FALSE))""",
                   WARNING),
        unexpected("rounds and stages with city submissions but no provincial figure (unchecked, not passing)",
                   """SELECT round_no, stage_code, '河南省' AS unit, measure, city_sum AS observed, NULL AS expected,
                             'no bulletin figure: unchecked' AS detail
                      FROM {batch} WHERE status = 'unchecked'""", INFO),
    ]


# -- submissions ------------------------------------------------------------------------------------
def submissions_expectations() -> list:
    unit_codes = sorted(u.code for u in units())
    return [
        *(expect("ExpectColumnValuesToNotBeNull", CRITICAL, column=c)
          for c in ("round_no", "city_code", "stage_code", "project_name", "investment_yi")),
        expect("ExpectColumnValuesToBeInSet", CRITICAL, column="stage_code", value_set=STAGES),
        expect("ExpectColumnValuesToBeInSet", CRITICAL, column="city_code", value_set=unit_codes),
        expect("ExpectColumnValuesToNotBeInSet", WARNING, column="sector_code", value_set=["unknown"]),
        expect("ExpectColumnValuesToBeBetween", CRITICAL, column="investment_yi", min_value=0, strict_min=True,
               max_value=MAX_PLAUSIBLE_PROJECT_YI),
        unexpected("project codes follow the campaign's format",
                   f"""SELECT round_no, stage_code, city_code AS unit, 'project_code' AS measure, NULL AS observed,
                              NULL AS expected, 'project code ' || project_code || ' of ' || project_name AS detail
                       FROM {{batch}} WHERE project_code IS NOT NULL
                         AND NOT regexp_full_match(project_code, '{_gx_escaped(PROJECT_CODE_PATTERN)}')""", WARNING),
        # Grouping every row by its hashed key is ~2× cheaper than by the three columns, and 7× cheaper
        # than aggregating city lists for every group; the exact grouping runs on the few candidates.
        unexpected("no project listed twice in one round and stage (also not by two units)",
                   """WITH candidates AS (SELECT hash(round_no, stage_code, project_code) AS key FROM {batch}
                                         WHERE project_code IS NOT NULL GROUP BY key HAVING count(*) > 1)
                      SELECT round_no, stage_code, string_agg(DISTINCT city_code, ',' ORDER BY city_code) AS unit, 'project_code' AS measure,
                             count(*) AS observed, 1 AS expected, 'project code ' || project_code || ' listed '
                             || count(*) || ' times' AS detail
                      FROM {batch} WHERE project_code IS NOT NULL
                        AND hash(round_no, stage_code, project_code) IN (SELECT key FROM candidates)
                      GROUP BY round_no, stage_code, project_code HAVING count(*) > 1"""),
        unexpected("each submission's 合计 rows equal the rows above them",
                   """SELECT round_no, NULL AS stage_code, city_code AS unit, 'declared total' AS measure,
                             actual AS observed, expected, file_path || ' ' || coalesce(sheet, '') || ' row '
                             || row_number || ': ' || detail AS detail
                      FROM marts.rpt_submission_findings WHERE finding = 'total_mismatch'""", WARNING),
        unexpected("no rows of current submissions in quarantine",
                   """SELECT NULL AS round_no, NULL AS stage_code, NULL AS unit, 'quarantined rows' AS measure,
                             count(*) AS observed, 0 AS expected, file_path || ': ' || min(reason) AS detail
                      FROM marts.rpt_quarantine GROUP BY file_path""", WARNING),
    ]


# -- bulletins ---------------------------------------------------------------------------------------
def bulletins_expectations() -> list:
    return [
        *(expect("ExpectColumnValuesToNotBeNull", CRITICAL, column=c)
          for c in ("file_path", "file_sha256", "unit", "measure", "value")),
        expect("ExpectColumnValuesToNotBeNull", WARNING, column="source_text"),
        expect("ExpectColumnValuesToBeInSet", CRITICAL, column="qualifier",
               value_set=["exact", "approx", "lower_bound"]),
        expect("ExpectColumnValuesToBeInSet", CRITICAL, column="measure",
               value_set=["project_count", "investment_yi"]),
        expect("ExpectColumnValuesToBeBetween", CRITICAL, column="value", min_value=0, strict_min=True),
        unexpected("a provincial bulletin gives figures for every stage its round had",
                   """WITH had AS (SELECT DISTINCT round_no, stage_code FROM marts.fct_city_round_stage
                                   WHERE project_count > 0),
                           told AS (SELECT DISTINCT round_no FROM {batch} WHERE unit_level = 'province' AND is_headline),
                           given AS (SELECT DISTINCT round_no, stage_code FROM {batch}
                                     WHERE unit_level = 'province' AND is_headline AND stage_code IS NOT NULL)
                      SELECT h.round_no, h.stage_code, '河南省' AS unit, 'headline' AS measure, NULL AS observed,
                             NULL AS expected, 'the round''s bulletin states no figure for this stage' AS detail
                      FROM had h JOIN told USING (round_no) LEFT JOIN given g USING (round_no, stage_code)
                      WHERE g.round_no IS NULL""", WARNING),
    ]


# -- warehouse ----------------------------------------------------------------------------------------
def warehouse_expectations() -> list:
    return [
        unexpected("every project row of the current submissions reaches the facts (no loss, no fan-out)",
                   """SELECT NULL AS round_no, NULL AS stage_code, NULL AS unit, 'project rows' AS measure,
                             (SELECT sum(source_row_count) FROM {batch}) AS observed,
                             (SELECT count(*) FROM staging.stg_raw__submission_rows) AS expected,
                             'staging rows against fct_project_stage rows (duplicates merged count once each)' AS detail
                      WHERE (SELECT sum(source_row_count) FROM {batch})
                            IS DISTINCT FROM (SELECT count(*) FROM staging.stg_raw__submission_rows)"""),
        unexpected("city × round × stage aggregates equal the project facts",
                   """WITH f AS (SELECT round_no, stage_code, count(*) AS n, sum(investment_yi) AS v FROM {batch} GROUP BY ALL),
                           a AS (SELECT round_no, stage_code, sum(project_count) AS n, sum(investment_yi) AS v
                                 FROM marts.fct_city_round_stage GROUP BY ALL)
                      SELECT round_no, stage_code, '河南省' AS unit, 'projects / 亿元' AS measure,
                             coalesce(a.v, 0) AS observed, coalesce(f.v, 0) AS expected,
                             'aggregate ' || coalesce(a.n, 0) || ' projects vs facts ' || coalesce(f.n, 0) AS detail
                      FROM f FULL JOIN a USING (round_no, stage_code)
                      WHERE coalesce(a.n, 0) <> coalesce(f.n, 0) OR coalesce(a.v, 0) <> coalesce(f.v, 0)"""),
        unexpected("every loaded file accounts for its rows (read = loaded + quarantined)",
                   """SELECT round_no, NULL AS stage_code, submitted_city_code AS unit, 'rows' AS measure,
                             rows_loaded + rows_quarantined AS observed, rows_read AS expected,
                             file_path || ' does not balance' AS detail
                      FROM marts.rpt_load_accounting WHERE NOT is_balanced"""),
    ]


SUITES = [
    Suite("reconciliation", "SELECT * FROM marts.rpt_reconciliation", reconciliation_expectations,
          "City sums against the provincial bulletins, at every level the bulletins publish"),
    Suite("submissions", "SELECT * FROM marts.fct_project_stage", submissions_expectations,
          "The city project lists: fields, sets, plausible amounts, codes, duplicates, totals"),
    Suite("bulletins", "SELECT * FROM marts.fct_bulletin_figure", bulletins_expectations,
          "The published figures: provenance, qualifiers, stages covered"),
    Suite("warehouse", "SELECT * FROM marts.fct_project_stage", warehouse_expectations,
          "Row counts and sums preserved from staging to marts"),
]
