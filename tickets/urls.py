from __future__ import annotations

from django.urls import path

from tickets import views

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
]
