"""Monthly ranking publication (docs/rules.md): frozen, versioned PDF / XLSX / HTML reports.

API for the dashboard page 月度报告: `list_versions(month=None)` and `publish_month(month)`.
"""

from windowwatch.reports.data import ReportError
from windowwatch.reports.publication import PublishResult, list_versions, publish_month

__all__ = ["PublishResult", "ReportError", "list_versions", "publish_month"]
