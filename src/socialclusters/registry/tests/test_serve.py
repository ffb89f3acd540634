"""``socialclusters serve`` starts the site and a task worker, and stops both together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    listing = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in listing.read_text().split()] if listing.exists() else []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads child processes from /proc")
def test_serve_answers_with_a_worker_beside_it_and_stops_it(tmp_path):
    env = {**os.environ, "SOCIALCLUSTERS_DATA_DIR": str(tmp_path), "SOCIALCLUSTERS_TASKS": "database",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}"}
    command = [sys.executable, "-m", "socialclusters.cli"]
    subprocess.run([*command, "migrate", "--verbosity", "0"], env=env, check=True, timeout=300)
    port = _free_port()
    server = subprocess.Popen([*command, "serve", f"127.0.0.1:{port}", "--noreload"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, status = time.monotonic() + 120, None
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5) as answer:
                    status = answer.status
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                time.sleep(0.5)
        assert status == 200
        workers = [pid for pid in _children(server.pid)
                   if b"db_worker" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(workers) == 1
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert not Path(f"/proc/{workers[0]}").exists() or b"Z" in Path(f"/proc/{workers[0]}/stat").read_bytes()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
