"""``python -m pipeline`` is the ``postsale`` command (for a checkout without the console script)."""

import sys

from pipeline.cli import main

sys.exit(main())
