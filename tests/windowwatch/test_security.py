"""Security (issue 8): no raw ID-card or phone number in anything a run produces (landing,
quarantine, warehouse, published snapshot, dbt/GE/Airflow logs, reports, audit log and exports,
dashboard exports); SQL-injection strings in CLI arguments, audit plan filters and every
dashboard filter and free-text widget are harmless; no secret in the repository; a dependency
vulnerability audit. Who may see and do what is in tests/dashboards/test_access_matrix.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.support.hostile_corpus import pii_hits
from tests.support.security import produce_outputs, scan_everything, screen_text, session
from core.paths import REPO_ROOT, Home

INJECTIONS = [
    "'; DROP TABLE marts.fct_case; --",
    "1' OR '1'='1",
    "\"); COPY (SELECT 42) TO '/tmp/ww_pwned.csv'; --",
    "2025-10'; ATTACH '/tmp/ww_pwned.duckdb' AS x; --",
    "$(touch /tmp/ww_pwned_shell)",
]
PWNED = [Path("/tmp/ww_pwned.csv"), Path("/tmp/ww_pwned.duckdb"), Path("/tmp/ww_pwned_shell")]


def raw_pii_values(inbox: Path) -> set[str]:
    """The applicant ids and phones exactly as the generator delivered them."""
    values: set[str] = set()
    for p in (inbox / "transactions").iterdir():
        if p.suffix == ".csv":
            df = pl.read_csv(p, infer_schema=False, encoding="utf8-lossy")
        elif p.suffix == ".parquet":
            df = pl.read_parquet(p)
        else:
            continue
        for col in ("applicant_id", "applicant_phone", "申请人证件号码", "申请人联系电话"):
            if col in df.columns:
                values |= {v for v in df[col].cast(pl.String).drop_nulls().to_list() if len(v) >= 11}
    return values


@pytest.fixture(scope="module")
def small_home(tmp_path_factory):
    """`windowwatch generate --scale small`, then ingest with the default sources file."""
    from ingest.run import format_report, ingest_all
    from windowwatch.generate.dataset import generate

    root = tmp_path_factory.mktemp("security")
    inbox = root / "feeds"
    generate(inbox, scale="small", seed=5, progress=False)
    home = root / "home"
    home.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WINDOWWATCH_PII_KEY", "security-test-key")
        report = ingest_all(Home(home), None, inbox)
    return {"root": root, "inbox": inbox, "home": home, "printed": format_report(report), "report": report}


def test_generated_data_holds_pii_to_look_for(small_home):
    """Guard: the scan below is only meaningful if the input really had ID/phone numbers."""
    raw = raw_pii_values(small_home["inbox"])
    assert len(raw) > 100
    assert pii_hits(small_home["inbox"] / "transactions", skip=lambda p: p.suffix != ".csv")[:1], "the generated inbox should contain raw PII"


def test_no_raw_id_or_phone_anywhere_under_home_after_ingest(small_home):
    home = small_home["home"]
    kinds = {p.relative_to(home).parts[0] for p in home.rglob("*") if p.is_file()}
    assert {"landing", "quarantine", "runs"} <= kinds  # landing, quarantine, ledger and run summaries are all scanned
    hits = pii_hits(home, raw_pii_values(small_home["inbox"]))
    assert hits == [], hits[:10]
    printed = small_home["printed"]
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)|(?<!\d)\d{17}[\dXx](?!\d)", printed)


def _cli(argv: list[str], stdin: str | None = None, monkeypatch=None) -> tuple[int, str]:
    """windowwatch.cli.main in-process: (exit code, stdout+stderr). argparse errors exit 2."""
    from windowwatch.cli import main

    out = io.StringIO()
    if stdin is not None and monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue()


def _tree_digest(home: Path) -> dict[str, bytes]:
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file() and "runs" not in p.parts}


@pytest.mark.parametrize("payload", INJECTIONS)
def test_sql_injection_in_cli_arguments_is_harmless(small_home, payload, monkeypatch, tmp_path):
    home = small_home["home"]
    monkeypatch.setenv("WINDOWWATCH_HOME", str(home))
    monkeypatch.setenv("WINDOWWATCH_PII_KEY", "security-test-key")
    before = _tree_digest(home)
    # argument types reject it before any code runs
    for argv in (["run", "--as-of", payload], ["report", "publish", "--month", payload]):
        code, out = _cli(argv)
        assert code == 2 and "is not a" in out, (argv, out)
    # commands that take free text: a clean error, never a traceback, never a side effect
    cases = [
        ["ingest", "--feeds", str(small_home["inbox"]), "--source", payload],
        ["audit", "verify", payload],
        ["audit", "findings", "add", "--draw", payload, "--case", payload, "--inspectors", payload, "--note", payload],
        ["audit", "findings", "list", "--draw", payload],
        ["audit", "export", "--draw", payload, "--format", "csv", "--out", str(tmp_path / "x.csv")],
    ]
    for argv in cases:
        code, out = _cli(argv)
        assert "Traceback" not in out, out
        if argv[:3] == ["audit", "findings", "list"]:
            assert code == 0 and out.strip() == "0 finding(s)", (argv, out)  # a filter that matches nothing
        else:
            assert code != 0, (argv, out)
    # the stores are untouched (the audit log may be created empty, nothing else changes)
    after = _tree_digest(home)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k) and not k.startswith("audit"))
    assert changed == [], changed
    assert not any(p.exists() for p in PWNED)


def test_injection_as_an_account_name_is_stored_literally(tmp_path, monkeypatch):
    monkeypatch.setenv("WINDOWWATCH_HOME", str(tmp_path))
    payload = INJECTIONS[0]
    code, out = _cli(["users", "add", payload, "--role", "viewer", "--password-stdin"], stdin="correct horse battery staple\n",
                     monkeypatch=monkeypatch)
    assert "Traceback" not in out
    accounts = tmp_path / "accounts.yaml"
    if code == 0:  # accepted: kept as data, the file still parses and holds that one name
        import yaml

        data = yaml.safe_load(accounts.read_text(encoding="utf-8"))
        assert payload in json.dumps(data, ensure_ascii=False)
    else:  # rejected by name validation: nothing written
        assert not accounts.exists() or payload not in accounts.read_text(encoding="utf-8")
    assert not any(p.exists() for p in PWNED)


# ---------------------------------------------------------------- secrets in the repository

SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA |PGP )?PRIVATE KEY-----"),
    "aws access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "github token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "slack token": re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{10,}"),
    "url with password": re.compile(r"\b[a-z][a-z0-9+]*://[^/\s:@'\"]+:([^@\s'\"{}$<>]{4,})@"),
    "assigned secret": re.compile(r"(?i)\b(password|passwd|secret|api_?key|access_?token|pii_key)\b[\"']?\s*[:=]\s*[\"']([^\"'\s]{8,})[\"']"),
}
# values that are obviously not secrets (test fixtures, placeholders)
# (and "<role>-pass-123": the tests' convention for passwords of throwaway accounts in a tmp home)
PLACEHOLDER = re.compile(r"(?i)test|example|dummy|changeme|not[-_]?secret|placeholder|fake|xxx|\$\{|<|secret-for|demo|wrong|correct|^password$|^[a-z]+-pass-\d{3}$")
# fake credentials that tests feed in on purpose, to check they are scrubbed from error messages
ALLOWED_FILES = {
    "tests/ingest/sources/test_http.py": "fake URL credentials: the test checks they never reach a message",
    "tests/ingest/sources/test_sql.py": "a fake wrong password: the test checks it never reaches a message",
}
SECRET_FILES = re.compile(r"(?i)(^|/)(\.env|id_rsa|id_ed25519|pii\.key|.*\.pem|.*\.p12|.*\.pfx|credentials\.json)$")


def repo_files() -> list[str]:
    """Every file that is or could be committed: tracked plus untracked-not-ignored."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    untracked = subprocess.run(["git", "ls-files", "-z", "--others", "--exclude-standard"], cwd=REPO_ROOT, capture_output=True, check=True).stdout
    return sorted({f for f in (tracked + untracked).decode("utf-8").split("\0") if f})


