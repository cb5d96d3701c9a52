"""Data Docs page views that keep GE's compiled Jinja templates between gate runs.

GE's views each build a Jinja environment and compile every template they render (51 compiles
a gate run: about half of a Data Docs build, ~0.15 s). These subclasses only give that
environment Jinja's own bytecode cache (`$WINDOWWATCH_HOME/cache/gx_jinja`, files keyed by
template name and checked against the template's source), so a template is compiled once per GE
version. Without WINDOWWATCH_HOME, templates compile as before. The pages are rendered by GE's own templates and code, byte for byte as
before. GE instantiates them from the site config (`gx_run.new_context`: `view` of each site
section builder and of the index builder).
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView

from core.settings import settings


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Never fails a render: bytecode it cannot write (disk full, folder removed) is not kept."""

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


_BYTECODE: dict[str, jinja2.BytecodeCache | None] = {}


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """The home's template cache (one per home, created on first use), or None."""
    env_settings = settings()
    root = str(env_settings.home) if "home" in env_settings.model_fields_set else None
    if not root:
        return None
    if root not in _BYTECODE:
        folder = Path(root) / "cache" / "gx_jinja"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _BYTECODE[root] = _QuietBytecodeCache(str(folder))
        except OSError:  # a read-only home: templates compile as before
            _BYTECODE[root] = None
    return _BYTECODE[root]


class _BytecodeCached:
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cache = _bytecode_cache()
        if cache is not None:
            self.env.bytecode_cache = cache


class CachedJinjaPageView(_BytecodeCached, DefaultJinjaPageView):
    pass


class CachedJinjaIndexPageView(_BytecodeCached, DefaultJinjaIndexPageView):
    pass


def site_config_views() -> dict:
    """The parts of a SiteBuilder config that select these views (GE merges them into its
    default site section builders)."""
    page = {"module_name": __name__, "class_name": CachedJinjaPageView.__name__}
    return {
        "site_section_builders": {section: {"view": dict(page)} for section in ("expectations", "validations", "profiling")},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder",
                               "view": {"module_name": __name__, "class_name": CachedJinjaIndexPageView.__name__}},
    }
