"""Fixtures: the stand-in allow-list server and real ``python -m enforcer`` processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .support import SECRET, TOKEN, AllowList, Enforcer, free_port, serve_allowlist

ROOT = Path(__file__).resolve().parents[2]


class Launcher:
    """Starts receivers (configured through the environment, as systemd would) and
    always stops them."""

    def __init__(self, folder: Path, allowlist: AllowList):
        self.folder, self.allowlist = folder, allowlist
        self.processes: list[subprocess.Popen] = []

    def start(self, *args: str, state_dir: Path | None = None, secrets=(SECRET,),
              resync_interval: float = 300) -> Enforcer:
        state_dir = state_dir or self.folder / "state"
        port = free_port()
        log_path = self.folder / f"enforcer-{len(self.processes)}.log"
        env = {**os.environ, "ENFORCER_LISTEN": f"127.0.0.1:{port}",
               "ENFORCER_SECRETS": ",".join(secrets), "ENFORCER_TOKEN": TOKEN,
               "ENFORCER_ALLOWLIST_URL": self.allowlist.url,
               "ENFORCER_STATE_DIR": str(state_dir),
               "ENFORCER_RESYNC_INTERVAL": str(resync_interval)}
        with open(log_path, "wb") as log:
            process = subprocess.Popen([sys.executable, "-m", "enforcer", *args], cwd=ROOT,
                                       env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        enforcer = Enforcer(process, port, state_dir, log_path)
        wait_until_ready(enforcer)
        return enforcer

    def stop_all(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_ready(enforcer: Enforcer, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if enforcer.process.poll() is not None:
            pytest.fail(f"enforcer exited {enforcer.process.returncode}:\n{enforcer.log()}")
        try:
            if enforcer.request("GET", "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"enforcer not ready after {seconds} s:\n{enforcer.log()}")


@pytest.fixture
def allowlist():
    server, allowlist = serve_allowlist()
    yield allowlist
    server.shutdown()
    server.server_close()


@pytest.fixture
def start_enforcer(tmp_path, allowlist):
    """start(*args, state_dir=, secrets=, resync_interval=) → a running Enforcer."""
    launcher = Launcher(tmp_path, allowlist)
    yield launcher.start
    launcher.stop_all()


@pytest.fixture(scope="module")
def steady_enforcer(tmp_path_factory):
    """One receiver holding B at sequence 1, shared by tests that must change nothing."""
    server, allowlist = serve_allowlist()
    launcher = Launcher(tmp_path_factory.mktemp("steady"), allowlist)
    try:
        enforcer = launcher.start()
        yield enforcer
    finally:
        launcher.stop_all()
        server.shutdown()
        server.server_close()
