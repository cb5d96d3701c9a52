"""Monthly publication (SPEC §4.8): frozen versions, no-op republish, v2 with changes, PDF/XLSX/HTML."""

from __future__ import annotations

import json
import shutil
import subprocess

import openpyxl
import pytest
from tests.support.audit_snapshot import SCORES_2026_10, WINDOWS, build_snapshot

from windowwatch.audit.hashing import H, canonical_json
from windowwatch.cli import main as cli_main
from core.paths import REPO_ROOT, Home
from windowwatch.reports import list_versions, publish_month

ARTIFACTS = REPO_ROOT / "test-artifacts"
TITLE = "市政务服务中心2026年10月窗口服务质量考核通报"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """v1 from the fixture snapshot; then a corrected snapshot (W02 and W03 swap places, a
    renamed window with a hostile name) published as v2. Rendering is the slow part: once."""
    root = tmp_path_factory.mktemp("reports") / "home"
    root.mkdir()
    h = Home(root)
    build_snapshot(root, "r1")
    v1 = publish_month("2026-10", h)
    again = publish_month("2026-10", h)
    # a later daily run (new snapshot, later as-of date) that leaves October unchanged
    import datetime as dt

    build_snapshot(root, "r1b", as_of=dt.date(2026, 11, 5))
    later_run = publish_month("2026-10", h)
    listing_after_again = sorted(p.name for p in (root / "reports" / "2026-10").iterdir())
    scores = dict(SCORES_2026_10)
    scores["W02"] = (87.5, 3, 3, True, False, False, None, 28, 0)
    scores["W03"] = (90.4, 4, 2, True, False, False, None, 25, 2)
    build_snapshot(root, "r2", scores=scores, window_names={"W06": "=HYPERLINK(\"http://x\")就业窗口"},
                   assumed_calendar={"W05"})
    v2 = publish_month("2026-10", h)
    return {"home": h, "v1": v1, "again": again, "later_run": later_run,
            "listing_after_again": listing_after_again, "v2": v2}


def test_v1_is_frozen_with_manifest_and_content_hash(published):
    v1 = published["v1"]
    assert v1.created and v1.version == 1 and v1.path.name == "v1"
    names = {p.name for p in v1.path.iterdir()}
    assert {"data.json", "manifest.json", "scoring.yaml", "ranking.pdf", "ranking.xlsx", "ranking.html",
            "ranking.en.html"} <= names
    assert "changes.md" not in names
    data = json.loads((v1.path / "data.json").read_text(encoding="utf-8"))
    man = json.loads((v1.path / "manifest.json").read_text(encoding="utf-8"))
    assert H(canonical_json(data)) == man["content_hash"] == v1.content_hash
    assert [w["window_id"] for w in data["windows"]][:5] == ["W01", "W02", "W03", "W04", "W05"]
    assert data["scoring"]["score"]["weights"]["T"] == 0.3
    assert man["watermark"] == {"as_of_date": "2026-10-31", "max_event_time": "2026-10-22 10:00:00"}
    assert man["snapshot"]["file"] == "warehouse-r1.duckdb" and len(man["snapshot"]["sha256"]) == 64
    import hashlib

    for name, digest in man["files"].items():
        assert hashlib.sha256((v1.path / name).read_bytes()).hexdigest() == digest


def test_publishing_again_unchanged_creates_nothing(published, capsys, monkeypatch):
    again = published["again"]
    assert not again.created and again.version == 1
    assert not published["later_run"].created and published["later_run"].version == 1
    assert published["listing_after_again"] == [".lock", "v1"]
    monkeypatch.setenv("WINDOWWATCH_HOME", str(published["home"].root))
    before = sorted(p.name for p in (published["home"].reports / "2026-10").iterdir())
    assert cli_main(["report", "publish", "--month", "2026-10"]) == 0
    assert capsys.readouterr().out.strip() == "unchanged: v2"
    assert sorted(p.name for p in (published["home"].reports / "2026-10").iterdir()) == before


