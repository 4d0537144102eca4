"""A small practice on a Wednesday, shared by the panel above the queue
(tests/tickets/test_my_panel.py) and the manager's workload section (tests/insights/
test_workload.py): tickets at risk, overdue, fine, paused and closed, and time logged this week,
on the Sunday before it and by others. Every figure the tests expect is worked out by hand in
the docstring of `practice_on_wednesday`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User

from tests.conftest import DAY, HOUR
from tests.factories import (
    ContractTicketFactory,
    PaidPriorityTicketFactory,
    TicketFactory,
    TimeEntryFactory,
)
from tickets.models import Ticket, TicketStatus

# Wednesday 12 March 2025, noon in New York (EDT, UTC-4): the week runs Monday 10 to Sunday 16.
WEDNESDAY = dt.datetime(2025, 3, 12, 16, 0, tzinfo=dt.UTC)
MONDAY = dt.date(2025, 3, 10)
PREVIOUS_SUNDAY = dt.date(2025, 3, 9)
WEDNESDAY_DATE = dt.date(2025, 3, 12)


def contract_ticket(
    *, due: dt.datetime, risk: dt.datetime, answered: bool = False, **fields: Any
) -> Ticket:
    """A contract ticket whose current deadline is `due` (at risk from `risk`).

    Unanswered, that is the response deadline. Answered, the response deadline lies a day in
    the past (its risk moment too) and `due` is the resolution deadline: only the current
    deadline may count.
    """
    if not answered:
        return ContractTicketFactory(
            opened_at=WEDNESDAY - 2 * DAY,
            response_due_at=due,
            response_risk_at=risk,
            resolution_due_at=due + DAY,
            resolution_risk_at=due + DAY - HOUR,
            queue_due_at=due,
            **fields,
        )
    return ContractTicketFactory(
        opened_at=WEDNESDAY - 2 * DAY,
        first_response_at=WEDNESDAY - DAY,
        response_due_at=WEDNESDAY - DAY - HOUR,
        response_risk_at=WEDNESDAY - DAY - 2 * HOUR,
        resolution_due_at=due,
        resolution_risk_at=risk,
        queue_due_at=due,
        **fields,
    )


@dataclass
class Practice:
    at_risk: Ticket  # Bob's
    overdue: Ticket  # Bob's
    people: dict[str, User]


def practice_on_wednesday(manager: User, bob: User, carol: User, frank: User) -> Practice:
    """Make the hand-worked practice (the clock must stand at WEDNESDAY).

    Open tickets (now = Wed 16:00 UTC):
      contract  B1 Bob, unanswered, risk 15:00, due 17:00          -> at risk
                B2 Bob, unanswered, risk 13:00, due 14:00          -> overdue
                B3 Bob, answered late yesterday; resolution risk 18:00, due 24:00
                   -> fine (the passed response deadline is no longer the current one)
                B4 Bob, waiting on the client, clock paused, due passed at 10:00 -> neither
                C1 Carol, unanswered, due 15:59                    -> overdue
                U1 nobody, answered, resolution risk 16:00 sharp, due 20:00 -> at risk
      paid      C2 Carol; U2 nobody                                -> no deadline
      standard  B5 Bob; U3 nobody; F1 Frank (inactive, left with it) -> no deadline
    Not open: a resolved contract ticket of Bob's past its deadline, a closed standard ticket.

    By tier: contract open 6 = at risk 2 (B1, U1) + overdue 2 (B2, C1) + not at risk 2 (B3, B4);
             paid priority open 2 (all not at risk); standard open 3.
             Total open 6 + 2 + 3 = 11, at risk 2, overdue 2, unassigned 3 (U1, U2, U3).
    By person: Alice (manager) 0; Bob open 5 (B1-B5), 1 waiting (B4), at risk 1, overdue 1;
               Carol open 2 (C1, C2), at risk 0, overdue 1; Frank open 1. Dave (no role, no
               tickets, no time) is not listed.

    Time (work dates; the week is Mon 10 to Sun 16 March):
      Bob    Mon 10: 90 min; Sun 9 (last week): 120 min, excluded; Wed 12 (today): 45 min
             -> week 90 + 45 = 135 min = 2.25 h, today 45 min = 0.75 h
      Carol  Wed 12: 300 min; Sun 9: 60 min, excluded -> week 300 min = 5.00 h, today 5.00 h
      All    135 + 300 = 435 min = 7.25 h
    """
    now = WEDNESDAY
    b1 = contract_ticket(due=now + HOUR, risk=now - HOUR, assignee=bob, subject="B1 at risk")
    b2 = contract_ticket(due=now - 2 * HOUR, risk=now - 3 * HOUR, assignee=bob, subject="B2")
    b3 = contract_ticket(due=now + 8 * HOUR, risk=now + 2 * HOUR, answered=True, assignee=bob)
    contract_ticket(
        due=now - 6 * HOUR,
        risk=now - 7 * HOUR,
        assignee=bob,
        status=TicketStatus.WAITING_ON_CLIENT,
        sla_paused_at=now - 8 * HOUR,
    )
    contract_ticket(due=now - dt.timedelta(minutes=1), risk=now - HOUR, assignee=carol)
    contract_ticket(due=now + 4 * HOUR, risk=now, answered=True)
    PaidPriorityTicketFactory(assignee=carol)
    PaidPriorityTicketFactory()
    TicketFactory(assignee=bob)
    TicketFactory()
    TicketFactory(assignee=frank)
    contract_ticket(
        due=now - DAY,
        risk=now - DAY - HOUR,
        assignee=bob,
        status=TicketStatus.RESOLVED,
        resolved_at=now - HOUR,
    )
    TicketFactory(assignee=carol, status=TicketStatus.CLOSED, closed_at=now - HOUR)

    for who, day, minutes in [
        (bob, MONDAY, 90),
        (bob, PREVIOUS_SUNDAY, 120),
        (bob, WEDNESDAY_DATE, 45),
        (carol, WEDNESDAY_DATE, 300),
        (carol, PREVIOUS_SUNDAY, 60),
    ]:
        TimeEntryFactory(ticket=b3, consultant=who, work_date=day, minutes=minutes)
    return Practice(
        at_risk=b1,
        overdue=b2,
        people={"alice": manager, "bob": bob, "carol": carol, "frank": frank},
    )
