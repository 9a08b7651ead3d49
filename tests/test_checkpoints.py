"""Signed checkpoints of the audit head (DESIGN §9): C2SP notes any Ed25519 library
checks, issued by the worker at the interval, published at /audit/…, and checked by
`flask audit verify` together with the chain — which names the first thing wrong."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

import settings
from cli.worker import sign_checkpoint
from models import AuditCheckpoint, AuditEvent, AuditHead, User, db, utcnow
from tests import audit_support as tamper
from tests.audit_support import KEY, NAME, OTHER_KEY, busy_trail, head_seq, later, verifier_string
from tests.factories import make_user
from tests.test_concurrency import THREADS, run_together
from workflow import audit, checkpoints
from workflow.audit import Actor, Tag

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def signing(app_factory):
    """An app with the tests' signing key and a trail of ~30 events."""
    app = app_factory(AUDIT_SIGNING_KEY=KEY)
    busy_trail(app)
    return app


def stored(app) -> list[AuditCheckpoint]:
    with app.app_context():
        rows = db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)).all()
        db.session.expunge_all()
        return rows


def head(app) -> tuple[int, bytes]:
    with app.app_context():
        row = db.session.get(AuditHead, 1)
        return row.seq, row.hash


def test_a_checkpoint_is_a_c2sp_note_any_ed25519_library_verifies(signing):
    outcome = signing.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert outcome.exit_code == 0, outcome.output
    seq, chain_hash = head(signing)
    [row] = stored(signing)
    assert outcome.output == row.note and row.seq == seq and row.hash == chain_hash

    # Checked here from the specs alone: the note text, the key ID, the signature.
    text, _, signature_line = row.note.rpartition("\n\n")
    text += "\n"
    assert text == (f"{NAME}\n{seq}\n{base64.b64encode(chain_hash).decode()}\n"
                    f"time {row.signed_at:%Y-%m-%dT%H:%M:%SZ}\n")
    dash, name, encoded = signature_line.rstrip("\n").split(" ")
    assert (dash, name) == ("\u2014", NAME)
    blob = base64.b64decode(encoded)
    public = tamper.private_key().public_key()
    raw = public.public_bytes_raw()
    assert blob[:4] == hashlib.sha256(NAME.encode() + b"\n\x01" + raw).digest()[:4]
    Ed25519PublicKey.from_public_bytes(raw).verify(blob[4:], text.encode())  # raises if not
    assert row.key_id == blob[:4].hex()
    assert abs(row.signed_at - utcnow()) < timedelta(minutes=1)


def test_the_worker_signs_at_the_interval_and_only_when_the_head_moved(app_factory):
    app = app_factory(AUDIT_SIGNING_KEY=KEY, AUDIT_CHECKPOINT_INTERVAL_SECONDS=3600)
    customer = make_user(app)
    with app.app_context():
        first = sign_checkpoint(later(0))  # none yet: the first is due at once
        assert first == head_seq(app)
        assert sign_checkpoint(later(120)) is None  # the head did not move
    make_user(app, uf="RJ")  # the head moves…
    with app.app_context():
        assert sign_checkpoint(later(30)) is None  # …but the hour has not passed
        second = sign_checkpoint(later(61))
    assert second == head_seq(app) > first
    with app.app_context():
        assert sign_checkpoint(later(300)) is None  # hours later, nothing new: nothing
    assert [c.seq for c in stored(app)] == [first, second]
    assert customer  # the trail had something to sign from the start


def test_the_worker_refuses_to_sign_a_chain_that_does_not_hold(signing, caplog):
    runner = signing.test_cli_runner()
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    make_user(signing)
    tamper.change_field(signing, head_seq(signing))
    with signing.app_context(), caplog.at_level(logging.ERROR, "porta25.worker"):
        assert sign_checkpoint(later(120)) is None
    assert f"does not hold at event {head_seq(signing)}: content altered" in caplog.text
    outcome = runner.invoke(args=["audit", "checkpoint"])
    assert outcome.exit_code == 1
    assert f"not signed: the audit chain does not hold at event {head_seq(signing)}" \
        in outcome.output
    assert len(stored(signing)) == 1


