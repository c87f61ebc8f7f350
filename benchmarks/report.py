"""The benchmark report: ``report.json`` and ``report.md`` in the run directory, and optionally the
section of docs/PERFORMANCE.md between the ``bench:begin`` / ``bench:end`` markers."""

from __future__ import annotations

import json
from pathlib import Path

from warehouse.paths import PROJECT_ROOT

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def extraction_summary(extract: dict) -> dict:
    rows = {}
    for key, stage in extract.items():
        s = stage["streams"][0]
        rows[key] = {**s, "peak_rss_mb": stage["peak_rss_mb"], "cpu_seconds": stage["cpu_seconds"]}
    return rows


DBT_STEPS = ("seed", "staging", "intermediate", "marts")

# The targets of issue #23 (docs/PERFORMANCE.md, "Ratios and targets").
LOADER_MIN = 0.8  # our events loader's rows/s ÷ psql \copy's, on the same rows
DBT_INCREMENTAL_MAX = 0.05  # the extra day's dbt wall ÷ the full refresh's
GX_MAX = 0.3  # a layer's GX seconds ÷ its dbt build seconds, full and incremental


def validation_summary(stages: dict) -> dict:
    """Per layer and run (full refresh, then the incremental day): GX seconds ÷ that layer's
    dbt build seconds, keyed ``<layer>`` and ``<layer> (incremental)``."""
    out = {}
    for prefix, label in (("", ""), ("incremental.", " (incremental)")):
        for layer in ("raw", "staging", "intermediate", "marts"):
            gx = (stages.get(f"validate.{prefix}{layer}") or {}).get(layer)
            dbt = stages.get(f"dbt.{prefix}{layer}")
            if not gx:
                continue
            row = {"gx_seconds": gx["seconds"], "expectations": gx["expectations"], "success": gx["success"]}
            if dbt and "wall_seconds" in dbt:
                row["dbt_build_seconds"] = dbt["wall_seconds"]
                row["gx_over_dbt"] = round(gx["seconds"] / dbt["wall_seconds"], 3)
            out[layer + label] = row
    return out


def _dbt_run(stages: dict, prefix: str) -> dict | None:
    """One dbt run = its seed and layer builds (``dbt.<prefix><step>``), summed."""
    steps = [stages.get(f"dbt.{prefix}{step}") for step in DBT_STEPS]
    if not all(s and "wall_seconds" in s for s in steps):
        return None
    total = {k: round(sum(s[k] for s in steps), 2) for k in (
        "wall_seconds", "nodes", "models", "tests", "node_seconds_sum", "model_seconds_sum",
        "sql_seconds_models", "sql_seconds_all")}  # fmt: skip
    n = total["models"] or 1
    total["threads"] = steps[0]["threads"]
    total["overhead_per_model_s"] = round((total["model_seconds_sum"] - total["sql_seconds_models"]) / n, 3)
    total["wall_minus_sql_per_model_s"] = round((total["wall_seconds"] - total["sql_seconds_all"]) / n, 3)
    total["steps"] = {step: s["wall_seconds"] for step, s in zip(DBT_STEPS, steps, strict=True)}
    total["slowest"] = sorted((x for s in steps for x in s["slowest"]), key=lambda x: -x["seconds"])[:5]
    return total


def dbt_summary(stages: dict) -> dict:
    full, inc = _dbt_run(stages, ""), _dbt_run(stages, "incremental.")
    out = {"full_refresh": full, "incremental": inc}
    if full and inc:
        out["incremental_over_full"] = round(inc["wall_seconds"] / full["wall_seconds"], 3)
    return out


def reverse_etl_summary(stages: dict) -> dict:
    return {k.split(".", 1)[1]: v for k, v in stages.items() if k.startswith("reverse_etl.")}


