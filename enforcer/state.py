"""The receiver's state and the pure rules that change it, plus durable files.

Invariant: the state reflects every event of the stream up to ``sequence`` (it
moves only by one, or to a snapshot of the allow-list), so any event at or below
it is old news. Targets keep the sequence that last set them, and a target
blocked above ``sequence`` keeps a tombstone in ``blocked``, so an older event
arriving late can never reopen it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .events import Event, iso, parse_event, parse_time


class StateError(Exception):
    """The state file cannot be read: an operator must look before we start."""


@dataclass
class Entry:
    protocol: str | None
    subscriber_id: str | None
    valid_until: datetime | None
    sequence: int


@dataclass
class Snapshot:
    """The allow-list at one sequence (GET /api/v1/enforcement/allowlist)."""
    sequence: int
    etag: str
    entries: dict[str, Entry]


@dataclass
class State:
    sequence: int = 0
    etag: str | None = None
    targets: dict[str, Entry] = field(default_factory=dict)
    blocked: dict[str, int] = field(default_factory=dict)

    def last_for(self, target: str) -> int:
        """The sequence up to which this target's state is known."""
        entry = self.targets.get(target)
        return max(self.sequence, entry.sequence if entry else 0, self.blocked.get(target, 0))


def allowed(entry: Entry, now: datetime) -> bool:
    return entry.valid_until is None or entry.valid_until > now


def apply_event(state: State, event: Event, now: datetime) -> bool:
    """Apply one event; False when it is not newer than what we know of its target."""
    fresh = event.sequence > state.last_for(event.target)
    if fresh:
        state.targets.pop(event.target, None)
        state.blocked.pop(event.target, None)
        if event.allows:
            state.targets[event.target] = Entry(event.protocol, event.subscriber_id,
                                                event.valid_until, event.sequence)
        else:
            state.blocked[event.target] = event.sequence
    if event.sequence == state.sequence + 1:
        state.sequence = event.sequence
        advance(state)
    prune(state, now)
    return fresh


def advance(state: State) -> None:
    """Move past later events already applied (recorded above the sequence) once the
    hole below them is filled. Conservative: a record overwritten by a newer event of
    the same target stops it early, which costs only a resync."""
    above = {e.sequence for e in state.targets.values() if e.sequence > state.sequence}
    above.update(s for s in state.blocked.values() if s > state.sequence)
    while state.sequence + 1 in above:
        state.sequence += 1


def merge_snapshot(state: State, snapshot: Snapshot, now: datetime) -> bool:
    """Make the state the allow-list at its sequence, keeping only what we know is newer.

    False (and nothing changed) when the snapshot is behind the applied stream: it
    would reopen targets whose tombstones are already gone.
    """
    if snapshot.sequence < state.sequence:
        return False
    targets = dict(snapshot.entries)
    for target, entry in state.targets.items():
        if entry.sequence > snapshot.sequence:
            targets[target] = entry
    for target, sequence in state.blocked.items():
        if sequence > snapshot.sequence:
            targets.pop(target, None)
    state.targets = targets
    state.sequence = max(state.sequence, snapshot.sequence)
    state.etag = snapshot.etag
    prune(state, now)
    return True


def prune(state: State, now: datetime) -> None:
    """Drop expired targets (no expiry event needed) and tombstones the sequence covers."""
    for target, entry in list(state.targets.items()):
        if not allowed(entry, now):
            del state.targets[target]
            state.blocked[target] = max(entry.sequence, state.blocked.get(target, 0))
    state.blocked = {t: s for t, s in state.blocked.items() if s > state.sequence}


def allowed_prefixes(state: State, now: datetime) -> list[str]:
    return sorted(t for t, entry in state.targets.items() if allowed(entry, now))


def next_expiry(state: State) -> datetime | None:
    return min((e.valid_until for e in state.targets.values() if e.valid_until), default=None)


# --- files -----------------------------------------------------------------------------

def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in the folder survive a power cut."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Write temp + fsync + rename + fsync dir: readers see the old file or the new one."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def dump_state(state: State) -> bytes:
    """Deterministic JSON, so an unchanged state is not rewritten."""
    targets = {t: {"protocol": e.protocol, "subscriber_id": e.subscriber_id,
                   "valid_until": iso(e.valid_until), "sequence": e.sequence}
               for t, e in state.targets.items()}
    document = {"sequence": state.sequence, "etag": state.etag, "targets": targets,
                "blocked": state.blocked}
    return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()


def parse_entry(target: str, raw: dict, sequence: int) -> Entry:
    until = raw.get("valid_until")
    return Entry(raw.get("protocol"), raw.get("subscriber_id"),
                 parse_time(until, "valid_until") if until is not None else None, sequence)


def load_state(path: Path) -> State | None:
    """The saved state, None when there is none yet; StateError when unreadable."""
    try:
        raw = json.loads(path.read_bytes())
        return State(sequence=int(raw["sequence"]), etag=raw.get("etag"),
                     targets={t: parse_entry(t, e, int(e["sequence"]))
                              for t, e in raw["targets"].items()},
                     blocked={t: int(s) for t, s in raw.get("blocked", {}).items()})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StateError(f"{path}: {exc}") from exc


def append_journal(path: Path, delivery: dict, now: datetime) -> None:
    """Append one line and fsync it before the event is applied.

    The line keeps the exact signed body and the webhook headers, so anyone holding
    the secret can verify later what the desk sent.
    """
    line = json.dumps({"received_at": iso(now), **delivery}, sort_keys=True)
    created = not path.exists()
    with open(path, "ab") as handle:
        handle.write(line.encode() + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    if created:
        fsync_dir(path.parent)


def read_journal(path: Path) -> tuple[list[Event], int]:
    """The journaled events, and how many lines were unreadable (a torn last write)."""
    events, bad = [], 0
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return [], 0
    for line in lines:
        try:
            events.append(parse_event(json.loads(line)["body"]))
        except (ValueError, KeyError, TypeError):
            bad += 1
    return events, bad
