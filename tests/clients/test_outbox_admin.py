"""Managers see the outbox: the admin's list with its filters (a fixed number of queries), a
row's page, "send again" for an undeliverable email, the dashboard's warning, and the operator's
`requeue_outbox`. Consultants see none of it (the access walk holds the pages' answers)."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from clients.models import EmailKind, EmailStatus, OutboundEmail
from clients.outbox import outbox_add
from tests.clients.test_outbox import _message
from tests.conftest import NOW, committed
from tests.factories import ClientFactory, PendingOfferFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:clients_outboundemail_changelist")


def _rows(count: int, status: str = EmailStatus.PENDING, **fields: Any) -> list[int]:
    client = ClientFactory()
    ids = []
    for n in range(count):
        with transaction.atomic():
            (email_id,) = outbox_add(
                _message(f"person{n}@acme.example"),
                kind=EmailKind.RENEWAL_NOTICE,
                key=f"renewal-notice:{client.pk}-{n}-{status}",
                client=client,
            )
        ids.append(email_id)
    OutboundEmail.objects.filter(pk__in=ids).update(status=status, **fields)
    return ids


@pytest.mark.parametrize("count", [2, 12])
def test_the_outbox_list_costs_the_same_queries_whatever_it_holds(
    now, manager_client, django_assert_num_queries, count
):
    _rows(count, EmailStatus.UNDELIVERABLE, last_error="550 5.1.1 No such user")

    # The session and the user, the user's permissions (twice: the admin's and the model's),
    # the filtered count, the page's rows: 6.
    with django_assert_num_queries(6):
        page = manager_client.get(CHANGELIST, {"status__exact": "undeliverable"})

    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("550 5.1.1 No such user") == count
    assert "Send again (undeliverable emails)" in html


def test_a_bad_filter_value_is_the_admins_wrong_filter_answer(manager_client):
    response = manager_client.get(CHANGELIST, {"status__exact": "lost\x00"})

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_a_manager_sends_undeliverable_emails_again_and_the_rest_are_left(
    now, manager_client, mailoutbox
):
    bad = _rows(2, EmailStatus.UNDELIVERABLE, attempts=3)
    sent = _rows(1, EmailStatus.SENT, sent_at=NOW)

    with committed():
        response = manager_client.post(
            CHANGELIST, {"action": "send_again", "_selected_action": bad + sent}, follow=True
        )

    html = response.content.decode()
    assert "2 email(s) will be sent again." in html
    assert "1 email(s) left as they were" in html
    assert sorted(m.to[0] for m in mailoutbox) == ["person0@acme.example", "person1@acme.example"]
    assert set(OutboundEmail.objects.filter(pk__in=bad).values_list("status", flat=True)) == {
        EmailStatus.SENT
    }


def test_an_emails_page_shows_what_was_sent_and_the_servers_answer(now, manager_client):
    (email_id,) = _rows(1, EmailStatus.UNDELIVERABLE, last_error="550 5.1.1 No such user")

    page = manager_client.get(reverse("admin:clients_outboundemail_change", args=[email_id]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "550 5.1.1 No such user" in html
    assert "person0@acme.example" in html
    assert "We have it." in html
    assert 'name="_save"' not in html  # nobody edits an email


def test_the_dashboard_tells_the_manager_of_undeliverable_and_stuck_emails(now, manager_client):
    _rows(2, EmailStatus.UNDELIVERABLE)
    _rows(3, EmailStatus.PENDING, created_at=NOW - dt.timedelta(minutes=16))
    _rows(4, EmailStatus.PENDING)  # just written: not stuck

    html = manager_client.get(reverse("insights:dashboard")).content.decode()

    assert (
        f'<a href="{CHANGELIST}?status__exact=undeliverable">2 emails could not be delivered</a>'
        in html
    )
    assert (
        f'<a href="{CHANGELIST}?status__exact=pending">3 emails waiting for over 15 minutes</a>'
        in html
    )


def test_the_dashboard_says_nothing_when_every_email_went(now, manager_client):
    _rows(2, EmailStatus.SENT, sent_at=NOW)

    html = manager_client.get(reverse("insights:dashboard")).content.decode()

    assert 'id="outbox-trouble"' not in html


def test_requeue_outbox_queues_everything_waiting_and_says_what(now, mailoutbox):
    waiting = _rows(2, EmailStatus.PENDING, next_attempt_at=NOW + dt.timedelta(hours=1))
    offer = PendingOfferFactory()
    out = StringIO()

    call_command("requeue_outbox", stdout=out)

    assert out.getvalue() == (
        "Queued 2 email(s) from the outbox.\n  Renewal notice: 2\nQueued 1 offer(s) not sent yet.\n"
    )
    assert sorted(m.to[0].rsplit("<", 1)[-1].rstrip(">") for m in mailoutbox) == sorted(
        ["person0@acme.example", "person1@acme.example", offer.email]
    )
    assert set(OutboundEmail.objects.filter(pk__in=waiting).values_list("status", flat=True)) == {
        EmailStatus.SENT
    }
