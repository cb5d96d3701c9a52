"""What counts as untranslated in the Chinese interface (issue 19): an English word of three letters or
more outside a short allow-list, an enum value or "None"/"nan"/"True" of any length, a catalogue key.
Used by the browser walk (tests/dashboards/e2e/test_chinese_throughout.py) and by the tests of the
texts the dashboards build (evidence sentences)."""

from __future__ import annotations

import re

# What may show in ASCII letters in the Chinese interface, each with its reason.
ALLOWED = {
    "PDF", "XLSX", "CSV", "HTML", "Excel", "YAML",  # file formats, named as the files are
    "English", "Language",  # the language switch names the other language in its own words
    "pp",  # percentage points of a month-on-month change
}
# enum values and words of the data that must never show in zh-CN, whatever their length
FORBIDDEN = re.compile(r"(?<![A-Za-z0-9_])(None|nan|NaN|null|True|False|true|false|ai|inspector|auditor|manager|"
                       r"department|pending|confirmed|dismissed|red|yellow|green|calendar|workday|open|completed|"
                       r"empty)(?![A-Za-z0-9_])")
# a run of letters, digits and id punctuation: a run holding a digit is an id or a code (W01, D02,
# I-001, a case id, a snapshot file name, a hash) and is allowed as such
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]*")
WORD = re.compile(r"[A-Za-z]{3,}")
KEY = re.compile(r"(?<![\w/.-])[a-z_]+\.[a-z_]+(\.[A-Za-z_]+)*\b")  # a catalogue key shown as text (col.case_id)
# a drill-down link's target (`case?case=…`, common.with_link): the grid's accessible table holds the
# URL, the screen shows 打开
LINK = re.compile(r"(?<![\w/])[a-z_]+\?[a-z_]+=\S*")


def english_words(text: str, icons: set[str] = frozenset()) -> set[str]:
    """Words of `text` that are English (or code) in ASCII letters and not allowed."""
    found = set()
    for token in TOKEN.findall(LINK.sub(" ", text)):
        if any(ch.isdigit() for ch in token) or token in icons:
            continue
        found |= {w for w in WORD.findall(token) if w not in ALLOWED}
    return found


def untranslated(text: str, icons: set[str] = frozenset()) -> dict[str, set[str]]:
    """{kind: words} of what `text` shows untranslated; empty when it is all Chinese."""
    text = LINK.sub(" ", text)
    problems = {"english": english_words(text, icons), "enum": set(FORBIDDEN.findall(text)),
                "key": {m.group(0) for m in KEY.finditer(text)}}
    return {k: v for k, v in problems.items() if v}
