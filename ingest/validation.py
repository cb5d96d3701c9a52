"""Row validation of a delivery: map, protect, parse and check every batch in polars.

A row that breaks the feed contract is quarantined under the first rule it fails (RULE_ORDER),
with its line, rule, a readable detail and its raw content (scrubbed of ID-card and phone
numbers); every other row is returned typed, in landing order.
"""

from __future__ import annotations

import re

import polars as pl

from core.feeds import QUARANTINE_RULES, Column, Feed
from ingest.delivery import CELL_PROBLEM, MAX_VALUE_BYTES, Delivery
from ingest.normalize import HeaderMap, Parsed, parse_column, recorded_at_default, shape, tcol, text, vcol
from ingest.privacy import SCRUB_PATTERNS, SCRUBBED, apply_privacy, scrub

# The order in which rules are tried; a row is quarantined under the first that fails.
RULE_ORDER = tuple(QUARANTINE_RULES)
ROW_RULES = ("missing_required", "unknown_enum", "bad_timestamp", "bad_value", "rating_out_of_range", "rating_direction_undeclared")

CLOCK_SKEW_SECONDS = 3600  # recorded_at may trail the event's own time by at most this
CONTROL_CHARS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"  # tab, LF and CR are text; the rest is binary


def _has_control_chars(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.String).str.contains(CONTROL_CHARS).fill_null(False)


def _too_long(name: str) -> pl.Expr:
    return (pl.col(name).cast(pl.String).str.len_bytes() > MAX_VALUE_BYTES).fill_null(False)


def _raw_json(cols: list[str]) -> pl.Expr:
    """The quarantined row as JSON; a value over the limit is cut (a 10 MB field stays 16 KB)."""
    cut = [pl.when(pl.col(c).str.len_bytes() > MAX_VALUE_BYTES)
           .then(pl.col(c).str.slice(0, 200) + pl.lit("…[cut: ") + pl.col(c).str.len_bytes().cast(pl.String) + pl.lit(" bytes]"))
           .otherwise(pl.col(c)).alias(c) for c in cols]
    return scrub_bounded(pl.struct(cut).struct.json_encode())


def scrub_bounded(text_expr: pl.Expr) -> pl.Expr:
    """ID-card/phone numbers typed into the wrong column (a phone as window_id) must not reach
    quarantine raw either. Bounded by non-alphanumerics so 20-digit case ids and hex hashes
    stay readable; two passes catch numbers separated by a single character."""
    for _ in range(2):
        for pattern in SCRUB_PATTERNS:
            text_expr = text_expr.str.replace_all(f"(^|[^0-9A-Za-z])(?:{pattern})($|[^0-9A-Za-z])", f"${{1}}{SCRUBBED}${{2}}")
    return text_expr


def printable(name: str, limit: int = 60) -> str:
    """A delivered header or value fit for a report: no control characters, no ID/phone."""
    name = re.sub(CONTROL_CHARS, "?", name)
    for pattern in SCRUB_PATTERNS:
        name = re.sub(pattern, SCRUBBED, name)
    return name if len(name) <= limit else name[:limit] + "…"


def printable_names(names: list[str], limit: int = 50) -> list[str]:
    out = [printable(n) for n in names[:limit]]
    if len(names) > limit:
        out.append(f"… and {len(names) - limit} more")
    return out


# ------------------------------------------------------------------ validation of one batch


def _failure_chain(pairs: list[tuple[str, pl.Expr, pl.Expr]]) -> tuple[pl.Expr, pl.Expr]:
    """(rule, failed, detail) in priority order -> (rule expr, detail expr) of the first failure."""
    if not pairs:
        return pl.lit(None, dtype=pl.String), pl.lit(None, dtype=pl.String)
    rule_expr = pl.when(pairs[0][1]).then(pl.lit(pairs[0][0]))
    detail_expr = pl.when(pairs[0][1]).then(pairs[0][2])
    for rule, failed, detail in pairs[1:]:
        rule_expr = rule_expr.when(failed).then(pl.lit(rule))
        detail_expr = detail_expr.when(failed).then(detail)
    return rule_expr.otherwise(None), detail_expr.otherwise(None)


