"""`flask audit export` and the regulator's verifier (verifier/porta25_verify.py): a
period's events with the checkpoint covering them, recomputed without the app; a
state's export shows no other state's events yet verifies; tampering is named."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from models import AuditCheckpoint, AuditEvent, db
from tests import audit_support as tamper
from tests.audit_support import KEY, busy_trail, head_seq, verifier_string
from tests.factories import make_user
from verifier import porta25_verify

VERIFIER = Path(porta25_verify.__file__)


@pytest.fixture
def signing(app_factory):
    app = app_factory(AUDIT_SIGNING_KEY=KEY)
    busy_trail(app)
    return app


def today() -> date:
    return datetime.now(ZoneInfo("America/Sao_Paulo")).date()


def export(app, path: Path, *options: str, start: date | None = None, end: date | None = None):
    """Run `flask audit export` around today (local) into ``path``."""
    start = start or today() - timedelta(days=1)
    end = end or today() + timedelta(days=1)
    return app.test_cli_runner().invoke(args=[
        "audit", "export", "--from", start.isoformat(), "--to", end.isoformat(),
        "--output", str(path), *options])


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def check(path: Path, capsys, key: str | None = None) -> tuple[int, str]:
    """The offline verifier, in process: its exit status and what it printed."""
    status = porta25_verify.main([str(path), "--key", key or verifier_string()])
    out = capsys.readouterr()
    return status, out.out + out.err


def test_a_national_export_holds_every_event_and_verifies_offline(signing, tmp_path, capsys):
    path = tmp_path / "export.jsonl"
    outcome = export(signing, path)
    assert outcome.exit_code == 0, outcome.output
    rows = lines(path)
    header, events = rows[0], [r for r in rows if r["type"] in ("event", "withheld")]
    [checkpoint] = [r for r in rows if r["type"] == "checkpoint"]
    assert header["format"] == "porta25-audit-export/v1" and header["uf"] is None
    # The export signed a checkpoint covering it; its own audit event came after.
    assert header["first_seq"] == 1 and checkpoint["seq"] == header["last_seq"]
    assert [e["seq"] for e in events] == list(range(1, header["last_seq"] + 1))
    assert all(e["type"] == "event" for e in events)
    status, said = check(path, capsys)
    assert status == 0, said
    assert (f"verified: events 1–{header['last_seq']} " in said
            and f"{len(events)} shown in full, 0 withheld" in said
            and f"checkpoint at event {checkpoint['seq']}" in said and verifier_string() in said)


def test_each_event_line_is_the_stored_event(signing, tmp_path):
    path = tmp_path / "export.jsonl"
    export(signing, path)
    by_seq = {r["seq"]: r for r in lines(path) if r["type"] == "event"}
    with signing.app_context():
        for event in db.session.scalars(select(AuditEvent).where(AuditEvent.seq <= 5)):
            line = by_seq[event.seq]
            assert (line["prev_hash"], line["hash"]) == (event.prev_hash.hex(), event.hash.hex())
            body = json.loads(line["body"])
            assert (body["action"], body["actor_id"], body["uf"]) == (
                event.action, event.actor_id, event.uf)


def test_a_state_export_shows_no_other_state_yet_verifies(signing, tmp_path, capsys):
    path = tmp_path / "sp.jsonl"
    outcome = export(signing, path, "--uf", "sp")
    assert outcome.exit_code == 0, outcome.output
    rows = lines(path)
    shown = [r for r in rows if r["type"] == "event"]
    withheld = [r for r in rows if r["type"] == "withheld"]
    assert shown and withheld and rows[0]["uf"] == "SP"
    assert all(json.loads(r["body"])["uf"] == "SP" for r in shown)
    assert all(set(r) == {"type", "seq", "prev_hash", "hash", "event_hash"} for r in withheld)
    with signing.app_context():
        rio = db.session.scalars(select(AuditEvent.object_id).where(
            AuditEvent.uf == "RJ", AuditEvent.object_type == "case")).all()
    assert rio and not any(protocol in path.read_text() for protocol in rio)
    assert '"RJ"' not in path.read_text()
    status, said = check(path, capsys)
    assert status == 0, said
    assert "of SP (" in said and f"{len(shown)} shown in full, {len(withheld)} withheld" in said


def test_an_export_is_an_audit_event_with_its_digest(signing, tmp_path):
    import hashlib

    path = tmp_path / "export.jsonl"
    export(signing, path, "--uf", "RJ")
    with signing.app_context():
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    details = json.loads(event.details)
    assert (event.action, event.actor_role, event.uf) == ("audit:exported", "system:cli", "RJ")
    assert details["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert details["uf"] == "RJ" and details["events"] > 0 and details["withheld"] > 0


def test_the_export_uses_an_existing_checkpoint_and_reaches_it(signing, tmp_path, capsys):
    runner = signing.test_cli_runner()
    runner.invoke(args=["audit", "checkpoint"])
    [first] = checkpoint_seqs(signing)
    make_user(signing)
    runner.invoke(args=["audit", "checkpoint"])  # covers the new event too
    end = today() + timedelta(days=1)
    path = tmp_path / "export.jsonl"
    export(signing, path, end=end)
    rows = lines(path)
    assert [r["seq"] for r in rows if r["type"] == "checkpoint"] == [first, first + 1]
    assert check(path, capsys)[0] == 0


def checkpoint_seqs(app) -> list[int]:
    with app.app_context():
        return db.session.scalars(select(AuditCheckpoint.seq).order_by(AuditCheckpoint.seq)).all()


def test_without_a_key_the_export_says_it_cannot_be_checked(app, tmp_path, capsys):
    busy_trail(app)
    path = tmp_path / "export.jsonl"
    outcome = export(app, path)
    assert outcome.exit_code == 0
    assert "no checkpoint covers event" in outcome.output
    status, said = check(path, capsys)
    assert status == 1 and "no signed checkpoint covers the export's last event" in said


# Tampering in the database before the export (the triggers dropped first); the
# checkpoints are at {first} and {second}, the latter covering the whole export.
DATABASE_TAMPERING = [
    (lambda app, cp: tamper.change_field(app, 7), "event 7: its hash does not match its content"),
    (lambda app, cp: tamper.delete_event(app, 7), "event 7: expected here, found event 8"),
    (lambda app, cp: tamper.swap(app, 7),
     "event 7: its previous hash is not the hash of event 6"),
    (lambda app, cp: tamper.rewrite_from(app, 7),
     "checkpoint at event {first}: the chain does not reach the signed hash"),
    (lambda app, cp: tamper.forge_note(app, cp[1]),
     "checkpoint at event {second}: the signature by"),
    (lambda app, cp: tamper.sign_with_other_key(app, cp[1]),
     "checkpoint at event {second}: not signed by the given key"),
]


@pytest.mark.parametrize(("how", "named"), DATABASE_TAMPERING, ids=[
    "changed-field", "deleted-row", "reordered-pair", "chain-rewritten", "forged-checkpoint",
    "foreign-signature"])
def test_the_offline_verifier_names_what_was_tampered_with(signing, tmp_path, capsys, how,
                                                           named):
    runner = signing.test_cli_runner()
    runner.invoke(args=["audit", "checkpoint"])
    make_user(signing)
    runner.invoke(args=["audit", "checkpoint"])  # covers the head: the export signs nothing
    marks = checkpoint_seqs(signing)
    how(signing, marks)
    path = tmp_path / "export.jsonl"
    outcome = export(signing, path)
    assert outcome.exit_code == 0, outcome.output
    status, said = check(path, capsys)
    assert status == 1, said
    assert f"FAILED at {named.format(first=marks[0], second=marks[1])}" in said


def _edit_body(rows):
    line = next(r for r in rows if r["type"] == "event" and r["seq"] == 5)
    body = json.loads(line["body"])
    body["actor_role"] = "supervisor"
    line["body"] = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return rows


def _drop_event(rows):
    return [r for r in rows if r.get("seq") != 5 or r["type"] == "checkpoint"]


def _swap_lines(rows):
    i = next(n for n, r in enumerate(rows) if r["type"] == "event" and r["seq"] == 5)
    rows[i], rows[i + 1] = rows[i + 1], rows[i]
    return rows


def _forge_checkpoint(rows):
    line = next(r for r in rows if r["type"] == "checkpoint")
    parts = line["note"].split("\n")
    parts[1] = str(int(parts[1]) + 1)
    line["note"] = "\n".join(parts)
    return rows


def _hide_event(rows):
    line = next(r for r in rows if r["type"] == "event" and r["seq"] == 5)
    import hashlib

    line["event_hash"] = hashlib.sha256(line.pop("body").encode()).hexdigest()
    line["type"] = "withheld"
    return rows


@pytest.mark.parametrize(("edit", "named"), [
    (_edit_body, "event 5: its hash does not match its content"),
    (_drop_event, "event 5: expected here, found event 6"),
    (_swap_lines, "event 5: expected here, found event 6"),
    (_forge_checkpoint, "checkpoint at event {cp}: the signature by"),
    (_hide_event, "event 5: withheld from an export of every state"),
], ids=["changed-field", "deleted-line", "reordered-pair", "forged-checkpoint", "hidden-event"])
def test_the_offline_verifier_names_an_edit_of_the_file(signing, tmp_path, capsys, edit, named):
    path = tmp_path / "export.jsonl"
    export(signing, path)
    rows = lines(path)
    cp = rows[0]["checkpoint_seq"]
    write(path, edit(rows))
    status, said = check(path, capsys)
    assert status == 1 and f"FAILED at {named.format(cp=cp)}" in said, said


def test_the_verifier_runs_alone_with_the_standard_library_and_cryptography(signing, tmp_path):
    imported = set()
    for node in ast.walk(ast.parse(VERIFIER.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}

    alone = tmp_path / "regulator"  # no porta25 code anywhere near it
    alone.mkdir()
    shutil.copy(VERIFIER, alone / "verify.py")
    export(signing, alone / "export.jsonl")
    (alone / "key.txt").write_text(signing.test_client().get("/audit/public-key").text)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-I", "verify.py", *args], cwd=alone,
                              capture_output=True, text=True, timeout=60)

    good = run("export.jsonl", "--key-file", "key.txt")
    assert good.returncode == 0 and good.stdout.startswith("verified: "), good.stderr
    wrong = run("export.jsonl", "--key", verifier_string(tamper.OTHER_KEY))
    assert wrong.returncode == 1 and "not signed by the given key" in wrong.stderr
    (alone / "junk.jsonl").write_text("not json\n")
    assert run("junk.jsonl", "--key-file", "key.txt").returncode == 2
    assert run("export.jsonl").returncode == 2  # no key given
    assert "cannot verify: give the ISP's verifier key" in run("export.jsonl").stderr


@pytest.mark.parametrize(("options", "message"), [
    (["--from", "2026-11-10", "--to", "2026-11-01"],
     "from: A data inicial deve ser anterior ou igual à data final."),
    (["--from", "2026-11-01", "--to", "2026-11-10", "--uf", "XX"], "uf: UF desconhecida: XX."),
])
def test_a_bad_period_or_state_is_refused_and_nothing_is_stored(signing, tmp_path, options,
                                                                message):
    before = head_seq(signing)
    path = tmp_path / "export.jsonl"
    outcome = signing.test_cli_runner().invoke(
        args=["audit", "export", *options, "--output", str(path)])
    assert outcome.exit_code == 1 and message in outcome.output
    assert head_seq(signing) == before and not path.exists()
    assert checkpoint_seqs(signing) == []


def test_a_malformed_date_is_a_usage_error(signing, tmp_path):
    outcome = signing.test_cli_runner().invoke(
        args=["audit", "export", "--from", "01/11/2026", "--to", "2026-11-30"])
    assert outcome.exit_code == 2 and "--from" in outcome.output


def test_an_export_to_standard_output(signing, capsys):
    outcome = signing.test_cli_runner().invoke(args=[
        "audit", "export", "--from", (today() - timedelta(days=1)).isoformat(),
        "--to", (today() + timedelta(days=1)).isoformat(), "--uf", "RJ"])
    assert outcome.exit_code == 0
    first = json.loads(outcome.stdout.splitlines()[0])
    assert first["type"] == "header" and first["uf"] == "RJ"
    assert "withheld; checkpoint at event" in outcome.stderr


def test_a_period_without_events_exports_a_header_only(signing, tmp_path, capsys):
    path = tmp_path / "empty.jsonl"
    outcome = export(signing, path, start=date(2020, 1, 1), end=date(2020, 1, 31))
    assert outcome.exit_code == 0
    [header] = lines(path)
    assert header["first_seq"] is None and header["checkpoint_seq"] is None
    status, said = check(path, capsys)
    assert status == 0 and "holds no events: nothing to verify" in said