def test_without_a_key_checkpoints_are_off_and_everyone_says_so(app, client, runner, caplog):
    busy_trail(app)
    from cli.worker import checkpoints_on

    with app.app_context(), caplog.at_level(logging.WARNING, "porta25.worker"):
        assert not checkpoints_on()
        assert checkpoints.due(utcnow()) is False
    assert "audit checkpoints are off: AUDIT_SIGNING_KEY is not set" in caplog.text
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "checkpoints are off" in verified.output
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 1
    assert runner.invoke(args=["audit", "public-key"]).exit_code == 1
    for url in ("/audit/public-key", "/audit/checkpoints/latest"):
        response = client.get(url)
        assert response.status_code == 404 and response.mimetype == "text/plain"
    assert "desativadas" in client.get("/audit/public-key").text
    assert stored(app) == []


def test_the_published_key_is_the_signing_key_and_checks_the_latest_note(signing):
    client, runner = signing.test_client(), signing.test_cli_runner()
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    page = client.get("/audit/public-key")
    assert page.status_code == 200 and page.mimetype == "text/plain"
    keys = [line for line in page.text.splitlines() if not line.startswith("#")]
    assert keys == [verifier_string()]
    assert NAME in page.text.splitlines()[0]
    printed = runner.invoke(args=["audit", "public-key"]).output
    assert f"verifier key: {verifier_string()}" in printed and f"key name: {NAME}" in printed

    latest = client.get("/audit/checkpoints/latest")
    [row] = stored(signing)
    assert latest.status_code == 200 and latest.text == row.note
    assert latest.headers["Cache-Control"] == "no-cache"
    _name, _id, encoded = keys[0].split("+", 2)
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(encoded)[1:])
    text, _, line = row.note.rpartition("\n\n")
    public.verify(base64.b64decode(line.split(" ")[2])[4:], (text + "\n").encode())
    assert client.get(f"/audit/checkpoints/{row.seq}").text == row.note
    assert client.get(f"/audit/checkpoints/{row.seq - 1}").status_code == 404


def test_a_rotated_key_is_still_published_and_its_checkpoints_still_verify(app_factory):
    app = app_factory(AUDIT_SIGNING_KEY=OTHER_KEY)
    busy_trail(app)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    [old] = stored(app)
    # The rotation: a new key signs, the old one's verifier key is kept.
    app.config.update(AUDIT_SIGNING_KEY=KEY, AUDIT_VERIFIER_KEYS=(verifier_string(OTHER_KEY),))
    make_user(app)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    outcome = runner.invoke(args=["audit", "verify"])
    assert outcome.exit_code == 0, outcome.output
    assert "checkpoints intact: 2 signatures verified" in outcome.output
    page = app.test_client().get("/audit/public-key").text
    assert [k for k in page.splitlines() if k[0] != "#"] == [verifier_string(),
                                                            verifier_string(OTHER_KEY)]
    app.config["AUDIT_VERIFIER_KEYS"] = ()  # the old key forgotten
    outcome = runner.invoke(args=["audit", "verify"])
    assert outcome.exit_code == 1
    assert (f"checkpoint BROKEN at event {old.seq}: note does not verify: "
            "signed by no known key") in outcome.output


def test_verify_checks_the_chain_then_every_checkpoint(signing):
    runner = signing.test_cli_runner()
    runner.invoke(args=["audit", "checkpoint"])
    make_user(signing)
    runner.invoke(args=["audit", "checkpoint"])
    make_user(signing)  # events after the newest checkpoint are checked by the chain
    outcome = runner.invoke(args=["audit", "verify"])
    assert outcome.exit_code == 0, outcome.output
    newest = stored(signing)[-1]
    assert f"audit chain intact: {head_seq(signing)} events verified" in outcome.output
    assert (f"checkpoints intact: 2 signatures verified, the newest at event {newest.seq} "
            f"signed {newest.signed_at:%Y-%m-%dT%H:%M:%SZ}") in outcome.output


