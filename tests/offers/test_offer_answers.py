"""The client's answer to an offer: accepting, declining and unsubscribing, and what closes one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from clients.models import Client, ClientStatus
from contracts.models import ContractStatus, ContractTerms, ServiceContract
from contracts.services import client_drop_unless_contracted, contract_start, plan_terms_set
from offers.models import OfferStatus
from offers.services import (
    OfferClosed,
    OfferError,
    campaign_run,
    offer_accept,
    offer_decline,
    offer_send_now,
    offer_unsubscribe,
)
from tests.conftest import DAY, NOW, SIGNER, TODAY
from tests.factories import (
    ClientFactory,
    ContractFactory,
    OfferableClientFactory,
    OfferFactory,
    PlanFactory,
    TicketFactory,
)
from tests.offers.campaign_helpers import spender
from tickets.models import QueueTier, TicketStatus

pytestmark = pytest.mark.django_db


# --- offer_accept ---------------------------------------------------------------------------------
def test_accepting_starts_the_contract_at_the_offered_price_and_records_who_accepted(now):
    offer = OfferFactory()
    # The plan's price went up after the offer was made: the offer's terms stand.
    offer.plan.monthly_price = Decimal("350.00")
    offer.plan.save()

    contract = offer_accept(
        offer=offer, **SIGNER, ip="203.0.113.7", user_agent="Mail/1.0 " + "x" * 600
    )

    contract.refresh_from_db()
    assert contract.client == offer.client
    assert contract.plan == offer.plan
    assert contract.status == ContractStatus.ACTIVE
    assert contract.monthly_price == Decimal("258.10")
    assert contract.discount_percent == Decimal("11.00")
    assert contract.offer == offer
    assert contract.starts_on == TODAY
    assert contract.ends_on == dt.date(2026, 3, 9)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert offer.responded_at == NOW
    assert offer.accepted_ip == "203.0.113.7"
    assert offer.accepted_user_agent == ("Mail/1.0 " + "x" * 600)[:500]


def test_accepting_records_the_signer_and_keeps_the_terms_the_offer_was_made_with(now):
    offer = OfferFactory()
    assert offer.terms.version == 1
    # The plan's terms changed after the offer was made: the client accepts the ones it read.
    plan_terms_set(plan=offer.plan, summary="Stricter.", text="Stricter terms.")

    offer_accept(
        offer=offer,
        signer_name="  Dana \n Whitfield ",
        signer_role="Office\tmanager",
        ip="203.0.113.7",
        user_agent="Mail/1.0",
    )

    offer.refresh_from_db()
    assert (offer.signer_name, offer.signer_role) == ("Dana Whitfield", "Office manager")
    assert offer.terms.version == 1
    assert offer.terms.summary != "Stricter."


def test_an_offer_made_before_terms_were_versioned_records_the_plans_current_terms(now):
    offer = OfferFactory(terms=None)
    current = plan_terms_set(plan=offer.plan, summary="Version two.", text="Terms, v2.")

    offer_accept(offer=offer, **SIGNER, ip=None, user_agent="")

    offer.refresh_from_db()
    assert offer.terms == current
    assert offer.terms.version == 2


def test_accepting_an_offer_of_a_plan_that_never_had_terms_saves_its_standard_terms(now):
    offer = OfferFactory(terms=None)
    ContractTerms.objects.filter(plan=offer.plan).delete()
    shown = offer.terms_shown()  # what the offer's pages showed the client

    offer_accept(offer=offer, **SIGNER, ip=None, user_agent="")

    offer.refresh_from_db()
    assert offer.terms is not None
    assert (offer.terms.plan, offer.terms.version) == (offer.plan, 1)
    assert (offer.terms.summary, offer.terms.text) == (shown.summary, shown.text)


@pytest.mark.parametrize("first_term_only", [True, False])
def test_the_contract_keeps_the_discount_for_the_term_the_offer_said(now, first_term_only):
    offer = OfferFactory(discount_first_term_only=first_term_only)

    contract = offer_accept(offer=offer, **SIGNER, ip=None, user_agent="")

    contract.refresh_from_db()
    assert contract.discount_first_term_only is first_term_only
    assert contract.renewal_price == (Decimal("290.00") if first_term_only else Decimal("258.10"))


@pytest.mark.parametrize(
    "signer",
    [
        {"signer_name": "", "signer_role": "Owner"},
        {"signer_name": " \n\t ", "signer_role": "Owner"},
        {"signer_name": "Dana Whitfield", "signer_role": "  "},
        {"signer_name": "D" * 201, "signer_role": "Owner"},
        {"signer_name": "Dana Whitfield", "signer_role": "O" * 201},
    ],
    ids=["no-name", "blank-name", "blank-role", "long-name", "long-role"],
)
def test_an_acceptance_without_a_proper_signer_is_refused_and_changes_nothing(now, signer):
    offer = OfferFactory()

    with pytest.raises(OfferError):
        offer_accept(offer=offer, **signer, ip=None, user_agent="")

    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT
    assert (offer.signer_name, offer.signer_role) == ("", "")
    assert not ServiceContract.objects.exists()


def test_accepting_turns_the_clients_open_tickets_into_contract_tickets(now):
    offer = OfferFactory()
    waiting = TicketFactory(client=offer.client, opened_at=NOW - 2 * DAY)
    working = TicketFactory(client=offer.client, status=TicketStatus.IN_PROGRESS)
    closed = TicketFactory(client=offer.client, status=TicketStatus.CLOSED, closed_at=NOW)

    contract = offer_accept(offer=offer, **SIGNER, ip=None, user_agent="")

    for ticket in (waiting, working):
        ticket.refresh_from_db()
        assert ticket.queue_tier == QueueTier.CONTRACT
        assert ticket.contract == contract
        assert ticket.response_due_at is not None
    closed.refresh_from_db()
    assert closed.queue_tier == QueueTier.STANDARD
    assert closed.contract is None


def test_after_commit_the_client_gets_a_confirmation_and_the_managers_a_notice(
    now, manager: User, consultant: User, mailoutbox, django_capture_on_commit_callbacks
):
    offer = OfferFactory(client=ClientFactory(name="Acme Dental"))
    User.objects.create_user("eve", email="", is_staff=True).groups.add(
        *manager.groups.all()
    )  # a manager with no address is skipped

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        offer_accept(offer=offer, **SIGNER, ip="203.0.113.7", user_agent="Mail/1.0")
    assert mailoutbox == []
    for callback in callbacks:
        callback()

    to_client, to_managers = mailoutbox
    assert to_client.to == [f"{offer.contact.name} <{offer.email}>"]
    assert to_client.subject == f"Welcome to your {offer.plan.name} service contract"
    assert "$258.10 a month" in to_client.body
    assert to_client.body.startswith(f"Hello {offer.contact.name},")
    assert to_managers.to == [manager.email]  # not the consultant
    assert to_managers.subject == f"Acme Dental accepted the {offer.plan.name} contract offer"
    assert "203.0.113.7" in to_managers.body


def test_an_offer_is_accepted_only_once(now, mailoutbox, django_capture_on_commit_callbacks):
    offer = OfferFactory()
    with django_capture_on_commit_callbacks(execute=True):
        offer_accept(offer=offer, **SIGNER, ip="203.0.113.7", user_agent="first")

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(OfferClosed) as closed,
    ):
        offer_accept(offer=offer, **SIGNER, ip="198.51.100.9", user_agent="second")

    assert closed.value.reason == "accepted"
    assert ServiceContract.objects.count() == 1
    offer.refresh_from_db()
    assert offer.accepted_user_agent == "first"
    assert len(mailoutbox) == 1  # the client's confirmation, from the first accept only


def test_starting_a_contract_by_hand_withdraws_the_clients_open_offer(now):
    offer = OfferFactory()

    contract_start(client=offer.client, plan=PlanFactory())

    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    assert offer.responded_at == NOW
    with pytest.raises(OfferClosed) as closed:
        offer_accept(offer=offer, **SIGNER, ip=None, user_agent="")
    assert closed.value.reason == "withdrawn"
    assert ServiceContract.objects.count() == 1


def test_dropping_a_client_withdraws_its_open_offer(now):
    offer = OfferFactory()

    client_drop_unless_contracted(client=offer.client, reason="Never converted")

    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    with pytest.raises(OfferClosed) as closed:
        offer_accept(offer=offer, **SIGNER, ip=None, user_agent="")
    assert closed.value.reason == "withdrawn"
    assert not ServiceContract.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"status": ClientStatus.DROPPED, "dropped_at": NOW}, id="dropped"),
        pytest.param({"offers_opt_out": True}, id="opted-out"),
    ],
)
def test_an_open_offer_of_a_client_dropped_or_opted_out_by_other_means_cannot_be_accepted(
    now, change
):
    offer = OfferFactory()
    Client.objects.filter(pk=offer.client_id).update(**change)

    with pytest.raises(OfferClosed) as closed:
        offer_accept(offer=offer, **SIGNER, ip=None, user_agent="")

    assert closed.value.reason == "withdrawn"
    assert not ServiceContract.objects.exists()


def test_when_the_contract_cannot_start_the_client_gets_a_plain_answer_and_the_offer_stays(now):
    offer = OfferFactory()
    offer.plan.service_levels.all().delete()  # a plan left without response targets

    with pytest.raises(OfferClosed) as closed:
        offer_accept(offer=offer, **SIGNER, ip=None, user_agent="")

    assert closed.value.reason == "withdrawn"
    assert str(closed.value) == (
        "We could not start the contract online; we will call you to set it up."
    )
    assert not ServiceContract.objects.exists()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT


def test_a_client_who_meanwhile_got_a_contract_cannot_accept(now):
    offer = OfferFactory()
    existing = ContractFactory(client=offer.client)

    with pytest.raises(OfferClosed) as closed:
        offer_accept(offer=offer, **SIGNER, ip=None, user_agent="")

    assert closed.value.reason == "has_contract"
    assert list(ServiceContract.objects.all()) == [existing]
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT
    assert offer.responded_at is None


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (OfferStatus.DECLINED, "declined"),
        (OfferStatus.EXPIRED, "expired"),
        (OfferStatus.WITHDRAWN, "withdrawn"),
        (OfferStatus.UNDELIVERABLE, "withdrawn"),
    ],
)
def test_a_closed_offer_cannot_be_accepted(now, status, reason):
    offer = OfferFactory(status=status)

    with pytest.raises(OfferClosed) as closed:
        offer_accept(offer=offer, **SIGNER, ip=None, user_agent="")

    assert closed.value.reason == reason
    assert not ServiceContract.objects.exists()


def test_an_open_offer_past_its_expiry_cannot_be_accepted(now):
    offer = OfferFactory(created_at=NOW - 22 * DAY)  # expired a day ago, not swept yet

    with pytest.raises(OfferClosed) as closed:
        offer_accept(offer=offer, **SIGNER, ip=None, user_agent="")

    assert closed.value.reason == "expired"
    assert not ServiceContract.objects.exists()


# --- offer_decline, offer_unsubscribe -------------------------------------------------------------
def test_declining_records_the_answer_and_closes_the_offer(now):
    offer = OfferFactory()

    offer_decline(offer=offer)

    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED
    assert offer.responded_at == NOW
    with pytest.raises(OfferClosed) as closed:
        offer_accept(offer=offer, **SIGNER, ip=None, user_agent="")
    assert closed.value.reason == "declined"


def test_unsubscribing_opts_the_client_out_and_withdraws_its_open_offer(now):
    client = OfferableClientFactory()
    declined = OfferFactory(client=client, status=OfferStatus.DECLINED, created_at=NOW - 200 * DAY)
    open_offer = OfferFactory(client=client)
    someone_else = OfferFactory()

    offer_unsubscribe(offer=declined)  # any of the client's links will do

    client.refresh_from_db()
    assert client.offers_opt_out
    open_offer.refresh_from_db()
    assert open_offer.status == OfferStatus.WITHDRAWN
    assert open_offer.responded_at == NOW
    declined.refresh_from_db()
    assert declined.status == OfferStatus.DECLINED
    someone_else.refresh_from_db()
    assert someone_else.status == OfferStatus.SENT


def test_an_opted_out_client_is_not_offered_again(
    now, rules, basic, django_capture_on_commit_callbacks
):
    client = spender()
    offer_unsubscribe(offer=OfferFactory(client=client, created_at=NOW - 200 * DAY))

    with django_capture_on_commit_callbacks(execute=True):
        run = campaign_run(now=NOW)
    with pytest.raises(OfferError):
        offer_send_now(client=client, now=NOW)

    assert run.offers_created == 0
