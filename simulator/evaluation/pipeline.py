"""One seed's run: generate the world, serve it, run the pipeline at every as-of, keep snapshots.

The pipeline runs as ``postsale`` subprocesses (the simulator imports no postsale package),
with credentials in ``AIRFLOW_CONN_*`` variables as Airflow would pass them. ``STEPS`` is the
one list of what runs at each as-of: a fitting command (``postsale fit-risk``) goes there.
Right after an as-of's steps, the marts are read and kept (``snapshot``): scores are taken
from these point-in-time copies, never from a later state of the warehouse.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# What runs at every as-of, in order: (name, postsale arguments). ``{as_of}`` and ``{target}``
# are filled in. `dbt build` without tests loads the seeds and builds snapshots and models in
# dependency order as the transform DAG does (one parse per invocation); the DAG's data tests
# only gate, they change no row. As in the DAG, the renewal-risk model is fitted between the
# build and the models that apply it.
STEPS: list[tuple[str, list[str]]] = [
    ("sync", ["sync"]),
    (
        "dbt",
        [
            "dbt", "build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test",
            "--exclude", "stg_postsale__risk_model_versions+", "stg_postsale__risk_model_coefficients+",
            "--vars", '{{"as_of_date": "{as_of}"}}', "--target-path", "{target}",
        ],
    ),
    ("fit", ["fit-risk", "--as-of", "{as_of}"]),
    (
        "dbt-scoring",
        [
            "dbt", "build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test",
            "--select", "stg_postsale__risk_model_versions+", "stg_postsale__risk_model_coefficients+",
            "--vars", '{{"as_of_date": "{as_of}"}}', "--target-path", "{target}",
        ],
    ),
]  # fmt: skip

# The mock APIs' rate limits model the vendors; the exam is not about them.
NO_RATE_LIMITS = {
    "SIMULATOR_MIXPANEL_HOURLY_LIMIT": "0",
    "SIMULATOR_MIXPANEL_RPS": "0",
    "SIMULATOR_HUBSPOT_RATE_LIMIT": "0",
    "SIMULATOR_HUBSPOT_SEARCH_RPS": "0",
    "SIMULATOR_HUBSPOT_DAILY_LIMIT": "0",
}


@dataclass
class RunConfig:
    accounts: int = 500
    first_as_of: date = date(2026, 1, 1)
    as_of_count: int = 7
    step_days: int = 30
    workdir: Path = Path(".local/evaluation")
    admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    keep_database: bool = False
    # Mixpanel history read on the first sync (the connector's own default is 730 days).
    event_history_days: int = 730
    postsale: str = field(default_factory=lambda: str(Path(sys.executable).parent / "postsale"))

    @property
    def as_ofs(self) -> list[date]:
        return [self.first_as_of + timedelta(days=self.step_days * i) for i in range(self.as_of_count)]

    @property
    def horizon_days(self) -> int:
        """Days planned past the first as-of: the last as-of plus the longest lead window (105)
        and a margin, so every scored renewal's outcome is planted."""
        return self.step_days * (self.as_of_count - 1) + 120


class StepFailed(RuntimeError):
    """A step of one seed's run failed; the message is one line naming seed, as-of and step."""


def database_url(admin_url: str, dbname: str) -> str:
    """``admin_url`` pointing at database ``dbname``."""
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, ""))


def step_argv(postsale: str, args: list[str], as_of: date, target: Path) -> list[str]:
    return [postsale, *(a.format(as_of=as_of.isoformat(), target=target) for a in args)]


