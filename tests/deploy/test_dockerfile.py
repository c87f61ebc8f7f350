"""Dockerfile and .dockerignore: the image installs exactly uv.lock and runs as a non-root user."""

from __future__ import annotations

import re

import pytest

from tests.deploy import compose_file as cf


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#")))
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, args = line.strip().partition(" ")
            out.append((word.upper(), " ".join(args.split())))
    return out


@pytest.fixture(scope="module")
def stages() -> list[list[tuple[str, str]]]:
    """Instructions grouped by build stage (each FROM opens one)."""
    groups: list[list[tuple[str, str]]] = []
    for ins in _instructions(cf.DOCKERFILE.read_text()):
        if ins[0] == "FROM":
            groups.append([])
        if groups:
            groups[-1].append(ins)
    return groups


def _args(stage, name):
    return [a for ins, a in stage if ins == name]


def test_python_311_base(stages):
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", cf.DOCKERFILE.read_text(), re.M))
    for stage in stages:
        image = _args(stage, "FROM")[0].split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        assert re.fullmatch(r"python:3\.11[-.\w]*", image), image


def test_installs_from_the_lockfile_with_uv(stages):
    runs = [a for stage in stages for a in _args(stage, "RUN")]
    syncs = [r for r in runs if "uv sync" in r]
    assert syncs, "no `uv sync` in the Dockerfile"
    for cmd in syncs:
        assert "--frozen" in cmd and "--no-dev" in cmd, cmd
    assert not [r for r in runs if re.search(r"\b(pip|uv pip) install\b(?!.*\buv==)", r)], "installs outside uv.lock"
    copies = [a for stage in stages for ins, a in stage if ins == "COPY"]
    first_sync = next(i for i, (ins, a) in enumerate(stages[0]) if ins == "RUN" and "uv sync" in a)
    assert any("uv.lock" in a for ins, a in stages[0][:first_sync] if ins == "COPY"), "uv.lock copied after sync"
    assert copies


def test_image_carries_the_dbt_manifest(stages):
    """The DAGs build their dbt tasks from target/manifest.json, which .dockerignore keeps out of
    the context: the image must parse the project itself, after the project is installed."""
    build = stages[0]
    sync_at = max(i for i, (ins, a) in enumerate(build) if ins == "RUN" and "uv sync" in a)
    parse_at = [i for i, (ins, a) in enumerate(build) if ins == "RUN" and "dbt parse" in a]
    assert parse_at and parse_at[0] > sync_at


def test_runtime_stage_is_not_root(stages):
    users = _args(stages[-1], "USER")
    assert users, "the runtime stage never switches user"
    assert users[-1].split(":")[0] not in ("0", "root")


def test_runtime_stage_carries_no_build_tooling(stages):
    runtime = stages[-1]
    assert not [a for a in _args(runtime, "RUN") if "uv " in a or "pip " in a]
    assert any(a.startswith("--from=") for a in _args(runtime, "COPY"))


def test_dockerignore_keeps_local_state_and_secrets_out():
    ignored = set(cf.DOCKERIGNORE.read_text().split())
    assert {".env", ".venv", ".local", ".git", "dbt_project/target"} <= ignored
    # ...but not what the image needs to build and run.
    assert not {"uv.lock", "pyproject.toml", "README.md", "dags", "dbt_project", "deploy"} & ignored
