"""Where the vendors' published specifications are: ``../shared/specs`` beside the repository
(``POSTSALE_SPECS_DIR`` overrides). Only tests read them."""

from __future__ import annotations

import os
from pathlib import Path

from warehouse.paths import PROJECT_ROOT

SPECS_DIR = Path(os.environ.get("POSTSALE_SPECS_DIR", PROJECT_ROOT.parent / "shared" / "specs")).resolve()