def test_changed_data_gives_v2_with_its_summary(published):
    v1, v2 = published["v1"], published["v2"]
    assert v2.created and v2.version == 2 and v2.content_hash != v1.content_hash
    ch = json.loads((v2.path / "changes.json").read_text(encoding="utf-8"))
    assert ch["against_version"] == 1 and not ch["scoring_changed"]
    changed = {w["window_id"]: w["changes"] for w in ch["windows_changed"]}
    assert set(changed) == {"W02", "W03"}
    assert changed["W02"]["rank"] == {"from": 2, "to": 3} and changed["W03"]["stars"] == {"from": 3, "to": 4}
    assert changed["W03"]["score"] == {"from": 88.0, "to": 90.4}
    md = (v2.path / "changes.md").read_text(encoding="utf-8")
    # in Chinese, by name (the ids are in changes.json); its English rendering beside it
    assert "出入境窗口" in md and "企业开办窗口" in md and "名次" in md and "市公安局" in md
    assert "W02" not in md and "W03" not in md and "rank" not in md
    assert "窗口名称" in md  # W06 renamed: another figure changed, by its label
    en = (v2.path / "changes.en.md").read_text(encoding="utf-8")
    assert "出入境窗口" in en and "Rank" in en and "changes against version 1" in en
    # v1 was not touched
    man1 = json.loads((v1.path / "manifest.json").read_text(encoding="utf-8"))
    assert man1["content_hash"] == v1.content_hash and man1["version"] == 1
    man2 = json.loads((v2.path / "manifest.json").read_text(encoding="utf-8"))
    assert man2["previous"] == {"version": 1, "content_hash": v1.content_hash}
    versions = list_versions("2026-10", published["home"])
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["files"]["ranking.pdf"]["path"].is_file() and versions[0]["has_changes"]


def test_pdf_has_title_windows_and_embedded_cjk_fonts(published):
    pdf = published["v2"].path / "ranking.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert TITLE in text
    for _wid, name, _dept in WINDOWS[:5]:
        assert name in text, name
    for needle in ("红旗窗口", "末位", "部门情况", "评分规则", "数据水位", "2026-10-31", "本版变更", "一票否决", "推定"):
        assert needle in text, needle
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "Noto-Sans-CJK-SC" in line or "NotoSansCJK" in line]
    assert cjk, fonts
    assert all(line.split()[-5] == "yes" for line in cjk), "CJK fonts must be embedded"
    ARTIFACTS.mkdir(exist_ok=True)
    for name, src in (("report-v1-page1", published["v1"].path), ("report-v2-page1", published["v2"].path)):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(src / "ranking.pdf"),
             str(ARTIFACTS / name)],
            check=True,
        )
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000


def test_xlsx_sheets_and_neutralised_names(published):
    wb = openpyxl.load_workbook(published["v2"].path / "ranking.xlsx")
    assert wb.sheetnames == ["排名", "评分构成", "部门", "数据说明"]
    ws = wb["排名"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, [c.value for c in r])) for r in ws.iter_rows(min_row=2)]
    by_id = {r["窗口编号"]: r for r in rows}
    assert by_id["W03"]["名次"] == 2 and by_id["W03"]["得分"] == 90.4
    assert by_id["W06"]["窗口名称"] == "'=HYPERLINK(\"http://x\")就业窗口"
    for sheet in wb:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f"
    comp = wb["评分构成"]
    assert comp.max_row == 1 + len(WINDOWS)
    assert wb["部门"].max_row == 4


def test_html_is_standalone_and_escaped(published):
    html = (published["v2"].path / "ranking.html").read_text(encoding="utf-8")
    assert TITLE in html and "<svg" in html
    assert "=HYPERLINK(\"http" not in html
    assert "=HYPERLINK(&#34;http://x&#34;)" in html or "=HYPERLINK(&quot;http://x&quot;)" in html


def test_publish_month_without_rows_fails_clearly(ww_home, capsys):
    build_snapshot(ww_home)
    assert cli_main(["report", "publish", "--month", "2026-11"]) == 2
    assert "no rows for 2026-11" in capsys.readouterr().err
    assert not (ww_home / "reports" / "2026-11" / "v1").exists()


def test_published_version_is_never_overwritten(published, tmp_path):
    """A foreign or damaged v(N) directory stops the publish; nothing is overwritten."""
    from windowwatch.reports import ReportError

    h = published["home"]
    work = Home(tmp_path / "home")
    shutil.copytree(h.root / "published", work.published)
    shutil.copytree(h.reports, work.reports)
    build_snapshot(work.root, "r3", window_names={"W01": "户籍窗口（更名）"})
    (work.reports / "2026-10" / "v3").mkdir()
    (work.reports / "2026-10" / "v3" / "keep.txt").write_text("x")
    with pytest.raises(ReportError, match="v3"):
        publish_month("2026-10", work)
    assert (work.reports / "2026-10" / "v3" / "keep.txt").read_text() == "x"
    assert sorted(p.name for p in (work.reports / "2026-10").iterdir() if not p.name.startswith(".")) == ["v1", "v2", "v3"]
