"""Celery scale-out proof without Docker: the pipeline's DAG runs spread over two workers here.

Starts, against the local PostgreSQL and Redis, what docker-compose.yml runs in containers: an
api-server (Airflow 3 workers report to its execution API), a scheduler, a dag-processor and two
Celery workers with distinct hostnames and one task slot each, plus the simulated APIs. Then it
triggers the pipeline's DAGs one after the other, waits for each run, prints which worker ran
each task, and fails unless every task succeeded and both workers ran tasks. Everything it
creates is removed on the way out, failure included: processes, the two databases (Airflow
metadata, warehouse) and its Redis keys. The DAGs render dbt from the compiled manifest, so it
must exist first (`make manifest`).

    .venv/bin/python deploy/scale_out.py [--accounts 40] [--redis-url redis://127.0.0.1:6379/13]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

DEPLOY_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(DEPLOY_DIR.parent))  # the repo root, when run as `python deploy/scale_out.py`

from deploy.supervise import Supervisor  # noqa: E402
from simulator.connections import airflow_connections as simulator_connections  # noqa: E402
from warehouse.embedded import free_port  # noqa: E402
from warehouse.paths import PROJECT_ROOT  # noqa: E402
from warehouse.postgres import WarehouseParams, admin_url  # noqa: E402

# The whole pipeline, in order: ingestion, then transformation (which in production is started
# by ingestion's `raw.validated` Asset; here each is triggered explicitly, see env()).
DEFAULT_DAGS = ["postsale_ingest", "postsale_transform"]
WORKERS = ("worker-a", "worker-b")
LOGICAL_DATE = "2026-11-01T00:00:00+00:00"
WORLD_AS_OF = date(2026, 11, 1)
# One month of product events is plenty to exercise the Mixpanel stream and keeps the run short.
MIXPANEL_WINDOW = {"start_date": "2026-09-01", "window_days": 31}
BIN = Path(sys.executable).parent
T0 = time.monotonic()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--admin-url", default=None, help="maintenance DB URL (default: WAREHOUSE_ADMIN_URL rule)")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="broker; use a Redis DB of its own")
    p.add_argument("--dag", dest="dags", action="append", help=f"DAG to run, repeatable (default: {DEFAULT_DAGS})")
    p.add_argument("--accounts", type=int, default=40, help="size of the simulated world")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--timeout", type=float, default=900, help="seconds each DAG run may take")
    p.add_argument("--workdir", type=Path, default=None, help="AIRFLOW_HOME, logs, world (default: a temp dir)")
    p.add_argument("--keep-workdir", action="store_true", help="keep logs even when the run succeeds")
    args = p.parse_args(argv)
    args.dags = args.dags or DEFAULT_DAGS
    return args


class Cluster:
    """The databases, the environment and the processes of one scale-out run."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.tag = f"scaleout_{secrets.token_hex(4)}"
        self.admin = args.admin_url or admin_url()
        self.metadata_url = WarehouseParams.from_url(self.admin).url(dbname=f"{self.tag}_airflow")
        self.warehouse_url = WarehouseParams.from_url(self.admin).url(dbname=f"{self.tag}_warehouse")
        self.api_port, self.sim_port = free_port(), free_port()
        # Generated once: the scheduler signs task tokens that the api-server must verify.
        self.jwt_secret, self.api_secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.supervisor = Supervisor(workdir / "logs")
        self.created_dbs: list[str] = []

    # --- resources ---------------------------------------------------------------------------

    def create_databases(self) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            for url in (self.metadata_url, self.warehouse_url):
                name = WarehouseParams.from_url(url).dbname
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
                self.created_dbs.append(name)

    def drop_databases(self) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            for name in self.created_dbs:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))

    def clean_redis(self) -> int:
        """Delete this run's keys (its queue, bindings, worker mailboxes all carry the tag); the
        broker's shared bookkeeping keys go too once no other queue is bound in this Redis DB."""
        import redis

        r = redis.Redis.from_url(self.args.redis_url)
        ours = list(r.scan_iter(match=f"*{self.tag}*"))
        if ours:
            r.delete(*ours)
        shared = [b"_kombu.binding.celery.pidbox", b"_kombu.binding.celeryev", b"unacked", b"unacked_index"]
        others = [k for k in r.scan_iter(match="_kombu.binding.*") if k not in shared]
        if not others:
            r.delete(*shared, b"unacked_mutex", b"_kombu.binding_deadlines")
        return len(ours)

    # --- configuration -----------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """What every component shares: docker-compose.yml's x-airflow-env, pointed at this machine."""
        meta = WarehouseParams.from_url(self.metadata_url)
        return {
            **os.environ,
            "AIRFLOW_HOME": str(self.workdir / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta.url(driver="postgresql+psycopg"),
            # Airflow derives its async engine as postgresql+asyncpg, which uv.lock does not hold.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": meta.url(driver="postgresql+psycopg_async"),
            "AIRFLOW__CELERY__RESULT_BACKEND": meta.url(driver="db+postgresql+psycopg"),
            "AIRFLOW__CELERY__BROKER_URL": self.args.redis_url,
            # A queue of its own: another Airflow on the same Redis DB cannot take these tasks.
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.tag,
            # One slot per worker: while one worker is busy the next ready task must go elsewhere.
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
            "AIRFLOW__API__SECRET_KEY": self.api_secret,
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.api_port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.api_port}/execution/",
            # Loopback-only and gone after the run: no login needed.
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            # Only the runs this script triggers: no scheduled, catch-up or Asset-triggered runs
            # besides them, so what runs and what is measured is deterministic.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "GX_ANALYTICS_ENABLED": "False",
            "POSTSALE_TASK_RETRIES": "0",  # a failure should fail the proof, not wait out a backoff
            "AIRFLOW_CONN_POSTSALE_WAREHOUSE": self.warehouse_url,
            # Every source at the simulator, as the demo and the end-to-end test configure them.
            **simulator_connections(f"http://127.0.0.1:{self.sim_port}", MIXPANEL_WINDOW),
            "WAREHOUSE_URL": self.warehouse_url,  # nothing may fall back to the embedded server
        }

    def worker_env(self, name: str) -> dict[str, str]:
        """A worker as if on its own machine: own hostname, log-server port and local state."""
        return {
            **self.env(),
            "POSTSALE_WORKER_NAME": name,
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "deploy.worker_identity.hostname",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "POSTSALE_LOCAL_DIR": str(self.workdir / name),
        }

    # --- processes ---------------------------------------------------------------------------

    def airflow(self, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> str:
        res = subprocess.run(
            [str(BIN / "airflow"), *args], env=env or self.env(), capture_output=True, text=True, timeout=timeout
        )
        if res.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
        return res.stdout

    def start(self) -> None:
        from simulator.world import generate_world

        world = generate_world(
            self.workdir / "world", accounts=self.args.accounts, seed=self.args.seed, as_of=WORLD_AS_OF
        )
        sup = self.supervisor
        sim = sup.start(
            "simulator",
            [str(BIN / "python"), "-m", "simulator", "serve", "--world", str(world), "--port", str(self.sim_port)],
            self.env(),
        )
        step("airflow db migrate (fresh metadata database)")
        self.airflow("db", "migrate")
        api = sup.start("api-server", [str(BIN / "airflow"), "api-server", "--port", str(self.api_port)], self.env())
        sup.start("scheduler", [str(BIN / "airflow"), "scheduler", "--skip-serve-logs"], self.env())
        sup.start("dag-processor", [str(BIN / "airflow"), "dag-processor"], self.env())
        workers = [
            sup.start(
                name,
                [
                    str(BIN / "airflow"),
                    "celery",
                    "worker",
                    "--queues",
                    self.tag,
                    "--concurrency",
                    "1",
                    "--celery-hostname",
                    f"{name}.{self.tag}@%h",
                ],
                self.worker_env(name),
            )
            for name in WORKERS
        ]
        sup.wait_until(sim, lambda: _http_ok(f"http://127.0.0.1:{self.sim_port}/_control/clock"), 120, "mock APIs")
        sup.wait_until(api, lambda: _http_ok(f"http://127.0.0.1:{self.api_port}/api/v2/monitor/health"), 180, "health")
        for w in workers:
            # Celery logs "<node> ready." once it consumes from its queues.
            sup.wait_until(w, lambda w=w: " ready." in w.log.read_text(errors="replace"), 180, "'ready.' line")
        step(f"api-server :{self.api_port}, scheduler, dag-processor, {', '.join(WORKERS)} and mock APIs are up")

    # --- the run -----------------------------------------------------------------------------

    def metadata(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.metadata_url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def wait_for_dag(self, dag_id: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while not self.metadata("select 1 from serialized_dag where dag_id = %s", (dag_id,)):
            self.supervisor.check_alive()
            errors = self.metadata("select filename, stacktrace from import_error")
            if errors:
                raise RuntimeError(f"DAG import errors: {errors}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id} not parsed after {timeout:.0f} s")
            time.sleep(1)

    def run_dag(self, dag_id: str) -> str:
        self.wait_for_dag(dag_id)
        step(f"{dag_id} parsed; triggering run {self.tag}")
        self.airflow("dags", "trigger", dag_id, "--run-id", self.tag, "--logical-date", LOGICAL_DATE)
        deadline = time.monotonic() + self.args.timeout
        seen: dict[str, tuple] = {}
        while True:
            self.supervisor.check_alive()
            for task_id, state, host in self.metadata(
                "select task_id, state, hostname from task_instance where dag_id = %s and run_id = %s",
                (dag_id, self.tag),
            ):
                if seen.get(task_id) != (state, host) and state not in (None, "scheduled"):
                    seen[task_id] = (state, host)
                    step(f"  {task_id:<40} {state:<10} {host or ''}")
            [(state,)] = self.metadata(
                "select state from dag_run where dag_id = %s and run_id = %s", (dag_id, self.tag)
            )
            if state in ("success", "failed"):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id} run {self.tag} still {state} after {self.args.timeout:.0f} s")
            time.sleep(2)

    def report(self, dag_id: str, state: str) -> dict[str, list[str]]:
        """Print who ran what; raise unless every task succeeded; return the tasks per worker."""
        rows = self.metadata(
            """
            select task_id, state, hostname, queue, external_executor_id,
                   extract(epoch from end_date - start_date)::float8,
                   extract(epoch from start_date - queued_dttm)::float8
            from task_instance where dag_id = %s and run_id = %s order by start_date nulls last
            """,
            (dag_id, self.tag),
        )
        run_start, run_end = self.metadata(
            "select start_date, end_date from dag_run where dag_id = %s and run_id = %s", (dag_id, self.tag)
        )[0]
        # Independent evidence: the Celery task id of each task instance in that worker's own log.
        logs = {w: (self.supervisor.log_dir / f"{w}.log").read_text(errors="replace") for w in WORKERS}
        print(f"\n{dag_id}\n{'task':<40} {'state':<8} {'hostname':<10} {'seconds':>8}  celery log with its task id")
        for task_id, ti_state, host, queue, celery_id, seconds, _latency in rows:
            in_log = [w for w, text in logs.items() if celery_id and celery_id in text]
            secs = f"{seconds:8.1f}" if seconds is not None else "       -"
            print(f"{task_id:<40} {ti_state:<8} {host or '-':<10} {secs}  {','.join(in_log) or '-'}")
            if queue != self.tag:
                raise AssertionError(f"{task_id} went to queue {queue}, not this run's {self.tag}")
            if host and in_log != [host]:
                raise AssertionError(f"{task_id}: hostname {host} but its Celery task id is in {in_log}")
        wall = (run_end - run_start).total_seconds()
        busy = sum(r[5] or 0 for r in rows)
        # Queued-to-started: waiting in the broker for a free slot, then dispatch (Celery, the
        # worker's task supervisor). With idle workers it is the per-task dispatch overhead.
        # Task time over wall time is the parallelism achieved.
        latencies = sorted(r[6] for r in rows if r[6] is not None)
        print(
            f"{dag_id} run {state}: wall {wall:.1f} s; task time {busy:.1f} s over {len(rows)} tasks "
            f"({busy / wall:.2f} tasks running on average); queued-to-started median "
            f"{latencies[len(latencies) // 2]:.1f} s, max {latencies[-1]:.1f} s"
        )
        if state != "success" or any(r[1] != "success" for r in rows):
            raise AssertionError(f"{dag_id} run {state}; task states {[(r[0], r[1]) for r in rows]}")
        return {w: [f"{dag_id}.{r[0]}" for r in rows if r[2] == w] for w in WORKERS}

    def run_all(self) -> None:
        by_worker: dict[str, list[str]] = {w: [] for w in WORKERS}
        for dag_id in self.args.dags:
            for w, tasks in self.report(dag_id, self.run_dag(dag_id)).items():
                by_worker[w] += tasks
        print()
        for w, tasks in by_worker.items():
            print(f"{w}: {len(tasks)} task(s)")
        if not all(by_worker.values()):
            raise AssertionError(f"tasks did not run on both workers: {by_worker}")


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def step(msg: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def _interrupt(signum: int, _frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _cleanup(cluster: Cluster) -> bool:
    """Stop processes, drop databases, delete Redis keys: each attempted even if one fails."""
    clean = True
    for what, action in [
        ("processes", cluster.supervisor.stop_all),
        ("databases", cluster.drop_databases),
        ("redis keys", cluster.clean_redis),
    ]:
        try:
            result = action()
            step(f"cleaned up {what}" + (f": {result}" if result not in (None, []) else ""))
        except Exception as exc:  # keep cleaning; report it and fail the run
            print(f"cleanup of {what} failed: {exc!r}", file=sys.stderr)
            clean = False
    return clean


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="postsale-scaleout-"))
    workdir.mkdir(parents=True, exist_ok=True)
    # SIGTERM (a test timeout, a cancelled CI job) must unwind through the cleanup, like Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    cluster = Cluster(args, workdir)
    ok = False
    try:
        step(f"run {cluster.tag}: databases {cluster.tag}_airflow / _warehouse, broker {args.redis_url}")
        cluster.create_databases()
        cluster.start()
        cluster.run_all()
        ok = True
    except (Exception, KeyboardInterrupt) as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr)
        for svc in cluster.supervisor.services:
            print(f"\n--- {svc.name} (last lines of {svc.log}) ---\n{svc.tail(15)}", file=sys.stderr)
    finally:
        ok = _cleanup(cluster) and ok
        if ok and not args.keep_workdir and not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            step(f"logs kept in {workdir / 'logs'}")
    step("scale-out proof " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
