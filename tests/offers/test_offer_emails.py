"""The offer emails themselves (offers.emails): per-offer values and links, the terms, the
variants rendered once per batch, escaping, unsubscribe headers, no header injection."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from decimal import Decimal
from email.utils import parseaddr
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from clients import mail as mail_module
from offers.delivery import offers_send_batch
from offers.emails import OfferMail, acceptance_messages
from offers.services import offer_accept
from offers.tokens import offer_token
from tests.conftest import SIGNER
from tests.factories import (
    ClientFactory,
    ContactFactory,
    OfferFactory,
    PendingOfferFactory,
    PlanFactory,
)
from tests.offers.mail_backends import pending, recipient

pytestmark = pytest.mark.django_db

SECOND = dt.timedelta(seconds=1)


# --- The messages -----------------------------------------------------------------------------
def test_an_offer_email_carries_the_offers_own_figures_and_links(now, backend, mailoutbox):
    client = ClientFactory(name="Acme Dental")
    ContactFactory(client=client, name="Dana Whitfield")
    offer = PendingOfferFactory(
        client=client, plan=PlanFactory(name="Essentials", monthly_price=Decimal("290.00"))
    )

    offers_send_batch([offer.pk])

    (message,) = mailoutbox
    html = message.alternatives[0][0]
    token = offer_token(offer)
    offer_url = settings.SITE_URL + reverse("offers:offer", args=[token])
    unsubscribe_url = settings.SITE_URL + reverse(
        "offers:unsubscribe", args=[offer_token(offer, "unsubscribe")]
    )
    assert message.to == [f"Dana Whitfield <{offer.email}>"]
    assert message.subject == "Acme Dental: guaranteed response times, 11% off for loyal clients"
    for part in (message.body, html):
        assert "Hello Dana Whitfield," in part
        assert "Essentials" in part
        assert "$258.10" in part
        assert "$290.00" in part
        assert "$2,550.00" in part
        assert "$3,097.20" in part
        assert "$547.20" in part  # the difference, to the cent
        assert "19.2 hours, 7 tickets" in part
        assert offer_url in part
        assert unsubscribe_url in part
        assert "[[offer:" not in part
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe_url}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["Message-ID"] == (
        f"<offer-{offer.pk}-offer@{settings.EMAIL_MESSAGE_DOMAIN}>"
    )


def test_an_offer_email_states_the_terms_the_client_would_sign_up_to(now, backend, mailoutbox):
    offer = PendingOfferFactory(
        plan=PlanFactory(
            name="Essentials",
            included_hours=Decimal("5.00"),
            overage_hourly_rate=Decimal("110.00"),
            term_months=12,
        )
    )

    offers_send_batch([offer.pk])

    (message,) = mailoutbox
    for part in (message.body, message.alternatives[0][0]):
        assert "5 hours of work a month included; beyond that, $110.00 an hour." in part
        assert "in business hours: Monday to Friday, 08:00 to 18:00 (New York time)" in part
        assert "12 months from the day you accept, renewed for another 12" in part
        assert "first response within 1 business hour, resolved within 4 business hours" in part


def test_an_offer_to_a_client_with_no_year_behind_it_thanks_nobody_for_loyalty(
    now, backend, mailoutbox
):
    # A manager offered a contract by hand before any work was done.
    offer = PendingOfferFactory(
        trailing_labour=Decimal("0.00"),
        trailing_priority=Decimal("0.00"),
        trailing_hours=Decimal("0.00"),
        trailing_tickets=0,
        priority_purchases=0,
    )

    offers_send_batch([offer.pk])

    (message,) = mailoutbox
    assert message.subject == f"{offer.client.name}: guaranteed response times, 11% off"
    reminder = OfferMail().build(offer, reminder=True)
    assert "loyalty" not in reminder.subject
    assert reminder.subject.startswith("Reminder: your 11% offer ends ")
    for part in (message.body, message.alternatives[0][0]):
        assert "job by job" not in part
        assert "last twelve months" not in part.lower()
        assert "$0.00" not in part
        assert "As one of our clients" in part
        assert "$258.10" in part


def test_each_template_variant_is_rendered_once_per_batch(now, backend, mailoutbox, monkeypatch):
    rendered: list[str] = []
    real_render = mail_module.render_to_string

    def counting_render(template: str, context: Any = None, **kwargs: Any) -> str:
        rendered.append(template)
        return real_render(template, context, **kwargs)

    monkeypatch.setattr(mail_module, "render_to_string", counting_render)
    essentials, premium = PlanFactory(), PlanFactory()
    offers = pending(4, plan=essentials) + pending(2, plan=premium)

    offers_send_batch([o.pk for o in offers])

    # Two variants (one per plan), each a subject, a text and an HTML template.
    assert sorted(rendered) == (
        ["emails/offer.html"] * 2 + ["emails/offer.txt"] * 2 + ["emails/offer_subject.txt"] * 2
    )
    # Rendered once, yet every message is its own: its own greeting and its own link.
    for offer, message in zip(offers, mailoutbox, strict=True):
        assert f"Hello {offer.contact.name}," in message.body
        assert reverse("offers:offer", args=[offer_token(offer)]) in message.body
        assert recipient(message) == offer.email


def test_names_are_escaped_in_the_html_part_and_plain_in_the_text(now, backend, mailoutbox):
    offer = PendingOfferFactory(client=ClientFactory(name='Smith & Sons <"IT">'))

    offers_send_batch([offer.pk])

    (message,) = mailoutbox
    html = message.alternatives[0][0]
    assert "Smith &amp; Sons &lt;&quot;IT&quot;&gt;" in html
    assert '<"IT">' not in html
    assert 'offer Smith & Sons <"IT"> our' in message.body


EVIL = "Evil\r\nBcc: victim@x.example"


def _header_problems(message: Any) -> list[str]:
    """What is wrong with a message's headers: an injected Bcc, a multi-line Subject or To."""
    raw = message.message().as_string()
    parsed = email.message_from_string(raw, policy=email.policy.default)
    head = raw.split("\n\n", 1)[0]
    problems = []
    if parsed.get_all("Bcc") or any(line.lower().startswith("bcc:") for line in head.split("\n")):
        problems.append("a Bcc header")
    if "victim@x.example" in [parseaddr(r)[1] for r in message.recipients()]:
        problems.append("the victim among the recipients")
    for name in ("Subject", "To"):
        values = parsed.get_all(name) or []
        if len(values) != 1 or "\n" in str(values[0]) or "\r" in str(values[0]):
            problems.append(f"{name} is {values!r}")
    return problems


