"""The workspace forms' own rules: the one parser of ids people type or links carry."""

from __future__ import annotations

import pytest

from tickets.forms import MAX_ID, parse_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42),
        (" 42 ", 42),
        (42, 42),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),  # past what the database can hold
        ("9" * 20, None),
        ("0", None),
        ("-3", None),
        ("+3", None),
        ("4.0", None),
        ("abc", None),
        ("", None),
        (None, None),
        ("²", None),  # a digit to str.isdigit(), not to int()
        ("٤٢", None),  # Arabic-Indic digits: not an id anyone typed in this app
        ("4\x002", None),
    ],
)
def test_parse_id_takes_a_positive_database_id_and_nothing_else(
    raw: object, expected: int | None
) -> None:
    assert parse_id(raw) == expected
