"""The cost curve (``postsale bench --curve 2500,5000,10000``): the bench at several world sizes,
then each stage's time and peak RSS against size and the fitted exponent b of ``y ≈ a·size^b``.

Each size is a `Bench` run of its own under the curve's directory (its own ``report.json``);
``curve.json`` and ``curve.md`` are built from those reports and rewritten after every size, so a
stopped curve keeps what it reached, and ``--resume`` reuses the sizes that finished.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.harness import Bench, BenchConfig

log = logging.getLogger("benchmarks")

BEGIN, END = "<!-- curve:begin -->", "<!-- curve:end -->"
TARGET = 1.1  # every stage's exponent: at most a little worse than linear
FLAT = 0.3  # the incremental day's exponent: close to flat
MIN_SECONDS = 1.0  # below this at the smallest size, start-up and noise dominate: no exponent
LAYERS = ("staging", "intermediate", "marts")
DBT_STEPS = ("seed", *LAYERS)


# --- figures out of one size's report ---------------------------------------------------------


def _ok(stage) -> bool:
    return isinstance(stage, dict) and not {"error", "skipped"} & stage.keys() and stage.get("status") != "refused"


def _one(st: dict, key: str, seconds) -> tuple[float | None, float | None]:
    """(work seconds, peak RSS MB) of one stage; ``seconds`` picks the stage's own timer, which
    leaves out process start-up (imports), a constant that would flatten the exponent."""
    s = st.get(key)
    if not _ok(s):
        return None, None
    try:
        t = seconds(s)
    except (KeyError, IndexError, TypeError):
        t = None
    return (t if t is not None else s.get("process_wall_seconds")), s.get("peak_rss_mb")


def _sum(st: dict, keys: list[str], seconds) -> tuple[float | None, float | None]:
    """A total over several stages (each its own process): Σ seconds, max peak RSS; None if any is missing."""
    parts = [_one(st, k, seconds) for k in keys]
    if not parts or any(t is None for t, _ in parts):
        return None, None
    return round(sum(t for t, _ in parts), 2), max((m for _, m in parts if m is not None), default=None)


def _streams(reports: dict[int, dict]) -> list[str]:
    """The full-refresh extraction stages, in run order (not the incremental day, not the 2N runs)."""
    keys: dict[str, None] = {}
    for rep in reports.values():
        for k in rep.get("stages", {}):
            if k.startswith("extract.") and k != "extract.incremental" and not k.endswith((".n", ".2n")):
                keys[k] = None
    return list(keys)


def _stream_s(s: dict) -> float:
    return s["streams"][0]["seconds"]


def _streams_s(s: dict) -> float:
    return sum(x["seconds"] for x in s["streams"])


def _dbt_s(s: dict) -> float:
    return s["wall_seconds"]


def _own_s(s: dict) -> float:
    return s["seconds"]


def _gx_s(layer: str) -> Callable[[dict], float]:
    return lambda s: s[layer]["seconds"]


def rows(reports: dict[int, dict]) -> list[tuple[str, bool, Callable]]:
    """(stage label, is it the incremental day, stages → (seconds, MB)) for every curve row."""
    streams = _streams(reports)
    out = [
        ("generate", False, lambda st: _one(st, "generate", _own_s)),
        ("loader (ours, best run)", False, lambda st: _one(st, "loader", lambda s: s["ours_seconds"])),
    ]
    out += [(k, False, lambda st, k=k: _one(st, k, _stream_s)) for k in streams]
    out.append(("extract (total)", False, lambda st: _sum(st, streams, _stream_s)))
    for prefix, inc in (("", False), ("incremental.", True)):
        if inc:
            out.append(("extract.incremental", True, lambda st: _one(st, "extract.incremental", _streams_s)))
        key = f"validate.{prefix}raw"
        out.append((key, inc, lambda st, key=key: _one(st, key, _gx_s("raw"))))
        for layer in LAYERS:
            d, v = f"dbt.{prefix}{layer}", f"validate.{prefix}{layer}"
            out.append((d, inc, lambda st, d=d: _one(st, d, _dbt_s)))
            out.append((v, inc, lambda st, v=v, layer=layer: _one(st, v, _gx_s(layer))))
        total = [f"dbt.{prefix}{step}" for step in DBT_STEPS]
        out.append((f"dbt.{prefix}total (seed + layers)", inc, lambda st, total=total: _sum(st, total, _dbt_s)))
        key = "reverse_etl." + ("incremental" if inc else "first")
        out.append((key, inc, lambda st, key=key: _one(st, key, _own_s)))
    # Airflow runs after the incremental day: its DAGs sync and build one more day.
    for dag in ("postsale_ingest", "postsale_transform"):
        key = f"airflow.{dag}"
        if any(key in r.get("stages", {}) for r in reports.values()):
            out.append((key, True, lambda st, key=key: _one(st, key, lambda s: s["process_wall_seconds"])))
    return out


# --- the fit -----------------------------------------------------------------------------------


def fit(points: dict[int, float | None]) -> dict:
    """Least squares of log y on log size: y ≈ a·size^b; and b between each pair of adjacent sizes."""
    pts = sorted((s, y) for s, y in points.items() if y is not None and y > 0)
    if len(pts) < 2:
        return {"b": None, "points": len(pts)}
    xs, ys = [math.log(s) for s, _ in pts], [math.log(y) for _, y in pts]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    pairwise = [
        {"from": s0, "to": s1, "b": round(math.log(y1 / y0) / math.log(s1 / s0), 3)}
        for (s0, y0), (s1, y1) in zip(pts, pts[1:], strict=False)
    ]
    return {"b": round(b, 3), "a": math.exp(my - b * mx), "points": len(pts), "pairwise": pairwise}


def verdict(f: dict, incremental: bool, first: float | None, timed: bool) -> str:
    """``met``, ``miss``, ``not flat``, ``too short`` or ``too few sizes``."""
    if f["b"] is None:
        return "too few sizes"
    if timed and (first is None or first < MIN_SECONDS):
        return "too short"
    if f["b"] > TARGET:
        return "miss"
    return "not flat" if incremental and f["b"] > FLAT else "met"


def build(meta: dict, reports: dict[int, dict]) -> dict:
    """The curve (``curve.json``) from each size's ``report.json``: per stage, figures by size and fits."""
    sizes = sorted(reports)
    stages = {}
    for label, inc, get in rows(reports):
        secs, mbs = {}, {}
        for size in sizes:
            secs[size], mbs[size] = get(reports[size].get("stages", {}))
        if all(v is None for v in secs.values()):
            continue
        first = next((secs[s] for s in sizes if secs[s] is not None), None)
        tf, mf = fit(secs), fit(mbs)
        stages[label] = {
            "incremental": inc,
            "seconds": secs,
            "peak_rss_mb": mbs,
            "missing_at": [s for s in sizes if secs[s] is None],
            "time_fit": {**tf, "verdict": verdict(tf, inc, first, timed=True)},
            "rss_fit": {**mf, "verdict": verdict(mf, inc, None, timed=False)},
        }
    return {**meta, "sizes": {s: size_info(reports[s]) for s in sizes}, "stages": stages}


