"""Renewal notices: a client on automatic renewal hears, a set number of days ahead, that its
contract renews and at what price -- the plan's, when a first-term discount ends. Once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from clients.models import ClientEvent, ClientEventKind
from contracts.models import RenewalMode, RenewalSettings
from contracts.renewals import renewal_notices_due, renewal_notices_send
from contracts.tasks import renewal_notices_task
from tests.conftest import TODAY, committed
from tests.factories import ContactFactory, ContractFactory, PlanFactory

pytestmark = pytest.mark.django_db


def _contract(ends_in: int = 30, **fields: Any) -> Any:
    values = {
        "plan": PlanFactory(monthly_price=Decimal("500.00")),
        "starts_on": TODAY + dt.timedelta(days=ends_in) - dt.timedelta(days=364),
        "ends_on": TODAY + dt.timedelta(days=ends_in),
        "monthly_price": Decimal("450.00"),
        "discount_percent": Decimal("10.00"),
        "discount_first_term_only": True,
        **fields,
    }
    contract = ContractFactory(**values)
    ContactFactory(client=contract.client, name="Ana Ruiz", email="ana@acme.example")
    return contract


def _due() -> list[int]:
    return renewal_notices_due(today=TODAY, settings_row=RenewalSettings.load())


def test_a_notice_states_the_price_after_a_first_term_discount_and_goes_once(now, mailoutbox):
    contract = _contract()

    assert _due() == [contract.pk]
    with committed():
        assert renewal_notices_send(_due()) == 1
        assert renewal_notices_send([contract.pk]) == 0  # claimed: never twice

    (message,) = mailoutbox
    assert message.to == ["Ana Ruiz <ana@acme.example>"]
    assert "renews on" in message.subject
    assert "The next term costs $500.00 a month." in message.body
    assert "loyalty discount of 10% was for the first term" in message.body
    assert "against the $450.00 you pay now" in message.body
    event = ClientEvent.objects.get(kind=ClientEventKind.RENEWAL_NOTICE)
    assert "at $500.00 a month (the first-term discount ends)" in event.summary
    assert _due() == []


def test_a_discount_for_every_term_is_kept_and_said_so(now, mailoutbox):
    _contract(discount_first_term_only=False)

    with committed():
        renewal_notices_send(_due())

    (message,) = mailoutbox
    assert "The next term costs $450.00 a month. That is the price you pay now." in message.body


@pytest.mark.parametrize(
    ("why", "fields"),
    [
        ("renewed by hand", {"renewal": RenewalMode.MANUAL}),
        ("too early", {"ends_in": 31}),
        ("already told", {"renewal_notice_sent_at": dt.datetime(2025, 3, 1, tzinfo=dt.UTC)}),
    ],
)
def test_no_notice_for_manual_renewals_early_terms_or_twice(now, why, fields):
    ends_in = fields.pop("ends_in", 30)
    _contract(ends_in=ends_in, **fields)

    assert _due() == []


def test_no_notice_without_a_primary_contact(now):
    contract = _contract()
    contract.client.contacts.update(is_primary=False)

    assert _due() == []


def test_the_notice_period_is_a_setting(now):
    contract = _contract(ends_in=45)
    assert _due() == []

    row = RenewalSettings.load()
    row.notice_days = 60
    row.save()

    assert _due() == [contract.pk]


def test_the_daily_task_sends_the_notices(now, mailoutbox):
    _contract()
    _contract(ends_in=10)

    with committed():
        assert renewal_notices_task.apply().get() == 2
    assert len(mailoutbox) == 2


def test_a_manager_sets_the_notice_period_in_the_admin(manager_client):
    url = reverse("admin:contracts_renewalsettings_change", args=[1])

    response = manager_client.post(url, {"notice_days": "21"})

    assert response.status_code == 302
    assert RenewalSettings.load().notice_days == 21
    assert manager_client.post(url, {"notice_days": "0"}).status_code == 200
    assert RenewalSettings.load().notice_days == 21
