"""The leaf layer: what every stage shares and nothing else.

The feed contract (`feeds`), configuration files (`config`), the `WINDOWWATCH_*` settings
(`settings`), where state lives (`paths`), local time (`localtime`), atomic writes (`atomic`)
and the fault points of the crash trials (`faults`). It imports only libraries: `ingest/`,
`expectations/`, `windowwatch/` and `dashboards/` build on it, never the other way round
(the import-linter contracts in pyproject.toml; docs/architecture.md).
"""
