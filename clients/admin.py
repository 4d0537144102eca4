"""The clients in the Django admin: clients, contacts, charges and the practice's history log.

The client page is built here and extended by the apps above (contracts adds the contracts,
offers adds offers and the opt-out), each by re-registering a subclass of ClientAdmin: this app
never imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from clients.admin_readonly import ReadOnlyAdmin
from clients.models import (
    Charge,
    ChargeKind,
    Client,
    ClientEvent,
    ClientQuerySet,
    ClientStatus,
    Contact,
)
from clients.money import cents, money
from clients.people import staff_name
from clients.services import ClientError, client_drop, client_reinstate

if TYPE_CHECKING:
    from clients.services import Actor

HISTORY_LINES = 20  # the newest lines of a client's history shown on its page


# --- Actions that ask for a reason first (drop a client, cancel a contract) --------------------
class ReasonForm(forms.Form):
    """Why: as long as the field the service keeps it in (`max_length`)."""

    def __init__(self, *args: Any, max_length: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"] = forms.CharField(
            max_length=max_length, widget=forms.TextInput(attrs={"size": 60})
        )


@dataclass(frozen=True)
class ConfirmItem:
    pk: int
    label: str
    warning: str = ""


@dataclass(frozen=True)
class ReasonAction:
    """What a confirm-with-reason action says and does; `apply(obj, reason, by)` changes one
    object through its service and raises one of `refusals` when the rules say no."""

    name: str
    title: str
    intro: str
    submit: str
    done: str  # "Dropped {n} client(s)."
    apply: Callable[[Any, str, Actor], object]
    refusals: tuple[type[Exception], ...]
    reason_length: int  # as long as the field the service keeps the reason in
    label: Callable[[Any], str] = str
    warning: Callable[[Any], str] = lambda obj: ""


def confirm_with_reason(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    action: ReasonAction,
) -> HttpResponse | None:
    """Ask for a reason (listing the objects and any warning up front), then apply the action
    to each object and say what was done and what was refused."""
    form = ReasonForm(
        request.POST if "confirm" in request.POST else None, max_length=action.reason_length
    )
    if form.is_bound and form.is_valid():
        done = 0
        for obj in queryset:
            try:
                action.apply(obj, form.cleaned_data["reason"], request.user)
                done += 1
            except action.refusals as exc:
                model_admin.message_user(request, str(exc), messages.WARNING)
        if done:
            model_admin.message_user(request, action.done.format(n=done), messages.SUCCESS)
        return None
    opts = model_admin.model._meta
    items: Iterable[ConfirmItem] = [
        ConfirmItem(pk=obj.pk, label=action.label(obj), warning=action.warning(obj))
        for obj in queryset
    ]
    return TemplateResponse(
        request,
        "admin/confirm_with_reason.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": action.title,
            "intro": action.intro,
            "submit": action.submit,
            "action": action.name,
            "items": items,
            "form": form,
            "opts": opts,
            "changelist_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )


class SingleRowAdmin(admin.ModelAdmin):
    """A one-row settings model (pk 1; `load()` makes the row): the list goes to the row."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        self.model.load()
        opts = self.model._meta
        return redirect(f"admin:{opts.app_label}_{opts.model_name}_change", 1)

    def change_view(
        self, request: HttpRequest, object_id: str, *args: Any, **kw: Any
    ) -> HttpResponse:
        if self.has_view_or_change_permission(request):
            self.model.load()  # made the first time anyone looks
        return super().change_view(request, object_id, *args, **kw)


def money_display(field: str, description: str) -> Callable[[Any, Any], str]:
    """An admin column or read-only field that shows model field `field` as money ("$1,234.50"):
    the admin's own display of a DecimalField is a bare "1234.50"."""

    @admin.display(description=description, ordering=field)
    def shown(model_admin: Any, obj: Any) -> str:
        return money(getattr(obj, field))

    return shown


