"""The receiver's logic: journal, apply, resync, write state and nftables — one at a time."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .allowlist import FetchError, fetch_allowlist
from .events import Event
from .nft import NftError, NftInstaller, NftSet, render_script
from .state import (
    State,
    allowed_prefixes,
    append_journal,
    apply_event,
    atomic_write,
    dump_state,
    load_state,
    merge_snapshot,
    next_expiry,
    prune,
    read_journal,
)

log = logging.getLogger("enforcer")

RETRY_WITHOUT_STATE = 10.0  # seconds between resyncs while we have never had a state
MIN_WAIT = 0.2


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Settings:
    state_dir: Path
    allowlist_url: str
    token: str
    nft_set: NftSet
    nft: NftInstaller
    resync_interval: float


class Receiver:
    """All changes go through one lock: events are applied one at a time."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.wake = threading.Event()  # a new expiry to watch, or stop
        self.state = State()
        # Until we load a state or read the allow-list once, we do not know what the
        # set should hold: leave nftables alone rather than empty it.
        self.known = False
        self.nft_in_step = False
        self.last_script: str | None = None
        self.last_saved: bytes | None = None

    @property
    def state_path(self) -> Path:
        return self.settings.state_dir / "state.json"

    @property
    def journal_path(self) -> Path:
        return self.settings.state_dir / "journal.jsonl"

    def start(self) -> None:
        """Load the state, replay the journal above it, resync, bring nftables in step."""
        with self.lock:
            loaded = load_state(self.state_path)
            if loaded is not None:
                self.state, self.known = loaded, True
                self.last_saved = dump_state(loaded)
            events, torn = read_journal(self.journal_path)
            if torn:
                log.warning("journal: %d unreadable line(s) skipped", torn)
            replayed = sum(apply_event(self.state, e, utcnow()) for e in events)
            if replayed:
                log.info("journal: %d event(s) replayed above the saved state", replayed)
            self.known = self.known or self.state.sequence > 0
            self.resync("start")
            self.commit_logged(force_nft=True)

    def handle(self, delivery: dict, event: Event) -> tuple[int, dict]:
        """Journal, apply, resync on a jump, save, update nftables; then the answer.

        ``delivery``: the webhook headers and the exact body, for the journal.
        """
        webhook_id = delivery["webhook_id"]
        with self.lock:
            duplicate = event.sequence <= self.state.sequence
            if duplicate:
                log.info("event %s seq %d for %s: already applied (state at %d)", webhook_id,
                         event.sequence, event.target, self.state.sequence)
                synced = True
            else:
                synced = self.apply(delivery, event)
            try:
                # A duplicate still heals a failed nft run before it is acknowledged.
                self.commit()
            except NftError as exc:
                log.error("nftables not updated: %s", exc)
                return 503, {"error": "nftables update failed"}
            if not synced:
                return 503, {"error": "sequence jump not resolved from the allow-list yet"}
            return 200, {"status": "duplicate" if duplicate else "applied",
                         "sequence": self.state.sequence}

    def apply(self, delivery: dict, event: Event) -> bool:
        """Journal (durably) and apply a new event; on a jump resync. False: resync failed."""
        state, webhook_id = self.state, delivery["webhook_id"]
        jump = event.sequence > state.sequence + 1
        if event.sequence > state.last_for(event.target):
            append_journal(self.journal_path, delivery, utcnow())
        fresh = apply_event(state, event, utcnow())
        self.wake.set()  # the periodic thread recomputes the next expiry
        # Applied contiguously from the start of the stream: the state is complete.
        self.known = self.known or state.sequence > 0
        log.info("event %s seq %d %s %s: %s", webhook_id, event.sequence, event.type,
                 event.target, "applied" if fresh else "older than the target's state")
        if not jump:
            return True
        log.warning("sequence jump from %d to %d: resyncing", state.sequence, event.sequence)
        if not self.resync("jump"):
            return False
        if self.state.sequence < event.sequence:
            # The allow-list has not reached this event yet (it always has once the desk
            # committed it, unless it is read from a lagging replica): try again later.
            log.warning("allow-list behind event %d: its retry will resync again",
                        event.sequence)
            return False
        return True

    def resync(self, reason: str) -> bool:
        """Read the allow-list (If-None-Match); on any failure keep the current state."""
        etag = self.state.etag if self.known else None
        try:
            snapshot = fetch_allowlist(self.settings.allowlist_url, self.settings.token, etag)
        except FetchError as exc:
            log.warning("resync (%s): allow-list not read (%s); keeping the state at %d",
                        reason, exc, self.state.sequence)
            return False
        if snapshot is None:
            log.debug("resync (%s): allow-list unchanged (%s)", reason, etag)
            return True
        if not merge_snapshot(self.state, snapshot, utcnow()):
            log.warning("resync (%s): allow-list at %d is behind the applied stream at %d; "
                        "ignored", reason, snapshot.sequence, self.state.sequence)
            return False
        self.known = True
        log.info("resync (%s): allow-list at sequence %d, %d target(s) allowed", reason,
                 snapshot.sequence, len(self.state.targets))
        return True

    def commit(self, force_nft: bool = False) -> None:
        """Write the state atomically, then the nft script; raises NftError."""
        now = utcnow()
        prune(self.state, now)
        data = dump_state(self.state)
        if data != self.last_saved:
            atomic_write(self.state_path, data)
            self.last_saved = data
        if not self.known:
            log.warning("no state yet (allow-list never read): nftables left untouched")
            return
        script = render_script(allowed_prefixes(self.state, now), self.settings.nft_set,
                               self.state.sequence)
        if force_nft or not self.nft_in_step or script != self.last_script:
            self.nft_in_step = False
            self.settings.nft.install(script)
            self.nft_in_step, self.last_script = True, script

    def commit_logged(self, force_nft: bool = False) -> None:
        try:
            self.commit(force_nft)
        except NftError as exc:
            log.error("nftables not updated: %s", exc)

    def run_periodic(self) -> None:
        """Resync every interval, prune at each expiry, and heal nftables on each resync."""
        due = time.monotonic() + self.interval()
        while True:
            self.wake.wait(self.next_wait(due))
            self.wake.clear()
            if self.stopping.is_set():
                return
            with self.lock:
                if time.monotonic() < due:
                    self.commit_logged()  # woken for an expiry or a new entry
                    continue
                self.resync("periodic")
                # Forced: a reload of the host's ruleset may have emptied the sets.
                self.commit_logged(force_nft=True)
                due = time.monotonic() + self.interval()

    def interval(self) -> float:
        if self.known:
            return self.settings.resync_interval
        return min(self.settings.resync_interval, RETRY_WITHOUT_STATE)

    def next_wait(self, due: float) -> float:
        wait = due - time.monotonic()
        expiry = next_expiry(self.state)
        if expiry is not None:
            wait = min(wait, (expiry - utcnow()).total_seconds() + 0.05)
        return max(wait, MIN_WAIT)

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def health(self) -> dict:
        """What a monitor may see: no secrets, no targets."""
        with self.lock:
            return {"sequence": self.state.sequence, "targets": len(self.state.targets),
                    "known": self.known, "nft_in_step": self.nft_in_step}
