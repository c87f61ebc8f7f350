"""Every DAG imports cleanly, and every task is retryable, owned and time-limited."""

from __future__ import annotations

import pytest

from warehouse.paths import PROJECT_ROOT


@pytest.fixture(scope="module")
def dagbag(airflow_home, monkeypatch_module):
    for key in ("AIRFLOW_HOME", "AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__LOAD_EXAMPLES"):
        monkeypatch_module.setenv(key, airflow_home[key])
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(PROJECT_ROOT / "dags"))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert {"postsale_ingest", "postsale_transform"} <= set(dagbag.dag_ids)


def test_transform_renders_one_task_per_dbt_model(dagbag):
    import json

    from warehouse.paths import DBT_MANIFEST

    manifest = json.loads(DBT_MANIFEST.read_text())
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    tasks = {t.task_id.split(".")[-1] for t in dagbag.dags["postsale_transform"].tasks}
    assert models, "the manifest has no models"
    assert {m for m in models if f"{m}_model_build" not in tasks} == set()


def test_every_test_on_two_models_runs_in_the_downstream_models_task(dagbag):
    """A relationships test runs in the build task of the parent that has every other parent
    upstream (cosmos's "buildable" indirect selection), or, between seeds, in the seeds task:
    a test with neither would never run in the DAG."""
    import json
    from functools import cache

    from warehouse.paths import DBT_MANIFEST

    nodes = json.loads(DBT_MANIFEST.read_text())["nodes"]
    parents = {k: set(n.get("depends_on", {}).get("nodes", [])) for k, n in nodes.items()}

    @cache
    def ancestors(node_id: str) -> frozenset[str]:
        found = set()
        for parent in parents.get(node_id, ()):
            found |= {parent} | ancestors(parent)
        return frozenset(found)

    tasks = dagbag.dags["postsale_transform"].tasks
    built = {t.task_id.split(".")[-1] for t in tasks}
    assert {t.indirect_selection for t in tasks if t.task_id.endswith("_build")} == {"buildable"}
    assert not {t for t in built if t.endswith("_test")}, "no test should need a task of its own"
    unplaced = []
    for test_id, test in nodes.items():
        tested = sorted(p for p in parents[test_id] if not p.startswith("source."))
        if test["resource_type"] != "test" or len(tested) < 2:
            continue
        if all(p.startswith("seed.") for p in tested):
            continue
        hosts = [p for p in tested if set(tested) - {p} <= ancestors(p)]
        if not any(f"{nodes[h]['name']}_{nodes[h]['resource_type']}_build" in built for h in hosts):
            unplaced.append(test["name"])
    assert unplaced == []


def test_every_task_has_retries_owner_and_timeout(dagbag):
    for dag in dagbag.dags.values():
        for t in dag.tasks:
            assert t.retries is not None and t.owner and t.owner != "airflow", f"{dag.dag_id}.{t.task_id}"
            assert t.execution_timeout is not None, f"{dag.dag_id}.{t.task_id} has no execution_timeout"
            assert t.on_failure_callback, f"{dag.dag_id}.{t.task_id} raises no alert on failure"


def test_each_component_reads_its_own_warehouse_connection(monkeypatch):
    """Connectors as loader, dbt and the rest as transformer, when a deployment names them."""
    from airflow.sdk import DAG

    from pipeline import connections as runtime
    from pipeline.orchestration import dbt_task_group

    monkeypatch.setenv("AIRFLOW_CONN_POSTSALE_WAREHOUSE", "postgresql://owner:o@db:5432/wh")
    monkeypatch.setenv("AIRFLOW_CONN_POSTSALE_WAREHOUSE_LOADER", "postgresql://loader:l@db:5432/wh")
    assert runtime.warehouse_url("loader") == "postgresql://owner:o@db:5432/wh"  # not named: the default
    monkeypatch.setenv("POSTSALE_LOADER_CONN_ID", "postsale_warehouse_loader")
    monkeypatch.setenv("POSTSALE_TRANSFORMER_CONN_ID", "postsale_warehouse_transformer")
    assert runtime.warehouse_url("loader") == "postgresql://loader:l@db:5432/wh"
    assert runtime.warehouse_conn_id("transformer") == "postsale_warehouse_transformer"

    with DAG("component_roles_probe", schedule=None):
        group = dbt_task_group("probe", select=["path:models/staging"], as_of_date="2026-01-01")
    env = next(iter(group.children.values())).env
    assert env["WAREHOUSE_USER"] == "{{ conn.postsale_warehouse_transformer.login }}"


def _diagram_edges(dag_id: str) -> set[tuple[str, str]]:
    """Edges of the mermaid block marked ``%% dag: <dag_id>`` in docs/ARCHITECTURE.md."""
    import re

    text = (PROJECT_ROOT / "docs" / "ARCHITECTURE.md").read_text()
    blocks = [b for b in re.findall(r"```mermaid\n(.*?)```", text, re.S) if f"%% dag: {dag_id}\n" in b]
    assert len(blocks) == 1, f"docs/ARCHITECTURE.md has no diagram of {dag_id}"
    edges = set()
    for line in blocks[0].splitlines():
        nodes = [re.sub(r"\[.*?\]", "", part).strip() for part in line.split("-->")]
        edges |= set(zip(nodes, nodes[1:], strict=False))
    return edges


@pytest.mark.parametrize("dag_id", ["postsale_ingest", "postsale_transform"])
def test_architecture_diagram_matches_the_dag_as_built(dagbag, dag_id):
    """Between top-level tasks and task groups, the documented edges are exactly the DAG's."""
    built = set()
    for t in dagbag.dags[dag_id].tasks:
        for d in t.downstream_list:
            up, down = t.task_id.split(".")[0], d.task_id.split(".")[0]
            if up != down:
                built.add((up, down))
    assert _diagram_edges(dag_id) == built
