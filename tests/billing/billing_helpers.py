"""What the billing tests share: the month that has ended on the suite's clock."""

from __future__ import annotations

from billing.periods import Period

FEBRUARY = Period(2025, 2)  # the last month that has ended on the suite's clock (10 March)
