"""``run_dbt`` runs nodes that lost a deadlock once more, and nothing else."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from warehouse import dbt

URL = "postgresql://postgres@127.0.0.1:5432/postsale"


def _result(node: str, status: str, message: str | None = None):
    return SimpleNamespace(node=SimpleNamespace(unique_id=node), status=status, execution_time=1.0, message=message)


class _Runner:
    """Stands in for dbt's programmatic runner: answers each invocation from a script."""

    def __init__(self, answers: list[list]) -> None:
        self.answers, self.calls = answers, []

    def __call__(self):
        return self

    def invoke(self, cli: list[str]):
        self.calls.append(cli[0])
        results = self.answers.pop(0)
        ok = all(r.status in ("success", "pass") for r in results)
        return SimpleNamespace(success=ok, exception=None, result=SimpleNamespace(results=results))


@pytest.fixture
def runner(monkeypatch):
    def install(answers):
        fake = _Runner(answers)
        monkeypatch.setattr("dbt.cli.main.dbtRunner", fake)
        for key in dbt.dbt_env(URL):
            monkeypatch.delenv(key, raising=False)
        return fake

    return install


def test_a_deadlocked_node_is_retried_and_its_result_replaced(runner):
    fake = runner(
        [
            [_result("model.a", "success"), _result("model.b", "error", "Database Error\n  deadlock detected")],
            [_result("model.b", "success")],
        ]
    )
    nodes = dbt.run_dbt(["run"], URL)
    assert fake.calls == ["run", "retry"]
    assert {n["node"]: n["status"] for n in nodes} == {"model.a": "success", "model.b": "success"}


def test_other_failures_are_not_retried(runner):
    fake = runner([[_result("model.b", "error", "deadlock detected"), _result("model.c", "error", "syntax error")]])
    with pytest.raises(dbt.DbtFailed, match="syntax error"):
        dbt.run_dbt(["run"], URL)
    assert fake.calls == ["run"]


def test_a_second_deadlock_fails(runner):
    deadlocked = [_result("model.b", "error", "deadlock detected")]
    fake = runner([deadlocked, list(deadlocked)])
    with pytest.raises(dbt.DbtFailed, match="model.b"):
        dbt.run_dbt(["run"], URL)
    assert fake.calls == ["run", "retry"]
