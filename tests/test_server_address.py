"""Issue 27: Streamlit listened on every interface (``.streamlit/config.toml`` set no address), so with no
teacher password any browser on the network was offered the command-line runs and could delete them. The
server started as the README says (``streamlit run app.py``, no flags) listens on loopback only; serving a
class is a choice the operator makes (docs/classroom-safety.md)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from mnist_core.commands.watch_cost import free_loopback_port

ROOT = Path(__file__).resolve().parent.parent


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the TCP sockets listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_the_config_listens_on_loopback_and_points_to_the_guide():
    config = (ROOT / ".streamlit" / "config.toml").read_text()  # (tomllib is Python 3.11+; we support 3.10)
    server = config.split("[server]", 1)[1].split("\n[", 1)[0]
    assert re.search(r'^address\s*=\s*"127\.0\.0\.1"\s*$', server, re.M)
    assert "sslCertFile" in (ROOT / "docs" / "classroom-safety.md").read_text()


def test_streamlit_run_with_no_flags_listens_on_loopback_only(tmp_path):
    port = free_loopback_port()
    env = {**os.environ, "MNIST_RUNS_DIR": str(tmp_path / "runs")}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                assert time.time() < deadline, "the server did not start within 60 s"
                time.sleep(0.3)
        addresses = listening_addresses(port)
        # 0100007F is 127.0.0.1 as /proc writes it; every interface would be 00000000 (or :: in tcp6).
        assert addresses == {"0100007F"}, addresses
    finally:
        server.terminate()
        server.wait(timeout=20)
