"""Offer emails: the offer, its reminder, and the acceptance notes.

Offers go out by the thousand, so the templates are rendered once per variant (plan, reminder,
whether the contract would have saved money, whether priority was bought, whether there is a
year to show) with markers where the client's own figures go; each message then only
substitutes its values, escaped for the HTML part.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone

from clients.mail import Rendered, message, one_line, render, render_email
from clients.money import money, percent
from contracts.staff import manager_emails
from offers.models import ConversionOffer, OfferKind
from offers.tokens import Purpose, offer_token

# Per-offer values the templates show; each becomes a marker in the rendered variant.
FIELDS = (
    "contact_name", "client_name", "list_price", "discount", "monthly_price",
    "labour", "priority", "spend", "contract_cost", "difference", "hours", "tickets",
    "purchases", "expires", "offer_url", "unsubscribe_url", "monthly_premium", "price_after",
    "need",
)  # fmt: skip


def _marker(name: str) -> str:
    return f"[[offer:{name}]]"


MARKER = re.compile(r"\[\[offer:(\w+)\]\]")


def offer_url(offer: ConversionOffer, purpose: Purpose = "offer") -> str:
    """The address of the offer's page, or of its unsubscribe page, as emails link to them."""
    name = "offers:unsubscribe" if purpose == "unsubscribe" else "offers:offer"
    return settings.SITE_URL + reverse(name, args=[offer_token(offer, purpose)])


def offer_values(offer: ConversionOffer) -> dict[str, str]:
    contact_name = one_line(offer.contact.name) if offer.contact else ""
    return {
        "contact_name": contact_name or "there",
        "client_name": one_line(offer.client.name),
        "list_price": money(offer.list_price),
        "discount": percent(offer.discount_percent),
        "monthly_price": money(offer.monthly_price),
        "labour": money(offer.trailing_labour),
        "priority": money(offer.trailing_priority),
        "spend": money(offer.trailing_spend),
        "contract_cost": money(offer.contract_cost),
        "difference": money(abs(offer.savings)),
        "hours": f"{offer.trailing_hours:.1f}",
        "tickets": str(offer.trailing_tickets),
        "purchases": str(offer.priority_purchases),
        "monthly_premium": money(offer.monthly_premium),
        "price_after": money(offer.price_after_discount),
        "need": one_line(offer.need) or "needed urgent help",
        "expires": f"{timezone.localtime(offer.expires_at):%A %-d %B %Y}",
        "offer_url": offer_url(offer),
        "unsubscribe_url": offer_url(offer, "unsubscribe"),
    }


def _substitute(template: str, values: dict[str, str]) -> str:
    # One pass: a value that happens to contain a marker is never expanded again.
    return MARKER.sub(lambda m: values[m.group(1)], template)


class OfferMail:
    """Builds offer emails, rendering each template variant once per instance (per batch)."""

    def __init__(self) -> None:
        self._variants: dict[tuple[int, bool, bool, bool, bool, str, bool], Rendered] = {}

    def _variant(self, offer: ConversionOffer, *, reminder: bool) -> Rendered:
        key = (
            offer.plan_id,
            reminder,
            offer.savings >= 0,
            offer.priority_purchases > 0,
            offer.has_history,
            offer.kind,
            offer.price_after_discount != offer.monthly_price,
        )
        if key not in self._variants:
            self._variants[key] = render(
                "offer",
                {
                    "plan": offer.plan,
                    "levels": list(offer.plan.service_levels.order_by("response_minutes")),
                    "reminder": reminder,
                    "saves_money": key[2],
                    "bought_priority": key[3],
                    # A client offered a contract by hand before any work is not thanked for
                    # its loyalty nor shown a year of zeros.
                    "has_history": key[4],
                    # A value offer states its premium and what it buys; it never claims a
                    # saving (a savings offer that costs a little more, within the campaign's
                    # allowance, says so too).
                    "value_offer": key[5] == OfferKind.VALUE,
                    "first_term_only": key[6],
                    **{name: _marker(name) for name in FIELDS},
                },
            )
        return self._variants[key]

    def build(self, offer: ConversionOffer, *, reminder: bool = False) -> EmailMultiAlternatives:
        variant = self._variant(offer, reminder=reminder)
        values = offer_values(offer)
        escaped = {name: html.escape(value) for name, value in values.items()}
        rendered = Rendered(
            subject=_substitute(variant.subject, values),
            text=_substitute(variant.text, values),
            html=_substitute(variant.html, escaped),
        )
        return message(
            rendered,
            to=[formataddr((values["contact_name"] if offer.contact else "", offer.email))],
            headers={
                # RFC 8058 one-click unsubscribe: mail clients POST to the URL, no cookies.
                "List-Unsubscribe": f"<{values['unsubscribe_url']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Message-ID": f"<offer-{offer.pk}-{'reminder' if reminder else 'offer'}@{settings.EMAIL_MESSAGE_DOMAIN}>",
            },
        )


def acceptance_messages(offer: ConversionOffer) -> list[EmailMultiAlternatives]:
    """The client's confirmation and the managers' notice of the contract the offer started.

    The confirmation repeats what was agreed: who signed, the terms version and its summary
    (with a link to the terms in full), the price, and when a first-term discount ends.
    """
    contract = offer.contract
    # The first day at the plan's price: the day after a first-term discount ends.
    full_price_from = None
    if contract is not None and contract.discount_ends_with_term:
        full_price_from = contract.ends_on + dt.timedelta(days=1)
    signer = f"{offer.signer_name} ({offer.signer_role})" if offer.signer_name else ""
    context = {
        "offer": offer,
        "contract": contract,
        "client_name": one_line(offer.client.name),
        "signer": one_line(signer),
        "terms": offer.terms,
        "terms_url": settings.SITE_URL + reverse("offers:offer_terms", args=[offer_token(offer)]),
        "full_price_from": full_price_from,
    }
    contact_name = one_line(offer.contact.name) if offer.contact else ""
    messages = [
        render_email("offer_accepted", context, to=[formataddr((contact_name, offer.email))])
    ]
    if (managers := manager_emails()) and contract is not None:
        admin_url = reverse("admin:contracts_servicecontract_change", args=[contract.pk])
        messages.append(
            render_email(
                "offer_accepted_manager",
                {**context, "admin_url": settings.SITE_URL + admin_url},
                to=managers,
            )
        )
    return messages
