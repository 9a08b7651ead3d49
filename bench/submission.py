"""Request submission through the full stack against a bare Flask + SQLAlchemy insert.

Both run in this process through Werkzeug's test client against the same
database, alternating in rounds so that machine noise hits both alike. The
full stack is POST /api/v1/cases: bearer-token lookup, JSON validation, target
and overlap checks, the protocol counter, deadlines, the case row and the
audit-chain append, in one transaction. The baseline is one Flask view that
inserts one row with SQLAlchemy and commits.
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
import time
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Column, Integer, MetaData, Table, Text

from app import create_app
from database import configure_engine
from models import Role, db
from workflow import accounts
from workflow.audit import Actor

_addresses = itertools.count(1)


def full_stack_client(url: str):
    """The porta25 app on a migrated database, and a customer's bearer token."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        upgrade()
        user = accounts.create_user(email="bench@example.com.br", password="bench-password",
                                    role=Role.CUSTOMER, name="Bench", uf="SP",
                                    cpf_cnpj="52998224725", actor=Actor.system("bench"))
        token = accounts.create_token(user, "bench", actor=Actor.system("bench"))
        db.session.commit()
    return app.test_client(), {"Authorization": f"Bearer {token}"}


def submit_once(client, headers) -> None:
    n = next(_addresses)
    response = client.post("/api/v1/cases", headers=headers, json={
        "target": f"2001:db8::{n:x}", "category": "own_mail_server",
        "justification": "Servidor de e-mail próprio com SPF, DKIM e DMARC publicados.",
        "mail_hostname": "mail.exemplo.com.br", "subscriber_id": "CTR-0001"})
    assert response.status_code == 201, response.get_data(as_text=True)


def baseline_client(url: str):
    """A bare Flask + SQLAlchemy app whose one view inserts one row and commits."""
    bare = Flask("baseline")
    bare.config["SQLALCHEMY_DATABASE_URI"] = url
    base_db = SQLAlchemy()
    base_db.init_app(bare)
    rows = Table("bench_row", MetaData(), Column("id", Integer, primary_key=True),
                 Column("body", Text))
    with bare.app_context():
        configure_engine(base_db.engine)  # the same SQLite locking recipe, for fairness
        rows.metadata.create_all(base_db.engine)

    @bare.post("/insert")
    def insert():
        base_db.session.execute(rows.insert().values(body="x"))
        base_db.session.commit()
        return "", 201

    return bare.test_client()


def insert_once(client) -> None:
    response = client.post("/insert")
    assert response.status_code == 201, response.status_code


def rate(action, seconds: float) -> float:
    """Calls of ``action`` per second, over at least ``seconds``."""
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        action()
        count += 1
    return count / elapsed


def run(url: str | None = None, rounds: int = 5, seconds: float = 2.0) -> dict:
    """Alternate rounds of both; report median rates and their ratio."""
    with tempfile.TemporaryDirectory() as folder:
        url = url or f"sqlite:///{Path(folder) / 'bench.db'}"
        client, headers = full_stack_client(url)
        bare = baseline_client(url)
        full, base = [], []
        for _ in range(rounds):
            full.append(rate(lambda: submit_once(client, headers), seconds))
            base.append(rate(lambda: insert_once(bare), seconds))
    full_rate, base_rate = statistics.median(full), statistics.median(base)
    return {"full_stack_per_s": full_rate, "bare_insert_per_s": base_rate,
            "ratio": full_rate / base_rate}
