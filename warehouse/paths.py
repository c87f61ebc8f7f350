"""Where things live: the repository, its dbt project, and local state (``.local``)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# dbt's compiled manifest (`make manifest`): cosmos renders the dbt task groups from it.
DBT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


def local_dir() -> Path:
    """Where embedded state lives (``POSTSALE_LOCAL_DIR``, default ``<repo>/.local``)."""
    return Path(os.environ.get("POSTSALE_LOCAL_DIR", PROJECT_ROOT / ".local")).resolve()
