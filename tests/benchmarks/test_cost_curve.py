"""The cost curve (`postsale bench --curve`): the fit, the report built from per-size reports,
the docs section, and the command line. No end to end run: test_bench_smoke runs the harness."""

from __future__ import annotations

import json

import pytest

from benchmarks import cli, curve
from pipeline.cli import build_parser

SIZES = (1000, 2000, 4000)


def _report(size: int, commit: str = "abc", drop: tuple[str, ...] = ()) -> dict:
    """A per-size report.json: a linear stream, a quadratic dbt layer, a stage far too short to fit."""
    k = size / 1000
    stages = {
        "extract.mixpanel.events": {
            "streams": [{"seconds": 10.0 * k, "records": int(5000 * k)}],
            "peak_rss_mb": 80.0,
        },  # fmt: skip
        "extract.stripe.products": {"streams": [{"seconds": 0.05 * k}], "peak_rss_mb": 60.0},
        "dbt.marts": {"wall_seconds": 2.0 * k * k, "peak_rss_mb": 100.0 * k},
        "extract.incremental": {"streams": [{"seconds": 3.0}, {"seconds": 1.0}], "peak_rss_mb": 70.0},
        "validate.marts": {"error": "exit 1: boom", "peak_rss_mb": 1.0},
    }
    for st in stages.values():
        st.update({"process_wall_seconds": 99.0, "loadavg_1m": [0.5, 1.5 * k], "commit": commit})
    for key in drop:
        del stages[key]
    return {"run_id": f"r{size}", "status": "complete", "world": {"as_of": "2026-12-05"}, "stages": stages}


def _curve(reports: dict) -> dict:
    meta = {"curve_id": "c1", "status": "complete", "config": {"seed": 42, "event_days": 5, "cpus": 2}}
    return curve.build(meta, reports)


def test_fit_recovers_the_exponent_and_each_pairwise_one():
    assert curve.fit({s: 3.0 * s for s in SIZES})["b"] == pytest.approx(1.0)
    quad = curve.fit({s: 1e-6 * s * s for s in SIZES})
    assert quad["b"] == pytest.approx(2.0)
    assert [p["b"] for p in quad["pairwise"]] == pytest.approx([2.0, 2.0])
    noisy = curve.fit({1000: 10.0, 2000: 22.0, 4000: 38.0})
    assert 0.9 < noisy["b"] < 1.0 and [p["b"] for p in noisy["pairwise"]] == pytest.approx([1.138, 0.788], abs=1e-3)
    assert curve.fit({1000: 1.0, 2000: None})["b"] is None  # one point: no fit


def test_curve_fits_and_flags_each_stage():
    c = _curve({s: _report(s) for s in SIZES})
    st = c["stages"]
    events = st["extract.mixpanel.events"]
    assert events["time_fit"]["b"] == pytest.approx(1.0) and events["time_fit"]["verdict"] == "met"
    assert events["rss_fit"]["b"] == pytest.approx(0.0) and events["rss_fit"]["verdict"] == "met"
    marts = st["dbt.marts"]
    assert marts["time_fit"]["b"] == pytest.approx(2.0) and marts["time_fit"]["verdict"] == "miss"
    assert marts["rss_fit"]["verdict"] == "met"  # linear memory is within the target
    assert st["extract.stripe.products"]["time_fit"]["verdict"] == "too short"
    assert st["extract (total)"]["seconds"][1000] == pytest.approx(10.05)
    assert st["extract.incremental"]["incremental"] and st["extract.incremental"]["time_fit"]["verdict"] == "met"
    assert "validate.marts" not in st  # failed at every size: no row
    assert c["sizes"][4000]["loadavg_1m"] == [0.5, 6.0] and c["sizes"][1000]["events"] == 5000

    md = curve.markdown(json.loads(json.dumps(c)))  # as read back from curve.json (string keys)
    row = next(line for line in md.splitlines() if line.startswith("| dbt.marts |"))
    assert "2.00 | 2.00 / 2.00 | ≤ 1.1 | **no** |" in row
    assert "too short to fit" in next(line for line in md.splitlines() if "stripe.products" in line)
    assert "flat (≤ 0.3)" in next(line for line in md.splitlines() if line.startswith("| extract.incremental"))
    assert "commit `abc` at every size" in md