def write(data: dict, run_dir: Path, docs: Path | None = None) -> None:
    (run_dir / "report.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    md = markdown(data)
    (run_dir / "report.md").write_text(md)
    if docs is not None and docs.exists():
        text = docs.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            docs.write_text(f"{head}{BEGIN}\n{md}{END}{tail}")


def _in_repo(text: str) -> str:
    """Paths under the checkout as relative ones: the report goes into docs/PERFORMANCE.md."""
    return text.replace(f"{PROJECT_ROOT}/", "")


def _f(x, nd=2) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{nd}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def markdown(d: dict) -> str:
    cfg, st = d["config"], d["stages"]
    loads = [v["loadavg_1m"] for v in st.values() if isinstance(v, dict) and "loadavg_1m" in v]
    flat = [x for pair in loads for x in pair]
    lines = [
        f"Run `{d['run_id']}` — **{d['status'].split(':')[0]}** — {cfg['accounts']:,} accounts (seed {cfg['seed']}), "
        f"Mixpanel window {cfg['event_days']} days, world as of {d.get('world', {}).get('as_of', '?')}, "
        f"{d['machine']['cpus']} CPUs, load average (1 min) during stages "
        f"{min(flat, default=0):.1f}–{max(flat, default=0):.1f}.",
        "",
    ]
    if d["status"].startswith("failed"):
        lines += [f"Stopped: `{_in_repo(d['status'])[:300]}`", ""]
    for part in d.get("resumed", []):
        # A resumed run says so: which stages come from the part before it, which were redone.
        stopped = part["previous_status"].split("\n")[0][:160]
        redo = ", ".join(f"`{r}`" for r in part["redo"])
        again = f", stages starting with {redo} run again." if redo else "."
        lines += [f"Resumed at {part['at']} after `{stopped}`: {len(part['kept_stages'])} stages kept{again}", ""]
    commits: dict[str, list[str]] = {}
    for key, v in st.items():
        if isinstance(v, dict) and v.get("commit"):
            commits.setdefault(v["commit"], []).append(key)
    if len(commits) == 1:
        lines += [f"Code: commit `{next(iter(commits))}` for every stage.", ""]
    elif commits:
        # Stages of one run at different commits (the code changed under a running bench): say which.
        lines += ["Code: stages ran at more than one commit:", ""]
        lines += [f"- `{c}`: {', '.join(f'`{k}`' for k in keys)}" for c, keys in commits.items()]
        lines += [""]
    lines += ["### Ratios against targets", "", "| figure | measured | target | met |", "|---|---|---|---|"]
    ld = st.get("loader", {})
    if "ratio_vs_copy" in ld:
        r = ld["ratio_vs_copy"]
        lines.append(
            f"| loader ÷ `psql \\copy` ({ld['rows']:,} events, best of {cfg['loader_repeats']}) | {r:.3f} "
            f"({ld['ours_rows_per_s']:,} vs {ld['psql_copy_rows_per_s']:,} rows/s; our client CPU alone "
            f"{_f(ld.get('ours_client_cpu_rows_per_s'))} rows/s) | ≥ {LOADER_MIN} | {_yes(r >= LOADER_MIN)} |"
        )
    dbt = d.get("dbt", {})
    if "incremental_over_full" in dbt:
        r = dbt["incremental_over_full"]
        lines.append(
            f"| dbt incremental (+1 day) ÷ full refresh | {r:.3f} ({dbt['incremental']['wall_seconds']} s vs "
            f"{dbt['full_refresh']['wall_seconds']} s) | ≤ {DBT_INCREMENTAL_MAX} | {_yes(r <= DBT_INCREMENTAL_MAX)} |"
        )
    for layer, v in d.get("validation", {}).items():
        if "gx_over_dbt" in v:
            r = v["gx_over_dbt"]
            lines.append(
                f"| GX ÷ dbt build, {layer} | {r:.3f} ({v['gx_seconds']} s vs {v['dbt_build_seconds']} s) "
                f"| ≤ {GX_MAX} | {_yes(r <= GX_MAX)} |"
            )
    mem = d.get("memory_doubling")
    if mem:
        r = mem["rss_ratio"]
        lines.append(
            f"| peak RSS of the events sync at 2N ÷ N ({mem['n']['events']:,} → {mem['2n']['events']:,} events) "
            f"| {r:.3f} ({mem['n']['peak_rss_mb']} → {mem['2n']['peak_rss_mb']} MB) | flat (≤ 1.1) | {_yes(r <= 1.1)} |"
        )
    for name, v in d.get("reverse_etl", {}).items():
        if "error" in v:
            lines.append(f"| reverse ETL {name} | failed: see {v['log']} | | – |")
            continue
        if v.get("status") == "refused":
            why = v["refused"][:300].replace("|", "/")
            lines.append(f"| reverse ETL {name} | refused: {why} | | – |")
            continue
        lines.append(
            f"| reverse ETL {name}: requests ÷ (changed / 100) | {_f(v.get('requests_per_100_changed'), 3)} "
            f"({v.get('requests')} requests, {v.get('changed')} changed"
            f"{', first sync' if v.get('first_sync') else ''}"
            f"{', validation gate bypassed: ' + v['gate_bypassed'][:160] if v.get('gate_bypassed') else ''}) "
            "| 1 + fixed schema checks | – |"
        )
    lines.append("")

    ex = d.get("extraction")
    if ex:
        lines += [
            "### Extraction (full refresh, one process per stream, against the in-process simulator)",
            "",
            "| stream | records | seconds | records/s | peak RSS MB | CPU s |",
            "|---|---|---|---|---|---|",
        ]
        for k, v in ex.items():
            lines.append(
                f"| {k} | {_f(v['records'])} | {_f(v['seconds'])} | {_f(v['records_per_s'])} | "
                f"{v['peak_rss_mb']} | {v['cpu_seconds']} |"
            )
        lines.append("")
    prof = st.get("profile")
    if prof and "streams" in prof:
        groups = sorted({g for s in prof["streams"] for g in s["cpu_split"]})
        lines += [
            "### CPU split of the connector process (cProfile, CPU clock, share of profiled CPU)",
            "",
            "| stream | records | CPU s | " + " | ".join(groups) + " |",
            "|---|---|---|" + "---|" * len(groups),
        ]
        for s in prof["streams"]:
            cells = " | ".join(f"{s['cpu_split'].get(g, 0):.0%}" for g in groups)
            lines.append(f"| {s['stream']} | {_f(s['records'])} | {s['cpu_seconds']} | {cells} |")
        lines.append("")
    if dbt.get("full_refresh"):
        lines += [
            "### dbt",
            "",
            "| run | wall s | seed / staging / intermediate / marts s | nodes | models | SQL s (models) "
            "| overhead per model s | (wall − SQL) / models s | slowest nodes |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for k in ("full_refresh", "incremental"):
            v = dbt.get(k)
            if v:
                slow = ", ".join(f"{x['node'].split('.')[-1]} {x['seconds']}" for x in v["slowest"][:3])
                lines.append(
                    f"| {k} | {v['wall_seconds']} | {' / '.join(str(x) for x in v['steps'].values())} | "
                    f"{v['nodes']} | {v['models']} | {v['sql_seconds_models']} | "
                    f"{v['overhead_per_model_s']} | {v['wall_minus_sql_per_model_s']} | {slow} |"
                )
        lines += [
            "",
            "Each run is `dbt build` (unit tests excluded, as in the DAG) of the seeds, then staging, "
            "intermediate and marts (with snapshots), one after the other as `postsale_transform` runs "
            "them; wall is their sum. Overhead per model = Σ over models of (dbt's execution time − time "
            f"inside PostgreSQL statements and commits) ÷ models; dbt threads = {dbt['full_refresh']['threads']}.",
            "",
        ]
    val = d.get("validation")
    if val:
        lines += ["### Validation (GX, each layer right after its own dbt build)", "",
                  "| layer | expectations | GX s | dbt build s | GX ÷ dbt |", "|---|---|---|---|---|"]  # fmt: skip
        for layer, v in val.items():
            lines.append(
                f"| {layer} | {v['expectations']} | {v['gx_seconds']} | {_f(v.get('dbt_build_seconds'))} | "
                f"{_f(v.get('gx_over_dbt'), 3)} |"
            )
        lines.append("")
    orch = d.get("orchestration")
    if orch:
        lines += [
            "### Orchestration (`airflow dags test`, throwaway AIRFLOW_HOME, after the incremental day)",
            "",
            "| DAG | tasks | Σ task s | first start → last end s | overhead per task s | process wall s "
            "| (process − Σ) per task s |",
            "|---|---|---|---|---|---|---|",
        ]
        for k, v in orch.items():
            lines.append(
                f"| {k} | {v.get('tasks')} | {v.get('task_seconds_sum')} | {_f(v.get('dag_run_wall_seconds'))} | "
                f"{_f(v.get('overhead_per_task_s'), 3)} | {v['process_wall_seconds']} | "
                f"{_f(v.get('process_overhead_per_task_s'), 3)} |"
            )
        lines.append("")
    lines += [
        "### Every stage: wall, peak RSS, CPU",
        "",
        "| stage | process wall s | peak RSS MB | CPU s | load 1m before → after |",
        "|---|---|---|---|---|",
    ]
    for k, v in st.items():
        if isinstance(v, dict) and "peak_rss_mb" in v:
            la = v["loadavg_1m"]
            lines.append(
                f"| {k}{' (failed)' if 'error' in v else ''} | {v['process_wall_seconds']} | {v['peak_rss_mb']} | "
                f"{v['cpu_seconds']} | {la[0]} → {la[1]} |"
            )
        elif isinstance(v, dict) and "skipped" in v:
            lines.append(f"| {k} | skipped: {v['skipped']} | | | |")
    lines += ["", "Peak RSS is the stage process's own (`wait4`); the shared PostgreSQL server is not included.", ""]
    return "\n".join(lines)


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"
