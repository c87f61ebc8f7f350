"""The Celery scale-out proof (deploy/scale_out.py) on this machine's PostgreSQL and Redis."""

from __future__ import annotations

import re
import subprocess
import sys

import psycopg
import pytest
import redis

from warehouse.paths import PROJECT_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.scale_out]

SCRIPT = PROJECT_ROOT / "deploy" / "scale_out.py"
REDIS_URL = "redis://127.0.0.1:6379/13"


def test_dag_run_spreads_over_two_workers_and_leaves_nothing_behind(warehouse_admin_url, tmp_path):
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError as exc:
        pytest.fail(f"the scale-out proof needs Redis at {REDIS_URL}: {exc}")
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--admin-url", warehouse_admin_url, "--redis-url", REDIS_URL],
        capture_output=True,
        text=True,
        timeout=1500,
        cwd=tmp_path,
    )
    out = run.stdout + run.stderr
    # The script's own lines (stdout) say where it failed; stderr starts with the reason.
    assert run.returncode == 0, run.stdout[-3000:] + "\n" + run.stderr[:3000]
    tag = re.search(r"run (scaleout_[0-9a-f]{8}):", out).group(1)
    # `make scale-out` runs this with -s: show the report (tasks per worker, wall and task time).
    print("\n".join(line for line in run.stdout.splitlines() if not line.startswith("[")))

    # The report: every task succeeded, each on the worker whose Celery log holds its task id.
    rows = re.findall(r"^(\S+)\s+success\s+(worker-[ab])\s+[\d.]+\s+(worker-[ab])$", out, re.M)
    assert rows and all(host == in_log for _, host, in_log in rows), out[-3000:]
    assert {host for _, host, _ in rows} == {"worker-a", "worker-b"}
    for dag_id in ("postsale_ingest", "postsale_transform"):
        assert re.search(rf"^{dag_id} run success: wall [\d.]+ s; task time", out, re.M), dag_id

    # Nothing left: processes, databases, Redis keys.
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert tag not in ps
    with psycopg.connect(warehouse_admin_url) as conn:
        assert conn.execute("select datname from pg_database where datname like %s", (f"{tag}%",)).fetchall() == []
    r = redis.Redis.from_url(REDIS_URL)
    assert list(r.scan_iter(match=f"*{tag}*")) == []
    if not [k for k in r.scan_iter(match="_kombu.binding.*") if b"pidbox" not in k and b"celeryev" not in k]:
        assert r.dbsize() == 0, sorted(r.scan_iter())  # no other app on this DB: nothing at all left
