"""Faults (issue 8): kill -9 the Great Expectations gates (raw landing, marts) at seeded random
moments, then re-run them: the same validation outcome as an uninterrupted run (success, suites,
expectations, each failure with its row count), Data Docs rebuilt, no temp file left (the raw
gate's batch folder included).
"""

from __future__ import annotations

import json
import time

import pytest

from tests.support.faults import WORKER, copy_home, kill_after, orphans, run, timed_rerun

GATES = ("ge-raw", "ge-marts")


@pytest.fixture(scope="module")
def reference(fault_world, tmp_path_factory):
    """Each gate run once, uninterrupted: its outcome and how long it took."""
    out = {}
    for gate in GATES:
        home = copy_home(fault_world.base, tmp_path_factory.mktemp(f"{gate}_ref") / "home")
        t0 = time.monotonic()
        proc = run([*WORKER, gate], home)
        assert proc.returncode == 0, proc.stderr[-3000:]
        out[gate] = {"seconds": time.monotonic() - t0, "outcome": json.loads(proc.stdout.strip().splitlines()[-1])}
        assert out[gate]["outcome"]["expectations"] > 0, out[gate]
    return out


def ge_trials(world, reference, tmp_path, gate: str, seeds) -> list[dict]:
    ref = reference[gate]
    results = []
    for seed in seeds:
        home = copy_home(world.base, tmp_path / f"{gate}{seed}")
        k = kill_after([*WORKER, gate], home, seed, lo=0.1 * ref["seconds"], hi=0.95 * ref["seconds"])
        proc = timed_rerun([*WORKER, gate], home, k)
        outcome = json.loads(proc.stdout.strip().splitlines()[-1])
        docs = home / "data_docs" / gate.removeprefix("ge-") / "index.html"
        results.append({"trial": k.label(), "killed": k.killed, "same_outcome": outcome == ref["outcome"],
                        "outcome": outcome, "data_docs": docs.is_file(), "orphans": orphans(home)})
    return results


def _assert_trials(gate: str, results: list[dict], reference) -> None:
    print(f"{gate} kill -9 trials:", json.dumps(results, ensure_ascii=False))
    for r in results:
        assert r["same_outcome"], f"after {r['trial']}: {r['outcome']} != {reference[gate]['outcome']}"
        assert r["data_docs"], f"no Data Docs after {r['trial']}"
        assert r["orphans"] == [], f"left behind after {r['trial']}: {r['orphans']}"
    assert any(r["killed"] for r in results), f"no trial was killed mid-gate: {results}"


# 3 trials for the stage in the default suite (a gate run takes ~15 s idle, ~45 s on a loaded
# 2-core machine): two of the raw gate, one of the marts gate; 20 per gate in the slow suite
@pytest.mark.parametrize(("gate", "seeds"), [("ge-raw", (51, 52)), ("ge-marts", (61,))])
def test_kill_9_ge_gate_then_rerun_gives_the_same_outcome(fault_world, reference, tmp_path, gate, seeds):
    _assert_trials(gate, ge_trials(fault_world, reference, tmp_path, gate, seeds), reference)


@pytest.mark.slow
@pytest.mark.parametrize("gate", GATES)
def test_kill_9_ge_gate_twenty_trials(fault_world, reference, tmp_path, gate):
    _assert_trials(gate, ge_trials(fault_world, reference, tmp_path, gate, range(500, 520)), reference)
