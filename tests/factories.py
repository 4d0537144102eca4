"""factory_boy factories for the domain. Money is Decimal, times are aware."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

import factory
from django.contrib.auth.models import User
from django.utils import timezone

from clients.models import Charge, ChargeKind, Client, Contact
from clients.money import discounted
from contracts.models import (
    BusinessCalendar,
    ContractPlan,
    ContractStatus,
    ContractTerms,
    Coverage,
    Priority,
    ServiceContract,
    ServiceLevel,
)
from contracts.services import term_end
from contracts.terms import standard_terms_of
from offers.models import (
    CampaignRun,
    CampaignSettings,
    CampaignTrigger,
    ConversionOffer,
    OfferStatus,
)
from tickets.models import QueueTier, Ticket, TimeEntry


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n:05d} LLC")
    customer_since = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=800))


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@client.example")
    is_primary = True


class ChargeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Charge

    client = factory.SubFactory(ClientFactory)
    kind = ChargeKind.LABOUR
    amount = Decimal("125.00")
    description = "On-site labour"
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessCalendar
        django_get_or_create = ("name",)

    name = "Test office hours"
    timezone = "America/New_York"
    opens_at = dt.time(8, 0)
    closes_at = dt.time(18, 0)


# Response and resolution targets (minutes) per priority, for plans built by the factory.
DEFAULT_TARGETS = {
    Priority.URGENT: (60, 240),
    Priority.HIGH: (120, 480),
    Priority.NORMAL: (240, 1440),
    Priority.LOW: (480, 2880),
}


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContractPlan
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Plan {n}")
    monthly_price = Decimal("500.00")
    included_hours = Decimal("8.00")
    coverage = Coverage.BUSINESS_HOURS
    calendar = factory.SubFactory(CalendarFactory)
    overage_hourly_rate = Decimal("110.00")
    term_months = 12

    @factory.post_generation
    def targets(self, create: bool, extracted: dict | None, **kwargs: object) -> None:
        if not create:
            return
        summary, text = standard_terms_of(self)
        ContractTerms.objects.create(plan=self, version=1, summary=summary, text=text)
        for priority, (response, resolution) in (extracted or DEFAULT_TARGETS).items():
            ServiceLevel.objects.create(
                plan=self,
                priority=priority,
                response_minutes=response,
                resolution_minutes=resolution,
            )


class ContractFactory(factory.django.DjangoModelFactory):
    """An active contract written straight to the table (tests of services use the services)."""

    class Meta:
        model = ServiceContract

    client = factory.SubFactory(ClientFactory)
    plan = factory.SubFactory(PlanFactory)
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=30))
    ends_on = factory.LazyAttribute(lambda o: term_end(o.starts_on, 12))
    monthly_price = factory.LazyAttribute(lambda o: o.plan.monthly_price)


class TicketFactory(factory.django.DjangoModelFactory):
    """A transactional (standard tier) ticket written straight to the table."""

    class Meta:
        model = Ticket

    client = factory.SubFactory(ClientFactory)
    subject = factory.Sequence(lambda n: f"Printer on floor {n} is offline")
    description = "It shows a paper jam but there is no paper in it."
    priority = Priority.NORMAL
    opened_at = factory.LazyFunction(timezone.now)


class EndedContractFactory(ContractFactory):
    """A past term that has ended: it no longer counts as the client's active contract."""

    status = ContractStatus.ENDED
    starts_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=400))
    ended_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=35))
    end_reason = "Term over"


class UserFactory(factory.django.DjangoModelFactory):
    """A staff member with no role; tests that need a role use the personas in conftest."""

    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@practice.example")
    is_staff = True


class TimeEntryFactory(factory.django.DjangoModelFactory):
    """Work on a transactional ticket: all of it billable, no charge posted yet."""

    class Meta:
        model = TimeEntry

    ticket = factory.SubFactory(TicketFactory)
    consultant = factory.SubFactory(UserFactory)
    work_date = factory.LazyFunction(timezone.localdate)
    minutes = 60
    covered_minutes = 0
    billable_minutes = factory.LazyAttribute(lambda o: o.minutes - o.covered_minutes)


