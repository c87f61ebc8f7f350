"""Every `.env.example` placeholder is refused when a container starts, with one line naming it.

Compose's `${VAR:?}` only checks that a variable is set, so the start-up scripts check the
values: they run here as the containers run them.
"""

from __future__ import annotations

import os
import subprocess

import psycopg

from tests.deploy import compose_file as cf
from tests.deploy.conftest import Deployment
from warehouse.paths import PROJECT_ROOT

AIRFLOW_INIT = PROJECT_ROOT / "deploy" / "airflow" / "init.sh"


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_postgres_init_refuses_the_superuser_placeholder(warehouse_admin_url):
    dep = Deployment(warehouse_admin_url)
    try:
        res = dep.run_init(POSTGRES_PASSWORD="change-me-postgres-superuser")
        assert res.returncode != 0
        assert "POSTGRES_SUPERUSER_PASSWORD still has its .env.example placeholder" in _one_line(res.stderr)
        with psycopg.connect(warehouse_admin_url) as conn:
            created = conn.execute("select count(*) from pg_roles where rolname = any(%s)", (dep.roles,)).fetchone()
        assert created == (0,)
    finally:
        dep.drop()


def _airflow_init_env(**override: str) -> dict[str, str]:
    env = {
        "PATH": os.environ["PATH"],
        "AIRFLOW__CORE__FERNET_KEY": "x" * 43 + "=",
        "AIRFLOW__API_AUTH__JWT_SECRET": "jwt",
        "AIRFLOW__API__SECRET_KEY": "api",
        "AIRFLOW_ADMIN_USER": "admin",
        "AIRFLOW_ADMIN_PASSWORD": "admin-pw",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg://airflow:db-pw@127.0.0.1:1/airflow",
        "AIRFLOW__CELERY__BROKER_URL": "redis://:redis-pw@127.0.0.1:1/0",
    }
    return {**env, **override}


def test_airflow_init_refuses_a_placeholder_inside_a_url():
    """REDIS_PASSWORD reaches airflow-init only inside the broker URL."""
    env = _airflow_init_env(AIRFLOW__CELERY__BROKER_URL="redis://:change-me-redis@redis:6379/0")
    res = subprocess.run(["bash", str(AIRFLOW_INIT)], env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert _one_line(res.stderr) == (
        "airflow-init: AIRFLOW__CELERY__BROKER_URL holds a .env.example change-me placeholder; "
        "replace every change-me value in .env"
    )


def _redis_start(tmp_path, password: str) -> subprocess.CompletedProcess:
    """The redis service's command, with a stand-in redis-server that reports it was started."""
    command = cf.load()["services"]["redis"]["command"]
    fake = tmp_path / "redis-server"
    fake.write_text("#!/bin/sh\necho started\n")
    fake.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "REDIS_PASSWORD": password}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def test_redis_refuses_its_placeholder_password(tmp_path):
    res = _redis_start(tmp_path, "change-me-redis")
    assert res.returncode == 1 and "started" not in res.stdout
    assert _one_line(res.stderr) == (
        "redis: REDIS_PASSWORD still has its .env.example placeholder; set a real value in .env"
    )
    ok = _redis_start(tmp_path, "a-real-password")
    assert (ok.returncode, ok.stdout.strip()) == (0, "started"), ok.stderr
