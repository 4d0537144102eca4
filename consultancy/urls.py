from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from consultancy import views
from consultancy.forms import LoginForm

admin.site.site_header = "Consultancy CRM administration"
admin.site.site_title = "Consultancy CRM"
admin.site.index_title = "Contract management"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.health, name="health"),
    path("favicon.ico", views.favicon, name="favicon"),
    path(
        "accounts/login/",
        views.LoginView.as_view(authentication_form=LoginForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("billing/", include("billing.urls")),
    path("insights/", include("insights.urls")),
    path("", include("tickets.urls")),
    path("", include("offers.urls")),
]
