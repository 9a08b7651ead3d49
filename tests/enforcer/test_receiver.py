"""The receiver as a real process, against a real allow-list server (DESIGN §5)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from .support import SECOND_SECRET, SECRET, TOKEN, event, minutes_ago, signed_headers

UNKNOWN_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="

A, B, C = "203.0.113.7/32", "198.51.100.0/24", "2001:db8:1::/48"


def test_activation_is_on_disk_when_the_answer_comes(start_enforcer):
    enforcer = start_enforcer()

    status, body = enforcer.post(event("activated", A, 1))

    # Read straight after the 2xx: the journal line and the state are already there.
    assert (status, body["status"]) == (200, "applied")
    [line] = enforcer.journal()
    # The journal keeps the delivery exactly as signed: it verifies again later.
    headers = {k.replace("_", "-"): v for k, v in line.items() if k.startswith("webhook_")}
    assert Webhook(SECRET).verify(line["body"], headers)["data"]["sequence"] == 1
    state = enforcer.state()
    assert state["sequence"] == 1
    assert state["targets"][A] == {"protocol": "2026000000001", "subscriber_id": "CTR-0042",
                                   "valid_until": "2099-01-01T00:00:00Z", "sequence": 1}
    assert "add element inet filter porta25_allow4 { 203.0.113.7/32 }" in enforcer.pending()


def test_ipv4_and_ipv6_targets_go_to_their_own_sets(start_enforcer):
    enforcer = start_enforcer()

    for sequence, target in enumerate((A, C), start=1):
        assert enforcer.post(event("activated", target, sequence))[0] == 200

    pending = enforcer.pending()
    assert "add element inet filter porta25_allow4 { 203.0.113.7/32 }" in pending
    assert "add element inet filter porta25_allow6 { 2001:db8:1::/48 }" in pending


@pytest.mark.parametrize("order", [("activated", "revoked"), ("revoked", "activated")])
@pytest.mark.parametrize("allowlist_lags", [False, True])
def test_activated_then_revoked_ends_blocked_in_any_arrival_order(
        start_enforcer, allowlist, order, allowlist_lags):
    enforcer = start_enforcer()
    # The truth at sequence 2: approved (1), then revoked (2). A lagging allow-list
    # still shows sequence 0 when the jump makes the receiver ask.
    allowlist.publish(0 if allowlist_lags else 2)
    sequences = {"activated": 1, "revoked": 2}

    answers = [enforcer.post(event(kind, A, sequences[kind]))[0] for kind in order]

    # A jump the allow-list cannot explain yet is applied but not acknowledged.
    jump_unresolved = allowlist_lags and order[0] == "revoked"
    assert answers == ([503, 200] if jump_unresolved else [200, 200])
    assert A not in enforcer.allowed()
    assert "203.0.113.7" not in enforcer.pending()


@pytest.mark.parametrize("kind", ["revoked", "expired"])
def test_revoked_or_expired_blocks_again(start_enforcer, kind):
    enforcer = start_enforcer()
    enforcer.post(event("activated", A, 1))
    enforcer.post(event("activated", B, 2))

    assert enforcer.post(event(kind, A, 3, valid_until=None))[0] == 200

    assert enforcer.allowed() == {B}
    assert "203.0.113.7" not in enforcer.pending()


REFUSALS = {
    "bad signature": lambda body: {**signed_headers(body),
                                   "webhook-signature": "v1,Zm9vYmFyYmF6cXV4"},
    "signature without version": lambda body: {**signed_headers(body),
                                               "webhook-signature": "garbage"},
    "signature not base64": lambda body: {**signed_headers(body),
                                          "webhook-signature": "v1,abc"},
    "no signature header": lambda body: {k: v for k, v in signed_headers(body).items()
                                         if k != "webhook-signature"},
    "timestamp not a number": lambda body: {**signed_headers(body),
                                            "webhook-timestamp": "soon"},
    "timestamp 10 minutes old": lambda body: signed_headers(body, when=minutes_ago(10)),
    "timestamp 10 minutes ahead": lambda body: signed_headers(body, when=minutes_ago(-10)),
    "unknown secret": lambda body: signed_headers(body, secrets=(UNKNOWN_SECRET,)),
}


@pytest.fixture(scope="module")
def holding_b(steady_enforcer):
    """The shared receiver after one applied event: B allowed at sequence 1."""
    if steady_enforcer.state()["sequence"] == 0:
        assert steady_enforcer.post(event("activated", B, 1))[0] == 200
    return steady_enforcer


def on_disk(enforcer) -> tuple:
    return enforcer.state(), enforcer.pending(), enforcer.journal()


@pytest.mark.parametrize("case", REFUSALS)
def test_unverified_webhook_is_refused_and_changes_nothing(holding_b, case):
    before = on_disk(holding_b)
    body = json.dumps(event("activated", A, 2))

    status, _ = holding_b.post(body, headers=REFUSALS[case](body))

    assert status == 401
    assert on_disk(holding_b) == before
    assert before[0]["targets"].keys() == {B}


@pytest.mark.parametrize("body", [
    "not json", "[]", '{"type": "exception.activated"}',
    '{"type": "exception.paused", "data": {"target": "203.0.113.7/32", "sequence": 2}}',
    '{"type": "exception.activated", "data": {"target": "not-an-ip", "sequence": 2,'
    ' "valid_until": "2099-01-01T00:00:00Z"}}',
    '{"type": "exception.activated", "data": {"target": "203.0.113.7/32", "sequence": "2",'
    ' "valid_until": "2099-01-01T00:00:00Z"}}',
    '{"type": "exception.activated", "data": {"target": "203.0.113.7/32", "sequence": 2}}',
])
def test_signed_but_malformed_body_is_400_and_changes_nothing(holding_b, body):
    before = on_disk(holding_b)

    assert holding_b.post(body)[0] == 400
    assert on_disk(holding_b) == before


def test_body_not_utf8_or_too_large_is_refused(holding_b):
    before = on_disk(holding_b)
    not_utf8 = b'{"type": "\xff"}'

    assert holding_b.post(not_utf8, headers={"webhook-id": "x"})[0] == 400
    assert holding_b.post(b" " * 70_000, headers={})[0] == 413
    assert on_disk(holding_b) == before


def test_same_webhook_id_twice_is_acknowledged_and_applied_once(start_enforcer):
    enforcer = start_enforcer()
    body = event("activated", A, 1)

    first = enforcer.post(body, msg_id="evt_once")
    second = enforcer.post(body, msg_id="evt_once")

    assert (first[0], first[1]["status"]) == (200, "applied")
    assert (second[0], second[1]["status"]) == (200, "duplicate")
    assert [line["webhook_id"] for line in enforcer.journal()] == ["evt_once"]


def test_restart_with_an_empty_state_dir_resyncs_to_the_allowlist(
        start_enforcer, allowlist, tmp_path):
    allowlist.publish(7, A, C)

    enforcer = start_enforcer(state_dir=tmp_path / "fresh")

    assert enforcer.state()["sequence"] == 7
    assert enforcer.state()["etag"] == '"7"'
    assert enforcer.allowed() == {A, C}
    assert "porta25_allow6 { 2001:db8:1::/48 }" in enforcer.pending()
    assert allowlist.requests[0]["authorization"] == f"Bearer {TOKEN}"


def test_journal_is_replayed_after_a_crash_before_the_state_write(
        start_enforcer, allowlist):
    enforcer = start_enforcer()
    enforcer.post(event("activated", A, 1))
    enforcer.post(event("activated", B, 2))
    enforcer.process.kill()
    enforcer.process.wait()
    # As if the crash came between the journal's fsync and the state file's rename.
    (enforcer.state_dir / "state.json").unlink()
    allowlist.failing = True

    restarted = start_enforcer(state_dir=enforcer.state_dir)

    assert restarted.state()["sequence"] == 2
    assert restarted.allowed() == {A, B}


def test_sequence_jump_resyncs_before_the_answer(start_enforcer, allowlist):
    enforcer = start_enforcer()
    assert enforcer.state()["sequence"] == 0
    seen = len(allowlist.requests)
    # Events 2-4 died upstream; the allow-list at 5 holds their result and event 5's.
    allowlist.publish(5, B, A)

    status, _ = enforcer.post(event("activated", A, 5))

    assert status == 200
    assert allowlist.requests[seen:] == [{"path": "/api/v1/enforcement/allowlist",
                                          "authorization": f"Bearer {TOKEN}",
                                          "if_none_match": '"0"'}]
    assert enforcer.state()["sequence"] == 5
    assert enforcer.allowed() == {A, B}


def test_jump_with_the_allowlist_down_asks_for_a_retry_and_keeps_the_state(
        start_enforcer, allowlist):
    allowlist.publish(1, B)
    enforcer = start_enforcer()
    allowlist.failing = True

    status, _ = enforcer.post(event("activated", A, 5))

    assert status == 503  # the sender retries; the jump is not acknowledged
    assert B in enforcer.allowed()  # never dropped to empty
    assert enforcer.state()["sequence"] == 1

    allowlist.failing = False
    allowlist.publish(5, B, A)
    assert enforcer.post(event("activated", A, 5))[0] == 200
    assert enforcer.state()["sequence"] == 5


def test_periodic_resync_uses_the_etag_and_follows_changes(start_enforcer, allowlist):
    allowlist.publish(3, A)
    enforcer = start_enforcer(resync_interval=0.2)
    wait_for(lambda: any(r["if_none_match"] == '"3"' for r in allowlist.requests))

    allowlist.publish(4, B)

    wait_for(lambda: enforcer.allowed() == {B})
    assert enforcer.state()["etag"] == '"4"'


def test_failed_resync_keeps_the_state(start_enforcer, allowlist):
    allowlist.publish(3, A)
    enforcer = start_enforcer(resync_interval=0.2)
    allowlist.failing = True
    seen = len(allowlist.requests)

    wait_for(lambda: len(allowlist.requests) > seen + 1)

    assert enforcer.allowed() == {A}
    assert "203.0.113.7/32" in enforcer.pending()


def test_expired_targets_are_not_allowed_without_an_expiry_event(start_enforcer, allowlist):
    allowlist.publish(1, B, valid_until="2020-01-01T00:00:00Z")
    enforcer = start_enforcer()
    assert enforcer.allowed() == set()
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()

    assert enforcer.post(event("activated", A, 2, valid_until=soon))[0] == 200
    assert enforcer.allowed() == {A}

    # The state file is written first, the nft script right after it.
    wait_for(lambda: enforcer.allowed() == set() and "203.0.113.7" not in enforcer.pending())


def test_rotation_accepts_either_secret(start_enforcer):
    enforcer = start_enforcer(secrets=(SECRET, SECOND_SECRET))

    by_second = enforcer.post(event("activated", A, 1), secrets=(SECOND_SECRET,))
    by_both = enforcer.post(event("activated", B, 2), secrets=(SECOND_SECRET, SECRET))

    assert (by_second[0], by_both[0]) == (200, 200)
    assert enforcer.allowed() == {A, B}


def test_apply_runs_nft_with_one_script(start_enforcer, tmp_path):
    record = tmp_path / "nft-calls"
    fake_nft = tmp_path / "nft"
    # Stands in for nft: records its arguments and the script it was given.
    fake_nft.write_text(f'#!/bin/sh\necho "$@" >> {record}\ncat "$2" >> {record}\n')
    fake_nft.chmod(0o755)
    enforcer = start_enforcer("--apply", "--nft-binary", str(fake_nft),
                              "--nft-set", "inet porta25 allowed")

    assert enforcer.post(event("activated", A, 1))[0] == 200

    calls = record.read_text()
    assert calls.count(f"-f {enforcer.state_dir / 'nft-apply.nft'}") == 2  # start, event
    assert "add element inet porta25 allowed4 { 203.0.113.7/32 }" in calls
    assert not (enforcer.state_dir / "nft-pending.nft").exists()


def test_failing_nft_is_not_acknowledged(start_enforcer, tmp_path):
    fake_nft = tmp_path / "nft"
    fake_nft.write_text("#!/bin/sh\necho 'Error: No such file or directory' >&2\nexit 1\n")
    fake_nft.chmod(0o755)
    enforcer = start_enforcer("--apply", "--nft-binary", str(fake_nft))

    status, _ = enforcer.post(event("activated", A, 1))

    assert status == 503
    assert enforcer.request("GET", "/healthz")[1]["nft_in_step"] is False


def test_log_never_shows_secrets_or_tokens(start_enforcer, allowlist):
    enforcer = start_enforcer("--log-level", "DEBUG", secrets=(SECRET, SECOND_SECRET))
    enforcer.post(event("activated", A, 1))
    enforcer.post(event("activated", A, 2), secrets=(UNKNOWN_SECRET,))
    allowlist.failing = True
    enforcer.post(event("activated", A, 9))

    log = enforcer.log()
    assert "refused" in log and "resync" in log
    for secret in (SECRET, SECOND_SECRET, TOKEN):
        assert secret not in log
        assert secret.removeprefix("whsec_") not in log


def wait_for(condition, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)

