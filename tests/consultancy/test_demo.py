"""`seed_demo`: the practice `make run` opens on is consistent, and a second run changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import F
from django.test import RequestFactory
from django.utils import timezone

from billing.invoicing import uninvoiced
from billing.models import BillingRun, Invoice, RateCard
from billing.periods import Period
from billing.run import billing_run
from billing.services import contracts_to_bill
from clients.models import (
    Charge,
    ChargeKind,
    Client,
    ClientEvent,
    ClientEventKind,
    ClientStatus,
    Contact,
)
from consultancy.demo import DEMO_USERS, seed_demo
from consultancy.demo.bench import DAY_CAP, TICKETS_A_YEAR, spread_work, staff_consultants
from consultancy.demo.lifecycle import ClientTerms
from consultancy.demo.reference import ensure_users
from consultancy.demo.timesheets import log_work
from consultancy.demo.workload import TicketDraft
from consultancy.roles import is_consultant, is_manager
from contracts.models import ContractPlan, ServiceContract
from tickets.models import Ticket, TimeEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> None:
    seed_demo(clients=40, tickets=300, seed=7)


def test_the_demo_practice_has_clients_contracts_tickets_and_charges(demo):
    assert Client.objects.count() == 40
    assert ServiceContract.objects.active().exists()
    assert Ticket.objects.count() == 300
    assert Charge.objects.exists()
    # Every client can be reached: exactly one primary contact each.
    assert Contact.objects.filter(is_primary=True).count() == 40


def test_no_dropped_demo_client_holds_a_contract(demo):
    dropped = Client.objects.filter(status=ClientStatus.DROPPED)

    assert not ServiceContract.objects.active().filter(client__in=dropped).exists()


def test_each_demo_contract_and_drop_opens_the_clients_history(demo):
    started = set(
        ClientEvent.objects.filter(kind=ClientEventKind.CONTRACT_STARTED).values_list(
            "client_id", flat=True
        )
    )
    dropped = set(
        ClientEvent.objects.filter(kind=ClientEventKind.DROPPED).values_list("client_id", flat=True)
    )

    assert started == set(ServiceContract.objects.values_list("client_id", flat=True))
    assert dropped == set(
        Client.objects.filter(status=ClientStatus.DROPPED).values_list("pk", flat=True)
    )
    contract = ServiceContract.objects.filter(renewed_from__isnull=True).select_related("plan")[0]
    event = ClientEvent.objects.get(
        client=contract.client_id, kind=ClientEventKind.CONTRACT_STARTED
    )
    assert event.summary.startswith(f"Started {contract.plan} at $")
    assert event.at == contract.created_at
    # Dated the day the term starts, as the practice sees the calendar.
    assert timezone.localtime(event.at).date() == contract.starts_on


def test_the_demo_users_log_in_with_their_roles(demo):
    # The login protection (django-axes) counts attempts per request: authenticate needs one.
    request = RequestFactory().post("/accounts/login/")
    for username, password, *_rest in DEMO_USERS:
        user = authenticate(request, username=username, password=password)
        assert user is not None, username
        assert is_consultant(user)
    managers = [
        u for u, p, *_ in DEMO_USERS if is_manager(authenticate(request, username=u, password=p))
    ]
    assert managers, "the demo has a manager"


def test_seeding_again_changes_nothing(demo):
    before = (Client.objects.count(), Ticket.objects.count(), ClientEvent.objects.count())

    out = StringIO()
    call_command("seed_demo", stdout=out)

    assert (Client.objects.count(), Ticket.objects.count(), ClientEvent.objects.count()) == before


def test_demo_work_beyond_the_contracts_monthly_hours_is_overage_and_break_fix_is_labour():
    plan = ContractPlan(included_hours=Decimal("1"), overage_hourly_rate=Decimal("90.00"))
    contract = ServiceContract(
        pk=1, plan=plan, starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 12, 31)
    )
    client = Client(name="Harbor Dental LLC")
    march = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)

    def worked(opened_at: dt.datetime, minutes: int, *, on_contract: bool = True) -> TicketDraft:
        ticket = Ticket(
            client=client,
            contract=contract if on_contract else None,
            subject="VPN drops every few minutes",
            opened_at=opened_at,
        )
        return TicketDraft(ticket=ticket, work_minutes=minutes, priority_charge=None)

    logs = log_work(
        [
            # Listed out of order: the month's earliest ticket spends the included hour first.
            worked(march + dt.timedelta(days=1), 45),
            worked(march, 45),
            worked(march + dt.timedelta(days=2), 60, on_contract=False),
            worked(march, 0),  # a new ticket, no work yet: no time entry
            worked(march + dt.timedelta(days=31), 30),  # April's hour is untouched
        ]
    )

    assert [(log.ticket.opened_at, log.covered_minutes, log.billable_minutes) for log in logs] == [
        (march, 45, 0),
        (march + dt.timedelta(days=1), 15, 30),
        (march + dt.timedelta(days=2), 0, 60),
        (march + dt.timedelta(days=31), 30, 0),
    ]
    # The overage waits for the month's billing run; break-fix labour is charged as logged.
    assert logs[1].charge is None
    labour = logs[2].charge
    assert labour is not None
    assert (labour.kind, labour.amount, labour.hours) == (
        ChargeKind.LABOUR,
        RateCard.load().hourly_rate,
        Decimal("1.00"),
    )
    assert logs[0].charge is None
    assert logs[3].charge is None


def test_the_demo_has_billed_its_past_but_leaves_last_month_to_the_manager(demo):
    last = Period.last_closed()
    billed = set(BillingRun.objects.values_list("period", flat=True))

    assert billed
    assert last.first_day not in billed
    assert max(billed) == last.previous.first_day
    assert Invoice.objects.filter(period=last.previous.first_day).exists()
    # Every fee and overage the runs posted, and everything up to then, is on an invoice.
    assert not uninvoiced(last.previous).exists()
    # Last month is there to bill: its contracts are not billed yet, and a run bills them.
    assert contracts_to_bill(last).exists()
    due = contracts_to_bill(last).count()
    assert billing_run(period=last).contracts == due
    assert not contracts_to_bill(last).exists()


def test_demo_work_is_priced_by_the_term_in_force_on_its_work_date(demo):
    # As time_log prices it: a day a client's contract covers is never break-fix labour.
    for entry in TimeEntry.objects.select_related("ticket__client", "charge"):
        terms = ServiceContract.objects.filter(client=entry.ticket.client_id)
        covering = [t for t in terms if t.covers(entry.work_date)]
        covered = bool(covering)
        assert covering == ([entry.contract] if covered else []), entry
        assert (entry.contract_id is not None) == covered, entry
        if covered:
            assert entry.charge is None, entry


def test_demo_work_on_a_ticket_opened_before_the_contract_began_is_contract_work():
    plan = ContractPlan(included_hours=Decimal("2"), overage_hourly_rate=Decimal("90.00"))
    contract = ServiceContract(
        pk=1, client_id=7, plan=plan, starts_on=dt.date(2026, 3, 1), ends_on=dt.date(2027, 2, 28)
    )
    client = Client(pk=7, name="Harbor Dental LLC")
    ticket = Ticket(
        client=client,
        contract=None,  # opened the day before the contract began
        subject="VPN drops every few minutes",
        opened_at=dt.datetime(2026, 2, 28, 20, 0, tzinfo=dt.UTC),
        first_response_at=dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC),
    )

    (log,) = log_work(
        [TicketDraft(ticket=ticket, work_minutes=60, priority_charge=None)],
        ClientTerms([contract]),
    )

    assert (log.contract, log.covered_minutes, log.charge) == (contract, 60, None)


def test_the_demo_year_has_churn_expansion_and_contraction(demo):
    # The movements the dashboard reads (insights.revenue), in the last 12 months.
    year_ago = timezone.localdate() - dt.timedelta(days=365)
    renewals = ServiceContract.objects.filter(
        renewed_from__isnull=False, starts_on__gte=year_ago
    ).select_related("renewed_from__plan", "plan")
    # Renewed on the anniversary, the day after the first term ended, by the nightly roll-over.
    assert all(r.starts_on == r.renewed_from.ends_on + dt.timedelta(days=1) for r in renewals)
    up = [r for r in renewals if r.monthly_price > r.renewed_from.monthly_price]
    down = [r for r in renewals if r.monthly_price < r.renewed_from.monthly_price]
    assert up
    assert down
    # Expansion: the first-term loyalty discount ended; the next term is at the plan's price.
    for r in up:
        assert r.renewed_from.discount_first_term_only
        assert (r.plan, r.monthly_price) == (r.renewed_from.plan, r.plan.monthly_price)
    # Contraction: the client moved to a cheaper plan at renewal.
    for r in down:
        assert r.plan.monthly_price < r.renewed_from.plan.monthly_price
    cancelled = ServiceContract.objects.filter(status="cancelled", ended_at__date__gte=year_ago)
    assert cancelled.exists()
    assert all(c.end_reason for c in cancelled)
    assert (
        ClientEvent.objects.filter(
            kind=ClientEventKind.CONTRACT_CANCELLED, client__in=cancelled.values("client")
        ).count()
        == cancelled.count()
    )
    assert ClientEvent.objects.filter(kind=ClientEventKind.CONTRACT_RENEWED).count() == (
        ServiceContract.objects.filter(renewed_from__isnull=False).count()
    )


def test_the_demo_practice_keeps_most_of_its_contract_promises():
    # At the default size, so each priority has enough tickets to read a share from.
    seed_demo()
    tickets = Ticket.objects.filter(contract__isnull=False, first_response_at__isnull=False)
    kept = tickets.filter(first_response_at__lte=F("response_due_at")).count()
    assert 0.85 <= kept / tickets.count() <= 0.98
    # A few misses, so the dashboard's "missed" links have something to show.
    assert tickets.filter(first_response_at__gt=F("response_due_at")).exists()
    resolved = Ticket.objects.filter(contract__isnull=False, resolved_at__isnull=False)
    in_time = resolved.filter(resolved_at__lte=F("resolution_due_at")).count()
    assert 0.85 <= in_time / resolved.count() <= 0.98

    def share(priority: str) -> float:
        of = tickets.filter(priority=priority)
        return of.filter(first_response_at__lte=F("response_due_at")).count() / of.count()

    assert share("urgent") < share("low")


def test_a_bigger_demo_practice_has_more_consultants_none_on_a_double_shift():
    named = ensure_users()[1:]
    # 11,000 tickets a year at 1,100 each: ten consultants, the three named ones first.
    bench = staff_consultants(named, tickets_a_year=10 * TICKETS_A_YEAR)
    assert len(bench) == 10
    assert bench[:3] == named
    assert all(is_consultant(u) for u in bench)
    assert len({u.username for u in bench}) == 10
    # Three 4-hour tickets on one day for the same person: the third goes to a free colleague.
    client = Client(pk=1, name="Harbor Dental LLC")
    day = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
    drafts = [
        TicketDraft(
            ticket=Ticket(client=client, opened_at=day, assignee=bench[0]),
            work_minutes=240,
            priority_charge=None,
        )
        for _ in range(3)
    ]
    spread_work(drafts, bench[:2])
    assert [d.ticket.assignee for d in drafts] == [bench[0], bench[0], bench[1]]
    assert 2 * 240 <= DAY_CAP < 3 * 240
