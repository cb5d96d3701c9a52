"""Configuration: the sources file and the scoring file, validated on load.

An invalid file fails at start-up with the key and what is wrong (ConfigError).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.feeds import FEEDS
from core.paths import REPO_ROOT
from core.settings import settings

CONFIG_DIR = Path(__file__).resolve().parent
DEFAULT_SCORING = CONFIG_DIR / "scoring.yaml"
DEFAULT_SOURCES = REPO_ROOT / "windowwatch.yaml"


class ConfigError(ValueError):
    """A configuration file is invalid; the message names the file and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- sources

RatingDirection = Literal["five_is_best", "one_is_best"]


class SourceOptions(_Strict):
    encoding: str | None = None  # override CSV encoding detection (utf-8, gbk, gb18030)
    # files: a larger file is refused by name (the rest still lands); split it or raise this
    max_delivery_bytes: int = Field(1 << 30, gt=0)
    # per feed: {source column: contract column}; files sources key it by feed name
    column_mapping: dict[str, dict[str, str]] = Field(default_factory=dict)
    # files: per feed, the XLSX sheets to read (default: every sheet of a workbook, each a delivery)
    sheets: dict[str, list[str]] = Field(default_factory=dict)
    # numeric ratings are accepted only when this is declared (the feed contract, core/feeds.py)
    rating_direction: RatingDirection | None = None
    watermark_column: str | None = None  # sql: incremental column
    page_size: int = Field(500, gt=0, le=100_000)  # http
    since_param: str = "since"  # http: name of the incremental query parameter
    max_retries: int = Field(5, ge=0, le=20)  # http
    backoff_seconds: float = Field(0.5, ge=0, le=60)  # http: first back-off, doubled each retry
    timeout_seconds: float = Field(30, gt=0, le=600)  # http

    @model_validator(mode="after")
    def _mapping_targets_exist(self) -> "SourceOptions":
        for feed, mapping in self.column_mapping.items():
            if feed not in FEEDS:
                raise ValueError(f"column_mapping: unknown feed {feed!r} (known: {', '.join(FEEDS)})")
            for src, dst in mapping.items():
                if dst not in FEEDS[feed].by_name:
                    raise ValueError(f"column_mapping.{feed}.{src}: {dst!r} is not a column of {feed}")
        for feed, names in self.sheets.items():
            if feed not in FEEDS:
                raise ValueError(f"sheets: unknown feed {feed!r} (known: {', '.join(FEEDS)})")
            if not names:
                raise ValueError(f"sheets.{feed}: name at least one sheet, or leave the feed out to read every sheet")
        return self


class Source(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["files", "sql", "http"]
    feed: str | None = None  # sql/http: the feed they deliver; files: one folder per feed
    path: str | None = None  # files: the inbox (default: --feeds of the run)
    url: str | None = None  # sql: SQLAlchemy URL (may be ${ENV_VAR}); http: base URL
    query: str | None = None  # sql: SELECT; the watermark filter is added by the connector
    options: SourceOptions = Field(default_factory=SourceOptions)

    @model_validator(mode="after")
    def _kind_fields(self) -> "Source":
        if self.kind in ("sql", "http"):
            if not self.feed:
                raise ValueError(f"a {self.kind} source needs 'feed'")
            if not self.url:
                raise ValueError(f"a {self.kind} source needs 'url'")
        if self.kind == "sql" and not self.query:
            raise ValueError("a sql source needs 'query'")
        if self.feed is not None and self.feed not in FEEDS:
            raise ValueError(f"feed: unknown feed {self.feed!r} (known: {', '.join(FEEDS)})")
        return self


class ReportOptions(_Strict):
    """The monthly report's 落款 (docs/configuration.md): the office that issues the 通报; the
    date beside it is the publication's. Unset: the centre's name from the published snapshot."""
    issuing_office: str | None = Field(None, min_length=1, max_length=60)
    issuing_office_en: str | None = Field(None, min_length=1, max_length=120)  # the English rendering's


class SourcesFile(_Strict):
    sources: list[Source]
    report: ReportOptions = Field(default_factory=ReportOptions)

    @model_validator(mode="after")
    def _unique_names(self) -> "SourcesFile":
        seen: set[str] = set()
        for s in self.sources:
            if s.name in seen:
                raise ValueError(f"duplicate source name {s.name!r}")
            seen.add(s.name)
        return self


def _expand_env(value: Any) -> Any:
    if isinstance(value, str):
        return os.path.expandvars(value)
    if isinstance(value, dict):
        return {k: _expand_env(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v) for v in value]
    return value


def _format_errors(path: Path, err: ValidationError) -> str:
    lines = [f"{path}: invalid configuration"]
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        lines.append(f"  {loc}: {e['msg']}")
    return "\n".join(lines)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration ({exc.strerror})") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc


def load_sources(path: str | Path | None = None) -> SourcesFile:
    path = Path(path or settings().sources or DEFAULT_SOURCES)
    raw = _expand_env(_read_yaml(path))
    try:
        return SourcesFile.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_errors(path, err)) from None


