"""The client page with its data rights: export everything held about a client, erase its
personal data. A subclass of offers' client admin, registered in its place (the same seam the
apps below use), because the export and the erasure read every app and only this top layer may
import them all. Managers only: the two permissions are theirs (consultancy.roles).

And staff accounts: Django's own user pages, with the History page of the audit trail (who
changed whose groups, permissions or details, and when)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from clients.audit import HistoryAdmin
from clients.models import Client
from clients.services import ClientError
from consultancy.client_erasure import ERASED, client_erase, erasure_refusals
from consultancy.client_export import client_export
from consultancy.forms import ClientErasureForm
from offers.admin import OfferClientAdmin

EXPORT = "clients.export_client"
ERASE = "clients.erase_client"


class DataRightsClientAdmin(OfferClientAdmin):
    """The client page with "Export data (JSON)" and "Erase personal data…" for managers."""

    change_form_template = "admin/clients/client/change_form.html"

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/export/",
                self.admin_site.admin_view(self.export_view),
                name="{}_{}_export".format(*info),
            ),
            path(
                "<path:object_id>/erase/",
                self.admin_site.admin_view(self.erase_view),
                name="{}_{}_erase".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "may_export": request.user.has_perm(EXPORT),
            "may_erase": request.user.has_perm(ERASE),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _client_for(self, request: HttpRequest, object_id: str, permission: str) -> Client:
        """The client of the URL, for a user who holds `permission` (else 403; unknown: 404)."""
        if not request.user.has_perm(permission):
            raise PermissionDenied
        client = self.get_object(request, object_id)
        if client is None:
            raise Http404("No such client.")
        return client

    def export_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Download everything held about the client as JSON. A POST: it writes the history."""
        client = self._client_for(request, object_id, EXPORT)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        document = client_export(client=client, by=request.user)
        response = HttpResponse(document, content_type="application/json; charset=utf-8")
        filename = f"client-{client.pk}-{timezone.localdate():%Y-%m-%d}.json"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response

    def erase_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Confirm (GET shows what goes and what stays), then erase (POST) for good."""
        client = self._client_for(request, object_id, ERASE)
        change_url = reverse("admin:clients_client_change", args=[client.pk])
        refusals = erasure_refusals(client)
        form = ClientErasureForm(
            request.POST if request.method == "POST" else None, client_name=client.name
        )
        status = 200
        if request.method == "POST":
            if not refusals and form.is_valid():
                try:
                    client_erase(client=client, reason=form.cleaned_data["reason"], by=request.user)
                except ClientError as exc:  # refused in the moment since the page was shown
                    refusals = [str(exc)]
                else:
                    self.message_user(
                        request,
                        "The client's personal data was erased; its invoices, ledger and "
                        "counts are as they were.",
                        messages.SUCCESS,
                    )
                    return redirect(change_url)
            status = 400
        return TemplateResponse(
            request,
            "admin/clients/client/erase.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Erase the personal data of {client}",
                "opts": self.opts,
                "original": client,
                "change_url": change_url,
                "refusals": refusals,
                "form": form,
                "erased": ERASED,
            },
            status=status,
        )


admin.site.unregister(Client)
admin.site.register(Client, DataRightsClientAdmin)


class StaffUserAdmin(HistoryAdmin, UserAdmin):
    pass


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
