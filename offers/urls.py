from __future__ import annotations

from django.urls import path

from offers import views

app_name = "offers"

urlpatterns = [
    path("offers/<str:token>/", views.offer_page, name="offer"),
    path("offers/<str:token>/terms/", views.offer_terms_view, name="offer_terms"),
    path("offers/<str:token>/accept/", views.offer_accept_view, name="offer_accept"),
    path("offers/<str:token>/decline/", views.offer_decline_view, name="offer_decline"),
    path("offers/<str:token>/unsubscribe/", views.offer_unsubscribe_view, name="unsubscribe"),
]