def size_info(rep: dict) -> dict:
    """Status, load average and commits of one size's run: the context its figures were taken in."""
    st = rep.get("stages", {})
    loads = [x for v in st.values() if isinstance(v, dict) for x in v.get("loadavg_1m", [])]
    events = st.get("extract.mixpanel.events", {}).get("streams", [{}])[0].get("records")
    return {
        "run_id": rep.get("run_id"),
        "status": str(rep.get("status", "?")).split(":")[0],
        "as_of": rep.get("world", {}).get("as_of"),
        "events": events,
        "loadavg_1m": [min(loads), max(loads)] if loads else None,
        "commits": sorted({v["commit"] for v in st.values() if isinstance(v, dict) and v.get("commit")}),
    }


# --- the report --------------------------------------------------------------------------------


def _n(x, nd=1) -> str:
    if x is None:
        return "–"
    return f"{x:,.{nd}f}" if isinstance(x, float) else f"{x:,}"


def _cells(f: dict, inc: bool, missing: list[int]) -> str:
    v = f["verdict"]
    if v in ("too short", "too few sizes"):
        b = pair = "–"
        met = f"{v} to fit" + (f" (< {MIN_SECONDS:g} s at the smallest size)" if v == "too short" else "")
    else:
        b = f"{f['b']:.2f}"
        pair = " / ".join(f"{p['b']:.2f}" for p in f["pairwise"])
        met = {"met": "yes", "miss": "**no**", "not flat": "yes, but **not flat**"}[v]
    if missing:
        met += f"; missing at {', '.join(f'{s:,}' for s in missing)}"
    target = f"≤ {TARGET}, flat (≤ {FLAT})" if inc else f"≤ {TARGET}"
    return f"{b} | {pair} | {target} | {met} |"


