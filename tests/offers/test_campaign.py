"""Who a conversion campaign offers a contract, and the arithmetic of the offer (contracts.campaign).

The pure rules are checked against figures worked out by hand; the eligibility query against a
ledger built row by row, and for its cost: one SQL statement however many clients there are.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clients.models import ChargeKind, Client, ClientStatus
from offers.campaign import (
    PlanTerms,
    eligible_clients,
    loyalty_discount,
    offerable_clients,
    recommend_plan,
    savings_statement,
    with_trailing_figures,
)
from offers.models import CampaignSettings, OfferStatus
from offers.services import campaign_preview
from tests.conftest import DAY, NOW, TODAY
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    EndedContractFactory,
    OfferableClientFactory,
    OfferFactory,
    PlanFactory,
    TicketFactory,
    campaign_rules,
)
from tickets.models import TicketStatus


def _rules(**overrides: Any) -> CampaignSettings:
    """The campaign rules as a plain object (not saved): the pure functions need no database."""
    values = {
        "base_discount_percent": Decimal("5.00"),
        "tenure_bonus_percent_per_year": Decimal("1.00"),
        "max_discount_percent": Decimal("12.00"),
        **overrides,
    }
    return CampaignSettings(**values)


# --- loyalty_discount -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("customer_since", "today", "expected"),
    [
        # Less than a year: the base alone.
        (dt.date(2024, 6, 1), TODAY, "5.00"),
        # Four full years to the day: base 5 + 4 x 1.
        (dt.date(2021, 3, 10), TODAY, "9.00"),
        # The day before the third anniversary still counts two years...
        (dt.date(2022, 3, 11), TODAY, "7.00"),
        # ...and on the anniversary itself the third year is full.
        (dt.date(2022, 3, 11), dt.date(2025, 3, 11), "8.00"),
        # A later month in an earlier year is not a full year yet.
        (dt.date(2023, 12, 31), dt.date(2024, 12, 30), "5.00"),
        (dt.date(2023, 12, 31), dt.date(2024, 12, 31), "6.00"),
        # A customer since 29 February completes a year on 1 March in common years...
        (dt.date(2020, 2, 29), dt.date(2021, 2, 28), "5.00"),
        (dt.date(2020, 2, 29), dt.date(2021, 3, 1), "6.00"),
        # ...and on 29 February in leap years.
        (dt.date(2020, 2, 29), dt.date(2024, 2, 28), "8.00"),
        (dt.date(2020, 2, 29), dt.date(2024, 2, 29), "9.00"),
        # Twenty years would be 25%: the cap holds it at 12%.
        (dt.date(2005, 1, 1), TODAY, "12.00"),
        # Exactly at the cap: seven years.
        (dt.date(2018, 3, 10), TODAY, "12.00"),
        # A start date in the future (a typo in the admin) gives the base, never less.
        (dt.date(2026, 1, 1), TODAY, "5.00"),
    ],
)
def test_loyalty_discount_is_the_base_plus_a_bonus_per_full_year_capped(
    customer_since: dt.date, today: dt.date, expected: str
) -> None:
    discount = loyalty_discount(customer_since=customer_since, today=today, rules=_rules())

    assert discount == Decimal(expected)
    assert discount.as_tuple().exponent == -2


def test_loyalty_discount_with_fractional_rules_is_rounded_to_the_cent() -> None:
    rules = _rules(
        base_discount_percent=Decimal("2.50"),
        tenure_bonus_percent_per_year=Decimal("0.75"),
        max_discount_percent=Decimal("50.00"),
    )

    # Three full years: 2.50 + 3 x 0.75 = 4.75.
    assert loyalty_discount(
        customer_since=dt.date(2022, 1, 15), today=TODAY, rules=rules
    ) == Decimal("4.75")


# --- recommend_plan ---------------------------------------------------------------------------
BASIC = PlanTerms(plan_id=1, monthly_price=Decimal("290.00"), included_hours=Decimal("5.00"))
STANDARD = PlanTerms(plan_id=2, monthly_price=Decimal("490.00"), included_hours=Decimal("10.00"))
PREMIUM = PlanTerms(plan_id=3, monthly_price=Decimal("890.00"), included_hours=Decimal("20.00"))
PLANS = [PREMIUM, BASIC, STANDARD]  # out of order on purpose


@pytest.mark.parametrize(
    ("monthly_hours", "expected"),
    [
        ("0", BASIC),
        ("4.99", BASIC),
        ("5.00", BASIC),  # exactly covered
        ("5.01", STANDARD),
        ("10.00", STANDARD),
        ("19.99", PREMIUM),
        ("20.00", PREMIUM),
        ("25.00", PREMIUM),  # no plan covers it: the biggest one
    ],
)
def test_recommended_plan_is_the_cheapest_that_covers_the_average_month(
    monthly_hours: str, expected: PlanTerms
) -> None:
    assert recommend_plan(Decimal(monthly_hours), PLANS) == expected


def test_recommended_plan_is_the_cheaper_of_two_covering_plans_whatever_their_hours() -> None:
    generous_and_cheap = PlanTerms(
        plan_id=7, monthly_price=Decimal("250.00"), included_hours=Decimal("12.00")
    )

    assert recommend_plan(Decimal("4"), [BASIC, generous_and_cheap]) == generous_and_cheap


def test_when_no_plan_covers_the_biggest_is_recommended_and_the_cheaper_of_equals() -> None:
    big = PlanTerms(plan_id=4, monthly_price=Decimal("990.00"), included_hours=Decimal("20.00"))

    assert recommend_plan(Decimal("40"), [BASIC, big, PREMIUM]) == PREMIUM


def test_equally_priced_covering_plans_are_decided_by_plan_id() -> None:
    twin = PlanTerms(plan_id=9, monthly_price=Decimal("290.00"), included_hours=Decimal("6.00"))

    assert recommend_plan(Decimal("1"), [twin, BASIC]) == BASIC


def test_recommending_from_no_plans_is_an_error() -> None:
    with pytest.raises(ValueError, match="no plans"):
        recommend_plan(Decimal("1"), [])


# --- savings_statement ------------------------------------------------------------------------
def test_savings_statement_of_a_client_who_would_have_paid_more_on_contract() -> None:
    savings = savings_statement(
        labour=Decimal("2400.00"),
        priority=Decimal("150.00"),
        list_price=Decimal("290.00"),
        discount_percent=Decimal("11.00"),
    )

    # 290.00 x 0.89 = 258.10 a month; 12 x 258.10 = 3,097.20; paid 2,400 + 150 = 2,550.00.
    assert savings.monthly_price == Decimal("258.10")
    assert savings.contract_cost == Decimal("3097.20")
    assert savings.trailing_spend == Decimal("2550.00")
    assert savings.difference == Decimal("-547.20")
    assert savings.list_price == Decimal("290.00")
    assert savings.discount_percent == Decimal("11.00")


def test_savings_statement_of_a_client_who_would_have_saved() -> None:
    savings = savings_statement(
        labour=Decimal("5937.50"),
        priority=Decimal("375.00"),
        list_price=Decimal("490.00"),
        discount_percent=Decimal("7.00"),
    )

    # 490.00 x 0.93 = 455.70; x 12 = 5,468.40; paid 6,312.50; saved 844.10.
    assert savings.monthly_price == Decimal("455.70")
    assert savings.contract_cost == Decimal("5468.40")
    assert savings.trailing_spend == Decimal("6312.50")
    assert savings.difference == Decimal("844.10")


def test_half_a_cent_is_rounded_up_not_to_even() -> None:
    # 99.90 x 0.95 = 94.905: half up gives 94.91 (banker's rounding would give 94.90).
    savings = savings_statement(
        labour=Decimal("0"),
        priority=Decimal("0"),
        list_price=Decimal("99.90"),
        discount_percent=Decimal("5.00"),
    )

    assert savings.monthly_price == Decimal("94.91")
    assert savings.contract_cost == Decimal("1138.92")


def test_ledger_amounts_beyond_the_cent_are_rounded_half_up() -> None:
    savings = savings_statement(
        labour=Decimal("100.005"),
        priority=Decimal("0.004"),
        list_price=Decimal("290"),
        discount_percent=Decimal("0"),
    )

    assert savings.trailing_labour == Decimal("100.01")
    assert savings.trailing_priority == Decimal("0.00")
    assert savings.trailing_spend == Decimal("100.01")
    assert savings.list_price == Decimal("290.00")
    assert savings.monthly_price == Decimal("290.00")


MONEY = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999999.99"), places=2)
PERCENT = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)


@given(list_price=MONEY, discount=PERCENT, labour=MONEY, priority=MONEY)
def test_monthly_price_never_exceeds_list_and_a_year_is_exactly_twelve_months(
    list_price: Decimal, discount: Decimal, labour: Decimal, priority: Decimal
) -> None:
    savings = savings_statement(
        labour=labour, priority=priority, list_price=list_price, discount_percent=discount
    )

    assert Decimal("0") <= savings.monthly_price <= list_price
    assert savings.monthly_price.as_tuple().exponent == -2
    assert savings.contract_cost == savings.monthly_price * 12
    assert savings.trailing_spend == labour + priority
    # The price is the list price less the discount, to the nearest cent (half up).
    exact = list_price * (100 - discount) / 100
    assert abs(savings.monthly_price - exact) <= Decimal("0.005")
    assert savings.monthly_price == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- The rules row -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_campaign_rules_are_one_row_whatever_key_it_is_saved_under() -> None:
    CampaignSettings.objects.all().delete()

    loaded = CampaignSettings.load()  # made with the defaults when missing
    CampaignSettings(pk=7, min_trailing_tickets=9).save()

    assert loaded.pk == 1
    assert loaded.min_trailing_spend == Decimal("500.00")
    assert list(CampaignSettings.objects.values_list("pk", "min_trailing_tickets")) == [(1, 9)]
    assert CampaignSettings.load().min_trailing_tickets == 9


# --- The eligibility query --------------------------------------------------------------------
@pytest.fixture
def rules(db: None) -> CampaignSettings:
    return campaign_rules(
        min_trailing_spend=Decimal("500.00"),
        min_trailing_tickets=4,
        cooldown_days=90,
        base_discount_percent=Decimal("5.00"),
        tenure_bonus_percent_per_year=Decimal("1.00"),
        max_discount_percent=Decimal("12.00"),
        offer_lifetime_days=21,
        max_offers_per_run=10_000,
    )


def _spender(
    spend: str = "600.00", tickets: int = 0, *, name: str | None = None, **fields: Any
) -> Client:
    """A reachable transactional client who was billed `spend` for labour a month ago."""
    client = OfferableClientFactory(**({"name": name} if name else {}), **fields)
    if Decimal(spend):
        ChargeFactory(client=client, amount=Decimal(spend), occurred_at=NOW - 30 * DAY)
    for _ in range(tickets):
        TicketFactory(client=client, opened_at=NOW - 20 * DAY)
    return client


def _eligible(rules: CampaignSettings) -> list[Client]:
    return list(eligible_clients(now=NOW, rules=rules))


@pytest.mark.django_db
def test_a_reachable_transactional_client_over_the_spend_threshold_is_eligible(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    client = _spender("600.00")

    assert _eligible(rules) == [client]


def _with_contract() -> Client:
    client = _spender()
    ContractFactory(client=client)
    return client


def _dropped() -> Client:
    return _spender(status=ClientStatus.DROPPED, dropped_at=NOW - 5 * DAY)


def _opted_out() -> Client:
    return _spender(offers_opt_out=True)


def _without_primary_contact() -> Client:
    client = ClientFactory()
    ContactFactory(client=client, is_primary=False)
    ChargeFactory(client=client, amount=Decimal("600.00"), occurred_at=NOW - 30 * DAY)
    return client


def _with_open_offer() -> Client:
    client = _spender()
    # Made before the cooldown, so only "it is still open" keeps the client out.
    OfferFactory(client=client, created_at=NOW - 200 * DAY, expires_at=NOW + DAY)
    return client


def _declined_inside_cooldown() -> Client:
    client = _spender()
    OfferFactory(client=client, status=OfferStatus.DECLINED, created_at=NOW - 89 * DAY)
    return client


def _expired_unanswered_inside_cooldown() -> Client:
    client = _spender()
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
    keeper = _spender(name="Keeper")
    make()

    assert _eligible(rules) == [keeper]


@pytest.mark.django_db
def test_a_client_whose_contract_ended_is_transactional_again_and_eligible(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    client = _spender()
    EndedContractFactory(client=client)

    assert _eligible(rules) == [client]


@pytest.mark.django_db
def test_a_client_offered_before_the_cooldown_is_eligible_again(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    client = _spender()
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
    client = _spender(spend, tickets)

    assert _eligible(rules) == ([client] if eligible else [])


@pytest.mark.django_db
def test_charges_and_tickets_older_than_365_days_do_not_count(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    old = _spender("0")
    ChargeFactory(client=old, amount=Decimal("9000.00"), occurred_at=NOW - 366 * DAY)
    for _ in range(6):
        TicketFactory(client=old, opened_at=NOW - 366 * DAY)
    recent = _spender("0")
    ChargeFactory(client=recent, amount=Decimal("500.00"), occurred_at=NOW - 364 * DAY)

    assert _eligible(rules) == [recent]


@pytest.mark.django_db
def test_the_trailing_figures_split_labour_priority_hours_purchases_and_tickets(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    client = _spender("0")
    ChargeFactory(client=client, kind=ChargeKind.LABOUR, amount=Decimal("250.00"), hours=2)
    ChargeFactory(
        client=client, kind=ChargeKind.LABOUR, amount=Decimal("312.50"), hours=Decimal("2.5")
    )
    ChargeFactory(client=client, kind=ChargeKind.OVERAGE, amount=Decimal("110.00"), hours=1)
    ChargeFactory(client=client, kind=ChargeKind.PAID_PRIORITY, amount=Decimal("75.00"))
    ChargeFactory(client=client, kind=ChargeKind.PAID_PRIORITY, amount=Decimal("75.00"))
    ChargeFactory(client=client, kind=ChargeKind.OTHER, amount=Decimal("40.00"))
    # A year and a day ago: outside the window for every figure.
    ChargeFactory(client=client, amount=Decimal("999.00"), hours=9, occurred_at=NOW - 366 * DAY)
    TicketFactory(client=client, opened_at=NOW - 100 * DAY)
    TicketFactory(client=client, opened_at=NOW - DAY, status=TicketStatus.CLOSED)
    TicketFactory(client=client, opened_at=NOW - 400 * DAY)

    row = with_trailing_figures(Client.objects.filter(pk=client.pk), now=NOW).get()

    assert row.trailing_labour == Decimal("672.50")  # labour and overage
    assert row.trailing_priority == Decimal("150.00")
    assert row.trailing_hours == Decimal("5.50")
    assert row.priority_purchases == 2
    assert row.trailing_tickets == 2
    assert row.trailing_spend == Decimal("862.50")  # everything billed, "other" included


@pytest.mark.django_db
def test_figures_of_an_offerable_client_are_not_multiplied_by_its_contacts_or_tickets(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    # Charges are joined and summed per client; a second row per client anywhere in the join
    # (another contact, a ticket) would count every charge twice.
    client = _spender("0")
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
    few_tickets_no_priority = _spender("900.00", 2, name="E")
    top_spender = _spender("1200.00", 0, name="B")
    few_tickets_bought_priority = _spender("750.00", 2, name="D")
    for _ in range(2):
        ChargeFactory(
            client=few_tickets_bought_priority,
            kind=ChargeKind.PAID_PRIORITY,
            amount=Decimal("75.00"),
        )
    many_tickets = _spender("900.00", 6, name="C")

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
        client = _spender("600.00", n % 3)
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
@pytest.mark.parametrize("clients", [3, 30])
def test_the_campaign_preview_costs_the_same_queries_for_3_or_30_clients(
    now: dt.datetime, rules: CampaignSettings, django_assert_num_queries: Any, clients: int
) -> None:
    PlanFactory(monthly_price=Decimal("290.00"), included_hours=Decimal("5.00"))
    PlanFactory(monthly_price=Decimal("490.00"), included_hours=Decimal("10.00"))
    for _ in range(clients):
        _spender("700.00")

    # Three: the campaign rules, the offered plans, and the eligible clients with their figures;
    # the drafting itself is pure.
    with django_assert_num_queries(3):
        preview = campaign_preview(now=NOW)

    assert len(preview.offers) == clients
    assert preview.eligible == clients
    assert not preview.capped


@pytest.mark.django_db
def test_the_preview_is_capped_by_max_offers_per_run_keeping_the_best_ranked(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    PlanFactory()
    _spender("600.00", name="Third")
    _spender("900.00", name="First")
    _spender("700.00", name="Second")
    campaign_rules(max_offers_per_run=2)

    preview = campaign_preview(now=NOW)

    assert [d.client.name for d in preview.offers] == ["First", "Second"]
    # The run records how many qualified, not just how many the cap let through.
    assert preview.eligible == 3
    assert preview.capped


@pytest.mark.django_db
@pytest.mark.parametrize(("cap", "queries", "offers"), [(3, 3, 3), (2, 4, 2)])
def test_the_preview_counts_the_eligible_clients_only_when_the_cap_cuts_the_list(
    now: dt.datetime,
    rules: CampaignSettings,
    django_assert_num_queries: Any,
    cap: int,
    queries: int,
    offers: int,
) -> None:
    PlanFactory()
    for _ in range(3):
        _spender("700.00")
    campaign_rules(max_offers_per_run=cap)

    # The rules, the plans, the list (one row past the cap); only a cut list costs a count.
    with django_assert_num_queries(queries):
        preview = campaign_preview(now=NOW)

    assert (len(preview.offers), preview.eligible, preview.capped) == (offers, 3, offers < 3)


@pytest.mark.django_db
def test_the_preview_offers_nobody_when_no_plan_is_offered(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    PlanFactory(is_offered=False)
    _spender("900.00")

    preview = campaign_preview(now=NOW)

    assert preview.offers == []
    assert preview.eligible == 1
    assert preview.no_plan_offered
    assert not preview.capped


@pytest.mark.django_db
def test_a_draft_carries_the_recommended_plan_discount_and_savings(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    basic = PlanFactory(name="Basic", monthly_price=Decimal("290.00"), included_hours=5)
    standard = PlanFactory(name="Standard", monthly_price=Decimal("490.00"), included_hours=10)
    PlanFactory(name="Retired", monthly_price=Decimal("90.00"), included_hours=99, is_offered=False)
    # Three full years a customer: 5% + 3 x 1% = 8%.
    client = _spender("0", 3, customer_since=dt.date(2022, 3, 10))
    # 72 hours in a year is 6 a month: more than Basic's 5, within Standard's 10.
    ChargeFactory(client=client, amount=Decimal("9000.00"), hours=72)
    ChargeFactory(client=client, kind=ChargeKind.PAID_PRIORITY, amount=Decimal("75.00"))

    (draft,) = campaign_preview(now=NOW).offers

    assert draft.plan.plan_id == standard.pk != basic.pk
    assert draft.email == client.contacts.get().email
    assert draft.contact_id == client.contacts.get().pk
    s = draft.savings
    assert s.discount_percent == Decimal("8.00")
    assert s.list_price == Decimal("490.00")
    assert s.monthly_price == Decimal("450.80")  # 490 x 0.92
    assert s.contract_cost == Decimal("5409.60")
    assert s.trailing_labour == Decimal("9000.00")
    assert s.trailing_priority == Decimal("75.00")
    assert s.trailing_spend == Decimal("9075.00")
    assert s.difference == Decimal("3665.40")
    assert draft.trailing_hours == Decimal("72.00")
    assert draft.trailing_tickets == 3
    assert draft.priority_purchases == 1
