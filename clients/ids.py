"""Database ids typed or linked by people: the one place that turns such text into an int."""

from __future__ import annotations

MAX_ID = 2**63 - 1  # the largest primary key the database can hold


def parse_id(raw: object) -> int | None:
    """Return a positive database id from user input, or None for anything else."""
    text = "" if raw is None else str(raw).strip()
    # isascii: "²" and other Unicode digits pass isdigit() but int() refuses them; the length
    # check keeps int() from parsing a megabyte of digits before the range check refuses it.
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or not 0 < int(text) <= MAX_ID:
        return None
    return int(text)
