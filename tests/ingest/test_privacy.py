"""SPEC §8: no raw applicant id, name or phone anywhere under WINDOWWATCH_HOME."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import stat

import polars as pl
import pytest

from ingest import privacy
from tests.support.inbox import landed, make_inbox, quarantined, run, write_csv
from core.feeds import TRANSACTIONS
from core.paths import REPO_ROOT

ID_A, ID_B = "11010519491231002X", "110105194912310021"
OLD_ID = "110105491231002"
PHONE, LANDLINE = "13912345678", "010-62345678"
NAMES = ["张三丰", "李四光"]

# look-arounds keep hex digests (HMACs, content ids) from matching by accident
ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])")
PHONE_RE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?![0-9A-Za-z])|0\d{2,3}-\d{7,8}")


def _all_text(home) -> str:
    parts = []
    for p in sorted(home.rglob("*")):
        if not p.is_file():
            continue
        if p.suffix == ".parquet":
            df = pl.read_parquet(p, hive_partitioning=False)
            parts.append(df.select(pl.all().cast(pl.String)).write_csv())
        else:
            parts.append(p.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(parts)


def _write_pii_inbox(tmp_path):
    inbox = make_inbox(tmp_path)
    header = ["流水号", "办件编号", "环节", "环节时间", "窗口编号", "实施编码", "申请人证件号码", "申请人姓名", "申请人联系电话"]
    write_csv(inbox / "transactions" / "t.csv", [header,
                                                 ["E1", "C1", "受理", "2025-01-06 09:00:00", "W01", "I1", ID_A, NAMES[0], PHONE],
                                                 ["E2", "C1", "办结", "2025-01-06 10:00:00", "W01", "I1", ID_A.lower(), NAMES[0], "+86 139-1234-5678"],
                                                 ["E3", "C2", "受理", "2025-01-06 09:00:00", "W01", "I1", ID_B, NAMES[1], LANDLINE],
                                                 # quarantined rows carry PII too
                                                 ["E4", "C3", "审核中", "2025-01-06 09:00:00", "W01", "I1", ID_B, NAMES[1], PHONE],
                                                 ["E5", "C4", "受理", "坏时间", "W999", "I1", OLD_ID, NAMES[1], PHONE]])
    write_csv(inbox / "evaluations" / "e.csv", [["evaluation_id", "window_id", "rating", "evaluated_at", "comment"],
                                                ["V1", "W01", "不满意", "2025-01-06 10:00:00", f"我的身份证{ID_A}，电话{PHONE}，座机{LANDLINE}"],
                                                ["V2", "W01", "9", "2025-01-06 10:00:00", f"旧证{OLD_ID} 手机 +86 139 1234 5678"]])
    return inbox


def test_no_raw_pii_anywhere_under_home(ww_home, tmp_path, capsys):
    inbox = _write_pii_inbox(tmp_path)
    report = run(ww_home, inbox)
    from ingest.run import format_report

    printed = format_report(report) + capsys.readouterr().out
    text = _all_text(ww_home) + printed
    for raw in (ID_A, ID_A.lower(), ID_B, OLD_ID, PHONE, "139-1234-5678", "62345678", *NAMES):
        assert raw not in text, raw
    assert not ID_RE.search(text), ID_RE.search(text)
    assert not PHONE_RE.search(text), PHONE_RE.search(text)
    # hashed, not lost: the same person hashes the same however the value was typed
    tx = landed(ww_home, "transactions").sort("event_id")
    assert "applicant_name" not in tx.columns and "applicant_id" not in tx.columns
    ids = tx["applicant_id_hmac"].to_list()
    phones = tx["applicant_phone_hmac"].to_list()
    assert ids[0] == ids[1] != ids[2] and phones[0] == phones[1] != phones[2]
    expected = hmac.new(b"test-key-not-secret", ID_A.encode(), hashlib.sha256).hexdigest()
    assert ids[0] == expected
    comments = landed(ww_home, "evaluations")["comment"].to_list()
    assert comments == [f"我的身份证{privacy.SCRUBBED}，电话{privacy.SCRUBBED}，座机{privacy.SCRUBBED}"]
    q = quarantined(ww_home, "evaluations")
    assert q["rule"].to_list() == ["rating_out_of_range"]
    assert json.loads(q["raw"][0])["comment"] == f"旧证{privacy.SCRUBBED} 手机 {privacy.SCRUBBED}"
    assert set(quarantined(ww_home, "transactions")["rule"]) == {"unknown_enum", "bad_timestamp"}


def test_key_file_created_on_first_use_with_0600(monkeypatch, tmp_path):
    monkeypatch.delenv("WINDOWWATCH_PII_KEY", raising=False)
    key_file = tmp_path / "cfg" / "pii.key"
    monkeypatch.setenv("WINDOWWATCH_PII_KEY_FILE", str(key_file))
    k1 = privacy.pii_key()
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert privacy.pii_key() == k1 and len(k1) >= 32
    frame = pl.DataFrame({"applicant_id": [ID_A, " " + ID_A.lower()], "applicant_name": ["x", "y"], "applicant_phone": [PHONE, None]})
    out = privacy.apply_privacy(frame, TRANSACTIONS)
    assert out.columns == ["applicant_id_hmac", "applicant_phone_hmac"]
    assert out["applicant_id_hmac"][0] == out["applicant_id_hmac"][1] == hmac.new(k1, ID_A.encode(), hashlib.sha256).hexdigest()


def test_key_file_inside_the_repo_is_refused(monkeypatch):
    monkeypatch.delenv("WINDOWWATCH_PII_KEY", raising=False)
    monkeypatch.setenv("WINDOWWATCH_PII_KEY_FILE", str(REPO_ROOT / "var" / "pii.key"))
    with pytest.raises(privacy.PiiKeyError, match="inside the repository"):
        privacy.pii_key()
    assert not (REPO_ROOT / "var" / "pii.key").exists()


# -- the fast HMAC (cached ipad/opad states) must equal hmac.digest byte for byte (issue 7)

TRICKY_VALUES = ["", "0", "11010519491231002X", "张三丰", "é" * 3, "e\u0301", "🙂\U0010ffff", "a\x00b", "\ufeffBOM",
                 "x" * 63, "x" * 64, "x" * 65, "长" * 10_000, "line\nbreak", "  spaced  "]
TRICKY_KEYS = [b"test-key-not-secret", b"", b"k" * 64, b"k" * 65, ("密钥" * 40).encode("utf-8"), bytes(range(256)),
               b"a3f1" * 16 + b"\n"]


@pytest.mark.parametrize("key", TRICKY_KEYS, ids=lambda k: f"key{len(k)}")
def test_hmac_series_equals_hmac_digest(key):
    values = pl.Series("v", [*TRICKY_VALUES, None, *TRICKY_VALUES[:3]], dtype=pl.String)  # repeats and a null
    got = privacy.hmac_series(values, key)
    want = [None if v is None else hmac.digest(key, v.encode("utf-8"), "sha256").hex() for v in values.to_list()]
    assert got.to_list() == want
    assert got.dtype == pl.String and got.len() == values.len()


def test_hmac_series_keeps_order_on_a_large_batch():
    values = pl.Series("v", [f"3701{i % 7919:014d}" if i % 11 else None for i in range(50_000)], dtype=pl.String)
    got = privacy.hmac_series(values, b"bench-key")
    sample = range(0, 50_000, 997)
    for i in sample:
        v = values[i]
        assert got[i] == (None if v is None else hmac.digest(b"bench-key", v.encode(), "sha256").hex())


def test_hmac_series_property():
    from hypothesis import given, settings, strategies as st

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.one_of(st.none(), st.text(max_size=80)), max_size=30), st.binary(max_size=130))
    def check(values, key):
        got = privacy.hmac_series(pl.Series("v", values, dtype=pl.String), key).to_list()
        assert got == [None if v is None else hmac.digest(key, v.encode("utf-8", "surrogatepass"), "sha256").hex() for v in values]

    check()
