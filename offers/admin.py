"""The conversion engine in the Django admin: campaign rules, runs and offers, and the offer
actions and opt-out on the client page (a subclass of billing's client admin, registered in
its place). Every change goes through offers.services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from billing.admin import BillingClientAdmin
from clients.admin import (
    ReasonAction,
    SingleRowAdmin,
    confirm_with_reason,
    money_display,
    staff_display,
)
from clients.audit import HistoryAdmin
from clients.models import Client
from clients.money import money, percent
from contracts.admin import price_after_discount
from contracts.models import ContractPlan
from contracts.staff import MANAGE_CONTRACTS
from offers.campaign import Fit
from offers.drafts import campaign_preview, verdict_words
from offers.models import CampaignRun, CampaignSettings, ConversionOffer, OfferStatus
from offers.services import OfferError, client_opt_out_set, offer_send_now
from offers.staff import SEND_OFFERS
from offers.withdrawal import offer_withdraw

PREVIEW_PER_PAGE = 100
MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=12, decimal_places=2)
MONEY_FIELDS = (
    "list_price",
    "monthly_price",
    "trailing_labour",
    "trailing_priority",
    "trailing_spend",
    "contract_cost",
)


@admin.register(CampaignSettings)
class CampaignSettingsAdmin(HistoryAdmin, SingleRowAdmin):
    """The single row of campaign rules: the changelist goes straight to it."""

    fieldsets = [
        (
            "Who qualifies",
            {
                "fields": [
                    "min_trailing_spend",
                    "min_trailing_tickets",
                    "cooldown_days",
                    "max_offers_per_run",
                ]
            },
        ),
        (
            "Where a contract fits",
            {
                "fields": [
                    "max_savings_premium_percent",
                    "max_value_premium_percent",
                    "need_wait_hours",
                    "moment_offers",
                ],
                "description": "Each candidate's last twelve whole months are re-billed under "
                "every offered plan. A savings offer goes only where that costs no more than "
                "the client paid, plus the premium below; a client that showed a need for "
                "faster service gets a value offer stating the premium instead, up to the largest "
                "premium a value offer may carry; others none.",
            },
        ),
        (
            "Loyalty discount",
            {
                "fields": [
                    "base_discount_percent",
                    "tenure_bonus_percent_per_year",
                    "max_discount_percent",
                    "discount_applies_to",
                ]
            },
        ),
        ("Offer lifetime", {"fields": ["offer_lifetime_days", "reminder_days_before_expiry"]}),
    ]


@admin.register(ConversionOffer)
class ConversionOfferAdmin(HistoryAdmin):
    list_display = [
        "client",
        "plan",
        "kind",
        "source",
        "status",
        "price_display",
        "savings_display",
        "sent_at",
        "opened_at",
        "expires_at",
    ]
    list_select_related = ["client", "plan"]
    list_filter = ["status", "kind", "source", "campaign_run", "plan"]
    search_fields = ["client__name", "email"]
    date_hierarchy = "created_at"
    list_per_page = 50
    show_full_result_count = False
    actions = ["withdraw_offers"]

    # The offer page is read-only: its fields in the model's order, the nonce left out (it is
    # the secret half of the client's links) and amounts shown as money.
    list_price_shown = money_display("list_price", "list price")
    monthly_price_shown = money_display("monthly_price", "monthly price after discount")
    trailing_labour_shown = money_display("trailing_labour", "labour, last 12 months")
    trailing_priority_shown = money_display("trailing_priority", "priority surcharges")
    trailing_spend_shown = money_display("trailing_spend", "spend, last 12 months")
    contract_cost_shown = money_display("contract_cost", "the same 12 months on the contract")

    @admin.display(description="discount")
    def discount_shown(self, obj: ConversionOffer) -> str:
        return percent(obj.discount_percent)

    @admin.display(description="the year replayed, month by month")
    def monthly_shown(self, obj: ConversionOffer) -> str:
        if not obj.monthly:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    m["month"],
                    m["hours"],
                    money(Decimal(m["paid"])),
                    money(Decimal(m["fee"])),
                    money(Decimal(m["overage"])),
                    money(Decimal(m["cost"])),
                )
                for m in obj.monthly
            ),
        )
        return format_html(
            "<table><thead><tr><th>Month</th><th>Hours</th><th>Paid</th><th>Fee</th>"
            "<th>Overage</th><th>On the contract</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="terms")
    def terms_link(self, obj: ConversionOffer) -> str:
        """The version the offer was made with (or accepted on), on its plan's page."""
        if obj.terms is None:
            return "-"
        url = reverse("admin:contracts_contractplan_change", args=[obj.terms.plan_id])
        return format_html(
            '<a href="{}#terms-version-{}">version {}</a>',
            url,
            obj.terms.version,
            obj.terms.version,
        )

    def get_readonly_fields(self, request: HttpRequest, obj: ConversionOffer | None = None) -> Any:
        shown = {
            "discount_percent": "discount_shown",
            "monthly": "monthly_shown",
            "terms": "terms_link",
        }
        shown |= {name: f"{name}_shown" for name in MONEY_FIELDS}
        return [
            shown.get(f.name, f.name)
            for f in ConversionOffer._meta.concrete_fields
            if f.name != "nonce"
        ]

    def get_fields(self, request: HttpRequest, obj: ConversionOffer | None = None) -> Any:
        return self.get_readonly_fields(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # offers come from campaigns or the client list's "send an offer now"

    @admin.action(description="Withdraw selected offers…", permissions=["change"])
    def withdraw_offers(
        self, request: HttpRequest, queryset: QuerySet[ConversionOffer]
    ) -> HttpResponse | None:
        return confirm_with_reason(
            self,
            request,
            queryset.select_related("client", "plan"),
            ReasonAction(
                name="withdraw_offers",
                title="Withdraw offers",
                intro="The clients can no longer accept these offers: their links will say the "
                "offer was withdrawn. Nobody is emailed.",
                submit="Yes, withdraw these offers",
                done="Withdrew {n} offer(s).",
                apply=lambda offer, reason, by: offer_withdraw(offer=offer, reason=reason, by=by),
                refusals=(OfferError,),
                # The offer's history keeps "Withdrawn: <reason>" in 100 characters.
                reason_length=80,
                label=lambda o: f"{o.client} — {o.plan}, {o.get_status_display()}",
            ),
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConversionOffer]:
        # ConversionOffer.savings, in SQL, so the column sorts by what it shows.
        saving = ExpressionWrapper(F("trailing_spend") - F("contract_cost"), output_field=MONEY)
        return super().get_queryset(request).annotate(saving=saving)

    @admin.display(description="Price a month", ordering="monthly_price")
    def price_display(self, obj: ConversionOffer) -> str:
        return price_after_discount(obj.monthly_price, obj.discount_percent)

    @admin.display(description="Against the last year", ordering="saving")
    def savings_display(self, obj: ConversionOffer) -> str:
        if obj.savings >= 0:
            return f"saves {money(obj.savings)}"
        return f"costs {money(obj.extra_cost)} more"


@admin.register(CampaignRun)
class CampaignRunAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "trigger",
        "eligible_clients",
        "offers",
        "savings_offers",
        "value_offers",
        "not_offered",
        "accepted",
        "declined",
        "conversion",
        "triggered_by_name",
    ]
    list_select_related = ["triggered_by"]
    readonly_fields = (
        "started_at",
        "trigger",
        "eligible_clients",
        "offers_created",
        "savings_offers",
        "value_offers",
        "not_offered",
        "not_offered_reasons",
        "triggered_by_name",
    )
    fields = readonly_fields
    triggered_by_name = staff_display("triggered_by", "triggered by")
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[CampaignRun]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                accepted_count=Count("offers", filter=Q(offers__status=OfferStatus.ACCEPTED)),
                declined_count=Count("offers", filter=Q(offers__status=OfferStatus.DECLINED)),
            )
        )

    @admin.display(description="Offers", ordering="offers_created")
    def offers(self, obj: CampaignRun) -> str:
        url = reverse("admin:offers_conversionoffer_changelist")
        query = urlencode({"campaign_run__id__exact": obj.pk})
        return format_html('<a href="{}?{}">{}</a>', url, query, obj.offers_created)

    @admin.display(description="Accepted", ordering="accepted_count")
    def accepted(self, obj: CampaignRun) -> int:
        return int(obj.accepted_count)  # type: ignore[attr-defined]

    @admin.display(description="Declined", ordering="declined_count")
    def declined(self, obj: CampaignRun) -> int:
        return int(obj.declined_count)  # type: ignore[attr-defined]

    @admin.display(description="Converted")
    def conversion(self, obj: CampaignRun) -> str:
        if not obj.offers_created:
            return "-"
        return f"{100 * obj.accepted_count / obj.offers_created:.0f}%"  # type: ignore[attr-defined]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        preview = path(
            "preview/",
            self.admin_site.admin_view(self.preview_view),
            name="offers_campaignrun_preview",
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """What the next run would offer whom, and why: the facts of the command's dry run."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        preview = campaign_preview()
        kinds = {str(f) for f in Fit}
        shown = request.GET.get("kind", "")
        shown = shown if shown in kinds else ""
        candidates = [d for d in preview.candidates if not shown or d.fit == shown]
        page = Paginator(candidates, PREVIEW_PER_PAGE).get_page(request.GET.get("page"))
        plans = dict(
            ContractPlan.objects.filter(pk__in={d.plan.plan_id for d in page}).values_list(
                "pk", "name"
            )
        )
        return TemplateResponse(
            request,
            "admin/offers/campaign_preview.html",
            {
                **self.admin_site.each_context(request),
                "title": "The next campaign run, previewed",
                "opts": self.model._meta,
                "preview": preview,
                "rows": [(d, plans.get(d.plan.plan_id, ""), verdict_words(d)) for d in page],
                "page": page,
                "shown": shown,
                "kinds": [
                    ("", "All", preview.eligible),
                    (Fit.SAVINGS, "Savings", preview.count(Fit.SAVINGS)),
                    (Fit.VALUE, "Value", preview.count(Fit.VALUE)),
                    (Fit.NONE, "No offer", len(preview.not_offered)),
                ],
            },
        )


# --- The client page, with offers and the opt-out ----------------------------------------------
class ClientOptOutForm(forms.ModelForm):
    """The client form, with the opt-out as a request to its service rather than a column to
    write: opting out withdraws open offers, and either way the history gets a line."""

    opted_out = forms.BooleanField(
        required=False,
        label="Opted out of offers",
        help_text="The client asked not to receive contract offers; ticking it withdraws any "
        "offer still open.",
    )

    class Meta:
        model = Client
        fields = ["name", "customer_since", "notes"]  # never offers_opt_out itself

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("opted_out", self.instance.offers_opt_out)


def _manages(request: HttpRequest) -> bool:
    return request.user.has_perm(MANAGE_CONTRACTS)


class OfferClientAdmin(BillingClientAdmin):
    """The client list and page with "send an offer now" and the opt-out."""

    form = ClientOptOutForm
    actions = ["send_offer_now", *BillingClientAdmin.actions]

    def get_fields(self, request: HttpRequest, obj: Client | None = None) -> Any:
        # Tenure drives the loyalty discount and the opt-out is the client's own word: only
        # managers change them (the opt-out through the form's `opted_out`).
        fields = list(super().get_fields(request, obj))
        if _manages(request):
            fields[fields.index("offers_opt_out")] = "opted_out"
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Client | None = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        return fields if _manages(request) else [*fields, "customer_since"]

    def get_form(
        self, request: HttpRequest, obj: Client | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        # Only managers get the opt-out box: in anyone else's form the missing box would read
        # as unticked, and saving the page would opt the client back in.
        if not _manages(request):
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if _manages(request) and "opted_out" in form.changed_data:
            client_opt_out_set(client=obj, opt_out=form.cleaned_data["opted_out"], by=request.user)

    @admin.action(description="Send a contract offer now", permissions=["change_offer"])
    def send_offer_now(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        sent = 0
        for client in queryset:
            try:
                offer_send_now(client=client, by=request.user)
                sent += 1
            except OfferError as exc:
                self.message_user(request, str(exc), messages.WARNING)
        if sent:
            self.message_user(
                request,
                f"Offered a contract to {sent} client(s); the emails are on their way.",
                messages.SUCCESS,
            )

    def has_change_offer_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(SEND_OFFERS)


admin.site.unregister(Client)
admin.site.register(Client, OfferClientAdmin)
