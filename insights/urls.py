from __future__ import annotations

from django.urls import path

from insights import views

app_name = "insights"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("promises/missed/", views.sla_missed, name="missed"),
    path("csv/<slug:section>/<slug:table>.csv", views.table_csv, name="csv"),
]
