"""Run a layer's suites inside PostgreSQL through GX's SQL datasource; keep and judge the results.

The GX project (a file context) lives under ``<local_dir>/gx``: it is generated from the suites
in code on every run (keeping the data assets that still match), never edited by hand, and
holds the Data Docs site.
"""

from __future__ import annotations

import copy
import importlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from expectations import audit, incremental, profiles
from expectations.catalog import load_catalog
from expectations.rules import BuildEnv
from expectations.settings import Settings
from expectations.spec import SAMPLE_ROWS, Check, TableSuite, offending_rows, sql_list

log = logging.getLogger(__name__)

LAYERS = ("raw", "staging", "intermediate", "marts")
DATASOURCE = "warehouse"
# Schemas whose catalog each layer reads (its own, plus what its checks reference).
SCHEMAS = {
    "raw": ["raw"],
    "staging": ["raw", "staging"],
    "intermediate": ["staging", "intermediate"],
    "marts": ["staging", "intermediate", "marts"],
}


class ValidationFailed(RuntimeError):
    """A critical expectation failed: names the table, the expectation and offending values."""


@dataclass
class LayerResult:
    run_id: str
    layer: str
    rows: list[dict]
    skipped: list[str] = field(default_factory=list)  # suites not run: their table does not exist
    seconds: float = 0.0
    # Dated suites: which rows this run checked (``Scope.describe()``), by suite name.
    scopes: dict[str, dict] = field(default_factory=dict)

    @property
    def critical_failures(self) -> list[dict]:
        return [r for r in self.rows if not r["success"] and r["severity"] == "critical"]

    @property
    def warnings(self) -> list[dict]:
        return [r for r in self.rows if not r["success"] and r["severity"] == "warning"]

    @property
    def success(self) -> bool:
        return not self.critical_failures

    def summary(self) -> str:
        passed = sum(r["success"] for r in self.rows)
        return (
            f"{self.layer}: {passed}/{len(self.rows)} expectations passed, "
            f"{len(self.critical_failures)} critical failures, {len(self.warnings)} warnings"
            + (f", {len(self.skipped)} suites not run (table missing)" if self.skipped else "")
            + "".join(
                f"; {name.split('.', 1)[1]} checked since {s['column']} >= {s['since']}"
                for name, s in self.scopes.items()
                if s["rows"] == "incremental"
            )
            + f" in {self.seconds:.1f}s"
        )


def gx_root() -> Path:
    from warehouse.paths import local_dir

    return local_dir() / "gx"


def data_docs_index() -> Path:
    return gx_root() / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def build_data_docs() -> Path:
    """Render the Data Docs site from the validation results GX keeps under ``gx_root()``."""
    _context().build_data_docs()
    return data_docs_index()


def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    root = gx_root()
    root.mkdir(parents=True, exist_ok=True)
    ctx = gx.get_context(mode="file", project_root_dir=str(root))
    if ctx.variables.config_variables_file_path:
        # GX re-reads and parses the config-variables YAML on every config look-up (hundreds per
        # run, a third of a small layer's time); the generated project substitutes nothing, so
        # it goes, and the context is reopened without that provider.
        ctx.variables.config_variables_file_path = None
        ctx.variables.save()
        ctx = gx.get_context(mode="file", project_root_dir=str(root))
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return ctx


def _sqlalchemy_url(url: str) -> str:
    """GX's engine URL, with the session options dbt's connections get (JIT off: the checks read
    tables dbt has just written, whose estimates would make PostgreSQL compile short queries)."""
    from urllib.parse import quote

    from warehouse.postgres import session_options

    scheme, rest = url.split("://", 1)
    if scheme not in ("postgres", "postgresql"):
        return url
    options = session_options()
    query = f"{'&' if '?' in rest else '?'}options={quote(options)}" if options else ""
    return f"postgresql+psycopg://{rest}{query}"


