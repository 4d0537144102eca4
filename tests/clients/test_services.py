"""client_drop and client_reinstate."""

from __future__ import annotations

import pytest

from clients.models import Client, ClientStatus
from clients.services import ClientError, client_drop, client_reinstate
from tests.conftest import NOW
from tests.factories import ChargeFactory, ClientFactory

pytestmark = pytest.mark.django_db


def test_dropping_a_client_records_when_and_why(now):
    client = ClientFactory()

    dropped = client_drop(client=client, reason="  Never converted after three offers ")

    client.refresh_from_db()
    assert client.status == ClientStatus.DROPPED
    assert client.is_dropped
    assert client.dropped_at == NOW
    assert client.drop_reason == "Never converted after three offers"
    assert dropped.pk == client.pk
    assert Client.objects.active().count() == 0


def test_dropping_keeps_the_clients_history(now):
    charge = ChargeFactory()

    client_drop(client=charge.client, reason="Slow payer")

    assert charge.client.charges.get() == charge


def test_a_very_long_drop_reason_is_cut_to_fit(now):
    client = client_drop(client=ClientFactory(), reason="x" * 800)

    client.refresh_from_db()
    assert len(client.drop_reason) == 500


def test_dropping_a_dropped_client_is_refused(now):
    client = client_drop(client=ClientFactory(), reason="First time")

    with pytest.raises(ClientError, match="already dropped"):
        client_drop(client=client, reason="Second time")

    client.refresh_from_db()
    assert client.drop_reason == "First time"


def test_reinstating_a_client_clears_the_drop(now):
    client = client_drop(client=ClientFactory(), reason="Went quiet")

    reinstated = client_reinstate(client=client)

    client.refresh_from_db()
    assert client.status == ClientStatus.ACTIVE
    assert client.dropped_at is None
    assert client.drop_reason == ""
    assert reinstated.pk == client.pk


def test_reinstating_an_active_client_is_refused(now):
    client = ClientFactory()

    with pytest.raises(ClientError, match="already active"):
        client_reinstate(client=client)

    client.refresh_from_db()
    assert client.status == ClientStatus.ACTIVE


def test_services_act_on_the_database_row_not_a_stale_copy(now):
    client = ClientFactory()
    stale = Client.objects.get(pk=client.pk)
    client_drop(client=client, reason="Dropped in another tab")

    with pytest.raises(ClientError):
        client_drop(client=stale, reason="Dropped again")