def markdown(c: dict) -> str:
    sizes = sorted(int(s) for s in c["sizes"])
    info = {int(s): v for s, v in c["sizes"].items()}
    cfg = c["config"]
    lines = [
        f"Curve `{c['curve_id']}` — **{c['status']}** — {' / '.join(f'{s:,}' for s in sizes)} accounts "
        f"(seed {cfg['seed']}), Mixpanel window {cfg['event_days']} days at every size, {cfg['cpus']} CPUs. "
        "b is the least-squares slope of log y on log size (y ≈ a·size^b); pairwise b is between "
        "adjacent sizes. Times are each stage's own timer (process start-up left out).",
        "",
        *([f"Stopped: `{c['stopped']}`", ""] if c.get("stopped") else []),
        "| accounts | run | status | events | world as of | load 1m during stages | commit |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in sizes:
        v = info[s]
        la = v["loadavg_1m"]
        load = f"{la[0]:.1f}–{la[1]:.1f}" if la else "–"
        lines.append(
            f"| {s:,} | `{v['run_id']}` | {v['status']} | {_n(v['events'])} | {v['as_of']} | {load} | "
            f"{', '.join(f'`{x}`' for x in v['commits']) or '–'} |"
        )
    commits = {x for v in info.values() for x in v["commits"]}
    lines.append("")
    if len(commits) == 1:
        lines += [f"Code: commit `{next(iter(commits))}` at every size.", ""]
    elif commits:
        lines += ["Code: **the sizes did not all run at one commit** (see the table).", ""]
    for title, key, fit_key, unit in (("Time against size", "seconds", "time_fit", "s"),
                                      ("Peak RSS against size", "peak_rss_mb", "rss_fit", "MB")):  # fmt: skip
        pairs = ", ".join(f"{a:,}→{b:,}" for a, b in zip(sizes, sizes[1:], strict=False)) or "adjacent sizes"
        lines += [
            f"### {title}",
            "",
            "| stage | " + " | ".join(f"{s:,} {unit}" for s in sizes) + f" | b | pairwise b ({pairs}) | target | met |",
            "|---|" + "---|" * len(sizes) + "---|---|---|---|",
        ]
        for label, v in c["stages"].items():
            vals = {int(s): x for s, x in v[key].items()}
            figs = " | ".join(_n(vals.get(s), 1 if unit == "MB" else 2) for s in sizes)
            lines.append(f"| {label} | {figs} | {_cells(v[fit_key], v['incremental'], v['missing_at'])}")
        lines.append("")
    lines += [
        f"A stage under {MIN_SECONDS:g} s at the smallest size is not fitted: its time is mostly noise. "
        "Peak RSS is each stage process's own; PostgreSQL's memory is not included.",
        "",
    ]
    return "\n".join(lines)


def replace_section(text: str, md: str) -> str:
    """``text`` with the curve section (between the markers) replaced by ``md``; without the
    markers, the section is appended under a ``## Cost curve`` heading."""
    block = f"{BEGIN}\n{md}{END}"
    if BEGIN in text and END in text.split(BEGIN, 1)[1]:
        head, rest = text.split(BEGIN, 1)
        return head + block + rest.split(END, 1)[1]
    return f"{text.rstrip()}\n\n## Cost curve\n\n{block}\n"


def write(c: dict, curve_dir: Path, docs: Path | None = None) -> str:
    (curve_dir / "curve.json").write_text(json.dumps(c, indent=2, default=str) + "\n")
    md = markdown(c)
    (curve_dir / "curve.md").write_text(md)
    if docs is not None and docs.exists():
        docs.write_text(replace_section(docs.read_text(), md))
    return md


# --- the run -----------------------------------------------------------------------------------


class Curve:
    """Run `Bench` at each size under one directory; rebuild the curve after every size."""

    def __init__(self, cfg: BenchConfig, sizes: list[int], resume: Path | None = None) -> None:
        self.cfg, self.sizes = cfg, sorted(set(sizes))
        self.runs: dict[int, Path] = {}  # size → its run directory
        if resume:
            self.dir = resume.resolve()
            old = json.loads((self.dir / "curve.json").read_text())
            if (old["config"]["seed"], old["config"]["event_days"]) != (cfg.seed, cfg.event_days):
                raise ValueError(f"{resume} is a curve of another seed or window ({old['config']})")
            self.curve_id = old["curve_id"]
            for size, run in old.get("runs", {}).items():
                rep = Path(run) / "report.json"
                # Only a finished size is reused; a stopped one runs again from the start.
                if rep.exists() and json.loads(rep.read_text()).get("status") == "complete":
                    self.runs[int(size)] = Path(run)
        else:
            self.curve_id = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S")
            self.dir = (cfg.out / f"curve-{self.curve_id}").resolve()
        self.dir.mkdir(parents=True, exist_ok=True)

    def bench_config(self, size: int) -> BenchConfig:
        # The 2N-events run and the CPU profile repeat work and do not grow with the world: left out.
        return replace(self.cfg, accounts=size, out=self.dir, worlds=self.cfg.worlds or self.cfg.out / "worlds",
                       memory_double=False, profile=False, docs_section=False, resume=None, redo=())  # fmt: skip

    def run(self) -> dict:
        status = "running"
        try:
            for size in self.sizes:
                if size in self.runs:
                    log.info("curve: %d accounts kept from %s", size, self.runs[size])
                    continue
                bench = Bench(self.bench_config(size))
                self.runs[size] = bench.dir
                try:
                    bench.run()
                finally:
                    self.save(status)
            status = "complete"
        except BaseException as exc:
            status = f"stopped: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}"
            raise
        finally:
            self.data = self.save(status)
        return self.data

    def save(self, status: str) -> dict:
        reports = {}
        for size, run in self.runs.items():
            if (run / "report.json").exists():
                reports[size] = json.loads((run / "report.json").read_text())
        meta = {
            "curve_id": self.curve_id,
            "status": status.split(":")[0],
            "stopped": status if status.startswith("stopped") else None,
            "config": {
                "seed": self.cfg.seed,
                "event_days": self.cfg.event_days,
                "sizes": self.sizes,
                "airflow": self.cfg.airflow,
                "cpus": os.cpu_count(),
            },  # fmt: skip
            "runs": {size: str(run) for size, run in sorted(self.runs.items())},
        }
        c = build(meta, reports)
        write(c, self.dir, self.cfg.update_docs)
        return c
