import subprocess
import sys

from windowwatch.cli import HANDLERS, build_parser


def test_every_spec_subcommand_parses():
    p = build_parser()
    for argv in (
        ["demo"],
        ["generate", "--scale", "small", "--out", "x", "--seed", "1"],
        ["run", "--feeds", "x", "--as-of", "2025-11-30"],
        ["serve", "--port", "8502"],
        ["users", "add", "alice", "--role", "viewer", "--password-stdin"],
        ["report", "publish", "--month", "2025-11"],
        ["audit", "draw", "--plan", "p.yaml", "--entropy", "123", "--json"],
        ["audit", "verify"],
        ["bench", "--scale", "city"],
    ):
        p.parse_args(argv)
    assert {"demo", "generate", "run", "serve", "users add", "report publish", "audit draw", "bench"} <= set(HANDLERS)


def test_bad_month_is_rejected():
    r = subprocess.run(
        [sys.executable, "-m", "windowwatch.cli", "report", "publish", "--month", "2025-13"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2
    assert "not a month" in r.stderr