def test_a_line_break_in_a_client_or_contact_name_cannot_add_a_mail_header(
    now, backend, mailoutbox
):
    client = ClientFactory(name=EVIL)
    offer = PendingOfferFactory(client=client, contact=ContactFactory(client=client, name=EVIL))

    assert offers_send_batch([offer.pk]) == 1

    (message,) = mailoutbox
    assert _header_problems(message) == []
    assert [parseaddr(r)[1] for r in message.recipients()] == [offer.email]
    assert message.subject.startswith("Evil Bcc: victim@x.example: guaranteed")
    assert message.to == [f'"Evil Bcc: victim@x.example" <{offer.email}>']


def test_a_line_break_in_a_name_cannot_add_a_header_to_a_reminder(now, backend):
    client = ClientFactory(name=EVIL)
    offer = OfferFactory(client=client, contact=ContactFactory(client=client, name=EVIL))

    message = OfferMail().build(offer, reminder=True)

    assert _header_problems(message) == []


def test_a_line_break_in_a_name_cannot_add_a_header_to_the_acceptance_emails(now, manager):
    client = ClientFactory(name=EVIL)
    offer = OfferFactory(client=client, contact=ContactFactory(client=client, name=EVIL))
    offer_accept(offer=offer, **SIGNER, ip=None, user_agent="")
    offer.refresh_from_db()

    messages = acceptance_messages(offer)

    assert len(messages) == 2
    for message in messages:
        assert _header_problems(message) == []
        assert "victim@x.example" not in [parseaddr(r)[1] for r in message.recipients()]
