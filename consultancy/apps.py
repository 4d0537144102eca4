from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


def _session_starts_fresh(sender: Any, request: Any, **kwargs: Any) -> None:
    from consultancy.safety import mark_renewed

    if request is not None and hasattr(request, "session"):
        mark_renewed(request.session)


class ConsultancyConfig(AppConfig):
    name = "consultancy"
    verbose_name = "Practice"

    def ready(self) -> None:
        # The session idle timeout counts from sign-in (consultancy.safety.IdleTimeoutMiddleware).
        user_logged_in.connect(_session_starts_fresh, dispatch_uid="consultancy-idle-timeout")