# --- Tickets in each queue tier ----------------------------------------------------------------
class ContractTicketFactory(TicketFactory):
    """A contract ticket with round deadlines after it opened: response 4h, resolution 24h.

    Written straight to the table, so a test can put a deadline wherever it needs it; tickets
    whose deadlines must come from a plan are opened with `ticket_open`.
    """

    contract = factory.SubFactory(ContractFactory)
    client = factory.SelfAttribute("contract.client")
    queue_tier = QueueTier.CONTRACT
    response_due_at = factory.LazyAttribute(lambda o: o.opened_at + dt.timedelta(hours=4))
    resolution_due_at = factory.LazyAttribute(lambda o: o.opened_at + dt.timedelta(hours=24))
    response_risk_at = factory.LazyAttribute(lambda o: o.opened_at + dt.timedelta(hours=3))
    resolution_risk_at = factory.LazyAttribute(lambda o: o.opened_at + dt.timedelta(hours=18))
    queue_due_at = factory.LazyAttribute(lambda o: o.response_due_at)


class PaidPriorityTicketFactory(TicketFactory):
    """A transactional ticket whose client paid the priority surcharge."""

    paid_priority = True
    queue_tier = QueueTier.PAID_PRIORITY
    priority_charge = factory.SubFactory(
        ChargeFactory,
        client=factory.SelfAttribute("..client"),
        kind=ChargeKind.PAID_PRIORITY,
        amount=Decimal("75.00"),
        description="Paid priority",
    )


# --- Conversion offers -------------------------------------------------------------------------


def campaign_rules(**rules: object) -> CampaignSettings:
    """Set some campaign rules on the single settings row; the others keep what they were."""
    row = CampaignSettings.load()
    for name, value in rules.items():
        setattr(row, name, value)
    row.save()
    return row


class OfferableClientFactory(ClientFactory):
    """A client an offer can reach: active, no contract, a primary contact."""

    class Meta:
        skip_postgeneration_save = True

    primary_contact = factory.RelatedFactory(ContactFactory, factory_related_name="client")


def _primary_contact(offer: object) -> Contact:
    client = offer.client  # type: ignore[attr-defined]
    return client.contacts.filter(is_primary=True).first() or ContactFactory(client=client)


class CampaignRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignRun

    started_at = factory.LazyFunction(timezone.now)
    trigger = CampaignTrigger.SCHEDULE


class OfferFactory(factory.django.DjangoModelFactory):
    """A sent offer: the $290.00 plan at 11% off ($258.10 a month), open for 21 days from now.

    The figures are the savings statement of a client who paid $2,400.00 for 19.2 hours of
    labour and $150.00 for two priority surcharges: $2,550.00, against $3,097.20 on contract.
    """

    class Meta:
        model = ConversionOffer

    client = factory.SubFactory(ClientFactory)
    contact = factory.LazyAttribute(_primary_contact)
    email = factory.LazyAttribute(lambda o: o.contact.email)
    plan = factory.SubFactory(
        PlanFactory, monthly_price=Decimal("290.00"), included_hours=Decimal("5.00")
    )
    status = OfferStatus.SENT
    # The version of the plan's terms the offer is made with (PlanFactory makes version 1).
    terms = factory.LazyAttribute(lambda o: o.plan.current_terms())
    list_price = factory.LazyAttribute(lambda o: o.plan.monthly_price)
    discount_percent = Decimal("11.00")
    monthly_price = factory.LazyAttribute(lambda o: discounted(o.list_price, o.discount_percent))
    trailing_labour = Decimal("2400.00")
    trailing_priority = Decimal("150.00")
    trailing_spend = factory.LazyAttribute(lambda o: o.trailing_labour + o.trailing_priority)
    trailing_hours = Decimal("19.20")
    trailing_tickets = 7
    priority_purchases = 2
    contract_cost = factory.LazyAttribute(lambda o: o.monthly_price * 12)
    nonce = factory.LazyFunction(lambda: secrets.token_urlsafe(16))
    created_at = factory.LazyFunction(timezone.now)
    sent_at = factory.LazyAttribute(lambda o: o.created_at)
    expires_at = factory.LazyAttribute(lambda o: o.created_at + dt.timedelta(days=21))


class PendingOfferFactory(OfferFactory):
    """An offer made but not sent yet: what a campaign run leaves for the send tasks."""

    status = OfferStatus.PENDING
    sent_at = None
