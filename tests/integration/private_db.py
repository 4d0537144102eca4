"""The app on a PostgreSQL of a test's own (private_servers.py), beside the test database and
never touching it: migrated, and written to, by processes of its own, as a deployment's would.

The tickets are opened by open_tickets.py in a process of its own, through the service a
consultant's request calls: the acknowledgement goes to the outbox and its delivery to the
broker the environment names.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping

import psycopg2  # type: ignore[import-untyped]

from clients.models import OutboundEmail
from tests.integration.private_servers import PrivatePostgres
from tests.integration.servers import ROOT

DATABASE = "consultancy"


def app_environment(server: PrivatePostgres, broker_env: Mapping[str, str]) -> dict[str, str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "DJANGO_VAR_DIR") and not key.startswith("CELERY_")
    }
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "consultancy.settings",
        "DJANGO_DEVELOPMENT": "true",
        "DATABASE_URL": server.url(DATABASE),
        **broker_env,
    }


def run(env: Mapping[str, str], *command: str) -> str:
    """Run a command of the app's (`manage.py ...`) or of this module's; its output."""
    result = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, *command],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stderr[-3000:]}"
    return result.stdout


def create_database(server: PrivatePostgres, broker_env: Mapping[str, str]) -> None:
    """The app's database on `server`, made by its migrations as a deployment's is."""
    admin = psycopg2.connect(server.url())
    try:
        admin.autocommit = True  # CREATE DATABASE runs outside a transaction
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        admin.close()
    run(app_environment(server, broker_env), "manage.py", "migrate", "--noinput", "-v", "0")


def open_tickets(server: PrivatePostgres, broker_env: Mapping[str, str], *tickets: str) -> None:
    """Open tickets (`address:subject`, a client of its own for each new address)."""
    run(app_environment(server, broker_env), "-m", "tests.integration.open_tickets", *tickets)


def outbox_rows(server: PrivatePostgres) -> list[OutboundEmail]:
    """The outbox of the private database, oldest first (unsaved rows with what tests read)."""
    with psycopg2.connect(server.url(DATABASE)) as db, db.cursor() as cursor:
        cursor.execute(
            'SELECT id, "to", subject, status, attempts, claimed_at'
            " FROM clients_outboundemail ORDER BY id"
        )
        rows = cursor.fetchall()
    db.close()
    return [
        OutboundEmail(
            pk=pk, to=to, subject=subject, status=status, attempts=attempts, claimed_at=claimed
        )
        for pk, to, subject, status, attempts, claimed in rows
    ]
