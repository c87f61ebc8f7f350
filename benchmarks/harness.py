"""Run every stage at one world size on a fresh database and write the report after each stage.

Order: world → loader vs ``\\copy`` → extraction (one process per stream) → CPU profile →
peak memory at 2N events → raw GX → dbt full refresh → per layer (dbt build, then GX) →
reverse ETL → one more simulated day (re-sync, incremental dbt build, GX, reverse ETL) →
Airflow ``dags test`` of both DAGs. The report is rewritten after every stage, so a run that is
stopped part-way still leaves every figure it reached.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from benchmarks import report
from connectors.registry import STREAM_NAMES
from warehouse.dbt import RISK_SCORING_SELECT
from warehouse.paths import PROJECT_ROOT
from warehouse.postgres import WarehouseParams, admin_url

log = logging.getLogger("benchmarks")

# What each layer's build selects (snapshots build with the marts, as in postsale_transform).
LAYER_SELECT = {
    "staging": ["path:models/staging"],
    "intermediate": ["path:models/intermediate"],
    "marts": ["path:models/marts", "path:snapshots"],
}


@dataclass
class BenchConfig:
    accounts: int = 10_000
    seed: int = 42
    # Mixpanel export window (days ending at the world's as-of date): ~4 months of the 10k world
    # is ≥ 10 M events (simulator/README.md: ~35.6 M events over 365 days).
    event_days: int = 120
    loader_days: int = 7  # the loader-vs-\copy sample
    memory_days: int = 15  # peak memory of the events sync over this many days (N) and twice as many (2N)
    loader_repeats: int = 2
    window_days: int = 31  # days per Mixpanel export request
    out: Path = field(default_factory=lambda: PROJECT_ROOT / ".local" / "bench")
    airflow: bool = True
    memory_double: bool = True
    profile: bool = True
    update_docs: Path | None = None
    # Write this run's report into update_docs' bench section (a cost curve writes its own
    # section instead; the page is still left out of the commit's dirty check).
    docs_section: bool = True
    worlds: Path | None = None  # the generated-world cache; default <out>/worlds
    keep_database: bool = False
    # Go on with a stopped run (kept with keep_database): its finished stages are kept, except
    # those whose key starts with one of `redo`; the rest run on its databases.
    resume: Path | None = None
    redo: tuple[str, ...] = ()

    @property
    def as_of(self) -> date:
        # One day before today: the incremental step advances the world to today, the last day
        # the Mixpanel connector asks for (it never reads past today's date).
        return datetime.now(tz=UTC).date() - timedelta(days=1)


# Stages after which the run's simulated world has changed (HubSpot writes, a later clock): a run
# stopped after one of them cannot be resumed, since its world copy is deleted when it stops.
WORLD_CHANGING_STAGES = ("reverse_etl.first", "extract.incremental")


class Bench:
    def __init__(self, cfg: BenchConfig) -> None:
        self.cfg = cfg
        if cfg.resume:
            self._init_resumed(cfg.resume)
            return
        self.run_id = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S")
        self.dir = (cfg.out / f"run-{self.run_id}-{cfg.accounts}").resolve()
        self.dir.mkdir(parents=True, exist_ok=True)
        self.tmp = self.dir / "tmp"
        self.tmp.mkdir(exist_ok=True)
        self.data: dict = {
            "run_id": self.run_id,
            "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()},
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "started_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
            "stages": {},
            "status": "running",
        }
        self.databases: list[str] = []

    def _init_resumed(self, run_dir: Path) -> None:
        """Load a stopped run's report; keep its finished stages (less `redo`), reuse its databases."""
        self.dir = run_dir.resolve()
        self.data = json.loads((self.dir / "report.json").read_text())
        self.run_id = self.data["run_id"]
        if self.data["config"]["accounts"] != self.cfg.accounts or self.data["config"]["seed"] != self.cfg.seed:
            raise ValueError(f"{run_dir} is a run of another world ({self.data['config']})")
        done = [k for k, v in self.data["stages"].items() if "error" not in v]
        changed = [k for k in WORLD_CHANGING_STAGES if k in done]
        if changed:
            raise ValueError(f"{run_dir} cannot be resumed: its simulated world changed in {changed}")
        if not self.data.get("scratch_database"):
            raise ValueError(f"{run_dir} does not name its databases: it cannot be resumed")
        for key in list(self.data["stages"]):
            if key not in done or (self.cfg.redo and key.startswith(self.cfg.redo)):
                del self.data["stages"][key]
        self.data.setdefault("resumed", []).append(
            {
                "at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
                "kept_stages": list(self.data["stages"]),
                "redo": list(self.cfg.redo),
                "previous_status": self.data.get("status"),
            }
        )
        self.data["status"] = "running"
        self.tmp = self.dir / "tmp"
        self.tmp.mkdir(exist_ok=True)
        self.databases = [self.data["database"], self.data["scratch_database"]]

    # -- plumbing ------------------------------------------------------------------------------

    def save(self) -> None:
        report.write(self.data, self.dir, self.cfg.update_docs if self.cfg.docs_section else None)

    def child_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SIMULATOR_MIXPANEL_HOURLY_LIMIT": "0",
            # GX keeps its file context under POSTSALE_LOCAL_DIR/gx: keep it out of the shared one.
            "POSTSALE_LOCAL_DIR": str(self.dir / "local"),
            "WAREHOUSE_URL": self.url,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "GX_ANALYTICS_ENABLED": "False",
            "DO_NOT_TRACK": "1",
        }

    def run_child(self, key: str, cmd: list[str], env: dict | None = None) -> tuple[int, dict]:
        """Run ``cmd``; return (exit status, {wall, peak RSS, load average}) via wait4."""
        logf = self.dir / f"{key}.log"
        load_before = os.getloadavg()[0]
        t0 = time.perf_counter()
        with open(logf, "wb") as fh:
            proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env or self.child_env())
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            except BaseException:  # stopped (SIGTERM/SIGINT): do not leave the stage running
                proc.terminate()
                raise
            proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        meta = {
            "process_wall_seconds": round(wall, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "log": str(logf),
            # The code the stage ran (each stage imports it afresh): the report names every commit.
            "commit": code_commit(self.cfg.update_docs),
        }
        return proc.returncode, meta

    def stage(self, key: str, name: str, params: dict, required: bool = True) -> dict:
        """A Python stage (``benchmarks.stage``) in its own process. A failure raises when
        later stages need this one (``required``); otherwise it is recorded and the run goes on.
        A stage a resumed run already finished is not run again."""
        if key in self.data["stages"]:
            log.info("bench: %s kept from the run being resumed", key)
            return self.data["stages"][key]
        spec = self.tmp / f"{key}.spec.json"
        result = self.tmp / f"{key}.result.json"
        spec.write_text(json.dumps({"stage": name, "params": params, "result": str(result)}))
        log.info("bench: %s …", key)
        code, meta = self.run_child(key, [sys.executable, "-m", "benchmarks.stage", str(spec)])
        if code != 0:
            tail = (self.dir / f"{key}.log").read_text(errors="replace")[-3000:]
            self.data["stages"][key] = {"error": f"exit {code}: {tail[-600:]}", **meta}
            self.save()
            if not required:
                log.warning("bench: %s failed (exit %d), going on: see %s", key, code, meta["log"])
                return self.data["stages"][key]
            raise RuntimeError(f"bench stage {key} failed (exit {code}):\n{tail}")
        out = {**json.loads(result.read_text()), **meta}
        if out.get("own_peak_rss_mb"):
            # wait4's maxrss starts at the harness's RSS at fork (Linux carries it over): the
            # stage's own high-water mark is the figure that is the stage's.
            out["wait4_maxrss_mb"], out["peak_rss_mb"] = out["peak_rss_mb"], out["own_peak_rss_mb"]
        self.data["stages"][key] = out
        self.save()
        log.info("bench: %s done in %.1fs, peak RSS %.0f MB", key, meta["process_wall_seconds"], meta["peak_rss_mb"])
        return out

    def create_db(self, prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        self.databases.append(name)
        return WarehouseParams.from_url(self.admin).url(dbname=name)

    def drop_databases(self) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            for name in self.databases:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> dict:
        self.admin = admin_url()
        if self.cfg.resume:
            params = WarehouseParams.from_url(self.admin)
            self.url, self.scratch = (params.url(dbname=name) for name in self.databases)
        else:
            self.url = self.create_db("postsale_bench")
            self.scratch = self.create_db("postsale_bench_scratch")
        self.data["database"] = WarehouseParams.from_url(self.url).dbname
        self.data["scratch_database"] = WarehouseParams.from_url(self.scratch).dbname
        try:
            self._run()
            self.data["status"] = "complete"
        except BaseException as exc:
            self.data["status"] = f"failed: {str(exc)[:2000]}"
            raise
        finally:
            self.data["finished_at"] = datetime.now(tz=UTC).isoformat(timespec="seconds")
            self.data["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
            self.save()
            if not self.cfg.keep_database:
                self.drop_databases()
            shutil.rmtree(self.dir / "world", ignore_errors=True)
            shutil.rmtree(self.tmp, ignore_errors=True)
        return self.data

    def _world(self) -> Path:
        cfg = self.cfg
        worlds = cfg.worlds or cfg.out / "worlds"
        pristine = worlds.resolve() / f"{cfg.accounts}-{cfg.seed}-{cfg.as_of}"
        if not (pristine / "world.db").exists():
            shutil.rmtree(pristine, ignore_errors=True)
            self.data["stages"].pop("generate", None)  # a resumed run whose cached world is gone
            params = {"world": str(pristine), "accounts": cfg.accounts, "seed": cfg.seed, "as_of": str(cfg.as_of)}
            self.stage("generate", "generate", params)
        elif "generate" not in self.data["stages"]:  # (a resumed run keeps its own record)
            self.data["stages"]["generate"] = {"skipped": f"reused {pristine} (same accounts, seed and as-of)"}
        size = sum(f.stat().st_size for f in pristine.rglob("*") if f.is_file())
        self.data["world"] = {"dir": str(pristine), "bytes": size, "as_of": str(cfg.as_of)}
        # The run advances the clock and takes HubSpot writes: work on a copy.
        world = self.dir / "world"
        shutil.copytree(pristine, world)
        return world

    def _run(self) -> None:
        from simulator.server import MockApiServer

        cfg = self.cfg
        world = self._world()
        as_of = cfg.as_of
        loader_from = as_of - timedelta(days=cfg.loader_days - 1)
        self.stage(
            "loader",
            "loader",
            {"world": str(world), "tmp": str(self.tmp), "url": self.scratch, "from_date": str(loader_from),
             "to_date": str(as_of), "repeats": cfg.loader_repeats},
        )  # fmt: skip

        os.environ["SIMULATOR_MIXPANEL_HOURLY_LIMIT"] = "0"
        with MockApiServer(world, host="127.0.0.1", port=0) as srv:
            base_urls = {s: srv.url(s) for s in ("stripe", "hubspot", "mixpanel")}

            def settings(days: int) -> dict:
                start = as_of - timedelta(days=days - 1)
                mp = {"start_date": str(start), "window_days": cfg.window_days, "engage_base": base_urls["mixpanel"]}
                return {"mixpanel": mp}

            common = {
                "url": self.url,
                "base_urls": base_urls,
                "settings": settings(cfg.event_days),
                "tmp": str(self.tmp),
            }
            streams = [f"{s}.{n}" for s, names in STREAM_NAMES.items() for n in names]

            # Extraction: one process per stream (so peak RSS is per stream), full refresh.
            extract = {}
            for s in streams:
                extract[s] = self.stage(f"extract.{s}", "extract", {**common, "streams": [s], "full_refresh": True})
            self.data["extraction"] = report.extraction_summary(extract)
            self.save()

            if cfg.profile:
                prof = ["mixpanel.events", "stripe.invoices", "hubspot.companies"]
                self.stage(
                    "profile", "profile", {**common, "url": self.scratch, "settings": settings(cfg.loader_days),
                                           "streams": prof}
                )  # fmt: skip

            if cfg.memory_double:
                self._memory_double(common, settings)

            self.stage("validate.raw", "validate", {**common, "layers": ["raw"]}, required=False)
            # The full refresh as of the world's day, then the next day's incremental build, both
            # as the transform DAG runs them: seeds, then layer by layer, each layer's GX suite
            # right after its build.
            self._dbt_layers({**common, "vars": {"as_of_date": str(as_of)}}, "", ["--full-refresh"])
            self.stage("reverse_etl.first", "reverse_etl", common, required=False)

            # One more simulated day: re-sync everything incrementally, then dbt and GX again.
            clock = srv.advance(days=1)
            self.data["advanced_to"] = str(clock)
            self.stage("extract.incremental", "extract", {**common, "streams": streams, "full_refresh": False})
            self.stage("validate.incremental.raw", "validate", {**common, "layers": ["raw"]}, required=False)
            self._dbt_layers({**common, "vars": {"as_of_date": str(clock)}}, "incremental.", [])
            self.stage("reverse_etl.incremental", "reverse_etl", common, required=False)
            self.data["reverse_etl"] = report.reverse_etl_summary(self.data["stages"])
            self.save()

            if cfg.airflow:
                self._airflow(srv, settings(cfg.event_days), clock)

    def _dbt_layers(self, common: dict, prefix: str, flags: list[str]) -> None:
        """Seeds, then each layer's ``dbt build`` followed by its GX suite; stages
        ``dbt.<prefix><layer>`` and ``validate.<prefix><layer>``. Unit tests are left out, as in
        the DAG: they check SQL, not data, and run in ``make test``."""
        dbt_vars = ["--vars", json.dumps(common["vars"])]
        build = ["build", "--exclude-resource-type", "unit_test", *flags, *dbt_vars]
        # Parse first (new vars mean a full parse): every build then partial-parses from the same
        # target directory, so no build pays a parse the others do not.
        self.stage(f"dbt.{prefix}parse", "dbt", {**common, "args": ["parse", *dbt_vars]})
        self.stage(f"dbt.{prefix}seed", "dbt", {**common, "args": [*build, "--select", "resource_type:seed"]})
        for layer, select in LAYER_SELECT.items():
            self.stage(f"dbt.{prefix}{layer}", "dbt", {**common, "args": [*build, "--select", *select]})
            self.stage(f"validate.{prefix}{layer}", "validate", {**common, "layers": [layer]}, required=False)
        # As postsale_transform does after the models: fit the renewal-risk model when one is due
        # and rebuild the models that apply it, so the CRM gets fitted scores and the Airflow stage
        # finds this week's version (a first fit moves most scores: the reverse ETL's guardrail
        # stops it). Reported as stages of their own, outside the four builds of the ratio.
        params = {**common, "as_of": common["vars"]["as_of_date"]}
        fit = self.stage(f"risk_fit.{prefix}".rstrip("."), "risk_fit", params, required=False)
        if fit.get("status") == "fitted":
            self.stage(f"dbt.{prefix}scoring", "dbt", {**common, "args": [*build, "--select", *RISK_SCORING_SELECT]})
        self.data["validation"] = report.validation_summary(self.data["stages"])
        self.data["dbt"] = report.dbt_summary(self.data["stages"])
        self.save()

    def _memory_double(self, common: dict, settings) -> None:
        """The events stream over ``memory_days`` (N events) and twice that (≈ 2N), each a full
        refresh into an emptied scratch database, each in its own process: peak RSS at 2N ÷ N."""
        cfg = self.cfg
        runs = {}
        for key, days in (("n", cfg.memory_days), ("2n", cfg.memory_days * 2)):
            with psycopg.connect(self.scratch, autocommit=True) as conn:
                conn.execute("drop schema if exists raw cascade")
            out = self.stage(
                f"extract.mixpanel.events.{key}",
                "extract",
                {**common, "url": self.scratch, "settings": settings(days), "streams": ["mixpanel.events"],
                 "full_refresh": True},
            )  # fmt: skip
            runs[key] = {"days": days, "events": out["streams"][0]["records"], "peak_rss_mb": out["peak_rss_mb"]}
        self.data["memory_doubling"] = {
            "stream": "mixpanel.events",
            **runs,
            "rss_ratio": round(runs["2n"]["peak_rss_mb"] / runs["n"]["peak_rss_mb"], 3),
            "events_ratio": round(runs["2n"]["events"] / max(1, runs["n"]["events"]), 3),
        }
        self.save()

    def _airflow(self, srv, mp_settings: dict, clock: date) -> None:
        """``airflow dags test`` of both DAGs in a throwaway AIRFLOW_HOME; overhead per task."""
        from simulator.connections import airflow_connections as simulator_connections

        home = self.dir / "airflow"
        home.mkdir(exist_ok=True)
        env = {
            **self.child_env(),
            **simulator_connections(srv.base_url, mp_settings["mixpanel"]),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "AIRFLOW_CONN_POSTSALE_WAREHOUSE": self.url,
            "POSTSALE_TASK_RETRIES": "0",
        }
        airflow = str(Path(sys.executable).parent / "airflow")
        code, meta = self.run_child("airflow.db_migrate", [airflow, "db", "migrate"], env)
        if code != 0:
            raise RuntimeError(f"airflow db migrate failed: see {meta['log']}")
        out = {}
        for dag_id in ("postsale_ingest", "postsale_transform"):
            code, meta = self.run_child(f"airflow.{dag_id}", [airflow, "dags", "test", dag_id, str(clock)], env)
            out[dag_id] = {**meta, **_dag_overhead(home / "airflow.db", dag_id, meta["process_wall_seconds"])}
            out[dag_id]["exit"] = code
            self.data["stages"][f"airflow.{dag_id}"] = out[dag_id]
            self.data["orchestration"] = out
            self.save()
            if code != 0:
                raise RuntimeError(f"airflow dags test {dag_id} failed: see {meta['log']}")


def code_commit(report_doc: Path | None = None) -> str | None:
    """HEAD of the checkout the stages import from, with ``+dirty`` for uncommitted changes
    (other than ``report_doc``, the docs page the run itself rewrites)."""
    doc = report_doc.resolve() if report_doc else None
    exclude = [f":(exclude){doc.relative_to(PROJECT_ROOT)}"] if doc and doc.is_relative_to(PROJECT_ROOT) else []
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *exclude],
                               cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None  # not a git checkout (an unpacked release)
    return head + ("+dirty" if dirty else "")


def _dag_overhead(db: Path, dag_id: str, process_wall: float) -> dict:
    """DAG wall time (first task start → last task end) − sum of task durations, from the run's
    metadata (SQLite); the process's own wall time (start-up, DAG parsing) is given as well."""
    with sqlite3.connect(db) as conn:
        run = conn.execute(
            "select run_id, start_date, end_date, state from dag_run where dag_id = ? order by id desc limit 1",
            (dag_id,),
        ).fetchone()
        if not run:
            return {"error": "no dag_run row"}
        tasks = conn.execute(
            "select task_id, duration, state, start_date, end_date from task_instance where dag_id = ? and run_id = ?",
            (dag_id, run[0]),
        ).fetchall()
    durations = [t[1] or 0.0 for t in tasks]
    n = len(tasks) or 1
    # `dags test` stamps the run's start with its logical date: use the first task start instead.
    starts, ends = [_ts(t[3]) for t in tasks if t[3]], [_ts(t[4]) for t in tasks if t[4]]
    run_wall = (max(ends) - min(starts)) if starts and ends else None
    return {
        "state": run[3],
        "tasks": len(tasks),
        "task_states": {s: sum(1 for t in tasks if t[2] == s) for s in {t[2] for t in tasks}},
        "task_seconds_sum": round(sum(durations), 2),
        "dag_run_wall_seconds": round(run_wall, 2) if run_wall is not None else None,
        "overhead_per_task_s": round((run_wall - sum(durations)) / n, 3) if run_wall is not None else None,
        "process_overhead_per_task_s": round((process_wall - sum(durations)) / n, 3),
        "slowest_tasks": [
            {"task": t[0], "seconds": round(t[1] or 0, 2)} for t in sorted(tasks, key=lambda t: -(t[1] or 0))[:5]
        ],
    }


def _ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()
