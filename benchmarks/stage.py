"""One benchmark stage in its own process: ``python -m benchmarks.stage SPEC.json``.

The spec names the stage and its parameters; the result is written as JSON to ``spec["result"]``.
Running each stage in a fresh process makes its peak RSS (read by the parent with ``wait4``)
the stage's own, not the high-water mark of everything before it.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

log = logging.getLogger("benchmarks")


# --- stages -------------------------------------------------------------------------------


def stage_generate(p: dict) -> dict:
    from simulator.world import generate_world

    t0 = time.perf_counter()
    generate_world(Path(p["world"]), accounts=p["accounts"], seed=p["seed"], as_of=date.fromisoformat(p["as_of"]))
    return {"seconds": round(time.perf_counter() - t0, 2)}


def stage_loader(p: dict) -> dict:
    """``benchmarks.loader``: our events loader vs ``psql \\copy`` of the same rows, same table."""
    from benchmarks.loader import bench_loader, export_events

    jsonl = Path(p["tmp"]) / "loader-events.jsonl"
    t0 = time.perf_counter()
    exported = export_events(Path(p["world"]), jsonl, p["from_date"], p["to_date"])
    export_s = time.perf_counter() - t0
    try:
        out = bench_loader(p["url"], jsonl, p.get("repeats", 2))
    finally:
        jsonl.unlink(missing_ok=True)
    return {**out, "from_date": p["from_date"], "to_date": p["to_date"], "export_seconds": round(export_s, 2),
            "exported": exported}  # fmt: skip


def _source_config(source: str, base_url: str, settings: dict):
    from connectors.config import SourceConfig
    from simulator.connections import credentials

    login, secret = credentials(source)
    return SourceConfig(source, base_url, secret, login, settings)


def _sync(p: dict, source: str, stream: str, full_refresh: bool) -> dict:
    from connectors.sync import run_stream

    cfg = _source_config(source, p["base_urls"][source], p["settings"].get(source, {}))
    r = run_stream(p["url"], cfg, stream, full_refresh)
    return {
        "stream": f"{source}.{stream}",
        "records": r.records,
        "pages": r.pages,
        "seconds": round(r.seconds, 3),
        "records_per_s": round(r.records / r.seconds) if r.seconds else None,
    }


def stage_extract(p: dict) -> dict:
    """Sync the given streams (``source.stream``) in order; records/s per stream."""
    return {"streams": [_sync(p, *s.split("."), p.get("full_refresh", False)) for s in p["streams"]]}


# Where CPU goes, by the module (or C method) a profiler entry belongs to; first match wins.
CPU_GROUPS = (
    ("json", ("msgspec", "/json/", "_json", "orjson")),
    ("load (psycopg / loader)", ("psycopg", "connectors/loader.py")),
    (
        "http (requests / urllib3 / socket)",
        ("/requests/", "/urllib3/", "http/client.py", "socket", "ssl", "gzip", "zlib", "recv", "charset", "idna"),
    ),
    ("connector code", ("connectors/",)),
    ("imports", ("<frozen importlib", "builtins.exec", "marshal", "builtins.compile")),
)


def _group(filename: str, func: str) -> str:
    key = filename if filename != "~" else func
    for name, needles in CPU_GROUPS:
        if any(n in key for n in needles):
            return name
    return "other"


def stage_profile(p: dict) -> dict:
    """Each stream again under cProfile with a CPU clock: CPU seconds grouped by module."""
    import cProfile
    import pstats

    # Warm up first (imports, first connections, lazy imports in requests and psycopg), so the
    # profile is the steady state rather than process start-up.
    from connectors.registry import build_stream

    _sync(p, "stripe", "products", True)
    for s in p["streams"]:
        source, name = s.split(".")
        build_stream(_source_config(source, p["base_urls"][source], {}), name)
    out = []
    for s in p["streams"]:
        prof = cProfile.Profile(time.process_time)
        c0 = time.process_time()
        prof.enable()
        res = _sync(p, *s.split("."), True)
        prof.disable()
        cpu = time.process_time() - c0
        groups: dict[str, float] = defaultdict(float)
        other: list[tuple[float, str]] = []
        for (filename, _line, func), (_cc, _nc, tottime, _ct, _callers) in pstats.Stats(prof).stats.items():
            group = _group(filename, func)
            groups[group] += tottime
            if group == "other":
                other.append((tottime, f"{filename}:{func}"))
        total = sum(groups.values()) or 1.0
        out.append(
            {
                **res,
                "cpu_seconds": round(cpu, 3),
                "cpu_split": {k: round(v / total, 3) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])},
                "other_top": [f"{name} {t:.3f}s" for t, name in sorted(other, reverse=True)[:5]],
            }
        )
    return {"streams": out, "note": "records/s here are under cProfile; use the extract stage's figures"}


def _patch_dbt_sql_timer() -> dict[str, float]:
    """Time every statement dbt sends (and its commits), keyed by the node whose connection sent it."""
    from dbt.adapters.postgres.connections import PostgresConnectionManager
    from dbt.adapters.sql.connections import SQLConnectionManager

    spent: dict[str, float] = defaultdict(float)

    def timed(fn):
        def wrapper(self, *args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(self, *args, **kwargs)
            finally:
                try:
                    name = self.get_thread_connection().name or "?"
                except Exception:
                    name = "?"
                spent[name] += time.perf_counter() - t0

        return wrapper

    SQLConnectionManager.add_query = timed(SQLConnectionManager.add_query)
    PostgresConnectionManager.commit = timed(PostgresConnectionManager.commit)
    return spent


def stage_dbt(p: dict) -> dict:
    """``dbt <args>`` in-process; wall, time inside SQL, and per-model overhead."""
    import os

    from dbt.cli.main import dbtRunner  # noqa: F401  (imports are process start-up, not the build)

    from warehouse.dbt import run_dbt

    spent = _patch_dbt_sql_timer()
    t0 = time.perf_counter()
    nodes = run_dbt(p["args"], p["url"], target_path=Path(p["tmp"]) / "dbt-target")
    wall = time.perf_counter() - t0
    models = [n for n in nodes if n["node"].startswith("model.")]
    exec_models = sum(n["seconds"] for n in models)
    sql_models = sum(spent.get(n["node"], 0.0) for n in models)
    sql_all = sum(spent.values())
    n = len(models) or 1
    return {
        "args": p["args"],
        "wall_seconds": round(wall, 2),
        "threads": int(os.environ.get("DBT_THREADS", "4")),
        "nodes": len(nodes),
        "models": len(models),
        "tests": sum(1 for x in nodes if x["node"].startswith("test.")),
        "node_seconds_sum": round(sum(x["seconds"] for x in nodes), 2),
        "model_seconds_sum": round(exec_models, 2),
        "sql_seconds_models": round(sql_models, 2),
        "sql_seconds_all": round(sql_all, 2),
        # In each model's own time, what was not waiting on PostgreSQL (compile, Jinja, adapter).
        "overhead_per_model_s": round((exec_models - sql_models) / n, 3),
        # The definition: (wall − SQL) / models. With threads > 1 SQL overlaps, so this undercounts.
        "wall_minus_sql_per_model_s": round((wall - sql_all) / n, 3),
        "slowest": sorted(({"node": x["node"], "seconds": round(x["seconds"], 2)} for x in nodes),
                          key=lambda x: -x["seconds"])[:5],
    }  # fmt: skip


def stage_validate(p: dict) -> dict:
    import great_expectations  # noqa: F401  (imports are process start-up, not validation)

    from expectations.runner import validate_layer

    out = {}
    for layer in p["layers"]:
        t0 = time.perf_counter()
        res = validate_layer(layer, p["url"], build_docs=False)
        out[layer] = {
            "seconds": round(time.perf_counter() - t0, 2),
            "expectations": len(res.rows),
            "critical_failures": len(res.critical_failures),
            "success": res.success,
        }
    return out


def stage_risk_fit(p: dict) -> dict:
    """Fit a renewal-risk model version when one is due, as ``postsale_transform`` does."""
    from risk_model.fit import fit_renewal_risk

    t0 = time.perf_counter()
    res = fit_renewal_risk(p["url"], date.fromisoformat(p["as_of"]))
    return {**res, "seconds": round(time.perf_counter() - t0, 2)}


def stage_reverse_etl(p: dict) -> dict:
    from connectors.registry import build_client
    from reverse_etl.settings import Settings
    from reverse_etl.sync import REFUSALS, run

    client = build_client(_source_config("hubspot", p["base_urls"]["hubspot"], {}))
    from reverse_etl.gate import ValidationGateClosed

    bypassed = None
    try:
        summary = run(p["url"], client, Settings(force=p.get("force", False)))
    except ValidationGateClosed as exc:
        # A failed critical expectation is a finding to report, not a reason to leave the request
        # count unmeasured: measure again with the gate off (REVERSE_ETL_REQUIRED_LAYERS="").
        bypassed = str(exc)[:1000]
        try:
            summary = run(p["url"], client, Settings(force=p.get("force", False), required_layers=(), fresh_layers=()))
        except REFUSALS as exc2:
            return {"status": "refused", "refused": f"{bypassed} | then, gate off: {exc2}"[:1500]}
    except REFUSALS as exc:  # the guardrail, a property conflict, a mart that breaks the mapping
        return {"status": "refused", "refused": str(exc)[:1000], "requests": client.counters.requests}
    changed = summary.get("changed") or 0
    requests_sent = summary.get("requests") or 0
    return {
        "changed": changed,
        "sent": summary.get("sent"),
        "requests": requests_sent,
        "batches": summary.get("batches"),
        "seconds": summary.get("seconds"),
        "status": summary.get("status"),
        "requests_per_100_changed": round(requests_sent / (changed / 100), 3) if changed else None,
        "first_sync": summary.get("first_sync"),
        "gate_bypassed": bypassed,
    }


STAGES = {
    "generate": stage_generate,
    "loader": stage_loader,
    "extract": stage_extract,
    "profile": stage_profile,
    "dbt": stage_dbt,
    "validate": stage_validate,
    "risk_fit": stage_risk_fit,
    "reverse_etl": stage_reverse_etl,
}


def main(spec_path: str) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    spec = json.loads(Path(spec_path).read_text())
    result = STAGES[spec["stage"]](spec["params"])
    result["own_peak_rss_mb"] = own_peak_rss_mb()
    Path(spec["result"]).write_text(json.dumps(result, default=str))
    return 0


def own_peak_rss_mb() -> float | None:
    """This process's own peak RSS (VmHWM of its address space since exec). Linux carries a
    forked child's ru_maxrss over from the parent's RSS at fork, so wait4's figure is never
    below the harness's own size; VmHWM is not."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