def _quoted(value: pl.Expr) -> pl.Expr:
    """The offending value itself (ids, labels), scrubbed of ID/phone numbers and truncated."""
    s = scrub(value.cast(pl.String))
    s = pl.when(s.str.len_chars() > 40).then(s.str.slice(0, 40) + pl.lit("…")).otherwise(s)
    return pl.lit("'") + s + pl.lit("'")


_RULE_TEXT = {
    "unknown_enum": "is not a known value",
    "bad_timestamp": "is not an accepted timestamp format or lies outside 2000–2099",
    "bad_value": "cannot be parsed",
    "rating_out_of_range": "is not one of the five rating levels",
    "rating_direction_undeclared": "is a numeric rating but the source declares no rating_direction",
}


def _detail(rule: str, col: str, raw: pl.Expr) -> pl.Expr:
    if rule == "missing_required":
        return pl.lit(f"{col}: required value is empty")
    if rule in ("unknown_enum", "rating_out_of_range", "rating_direction_undeclared"):
        return pl.lit(f"{col}: ") + _quoted(raw) + pl.lit(" " + _RULE_TEXT[rule])
    return pl.lit(f"{col}: value shaped '") + shape(raw) + pl.lit("' " + _RULE_TEXT[rule])


def below_minimum(col: Column) -> pl.Expr | None:
    """The contract's lower bound of a number (Column.min_value, e.g. inspections.deduction ≥ 0, SPEC §3):
    a parsed value below it is a bad_value. None: the column has no bound."""
    if col.min_value is None:
        return None
    return (vcol(col.name) < col.min_value).fill_null(False)


def below_minimum_detail(col: Column) -> pl.Expr:
    return pl.lit(f"{col.name}: must be ≥ {col.min_value:g}, is ") + _quoted(pl.col(col.name))


