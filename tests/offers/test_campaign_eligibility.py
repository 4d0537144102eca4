"""Who a campaign may offer a contract: the eligibility query, its trailing figures and its cost."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest

from clients.models import ChargeKind, Client, ClientStatus
from offers.campaign import eligible_clients, offerable_clients, with_trailing_figures
from offers.models import CampaignSettings, OfferStatus
from tests.conftest import DAY, NOW
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    EndedContractFactory,
    OfferFactory,
    TicketFactory,
)
from tests.offers.campaign_helpers import spender
from tickets.models import TicketStatus

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


# --- The eligibility query --------------------------------------------------------------------
def _eligible(rules: CampaignSettings) -> list[Client]:
    return list(eligible_clients(now=NOW, rules=rules))


@pytest.mark.django_db
def test_a_reachable_transactional_client_over_the_spend_threshold_is_eligible(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    client = spender("600.00")

    assert _eligible(rules) == [client]


def _with_contract() -> Client:
    client = spender()
    ContractFactory(client=client)
    return client


def _dropped() -> Client:
    return spender(status=ClientStatus.DROPPED, dropped_at=NOW - 5 * DAY)


def _opted_out() -> Client:
    return spender(offers_opt_out=True)


def _without_primary_contact() -> Client:
    client = ClientFactory()
    ContactFactory(client=client, is_primary=False)
    ChargeFactory(client=client, amount=Decimal("600.00"), occurred_at=NOW - 30 * DAY)
    return client


def _with_open_offer() -> Client:
    client = spender()
    # Made before the cooldown, so only "it is still open" keeps the client out.
    OfferFactory(client=client, created_at=NOW - 200 * DAY, expires_at=NOW + DAY)
    return client


def _declined_inside_cooldown() -> Client:
    client = spender()
    OfferFactory(client=client, status=OfferStatus.DECLINED, created_at=NOW - 89 * DAY)
    return client


def _expired_unanswered_inside_cooldown() -> Client:
    client = spender()
    OfferFactory(client=client, status=OfferStatus.EXPIRED, created_at=NOW - 30 * DAY)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make",
    [
        _with_contract,
        _dropped,
        _opted_out,
        _without_primary_contact,
        _with_open_offer,
        _declined_inside_cooldown,
        _expired_unanswered_inside_cooldown,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_clients_who_must_not_be_offered_are_not_eligible(
    now: dt.datetime, rules: CampaignSettings, make: Any
) -> None:
    keeper = spender(name="Keeper")
    make()

    assert _eligible(rules) == [keeper]


@pytest.mark.django_db
def test_a_client_whose_contract_ended_is_transactional_again_and_eligible(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    client = spender()
    EndedContractFactory(client=client)

    assert _eligible(rules) == [client]


@pytest.mark.django_db
def test_a_client_offered_before_the_cooldown_is_eligible_again(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    client = spender()
    OfferFactory(client=client, status=OfferStatus.DECLINED, created_at=NOW - 91 * DAY)

    assert _eligible(rules) == [client]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("spend", "tickets", "eligible"),
    [
        ("500.00", 0, True),  # the spend threshold is inclusive
        ("499.99", 0, False),
        ("0", 4, True),  # so is the ticket threshold
        ("0", 3, False),
        ("499.99", 3, False),  # close on both counts is not enough
        ("120.00", 9, True),  # either one will do
    ],
)
def test_a_client_qualifies_by_spend_or_by_tickets(
    now: dt.datetime, rules: CampaignSettings, spend: str, tickets: int, eligible: bool
) -> None:
    client = spender(spend, tickets)

    assert _eligible(rules) == ([client] if eligible else [])


@pytest.mark.django_db
def test_only_the_twelve_whole_months_before_this_one_count(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    # NOW is 10 March 2025: the year is March 2024 to February 2025, in the practice's time zone.
    before = dt.datetime(2024, 2, 29, 23, 0, tzinfo=NEW_YORK)
    first_hour = dt.datetime(2024, 3, 1, 0, 30, tzinfo=NEW_YORK)
    old = spender("0")
    ChargeFactory(client=old, amount=Decimal("9000.00"), occurred_at=before)
    for _ in range(6):
        TicketFactory(client=old, opened_at=before)
    this_month = spender("0")
    ChargeFactory(client=this_month, amount=Decimal("9000.00"), occurred_at=NOW - DAY)
    recent = spender("0")
    ChargeFactory(client=recent, amount=Decimal("500.00"), occurred_at=first_hour)

    assert _eligible(rules) == [recent]


@pytest.mark.django_db
def test_the_trailing_figures_split_labour_priority_hours_purchases_and_tickets(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    client = spender("0")
    ChargeFactory(client=client, kind=ChargeKind.LABOUR, amount=Decimal("250.00"), hours=2)
    ChargeFactory(
        client=client, kind=ChargeKind.LABOUR, amount=Decimal("312.50"), hours=Decimal("2.5")
    )
    ChargeFactory(client=client, kind=ChargeKind.OVERAGE, amount=Decimal("110.00"), hours=1)
    ChargeFactory(client=client, kind=ChargeKind.PAID_PRIORITY, amount=Decimal("75.00"))
    ChargeFactory(client=client, kind=ChargeKind.PAID_PRIORITY, amount=Decimal("75.00"))
    ChargeFactory(client=client, kind=ChargeKind.OTHER, amount=Decimal("40.00"))  # hardware
    ChargeFactory(client=client, kind=ChargeKind.CONTRACT_FEE, amount=Decimal("600.00"))
    # Before March 2024, or in this month: outside the year for every figure but the need.
    ChargeFactory(client=client, amount=Decimal("999.00"), hours=9, occurred_at=NOW - 380 * DAY)
    ChargeFactory(client=client, amount=Decimal("999.00"), hours=9, occurred_at=NOW - DAY)
    TicketFactory(client=client, opened_at=NOW - 100 * DAY)
    TicketFactory(client=client, opened_at=NOW - 40 * DAY, status=TicketStatus.CLOSED)
    TicketFactory(client=client, opened_at=NOW - DAY)
    TicketFactory(client=client, opened_at=NOW - 400 * DAY)

    row = with_trailing_figures(Client.objects.filter(pk=client.pk), now=NOW).get()

    assert row.trailing_labour == Decimal("672.50")  # labour and overage
    assert row.trailing_priority == Decimal("150.00")
    assert row.trailing_hours == Decimal("5.50")
    assert row.priority_purchases == 2
    assert row.trailing_tickets == 2
    # What a contract would replace: labour, overage and priority; not hardware, not fees.
    assert row.trailing_spend == Decimal("822.50")


@pytest.mark.django_db
def test_figures_of_an_offerable_client_are_not_multiplied_by_its_contacts_or_tickets(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    # Charges are joined and summed per client; a second row per client anywhere in the join
    # (another contact, a ticket) would count every charge twice.
    client = spender("0")
    ContactFactory(client=client, is_primary=False)
    ContactFactory(client=client, is_primary=False)
    ChargeFactory(client=client, amount=Decimal("300.00"), hours=3)
    ChargeFactory(client=client, kind=ChargeKind.PAID_PRIORITY, amount=Decimal("75.00"))
    for _ in range(3):
        TicketFactory(client=client, opened_at=NOW - 10 * DAY)

    row = with_trailing_figures(offerable_clients().filter(pk=client.pk), now=NOW).get()

    assert (row.trailing_labour, row.trailing_priority, row.trailing_spend) == (
        Decimal("300.00"),
        Decimal("75.00"),
        Decimal("375.00"),
    )
    assert (row.trailing_hours, row.priority_purchases, row.trailing_tickets) == (3, 1, 3)
    assert row.primary_contact_id == client.contacts.get(is_primary=True).pk


@pytest.mark.django_db
def test_a_client_with_no_history_has_zero_figures_not_none(now: dt.datetime) -> None:
    client = ClientFactory()

    row = with_trailing_figures(Client.objects.filter(pk=client.pk), now=NOW).get()

    assert (row.trailing_labour, row.trailing_priority, row.trailing_spend) == (0, 0, 0)
    assert (row.trailing_hours, row.priority_purchases, row.trailing_tickets) == (0, 0, 0)


@pytest.mark.django_db
def test_eligible_clients_are_ranked_by_spend_then_tickets_then_priority_purchases(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    # Created out of rank order, so insertion order cannot pass for ranking.
    few_tickets_no_priority = spender("900.00", 2, name="E")
    top_spender = spender("1200.00", 0, name="B")
    few_tickets_bought_priority = spender("750.00", 2, name="D")
    for _ in range(2):
        ChargeFactory(
            client=few_tickets_bought_priority,
            kind=ChargeKind.PAID_PRIORITY,
            amount=Decimal("75.00"),
        )
    many_tickets = spender("900.00", 6, name="C")

    ranked = _eligible(rules)

    assert [c.name for c in ranked] == ["B", "C", "D", "E"]
    assert [c.trailing_spend for c in ranked] == [Decimal("1200.00")] + [Decimal("900.00")] * 3
    assert ranked == [
        top_spender,
        many_tickets,
        few_tickets_bought_priority,
        few_tickets_no_priority,
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("clients", [5, 50])
def test_eligible_clients_is_one_query_however_many_clients(
    now: dt.datetime, rules: CampaignSettings, django_assert_num_queries: Any, clients: int
) -> None:
    for n in range(clients):
        client = spender("600.00", n % 3)
        ChargeFactory(client=client, kind=ChargeKind.PAID_PRIORITY, amount=Decimal("75.00"))
        # Some clients the query must exclude, so the exclusions run on every row too.
        if n % 5 == 0:
            ContractFactory(client=ClientFactory())

    # One statement: the figures are aggregated in it and the exclusions are anti-joins, so
    # reading the figures of all rows below costs nothing more.
    with django_assert_num_queries(1):
        rows = _eligible(rules)
        figures = [
            (
                c.trailing_spend,
                c.trailing_labour,
                c.trailing_priority,
                c.trailing_hours,
                c.trailing_tickets,
                c.priority_purchases,
                c.primary_email,
                c.primary_contact_id,
            )
            for c in rows
        ]

    assert len(rows) == clients
    assert all(spend == Decimal("675.00") for spend, *_ in figures)


@pytest.mark.django_db
def test_a_look_back_from_an_earlier_day_counts_no_purchase_made_after_it(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    client = spender("0")
    ChargeFactory(client=client, kind=ChargeKind.PAID_PRIORITY, amount=Decimal("75.00"))
    ChargeFactory(
        client=client, kind=ChargeKind.PAID_PRIORITY, amount=Decimal("75.00"), occurred_at=NOW
    )

    earlier = NOW - 10 * DAY
    row = with_trailing_figures(Client.objects.filter(pk=client.pk), now=earlier).get()

    assert row.priority_purchases == 1  # the one 30 days before NOW; not the one at NOW
    assert (
        with_trailing_figures(Client.objects.filter(pk=client.pk), now=NOW).get().priority_purchases
        == 2
    )
