"""The report names the code each bench stage ran: one commit, or which stages ran which."""

from __future__ import annotations

import subprocess

from benchmarks import harness, report


def _git(repo, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def test_code_commit_is_dirty_for_code_changes_but_not_for_the_report_page(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "code.py").write_text("x = 1\n")
    (repo / "docs" / "PERFORMANCE.md").write_text("report\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "first")
    head = _git(repo, "rev-parse", "--short", "HEAD")
    monkeypatch.setattr(harness, "PROJECT_ROOT", repo)
    page = repo / "docs" / "PERFORMANCE.md"

    assert harness.code_commit(page) == head
    page.write_text("rewritten by the run\n")
    assert harness.code_commit(page) == head  # the run's own page does not make the code dirty
    assert harness.code_commit(None) == f"{head}+dirty"
    (repo / "code.py").write_text("x = 2\n")
    assert harness.code_commit(page) == f"{head}+dirty"


def _data(stages: dict) -> dict:
    config = {"accounts": 10, "seed": 1, "event_days": 3, "loader_repeats": 2}
    return {"run_id": "r", "status": "complete", "config": config, "machine": {"cpus": 2}, "stages": stages}


def test_report_names_one_commit_or_which_stages_ran_which():
    one = report.markdown(_data({"a": {"commit": "abc"}, "b": {"commit": "abc"}}))
    assert "Code: commit `abc` for every stage." in one
    two = report.markdown(_data({"a": {"commit": "abc"}, "b": {"commit": "def"}, "c": {"commit": "def"}}))
    assert "stages ran at more than one commit" in two
    assert "- `abc`: `a`" in two and "- `def`: `b`, `c`" in two