# (tampering, the place named, what is said); 7 is an event both checkpoints cover.
TAMPERING = [
    (lambda app, cp: tamper.change_field(app, 7), "audit chain BROKEN at event 7",
     "content altered"),
    (lambda app, cp: tamper.delete_event(app, 7), "audit chain BROKEN at event 7",
     "missing event"),
    (lambda app, cp: tamper.swap(app, 7), "audit chain BROKEN at event 7",
     "previous hash differs"),
    (lambda app, cp: tamper.rewrite_from(app, 7), "audit checkpoint BROKEN at event {first}",
     "hash differs from the chain at its seq"),
    (lambda app, cp: tamper.truncate_tail(app, cp[0] - 2),
     "audit checkpoint BROKEN at event {first}", "checkpoint beyond the chain's head"),
    (lambda app, cp: tamper.forge_note(app, cp[1]), "audit checkpoint BROKEN at event {second}",
     "note does not verify: signature by"),
    (lambda app, cp: tamper.sign_with_other_key(app, cp[0]),
     "audit checkpoint BROKEN at event {first}", "note does not verify: signed by no known key"),
]


@pytest.mark.parametrize(("how", "where", "problem"), TAMPERING, ids=[
    "changed-field", "deleted-row", "reordered-pair", "chain-rewritten", "tail-removed",
    "forged-checkpoint", "foreign-signature"])
def test_verify_names_the_first_event_or_checkpoint_tampered_with(signing, how, where, problem):
    runner = signing.test_cli_runner()
    runner.invoke(args=["audit", "checkpoint"])
    make_user(signing)
    runner.invoke(args=["audit", "checkpoint"])
    marks = [c.seq for c in stored(signing)]
    how(signing, marks)
    outcome = runner.invoke(args=["audit", "verify"])
    assert outcome.exit_code == 1
    assert f"{where.format(first=marks[0], second=marks[1])}: {problem}" in outcome.output


def test_the_database_refuses_to_change_a_checkpoint(signing):
    from sqlalchemy.exc import DBAPIError

    signing.test_cli_runner().invoke(args=["audit", "checkpoint"])
    [row] = stored(signing)
    for statement in ("UPDATE audit_checkpoint SET note = 'x'", "DELETE FROM audit_checkpoint"):
        with pytest.raises(DBAPIError, match="insert-only"):
            tamper.execute(signing, statement)
    assert stored(signing)[0].note == row.note


def test_covering_checkpoint_is_the_first_at_or_after_an_event(signing):
    runner = signing.test_cli_runner()
    runner.invoke(args=["audit", "checkpoint"])
    make_user(signing)
    runner.invoke(args=["audit", "checkpoint"])
    first, second = (c.seq for c in stored(signing))
    make_user(signing)
    with signing.app_context():
        assert checkpoints.covering_checkpoint(1).seq == first
        assert checkpoints.covering_checkpoint(first).seq == first
        assert checkpoints.covering_checkpoint(first + 1).seq == second
        assert checkpoints.covering_checkpoint(second + 1) is None


def test_eight_writers_and_a_signer_keep_one_dense_chain(app_factory):
    """Appends at once on either engine: no duplicate or missing seq, and every
    checkpoint signed meanwhile holds the chain's hash at its seq."""
    app = app_factory(AUDIT_SIGNING_KEY=KEY, AUDIT_CHECKPOINT_INTERVAL_SECONDS=0)
    user = make_user(app)
    total, per_writer = head_seq(app) + THREADS * 25, 25
    finished, lock, done = [], threading.Lock(), threading.Event()

    def sign_until_done():
        signed = []
        while not done.is_set():
            with app.app_context():
                signed.append(sign_checkpoint(utcnow))
            time.sleep(0.01)
        return [s for s in signed if s]

    def write(i):
        try:
            for n in range(per_writer):
                with app.app_context():
                    actor = Actor(db.session.get(User, user.id))
                    audit.record(Tag.USER_LOGGED_IN, actor, object_type="user",
                                 object_id=str(user.id), details={"writer": i, "n": n})
                    db.session.commit()
            return "written"
        finally:
            with lock:
                finished.append(i)
                if len(finished) == THREADS:
                    done.set()

    def work(i, barrier):
        barrier.wait()
        return sign_until_done() if i == THREADS else write(i)

    results = run_together(THREADS + 1, work)

    assert results[:THREADS] == ["written"] * THREADS, results
    assert results[THREADS], "the signer signed nothing while the writers appended"
    marks = stored(app)
    with app.app_context():
        seqs = db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
        assert seqs == list(range(1, total + 1))
        report = checkpoints.verify_all()
        assert report.ok and report.checkpoints == len(marks), report
        by_seq = dict(db.session.execute(select(AuditEvent.seq, AuditEvent.hash)).all())
    assert all(by_seq[c.seq] == c.hash for c in marks)


