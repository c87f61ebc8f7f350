"""dbt runs outside cosmos write a target path of their own, never ``dbt_project/target``."""

from __future__ import annotations

from warehouse import dbt
from warehouse.paths import DBT_PROJECT_DIR


def test_a_step_target_is_its_own_under_the_local_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("POSTSALE_LOCAL_DIR", str(tmp_path / "local"))
    seeds = dbt.own_target("seeds")
    assert seeds == (tmp_path / "local" / "dbt-targets" / "seeds").resolve()
    assert dbt.own_target("seeds") == seeds != dbt.own_target("docs")  # stable per step, one per step
    assert not seeds.is_relative_to(DBT_PROJECT_DIR)


def test_the_seed_task_runs_dbt_in_its_own_target(tmp_path, monkeypatch):
    from pipeline import tasks

    monkeypatch.setenv("POSTSALE_LOCAL_DIR", str(tmp_path / "local"))
    monkeypatch.setattr(tasks, "warehouse_url", lambda role, lookup=None: "postgresql://u@h:5432/wh")
    calls = []
    monkeypatch.setattr(dbt, "run_dbt", lambda args, url, target_path=None: calls.append(target_path) or [])
    tasks.dbt_seed(lookup=None)
    assert calls == [dbt.own_target("seeds")]