# ---------------------------------------------------------------- scoring


PauseReason = Literal[
    "hearing", "tender", "auction", "inspection", "testing", "quarantine", "appraisal", "expert_review", "survey", "other"
]


class Timeliness(_Strict):
    yellow_workdays: int = Field(ge=0, le=30)
    # legal compliance of the clock (docs/rules.md#timeliness-signals)
    supplement_notice_workdays: int = Field(5, ge=0, le=60)
    pause_reasons_allowed: list[PauseReason] = Field(
        default_factory=lambda: ["hearing", "tender", "auction", "inspection", "testing", "quarantine",
                                 "appraisal", "expert_review", "survey"])
    pause_without_reason: Literal["count", "ignore"] = "count"
    max_extension_days: int = Field(10, ge=0, le=365)
    deliver_limit_workdays: int = Field(10, ge=0, le=365)


class HoursRange(_Strict):
    open: str = Field(pattern=r"^\d{2}:\d{2}:\d{2}$")
    close: str = Field(pattern=r"^\d{2}:\d{2}:\d{2}$")


class DefaultHallHours(_Strict):
    workday: HoursRange | None
    non_workday: HoursRange | None


class OffBook(_Strict):
    backfill_hours: float = Field(gt=0)
    instant_minutes: float = Field(gt=0)
    instant_min_promised_limit: int = Field(ge=0)
    volume_gap_ratio: float = Field(gt=1)
    default_hall_hours: DefaultHallHours
    reaccept_days: int = Field(10, ge=0, le=365)
    handover_minutes: int = Field(60, gt=0, le=24 * 60)


class Satisfaction(_Strict):
    prior_weight: float = Field(ge=0)
    rectify_workdays: int = Field(ge=1, le=60)
    # v2 (SPEC §4.4, docs/rules.md#verification, #callback): 核实 within N working days of the
    # evaluation day; 回访 of a real-name bad review within N working days of its rectification
    verify_workdays: int = Field(3, ge=1, le=60)
    callback_workdays: int = Field(5, ge=1, le=60)
    # the marts gate stops a run in which a centre's satisfaction rate moves by more than this from
    # one month to the next (expectations/marts.py): a rating direction declared the wrong way round
    max_satisfaction_swing: float = Field(0.30, gt=0, le=1)


class RatingIntegrity(_Strict):
    """评价真实性 signals (SPEC §4.9, docs/rules.md#rating-integrity); dbt vars of the same names."""
    ri_burst_count: int = Field(5, ge=2, le=1000)
    ri_burst_minutes: int = Field(3, gt=0, le=24 * 60)
    ri_service_minutes: int = Field(30, gt=0, le=24 * 60)
    ri_min_ratings: int = Field(50, ge=1)
    ri_p_value: float = Field(0.001, gt=0, lt=1)
    deduct_rating_signal: float = Field(0, ge=0)  # points per signal (§4.6); 0 = shown, not scored


class Hall(_Strict):
    """Hall operations (SPEC §4.10, docs/rules.md#hall-operations) and their deductions (§4.6, 扣分);
    dbt vars of the same names. With none of the optional hall feeds delivered nothing is deducted."""
    late_grace_minutes: int = Field(5, ge=0, le=240)  # sign-in after open + this: late; sign-out before close - this: early leave
    deduct_absent_day: float = Field(3, ge=0)  # points per absent window-day
    deduct_late: float = Field(0.5, ge=0)  # points per late arrival or early leave
    deduct_substantiated_complaint: float = Field(2, ge=0)  # points per substantiated complaint work order
    queue_add_p90_minutes: float = Field(30, gt=0)  # 窗口动态增减: +1 when p90 wait > this
    queue_merge_per_hour: float = Field(2, gt=0)  # -1 when served per open window-hour < this ...
    queue_merge_p90_minutes: float = Field(10, gt=0)  # ... and p90 wait < this (and > 1 window serves it)
    spot_checks_per_day: int = Field(3, ge=0, le=100)  # 一日三查: video_spot inspections per centre and working day


class Weights(_Strict):
    T: float = Field(ge=0)
    S: float = Field(ge=0)
    D: float = Field(ge=0)
    I: float = Field(ge=0)
    R: float = Field(ge=0)

    @model_validator(mode="after")
    def _sum_to_one(self) -> "Weights":
        total = self.T + self.S + self.D + self.I + self.R
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"weights must sum to 1.0 (they sum to {total})")
        return self


