"""``make bench``: every stage of the pipeline measured against its limit, side by side in one run.

``harness`` runs the stages in order on a fresh database, each stage in a child process
(``python -m benchmarks.stage``) so its peak RSS comes from ``wait4``; ``report``
writes the JSON and Markdown report (and the latest-report section of docs/PERFORMANCE.md).
The loader-vs-``psql \\copy`` measurement itself lives in ``benchmarks.loader``.
"""