def _forget_layer(layer: str) -> None:
    """Drop the layer's generated checkpoint and validation definitions: rebuilt from code each run.

    (A stored definition may point at an asset for a table that is gone; GX refuses to load it.)
    Validation results and Data Docs are kept.
    """
    base = gx_root() / "gx"
    (base / "checkpoints" / f"{layer}_checkpoint.json").unlink(missing_ok=True)
    for path in (base / "validation_definitions").glob(f"{layer}.*.json"):
        path.unlink()


def _sync_assets(ctx, layer: str, warehouse_url: str, wanted: dict[str, tuple[TableSuite, str | None]]) -> dict:
    """The layer's datasource with one asset per suite (a query asset where ``wanted`` gives a
    query); returns each suite's whole-table batch definition.

    Assets that still match are kept from the last run: GX rewrites the whole project YAML (every
    layer's datasource) for each asset or batch definition it adds, so re-adding them all cost
    more than the checks of a layer whose only change is the incremental events window. One
    datasource per layer: updating one layer's assets never strands another layer's definitions.
    """
    name, connection = f"{DATASOURCE}_{layer}", _sqlalchemy_url(warehouse_url)
    try:
        ds = ctx.data_sources.get(name)
    except KeyError:  # (GX's documented "not found")
        ds = None
    if ds is None or str(ds.connection_string) != connection:
        ds = ctx.data_sources.add_or_update_postgres(name=name, connection_string=connection)

    def matches(asset) -> bool:
        if asset.name not in wanted:
            return False
        ts, query = wanted[asset.name]
        if query:
            return getattr(asset, "query", None) == query
        return getattr(asset, "table_name", None) == ts.table and getattr(asset, "schema_name", None) == ts.schema

    for asset in list(ds.assets):
        if not matches(asset):
            ds.delete_asset(asset.name)
    kept = {a.name for a in ds.assets}
    batches = {}
    for asset_name, (ts, query) in wanted.items():
        if asset_name in kept:
            asset = ds.get_asset(asset_name)  # (bound to the context, unlike the listed object)
        else:
            if query:
                asset = ds.add_query_asset(name=asset_name, query=query)
            else:
                asset = ds.add_table_asset(name=asset_name, table_name=ts.table, schema_name=ts.schema)
        if any(b.name == "whole_table" for b in asset.batch_definitions):
            batches[asset_name] = asset.get_batch_definition("whole_table")
        else:
            batches[asset_name] = asset.add_batch_definition_whole_table("whole_table")
    return batches


def suites_for(layer: str, env: BuildEnv) -> list[TableSuite]:
    """The layer's table suites built against the catalog snapshot in ``env``."""
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; known: {LAYERS}")
    return importlib.import_module(f"expectations.suites.{layer}").build(env)


