from __future__ import annotations

from django.urls import path

from billing import views

app_name = "billing"

# A month in the path is any word ("2026-11"): the view says what is wrong with "2025-13" or
# "february" instead of a bare 404. The invoice paths come first, so "invoices" is never a month.
urlpatterns = [
    path("", views.index, name="index"),
    path("invoices/", views.invoice_list, name="invoices"),
    path("invoices/<str:ref>/", views.invoice_detail, name="invoice"),
    path("invoices/<str:ref>/credit/", views.credit, name="credit"),
    path("<str:period>/", views.period_page, name="period"),
    path("<str:period>/run/", views.run, name="run"),
    path("<str:period>/issue/", views.issue, name="issue"),
    path("<str:period>/export/<str:export_format>/", views.export, name="export"),
]
