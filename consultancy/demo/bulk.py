"""How every demo step writes its rows: bulk_create in batches, never one INSERT per row."""

from __future__ import annotations

from typing import TypeVar

from django.db import models

BATCH = 5000
M = TypeVar("M", bound=models.Model)


def bulk_insert(model: type[M], rows: list[M]) -> list[M]:
    """Insert `rows` in batches and return them with their primary keys set."""
    # The later steps point at these rows by pk; bulk_create sets it on PostgreSQL and on
    # SQLite 3.35+ (RETURNING), the two databases the app runs on.
    return model._default_manager.bulk_create(rows, batch_size=BATCH)