def snapshot(url: str, as_of: date) -> dict:
    """What the marts say on ``as_of``: renewals, health bands, primary stages, retention."""
    with psycopg.connect(url) as conn:

        def rows(query: str, params: tuple) -> list[dict]:
            cur = conn.execute(query, params)
            names = [c.name for c in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

        renewals = rows(
            "select company_id, contract_end_date::text, days_to_renewal, risk_score, risk_score_rules, risk_method, "
            "forecast_category, health_band "
            "from marts.fct_renewals where as_of_date = %s order by company_id, contract_end_date",
            (as_of,),
        )
        health = rows(
            "select company_id, health_band from marts.fct_account_health_daily where calendar_date = %s order by 1",
            (as_of,),
        )
        stages = rows(
            "select company_id, primary_stage from marts.fct_journey_stage_daily where calendar_date = %s order by 1",
            (as_of,),
        )
        retention = rows(
            "select calendar_month::text, gross_revenue_retention::float as grr, net_revenue_retention::float as nrr "
            "from marts.fct_revenue_retention_by_month where calendar_month = date_trunc('month', %s::date)::date",
            (as_of,),
        )
    return {
        "renewals": renewals,
        "health": {r["company_id"]: r["health_band"] for r in health},
        "stages": {r["company_id"]: r["primary_stage"] for r in stages},
        "retention": retention[0] if retention else None,
    }


class SeedRun:
    """Runs the exam's pipeline for one seed; ``run()`` returns the seed's record (also saved as
    ``<workdir>/seed-N/run.json``)."""

    def __init__(self, cfg: RunConfig, seed: int, log=print):
        self.cfg, self.seed, self.log = cfg, seed, log
        self.dir = (cfg.workdir / f"seed-{seed}").resolve()
        self.world = self.dir / "world"
        self.record: dict = {
            "seed": seed,
            "accounts": cfg.accounts,
            "world": str(self.world),
            "as_ofs": [a.isoformat() for a in cfg.as_ofs],
            "horizon_days": cfg.horizon_days,
            "timings": {"as_of": {}},
            "snapshots": {},
        }

    def fail(self, as_of: date | None, step: str, why: str) -> StepFailed:
        where = f"as-of {as_of}, " if as_of else ""
        return StepFailed(f"seed {self.seed}, {where}step {step}: {why}")

    def run(self) -> dict:
        from simulator.server import MockApiServer
        from simulator.world import generate_world

        t_start = time.perf_counter()
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "logs").mkdir(exist_ok=True)
        t0 = time.perf_counter()
        try:
            generate_world(
                self.world, self.cfg.accounts, self.seed, as_of=self.cfg.first_as_of, horizon_days=self.cfg.horizon_days
            )
        except Exception as exc:
            raise self.fail(None, "generate", f"{type(exc).__name__}: {exc}") from exc
        self.record["timings"]["generate_s"] = round(time.perf_counter() - t0, 1)
        self.log(f"seed {self.seed}: world of {self.cfg.accounts} accounts in {self.record['timings']['generate_s']}s")

        dbname = f"postsale_eval_{self.seed}_{uuid.uuid4().hex[:8]}"
        self._create_db(dbname)
        url = database_url(self.cfg.admin_url, dbname)
        os.environ.update(NO_RATE_LIMITS)  # the server runs in this process and reads them per request
        try:
            with MockApiServer(self.world, host="127.0.0.1", port=0) as srv:
                for as_of in self.cfg.as_ofs:
                    if srv.clock < as_of:
                        srv.advance((as_of - srv.clock).days)
                    self._as_of(srv.base_url, url, as_of)
        finally:
            if not self.cfg.keep_database:
                self._drop_db(dbname)
        self.record["timings"]["total_s"] = round(time.perf_counter() - t_start, 1)
        self.save()
        return self.record

    def _as_of(self, base_url: str, url: str, as_of: date) -> None:
        from simulator.connections import airflow_connections

        # The connector reads events up to the world's clock (not today's date), and on the first
        # sync `history_days` before it; later syncs go on from the newest day they saw.
        mixpanel = {"end_date": as_of.isoformat(), "history_days": self.cfg.event_history_days}
        env = {
            **os.environ,
            **NO_RATE_LIMITS,
            **airflow_connections(base_url, mixpanel),
            "AIRFLOW_CONN_POSTSALE_WAREHOUSE": url,
            "WAREHOUSE_URL": url,
            # The pipeline code of this checkout, whichever checkout the venv's editable install names.
            "PYTHONPATH": os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p),
            "POSTSALE_LOCAL_DIR": str(self.dir / "local"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "GX_ANALYTICS_ENABLED": "False",
            "DO_NOT_TRACK": "1",
        }
        timings = self.record["timings"]["as_of"].setdefault(as_of.isoformat(), {})
        cpu = self.record["timings"].setdefault("cpu", {}).setdefault(as_of.isoformat(), {})
        for name, args in STEPS:
            argv = step_argv(self.cfg.postsale, args, as_of, self.dir / "target")
            logf = self.dir / "logs" / f"{as_of}-{name}.log"
            t0 = time.perf_counter()
            with open(logf, "wb") as fh:
                proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, env=env)
                try:
                    _, status, usage = os.wait4(proc.pid, 0)
                except BaseException:  # stopped: do not leave the step running
                    proc.kill()
                    raise
            code = os.waitstatus_to_exitcode(status)
            timings[name] = round(time.perf_counter() - t0, 1)
            # CPU seconds of the step's process: on a busy machine they say more than the wall time.
            cpu[name] = round(usage.ru_utime + usage.ru_stime, 1)
            if code != 0:
                lines = [ln for ln in logf.read_text(errors="replace").splitlines() if ln.strip()]
                last = lines[-1][:300] if lines else f"exit {code}"
                raise self.fail(as_of, name, f"{last} (log: {logf})")
        t0 = time.perf_counter()
        try:
            self.record["snapshots"][as_of.isoformat()] = snapshot(url, as_of)
        except psycopg.Error as exc:
            raise self.fail(as_of, "snapshot", str(exc).splitlines()[0]) from exc
        timings["snapshot"] = round(time.perf_counter() - t0, 1)
        self.log(f"seed {self.seed}: as-of {as_of}: " + ", ".join(f"{k} {v}s" for k, v in timings.items()))
        self.save()  # a stopped run keeps every as-of it reached

    def save(self) -> None:
        (self.dir / "run.json").write_text(json.dumps(self.record, indent=1, default=str))

    def _create_db(self, dbname: str) -> None:
        try:
            with psycopg.connect(self.cfg.admin_url, autocommit=True) as conn:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
        except psycopg.Error as exc:
            raise self.fail(None, "create database", str(exc).splitlines()[0]) from exc

    def _drop_db(self, dbname: str) -> None:
        with psycopg.connect(self.cfg.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname)))


def load_run(workdir: Path, seed: int) -> dict:
    """A finished seed's record from an earlier run (``evaluate --reuse``)."""
    path = workdir / f"seed-{seed}" / "run.json"
    if not path.exists():
        raise StepFailed(f"seed {seed}: no earlier run in {path}")
    return json.loads(path.read_text())
