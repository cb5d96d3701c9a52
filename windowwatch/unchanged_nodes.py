"""Which dbt nodes a daily build can keep as they are (performance; docs/scaling.md).

A node (model, data test, seed) computes the same rows as last time when nothing it reads has
changed since: the dbt project (every file of it), the vars (the scoring file's hash), the files
behind the sources it reads directly or through its parents, and — only for a node that reads
`as_of_date()` itself or through one of its parents — the as-of date. This module gives each node a
**signature** over exactly those inputs, records the signature of every node a build completed
(`<warehouse>.nodes.json`, beside the warehouse) and, on the next build, names the nodes whose
signature and last status (success / pass) are unchanged: `transform.build` leaves them out and
reports them as `reused`.

What is read and how (all from the previous build's `target/manifest.json`, the same project):
- a source's files: the path in its `external_location` (`read_parquet('…')`), globbed. A file up
  to `CONTENT_HASH_MAX_BYTES` is hashed by content (the supervision and audit exports, rewritten
  every run, and the empty schema files); a larger one by path, size and mtime in nanoseconds
  (landing files are written once, by an atomic rename, and never changed: ingest/README.md). Not
  the inode: a home restored with `cp -a` keeps its files' times, and should keep its nodes.
  Hashing every landing file's content instead cost 0.35 s a city build. A source whose location
  cannot be read is always "changed".
- the as-of dependence: the node's macros and their macros, transitively, include `as_of_date`.
- parents: `parent_map`, transitively down to the sources.

Safe against interruption: before dbt runs, the nodes about to run lose their recorded signature
(the file is rewritten atomically), so a build killed half-way leaves them to be rebuilt. Only
what the build then completed is recorded. Safe against a warehouse file replaced behind its back
(an older copy put back): each recording writes a new random token into the warehouse
(TOKEN_TABLE) and into the state, and a plan needs both to agree. A warning or failing test is never reused (it is
re-run and re-reported every build), nor is a node of a build that gave no plan (a first build,
`--full-refresh`, a `select`) recorded from anything but its own results.
"""

from __future__ import annotations

import glob
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.atomic import write_text

STATE_VERSION = 1
CONTENT_HASH_MAX_BYTES = 64 * 1024
AS_OF_MACRO = "macro.windowwatch.as_of_date"
# One row, one random token, written into the warehouse with every recording (see plan)
TOKEN_TABLE = "main.windowwatch_nodes_token"
REUSABLE_STATUS = {"success", "pass"}
_LOCATION = re.compile(r"read_parquet\(\s*'([^']+)'")


def state_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".nodes.json")


def project_fingerprint(project_dir: Path, extra: str) -> str:
    """Every file of the dbt project that shapes what a node computes (SQL, YAML: contracts and
    tests, seeds, dbt_project.yml, profiles.yml), by content, with `extra` (the vars' hash, the
    target, the versions)."""
    digest = hashlib.sha256(extra.encode() + b"\0")
    for path in sorted(project_dir.rglob("*")):
        rel = path.relative_to(project_dir)
        if not path.is_file() or rel.parts[0] in ("target", "logs", "dbt_packages") or path.suffix == ".pyc":
            continue
        digest.update(rel.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def _file_part(path: str) -> str:
    p = Path(path)
    st = p.stat()
    if st.st_size <= CONTENT_HASH_MAX_BYTES:
        return f"{path}\0{hashlib.blake2b(p.read_bytes(), digest_size=16).hexdigest()}"
    return f"{path}\0{st.st_size}\0{st.st_mtime_ns}"


def source_fingerprint(source: dict) -> str | None:
    """The files behind a source, or None when its location is not a `read_parquet('…')` path."""
    location = (source.get("meta") or {}).get("external_location") or ""
    m = _LOCATION.search(location)
    if not m:
        return None
    files = sorted(glob.glob(m.group(1), recursive=True))
    digest = hashlib.sha256(m.group(1).encode() + b"\0")
    for f in files:
        digest.update(_file_part(f).encode() + b"\n")
    return digest.hexdigest()[:20]


@dataclass
class Graph:
    """What each node of a manifest reads: its sources (transitively) and whether it reads the as-of date."""

    names: dict[str, str]  # unique_id -> name (dbt selects by name)
    parents: dict[str, list[str]]  # unique_id -> the nodes it reads (not sources)
    sources: dict[str, frozenset[str]]
    as_of: dict[str, bool]
    source_meta: dict[str, dict]

    @classmethod
    def from_manifest(cls, manifest: dict) -> "Graph":
        nodes = {uid: n for uid, n in manifest["nodes"].items()
                 if n.get("resource_type") in ("model", "test", "seed", "snapshot")}
        macros = manifest.get("macros", {})
        macro_as_of: dict[str, bool] = {}

        def macro_reads_as_of(uid: str, seen: frozenset = frozenset()) -> bool:
            if uid == AS_OF_MACRO:
                return True
            if uid in macro_as_of:
                return macro_as_of[uid]
            if uid in seen:
                return False
            deps = ((macros.get(uid) or {}).get("depends_on") or {}).get("macros") or []
            macro_as_of[uid] = any(macro_reads_as_of(d, seen | {uid}) for d in deps)
            return macro_as_of[uid]

        parents = manifest.get("parent_map") or {uid: (n.get("depends_on") or {}).get("nodes", []) for uid, n in nodes.items()}
        sources: dict[str, frozenset[str]] = {}
        as_of: dict[str, bool] = {}

        def visit(uid: str) -> None:
            if uid in sources:
                return
            srcs: set[str] = set()
            reads = any(macro_reads_as_of(m) for m in ((nodes.get(uid) or {}).get("depends_on") or {}).get("macros", []))
            sources[uid] = frozenset()  # a cycle cannot occur in dbt's DAG; guards recursion anyway
            for p in parents.get(uid, []):
                if p.startswith("source."):
                    srcs.add(p)
                elif p in nodes:
                    visit(p)
                    srcs |= sources[p]
                    reads = reads or as_of[p]
            sources[uid] = frozenset(srcs)
            as_of[uid] = reads

        for uid in nodes:
            visit(uid)
        return cls(names={uid: n["name"] for uid, n in nodes.items()},
                   parents={uid: [p for p in parents.get(uid, []) if p in nodes] for uid in nodes}, sources=sources, as_of=as_of,
                   source_meta=manifest.get("sources", {}))

    def signatures(self, project: str, as_of_date: str) -> dict[str, str]:
        fps = {uid: source_fingerprint(meta) for uid, meta in self.source_meta.items()}
        out = {}
        for uid, srcs in self.sources.items():
            if any(fps.get(s) is None for s in srcs):
                continue  # an unreadable location: never reused
            parts = [project, as_of_date if self.as_of[uid] else "-", *sorted(f"{s}={fps[s]}" for s in srcs)]
            out[uid] = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]
        return out


