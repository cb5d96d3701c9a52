"""`windowwatch serve` listens on 127.0.0.1 unless configured (docs/operations.md, "Serving the
dashboards"): checked on the real listening socket, from /proc/net/tcp."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from tests.support.dashboard_server import dashboard_server


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets in LISTEN state on the port (IPv4 and IPv6)."""
    out: set[str] = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            addr_hex, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:
                continue
            raw = bytes.fromhex(addr_hex)
            # /proc prints each 32-bit word in host (little-endian) order
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            out.add(socket.inet_ntop(family, raw))
    return out


@pytest.mark.parametrize(("extra", "env", "want"), [
    ((), {}, {"127.0.0.1"}),
    (("--address", "0.0.0.0"), {}, {"0.0.0.0"}),
    ((), {"WINDOWWATCH_SERVE_ADDRESS": "0.0.0.0"}, {"0.0.0.0"}),
])
def test_serve_binds_localhost_unless_configured(ww_home, tmp_path, monkeypatch, extra, env, want):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with dashboard_server(ww_home, tmp_path / "serve.log", extra_args=extra) as (base, _pid):
        port = int(base.rsplit(":", 1)[1])
        assert listening_addresses(port) == want
