"""The bare floor: the same work as each sanpi stage, done directly in DuckDB.

- ingest: DuckDB's native read_csv of every submission CSV into one typed table in a database file
  (round and unit from the path, stage mapped to its code, 总投资 as DECIMAL), plus the bulletin JSON
  through read_json and the few xlsx files through pandas with calamine (DuckDB reads no xlsx offline).
  No per-file transaction, content hash, raw-file copy, quarantine, findings or manifest.
- build: the SQL dbt compiled for every model (manifest.json of the measured `dbt build`), executed
  in dependency order with plain DuckDB as CREATE OR REPLACE VIEW/TABLE, seeds loaded with read_csv.
  Ephemeral models are inlined by dbt's compiler already. No tests, no dbt start-up or parsing.
- validate: one SQL statement computing every expectation of sanpi/validate/suites.py (translated
  from the suite objects themselves, so it follows the suites) as counts of failing rows over the
  same query assets GX validates.
Every baseline connection gets sanpi's memory limit (SANPI_DUCKDB_MEMORY_LIMIT, default 1200MB): the floor
is measured under the same memory budget as the thing compared with it.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb

from sanpi.settings import duckdb_config

_STAGE_CODES = {"签约一批": "signed", "开工一批": "started", "投产一批": "production"}


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def native_ingest(source: Path, warehouse: Path) -> dict:
    from sanpi.reference import units

    started = time.perf_counter()
    source = source.resolve()
    csvs = sorted(str(p) for p in (source / "submissions").glob("*/*.csv"))
    xlsxs = sorted((source / "submissions").glob("*/*.xlsx"))
    bulletins = sorted(str(p) for p in (source / "bulletins").glob("*.json"))
    names = ", ".join(f"({_sql_str(u.name_zh)}, {_sql_str(u.code)})" for u in units())
    stage_map = ", ".join(f"({_sql_str(k)}, {_sql_str(v)})" for k, v in _STAGE_CODES.items())
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse), config=duckdb_config()) as con:
        con.execute(f"CREATE TEMP TABLE unit_names (name_zh VARCHAR, city_code VARCHAR); "
                    f"INSERT INTO unit_names VALUES {names}; "
                    f"CREATE TEMP TABLE stage_names (stage VARCHAR, stage_code VARCHAR); "
                    f"INSERT INTO stage_names VALUES {stage_map};")
        con.execute("""CREATE TABLE submission_rows (file_path VARCHAR, row_number INTEGER, round_no INTEGER,
                           city_code VARCHAR, stage_code VARCHAR, project_code VARCHAR, project_name VARCHAR,
                           county VARCHAR, sector_label VARCHAR, investment_yi DECIMAL(18, 4))""")
        if csvs:
            con.execute("""
                INSERT INTO submission_rows
                SELECT c.filename, c."序号", CAST(regexp_extract(c.filename, '/submissions/(\\d+)/', 1) AS INTEGER),
                       u.city_code, s.stage_code, c."项目代码", c."项目名称", c."所在县区", c."所属行业",
                       c."总投资(亿元)"
                FROM read_csv(?, header = true, filename = true, delim = ',', quote = '"',
                              columns = {'序号': 'INTEGER', '项目代码': 'VARCHAR', '项目名称': 'VARCHAR',
                                         '所在县区': 'VARCHAR', '所属行业': 'VARCHAR', '阶段': 'VARCHAR',
                                         '总投资(亿元)': 'DECIMAL(18, 4)'}) AS c
                LEFT JOIN unit_names AS u ON u.name_zh = regexp_extract(c.filename, '([^/]+)\\.csv$', 1)
                LEFT JOIN stage_names AS s ON s.stage = c."阶段"
            """, [csvs])
        if xlsxs:
            import pandas as pd

            frames = []
            for path in xlsxs:
                for sheet, frame in pd.read_excel(path, sheet_name=None, header=1, engine="calamine").items():
                    frames.append(pd.DataFrame({
                        "file_path": str(path), "row_number": frame["序号"], "round_no": int(path.parent.name),
                        "city_code": next((u.code for u in units() if u.name_zh == path.stem), None),
                        "stage_code": _STAGE_CODES.get(sheet), "project_code": frame["项目代码"],
                        "project_name": frame["项目名称"], "county": frame["所在县区"],
                        "sector_label": frame["所属行业"], "investment_yi": frame["总投资(亿元)"].astype(str)}))
            xlsx_rows = pd.concat(frames, ignore_index=True)  # noqa: F841 (replacement scan)
            con.execute("INSERT INTO submission_rows SELECT * REPLACE (CAST(investment_yi AS DECIMAL(18, 4)) "
                        "AS investment_yi) FROM xlsx_rows")
        if bulletins:
            con.execute("""CREATE TABLE bulletin_figures AS
                           SELECT filename AS file_path, "round" AS round_no, unnest(figures, recursive := true)
                           FROM read_json(?, filename = true, format = 'auto')""", [bulletins])
        rows = con.execute("SELECT count(*) FROM submission_rows").fetchone()[0]
    return {"seconds": time.perf_counter() - started, "files": len(csvs) + len(xlsxs) + len(bulletins),
            "rows_loaded": rows}


# -- build ---------------------------------------------------------------------------------------
def seed_types(warehouse: Path) -> dict[str, list[list[str]]]:
    """Column names and types dbt gave each seed table (so the baseline loads them identically)."""
    with duckdb.connect(str(warehouse), read_only=True, config=duckdb_config()) as con:
        rows = con.execute("""SELECT table_name, column_name, data_type FROM information_schema.columns
                              WHERE table_schema = 'reference' ORDER BY table_name, ordinal_position""").fetchall()
    out: dict[str, list[list[str]]] = {}
    for table, column, data_type in rows:
        out.setdefault(table, []).append([column, data_type])
    return out


def _topological(nodes: dict[str, dict]) -> list[str]:
    order, done, visiting = [], set(), set()

    def visit(node_id: str) -> None:
        if node_id in done or node_id not in nodes:
            return
        if node_id in visiting:
            raise ValueError(f"dependency cycle at {node_id}")
        visiting.add(node_id)
        for parent in sorted(nodes[node_id].get("depends_on", {}).get("nodes", [])):
            visit(parent)
        visiting.discard(node_id)
        done.add(node_id)
        order.append(node_id)

    for node_id in sorted(nodes):
        visit(node_id)
    return order


def compiled_statements(manifest_path: Path, seed_columns: dict[str, list[list[str]]]) -> list[tuple[str, str]]:
    """(node id, SQL) for every seed and model in dependency order, from dbt's manifest."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    nodes = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] in ("model", "seed")}
    statements: list[tuple[str, str]] = []
    schemas: set[tuple[str, str]] = set()
    for node_id in _topological(nodes):
        node = nodes[node_id]
        materialized = node["config"].get("materialized")
        if materialized == "ephemeral":
            continue
        database, schema = node["database"], node["schema"]
        if (database, schema) not in schemas:
            schemas.add((database, schema))
            statements.append((f"schema {schema}", f'CREATE SCHEMA IF NOT EXISTS "{database}"."{schema}"'))
        relation = node["relation_name"]
        if node["resource_type"] == "seed":
            path = Path(node["root_path"]) / node["original_file_path"]
            columns = seed_columns.get(node["alias"])
            spec = ("columns = {" + ", ".join(f"{_sql_str(c)}: {_sql_str(t)}" for c, t in columns) + "}, "
                    if columns else "")
            statements.append((node_id, f"CREATE OR REPLACE TABLE {relation} AS SELECT * FROM "
                                        f"read_csv({_sql_str(str(path))}, header = true, {spec}auto_detect = true)"))
            continue
        code = node.get("compiled_code")
        if code is None:
            raise ValueError(f"{node_id} has no compiled SQL in {manifest_path}: run dbt build/compile first")
        kind = "VIEW" if materialized == "view" else "TABLE"
        statements.append((node_id, f"CREATE OR REPLACE {kind} {relation} AS (\n{code}\n)"))
    return statements


