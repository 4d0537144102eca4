"""Fault: PostgreSQL restarted (every session cut, as in a failover) under a running worker, in
the middle of a delivery. The worker and its data are on a PostgreSQL of this test's own; the
tickets are opened by processes of their own, before and after the restart. The worker goes on
without being restarted: what was queued before the restart and after it is delivered, and the
email it was sending when its session was cut is sent once its claim is stale.
"""

from __future__ import annotations

import pytest

from clients.models import EmailStatus
from clients.tasks import outbox_sweep_task
from tests.integration.faults import FaultBroker, assert_each_email_once, wait_until_stale
from tests.integration.private_db import create_database, open_tickets, outbox_rows
from tests.integration.private_servers import PrivatePostgres, private_postgres
from tests.integration.servers import LiveWorker, LiveWorkers, wait_for
from tests.smtp import Inbox

pytestmark = [
    pytest.mark.integration,
    # The data is on a server of the test's own; this marks it for the run with real servers.
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

ANA, BEN, CY, DEE = (f"{name}@client.example" for name in ("ana", "ben", "cy", "dee"))


def statuses(server: PrivatePostgres) -> list[tuple[str, str]]:
    return [(row.to, row.status) for row in outbox_rows(server)]


def wait_for_outbox(
    server: PrivatePostgres,
    inbox: Inbox,
    expected: list[tuple[str, str]],
    worker: LiveWorker,
    timeout: float = 30,
) -> None:
    received = sum(status == EmailStatus.SENT for _to, status in expected)
    wait_for(
        lambda: statuses(server) == expected and len(inbox) == received,
        timeout=timeout,
        what=f"the outbox at {expected}",
        workers=(worker,),
    )


def test_the_worker_goes_on_after_postgresql_restarts_under_it(
    private_broker: FaultBroker, fault_workers: LiveWorkers, inbox: Inbox
) -> None:
    sent, sending = EmailStatus.SENT, EmailStatus.SENDING
    with private_postgres() as server:
        create_database(server, private_broker.env)
        worker = fault_workers.start(
            {**private_broker.env, "DATABASE_URL": server.url("consultancy")},
            pool="solo",
            concurrency=1,
        )
        # Before: the worker has worked on this database.
        open_tickets(server, private_broker.env, f"{ANA}:Server will not boot")
        wait_for_outbox(server, inbox, [(ANA, sent)], worker)

        # The next delivery is claimed and held by the mail server; one more waits behind it.
        inbox.stall_each_after(0)
        open_tickets(server, private_broker.env, f"{BEN}:Printer jams", f"{CY}:VPN drops")
        wait_for(lambda: inbox.waiting == 1, timeout=30, what="Ben's email held", workers=(worker,))
        assert statuses(server) == [(ANA, sent), (BEN, sending), (CY, EmailStatus.PENDING)]

        server.restart()
        open_tickets(server, private_broker.env, f"{DEE}:New laptop")
        inbox.release()

        # Ben's delivery lost its session mid-message: nothing went out for it, its claim stays
        # (the database refused to record anything). Cy's and Dee's go as usual, at once: the
        # worker used to stand still for the mail timeout (30 s) first.
        after = [(ANA, sent), (BEN, sending), (CY, sent), (DEE, sent)]
        wait_for_outbox(server, inbox, after, worker, timeout=15)
        (held,) = [row for row in outbox_rows(server) if row.status == sending]
        wait_until_stale(held.claimed_at)
        outbox_sweep_task.delay()

        wait_for_outbox(server, inbox, [(ANA, sent), (BEN, sent), (CY, sent), (DEE, sent)], worker)
        assert [row.attempts for row in outbox_rows(server)] == [1, 2, 1, 1]
        assert_each_email_once(inbox, emails=outbox_rows(server), offers=[])
        assert worker.alive
