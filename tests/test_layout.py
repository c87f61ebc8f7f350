"""The layout keeps its promises: DAG files only orchestrate, commands outside Airflow never
import it, and nothing refers to a path outside the repository."""

from __future__ import annotations

import ast
import subprocess
import sys

from warehouse.paths import PROJECT_ROOT

DAG_IMPORTS = ("__future__", "airflow", "pendulum", "pipeline", "connectors.registry")


def test_dag_files_import_only_airflow_and_the_pipeline():
    for path in (PROJECT_ROOT / "dags").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                assert name.startswith(DAG_IMPORTS), f"{path.name} imports {name}"


def test_commands_outside_airflow_do_not_import_it(tmp_path):
    """Importing Airflow writes ~/airflow/airflow.cfg: `postsale sync` and friends must not."""
    code = (
        "import sys\n"
        "import pipeline.cli, pipeline.tasks, pipeline.report, connectors.sync, expectations.runner, "
        "reverse_etl.sync, benchmarks.harness, warehouse.dbt\n"
        "pipeline.cli.build_parser()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('airflow', 'cosmos')))\n"
    )
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
    assert not (tmp_path / "airflow").exists()


def test_nothing_refers_to_a_path_outside_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    allowed = {"tests/vendor_specs.py", "tests/test_layout.py"}
    offenders = []
    for name in tracked.stdout.split():
        path = PROJECT_ROOT / name
        if name in allowed or name == "uv.lock" or not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        if "../shared" in text or "/work/" in text or '"shared" / "specs"' in text:
            offenders.append(name)
    assert offenders == []