@dataclass
class Plan:
    """A build's split of the project's nodes: what runs, what is kept (with the build it is kept from)."""

    signatures: dict[str, str]
    names: dict[str, str]  # unique_id -> name
    run: list[str] = field(default_factory=list)  # names to select
    reused: dict[str, dict] = field(default_factory=dict)  # unique_id -> its recorded entry
    exclude_is_exact: bool = True  # `--exclude` the reused names runs exactly `run` (see dbt_selection)

    def dbt_selection(self) -> list[str]:
        """dbt arguments that run exactly the nodes of `run`: `--exclude` the (fewer) reused names
        (dbt matches every name against every node, three times: 169 names cost ~0.5 s a city build),
        unless a test to run reads a kept node — dbt would drop that test with its parent — then
        `--select` the names to run."""
        if self.exclude_is_exact:
            return ["--exclude", *sorted(self.names[uid] for uid in self.reused)]
        return ["--select", *self.run]


def load_state(warehouse: Path) -> dict:
    try:
        state = json.loads(state_path(warehouse).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {"version": STATE_VERSION, "nodes": {}}
    if state.get("version") != STATE_VERSION:
        return {"version": STATE_VERSION, "nodes": {}}
    return state


def save_state(warehouse: Path, state: dict) -> None:
    write_text(state_path(warehouse), json.dumps(state, ensure_ascii=False, indent=0, sort_keys=True) + "\n")


def plan(manifest_path: Path, warehouse: Path, project: str, as_of_date: str, home: str,
         warehouse_token: str | None) -> Plan | None:
    """The nodes to run and to keep, or None (then everything runs) when the previous build's
    manifest is missing or unreadable, the state was recorded for another home folder, or the
    warehouse is not the one the state was recorded with.

    The manifest holds the source locations rendered with the home of the build that wrote it: a
    home copied or moved to another folder would have its files looked for in the old one.
    `warehouse_token` is the token the last recording wrote into the warehouse itself (TOKEN_TABLE):
    a warehouse file replaced by another (an older copy put back by hand) does not carry the
    state's token, and its tables cannot be trusted to be the recorded ones."""
    state = load_state(warehouse)
    if state.get("home") != home or not warehouse_token or state.get("token") != warehouse_token:
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    graph = Graph.from_manifest(manifest)
    sigs = graph.signatures(project, as_of_date)
    recorded = state["nodes"]
    p = Plan(signatures=sigs, names=graph.names)
    for uid, name in sorted(graph.names.items()):
        entry = recorded.get(uid)
        if entry and sigs.get(uid) and entry.get("signature") == sigs[uid] and entry.get("status") in REUSABLE_STATUS:
            p.reused[uid] = entry
        else:
            p.run.append(name)
    p.exclude_is_exact = not any(uid.startswith("test.") and uid not in p.reused and any(q in p.reused for q in graph.parents[uid])
                                 for uid in graph.names)
    return p


def forget(warehouse: Path, unique_ids, everything: bool = False) -> None:
    """Drop the recorded signature of nodes about to be rebuilt (before dbt touches them);
    `everything`: a build without a plan may rebuild any node."""
    if everything:
        state_path(warehouse).unlink(missing_ok=True)
        return
    state = load_state(warehouse)
    for uid in unique_ids:
        state["nodes"].pop(uid, None)
    save_state(warehouse, state)


def record(warehouse: Path, signatures: dict[str, str], results: list[tuple[str, str]], as_of_date: str, built_at: str,
           home: str, token: str, replace: bool = False) -> None:
    """Record `results` ((unique_id, status) of a build in `home`): a reusable status with the
    node's signature, anything else forgotten. `replace`: start from nothing (a full build).
    `token`: what the caller has just written into the warehouse's TOKEN_TABLE."""
    state = {"version": STATE_VERSION, "nodes": {}} if replace else load_state(warehouse)
    if state.get("home") != home:
        state = {"version": STATE_VERSION, "nodes": {}}
    state["home"] = home
    state["token"] = token
    for uid, status in results:
        if status in REUSABLE_STATUS and uid in signatures:
            state["nodes"][uid] = {"signature": signatures[uid], "status": status, "as_of": as_of_date, "built_at": built_at}
        else:
            state["nodes"].pop(uid, None)
    save_state(warehouse, state)
