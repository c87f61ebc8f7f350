"""How a suite is declared: a table, its expectations, and each expectation's severity.

Most checks are set-based SQL run inside PostgreSQL (``offending_rows``): a query that returns
the rows breaking a rule, nothing when the data is right. It runs once (GX's own
``UnexpectedRowsExpectation`` runs such a query twice, once for the rows and once to count
them); the count rides along as a window column, and the first rows are kept as the
offending values the failure message and the audit table show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import great_expectations as gx
from great_expectations.expectations.core.unexpected_rows_expectation import UnexpectedRowsExpectation

Severity = Literal["critical", "warning"]
SAMPLE_ROWS = 5
TOTAL_COLUMN = "_offending_total"


class ExpectNoOffendingRows(UnexpectedRowsExpectation):
    """Fails when the query returns rows; reports how many and the first few of them."""

    metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.table",)

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None, execution_engine=None) -> dict:
        rows = metrics["unexpected_rows_query.table"] or []
        total = int(rows[0].get(TOTAL_COLUMN, len(rows))) if rows else 0
        sample = [{k: v for k, v in r.items() if k != TOTAL_COLUMN} for r in rows[:SAMPLE_ROWS]]
        # Count and rows go under "details": GX's Data Docs renderer would read "unexpected_count"
        # as a column-map result and look for percentages a query check does not have.
        return {"success": total == 0, "result": {"observed_value": total, "details": {"offending_rows": sample}}}


@dataclass(frozen=True)
class Check:
    """One expectation plus its severity: ``critical`` stops downstream, ``warning`` only reports."""

    expectation: gx.expectations.Expectation
    severity: Severity = "critical"
    name: str | None = None  # what the audit table and failure messages call it (default: GX type)


@dataclass(frozen=True)
class TableSuite:
    """The expectations on one table of one layer.

    The table must exist: a missing one is a critical failure of the layer's catalog suite.
    ``key_columns``: columns that must exist (checked from the catalog, with ``column_types``
    giving the PostgreSQL type some of them must have).

    ``dated_by``: on a big append-only table, the column dating its rows (indexed, ideally;
    list it in ``key_columns``/``column_types`` so the catalog suite checks it is there).
    The suite then validates only the rows since its last passing run, minus the late-arrival
    days (``expectations/incremental.py``): ``{batch}`` is those rows, so its checks should be
    row rules; a check over the whole batch (a key scan) sees only them, as the dbt tests do.
    """

    layer: str
    schema: str
    table: str
    checks: list[Check] = field(default_factory=list)
    key_columns: tuple[str, ...] = ()
    column_types: dict[str, str] = field(default_factory=dict)
    # Column sets a database constraint guarantees unique: verified in the catalog, not scanned.
    constraint_keys: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    dated_by: str | None = None

    @property
    def name(self) -> str:
        return f"{self.layer}.{self.schema}.{self.table}"

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.table}"


def critical(expectation: gx.expectations.Expectation, name: str | None = None) -> Check:
    return Check(expectation, "critical", name)


def warning(expectation: gx.expectations.Expectation, name: str | None = None) -> Check:
    return Check(expectation, "warning", name)


def offending_rows(name: str, query: str, description: str, severity: Severity = "critical") -> Check:
    """A check failing when ``query`` returns any row.

    ``{batch}`` stands for the suite's table and must always be given an alias (``{batch} as t``).
    """
    # The cross join makes GX substitute ``{batch}`` as a bare parenthesised subquery (it only
    # aliases it itself when the query has no join), so every query aliases ``{batch}`` itself.
    wrapped = (
        f"select q.*, count(*) over () as {TOTAL_COLUMN} "
        f"from ({query.strip().rstrip(';')}) as q cross join (select 1) as one"
    )
    exp = ExpectNoOffendingRows(unexpected_rows_query=wrapped, description=description)
    return Check(exp, severity, name)


def sql_list(values: list[Any]) -> str:
    """A SQL list of literals for values read from seeds and settings (quotes doubled)."""
    out = []
    for v in values:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(repr(v))
        else:
            out.append("'" + str(v).replace("'", "''") + "'")
    return ", ".join(out)


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
