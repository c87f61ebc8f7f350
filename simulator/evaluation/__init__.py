"""The exam: how well the warehouse's marts predict and describe simulated worlds.

``python -m simulator evaluate`` generates one world per seed, runs the pipeline over it at
several as-of dates as the pipeline would (connectors, then dbt, through the ``postsale``
command line in subprocesses: the simulator imports no postsale package), keeps what the marts
said at each as-of (point-in-time snapshots) and scores it against the planted ground truth.

Modules, one job each: ``seeds`` (which seeds may be reported), ``metrics`` (AUC, Brier,
bootstrap: pure arithmetic), ``truth`` (what the ground truth says), ``windows`` (which as-of
scores which renewal), ``pipeline`` (world, mock APIs, the per-as-of steps, snapshots),
``score`` (per-seed metrics and their across-seed means), ``report`` (docs/ACCURACY.md and its
charts), ``cli`` (the ``evaluate`` command).
"""