def run_compiled_models(warehouse: Path, manifest_path: Path, seed_columns: dict) -> dict:
    statements = compiled_statements(manifest_path, seed_columns)
    started = time.perf_counter()
    slowest: list[tuple[float, str]] = []
    with duckdb.connect(str(warehouse), config=duckdb_config()) as con:
        for node_id, sql in statements:
            t0 = time.perf_counter()
            con.execute(sql)
            slowest.append((time.perf_counter() - t0, node_id))
    slowest.sort(reverse=True)
    return {"seconds": time.perf_counter() - started, "statements": len(statements),
            "slowest": [[node_id, round(s, 3)] for s, node_id in slowest[:8]]}


# -- validate ------------------------------------------------------------------------------------
def _literal(value) -> str:
    return _sql_str(value) if isinstance(value, str) else repr(value)


def _column_check(e) -> str | None:
    """Count of failing rows of a column expectation over its asset (NULLs are ignored, as in GX)."""
    kind, column = type(e).__name__, getattr(e, "column", None)
    if getattr(e, "row_condition", None):
        raise ValueError(f"{kind} with a row_condition: not translated to the one-pass baseline yet")
    if kind == "ExpectColumnValuesToNotBeNull":
        return f'count(*) FILTER (WHERE "{column}" IS NULL)'
    if kind in ("ExpectColumnValuesToBeInSet", "ExpectColumnValuesToNotBeInSet"):
        values = ", ".join(_literal(v) for v in e.value_set)
        negate = "NOT " if kind == "ExpectColumnValuesToBeInSet" else ""
        return f'count(*) FILTER (WHERE "{column}" IS NOT NULL AND {negate}"{column}" IN ({values}))'
    if kind == "ExpectColumnValuesToBeBetween":
        bounds = []
        if e.min_value is not None:
            bounds.append(f'"{column}" {">" if e.strict_min else ">="} {e.min_value}')
        if e.max_value is not None:
            bounds.append(f'"{column}" {"<" if e.strict_max else "<="} {e.max_value}')
        return f'count(*) FILTER (WHERE "{column}" IS NOT NULL AND NOT ({" AND ".join(bounds) or "TRUE"}))'
    if kind == "ExpectTableRowCountToBeBetween":
        return "count(*)"
    return None


