from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe

from consultancy.roles import is_consultant, is_manager


class LoginView(auth_views.LoginView):
    """The login page; someone already signed in goes straight to their landing page."""

    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        # A `next` pointing back at this page would make Django raise "redirection loop"
        # (a 500) for a signed-in user: treat it as no `next` at all.
        url = super().get_redirect_url()
        return "" if url and url.split("?")[0] == self.request.path else url


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Send each role to where its day starts."""
    if is_manager(request.user):
        return redirect("insights:dashboard")
    if is_consultant(request.user):
        return redirect("tickets:queue")
    return render(request, "no_role.html", status=403)


@login_not_required
@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on every page that names no icon (the admin's): send them
    to the static one instead of a 404 in the log each time. Not a permanent redirect: the
    static name carries a content hash that changes with the file."""
    return redirect(static("favicon.svg"))


@login_not_required
@never_cache
@require_GET
def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
