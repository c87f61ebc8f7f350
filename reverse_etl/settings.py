"""Reverse ETL settings: defaults, then environment variables, then command-line flags.

| setting | env | default |
|---|---|---|
| max_change_share | ``REVERSE_ETL_MAX_CHANGE_SHARE`` | 0.5: abort when over half the companies change materially |
| material_points | ``REVERSE_ETL_MATERIAL_POINTS`` | 5: a smaller move of a number is sent, but is not material |
| batch_size | ``REVERSE_ETL_BATCH_SIZE`` | 100 (HubSpot's batch maximum; larger values are refused) |
| required_layers | ``REVERSE_ETL_REQUIRED_LAYERS`` | every layer with a suite (raw, staging, intermediate, marts) |
| fresh_layers | ``REVERSE_ETL_FRESH_LAYERS`` | marts when its suite exists, else none |
| sample_size | ``REVERSE_ETL_SAMPLE_SIZE`` | 5 changed companies shown by a dry run |
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field

HUBSPOT_BATCH_MAX = 100


# Pipeline order; a layer counts once its suite module exists in expectations/suites/.
LAYER_ORDER = ("raw", "staging", "intermediate", "marts")


def _suite_exists(layer: str) -> bool:
    # find_spec does not import the suite (which would import Great Expectations).
    return importlib.util.find_spec(f"expectations.suites.{layer}") is not None


def _default_required() -> tuple[str, ...]:
    return tuple(layer for layer in LAYER_ORDER if _suite_exists(layer))


def _default_fresh() -> tuple[str, ...]:
    # Only the layer holding the mart is validated after the mart is built: earlier layers
    # are validated before dbt builds marts, so "newer than the mart" cannot apply to them.
    return ("marts",) if _suite_exists("marts") else ()


def _layers(value: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in value.split(",") if x.strip())


@dataclass(frozen=True)
class Settings:
    """Everything a sync run may be configured with; see the module docstring."""

    dry_run: bool = False
    force: bool = False
    max_change_share: float = 0.5
    # Health scores drift a point or two on most accounts every day (rolling usage windows):
    # sent, but only a category change or a move of this many points counts toward the guardrail.
    material_points: float = 5.0
    batch_size: int = HUBSPOT_BATCH_MAX
    required_layers: tuple[str, ...] = field(default_factory=_default_required)
    fresh_layers: tuple[str, ...] = field(default_factory=_default_fresh)
    sample_size: int = 5

    def __post_init__(self) -> None:
        if not 0 <= self.max_change_share <= 1:
            raise ValueError(f"max_change_share must be between 0 and 1, got {self.max_change_share}")
        if self.material_points < 0:
            raise ValueError(f"material_points must be >= 0, got {self.material_points}")
        if not 1 <= self.batch_size <= HUBSPOT_BATCH_MAX:
            raise ValueError(
                f"batch_size must be 1..{HUBSPOT_BATCH_MAX} (HubSpot's batch limit), got {self.batch_size}"
            )
        unvalidated = set(self.fresh_layers) - set(self.required_layers)
        if unvalidated:
            raise ValueError(f"fresh_layers {sorted(unvalidated)} must also be required_layers")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> Settings:
        """Settings from ``REVERSE_ETL_*`` variables; keyword arguments (CLI flags) win."""
        env = os.environ if env is None else env
        values: dict = {}
        if env.get("REVERSE_ETL_MAX_CHANGE_SHARE"):
            values["max_change_share"] = float(env["REVERSE_ETL_MAX_CHANGE_SHARE"])
        if env.get("REVERSE_ETL_MATERIAL_POINTS"):
            values["material_points"] = float(env["REVERSE_ETL_MATERIAL_POINTS"])
        if env.get("REVERSE_ETL_BATCH_SIZE"):
            values["batch_size"] = int(env["REVERSE_ETL_BATCH_SIZE"])
        if env.get("REVERSE_ETL_SAMPLE_SIZE"):
            values["sample_size"] = int(env["REVERSE_ETL_SAMPLE_SIZE"])
        if "REVERSE_ETL_REQUIRED_LAYERS" in env:
            values["required_layers"] = _layers(env["REVERSE_ETL_REQUIRED_LAYERS"])
        if "REVERSE_ETL_FRESH_LAYERS" in env:
            values["fresh_layers"] = _layers(env["REVERSE_ETL_FRESH_LAYERS"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