def validation_sql() -> dict:
    """Every expectation of sanpi/validate/suites.py as one SQL statement: per suite, one aggregate
    pass over its asset for the column expectations, plus each unexpected-rows query counted.
    Built in the parent (it imports GX), so the baseline child pays no GX import."""
    from sanpi.validate.suites import SUITES

    ctes, aggregates, subqueries, checks = [], [], [], []
    for i, suite in enumerate(SUITES):
        asset = f"_asset_{i}"
        ctes.append(f"{asset} AS ({suite.asset_query})")
        columns = []
        for j, e in enumerate(suite.build()):
            key = f"{suite.name}_{j}"
            severity = str(getattr(getattr(e, "severity", None), "value", getattr(e, "severity", "critical")))
            kind = type(e).__name__
            if kind == "UnexpectedRowsExpectation":
                query = e.unexpected_rows_query.format(batch=asset)
                subqueries.append(f"(SELECT count(*) FROM ({query}) AS _rows) AS {key}")
            else:
                expression = _column_check(e)
                if expression is None:
                    raise ValueError(f"{kind} is not translated to the one-pass baseline yet")
                columns.append(f"{expression} AS {key}")
            minimum = getattr(e, "min_value", None) if kind == "ExpectTableRowCountToBeBetween" else None
            checks.append({"key": key, "kind": kind, "severity": severity, "min_rows": minimum})
        if columns:
            ctes.append(f"{asset}_checks AS (SELECT {', '.join(columns)} FROM {asset})")
            aggregates.append(f"{asset}_checks")
    sql = (f"WITH {', '.join(ctes)}\nSELECT * FROM {', '.join(aggregates)}, "
           f"(SELECT {', '.join(subqueries) or '1 AS _none'})")
    return {"sql": sql, "checks": checks}


def one_pass_checks(warehouse: Path, spec: dict) -> dict:
    started = time.perf_counter()
    with duckdb.connect(str(warehouse), read_only=True, config=duckdb_config()) as con:
        cursor = con.execute(spec["sql"])
        names = [d[0] for d in cursor.description]
        values = dict(zip(names, cursor.fetchone()))
    seconds = time.perf_counter() - started
    failing, critical = {}, False
    for check in spec["checks"]:
        value = values[check["key"]]
        failed = (value < check["min_rows"]) if check["min_rows"] is not None else bool(value)
        if failed:
            failing[check["key"]] = value
            critical = critical or check["severity"].lower() == "critical"
    return {"seconds": seconds, "success": not critical, "failing": failing, "expectations": len(spec["checks"])}
