"""A sync killed mid-stream resumes from its last checkpoint without loss or duplicates."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.connectors.conftest import MIXPANEL_SECRET, MIXPANEL_USER, configs, current_state, rows


def test_killed_sync_resumes_without_loss_or_duplicates(sim, fresh_warehouse_url, warehouse_admin_url):
    from connectors.sync import run_stream
    from tests.conftest import _create_db, _drop_db

    sim.clear_faults()
    settings = {
        "engage_base": sim.url("mixpanel"),
        "start_date": "2026-08-01",
        "end_date": "2026-10-31",
        "window_days": 7,
    }
    env = {
        **os.environ,
        "WAREHOUSE_URL": fresh_warehouse_url,
        "MIXPANEL_API_BASE": sim.url("mixpanel"),
        "MIXPANEL_SERVICE_ACCOUNT": f"{MIXPANEL_USER}:{MIXPANEL_SECRET}",
        "MIXPANEL_SETTINGS": json.dumps(settings),
    }
    # Slow each export query down so the kill lands mid-stream, after some windows committed.
    sim.set_faults([{"kind": "delay", "vendor": "mixpanel", "path": "/export", "seconds": 0.7}])
    cmd = [str(Path(sys.executable).parent / "postsale"), "sync", "--source", "mixpanel", "--stream", "events"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            done = rows(fresh_warehouse_url, "select count(*) from pg_tables where tablename = '_sync_runs'")[0][0]
            if (
                done
                and rows(fresh_warehouse_url, "select coalesce(max(checkpoints), 0) from raw._sync_runs")[0][0] >= 2
            ):
                break
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        sim.clear_faults()
    killed_state = rows(fresh_warehouse_url, "select state->>'newest_day' from raw._stream_state")[0][0]
    assert killed_state is not None and killed_state < "2026-10-31", "the kill should land mid-stream"

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    statuses = rows(fresh_warehouse_url, "select status, error from raw._sync_runs order by started_at")
    assert statuses[0][0] == "failed" and "abandoned" in statuses[0][1]
    assert statuses[-1] == ("success", None)

    clean = _create_db(warehouse_admin_url, "postsale_clean")
    try:
        run_stream(clean, configs(sim, mixpanel=settings)["mixpanel"], "events")
        assert current_state(fresh_warehouse_url, "mixpanel__events") == current_state(clean, "mixpanel__events")
    finally:
        _drop_db(warehouse_admin_url, clean)
