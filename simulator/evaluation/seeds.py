"""Which seeds may be reported: those never used to build, fit or tune anything.

The development seeds built and tuned the simulator and the models (42 is the demo world,
1–10 the working seeds). A figure measured on them says how well the models fit what they
were tuned on, not how well they generalise, so the report refuses them.
"""

from __future__ import annotations

DEVELOPMENT_SEEDS: tuple[int, ...] = (42, *range(1, 11))
REPORTED_SEEDS: tuple[int, ...] = (101, 102, 103, 104, 105)


def development_seeds_in(seeds: list[int]) -> list[int]:
    """The seeds of ``seeds`` that were used for development (must not be reported)."""
    return [s for s in seeds if s in DEVELOPMENT_SEEDS]