def catalog_suite(layer: str, suites: list[TableSuite], env: BuildEnv) -> TableSuite:
    """Checks on the catalog itself (``information_schema.columns``), one query each for the layer.

    Every table a suite checks present with its key columns (critical: a table the layer must
    have but nobody built is a failure, never a silently skipped suite); column types; and the
    constraints other suites rely on instead of scanning for duplicates.
    """
    checks = []
    rows = [(ts.schema, ts.table, col) for ts in suites for col in (ts.key_columns or ("",))]
    if rows:
        checks.append(
            offending_rows(
                "expect_tables_and_key_columns_present",
                "select distinct e.table_schema || '.' || e.table_name as table_name, "
                "case when t.table_name is null then '(table missing)' else e.column_name end as missing "
                f"from (values {_values(rows)}) as e (table_schema, table_name, column_name) "
                "left join (select distinct table_schema, table_name from {batch} as b) as t "
                "on t.table_schema = e.table_schema and t.table_name = e.table_name "
                "where t.table_name is null or (e.column_name <> '' and not exists (select 1 from {batch} as c "
                "where c.table_schema = e.table_schema and c.table_name = e.table_name "
                "and c.column_name = e.column_name))",
                "Every table the layer's suites check exists with its key columns.",
            )
        )
    typed = [(ts.schema, ts.table, col, typ) for ts in suites for col, typ in ts.column_types.items()]
    if typed:
        checks.append(
            offending_rows(
                "expect_column_types",
                "select e.table_schema || '.' || e.table_name as table_name, e.column_name, "
                "e.expected_type, c.data_type as actual_type "
                f"from (values {_values(typed)}) as e (table_schema, table_name, column_name, expected_type) "
                "inner join {batch} as c on c.table_schema = e.table_schema and c.table_name = e.table_name "
                "and c.column_name = e.column_name where c.data_type <> e.expected_type",
                "Typed columns have the PostgreSQL type downstream models rely on.",
            )
        )
    keys = sorted({(s, t, ",".join(sorted(cols))) for ts in suites for s, t, cols in ts.constraint_keys})
    if keys:
        checks.append(
            offending_rows(
                "expect_key_constraints_present",
                "select e.table_schema || '.' || e.table_name as table_name, e.key_columns "
                f"from (values {_values(keys)}) as e (table_schema, table_name, key_columns) "
                "where exists (select 1 from {batch} as c where c.table_schema = e.table_schema "
                "and c.table_name = e.table_name) and not exists (select 1 from pg_index as i "
                "where i.indrelid = to_regclass(quote_ident(e.table_schema) || '.' || quote_ident(e.table_name)) "
                "and i.indisunique and i.indisvalid and i.indpred is null and (select array_agg(a.attname::text) "
                "from pg_attribute as a where a.attrelid = i.indrelid and a.attnum = any(i.indkey)) "
                "<@ string_to_array(e.key_columns, ','))",
                "Keys whose uniqueness a constraint guarantees (so no scan checks it) still have that constraint.",
            )
        )
    return TableSuite(layer=layer, schema="information_schema", table="columns", checks=checks)


def _values(rows: list[tuple]) -> str:
    return ", ".join(f"({sql_list(list(r))})" for r in rows)


def _expectation(check: Check):
    exp = copy.deepcopy(check.expectation)  # suites may be shared: never mutate them
    exp.meta = {
        **(exp.meta or {}),
        "severity": check.severity,
        "check": check.name or exp.expectation_type,
        "description": exp.description,
    }
    exp.severity = check.severity
    return exp


