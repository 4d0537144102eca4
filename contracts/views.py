"""The public offer pages: no login, a signed link in the path, every change a POST."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from contracts.models import ConversionOffer, OfferStatus
from contracts.offers import OfferClosed, offer_accept, offer_decline, offer_unsubscribe
from contracts.tokens import OfferLinkInvalid, offer_from_token

# How each closed offer is answered: status code and what the page says.
CLOSED_STATUS = {
    "accepted": 409,
    "declined": 409,
    "has_contract": 409,
    "expired": 410,
    "withdrawn": 410,
}


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "contracts/offer_invalid.html", status=404)


def _closed(request: HttpRequest, offer: ConversionOffer, exc: OfferClosed) -> HttpResponse:
    context = {"offer": offer, "reason": exc.reason, "message": str(exc)}
    return render(request, "contracts/offer_closed.html", context, status=CLOSED_STATUS[exc.reason])


def _client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR is the proxy in production; Django does not trust X-Forwarded-For by itself,
    # and neither do we: the proxy should set REMOTE_ADDR (e.g. gunicorn --forwarded-allow-ips).
    return request.META.get("REMOTE_ADDR") or None


@login_not_required
@never_cache
@require_http_methods(["GET"])
def offer_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        offer = offer_from_token(token)
    except OfferLinkInvalid:
        return _invalid(request)
    now = timezone.now()
    if offer.status == OfferStatus.ACCEPTED:
        return _closed(request, offer, OfferClosed("You accepted this offer.", reason="accepted"))
    if offer.status == OfferStatus.DECLINED:
        return _closed(request, offer, OfferClosed("You declined this offer.", reason="declined"))
    if offer.is_expired(now):
        return _closed(request, offer, OfferClosed("This offer has expired.", reason="expired"))
    if not offer.is_open:
        return _closed(request, offer, OfferClosed("This offer was withdrawn.", reason="withdrawn"))
    context = {
        "offer": offer,
        "token": token,
        "levels": offer.plan.service_levels.order_by("response_minutes"),
    }
    return render(request, "contracts/offer.html", context)


@login_not_required
@never_cache
@require_POST
def offer_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        offer = offer_from_token(token)
    except OfferLinkInvalid:
        return _invalid(request)
    try:
        contract = offer_accept(
            offer=offer, ip=_client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")
        )
    except OfferClosed as exc:
        return _closed(request, offer, exc)
    return render(request, "contracts/offer_accepted.html", {"offer": offer, "contract": contract})


@login_not_required
@never_cache
@require_POST
def offer_decline_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        offer = offer_from_token(token)
    except OfferLinkInvalid:
        return _invalid(request)
    try:
        offer_decline(offer=offer)
    except OfferClosed as exc:
        return _closed(request, offer, exc)
    return render(request, "contracts/offer_declined.html", {"offer": offer})


@login_not_required
@never_cache
@csrf_exempt  # RFC 8058: mail clients POST without cookies or a CSRF token
@require_http_methods(["GET", "POST"])
def offer_unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks a person to confirm; POST (a person or a mail client's one click) opts out."""
    try:
        offer = offer_from_token(token)
    except OfferLinkInvalid:
        return _invalid(request)
    if request.method == "POST":
        offer_unsubscribe(offer=offer)
        # 200 with a page, never a redirect: one-click senders do not follow redirects.
        return render(request, "contracts/unsubscribed.html", {"offer": offer})
    return render(request, "contracts/unsubscribe.html", {"offer": offer, "token": token})
