"""Offer emails: the offer, its reminder, and the acceptance notes.

Offers go out by the thousand, so the templates are rendered once per variant (plan, reminder,
whether the contract would have saved money, whether priority was bought, whether there is a
year to show) with markers where the
client's own figures go; each message then only substitutes its values, escaped for the HTML part.
"""

from __future__ import annotations

import html
import re
from email.utils import formataddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from contracts.history import percent_text
from contracts.models import ConversionOffer, ServiceContract
from contracts.tokens import offer_token

MANAGER_PERMISSION = "contracts.change_servicecontract"


def manager_emails() -> list[str]:
    """Everyone who manages contracts (the Managers group, superusers), by email."""
    users = get_user_model().objects.with_perm(MANAGER_PERMISSION, include_superusers=True)
    return sorted({u.email for u in users.filter(is_active=True) if u.email})


# Per-offer values the templates show; each becomes a marker in the rendered variant.
FIELDS = (
    "contact_name", "client_name", "list_price", "discount", "monthly_price",
    "labour", "priority", "spend", "contract_cost", "difference", "hours", "tickets",
    "purchases", "expires", "offer_url", "unsubscribe_url",
)  # fmt: skip


def one_line(value: str) -> str:
    """Collapse all whitespace: a name with a line break must never start a new mail header."""
    return " ".join(value.split())


def money(amount: object) -> str:
    return f"${amount:,.2f}"


def _marker(name: str) -> str:
    return f"[[offer:{name}]]"


MARKER = re.compile(r"\[\[offer:(\w+)\]\]")


def offer_values(offer: ConversionOffer) -> dict[str, str]:
    token = offer_token(offer)
    contact_name = one_line(offer.contact.name) if offer.contact else ""
    return {
        "contact_name": contact_name or "there",
        "client_name": one_line(offer.client.name),
        "list_price": money(offer.list_price),
        "discount": percent_text(offer.discount_percent),
        "monthly_price": money(offer.monthly_price),
        "labour": money(offer.trailing_labour),
        "priority": money(offer.trailing_priority),
        "spend": money(offer.trailing_spend),
        "contract_cost": money(offer.contract_cost),
        "difference": money(abs(offer.savings)),
        "hours": f"{offer.trailing_hours:.1f}",
        "tickets": str(offer.trailing_tickets),
        "purchases": str(offer.priority_purchases),
        "expires": f"{timezone.localtime(offer.expires_at):%A %-d %B %Y}",
        "offer_url": settings.SITE_URL + reverse("contracts:offer", args=[token]),
        "unsubscribe_url": settings.SITE_URL
        + reverse("contracts:unsubscribe", args=[offer_token(offer, "unsubscribe")]),
    }


class OfferMail:
    """Builds offer emails, rendering each template variant once per instance (per batch)."""

    def __init__(self) -> None:
        self._variants: dict[tuple[int, bool, bool, bool, bool], tuple[str, str]] = {}

    def _variant(self, offer: ConversionOffer, *, reminder: bool) -> tuple[str, str]:
        key = (
            offer.plan_id,
            reminder,
            offer.savings >= 0,
            offer.priority_purchases > 0,
            offer.has_history,
        )
        if key not in self._variants:
            context = {
                "plan": offer.plan,
                "levels": list(offer.plan.service_levels.order_by("response_minutes")),
                "reminder": reminder,
                "saves_money": key[2],
                "bought_priority": key[3],
                # A client offered a contract by hand before any work is not thanked for its
                # loyalty nor shown a year of zeros.
                "has_history": key[4],
                "practice_name": settings.PRACTICE_NAME,
                **{name: _marker(name) for name in FIELDS},
            }
            self._variants[key] = (
                render_to_string("emails/offer.txt", context),
                render_to_string("emails/offer.html", context),
            )
        return self._variants[key]

    def build(self, offer: ConversionOffer, *, reminder: bool = False) -> EmailMultiAlternatives:
        text, markup = self._variant(offer, reminder=reminder)
        values = offer_values(offer)
        # One pass each: a value that happens to contain a marker is never expanded again.
        text = MARKER.sub(lambda m: values[m.group(1)], text)
        escaped = {name: html.escape(value) for name, value in values.items()}
        markup = MARKER.sub(lambda m: escaped[m.group(1)], markup)
        discount = percent_text(offer.discount_percent)
        # A client with no year behind it is not thanked for its loyalty (the body says so too).
        loyal = offer.has_history
        subject = (
            f"Reminder: your {discount} {'loyalty ' if loyal else ''}offer ends {values['expires']}"
            if reminder
            else f"{values['client_name']}: guaranteed response times, {discount} off"
            + (" for loyal clients" if loyal else "")
        )
        message = EmailMultiAlternatives(
            subject=one_line(subject),
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[formataddr((values["contact_name"] if offer.contact else "", offer.email))],
            headers={
                # RFC 8058 one-click unsubscribe: mail clients POST to the URL, no cookies.
                "List-Unsubscribe": f"<{values['unsubscribe_url']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Message-ID": f"<offer-{offer.pk}-{'reminder' if reminder else 'offer'}@{settings.EMAIL_MESSAGE_DOMAIN}>",
            },
        )
        message.attach_alternative(markup, "text/html")
        return message


def _note(
    subject: str, template: str, context: dict[str, object], to: list[str]
) -> EmailMultiAlternatives:
    context = {**context, "practice_name": settings.PRACTICE_NAME, "site_url": settings.SITE_URL}
    message = EmailMultiAlternatives(
        subject=one_line(subject),
        body=render_to_string(f"emails/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    return message


def acceptance_messages(
    offer: ConversionOffer, contract: ServiceContract
) -> list[EmailMultiAlternatives]:
    """The client's confirmation and the managers' notice."""
    messages = [
        _note(
            f"Welcome to your {contract.plan} service contract",
            "offer_accepted",
            {"offer": offer, "contract": contract, "client_name": one_line(offer.client.name)},
            [formataddr((one_line(offer.contact.name) if offer.contact else "", offer.email))],
        )
    ]
    managers = manager_emails()
    if managers:
        messages.append(
            _note(
                f"{one_line(offer.client.name)} accepted the {contract.plan} contract offer",
                "offer_accepted_manager",
                {
                    "offer": offer,
                    "contract": contract,
                    "client_name": one_line(offer.client.name),
                    "admin_url": settings.SITE_URL
                    + reverse("admin:contracts_servicecontract_change", args=[contract.pk]),
                },
                managers,
            )
        )
    return messages