def validate_layer(
    layer: str,
    warehouse_url: str,
    build_docs: bool = True,
    all_rows: bool | None = None,
    as_of_date: date | None = None,
) -> LayerResult:
    """Run every suite of ``layer`` as one checkpoint; store results in ``audit.validation_results``.

    ``all_rows``: validate every row of the dated suites too (default: ``POSTSALE_VALIDATE_ALL_ROWS``);
    otherwise they check only the rows since their last passing run (``expectations/incremental.py``).
    ``as_of_date``: the pipeline run's day; a backfill of an earlier day also checks the rows
    from that day on (the ones the run rebuilt), and the results record the day.
    """
    import great_expectations as gx
    import psycopg

    started = time.monotonic()
    all_rows = incremental.all_rows_requested() if all_rows is None else all_rows
    with psycopg.connect(warehouse_url) as conn:
        env = BuildEnv(load_catalog(conn, SCHEMAS[layer]), Settings.from_env())
        suites = suites_for(layer, env)
        present = [ts for ts in suites if env.catalog.exists(ts.schema, ts.table)]
        # Marks are read before any check runs: rows arriving during the run are after the mark.
        scopes = incremental.read_scopes(conn, present, all_rows, env.catalog, as_of_date)
        profiles.prepare(conn, layer)  # the distribution checks read the last accepted profile
    skipped = [ts.relation for ts in suites if ts not in present]
    to_run = [catalog_suite(layer, suites, env), *present]

    ctx = _context()
    _forget_layer(layer)
    # A query asset for a dated suite: GX substitutes it for ``{batch}`` as a subquery, so
    # PostgreSQL plans each check with the restriction (an index range scan on the dating column).
    wanted = {ts.name: (ts, scopes[ts.name].query() if ts.name in scopes else None) for ts in to_run}
    batches = _sync_assets(ctx, layer, warehouse_url, wanted)
    definitions, by_suite = [], {}
    for ts in to_run:
        batch = batches[ts.name]
        suite = gx.ExpectationSuite(name=ts.name)
        for check in ts.checks:
            suite.add_expectation(_expectation(check))
        suite = ctx.suites.add_or_update(suite)
        definitions.append(
            ctx.validation_definitions.add_or_update(gx.ValidationDefinition(name=ts.name, data=batch, suite=suite))
        )
        by_suite[ts.name] = ts
    actions = [gx.checkpoint.UpdateDataDocsAction(name="update_data_docs")] if build_docs else []
    checkpoint = ctx.checkpoints.add_or_update(
        gx.Checkpoint(
            name=f"{layer}_checkpoint",
            validation_definitions=definitions,
            actions=actions,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS},
        )
    )
    run_id = f"{layer}-{uuid.uuid4()}"
    result = checkpoint.run()
    rows = []
    described = {name: sc.describe() for name, sc in scopes.items()}
    for vr in result.run_results.values():
        ts = by_suite[vr.suite_name]
        scope = described.get(vr.suite_name, {"rows": "all"})
        for er in vr.results:
            cfg = er.expectation_config
            res = er.result or {}
            meta = cfg.meta or {}
            if "offending_rows" in (res.get("details") or {}):  # ExpectNoOffendingRows
                res = {
                    **res,
                    "unexpected_count": res.get("observed_value"),
                    "partial_unexpected_list": res["details"]["offending_rows"],
                }
            if er.exception_info and er.exception_info.get("raised_exception"):
                res = {"observed_value": f"error: {er.exception_info.get('exception_message')}"}
            rows.append(
                {
                    "run_id": run_id,
                    "layer": layer,
                    "suite": vr.suite_name,
                    "table_name": ts.relation,
                    "expectation": meta.get("check", cfg.type),
                    "column_name": cfg.kwargs.get("column"),
                    "severity": meta.get("severity", "critical"),
                    "success": bool(er.success),
                    "observed_value": _jsonable(res.get("observed_value")),
                    "unexpected_count": res.get("unexpected_count"),
                    "sample_unexpected": _jsonable(res.get("partial_unexpected_list")),
                    "kwargs": _jsonable(
                        {
                            "type": cfg.type,
                            "description": meta.get("description"),
                            **{k: v for k, v in cfg.kwargs.items() if k != "batch_id"},
                            "scope": scope,
                        }
                    ),
                }
            )
    outcome = LayerResult(run_id, layer, rows, skipped=skipped, scopes=described)
    with psycopg.connect(warehouse_url) as conn:  # one transaction: results and marks together
        audit.write_results(conn, rows, as_of_date)
        failed = {r["suite"] for r in outcome.critical_failures}
        incremental.record_marks(conn, scopes, failed, run_id)
        if outcome.success:  # only an accepted run becomes the reference of the distribution checks
            profiles.record(conn, layer, run_id)
    outcome.seconds = time.monotonic() - started
    log.info(outcome.summary())
    return outcome


def raise_on_failure(outcome: LayerResult) -> None:
    """Stop the pipeline when a critical expectation failed, saying exactly what and where."""
    for w in outcome.warnings:
        log.warning("warning: %s", _describe(w))
    if outcome.critical_failures:
        lines = "\n".join(f"  - {_describe(r)}" for r in outcome.critical_failures)
        raise ValidationFailed(f"{outcome.layer} validation failed (run {outcome.run_id}):\n{lines}")


def _describe(r: dict) -> str:
    col = f" column {r['column_name']}" if r["column_name"] else ""
    desc = (r.get("kwargs") or {}).get("description")
    parts = [f"{r['table_name']}{col}: {r['expectation']}" + (f" ({desc})" if desc else "")]
    if r["observed_value"] is not None:
        parts.append(f"observed {r['observed_value']!r}")
    if r["unexpected_count"]:
        parts.append(f"{r['unexpected_count']} unexpected, e.g. {r['sample_unexpected']!r}")
    return "; ".join(parts)


def _jsonable(value):
    return json.loads(json.dumps(value, default=_json_default)) if value is not None else None


def _json_default(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)
