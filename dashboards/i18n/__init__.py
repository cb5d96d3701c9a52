"""Message catalogues: zh-CN first, English second; `t(key)` looks a key up in the current language.

Catalogues are flat YAML mappings (`zh_CN.yaml`, `en.yaml`) of dotted keys to text with optional
`{name}` placeholders. A key missing in English falls back to Chinese; a key missing in both
shows the key itself (and a test fails on it).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
LANGS = {"zh": "zh_CN.yaml", "en": "en.yaml"}
DEFAULT_LANG = "zh"


@cache
def catalogue(lang: str) -> dict[str, str]:
    data = yaml.safe_load((HERE / LANGS[lang]).read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in data.items()}


def current_lang() -> str:
    try:
        import streamlit as st

        lang = st.session_state.get("lang", DEFAULT_LANG)
    except Exception:  # outside a Streamlit run (CLI, tests of helpers)
        lang = DEFAULT_LANG
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str | None = None, **values) -> str:
    lang = lang or current_lang()
    text = catalogue(lang).get(key) or catalogue(DEFAULT_LANG).get(key) or key
    return text.format(**values) if values else text