def test_demo_writes_a_development_key_that_the_worker_signs_with(app, runner, tmp_path):
    app.instance_path = str(tmp_path)
    outcome = runner.invoke(args=["demo"])
    assert outcome.exit_code == 0, outcome.output
    env = (tmp_path / "audit-demo.env").read_text()
    assert env.startswith("AUDIT_SIGNING_KEY=") and (tmp_path / "audit-demo.env").stat() \
        .st_mode & 0o077 == 0
    seed = env.strip().split("=", 1)[1]
    assert f"development key in instance/audit-demo.env ({verifier_string(seed)})" \
        in outcome.output
    assert "enrol a TOTP app" in outcome.output  # staff are asked for it at the first sign-in
    app.config["AUDIT_SIGNING_KEY"] = seed  # what `make run` does with the file
    with app.app_context():
        assert sign_checkpoint(utcnow) == head_seq(app)
    assert runner.invoke(args=["demo"]).output.count("development key") == 0  # made once


def test_a_malformed_key_stops_the_app_without_showing_it():
    secret = "c2VjcmV0LWJ1dC1ub3QtMzItYnl0ZXM="
    with pytest.raises(ValueError) as refused:
        settings.from_environment({"AUDIT_SIGNING_KEY": secret})
    assert secret not in str(refused.value) and "32-byte" in str(refused.value)
    with pytest.raises(ValueError, match="key name"):
        settings.from_environment({"AUDIT_KEY_NAME": "has space"})
    assert settings.from_environment({"AUDIT_SIGNING_KEY": KEY})["AUDIT_SIGNING_KEY"] == KEY


def test_new_key_prints_a_key_that_signs(runner, app):
    printed = runner.invoke(args=["audit", "new-key"]).output.splitlines()
    seed = printed[0].removeprefix("AUDIT_SIGNING_KEY=")
    assert len(base64.b64decode(seed)) == 32
    assert printed[1] == f"# verifier key: {verifier_string(seed)}"


def test_the_time_signed_is_the_time_stored(signing):
    moment = datetime(2026, 11, 29, 12, 30, 45, 999, tzinfo=UTC)
    with signing.app_context():
        made = checkpoints.issue(moment)
        db.session.commit()
        assert made.signed_at == moment.replace(microsecond=0)
        assert "\ntime 2026-11-29T12:30:45Z\n\n" in made.note


def _worker(app, *args: str, key: str | None) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": "test",
           "AUDIT_SIGNING_KEY": key or ""}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", *args],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def test_a_real_worker_signs_the_head_when_it_starts_and_says_when_it_cannot(app):
    busy_trail(app)
    without = _worker(app, "--once", key=None)
    _out, log = without.communicate(timeout=60)
    assert without.returncode == 0 and log.count("audit checkpoints are off") == 1
    assert stored(app) == []
    running = _worker(app, key=KEY)
    try:
        deadline = time.monotonic() + 30
        while not stored(app):
            assert time.monotonic() < deadline and running.poll() is None, "no checkpoint"
            time.sleep(0.1)
    finally:
        running.terminate()
        _out, log = running.communicate(timeout=30)
    [checkpoint] = stored(app)
    assert checkpoint.seq == head_seq(app) and "audit checkpoints are off" not in log
    assert f"audit checkpoint signed at event {checkpoint.seq}" in log
