"""The public offer pages: no login, a signed link in the path, every change a POST."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from clients.http import client_ip
from contracts.models import ServiceContract
from offers.campaign import statement_of
from offers.forms import AcceptanceForm
from offers.models import ConversionOffer, OfferStatus
from offers.services import (
    OfferClosed,
    closed_reason,
    offer_accept,
    offer_decline,
    offer_opened,
    offer_unsubscribe,
)
from offers.tokens import OfferLinkInvalid, Purpose, offer_from_token, offer_token

# How each closed offer is answered: the status code of the page that says so.
CLOSED_STATUS = {
    "accepted": 409,
    "declined": 409,
    "has_contract": 409,
    "expired": 410,
    "withdrawn": 410,
}
OfferView = Callable[[HttpRequest, ConversionOffer, str], HttpResponse]


def public_offer_view(
    purpose: Purpose = "offer",
) -> Callable[[OfferView], Callable[[HttpRequest, str], HttpResponse]]:
    """Turn `view(request, offer, token)` into a public view of `/offers/<token>/…`: no login,
    never cached; a link that does not verify gets the "not valid" page (404) and nothing else."""

    def wrap(view: OfferView) -> Callable[[HttpRequest, str], HttpResponse]:
        @login_not_required
        @never_cache
        def public(request: HttpRequest, token: str) -> HttpResponse:
            try:
                offer = offer_from_token(token, purpose)
            except OfferLinkInvalid:
                return render(request, "offers/offer_invalid.html", status=404)
            return view(request, offer, token)

        public.__name__ = public.__qualname__ = view.__name__
        public.__doc__ = view.__doc__
        return public

    return wrap


def _closed(request: HttpRequest, offer: ConversionOffer, exc: OfferClosed) -> HttpResponse:
    context = {"offer": offer, "reason": exc.reason, "message": str(exc)}
    return render(request, "offers/offer_closed.html", context, status=CLOSED_STATUS[exc.reason])


def _offer_page(
    request: HttpRequest,
    offer: ConversionOffer,
    token: str,
    form: AcceptanceForm | None = None,
    status: int = 200,
) -> HttpResponse:
    terms = form.terms if form is not None else offer.terms_shown()
    context = {
        "offer": offer,
        "token": token,
        "terms": terms,
        "form": form or AcceptanceForm(offer=offer, terms=terms, token=token),
        "unsubscribe_token": offer_token(offer, "unsubscribe"),
        "levels": offer.plan.service_levels.order_by("response_minutes"),
        "statement": statement_of(offer.monthly),
    }
    return render(request, "offers/offer.html", context, status=status)


@require_GET
@public_offer_view()
def offer_page(request: HttpRequest, offer: ConversionOffer, token: str) -> HttpResponse:
    now = timezone.now()
    if (closed := closed_reason(offer, now)) is not None:
        return _closed(request, offer, closed)
    if offer.opened_at is None:
        offer_opened(offer=offer, now=now)
    return _offer_page(request, offer, token)


@require_GET
@public_offer_view()
def offer_terms_view(request: HttpRequest, offer: ConversionOffer, token: str) -> HttpResponse:
    """The terms the offer is made on, in full: for an open offer and a closed one alike (a
    client may come back to read what it agreed to)."""
    context = {
        "offer": offer,
        "token": token,
        "terms": offer.terms_shown(),
        "accepted": offer.status == OfferStatus.ACCEPTED,
        "is_open": closed_reason(offer, timezone.now()) is None,
    }
    return render(request, "offers/terms.html", context)


def _back_to_the_offer(token: str) -> HttpResponse:
    # The accept and decline URLs only take a POST; opened again later (from the browser's
    # history, say) they lead back to the offer page, which says where the offer stands.
    return redirect("offers:offer", token=token)


@require_http_methods(["GET", "POST"])
@public_offer_view()
def offer_accept_view(request: HttpRequest, offer: ConversionOffer, token: str) -> HttpResponse:
    if request.method != "POST":
        return _back_to_the_offer(token)
    # A closed offer says so, whatever was filled in: there is nothing left to correct.
    if (closed := closed_reason(offer, timezone.now())) is not None:
        return _closed_to_accept(request, offer, closed)
    form = AcceptanceForm(request.POST, offer=offer, terms=offer.terms_shown(), token=token)
    if not form.is_valid():
        # 400, not 200: nothing was accepted, and a monitor, a test or the browser's own
        # history should not read this answer as a success. The page is the same either way.
        return _offer_page(request, offer, token, form=form, status=400)
    try:
        contract = offer_accept(
            offer=offer,
            signer_name=form.cleaned_data["signer_name"],
            signer_role=form.cleaned_data["signer_role"],
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    except OfferClosed as exc:
        return _closed_to_accept(request, offer, exc)
    return render(request, "offers/offer_accepted.html", {"offer": offer, "contract": contract})


def _closed_to_accept(
    request: HttpRequest, offer: ConversionOffer, exc: OfferClosed
) -> HttpResponse:
    """An accept sent again (a double click, a browser retrying after a lost answer) gets the
    answer of the first: the welcome page of the contract it started, not an error about a
    change the client asked for and got. Every other closed offer says why it is closed."""
    # Read from the database, not `offer`: a second click that waited on the first one's lock
    # was handed the offer as it was before the first committed.
    contract = (
        ServiceContract.objects.select_related("plan").filter(offer__pk=offer.pk).first()
        if exc.reason == "accepted"
        else None
    )
    if contract is not None:
        return render(request, "offers/offer_accepted.html", {"offer": offer, "contract": contract})
    return _closed(request, offer, exc)


@require_http_methods(["GET", "POST"])
@public_offer_view()
def offer_decline_view(request: HttpRequest, offer: ConversionOffer, token: str) -> HttpResponse:
    if request.method != "POST":
        return _back_to_the_offer(token)
    try:
        offer_decline(offer=offer)
    except OfferClosed as exc:
        return _closed(request, offer, exc)
    return render(request, "offers/offer_declined.html", {"offer": offer})


@csrf_exempt  # RFC 8058: mail clients POST without cookies or a CSRF token
@require_http_methods(["GET", "POST"])
@public_offer_view("unsubscribe")
def offer_unsubscribe_view(
    request: HttpRequest, offer: ConversionOffer, token: str
) -> HttpResponse:
    """GET asks a person to confirm; POST (a person or a mail client's one click) opts out."""
    if request.method == "POST":
        offer_unsubscribe(offer=offer)
        # 200 with a page, never a redirect: one-click senders do not follow redirects.
        return render(request, "offers/unsubscribed.html", {"offer": offer})
    return render(request, "offers/unsubscribe.html", {"offer": offer, "token": token})
