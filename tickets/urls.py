from __future__ import annotations

from django.urls import path

from tickets import client_views, views

app_name = "tickets"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("queue/take-next/", views.take_next, name="take_next"),
    path("tickets/new/", views.ticket_new, name="new"),
    path("tickets/client-lookup/", views.client_lookup, name="client_lookup"),
    path("tickets/client-contacts/", views.client_contacts, name="client_contacts"),
    path("tickets/<int:pk>/", views.ticket_detail, name="detail"),
    path("tickets/<int:pk>/status/", views.ticket_status, name="status"),
    path("tickets/<int:pk>/reply/", views.ticket_reply_view, name="reply"),
    path("tickets/<int:pk>/note/", views.ticket_note, name="note"),
    path("tickets/<int:pk>/assign/", views.ticket_assign_view, name="assign"),
    path("tickets/<int:pk>/time/", views.ticket_time, name="time"),
    path("tickets/<int:pk>/priority/", views.ticket_priority, name="priority"),
    path("clients/", client_views.clients, name="clients"),
    path("clients/<int:pk>/", client_views.client_detail, name="client"),
    path("clients/<int:pk>/<slug:figure>.csv", client_views.client_csv, name="client_csv"),
    *(
        path(
            f"clients/<int:pk>/{action}/",
            client_views.client_action,
            {"action": action},
            name=f"client_{action}",
        )
        for action in client_views.ACTIONS
    ),
]
