"""Double-random audit (SPEC §4.7): draws, the hash-chained log, findings, exports, callbacks."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from tests.support.audit_snapshot import INSPECTORS, build_snapshot, write_plan

from windowwatch.audit import (
    AuditLog,
    FindingError,
    LogError,
    PlanError,
    add_finding,
    draw,
    draw_callbacks,
    get_draw,
    list_draws,
    list_findings,
    load_plan,
    verify,
)
from windowwatch.audit.pools import PoolError
from windowwatch.cli import main as cli_main


@pytest.fixture(scope="session")
def _published_template(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit-snapshot")
    build_snapshot(root)
    return root / "published"


@pytest.fixture()
def home(ww_home, _published_template):
    # a copy of one fixture snapshot per test: building it each time costs ~1 s
    shutil.copytree(_published_template, ww_home / "published")
    return ww_home


# ------------------------------------------------------------------ independent implementation
# Written from the text of SPEC §4.7 (and the risk-boost rule documented in audit/plan.py),
# using only hashlib/json/duckdb: it shares no code with windowwatch.audit.


def _h(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _ints(v):
    """SPEC §4.7 v2: counts as integers in plan_hash (an integral number is written as one)."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return {k: _ints(x) for k, x in v.items()} if isinstance(v, dict) else v


def independent_draw(plan: dict, entropy: str, snapshot: Path) -> dict:
    plan_hash = _h(json.dumps(_ints(plan), sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    seed = _h(plan_hash + ":" + entropy)
    con = duckdb.connect(str(snapshot), read_only=True)
    y, m = map(int, plan["population"]["month"].split("-"))
    col = "completed_at" if plan["population"]["status"] == "completed" else "accepted_at"
    cases = con.execute(
        f"select case_id, window_id, department_id from marts.fct_case where status = ? "
        f"and year({col}) = ? and month({col}) = ?",
        [plan["population"]["status"], y, m],
    ).fetchall()
    wm = con.execute(
        "select window_id, is_bottom, off_book_cases > 0 from marts.fct_window_month "
        "where month = make_date(?, ?, 1)", [y, m]
    ).fetchall()
    insp = con.execute("select inspector_id, department_id, active from marts.dim_inspector").fetchall()
    con.close()
    boost = plan.get("risk_boost") or {}
    mult = {}
    for w, bottom, off in wm:
        f = (boost.get("bottom_windows", 1) if bottom else 1) * (boost.get("off_book_windows", 1) if off else 1)
        if f > 1:
            mult[w] = f
    strata: dict[str, list] = {}
    for case_id, window_id, dept in cases:
        s = {"department_id": dept, "window_id": window_id, "none": "all"}[plan["strata"]]
        strata.setdefault(s, []).append((_h(seed + ":" + case_id), case_id, window_id, dept, s))
    picked = []
    k = plan["sample"]["per_stratum"]
    for s, members in strata.items():
        members.sort()
        if plan["strata"] == "window_id":
            picked += members[: math.ceil(k * mult.get(members[0][2], 1))]
        else:
            take = members[:k]
            factors = [mult[c[2]] for c in members if c[2] in mult]
            extra = (math.ceil(k * max(factors)) - k) if factors else 0
            take += [c for c in members[k:] if c[2] in mult][:extra]
            picked += take
    picked.sort()
    load = {i: 0 for i, _, _ in insp}
    sample, unstaffed = [], []
    for key, case_id, window_id, dept, s in picked:
        ok = [i for i, d, active in insp if active and d != dept and load[i] < plan["max_cases_per_inspector"]]
        ok.sort(key=lambda i: _h(seed + ":" + case_id + ":" + i))
        chosen = ok[: plan["inspectors_per_case"]]
        if len(chosen) < plan["inspectors_per_case"]:
            chosen = []
            unstaffed.append(case_id)
        for i in chosen:
            load[i] += 1
        sample.append({"case_id": case_id, "stratum": s, "inspectors": chosen})
    return {"plan_hash": plan_hash, "seed": seed, "sample": sample, "unstaffed": unstaffed}


def _snapshot(home: Path) -> Path:
    return home / "published" / (home / "published" / "CURRENT").read_text().strip()


# ------------------------------------------------------------------ draws


@pytest.mark.parametrize("strata", ["department_id", "window_id", "none"])
def test_draw_matches_independent_implementation(home, tmp_path, strata):
    import yaml

    plan_file = write_plan(tmp_path / "plan.yaml", strata=strata)
    r = draw(load_plan(plan_file), "2026-10-31 双色球 03 11 17 22 28 31 + 09")
    as_written = yaml.safe_load(plan_file.read_text(encoding="utf-8"))
    want = independent_draw(as_written, "2026-10-31 双色球 03 11 17 22 28 31 + 09", _snapshot(home))
    assert r.plan_hash == want["plan_hash"]
    assert r.seed == want["seed"]
    assert r.sample == want["sample"]
    assert r.unstaffed == want["unstaffed"]
    assert len(r.sample) > 3


def test_risk_boost_takes_more_from_boosted_windows(home, tmp_path):
    plain = draw(load_plan(write_plan(tmp_path / "a.yaml", risk_boost=None)), "e")
    boosted = draw(load_plan(write_plan(tmp_path / "b.yaml")), "e")
    # D01 has no boosted window: 3 either way; D02 (W03, W04 off-book) and D03 (W05 bottom): 3 + 3
    count = lambda r, s: sum(1 for c in r.sample if c["stratum"] == s)  # noqa: E731
    assert [count(plain, s) for s in ("D01", "D02", "D03")] == [3, 3, 3]
    assert [count(boosted, s) for s in ("D01", "D02", "D03")] == [3, 6, 6]
    by_win = boosted.entry["pools"]["boosted_windows"]
    assert set(by_win) == {"W03", "W04", "W05"} and by_win["W05"]["bottom"] and by_win["W03"]["off_book"]
    extra_d03 = [c["case_id"] for c in boosted.sample if c["stratum"] == "D03"]
    assert sum(1 for c in extra_d03 if c.startswith("C-W05")) >= 3


def test_population_month_and_status(home, tmp_path):
    r = draw(load_plan(write_plan(tmp_path / "p.yaml", population={"month": "2026-10", "status": "open"},
                                  sample={"per_stratum": 100}, risk_boost=None)), "x")
    ids = {c["case_id"] for c in r.sample}
    assert len(ids) == 18 and all(int(i[-3:]) in (11, 12, 13) for i in ids)  # open cases, whole strata
    r = draw(load_plan(write_plan(tmp_path / "q.yaml", population={"month": "2026-09", "status": "completed",
                                  "window_ids": ["W01"]}, sample={"ratio": 0.5, "min": 1}, risk_boost=None)), "x")
    assert {c["case_id"] for c in r.sample} <= {"C-W01-014", "C-W01-015"} and len(r.sample) == 1


def test_avoidance_cap_and_unstaffed(home, tmp_path):
    plan = load_plan(write_plan(tmp_path / "p.yaml", max_cases_per_inspector=2))
    r = draw(plan, "tight")
    dept_of = {i: d for i, _, d, _ in INSPECTORS}
    case_dept = {c["case_id"]: c["department_id"] for c in r.entry["pools"]["cases"]}
    load: dict[str, int] = {}
    for c in r.sample:
        for i in c["inspectors"]:
            assert dept_of[i] != case_dept[c["case_id"]], f"回避 violated: {i} on {c['case_id']}"
            assert i != "I08", "an inactive inspector was assigned"
            load[i] = load.get(i, 0) + 1
        assert len(c["inspectors"]) in (0, 2)
    assert max(load.values()) <= 2
    # 7 active inspectors x cap 2 = 14 slots for 15 cases x 2: some cases cannot be staffed
    assert r.unstaffed, "unstaffable cases must be reported"
    sampled = {c["case_id"] for c in r.sample}
    assert set(r.unstaffed) <= sampled, "unstaffed cases stay in the sample, never dropped"
    assert all(c["inspectors"] == [] for c in r.sample if c["case_id"] in r.unstaffed)
    assert verify().ok


def test_a_draw_with_unstaffed_cases_exits_3_so_a_script_can_tell(home, tmp_path, capsys):
    plan_file = write_plan(tmp_path / "p.yaml", max_cases_per_inspector=2)  # 14 slots for 15 cases x 2
    assert cli_main(["audit", "draw", "--plan", str(plan_file), "--entropy", "tight", "--json"]) == 3
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert result["unstaffed"] and f"{len(result['unstaffed'])} of {len(result['sample'])} sampled cases could not be staffed" in err
    roomy = write_plan(tmp_path / "q.yaml", max_cases_per_inspector=10)
    assert cli_main(["audit", "draw", "--plan", str(roomy), "--entropy", "tight", "--json"]) == 0


def test_unstaffed_when_only_own_department_inspectors(ww_home, tmp_path):
    # only D01 inspectors in the pool: D01 cases cannot be staffed (回避), others can
    build_snapshot(ww_home, with_dim_inspector=True)
    plan = load_plan(write_plan(tmp_path / "p.yaml", population={"month": "2026-10", "status": "completed",
                                "department_ids": ["D01"]}, risk_boost=None))
    r = draw(plan, "e")
    # the pool still has D02/D03/D09 inspectors, so all D01 cases get two
    assert not r.unstaffed
    # the inspector pool is the snapshot's marts.dim_inspector (built from the feed's latest rows)
    build_snapshot(ww_home, run_id="r2", inspectors=[("I01", "张明", "D02", True), ("I02", "李华", "D01", True)])
    r = draw(plan, "e")
    # latest row of I01 is in D02 now: I01 can check D01 cases but one inspector is not enough
    assert len(r.unstaffed) == len(r.sample) == 3
    assert {i["inspector_id"]: i["department_id"] for i in r.entry["pools"]["inspectors"]} == {"I01": "D02", "I02": "D01"}


def test_a_snapshot_without_the_inspector_pool_cannot_be_drawn_from(ww_home, tmp_path):
    # the pool comes from the snapshot only: no silent fallback to the landing feed
    build_snapshot(ww_home, with_dim_inspector=False)
    plan = load_plan(write_plan(tmp_path / "p.yaml", risk_boost=None))
    with pytest.raises(PoolError, match="marts.dim_inspector"):
        draw(plan, "e")
    assert not [e for e in AuditLog().entries() if e.get("kind") == "draw"], "no draw may be logged"


def test_plan_validation_names_the_key(tmp_path):
    bad = write_plan(tmp_path / "bad.yaml", inspectors_per_case=1, strata="item_code", sample={"per_stratum": 2, "ratio": 0.1})
    with pytest.raises(PlanError) as exc:
        load_plan(bad)
    msg = str(exc.value)
    assert "bad.yaml" in msg and "inspectors_per_case" in msg and "strata" in msg and "sample" in msg
    month = write_plan(tmp_path / "m.yaml", population={"month": "2026-13", "status": "completed"})
    with pytest.raises(PlanError, match="population.month"):
        load_plan(month)
    (tmp_path / "y.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(PlanError, match="line"):
        load_plan(tmp_path / "y.yaml")


def test_commit_precedes_draw_and_repeats_are_logged(home, tmp_path, capsys):
    plan_file = write_plan(tmp_path / "p.yaml")
    assert cli_main(["audit", "commit", "--plan", str(plan_file)]) == 0
    assert cli_main(["audit", "draw", "--plan", str(plan_file), "--entropy", "42", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    first = json.loads(out[-1])
    assert set(first) == {"draw_id", "plan_hash", "entropy", "seed", "sample", "unstaffed"}
    assert set(first["sample"][0]) == {"case_id", "stratum", "inspectors"}
    assert cli_main(["audit", "draw", "--plan", str(plan_file), "--entropy", "42", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["draw_id"] != first["draw_id"] and second["sample"] == first["sample"]
    kinds = [(e["kind"], e.get("commit_seq")) for e in AuditLog().entries()]
    # the explicit commit is used by the first draw; the repeat commits again before drawing
    assert kinds == [("commit", None), ("draw", 1), ("commit", None), ("draw", 3)]
    assert [d["draw_id"] for d in list_draws()] == [first["draw_id"], second["draw_id"]]
    assert cli_main(["audit", "verify"]) == 0
    assert cli_main(["audit", "verify", first["draw_id"]]) == 0
    assert "OK" in capsys.readouterr().out
    assert cli_main(["audit", "verify", "D99999"]) == 1


def _draw_in_child(plan_path: str, n: int) -> None:
    plan = load_plan(plan_path)
    for i in range(n):
        draw(plan, f"child-{i}")


def test_concurrent_draws_keep_the_chain(home, tmp_path):
    import multiprocessing

    plan_file = write_plan(tmp_path / "p.yaml")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_draw_in_child, args=(str(plan_file), 2)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    rep = verify()
    assert rep.ok, rep.problems
    assert len(rep.draws_checked) == 6 and rep.entries == 12


# ------------------------------------------------------------------ tamper detection


def _draws(home: Path, tmp_path: Path, n: int = 3) -> Path:
    plan = load_plan(write_plan(tmp_path / "p.yaml"))
    for i in range(n):
        draw(plan, f"entropy-{i}")
    return AuditLog().path


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_edit_is_detected(home, tmp_path, capsys):
    log = _draws(home, tmp_path)
    lines = _lines(log)
    e = json.loads(lines[3])  # the second draw
    e["entropy"] = "a different lottery number"
    lines[3] = json.dumps(e, ensure_ascii=False) + "\n"
    log.write_text("".join(lines), encoding="utf-8")
    rep = verify()
    assert not rep.ok and any(":4: rule entry_edited" in p and "D00002" in p for p in rep.problems)
    assert cli_main(["audit", "verify"]) == 1
    assert "entry_edited" in capsys.readouterr().err
    with pytest.raises(LogError):
        draw(load_plan(tmp_path / "p.yaml"), "more")  # a tampered log takes no more entries


def test_reorder_is_detected(home, tmp_path):
    log = _draws(home, tmp_path)
    lines = _lines(log)
    lines[1], lines[3] = lines[3], lines[1]
    log.write_text("".join(lines), encoding="utf-8")
    rep = verify()
    assert not rep.ok and any("chain_broken" in p or "seq_gap" in p for p in rep.problems)


@pytest.mark.parametrize("which", [2, -1])
def test_removal_is_detected(home, tmp_path, which):
    log = _draws(home, tmp_path)
    lines = _lines(log)
    del lines[which]
    log.write_text("".join(lines), encoding="utf-8")
    rep = verify()
    assert not rep.ok
    assert any(("chain_broken" in p or "entries_removed" in p) for p in rep.problems), rep.problems


def test_rewritten_chain_with_a_changed_result_is_recomputed(home, tmp_path):
    """An attacker who edits a draw's result and rehashes the whole chain is caught by recomputation."""
    from windowwatch.audit.log import GENESIS, entry_hash

    log = _draws(home, tmp_path, n=1)
    entries = [json.loads(x) for x in _lines(log)]
    entries[1]["result"]["sample"][0]["inspectors"] = ["I01", "I02"]
    prev = GENESIS
    for e in entries:
        e["prev_hash"] = prev
        e["entry_hash"] = entry_hash(e)
        prev = e["entry_hash"]
    log.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), encoding="utf-8")
    (log.parent / "HEAD").write_text(json.dumps({"seq": 2, "entry_hash": prev}))
    rep = verify()
    assert rep.problems and all("result_mismatch" in p for p in rep.problems)


def test_forged_pool_is_caught_against_the_snapshot(home, tmp_path):
    """Dropping an awkward case from the logged pool, redrawing and rehashing everything is
    consistent with itself — but not with the immutable snapshot file the draw names."""
    from windowwatch.audit.draw import compute_draw
    from windowwatch.audit.log import GENESIS, entry_hash

    log = _draws(home, tmp_path, n=1)
    entries = [json.loads(x) for x in _lines(log)]
    d = entries[1]
    dropped = d["result"]["sample"][0]["case_id"]
    d["pools"]["cases"] = [c for c in d["pools"]["cases"] if c["case_id"] != dropped]
    again = compute_draw(load_plan(tmp_path / "p.yaml"), d["plan_hash"], d["entropy"], d["pools"])
    d["result"] = {"sample": again["sample"], "unstaffed": again["unstaffed"]}
    prev = GENESIS
    for e in entries:
        e["prev_hash"] = prev
        e["entry_hash"] = entry_hash(e)
        prev = e["entry_hash"]
    log.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), encoding="utf-8")
    (log.parent / "HEAD").write_text(json.dumps({"seq": 2, "entry_hash": prev}))
    rep = verify()
    assert [p.split(" — ")[0].rsplit(" ", 1)[-1] for p in rep.problems] == ["pools_mismatch"]


def test_torn_tail_is_reported_and_repairable(home, tmp_path, capsys):
    log = _draws(home, tmp_path, n=1)
    good = log.read_bytes()
    with open(log, "ab") as fh:
        fh.write(b'{"kind":"draw","seq":3,"plan":{"na')  # crash mid-write
    rep = verify()
    assert any("torn_tail" in p and f"{log}:3" in p for p in rep.problems)
    with pytest.raises(LogError, match="torn_tail"):
        draw(load_plan(tmp_path / "p.yaml"), "again")
    assert cli_main(["audit", "verify", "--repair-torn-tail"]) == 0
    assert log.read_bytes() == good
    assert list(log.parent.glob("log.torn-*"))
    assert verify().ok


# ------------------------------------------------------------------ findings, exports, callbacks


def test_findings_are_validated_chained_and_written_as_parquet(home, tmp_path, capsys):
    r = draw(load_plan(write_plan(tmp_path / "p.yaml")), "f")
    case = r.sample[0]
    args = ["audit", "findings", "add", "--draw", r.draw_id, "--case", case["case_id"],
            "--codes", "办事指南不规范,超时未说明", "--note", "申请人 13812345678 身份证 110101199001011234",
            "--inspectors", ",".join(case["inspectors"])]
    assert cli_main(args) == 0
    assert cli_main(args[:8] + ["乱写"] + args[9:]) == 2
    assert "unknown problem code" in capsys.readouterr().err
    with pytest.raises(FindingError, match="not assigned"):
        add_finding(r.draw_id, case["case_id"], "其他", "", "I08")
    with pytest.raises(FindingError, match="not in the sample"):
        add_finding(r.draw_id, "C-W01-999", "其他", "", case["inspectors"])
    add_finding(r.draw_id, r.sample[1]["case_id"], "", "检查无问题", r.sample[1]["inspectors"][:1])
    rows = list_findings(r.draw_id)
    assert [x["problem_codes"] for x in rows] == ["办事指南不规范;超时未说明", ""]
    assert "13812345678" not in rows[0]["note"] and "110101199001011234" not in rows[0]["note"]
    df = pl.read_parquet(home / "audit" / "findings.parquet")
    assert df.height == 2 and df["window_id"][0] == next(
        c["window_id"] for c in r.entry["pools"]["cases"] if c["case_id"] == case["case_id"])
    assert df["has_problem"].to_list() == [True, False]
    assert verify().ok
    assert cli_main(["audit", "findings", "list", "--draw", r.draw_id]) == 0
    assert "2 finding(s)" in capsys.readouterr().out


def test_public_export_has_no_pii_and_is_neutralised(home, tmp_path, capsys):
    r = draw(load_plan(write_plan(tmp_path / "p.yaml")), "x")
    case = r.sample[0]
    add_finding(r.draw_id, case["case_id"], "收费不规范", "=HYPERLINK(\"http://evil\") 电话 021-66668888",
                case["inspectors"])
    out = tmp_path / "public"
    for fmt in ("csv", "xlsx", "html"):
        assert cli_main(["audit", "export", "--draw", r.draw_id, "--format", fmt, "--out", str(out)]) == 0
    with open(out / f"audit-{r.draw_id}.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 1 + len(r.sample)
    first = next(x for x in rows if x[0] == case["case_id"])
    assert first[6] == "收费不规范" and first[7].startswith("'=HYPERLINK") and "66668888" not in first[7]
    assert cli_main(["audit", "export", "--draw", r.draw_id, "--format", "json", "--out", str(out)]) == 0
    bundle = json.loads((out / f"audit-{r.draw_id}.json").read_text(encoding="utf-8"))
    assert bundle["commit"]["plan_hash"] == bundle["draw"]["plan_hash"] == r.plan_hash
    assert bundle["commit"]["seq"] < bundle["draw"]["seq"]
    body = {k: v for k, v in bundle["draw"].items() if k != "entry_hash"}
    assert _h(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)) == bundle["draw"]["entry_hash"]
    html = (out / f"audit-{r.draw_id}.html").read_text(encoding="utf-8")
    assert r.seed in html and "双随机" in html and "&lt;" not in r.entropy
    import openpyxl

    wb = openpyxl.load_workbook(out / f"audit-{r.draw_id}.xlsx")
    assert wb["抽查名单"].cell(row=2, column=1).value == r.sample[0]["case_id"]
    text = (out / f"audit-{r.draw_id}.csv").read_text(encoding="utf-8-sig") + html
    for forbidden in ("applicant", "13812345678", "66668888"):
        assert forbidden not in text


def test_callback_sample_all_bad_plus_share_of_neutral(home):
    r = draw_callbacks("2026-10", 0.25, "witnessed 7")
    con = duckdb.connect(str(_snapshot(home)), read_only=True)
    evals = con.execute("select evaluation_id, rating from marts.fct_evaluation where month(evaluated_at) = 10").fetchall()
    con.close()
    bad = {e for e, rating in evals if rating <= 2}
    neutral = sorted((_h(r.seed + ":" + e), e) for e, rating in evals if rating == 3)
    want_random = {e for _, e in neutral[: math.ceil(0.25 * len(neutral))]}
    got = {s["evaluation_id"]: s["reason"] for s in r.sample}
    assert {e for e, why in got.items() if why == "bad"} == bad
    assert {e for e, why in got.items() if why == "random"} == want_random
    plan = {"kind": "callback", "name": "2026-10回访抽样", "month": "2026-10", "share": 0.25}
    assert r.plan_hash == _h(json.dumps(plan, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    assert r.seed == _h(r.plan_hash + ":witnessed 7")
    assert get_draw(r.draw_id)["kind"] == "callback"
    assert verify().ok
    assert cli_main(["audit", "callback", "--month", "2026-10", "--share", "0.1", "--entropy", "8", "--json"]) == 0


def test_draw_without_snapshot_fails_clearly(ww_home, tmp_path, capsys):
    plan_file = write_plan(tmp_path / "p.yaml")
    assert cli_main(["audit", "draw", "--plan", str(plan_file), "--entropy", "1"]) == 1
    assert "nothing published yet" in capsys.readouterr().err
