"""The emails an acceptance sends (offers.emails.acceptance_messages): the client's confirmation
repeats what was agreed (signer, terms version and summary, price, when a first-term discount
ends, a link to the terms in full); the managers' notice names the signer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse

from clients.models import EmailKind, EmailStatus, OutboundEmail
from clients.outbox import outbox_deliver
from contracts.services import plan_terms_set
from offers.emails import acceptance_messages
from offers.models import ConversionOffer
from offers.services import offer_accept
from offers.tokens import offer_token
from tests.factories import ClientFactory, ContactFactory, OfferFactory, PlanFactory

pytestmark = pytest.mark.django_db


def _accepted(signer_name: str = "Dana Whitfield", **offer: Any) -> ConversionOffer:
    """An offer of Essentials ($290.00, 11% off: $258.10), made with version 2 of its terms and
    accepted on 10 March 2025 (the term runs to 9 March 2026)."""
    plan = PlanFactory(name="Essentials", monthly_price=290, included_hours=5)
    terms = plan_terms_set(
        plan=plan,
        summary="Twelve months, five hours a month.\nFurther hours at $110.00.",
        text="1. Service.",
    )
    client = ClientFactory(name="Acme Dental")
    contact = ContactFactory(client=client, name="Dana Whitfield", email="dana@acme.example")
    made = OfferFactory(client=client, contact=contact, plan=plan, terms=terms, **offer)
    offer_accept(
        offer=made,
        signer_name=signer_name,
        signer_role="Office manager",
        ip="203.0.113.7",
        user_agent="Mail/1.0",
    )
    return ConversionOffer.objects.select_related("contract__plan", "terms").get(pk=made.pk)


def _terms_url(offer: ConversionOffer) -> str:
    return settings.SITE_URL + reverse("offers:offer_terms", args=[offer_token(offer)])


def test_the_confirmation_repeats_who_accepted_which_terms_at_what_price(now, manager):
    offer = _accepted()

    confirmation, _ = acceptance_messages(offer)

    text = confirmation.body
    assert (
        "Thank you: Acme Dental is now on our Essentials service contract, accepted by "
        "Dana Whitfield (Office manager) on 10 March 2025." in text
    )
    assert "Price:   $258.10 a month (11% loyalty discount)" in text
    assert "The terms you agreed to (version 2), in short:" in text
    assert "Twelve months, five hours a month.\nFurther hours at $110.00." in text
    assert f"The terms in full: {_terms_url(offer)}" in text
    assert "the discount is for the first term" not in text  # it is for every term
    html, _ = confirmation.alternatives[0]
    assert "accepted by Dana Whitfield (Office manager) on 10 March 2025" in html
    assert "The terms you agreed to (version 2), in short:" in html
    assert "<p>Twelve months, five hours a month.<br>Further hours at $110.00.</p>" in html
    assert f'<a href="{_terms_url(offer)}">Read the terms in full</a>' in html


def test_a_first_term_discount_says_the_price_after_the_first_term_and_from_when(now, manager):
    offer = _accepted(discount_first_term_only=True)

    confirmation, _ = acceptance_messages(offer)

    # The term ends on 9 March 2026; the next day is at the plan's price.
    assert offer.contract.ends_on.isoformat() == "2026-03-09"
    line = (
        "From 10 March 2026: $290.00 a month, the plan's price (the discount is for the first term)"
    )
    assert line in confirmation.body
    html, _ = confirmation.alternatives[0]
    assert line in html


def test_the_managers_notice_names_the_signer_and_the_terms_version(now, manager: User):
    offer = _accepted()

    _, notice = acceptance_messages(offer)

    assert notice.to == [manager.email]
    assert "by Dana Whitfield (Office manager) from 203.0.113.7, on terms version 2" in notice.body
    html, _ = notice.alternatives[0]
    assert "by Dana Whitfield (Office manager) from 203.0.113.7, on terms version 2" in html


def test_the_signer_is_escaped_in_the_html_parts_and_plain_in_the_text(now, manager):
    offer = _accepted(signer_name="Dana <b>Whitfield</b> & Co")

    for message in acceptance_messages(offer):
        html, _ = message.alternatives[0]
        assert "Dana &lt;b&gt;Whitfield&lt;/b&gt; &amp; Co (Office manager)" in html
        assert "<b>Whitfield</b>" not in html
        assert "Dana <b>Whitfield</b> & Co (Office manager)" in message.body


def test_a_confirmation_of_an_offer_accepted_before_signers_were_asked_still_reads(now, manager):
    # Accepted by an earlier release: no signer and no terms on the row.
    offer = _accepted()
    ConversionOffer.objects.filter(pk=offer.pk).update(signer_name="", signer_role="", terms=None)
    offer = ConversionOffer.objects.select_related("contract__plan", "terms").get(pk=offer.pk)

    confirmation, notice = acceptance_messages(offer)

    assert "is now on our Essentials service contract." in confirmation.body
    assert "The terms you agreed to" not in confirmation.body
    assert "from 203.0.113.7\n" in notice.body


def test_the_acceptance_writes_a_row_per_recipient_in_its_transaction(now, manager, password):
    other = User.objects.create_user("erin", "erin@practice.example", password)
    other.groups.add(*manager.groups.all())

    offer = _accepted()

    rows = OutboundEmail.objects.order_by("pk")
    assert [(r.kind, r.key, r.to) for r in rows] == [
        (
            EmailKind.OFFER_ACCEPTED,
            f"offer-accepted:{offer.pk}:dana@acme.example",
            "Dana Whitfield <dana@acme.example>",
        ),
        (
            EmailKind.OFFER_ACCEPTED_MANAGER,
            f"offer-accepted-manager:{offer.pk}:alice@practice.example",
            "alice@practice.example",
        ),
        (
            EmailKind.OFFER_ACCEPTED_MANAGER,
            f"offer-accepted-manager:{offer.pk}:erin@practice.example",
            "erin@practice.example",
        ),
    ]
    assert {r.client_id for r in rows} == {offer.client_id}


def test_a_managers_notice_that_fails_never_sends_the_clients_confirmation_again(
    now, manager, inbox, settings, time_machine
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", inbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    inbox.refuse_rcpt[manager.email] = "451 4.3.0 Try again later"
    offer = _accepted()
    ids = list(OutboundEmail.objects.order_by("pk").values_list("pk", flat=True))

    outbox_deliver(ids)
    del inbox.refuse_rcpt[manager.email]
    time_machine.move_to(now + dt.timedelta(minutes=1), tick=False)
    outbox_deliver(ids)

    assert [d.recipients for d in inbox.deliveries] == [("dana@acme.example",), (manager.email,)]
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
    assert offer.status == "accepted"
