"""The client page with its contracts: a subclass of clients' ClientAdmin, registered in its
place (clients never imports this app)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest

from clients.admin import ClientAdmin
from clients.models import Client
from contracts.admin.contracts import price_after_discount
from contracts.models import ServiceContract
from contracts.services import ContractError, client_drop_unless_contracted

if TYPE_CHECKING:
    from clients.services import Actor


# --- The client page, with its contracts -------------------------------------------------------
class ContractInline(admin.TabularInline):
    model = ServiceContract
    fk_name = "client"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("plan", "status", "starts_on", "ends_on", "price")
    readonly_fields = fields
    ordering = ["-starts_on"]
    verbose_name_plural = "Contracts (start one from Service contracts)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceContract]:
        return super().get_queryset(request).select_related("plan")

    @admin.display(description="Price a month")
    def price(self, obj: ServiceContract) -> str:
        return price_after_discount(obj.monthly_price, obj.discount_percent)


class ContractHolderFilter(admin.SimpleListFilter):
    title = "service"
    parameter_name = "service"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("contract", "On a contract"), ("transactional", "Transactional")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Client]) -> QuerySet[Client] | None:
        holds_contract = ServiceContract.objects.client_holds_one()
        if self.value() == "contract":
            return queryset.filter(holds_contract)
        if self.value() == "transactional":
            return queryset.filter(~holds_contract)
        return None


class ContractClientAdmin(ClientAdmin):
    """The client list and page with the client's contracts and current plan."""

    list_display = [
        "name",
        "status",
        "current_plan",
        "spend_last_12_months",
        "customer_since",
        "offers_opt_out",
    ]
    list_filter = [ContractHolderFilter, *ClientAdmin.list_filter]
    inlines = [*ClientAdmin.inlines, ContractInline]
    drop_refusals = (ContractError,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        active = ServiceContract.objects.active().filter(client=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                has_contract=ServiceContract.objects.client_holds_one(),
                current_plan_name=Subquery(active.values("plan__name")[:1]),
            )
        )

    @admin.display(description="Plan", ordering="current_plan_name")
    def current_plan(self, obj: Client) -> str:
        return obj.current_plan_name or "Transactional"  # type: ignore[attr-defined]

    def drop(self, client: Client, reason: str, by: Actor) -> object:
        return client_drop_unless_contracted(client=client, reason=reason, by=by)

    def drop_warning(self, client: Client) -> str:
        if getattr(client, "has_contract", False):
            return "holds an active contract and will not be dropped: cancel the contract first"
        return super().drop_warning(client)


admin.site.unregister(Client)
admin.site.register(Client, ContractClientAdmin)
