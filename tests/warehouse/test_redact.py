"""Passwords never reach output: URL building quotes them, reports, errors and the Makefile hide them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace
from urllib.parse import quote

import psycopg
import pytest

from warehouse.paths import PROJECT_ROOT
from warehouse.postgres import WarehouseParams
from warehouse.redact import redact, redact_url

# Every character that breaks an unquoted URL: fragment, path, userinfo end, space.
PASSWORD = "hunter#2/x@y z"
# What error messages quote when a raw password breaks the parse: its pieces between those.
PIECES = ("hunter", "#2", "x@y", "y z")


def _leaks(text: str) -> list[str]:
    return [s for s in (PASSWORD, quote(PASSWORD, safe=""), *PIECES) if s in text]


def test_urls_are_built_with_the_password_percent_encoded():
    params = WarehouseParams("db.example", 6543, "load er", PASSWORD, "wh")
    url = params.url()
    assert WarehouseParams.from_url(url) == params
    info = psycopg.conninfo.conninfo_to_dict(url)  # libpq reads the same parts
    assert (info["user"], info["password"], info["host"], info["dbname"]) == ("load er", PASSWORD, "db.example", "wh")


def test_redact_url_hides_the_password_even_when_the_url_is_malformed():
    raw = f"postgresql://loader:{PASSWORD}@db.example:5432/wh"
    assert redact_url(raw) == "postgresql://loader:***@db.example:5432/wh"
    quoted = WarehouseParams("db.example", 5432, "loader", PASSWORD, "wh").url()
    assert redact_url(quoted) == "postgresql://loader:***@db.example:5432/wh"
    assert redact_url("postgresql://loader@db.example/wh") == "postgresql://loader@db.example/wh"
    assert redact(f"x {PASSWORD} y {quoted}", PASSWORD) == "x *** y postgresql://loader:***@db.example:5432/wh"


@pytest.mark.parametrize("password", [PASSWORD, "123/x@y", "a?b@c"])
def test_a_malformed_url_is_refused_without_quoting_the_password(password):
    url = f"postgresql://loader:{password}@db.example:5432/wh"
    with pytest.raises(ValueError, match="malformed: percent-encode") as err:
        WarehouseParams.from_url(url)
    assert password not in str(err.value) and not _leaks(str(err.value))
    assert "postgresql://loader:***@db.example:5432/wh" in str(err.value)


def _report(url: str) -> subprocess.CompletedProcess:
    """`postsale report`, as a user runs it, against ``url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "POSTSALE_"))}
    env.update(WAREHOUSE_URL=url, PYTHONPATH=str(PROJECT_ROOT))
    code = "import sys; from pipeline.cli import main; sys.exit(main(['report']))"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_report_does_not_print_the_password(warehouse_url):
    # The test server trusts local connections, so any password logs in.
    url = replace(WarehouseParams.from_url(warehouse_url), password=PASSWORD).url()
    res = _report(url)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "postsale: the pipeline layer by layer" in res.stdout
    assert not _leaks(res.stdout + res.stderr)


def test_report_on_a_malformed_url_does_not_print_the_password(warehouse_url):
    p = WarehouseParams.from_url(warehouse_url)
    res = _report(f"postgresql://{p.user}:{PASSWORD}@{p.host}:{p.port}/{p.dbname}")
    assert res.returncode != 0
    assert not _leaks(res.stdout + res.stderr), res.stderr[-2000:]


def test_the_makefile_echoes_warehouse_urls_redacted():
    lines = (PROJECT_ROOT / "Makefile").read_text().splitlines()
    echoed = [line for line in lines if re.search(r"\becho\b", line) and "WAREHOUSE_URL" in line]
    assert echoed, "the demo announces its warehouse"
    for line in echoed:
        assert "warehouse.redact" in line, line
    out = subprocess.run(
        [sys.executable, "-m", "warehouse.redact", f"postgresql://u:{PASSWORD}@h:5432/d"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert out.stdout.strip() == "postgresql://u:***@h:5432/d"