class Score(_Strict):
    weights: Weights
    discipline_penalty_per_flag: float = Field(ge=0)
    off_book_penalty: float = Field(ge=0)
    min_completed_cases: int = Field(ge=0)
    stars: list[float] = Field(min_length=4, max_length=4)
    red_flag_share: float = Field(gt=0, le=1)
    red_flag_min_stars: int = Field(ge=1, le=5)
    bottom_share: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _stars_descending(self) -> "Score":
        if self.stars != sorted(self.stars, reverse=True):
            raise ValueError("stars thresholds must be descending (five stars first)")
        return self


class SupervisionTriggers(_Strict):
    """Which published signals open a supervision item (督办, docs/rules.md#supervision-督办)."""
    red_card: bool = True
    legal_overdue: bool = True
    off_book: bool = True
    timeliness: bool = True
    bad_review_late: bool = True
    video_flag: bool = True
    rating_integrity: bool = True  # a 评价真实性 signal (fct_rating_signal)
    substantiated_complaint: bool = True  # a substantiated 12345 / 办不成事 complaint (fct_work_order)


class Supervision(_Strict):
    ack_workdays: int = Field(2, ge=1, le=60)  # reply-by = notified + N working days (回告)
    fix_workdays: int = Field(5, ge=1, le=120)  # rectified by notified + N working days (整改), else escalated
    deduct_late_ack: float = Field(1, ge=0)  # points per item acknowledged after its reply-by date, or not by month end (§4.6)
    triggers: SupervisionTriggers = Field(default_factory=SupervisionTriggers)


class Scoring(_Strict):
    version: int
    timeliness: Timeliness
    off_book: OffBook
    satisfaction: Satisfaction
    rating_integrity: RatingIntegrity = Field(default_factory=RatingIntegrity)
    hall: Hall = Field(default_factory=Hall)
    score: Score
    supervision: Supervision = Field(default_factory=Supervision)

    def dbt_vars(self) -> dict[str, Any]:
        """Flat vars for dbt (`--vars`); names are the dbt var names used in the models."""
        s = self.score
        hh = self.off_book.default_hall_hours
        return {
            "yellow_workdays": self.timeliness.yellow_workdays,
            "supplement_notice_workdays": self.timeliness.supplement_notice_workdays,
            "pause_reasons_allowed": list(self.timeliness.pause_reasons_allowed),
            "pause_without_reason": self.timeliness.pause_without_reason,
            "max_extension_days": self.timeliness.max_extension_days,
            "deliver_limit_workdays": self.timeliness.deliver_limit_workdays,
            "backfill_hours": self.off_book.backfill_hours,
            "instant_minutes": self.off_book.instant_minutes,
            "instant_min_promised_limit": self.off_book.instant_min_promised_limit,
            "volume_gap_ratio": self.off_book.volume_gap_ratio,
            "reaccept_days": self.off_book.reaccept_days,
            "handover_minutes": self.off_book.handover_minutes,
            "default_workday_open": hh.workday.open if hh.workday else None,
            "default_workday_close": hh.workday.close if hh.workday else None,
            "default_non_workday_open": hh.non_workday.open if hh.non_workday else None,
            "default_non_workday_close": hh.non_workday.close if hh.non_workday else None,
            "prior_weight": self.satisfaction.prior_weight,
            "rectify_workdays": self.satisfaction.rectify_workdays,
            "verify_workdays": self.satisfaction.verify_workdays,
            "callback_workdays": self.satisfaction.callback_workdays,
            "ri_burst_count": self.rating_integrity.ri_burst_count,
            "ri_burst_minutes": self.rating_integrity.ri_burst_minutes,
            "ri_service_minutes": self.rating_integrity.ri_service_minutes,
            "ri_min_ratings": self.rating_integrity.ri_min_ratings,
            "ri_p_value": self.rating_integrity.ri_p_value,
            "deduct_rating_signal": self.rating_integrity.deduct_rating_signal,
            **self.hall.model_dump(),
            "deduct_late_ack": self.supervision.deduct_late_ack,
            "weight_t": s.weights.T,
            "weight_s": s.weights.S,
            "weight_d": s.weights.D,
            "weight_i": s.weights.I,
            "weight_r": s.weights.R,
            "discipline_penalty_per_flag": s.discipline_penalty_per_flag,
            "off_book_penalty": s.off_book_penalty,
            "min_completed_cases": s.min_completed_cases,
            "star5_min": s.stars[0],
            "star4_min": s.stars[1],
            "star3_min": s.stars[2],
            "star2_min": s.stars[3],
            "red_flag_share": s.red_flag_share,
            "red_flag_min_stars": s.red_flag_min_stars,
            "bottom_share": s.bottom_share,
        }

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def content_hash(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


def load_scoring(path: str | Path | None = None) -> Scoring:
    path = Path(path or settings().scoring or DEFAULT_SCORING)
    raw = _read_yaml(path)
    try:
        return Scoring.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_errors(path, err)) from None
