"""The pure rules of the receiver's state: sequences per target, tombstones, snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from enforcer.events import parse_event
from enforcer.state import Entry, Snapshot, State, allowed_prefixes, apply_event, merge_snapshot

from .support import event

NOW = datetime(2026, 11, 28, 21, 0, tzinfo=UTC)
A, B = "203.0.113.7/32", "198.51.100.0/24"


def apply(state: State, kind: str, target: str, sequence: int, **kw) -> bool:
    return apply_event(state, parse_event(event(kind, target, sequence, **kw)), NOW)


def snapshot(sequence: int, *targets: str) -> Snapshot:
    until = NOW + timedelta(days=1)
    return Snapshot(sequence, f'"{sequence}"',
                    {t: Entry("P", "S", until, sequence) for t in targets})


def test_contiguous_events_move_the_sequence():
    state = State()

    apply(state, "activated", A, 1)
    apply(state, "activated", B, 2)
    apply(state, "revoked", A, 3)

    assert (state.sequence, allowed_prefixes(state, NOW), state.blocked) == (3, [B], {})


def test_a_late_older_activation_never_reopens_a_revoked_target():
    state = State()

    assert apply(state, "revoked", A, 2)  # jump: 1 not seen yet
    assert not apply(state, "activated", A, 1)

    assert allowed_prefixes(state, NOW) == []
    assert state.sequence == 2  # 1 then filled the hole


def test_snapshot_keeps_what_is_newer_than_it():
    state = State()
    apply(state, "revoked", A, 6)
    apply(state, "activated", B, 7)

    assert merge_snapshot(state, snapshot(5, A), NOW)

    assert allowed_prefixes(state, NOW) == [B]
    assert state.sequence == 5 and state.blocked == {A: 6}


def test_snapshot_behind_the_applied_stream_is_ignored():
    state = State()
    apply(state, "activated", A, 1)
    apply(state, "revoked", A, 2)

    assert not merge_snapshot(state, snapshot(1, A), NOW)
    assert allowed_prefixes(state, NOW) == []


def test_expired_targets_fall_out_without_an_expiry_event():
    state = State()
    soon = (NOW + timedelta(minutes=1)).isoformat()
    apply(state, "activated", A, 1, valid_until=soon)

    assert allowed_prefixes(state, NOW) == [A]
    assert allowed_prefixes(state, NOW + timedelta(minutes=2)) == []