class BatchValidator:
    """Maps, protects and parses the batches of one delivery (rules that need one row only)."""

    def __init__(self, feed: Feed, delivery: Delivery, headers: HeaderMap, references: dict[str, pl.Series], key: bytes | None):
        self.feed = feed
        self.delivery = delivery
        self.headers = headers
        self.references = references
        self.key = key
        self.parsed: dict[str, Parsed] = {}
        for col in feed.columns:
            if col.pii is None or col.pii == "scrub":
                self.parsed[col.name] = parse_column(col, delivery.options, stripped=True)
        # the stripped text of every column a parse or a rule reads: computed once per batch
        self.stripped = [c.name for c in feed.columns if c.name in self.parsed or (c.required and c.pii is None)]
        # a recorded_at before the event it records means a skewed clock: it would reorder updates
        self.skew = None
        if feed.time_column and "recorded_at" in self.parsed:
            self.skew = (vcol("recorded_at") < vcol(feed.time_column) - pl.duration(seconds=CLOCK_SKEW_SECONDS)).fill_null(False)
            rec = self.parsed["recorded_at"]
            rec.failures["bad_timestamp"] = rec.failures["bad_timestamp"] | self.skew
        # a number below its contract minimum is a bad value (below_minimum)
        self.below_min: dict[str, pl.Expr] = {}
        for col in feed.columns:
            below = below_minimum(col) if col.name in self.parsed else None
            if below is not None:
                self.below_min[col.name] = below
                num = self.parsed[col.name]
                num.failures["bad_value"] = num.failures["bad_value"] | below

    def text_frame(self, batch: pl.DataFrame) -> pl.DataFrame:
        """Contract-named text columns with PII hashed/dropped/scrubbed: safe to keep anywhere."""
        present = {src: dst for src, dst in self.headers.mapping.items() if src in batch.columns}
        frame = batch.select(pl.col("_line"), *[pl.col(src).cast(pl.String).alias(dst) for src, dst in present.items()])
        missing = [c.name for c in self.feed.columns if c.name not in frame.columns]
        frame = frame.with_columns([pl.lit(None, dtype=pl.String).alias(c) for c in missing])
        frame = frame.select("_line", *[c.name for c in self.feed.columns])  # contract order in `raw`
        return apply_privacy(frame, self.feed, self.key)

    def validate(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """-> (good rows typed in landing order + `_line`, bad rows as quarantine text columns).

        Three flat steps (values, failure flags, first failure) keep each polars plan small."""
        feed = self.feed
        t = self.text_frame(batch)
        safe_cols = [c for c in t.columns if c != "_line"]
        cells = CELL_PROBLEM in batch.columns  # cells the source could not read as delivered (an XLSX formula without its value)
        if cells:
            t = t.with_columns(batch[CELL_PROBLEM].cast(pl.String))
        t = (t.lazy().with_columns(*[text(name).alias(f"__t_{name}") for name in self.stripped])
             .with_columns(*[p.value.alias(f"__v_{name}") for name, p in self.parsed.items()]).collect())
        # Fast path (performance, docs/scaling.md): one "row is bad" predicate over the whole batch, with a single
        # control-character scan of all text columns joined (tab is allowed text, so it cannot
        # create a match) instead of a regex per column; the per-rule flags and the first
        # failing rule are computed for the (few) bad rows only.
        text_cols = list(self.parsed)
        row_bad = [failed for _, _, failed in self._checks(hostile_text=False, cells=cells)]
        if text_cols:
            row_bad += [_too_long(c) for c in text_cols]
            if not getattr(self.delivery, "control_free", False):  # a CSV without control bytes cannot hold one (files.CONTROL_BYTES)
                joined = pl.concat_str([pl.col(c).cast(pl.String) for c in text_cols], separator="\t", ignore_nulls=True)
                row_bad.append(joined.str.contains(CONTROL_CHARS).fill_null(False))
        # lazy: common subexpressions (a column's stripped text, used by several rules) are computed once
        t = t.lazy().with_columns((pl.any_horizontal(*row_bad) if row_bad else pl.lit(False)).fill_null(False).alias("__bad")).collect()
        typed = []
        default = recorded_at_default(feed)
        for col in feed.columns:
            if col.pii == "drop":
                continue
            if col.pii == "hash":
                typed.append(pl.col(f"{col.name}_hmac"))
            elif col.name == "recorded_at" and default is not None:
                typed.append(pl.coalesce(vcol("recorded_at"), default).alias("recorded_at"))  # only good rows: a bad recorded_at stays bad
            else:
                typed.append(vcol(col.name).alias(col.name))
        good = t.filter(~pl.col("__bad")).select(pl.col("_line"), *typed)
        t = t.filter(pl.col("__bad"))
        if not t.height:
            return good, pl.DataFrame(schema={"line": pl.Int64, "rule": pl.String, "detail": pl.String, "raw": pl.String})
        checks = self._checks(hostile_text=True, cells=cells)
        t = t.with_columns([failed.alias(f"__f{i}") for i, (_, _, failed) in enumerate(checks)])
        pairs = [(rule, pl.col(f"__f{i}"), self._detail(rule, name)) for i, (rule, name, _) in enumerate(checks)]
        rule_expr, detail_expr = _failure_chain(pairs)
        t = t.with_columns(rule_expr.alias("_rule"))
        if default is not None and "recorded_at" in feed.by_name:  # as before the fast path: details see the filled-in value
            t = t.with_columns(pl.coalesce(vcol("recorded_at"), default).alias("__v_recorded_at"))
        bad = t.filter(pl.col("_rule").is_not_null()).select(
            pl.col("_line").alias("line"),
            pl.col("_rule").alias("rule"),
            detail_expr.alias("detail"),
            _raw_json(safe_cols).alias("raw"),
        )
        if bad.height != t.height:  # the fast predicate and the rules must agree row for row
            raise RuntimeError(f"{self.delivery.source}: {t.height - bad.height} rows flagged bad match no rule (ingest bug)")
        return good, bad

    def _checks(self, hostile_text: bool, cells: bool = False) -> list[tuple[str, str, pl.Expr]]:
        """(rule, column, failed) in the order rules are tried. hostile_text: bad_value also
        covers NUL/control characters and over-long values per column (docs/architecture.md#failures-and-hostile-input).
        cells: the batch has CELL_PROBLEM, tried first: a cell the source could not read is why
        the row's value is missing, whatever rule would see it missing."""
        feed = self.feed
        checks: list[tuple[str, str, pl.Expr]] = []
        if cells:
            checks.append(("bad_value", CELL_PROBLEM, pl.col(CELL_PROBLEM).is_not_null()))
        for rule in ROW_RULES:
            for col in feed.columns:
                if rule == "missing_required":
                    if col.required:
                        checks.append((rule, col.name, (tcol(col.name) if col.name in self.stripped else text(col.name)).is_null()))
                    continue
                parsed = self.parsed.get(col.name)
                if parsed is None:
                    continue
                failed = parsed.failures.get(rule)
                if rule == "bad_value" and hostile_text:
                    bad_text = _has_control_chars(col.name) | _too_long(col.name)
                    failed = bad_text if failed is None else failed | bad_text
                if failed is not None:
                    checks.append((rule, col.name, failed.fill_null(False)))
        for col in feed.columns:
            if col.references and col.references in self.references:
                known = self.references[col.references].implode()
                checks.append(("unknown_reference", col.name, vcol(col.name).is_not_null() & ~vcol(col.name).is_in(known)))
        return checks

    def _detail(self, rule: str, name: str) -> pl.Expr:
        if name == CELL_PROBLEM:
            return pl.col(CELL_PROBLEM)
        if rule == "bad_value" and name in self.parsed:
            otherwise = _detail(rule, name, pl.col(name))
            if name in self.below_min:
                otherwise = pl.when(self.below_min[name]).then(below_minimum_detail(self.feed.by_name[name])).otherwise(otherwise)
            return (pl.when(_has_control_chars(name)).then(pl.lit(f"{name}: holds control characters (NUL or other binary bytes)"))
                    .when(_too_long(name)).then(pl.lit(f"{name}: value is ") + pl.col(name).str.len_bytes().cast(pl.String)
                                                + pl.lit(f" bytes, over the {MAX_VALUE_BYTES}-byte limit"))
                    .otherwise(otherwise))
        if rule == "bad_timestamp" and name == "recorded_at" and self.skew is not None:
            return pl.when(self.skew).then(pl.lit(
                f"recorded_at: more than {CLOCK_SKEW_SECONDS // 3600} h before {self.feed.time_column} (a skewed clock?); fix the source's clock or the value"
            )).otherwise(_detail(rule, name, pl.col(name)))
        if rule == "unknown_reference":
            ref = self.feed.by_name[name].references
            return pl.lit(f"{name}: ") + _quoted(pl.col(name)) + pl.lit(f" is not in any {ref} delivery")
        return _detail(rule, name, pl.col(name))

    def missing_column_rows(self, batch: pl.DataFrame) -> pl.DataFrame:
        t = self.text_frame(batch)
        safe_cols = [c for c in t.columns if c != "_line"]
        detail = f"the file lacks required column(s) {', '.join(self.headers.missing_required)}; add the column or a column_mapping"
        return t.select(
            pl.col("_line").alias("line"),
            pl.lit("missing_column").alias("rule"),
            pl.lit(detail).alias("detail"),
            _raw_json(safe_cols).alias("raw"),
        )

