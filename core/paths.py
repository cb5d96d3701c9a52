"""Where WindowWatch keeps its state: everything lives under WINDOWWATCH_HOME (default ./var)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.settings import settings

REPO_ROOT = Path(__file__).resolve().parent.parent
FINDINGS_PARQUET = "findings.parquet"  # audit/findings.parquet: the audit findings dbt reads
# landing/_supervision/<table>.parquet: the supervision store's export dbt reads (windowwatch/supervision/export.py)
SUPERVISION_EXPORT_DIR = "_supervision"
SUPERVISION_EXPORT_TABLES = ("items", "transitions", "video_reviews")


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def from_env(cls) -> "Home":
        return cls(settings().home.resolve())

    @property
    def landing(self) -> Path:  # landing/<feed>/part_date=YYYY-MM-DD/<delivery_id>.parquet
        return self.root / "landing"

    @property
    def ledger(self) -> Path:  # one JSON per landed delivery, written last
        return self.root / "landing" / "_ledger"

    @property
    def quarantine(self) -> Path:  # quarantine/<feed>/<delivery_id>.parquet
        return self.root / "quarantine"

    @property
    def state(self) -> Path:  # watermarks of sql/http sources, run summaries
        return self.root / "state"

    @property
    def runs(self) -> Path:  # one JSON summary per pipeline run (reconciliation, status)
        return self.root / "runs"

    @property
    def warehouse(self) -> Path:  # the dbt build target (work file)
        return self.root / "warehouse.duckdb"

    @property
    def published(self) -> Path:  # immutable snapshots + CURRENT pointer
        return self.root / "published"

    @property
    def reports(self) -> Path:  # reports/YYYY-MM/vN/ranking.{pdf,xlsx,html}
        return self.root / "reports"

    @property
    def audit(self) -> Path:  # audit/draws.jsonl (hash-chained), plans, findings
        return self.root / "audit"

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    @property
    def data_docs(self) -> Path:
        return self.root / "data_docs"

    @property
    def demo_feeds(self) -> Path:
        return self.root / "demo_feeds"

    @property
    def accounts(self) -> Path:
        return self.root / "accounts.yaml"

    def ensure(self) -> "Home":
        for p in (self.landing, self.ledger, self.quarantine, self.state, self.runs, self.published):
            p.mkdir(parents=True, exist_ok=True)
        return self


def home() -> Home:
    return Home.from_env()
