"""deploy/postgres/sql/raw_tables.sql is the connectors' raw DDL, rendered: it must not drift."""

from __future__ import annotations

import subprocess
import sys

from warehouse.paths import PROJECT_ROOT


def test_raw_tables_sql_matches_the_connectors():
    res = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "deploy" / "raw_ddl.py"), "--check"], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr


def test_every_registered_stream_has_its_tables():
    from connectors.registry import raw_tables

    text = (PROJECT_ROOT / "deploy" / "postgres" / "sql" / "raw_tables.sql").read_text()
    for table in raw_tables():
        assert f'create table if not exists "raw"."{table}"' in text, table