def staff_display(field: str, description: str) -> Callable[[Any, Any], str]:
    """An admin column or read-only field naming the staff member in `field` as everywhere
    else (clients.people), not by login as the admin's own display of a user does."""

    @admin.display(description=description, ordering=field)
    def shown(model_admin: Any, obj: Any) -> str:
        person = getattr(obj, field)
        return staff_name(person) if person is not None else "-"

    return shown


def field_length(model: type[Any], name: str) -> int:
    """The most characters a text field of `model` keeps."""
    length = model._meta.get_field(name).max_length
    assert isinstance(length, int)
    return length


# --- Clients -----------------------------------------------------------------------------------
class ContactInlineFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        # Each form checks one_primary_contact_per_client against the database only, so two
        # new contacts both ticked primary pass validation and then fail the constraint on save
        # (a server error). Count the primaries across the whole formset instead.
        primaries = [
            form
            for form in self.forms
            if form.cleaned_data.get("is_primary") and not form.cleaned_data.get("DELETE")
        ]
        if len(primaries) > 1:
            raise ValidationError("Only one contact can be the primary contact.")


class ContactInline(admin.TabularInline):
    model = Contact
    formset = ContactInlineFormSet
    extra = 0
    fields = ["name", "email", "phone", "is_primary"]


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    """The client list and page; apps above extend it (see the module's docstring)."""

    list_display = ["name", "status", "spend_last_12_months", "customer_since", "offers_opt_out"]
    list_filter = ["status", "offers_opt_out"]
    search_fields = ["name", "contacts__email"]
    inlines = [ContactInline]
    list_per_page = 50
    # The standing of a client (dropped or not, opted out or not) changes only through the
    # services, by the actions, so that it leaves a line in the client's history.
    readonly_fields = [
        "spend_last_12_months",
        "status",
        "dropped_at",
        "drop_reason",
        "offers_opt_out",
        "created_at",
        "history",
    ]
    fields = [
        "name",
        "customer_since",
        "offers_opt_out",
        "notes",
        "spend_last_12_months",
        "status",
        "dropped_at",
        "drop_reason",
        "created_at",
    ]
    actions = ["drop_clients", "reinstate_clients"]

    def get_fieldsets(self, request: HttpRequest, obj: Client | None = None) -> Any:
        fieldsets: list[tuple[str | None, dict[str, Any]]] = [
            (None, {"fields": self.get_fields(request, obj)})
        ]
        if obj is not None:
            fieldsets.append(("History", {"fields": ["history"]}))
        return fieldsets

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        clients = super().get_queryset(request)
        assert isinstance(clients, ClientQuerySet)
        return clients.with_trailing_spend()

    @admin.display(description="Spend, last 12 months", ordering="trailing_spend")
    def spend_last_12_months(self, obj: Client) -> str:
        return money(obj.trailing_spend)  # type: ignore[attr-defined]

    @admin.display(description="Latest changes")
    def history(self, obj: Client) -> str:
        """The newest lines of the client's history, and a link to all of them.

        A read-only field, not an inline: an inline would put every line ever written on the
        page and in its form, and a formset cannot be cut to the newest few.
        """
        events = list(obj.events.select_related("by")[: HISTORY_LINES + 1])
        log = reverse("admin:clients_clientevent_changelist")
        return render_to_string(
            "admin/clients/client_history.html",
            {
                "events": events[:HISTORY_LINES],
                "more": len(events) > HISTORY_LINES,
                "log_url": f"{log}?{urlencode({'client__id__exact': obj.pk})}",
            },
        )

    # Dropping is a manager's decision: only those who may delete clients see these actions.
    drop_refusals: tuple[type[Exception], ...] = ()  # what drop() may raise besides ClientError

    def drop(self, client: Client, reason: str, by: Actor) -> object:
        """Drop one client through its service (apps above add their own rules)."""
        return client_drop(client=client, reason=reason, by=by)

    def drop_warning(self, client: Client) -> str:
        """What the confirmation says next to a client before anyone types a reason."""
        return "(dropped already)" if client.is_dropped else ""

    @admin.action(description="Drop selected clients (stop serving them)…", permissions=["delete"])
    def drop_clients(self, request: HttpRequest, queryset: QuerySet[Client]) -> HttpResponse | None:
        return confirm_with_reason(
            self,
            request,
            queryset,
            ReasonAction(
                name="drop_clients",
                title="Drop clients",
                intro="Dropped clients keep their history but get no more offers and no new "
                "tickets.",
                submit="Yes, drop these clients",
                done="Dropped {n} client(s).",
                apply=lambda client, reason, by: self.drop(client, reason, by),
                refusals=(ClientError, *self.drop_refusals),
                reason_length=field_length(Client, "drop_reason"),
                label=lambda client: client.name,
                warning=self.drop_warning,
            ),
        )

    @admin.action(description="Reinstate selected dropped clients", permissions=["delete"])
    def reinstate_clients(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        done = 0
        for client in queryset.filter(status=ClientStatus.DROPPED):
            try:
                client_reinstate(client=client, by=request.user)
                done += 1
            except ClientError as exc:
                self.message_user(request, str(exc), messages.WARNING)
        self.message_user(request, f"Reinstated {done} client(s).", messages.SUCCESS)


@admin.register(ClientEvent)
class ClientEventAdmin(ReadOnlyAdmin):
    """The practice's log of standing changes: drops, contracts, offers answered."""

    list_display = ["at", "client", "kind", "summary", "by_name"]
    list_select_related = ["client", "by"]
    list_filter = ["kind"]
    search_fields = ["client__name", "summary"]
    date_hierarchy = "at"
    list_per_page = 50
    # The log only grows: one count of the filtered rows, not a second of the whole table.
    show_full_result_count = False
    fields = ("at", "client", "kind", "summary", "by_name")
    readonly_fields = fields
    by_name = staff_display("by", "by")


# --- The ledger --------------------------------------------------------------------------------
# What a person may post by hand. Contract fees and overage are posted by the monthly billing run
# (the app above this one), which keeps one of each per contract and month.
MANUAL_KINDS = (ChargeKind.LABOUR, ChargeKind.PAID_PRIORITY, ChargeKind.OTHER)


# What the app posted, by the reverse names of what posted it (tickets' time entries and paid
# priority, billing's monthly run): a seam, docs/architecture.md.
POSTED_BY = ("time_entry", "priority_ticket", "contract_fee", "contract_overage")


def is_posted_by_the_app(charge: Charge) -> bool:
    """Whether logged time, a ticket's paid priority or the monthly run posted the charge.

    Such a charge stays as it was posted: editing it would part it from the work or the month
    it prices. A mistake is corrected by a credit note once it is invoiced.
    """
    # RelatedObjectDoesNotExist is an AttributeError: hasattr() is False for none.
    return charge.kind not in MANUAL_KINDS or any(hasattr(charge, name) for name in POSTED_BY)


def is_invoiced(charge: Charge) -> bool:
    """Whether the charge is on an issued invoice, and so can no longer change.

    Invoices live in billing, above this app: the check follows the reverse relation
    `invoice_line` by name (a seam, docs/architecture.md). The admin's queryset annotates it;
    a charge loaded elsewhere asks the database once.
    """
    invoiced = getattr(charge, "invoiced", None)
    if invoiced is None:
        # RelatedObjectDoesNotExist is an AttributeError: hasattr() is False for no line.
        invoiced = hasattr(charge, "invoice_line")
    return bool(invoiced)


class ManualChargeForm(forms.ModelForm):
    """A charge added or corrected by hand: labour, paid priority or other, never a run's kind."""

    class Meta:
        model = Charge
        fields = ["client", "kind", "amount", "description", "hours", "rate", "occurred_at"]
        error_messages = {
            "amount": {"min_value": "A charge must be more than $0.00."},
            "rate": {"min_value": "A rate cannot be negative."},
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hours, rate, amount = data.get("hours"), data.get("rate"), data.get("amount")
        if hours is not None and hours <= 0:
            self.add_error(
                "hours", "Hours must be more than 0; leave them empty for a fixed price."
            )
        elif hours is not None and rate is not None and amount is not None and amount > 0:
            # The invoice line shows hours x rate: it must come to the amount charged.
            priced = cents(hours * rate)
            if priced != amount:
                self.add_error(
                    "amount",
                    f"{hours} h at {money(rate)}/h is {money(priced)}; make the amount that, "
                    "or leave the hours or the rate empty.",
                )
        return data

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.fields.get("kind")  # absent when read-only
        if isinstance(kind, forms.ChoiceField):
            kind.choices = [("", "---------"), *((k.value, k.label) for k in MANUAL_KINDS)]
            kind.error_messages["invalid_choice"] = (
                "Contract fees and overage are posted by the monthly billing run, not by hand: "
                "choose labour, paid priority or other."
            )


class InvoicedFilter(admin.SimpleListFilter):
    title = "invoiced"
    parameter_name = "invoiced"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "On an invoice"), ("no", "Not invoiced yet")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Charge]) -> QuerySet[Charge] | None:
        if self.value() in ("yes", "no"):
            return queryset.filter(invoice_line__isnull=self.value() == "no")
        return None


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    """The ledger. A charge on an issued invoice is read-only: a credit note corrects it."""

    form = ManualChargeForm
    list_display = [
        "occurred_at",
        "client",
        "kind",
        "rate_display",
        "amount_display",
        "description",
        "invoiced_display",
    ]
    list_select_related = ["client"]
    list_filter = ["kind", InvoicedFilter]
    search_fields = ["client__name", "description"]
    autocomplete_fields = ["client"]
    date_hierarchy = "occurred_at"
    list_per_page = 50

    amount_display = money_display("amount", "Amount")

    @admin.display(description="Rate", ordering="rate")
    def rate_display(self, obj: Charge) -> str | None:
        return money(obj.rate) if obj.rate is not None else None  # None reads as "-"

    @admin.display(description="Invoiced", boolean=True, ordering="invoiced")
    def invoiced_display(self, obj: Charge) -> bool:
        return is_invoiced(obj)

    @admin.display(description="On invoice")
    def on_invoice(self, obj: Charge) -> str:
        if not is_invoiced(obj):
            return "Not yet: it goes on the client's next invoice."
        return f"{obj.invoice_line}: issued, so a credit note corrects it, not a change here."

    def get_queryset(self, request: HttpRequest) -> QuerySet[Charge]:
        # One EXISTS per row in the rows' own query, so the page costs the same at any length.
        on_invoice = Charge.objects.filter(pk=OuterRef("pk"), invoice_line__isnull=False)
        return super().get_queryset(request).annotate(invoiced=Exists(on_invoice))

    def get_readonly_fields(self, request: HttpRequest, obj: Charge | None = None) -> Any:
        if obj is None:
            return ["created_by"]
        return ["created_by", "on_invoice"]

    def has_change_permission(self, request: HttpRequest, obj: Charge | None = None) -> bool:
        if obj is not None and (is_invoiced(obj) or is_posted_by_the_app(obj)):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Charge | None = None) -> bool:
        if obj is not None and (is_invoiced(obj) or is_posted_by_the_app(obj)):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Charge, form: Any, change: bool) -> None:
        if not change and request.user.is_authenticated:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "phone", "client", "is_primary"]
    list_select_related = ["client"]
    search_fields = ["name", "email", "client__name"]
    autocomplete_fields = ["client"]
    list_filter = ["is_primary"]
