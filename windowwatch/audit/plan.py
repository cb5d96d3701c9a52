"""The audit plan of docs/rules.md (一单两库: the 检查事项清单), validated with clear errors.

Risk boost (风险加权), defined precisely because the plan format leaves it open:
- a window is *bottom* when fct_window_month.is_bottom is true for the population month, and
  *off-book* when fct_window_month.off_book_cases > 0 that month; its multiplier m_w is the
  product of the plan's multipliers that apply to it (1 when none does);
- strata `window_id`: the stratum's k becomes ceil(k × m_w);
- strata `department_id` / `none`: the stratum keeps its k over all its cases, and gains
  ceil(k × m) − k extra places, m = the largest m_w among its windows; the extra places go to
  the not-yet-taken cases *from boosted windows* (m_w > 1), in the same key order.
- k × m and ratio × N are computed in exact decimal arithmetic, then rounded up.

plan_hash is H(canonical JSON of the plan *as validated*, keys as written): every key the file
gives, with the value the validation made of it and an integral number written as an integer
(`per_stratum: 2.0` or `"2"` and `bottom_windows: 2.0` all hash like `2`), so one plan has
one hash (docs/rules.md). Defaults the file leaves out (e.g. ratio's min: 1) apply to the
draw, not the hash, so an outside verifier needs only the file and this rule.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from windowwatch.audit.hashing import H, canonical_json

STATUSES = ("completed", "open", "rejected", "withdrawn")


class PlanError(ValueError):
    """The plan file is invalid; the message names the file, the key and what to do.

    `problems` holds the same as data, (key path, error type, values) per problem, so a front end
    can say it in its own language: types are pydantic's (`missing`, `extra_forbidden`,
    `greater_than_equal` …) plus `yaml_syntax` and `not_mapping`."""

    def __init__(self, message: str, problems: list[tuple[str, str, dict[str, Any]]] | None = None):
        super().__init__(message)
        self.problems = problems or []


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Population(_Strict):
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
    status: Literal["completed", "open", "rejected", "withdrawn"]
    department_ids: list[str] | None = Field(None, min_length=1)
    window_ids: list[str] | None = Field(None, min_length=1)
    item_codes: list[str] | None = Field(None, min_length=1)

    @field_validator("month", mode="before")
    @classmethod
    def _month_text(cls, v: Any) -> Any:
        if not isinstance(v, str):
            raise ValueError(f"must be a quoted month text 'YYYY-MM', got {v!r}")
        return v


class Sample(_Strict):
    per_stratum: int | None = Field(None, ge=1)
    ratio: float | None = Field(None, gt=0, le=1)
    min: int | None = Field(None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _default_min(cls, v: Any) -> Any:
        if isinstance(v, dict) and v.get("ratio") is not None and v.get("min") is None:
            v = {**v, "min": 1}
        return v

    @model_validator(mode="after")
    def _one_rule(self) -> "Sample":
        if (self.per_stratum is None) == (self.ratio is None):
            raise ValueError("give exactly one of per_stratum: K or ratio: R (with optional min)")
        if self.per_stratum is not None and self.min is not None:
            raise ValueError("min only goes with ratio")
        return self

    def k_for(self, stratum_size: int) -> int:
        if self.per_stratum is not None:
            return self.per_stratum
        return max(self.min or 0, math.ceil(Decimal(str(self.ratio)) * stratum_size))


class RiskBoost(_Strict):
    bottom_windows: float = Field(1.0, ge=1, le=100)
    off_book_windows: float = Field(1.0, ge=1, le=100)


class Plan(_Strict):
    name: str = Field(min_length=1, max_length=200)
    population: Population
    strata: Literal["department_id", "window_id", "none"]
    sample: Sample
    risk_boost: RiskBoost | None = None
    inspectors_per_case: int = Field(ge=2, le=20)
    max_cases_per_inspector: int = Field(ge=1)

    @field_validator("strata", mode="before")
    @classmethod
    def _none_strata(cls, v: Any) -> Any:
        return "none" if v is None else v

    # the keys as written (parsed YAML): which keys are hashed and logged, so that anyone who
    # reads the plan file gets the same plan_hash without knowing our defaults
    _raw: dict[str, Any] | None = PrivateAttr(default=None)

    def canonical(self) -> dict[str, Any]:
        """The plan as validated, keyed as written (or, built in code, its dump without unset keys)."""
        if self._raw is not None:
            return _as_validated(self, self._raw)
        return _integral(self.model_dump(mode="json", exclude_none=True))

    def plan_hash(self) -> str:
        return H(canonical_json(self.canonical()))


def _integral(value: Any) -> Any:
    """Integral floats as integers, recursively: the one spelling of a number in plan_hash."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def _as_validated(model: BaseModel, raw: dict[str, Any]) -> dict[str, Any]:
    """The keys of `raw`, each with the validated model's value (nested models alike)."""
    out: dict[str, Any] = {}
    for key, written in raw.items():
        value = getattr(model, key)
        if isinstance(value, BaseModel) and isinstance(written, dict):
            out[key] = _as_validated(value, written)
        elif isinstance(value, BaseModel):  # e.g. `risk_boost:` left empty
            out[key] = _integral(value.model_dump(mode="json", exclude_none=True))
        else:
            out[key] = _integral(json.loads(canonical_json(value)))
    return out


def boosted_k(k: int, multiplier: float) -> int:
    return math.ceil(Decimal(k) * Decimal(str(multiplier)))


def _format(source: str, err: ValidationError) -> str:
    lines = [f"{source}: invalid audit plan"]
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        lines.append(f"  {loc}: {e['msg']}")
    lines.append("  fix the key(s) above; see docs/rules.md for the plan format")
    return "\n".join(lines)


def parse_plan(data: Any, source: str = "<plan>") -> Plan:
    if not isinstance(data, dict):
        raise PlanError(f"{source}: an audit plan must be a YAML mapping (name, population, strata, …)",
                        [("", "not_mapping", {})])
    try:
        plan = Plan.model_validate(data)
    except ValidationError as err:
        problems = [(".".join(str(p) for p in e["loc"]), e["type"], {k: str(v) for k, v in (e.get("ctx") or {}).items()})
                    for e in err.errors()]
        raise PlanError(_format(source, err), problems) from None
    try:
        canonical_json(data)
    except (TypeError, ValueError) as exc:
        raise PlanError(f"{source}: the plan holds a value that is not plain text/number ({exc}); quote it") from None
    plan._raw = data
    return plan


def parse_plan_text(text: str, source: str = "<plan>") -> Plan:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise PlanError(f"{source}:{where}: not valid YAML ({getattr(exc, 'problem', exc)})",
                        [("", "yaml_syntax", {"line": str(mark.line + 1) if mark else "?"})]) from None
    return parse_plan(data, source)


def plan_yaml(plan: Plan) -> str:
    """The plan as YAML for the record: its canonical mapping, keys in the format's order, no
    comments. Reading it back gives the same plan_hash (a value YAML would read as another type
    is quoted by the dumper)."""
    data = plan.canonical()
    order = list(Plan.model_fields)
    ordered = {k: data[k] for k in sorted(data, key=lambda k: order.index(k) if k in order else len(order))}
    return yaml.safe_dump(ordered, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000)


def load_plan(path: str | Path) -> Plan:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the plan ({exc.strerror})") from None
    return parse_plan_text(text, str(path))