def test_a_stage_missing_at_one_size_is_fitted_on_the_others_and_said():
    reports = {s: _report(s, drop=("dbt.marts",) if s == 2000 else ()) for s in SIZES}
    reports[4000]["stages"]["extract.mixpanel.events"]["commit"] = "def"
    c = _curve(reports)
    marts = c["stages"]["dbt.marts"]
    assert marts["missing_at"] == [2000] and marts["time_fit"]["points"] == 2
    assert marts["time_fit"]["b"] == pytest.approx(2.0)
    assert c["stages"]["extract (total)"]["seconds"][2000] == pytest.approx(20.1)
    md = curve.markdown(c)
    assert "missing at 2,000" in md and "did not all run at one commit" in md
    two = _curve({s: _report(s) for s in SIZES if s != 2000} | {2000: _report(2000, drop=tuple(_report(1)["stages"]))})
    assert two["stages"]["extract.mixpanel.events"]["time_fit"]["points"] == 2


def test_docs_section_is_replaced_between_the_markers_or_appended():
    page = f"# Perf\n\nintro\n\n{curve.BEGIN}\nold curve\n{curve.END}\n\n## After\n"
    out = curve.replace_section(page, "new curve\n")
    assert out == f"# Perf\n\nintro\n\n{curve.BEGIN}\nnew curve\n{curve.END}\n\n## After\n"
    appended = curve.replace_section("# Perf\n\nintro\n", "new curve\n")
    assert appended == f"# Perf\n\nintro\n\n## Cost curve\n\n{curve.BEGIN}\nnew curve\n{curve.END}\n"
    assert curve.replace_section(appended, "newer\n").count("## Cost curve") == 1


def test_curve_resume_keeps_only_the_finished_sizes(tmp_path):
    runs = {}
    for size, status in ((1000, "complete"), (2000, "failed: stopped")):
        run = tmp_path / f"run-x-{size}"
        run.mkdir()
        (run / "report.json").write_text(json.dumps({**_report(size), "status": status}))
        runs[size] = str(run)
    config = {"seed": 42, "event_days": 5}
    (tmp_path / "curve.json").write_text(json.dumps({"curve_id": "c1", "config": config, "runs": runs}))
    args = build_parser().parse_args(["bench", "--curve", "1000,2000", "--event-days", "5", "--out", str(tmp_path)])
    c = curve.Curve(cli.bench_config(args), args.curve, resume=tmp_path)
    assert list(c.runs) == [1000]
    sized = c.bench_config(2000)
    assert (sized.accounts, sized.out, sized.memory_double, sized.profile) == (2000, tmp_path, False, False)
    assert not sized.docs_section and sized.worlds == tmp_path / "worlds"
    args.event_days = 6
    with pytest.raises(ValueError, match="another seed or window"):
        curve.Curve(cli.bench_config(args), args.curve, resume=tmp_path)


def test_command_line():
    parse = build_parser().parse_args
    args = parse(["bench", "--curve", "10000,2500,5000,2500", "--event-days", "30", "--keep-database"])
    cfg = cli.bench_config(args)
    assert args.curve == [2500, 5000, 10000] and cfg.event_days == 30 and cfg.keep_database
    assert not cfg.airflow  # off by default in a curve: it repeats every stage
    assert cli.bench_config(parse(["bench", "--curve", "1,2", "--airflow"])).airflow
    assert cli.bench_config(parse(["bench"])).airflow and parse(["bench"]).curve is None
    for bad in ("2500", "a,b", "0,10", "5,5"):
        with pytest.raises(SystemExit):
            parse(["bench", "--curve", bad])
    with pytest.raises(SystemExit):
        cli.bench_config(parse(["bench", "--curve", "1,2", "--redo", "dbt."]))
