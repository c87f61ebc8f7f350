"""What the dbt project declares about its models and sources, read from its property ymls.

Every ``models/**/*.yml`` is read (wherever a model's yml lives: folders may be reorganised,
model names may not change) and indexed by name:

* ``models:`` — a model's columns in declared order, the PostgreSQL type of each
  (``data_type``, used only under an enforced contract: there dbt fails the build when the
  relation differs, so the type is a fact of the model), and the ``accepted_values`` of its
  columns;
* ``sources:`` — the raw tables the staging models read (source name = vendor, table name =
  stream, ``identifier`` the relation in the source's ``schema``).

Suites read these instead of repeating them, so a suite cannot disagree with the model it
checks; a name the project does not declare raises ``KeyError`` when the suites are built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from warehouse.paths import DBT_PROJECT_DIR

# dbt ``data_type`` spellings → the name ``information_schema.columns.data_type`` reports.
_TYPE_ALIASES = {
    "int": "integer",
    "int4": "integer",
    "int8": "bigint",
    "int2": "smallint",
    "bool": "boolean",
    "float8": "double precision",
    "float4": "real",
    "varchar": "character varying",
    "char": "character",
    "decimal": "numeric",
    "timestamptz": "timestamp with time zone",
    "timestamp": "timestamp without time zone",
    "timetz": "time with time zone",
    "time": "time without time zone",
}


def pg_type(data_type: str) -> str:
    """The ``information_schema`` name of a declared type (``numeric(12,2)`` → ``numeric``)."""
    base = re.sub(r"\(.*?\)", "", data_type.strip().lower()).strip()
    base = re.sub(r"\s+", " ", base)
    return _TYPE_ALIASES.get(base, base)


def _test_name(test) -> str:
    return test if isinstance(test, str) else next(iter(test))


@dataclass(frozen=True)
class Model:
    name: str
    path: Path  # the yml declaring it
    columns: dict[str, dict] = field(default_factory=dict)  # name -> the yml entry, in declared order
    contract_enforced: bool = False

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(self.columns)

    def column_types(self) -> dict[str, str]:
        """Column → PostgreSQL type, from ``data_type`` under an enforced contract (else empty)."""
        if not self.contract_enforced:
            return {}
        return {c: pg_type(spec["data_type"]) for c, spec in self.columns.items() if spec.get("data_type")}

    def accepted_values(self, column: str) -> list:
        """The values of the column's ``accepted_values`` test."""
        for test in self._tests(column):
            if _test_name(test) == "accepted_values":
                spec = test["accepted_values"] or {}
                return list((spec.get("arguments") or spec)["values"])
        raise KeyError(f"dbt declares no accepted_values for {self.name}.{column} ({self.path}); a suite depends on it")

    def _tests(self, column: str) -> list:
        if column not in self.columns:
            raise KeyError(f"dbt model {self.name} declares no column {column!r} ({self.path})")
        spec = self.columns[column]
        return list(spec.get("data_tests") or spec.get("tests") or [])


@dataclass(frozen=True)
class Source:
    name: str  # the vendor (``raw._sync_runs.source``)
    schema: str
    tables: dict[str, str]  # table name (the stream) -> identifier (the relation in ``schema``)
    columns: dict[str, tuple[str, ...]]  # table name -> declared column names
    loaded_at_field: str | None = None


@dataclass(frozen=True)
class Project:
    models: dict[str, Model]
    sources: dict[str, Source]

    def model(self, name: str) -> Model:
        try:
            return self.models[name]
        except KeyError:
            raise KeyError(
                f"the dbt project declares no model {name!r} in models/**/*.yml; a suite depends on it"
            ) from None

    def source_tables(self, schema: str) -> list[tuple[str, str, str]]:
        """(source, table, identifier) of every source table in ``schema``, in declared order."""
        return [
            (s.name, t, ident) for s in self.sources.values() if s.schema == schema for t, ident in s.tables.items()
        ]


def _folder_contract(config: dict, parts: list[str]) -> bool | None:
    """``+contract`` set on a folder or model in dbt_project.yml's ``models:`` tree (deepest wins)."""
    enforced, node = None, config
    for part in [None, *parts]:
        node = node if part is None else node.get(part)
        if not isinstance(node, dict):
            break
        contract = node.get("+contract")
        if isinstance(contract, dict) and "enforced" in contract:
            enforced = bool(contract["enforced"])
    return enforced


def load(project_dir: Path) -> Project:
    """Read every property yml under ``project_dir/models`` (recursively)."""
    project_file = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    folder_config = (project_file.get("models") or {}).get(project_file.get("name", ""), {}) or {}
    models: dict[str, Model] = {}
    sources: dict[str, Source] = {}
    model_dir = project_dir / "models"
    for path in sorted(model_dir.rglob("*.yml")):
        doc = yaml.safe_load(path.read_text()) or {}
        folders = list(path.parent.relative_to(model_dir).parts)
        for entry in doc.get("models") or []:
            name = entry["name"]
            if name in models:
                raise ValueError(f"dbt model {name!r} is declared twice: {models[name].path} and {path}")
            contract = ((entry.get("config") or {}).get("contract") or {}).get("enforced")
            if contract is None:
                contract = _folder_contract(folder_config, [*folders, name])
            models[name] = Model(
                name=name,
                path=path,
                columns={c["name"]: c for c in entry.get("columns") or []},
                contract_enforced=bool(contract),
            )
        for entry in doc.get("sources") or []:
            name = entry["name"]
            if name in sources:
                raise ValueError(f"dbt source {name!r} is declared twice (second in {path})")
            tables = entry.get("tables") or []
            sources[name] = Source(
                name=name,
                schema=entry.get("schema", name),
                tables={t["name"]: t.get("identifier", t["name"]) for t in tables},
                columns={t["name"]: tuple(c["name"] for c in t.get("columns") or []) for t in tables},
                loaded_at_field=entry.get("loaded_at_field"),
            )
    return Project(models, sources)


@lru_cache(maxsize=1)
def project() -> Project:
    """The dbt project the warehouse is built with (read once per process)."""
    return load(DBT_PROJECT_DIR)


def model(name: str) -> Model:
    return project().model(name)


def accepted_values(model_name: str, column: str) -> list:
    return project().model(model_name).accepted_values(column)
