"""Dashboard building blocks: message catalogues, no hard-coded UI text, exports, PII masking."""

from __future__ import annotations

import ast
import io
import re

import openpyxl
import pandas as pd

from windowwatch import spreadsheets
from dashboards.common import mask_pii
from dashboards.i18n import LANGS, catalogue
from core.paths import REPO_ROOT

DASH = REPO_ROOT / "dashboards"
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _used_keys() -> set[str]:
    keys: set[str] = set()
    for path in DASH.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "t" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    keys.add(arg.value)
    return keys


def test_every_used_key_is_in_both_catalogues():
    used = _used_keys()
    assert len(used) > 100
    for lang in LANGS:
        missing = sorted(used - set(catalogue(lang)))
        assert not missing, f"{lang}: missing {missing}"


def test_catalogues_have_the_same_keys_and_placeholders():
    zh, en = catalogue("zh"), catalogue("en")
    assert set(zh) == set(en)
    for key in zh:
        assert set(PLACEHOLDER.findall(zh[key])) == set(PLACEHOLDER.findall(en[key])), key


def test_dynamic_keys_exist():
    """Keys built at run time (navigation, roles, enum labels) are in the catalogue."""
    from core.feeds import EVENT_TYPES, FLAG_TYPES, REASON_CODES

    zh = catalogue("zh")
    app = (DASH / "app.py").read_text(encoding="utf-8")
    pages = re.findall(r'\("(\w+)", "\w+\.py"', app)
    assert len(pages) == 14
    expected = [f"nav.{p}" for p in pages] + [f"role.{r}" for r in ("inspector", "auditor", "viewer")]
    expected += [f"enum.event.{e}" for e in EVENT_TYPES] + [f"enum.flag.{f}" for f in FLAG_TYPES]
    expected += [f"enum.reason.{r}" for r in REASON_CODES] + [f"enum.rating.{i}" for i in range(1, 6)]
    expected += [f"enum.rule.{r}" for r in ("OB_BACKFILL", "OB_INSTANT", "OB_OFF_HOURS", "OB_HANDOVER",
                                            "OB_RUNAROUND", "OB_VOLUME_GAP")]
    from windowwatch.supervision.model import ACTION_ZH, CLOSE_REASONS, KINDS, STATE_ZH

    expected += [f"enum.sup_state.{s}" for s in STATE_ZH] + [f"enum.sup_action.{a}" for a in ACTION_ZH]
    expected += [f"enum.sup_reason.{r}" for r in CLOSE_REASONS] + [f"enum.sup_kind.{k}" for k in KINDS]
    from core.feeds import FEEDS

    # the hall pages' enum labels (SPEC v2 §3 work_orders, inspections; §4.6 deduction sources)
    expected += [f"enum.wo_channel.{v}" for v in FEEDS["work_orders"].by_name["channel"].enum]
    expected += [f"enum.wo_category.{v}" for v in FEEDS["work_orders"].by_name["category"].enum]
    expected += [f"enum.inspection_method.{v}" for v in FEEDS["inspections"].by_name["method"].enum]
    expected += [f"enum.inspection_finding.{v}" for v in FEEDS["inspections"].by_name["finding"].enum]
    expected += [f"enum.deduction_source.{v}" for v in ("rating_signal", "absent_day", "late", "complaint",
                                                        "inspection", "late_ack")]
    expected += [f"sup.pdf.{k}" for k in ("notice", "warning")] + [f"sup.note_hint.{r}" for r in ("inspector", "department")]
    assert not [k for k in expected if k not in zh]
    assert all(zh[f"enum.sup_state.{s}"] == STATE_ZH[s] for s in STATE_ZH)  # the page says what the store says


UI_CALLS = {"title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success", "metric",
            "button", "selectbox", "multiselect", "text_input", "toggle", "radio", "download_button", "page_link",
            "expander", "write"}


