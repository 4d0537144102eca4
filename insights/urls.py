from __future__ import annotations

from django.urls import path

from insights import pages, views

app_name = "insights"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("promises/missed/", views.sla_missed, name="missed"),
    path("csv/<slug:section>/<slug:table>.csv", views.table_csv, name="csv"),
    path("renewals/", pages.renewals, name="renewals"),
    path("renewals/<int:pk>/", pages.renewal_confirm, name="renewal_confirm"),
    path("renewals/renew/", pages.renewal_renew, name="renew"),
    path("renewals/cancel/", pages.renewal_cancel, name="cancel"),
    path("drops/", pages.drops, name="drops"),
    path("drops/drop/", pages.drop, name="drop"),
    path("drops/undo/", pages.drop_undo, name="undo_drop"),
]
