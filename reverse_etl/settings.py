"""Reverse ETL settings: defaults, then environment variables, then command-line flags.

| setting | env | default |
|---|---|---|
| max_change_share | ``REVERSE_ETL_MAX_CHANGE_SHARE`` | 0.5: abort when over half the companies change materially |
| max_failure_share | ``REVERSE_ETL_MAX_FAILURE_SHARE`` | 0.2: more failed records sent fail the run (an outage) |
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
    # Above this share of the sent records failing, the run fails (and alerts) instead of ending
    # "partial": a few rejected records are data; most of them failing is an outage.
    max_failure_share: float = 0.2
    # Health scores drift a point or two on most accounts every day (rolling usage windows):
    # sent, but only a category change or a move of this many points counts toward the guardrail.
    material_points: float = 5.0
    batch_size: int = HUBSPOT_BATCH_MAX
    required_layers: tuple[str, ...] = field(default_factory=_default_required)
    fresh_layers: tuple[str, ...] = field(default_factory=_default_fresh)
    sample_size: int = 5

    def __post_init__(self) -> None:
        def bad(name: str, rule: str, value) -> SettingsError:
            return SettingsError(f"{name} ({ENV[name]}) must be {rule}, got {value!r}")

        for name in ("max_change_share", "max_failure_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise bad(name, "between 0 and 1", getattr(self, name))
        if self.material_points < 0:
            raise bad("material_points", ">= 0", self.material_points)
        if not 1 <= self.batch_size <= HUBSPOT_BATCH_MAX:
            raise bad("batch_size", f"1..{HUBSPOT_BATCH_MAX} (HubSpot's batch limit)", self.batch_size)
        if self.sample_size < 0:
            raise bad("sample_size", ">= 0", self.sample_size)
        unknown = set(self.required_layers) - set(LAYER_ORDER)
        if unknown:
            raise bad("required_layers", f"layers of {', '.join(LAYER_ORDER)}", ",".join(sorted(unknown)))
        unvalidated = set(self.fresh_layers) - set(self.required_layers)
        if unvalidated:
            raise SettingsError(
                f"fresh_layers ({ENV['fresh_layers']}) {','.join(sorted(unvalidated))} must also be "
                f"required_layers ({ENV['required_layers']})"
            )

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> Settings:
        """Settings from ``REVERSE_ETL_*`` variables; keyword arguments (CLI flags) win."""
        env = os.environ if env is None else env
        values: dict = {}
        for name, var in ENV.items():
            if name in ("required_layers", "fresh_layers"):
                if var in env:
                    values[name] = _layers(env[var])
            elif env.get(var):
                kind = int if name in ("batch_size", "sample_size") else float
                try:
                    values[name] = kind(env[var])
                except ValueError:
                    what = "an integer" if kind is int else "a number"
                    raise SettingsError(f"{var} must be {what}, got {env[var]!r}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


class SettingsError(ValueError):
    """A setting out of range or unparseable: names the setting and its environment variable."""


ENV = {
    "max_change_share": "REVERSE_ETL_MAX_CHANGE_SHARE",
    "max_failure_share": "REVERSE_ETL_MAX_FAILURE_SHARE",
    "material_points": "REVERSE_ETL_MATERIAL_POINTS",
    "batch_size": "REVERSE_ETL_BATCH_SIZE",
    "sample_size": "REVERSE_ETL_SAMPLE_SIZE",
    "required_layers": "REVERSE_ETL_REQUIRED_LAYERS",
    "fresh_layers": "REVERSE_ETL_FRESH_LAYERS",
}