def test_no_secret_in_the_repository():
    files = repo_files()
    assert len(files) > 50
    findings = []
    for rel in files:
        if SECRET_FILES.search(rel):
            findings.append((rel, "secret-like file name"))
        path = REPO_ROOT / rel
        if not path.is_file() or path.stat().st_size > 2_000_000 or path.suffix in (".parquet", ".xlsx", ".duckdb", ".png", ".pdf"):
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        for kind, rx in SECRET_PATTERNS.items():
            for m in rx.finditer(text):
                value = m.group(m.lastindex) if m.lastindex else m.group(0)
                if kind in ("assigned secret", "url with password") and (PLACEHOLDER.search(value) or rel in ALLOWED_FILES):
                    continue
                line = text.count("\n", 0, m.start()) + 1
                findings.append((f"{rel}:{line}", kind))
    assert findings == [], findings


def test_the_pii_key_is_not_in_the_repository():
    from ingest.privacy import key_file_path

    assert not key_file_path().resolve().is_relative_to(REPO_ROOT)
    assert not any(Path(f).name == "pii.key" for f in repo_files())


# ---------------------------------------------------------------- dependency audit


@pytest.mark.slow
def test_dependency_vulnerability_audit(tmp_path):
    """pip-audit over the locked requirements, against PyPI's advisories and then OSV. Each
    finding must be fixed or waived here with its reason. When neither advisory source can be
    reached, this says so (xfail), never passes, and names the exact dependency set (the
    uv.lock digest) so the audit can be re-run where the network allows:
    `uv export --format requirements-txt --no-hashes --no-emit-project -o r.txt && uvx pip-audit -r r.txt --no-deps --disable-pip`."""
    import hashlib

    WAIVED: dict[str, str] = {}  # "PYSEC-…/GHSA-…": reason
    lock = hashlib.sha256((REPO_ROOT / "uv.lock").read_bytes()).hexdigest()
    reqs = tmp_path / "requirements.txt"
    exported = subprocess.run(["uv", "export", "--format", "requirements-txt", "--no-hashes", "--no-emit-project", "-o", str(reqs)],
                              cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert exported.returncode == 0, exported.stderr[-2000:]
    pins = [line for line in reqs.read_text().splitlines() if "==" in line and not line.startswith("#")]
    print(f"\ndependency set: uv.lock sha256 {lock}, {len(pins)} pinned packages")
    tried = []
    for service in ("pypi", "osv"):
        out = tmp_path / f"audit-{service}.json"
        proc = subprocess.run(["uvx", "pip-audit", "-r", str(reqs), "--no-deps", "--disable-pip", "--vulnerability-service",
                               service, "-f", "json", "-o", str(out)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
        if not out.exists():
            tried.append(f"{service}: pip-audit failed ({(proc.stderr.strip().splitlines() or ['?'])[-1][:200]})")
            continue
        deps = json.loads(out.read_text())["dependencies"]
        audited = [d for d in deps if not d.get("skip_reason")]
        if not audited:
            tried.append(f"{service}: 0 of {len(deps)} packages could be audited")
            continue
        print(f"audited {len(audited)} of {len(deps)} packages against {service}")
        open_findings = [(d["name"], d["version"], v["id"]) for d in audited for v in d.get("vulns", []) if v["id"] not in WAIVED]
        assert open_findings == [], open_findings
        return
    pytest.xfail(f"no advisory source reachable from here ({'; '.join(tried)}); "
                 f"re-run on uv.lock sha256 {lock} ({len(pins)} packages) where the network allows")


@pytest.fixture(scope="module")
def small_warehouse(small_home):
    """The dbt build over the ingested small data, published as a snapshot."""
    from windowwatch.snapshot_publish import publish
    from windowwatch.transform import build

    home = small_home["home"]
    truth = json.loads((small_home["inbox"] / "_truth" / "ground_truth.json").read_text(encoding="utf-8"))
    result = build(Home(home), as_of=truth["as_of"])
    assert (home / "warehouse.duckdb").exists(), result
    publish("security-test", Home(home))
    return {**small_home, "as_of": truth["as_of"]}


@pytest.mark.slow
def test_no_raw_id_or_phone_in_the_warehouse(small_warehouse):
    """The warehouse and the published snapshot (all VARCHAR columns of every table) hold no
    ID/phone either."""
    home = small_warehouse["home"]
    hits = pii_hits(home, raw_pii_values(small_warehouse["inbox"]), skip=lambda p: p.suffix != ".duckdb")
    assert hits == [], hits[:10]


@pytest.mark.slow
def test_sql_injection_in_audit_plan_filters_selects_nothing(small_warehouse, monkeypatch, tmp_path):
    """Plan filters reach SQL as parameters: an injection string matches no case, it does not
    widen the population or touch the snapshot."""
    import duckdb

    home = small_warehouse["home"]
    monkeypatch.setenv("WINDOWWATCH_HOME", str(home))
    month = small_warehouse["as_of"][:7]
    published = sorted((home / "published").glob("*.duckdb"))
    con = duckdb.connect(str(published[-1]), read_only=True)
    cases_before = con.execute("select count(*) from marts.fct_case").fetchall()[0][0]
    con.close()
    base = {"population": {"month": month, "status": "completed"}, "strata": "none", "sample": {"per_stratum": 5},
            "inspectors_per_case": 2, "max_cases_per_inspector": 10}
    plan = tmp_path / "legit.yaml"
    plan.write_text(json.dumps({"name": "legit", **base}, ensure_ascii=False), encoding="utf-8")
    code, out = _cli(["audit", "draw", "--plan", str(plan), "--entropy", "12345", "--json"])
    assert code == 0, out
    assert len(json.loads(out[out.index("{"):])["sample"]) == 5  # the population is not empty
    for payload in INJECTIONS:
        evil = dict(base, population={"month": month, "status": "completed", "window_ids": [payload], "department_ids": [payload]})
        plan = tmp_path / "evil.yaml"
        plan.write_text(json.dumps({"name": payload, **evil}, ensure_ascii=False), encoding="utf-8")
        code, out = _cli(["audit", "draw", "--plan", str(plan), "--entropy", payload, "--json"])
        assert "Traceback" not in out, out
        if code == 0:
            assert json.loads(out[out.index("{"):])["sample"] == [], out
    con = duckdb.connect(str(published[-1]), read_only=True)
    assert con.execute("select count(*) from marts.fct_case").fetchall()[0][0] == cases_before
    con.close()
    assert not any(p.exists() for p in PWNED)


# ---------------------------------------------------------------- SQL injection in the dashboards


# every value the dashboards read from the URL (sidebar filters, drill-down targets, language)
URL_PARAMS = ("center", "dept", "window", "month", "case", "w", "lang")
DASH_PAGES = ["overview", "rankings", "timeliness", "offbook", "satisfaction", "video", "audit", "reports",
              "window_detail", "case_detail", "hall"]
ERROR_WORDS = re.compile(r"Traceback|Binder Error|Parser Error|Catalog Error|duckdb\.|Exception|SELECT|syntax error", re.I)


def _page_shape(at) -> tuple:
    """What a filter decides on a page: the rows of every table and the value of every metric."""
    frames = [(df.value.data if hasattr(df.value, "data") else df.value) for df in at.dataframe]
    return tuple(len(f) for f in frames), tuple((m.label, m.value) for m in at.metric)


def _tour(at) -> dict[str, tuple]:
    shapes = {}
    for page in DASH_PAGES:
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, [e.message for e in at.exception])
        text = screen_text(at)
        assert not ERROR_WORDS.search("\n".join(e.value for e in at.error)), (page, [e.value for e in at.error])
        assert "Traceback" not in text, page
        shapes[page] = _page_shape(at)
    return shapes


@pytest.fixture(scope="module")
def clean_tour(sec_home):
    return _tour(session("auditor"))


# two payloads in `make test` (a quote break-out and a tautology), all of them in `make test-slow`
DASH_PAYLOADS = [*INJECTIONS[:2], *(pytest.param(p, marks=pytest.mark.slow) for p in INJECTIONS[2:])]


@pytest.mark.parametrize("payload", DASH_PAYLOADS)
def test_sql_injection_in_dashboard_url_filters_is_harmless(sec_home, clean_tour, payload):
    """Every URL parameter at once set to the payload: each page opens without an error trace and
    shows exactly what it shows with no parameter (a forged filter value means 'no filter')."""
    snap = sec_home["snapshot"]
    before = snap.read_bytes()
    at = session("auditor", query={k: payload for k in URL_PARAMS})
    shapes = _tour(at)
    differs = {p: (clean_tour[p], shapes[p]) for p in DASH_PAGES if shapes[p] != clean_tour[p] and p != "case_detail"}
    assert differs == {}, differs
    # the case page looked the payload up as a literal case id: nothing found, nothing shown
    at.switch_page("app_pages/case_detail.py").run()
    assert at.text_input(key="case_id_input").value == payload.strip()
    assert not at.dataframe and any(payload.strip() in w.value for w in at.warning)
    assert snap.read_bytes() == before
    assert not any(p.exists() for p in PWNED)


@pytest.mark.parametrize("payload", [INJECTIONS[0], pytest.param(INJECTIONS[1], marks=pytest.mark.slow)])
def test_sql_injection_in_dashboard_widgets_is_harmless(sec_home, payload):
    """Typed into the free-text widgets: the login name, the case id, the audit entropy and note."""
    at = session("anon")
    at.text_input(key="login_user").input(payload)
    at.text_input(key="login_password").input(payload)
    at.button[0].click().run()
    assert not at.exception and at.error[0].value == "用户名或密码错误。"
    at = session("auditor")
    at.switch_page("app_pages/case_detail.py").run()
    at.text_input(key="case_id_input").input(payload).run()
    assert not at.exception and not at.dataframe
    assert not ERROR_WORDS.search(screen_text(at).replace(payload, ""))
    import windowwatch.audit as audit

    draws = len(audit.list_draws(sec_home["home"]))
    at.switch_page("app_pages/audit.py").run()
    # the home holds a draw, so the page opens on it: start a new plan from the form (issue 20)
    at.selectbox(key="audit_pick").set_value("__new__").run()
    at.text_input(key="audit_f_name").input("注入测试").run()
    at.button(key="audit_commit_btn").click().run()
    at.text_input(key="audit_entropy").input(payload)
    at.button(key="audit_draw_btn").click().run()
    assert not at.exception
    new = audit.list_draws(sec_home["home"])
    assert len(new) == draws + 1 and new[-1]["entropy"] == payload  # public text, stored literally
    assert audit.verify(new[-1]["draw_id"], sec_home["home"]).ok


# ---------------------------------------------------------------- PII in everything a run produces



def _pii_outputs_check(home: Path, feeds: Path, produced: dict, must_have: set[str]) -> None:
    raw = raw_pii_values(feeds)
    assert len(raw) > 100, "the scan is only meaningful if the feeds carried applicant ids and phones"
    hits, kinds = scan_everything(home, raw)
    assert must_have <= kinds, must_have - kinds
    assert hits == [], hits[:20]
    # guards: the report's PDF text was read, and the finding's note was scrubbed, not dropped
    pdf = subprocess.run(["pdftotext", str(produced["report"].path / "ranking.pdf"), "-"], capture_output=True, text=True)
    assert "窗口" in pdf.stdout
    note = produced["finding"]["note"]
    assert note.count("[已脱敏]") == 3 and note.startswith("申请人身份证"), note
    assert produced["open_cases"] > 0


@pytest.fixture(scope="module")
def pipeline_outputs(small_pipeline, tmp_path_factory):
    """The session's small centre (generate → ingest → dbt build), copied, then taken through the
    rest of a run by the same functions the DAG calls: the marts gate (GE Data Docs), publish;
    then the report, an audit draw with a finding, and every export."""
    import shutil

    from expectations.marts import check_marts
    from windowwatch.snapshot_publish import publish

    home = tmp_path_factory.mktemp("pii_outputs") / "home"
    shutil.copytree(small_pipeline.home.root, home, symlinks=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WINDOWWATCH_HOME", str(home))
        mp.setenv("WINDOWWATCH_PII_KEY", "test-key-not-secret")
        h = Home(home)
        gate = check_marts(h.warehouse, h.landing, h.data_docs / "marts")
        assert gate.data_docs_index, gate.summary()
        publish("pii-scan", h)
        produced = produce_outputs(home, small_pipeline.truth["as_of"][:7])
    return home, produced


def test_no_raw_pii_in_anything_the_pipeline_writes(pipeline_outputs, small_pipeline):
    """Landing, quarantine (its raw lines are scrubbed), warehouse and published snapshot, dbt
    logs and artifacts, GE Data Docs, run records, the report (PDF text, XLSX, HTML), the audit
    log and its exports, the dashboards' table export: no ID-card or phone number, and none of
    the values the feeds delivered as applicant id/phone."""
    home, produced = pipeline_outputs
    _pii_outputs_check(home, small_pipeline.feeds, produced,
                       {"landing", "quarantine", "warehouse.duckdb", "published", "dbt", "data_docs", "runs",
                        "reports", "audit", "exports"})


@pytest.fixture(scope="module")
def full_run_outputs(tmp_path_factory):
    """`windowwatch run` through Airflow exactly as a user runs it (Airflow's own logs included),
    then the report, an audit draw with a finding, and every export."""
    from windowwatch.generate.dataset import generate

    root = tmp_path_factory.mktemp("full_run")
    feeds, home = root / "feeds", root / "home"
    home.mkdir()
    truth = generate(str(feeds), scale="small", seed=11, as_of=None)
    env = {**os.environ, "WINDOWWATCH_HOME": str(home), "WINDOWWATCH_PII_KEY": "security-test-key",
           "WINDOWWATCH_SOURCE_RETRY_DELAY_S": "1"}
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    proc = subprocess.run([sys.executable, "-m", "windowwatch.cli", "run", "--feeds", str(feeds), "--as-of",
                           truth["period"]["end"]], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=2400)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (home / "airflow" / "logs").mkdir(parents=True, exist_ok=True)
    # what the operator saw on the terminal is a log too
    (home / "airflow" / "logs" / "windowwatch-run.stdout.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WINDOWWATCH_HOME", str(home))
        mp.setenv("WINDOWWATCH_PII_KEY", "security-test-key")
        produced = produce_outputs(home, truth["period"]["end"][:7])
    return home, feeds, produced


@pytest.mark.slow
def test_no_raw_pii_in_anything_a_full_windowwatch_run_writes(full_run_outputs):
    home, feeds, produced = full_run_outputs
    assert any((home / "airflow" / "logs").glob("windowwatch-run-*.log")), "Airflow's log of the run"
    _pii_outputs_check(home, feeds, produced,
                       {"airflow", "landing", "quarantine", "warehouse.duckdb", "published", "dbt", "data_docs", "runs",
                        "reports", "audit", "exports"})
