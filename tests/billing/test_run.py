"""The monthly run: each contract's fee (prorated by day) and overage, posted once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django_celery_beat.models import PeriodicTask

from billing.invoicing import invoices_issue
from billing.models import BillingRun, ContractPeriod, RunTrigger
from billing.periods import Period
from billing.run import billing_run, periods_due
from billing.services import BillingError
from billing.tasks import billing_run_task
from clients.models import Charge, ChargeKind
from consultancy.celery import app
from contracts.services import contract_cancel, contract_renew, contract_start
from tests.billing.conftest import FEBRUARY, contract, log
from tests.threads import at_once

pytestmark = pytest.mark.django_db


def fees(kind: str = ChargeKind.CONTRACT_FEE) -> dict[str, Decimal]:
    return {
        c.client.name: c.amount for c in Charge.objects.filter(kind=kind).select_related("client")
    }


def test_the_run_posts_each_fee_prorated_by_day_and_the_overage(practice: dict[str, Any]) -> None:
    result = billing_run(period=FEBRUARY)

    full, joined, left = (practice[k].client.name for k in ("full", "joined", "left"))
    assert fees() == {full: Decimal("600.00"), joined: Decimal("280.00"), left: Decimal("160.71")}
    # 720 min worked against 600 included: 120 min at $100/h.
    assert fees(ChargeKind.OVERAGE) == {full: Decimal("200.00")}
    assert (result.contracts, result.fees, result.overage) == (
        3,
        Decimal("1040.71"),
        Decimal("200.00"),
    )
    fee = Charge.objects.get(kind=ChargeKind.CONTRACT_FEE, client=practice["joined"].client)
    plan = practice["joined"].plan.name
    assert fee.description == f"{plan} contract, 15 to 28 February 2025: 14 of 28 days"
    assert fee.rate == Decimal("560.00")
    overage = Charge.objects.get(kind=ChargeKind.OVERAGE)
    assert (overage.hours, overage.rate) == (Decimal("2.00"), Decimal("100.00"))
    period = ContractPeriod.objects.get(contract=practice["joined"])
    assert (period.days_covered, period.included_minutes) == (14, 240)
    run = BillingRun.objects.get()
    assert (run.contracts_billed, run.fees_total, run.overage_total) == (
        3,
        Decimal("1040.71"),
        Decimal("200.00"),
    )
    assert run.finished_at is not None


def test_a_second_run_of_the_period_posts_nothing(practice: dict[str, Any]) -> None:
    billing_run(period=FEBRUARY)

    again = billing_run(period=FEBRUARY)

    assert (again.contracts, again.total) == (0, 0)
    assert Charge.objects.filter(kind=ChargeKind.CONTRACT_FEE).count() == 3
    assert ContractPeriod.objects.count() == 3


def test_a_dry_run_reports_the_same_and_writes_nothing(practice: dict[str, Any]) -> None:
    dry = billing_run(period=FEBRUARY, dry_run=True)

    assert (dry.contracts, dry.fees, dry.overage) == (3, Decimal("1040.71"), Decimal("200.00"))
    assert not Charge.objects.filter(kind=ChargeKind.CONTRACT_FEE).exists()
    assert not BillingRun.objects.exists()
    assert not ContractPeriod.objects.exists()


@pytest.mark.parametrize("period", [Period(2025, 3), Period(2025, 4), Period(2030, 1)])
def test_a_month_that_has_not_ended_cannot_be_billed(now: dt.datetime, period: Period) -> None:
    with pytest.raises(BillingError, match="has not ended yet"):
        billing_run(period=period)

    assert not BillingRun.objects.exists()


def test_a_month_no_contract_covers_says_so_and_leaves_no_trace(now: dt.datetime) -> None:
    contract("600.00", "10", starts_on=dt.date(2025, 3, 1))

    for period in (FEBRUARY, Period(1999, 1)):
        result = billing_run(period=period)
        assert result.summary == f"No contract covers {period.label}: there is nothing to post."

    assert not Charge.objects.exists()
    assert not BillingRun.objects.exists()


def test_a_month_before_the_rate_cards_bill_from_is_refused(
    practice: dict[str, Any], rate_card: Any
) -> None:
    rate_card.bills_from = dt.date(2025, 3, 1)
    rate_card.save()

    with pytest.raises(BillingError, match="before March 2025, the first month billed here"):
        billing_run(period=FEBRUARY)

    assert not BillingRun.objects.exists()


def test_a_contract_cancelled_before_it_began_is_never_billed_nor_blocks_invoicing(
    now: dt.datetime, time_machine: Any
) -> None:
    never = contract("600.00", "10", starts_on=dt.date(2025, 2, 20))
    time_machine.move_to(dt.datetime(2025, 2, 10, 17, 0, tzinfo=dt.UTC), tick=False)
    contract_cancel(contract=never, reason="Changed their mind")
    time_machine.move_to(now, tick=False)
    contract("300.00", "4", starts_on=dt.date(2025, 1, 1))

    assert billing_run(period=FEBRUARY).contracts == 1
    assert invoices_issue(period=FEBRUARY) == 1


def test_a_term_cancelled_and_restarted_the_same_day_is_not_billed_for_it_twice(
    now: dt.datetime, time_machine: Any
) -> None:
    old = contract("280.00", "10", starts_on=dt.date(2024, 6, 1))
    time_machine.move_to(dt.datetime(2025, 2, 10, 17, 0, tzinfo=dt.UTC), tick=False)
    contract_cancel(contract=old, reason="Moving to the bigger plan")
    contract_start(client=old.client, plan=old.plan, discount_percent=Decimal(0))
    time_machine.move_to(now, tick=False)

    billing_run(period=FEBRUARY)

    # 1 to 9 February on the old term, 10 to 28 on the new: 90.00 + 190.00, the month's price.
    amounts = Charge.objects.filter(kind=ChargeKind.CONTRACT_FEE).values_list("amount", flat=True)
    assert sorted(amounts) == [Decimal("90.00"), Decimal("190.00")]


def test_a_renewal_inside_the_month_bills_each_term_its_days(now: dt.datetime) -> None:
    old = contract("620.00", "10", starts_on=dt.date(2024, 2, 12))
    old.ends_on = dt.date(2025, 2, 11)
    old.save()

    contract_renew(contract=old)

    billing_run(period=FEBRUARY)

    # 11 days of the old term and 17 of the new: 620*11/28 = 243.57, 620*17/28 = 376.43.
    amounts = sorted(
        Charge.objects.filter(kind=ChargeKind.CONTRACT_FEE).values_list("amount", flat=True)
    )
    assert amounts == [Decimal("243.57"), Decimal("376.43")]
    assert sum(amounts) == Decimal("620.00")


def test_time_logged_for_a_month_already_billed_is_charged_at_once(
    practice: dict[str, Any], consultant: User
) -> None:
    billing_run(period=FEBRUARY)

    late = log(practice["full"].client, consultant, 30, dt.date(2025, 2, 27))

    assert (late.covered_minutes, late.billable_minutes) == (0, 30)
    assert late.charge.kind == ChargeKind.OVERAGE
    assert late.charge.amount == Decimal("50.00")
    assert late.charge.rate == Decimal("100.00")
    # ... and a later run does not charge it again.
    assert billing_run(period=FEBRUARY).overage == 0


def test_overage_charged_one_entry_at_a_time_before_runs_existed_is_not_charged_again(
    practice: dict[str, Any], consultant: User
) -> None:
    entry = practice["full"].time_entries.get(minutes=240)
    entry.charge = Charge.objects.create(
        client=practice["full"].client, kind=ChargeKind.OVERAGE, amount=Decimal("200.00")
    )
    entry.save()

    billing_run(period=FEBRUARY)

    assert list(
        Charge.objects.filter(kind=ChargeKind.OVERAGE).values_list("amount", flat=True)
    ) == [Decimal("200.00")]


# --- The schedule --------------------------------------------------------------------------------
def test_the_first_scheduled_run_bills_last_month_only(practice: dict[str, Any]) -> None:
    # The contracts ran since 2024; the practice starts billing here with last month.
    assert periods_due() == [FEBRUARY]


def test_a_month_the_worker_missed_is_billed_by_the_next_run(practice: dict[str, Any]) -> None:
    billing_run(period=Period(2024, 12), trigger=RunTrigger.SCHEDULE)

    assert billing_run_task() == ["2025-01", "2025-02"]

    assert set(BillingRun.objects.values_list("period", flat=True)) == {
        dt.date(2024, 12, 1),
        dt.date(2025, 1, 1),
        dt.date(2025, 2, 1),
    }
    # January: the full-month contract and the one cancelled in February.
    assert ContractPeriod.objects.filter(period=dt.date(2025, 1, 1)).count() == 2
    assert billing_run_task() == []


def test_a_term_backdated_into_a_billed_month_is_billed_by_the_next_run(
    practice: dict[str, Any],
) -> None:
    billing_run(period=FEBRUARY)
    late = contract("450.00", "4", starts_on=dt.date(2025, 2, 1))

    assert billing_run_task() == ["2025-02"]

    assert Charge.objects.get(kind=ChargeKind.CONTRACT_FEE, client=late.client).amount == Decimal(
        "450.00"
    )


def test_a_month_that_fails_is_logged_and_the_next_months_still_run(
    practice: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    billing_run(period=Period(2024, 12), trigger=RunTrigger.SCHEDULE)
    real = billing_run

    def fail_january(*, period: Period, **kwargs: Any) -> Any:
        if period == Period(2025, 1):
            raise BillingError("the database said no")
        return real(period=period, **kwargs)

    monkeypatch.setattr("billing.tasks.billing_run", fail_january)

    assert billing_run_task() == ["2025-02"]
    assert "The billing run for 2025-01 did not complete: the database said no" in caplog.text


# --- The command ---------------------------------------------------------------------------------
def test_the_command_bills_a_period_and_says_what_it_posted(
    practice: dict[str, Any], capsys: Any
) -> None:
    call_command("run_billing", "--period", "2025-02")

    out = capsys.readouterr().out
    assert "February 2025: posted 3 contract(s): fees $1,040.71, overage $200.00" in out
    call_command("run_billing", "--period", "2025-02")
    assert "Nothing new to post for February 2025" in capsys.readouterr().out
    assert BillingRun.objects.count() == 1  # the second run left no trace
    assert Charge.objects.filter(kind=ChargeKind.CONTRACT_FEE).count() == 3


def test_the_command_dry_run_lists_the_contracts_and_posts_nothing(
    practice: dict[str, Any], capsys: Any
) -> None:
    call_command("run_billing", "--period", "2025-02", "--dry-run")

    out = capsys.readouterr().out
    assert "would post 3 contract(s)" in out
    assert "Dry run: nothing was posted." in out
    assert not Charge.objects.filter(kind=ChargeKind.CONTRACT_FEE).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2025-13"], "not a month"),
        (["--period", "Feb"], "not a month"),
        (["--period", "2025-03"], "has not ended yet"),
        (["--dry-run", "--issue"], "cannot --issue"),
    ],
)
def test_the_command_refuses_bad_input_and_changes_nothing(
    now: dt.datetime, args: list[str], message: str
) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("run_billing", *args)

    assert not BillingRun.objects.exists()


# --- Two runs at once (PostgreSQL) ----------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_run_outside_any_transaction_takes_its_own(
    practice: dict[str, Any], dry_run: bool
) -> None:
    # Its row locks need a transaction: the command and the task call it in autocommit.
    assert billing_run(period=FEBRUARY, dry_run=dry_run).contracts == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_post_each_fee_once(practice: dict[str, Any]) -> None:
    _, errors = at_once(lambda: billing_run(period=FEBRUARY), lambda: billing_run(period=FEBRUARY))

    assert errors == []
    assert Charge.objects.filter(kind=ChargeKind.CONTRACT_FEE).count() == 3
    assert Charge.objects.filter(kind=ChargeKind.OVERAGE).count() == 1
    assert ContractPeriod.objects.count() == 3
    # Between them the two runs billed each contract once.
    assert sum(BillingRun.objects.values_list("contracts_billed", flat=True)) == 3


def test_the_monthly_run_is_on_the_beat_schedule_at_six_on_the_first(db: None) -> None:
    task = PeriodicTask.objects.select_related("crontab").get(name="Monthly billing run")
    assert task.task in app.tasks
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_month) == ("0", "6", "1")
    assert task.enabled


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_time_logged_while_the_run_bills_its_month_is_charged_exactly_once(
    practice: dict[str, Any], consultant: User
) -> None:
    # 720 min worked against 600 included; 60 more logged while the run posts February. In
    # either order the month's overage is 180 min at $100/h: in the run's charge, or split
    # between the run's and the late entry's own.
    _, errors = at_once(
        lambda: billing_run(period=FEBRUARY),
        lambda: log(practice["full"].client, consultant, 60, dt.date(2025, 2, 27)),
    )

    assert errors == []
    overage = Charge.objects.filter(kind=ChargeKind.OVERAGE, client=practice["full"].client)
    assert sum(c.amount for c in overage) == Decimal("300.00")
    assert sum(c.hours for c in overage) == Decimal("3.00")
