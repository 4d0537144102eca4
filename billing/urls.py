from __future__ import annotations

from django.urls import path

from billing import views

app_name = "billing"

# A month in the path is any word ("2026-11"): the view says what is wrong with "2025-13" or
# "february" instead of a bare 404.
urlpatterns = [
    path("", views.index, name="index"),
    path("<str:period>/", views.period_page, name="period"),
    path("<str:period>/run/", views.run, name="run"),
    path("<str:period>/issue/", views.issue, name="issue"),
    path("<str:period>/export/<str:export_format>/", views.export, name="export"),
]