def test_pages_hold_no_hard_coded_ui_text():
    offenders = []
    for path in [DASH / "app.py", DASH / "auth.py", DASH / "case_view.py", *(DASH / "app_pages").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in UI_CALLS:
                for arg in node.args[:1]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and re.search(
                            r"[A-Za-z\u4e00-\u9fff]{2}", arg.value) and not arg.value.startswith("app_pages/"):
                        offenders.append(f"{path.name}:{node.lineno}: {arg.value!r}")
    # the language switch's own label is bilingual on purpose
    offenders = [o for o in offenders if "语言 / Language" not in o]
    assert not offenders, offenders


def test_export_neutralises_formula_injection():
    df = pd.DataFrame({"case_id": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "ok", "a=b"],
                       "n": [1, 2, 3, 4, 5, 6, 7, 8]})
    csv = spreadsheets.csv_bytes(df).decode("utf-8-sig")
    lines = csv.splitlines()
    assert lines[1].startswith("\"'=HYPERLINK") or lines[1].startswith("'=HYPERLINK")
    for cell in ("'+1", "'-2", "'@SUM(A1)"):
        assert cell in csv
    assert "\nok," in csv and "\na=b," in csv
    wb = openpyxl.load_workbook(io.BytesIO(spreadsheets.xlsx_bytes({"data": df})))
    ws = wb.active
    values = [ws.cell(row=i, column=1).value for i in range(2, 10)]
    assert values[:4] == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)"]
    assert values[6:] == ["ok", "a=b"]
    assert all(ws.cell(row=i, column=1).data_type != "f" for i in range(2, 10))  # no formula cells
    assert ws.cell(row=2, column=2).value == 1  # numbers stay numbers


def test_mask_pii():
    assert mask_pii("回电 13912345678 谢谢") == "回电 139****5678 谢谢"
    assert mask_pii("身份证 11010519491231002X") == "身份证 110105********X"
    assert mask_pii("座机 010-12345678") == "座机 010-********"
    assert mask_pii("办件 CASE00012 用时 20 分钟") == "办件 CASE00012 用时 20 分钟"
    assert mask_pii(None) == ""


def test_no_applicant_data_and_no_raw_quarantine_content_is_queried():
    sql = (DASH / "queries.py").read_text(encoding="utf-8").lower()
    assert "applicant" not in sql
    assert "c.*" not in sql.replace("select c.*, w.window_name", "")  # the one c.* is fct_case (no PII columns)
    quarantine_selects = re.findall(r"select[^\"]*?from marts\.fct_quarantine", sql)
    assert quarantine_selects and not [q for q in quarantine_selects if re.search(r"\braw\b", q)]


def test_every_user_value_is_a_bound_parameter():
    """No f-string interpolates anything but SQL built from fixed fragments (conditions, placeholders)."""
    src = (DASH / "queries.py").read_text(encoding="utf-8")
    # the hall pages' queries (SPEC v2 §4.10, §4.12): table aliases and mart names from the fixed HALL_MARTS
    src += "\n" + (DASH / "hall_queries.py").read_text(encoding="utf-8")
    tree = ast.parse(src)
    allowed = {"cond", "extra", "scope", "_WORKDAY_INDEX", "_signal_scope", "join", "w", "sql", "table", "window_col"}
    # the month's department (finding 5): table aliases and fixed SQL fragments
    allowed |= {"m", "alias", "current", "then", "month_department_name", "path"}
    # a case's department then (issue 19): the date a row is about and the name's SQL, fixed expressions
    allowed |= {"on", "department_name"}
    # an evaluation's / flag's / department-month's department then (issue 19 leftovers): fixed SQL fragments
    allowed |= {"window", "day", "department", "department_name_on"}
    # snapshots published before SPEC v2 §4.6: fixed defaults for the columns they lack
    allowed |= {"v2_scoring_columns", "V2_SCORING_COLUMNS", "c", "v2"}
    # the 好差评 backlog stages: fragments looked up in the fixed BACKLOG_STAGES table
    allowed |= {"needs", "deadline", "still_open"}
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    names = {n.id for n in ast.walk(part.value) if isinstance(n, ast.Name)}
                    names |= {n.attr for n in ast.walk(part.value) if isinstance(n, ast.Attribute)}
                    assert names <= allowed | {"col", "value", "_", "cards", "wd", "s", "params"}, (node.lineno, names)


def test_quarantine_and_flag_source_codes_have_names():
    """The overview's quarantine table and the video tables name feeds, quarantine rules and flag sources
    through the catalogue (issue 19: no `transactions` / `unknown_enum` / `ai` in the Chinese interface)."""
    from core.feeds import FEEDS, QUARANTINE_RULES

    for lang in LANGS:
        keys = set(catalogue(lang))
        wanted = {f"enum.feed.{f}" for f in FEEDS} | {f"enum.quarantine_rule.{r}" for r in QUARANTINE_RULES}
        wanted |= {"enum.flag_source.ai", "enum.flag_source.inspector"}
        assert not wanted - keys, (lang, sorted(wanted - keys))
