"""Real `flask worker` processes: killed with SIGKILL mid-batch, and two at once on PostgreSQL.

Each subprocess uses the test's database (``app.config["DATABASE_URL"]``); a
finalizer kills whatever is still running. The crash test uses a short lease so that
the dead worker's work is taken over quickly; the two live workers get one long
enough never to lapse between sending an event and recording it, as in production
(WORKER_LEASE_SECONDS, 60 s): a lapsed lease means "this worker died", and the one
taking over sends the event again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.factories import case_in, make_people
from tests.webhook_support import Receiver, add_endpoint, attempt_log, deliveries, stream_ids

ROOT = Path(__file__).resolve().parent.parent
LEASE = 1
LIVE_LEASE = 30


@pytest.fixture
def workers(app, request):
    """Start `flask worker` subprocesses on the test's database; all killed at the end."""
    started: list[subprocess.Popen] = []

    def start(*args: str, lease: int = LEASE) -> subprocess.Popen:
        env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"],
               "WORKER_LEASE_SECONDS": str(lease), "SECRET_KEY": "test"}
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "worker", *args], cwd=ROOT,
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started.append(process)
        return process

    def kill_all():
        for process in started:
            if process.poll() is None:
                process.kill()
            process.wait(10)
            process.stderr.close()

    request.addfinalizer(kill_all)
    return start


def wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def first_arrivals(receiver: Receiver) -> list[tuple[int, str]]:
    """(sequence, event id) in the order each id was first accepted."""
    seen: dict[str, int] = {}
    for r in receiver.accepted():
        seen.setdefault(r.event_id, r.sequence)
    return [(sequence, event_id) for event_id, sequence in seen.items()]


def test_a_worker_killed_mid_batch_loses_nothing(app, workers):
    people = make_people(app, "customer", "operator")
    receiver = Receiver(delay=0.15).start()
    try:
        endpoint = add_endpoint(app, receiver)
        for _ in range(8):
            case_in(app, "approved", people)
        worker = workers()
        wait_for(lambda: len(receiver.received) >= 3)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        killed_at = len(receiver.received)
        assert killed_at < 8
        time.sleep(LEASE + 0.2)  # the dead worker's lease expires
        again = workers("--once")
        assert again.wait(30) == 0, again.stderr.read().decode()
        assert first_arrivals(receiver) == stream_ids(app)
        ids = [r.event_id for r in receiver.accepted()]
        assert len(ids) - len(set(ids)) <= 1  # at most the one in flight, same id again
        assert [d[1] for d in deliveries(app, endpoint)] == ["delivered"] * 8
    finally:
        receiver.stop()


def test_sigterm_stops_the_worker_cleanly(app, workers):
    worker = workers()
    assert "started" in worker.stderr.readline().decode()  # its signal handlers are set
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(10) == 0


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="needs PostgreSQL")
def test_two_workers_share_endpoints_without_doubling_or_skipping(app, workers):
    people = make_people(app, "customer", "operator")
    receivers = [Receiver(delay=0.05).start() for _ in range(3)]
    try:
        ids = [add_endpoint(app, r) for r in receivers]
        for _ in range(6):
            case_in(app, "approved", people)
        workers(lease=LIVE_LEASE), workers(lease=LIVE_LEASE)

        def all_delivered():
            return all([d[1] for d in deliveries(app, i)] == ["delivered"] * 6 for i in ids)

        wait_for(all_delivered, timeout=30)
        expected = stream_ids(app)
        for receiver, endpoint in zip(receivers, ids, strict=True):
            assert receiver.most_in_flight == 1
            assert [(r.sequence, r.event_id) for r in receiver.accepted()] == expected, \
                attempt_log(app, endpoint)
    finally:
        for receiver in receivers:
            receiver.stop()
