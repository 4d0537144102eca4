"""Conversion: are offers turning clients into contract clients?

The funnel of the offers sent in the window, per campaign run and per kind and source: sent,
opened, accepted, declined, expired; the conversion rate, the monthly recurring revenue the
accepted offers won, and the median days from sending to acceptance. Five queries whatever the
number of offers: the funnel per run, the funnel per kind and source, and one median query for
each of runs, kinds and sources, and the whole window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from clients.figures import Cell, Chart, Money, Percent, Section, Series, Table
from clients.money import cents
from insights.window import Window as Months
from offers.models import (
    CampaignRun,
    CampaignTrigger,
    ConversionOffer,
    OfferKind,
    OfferSource,
    OfferStatus,
)

COLUMNS = (
    "Offered (sent)",
    "Opened the page",
    "Accepted",
    "Declined",
    "Expired",
    "Conversion rate",
    "Recurring revenue won (MRR)",
    "Median days to accept",
)
KIND_WORDS = {OfferKind.SAVINGS: "Savings", OfferKind.VALUE: "Value"}
SOURCE_WORDS = {
    OfferSource.CAMPAIGN: "campaign",
    OfferSource.MOMENT: "moment of need",
    OfferSource.MANUAL: "manual",
}
ONE_DAY_US = Decimal(86_400_000_000)  # microseconds
TENTH = Decimal("0.1")
# The names funnel() gives its figures.
FUNNEL = ("offered", "opened", "accepted", "declined", "expired", "won")


def funnel(prefix: str = "") -> dict[str, Any]:
    """The funnel's aggregates over offers (reached through `prefix`, e.g. "offers__").

    Only sent offers count: one made but never sent (or refused by the mail server) was not
    offered to anyone, so every later stage is a part of "offered".
    """

    def where(**lookups: object) -> Q:
        return Q(**{f"{prefix}sent_at__isnull": False}) & Q(
            **{f"{prefix}{name}": value for name, value in lookups.items()}
        )

    def count(**lookups: object) -> Count:
        return Count(f"{prefix}id", filter=where(**lookups))

    return {
        "offered": count(),
        "opened": count(opened_at__isnull=False),
        "accepted": count(status=OfferStatus.ACCEPTED),
        "declined": count(status=OfferStatus.DECLINED),
        "expired": count(status=OfferStatus.EXPIRED),
        "won": Sum(f"{prefix}monthly_price", filter=where(status=OfferStatus.ACCEPTED)),
    }


def median_days(accepted: QuerySet[ConversionOffer], *keys: str) -> dict[Hashable, Decimal]:
    """The median days from sending to acceptance of each group of accepted offers, in one query.

    SQLite has no median aggregate, so both databases rank each group's offers by the time they
    took (window functions) and return the middle one or two of each group: rank r of n is a
    middle one when n <= 2r <= n + 2 (r = 3 of 5; r = 2 and 3 of 4). At most two rows per group
    reach Python, whatever the number of offers. Key: the group's values (a tuple for several
    keys, the value for one, None for no key: the whole set).
    """
    partition = [F(key) for key in keys] or None
    middles = (
        accepted.annotate(took=F("responded_at") - F("sent_at"))
        .annotate(
            rank=Window(RowNumber(), partition_by=partition, order_by=[F("took"), F("id")]),
            size=Window(Count("id"), partition_by=partition),
        )
        .annotate(twice=F("rank") * 2)
        .filter(twice__gte=F("size"), twice__lte=F("size") + 2)
        .values_list(*keys, "took")
    )
    groups: dict[Hashable, list[dt.timedelta]] = {}
    for *key, took in middles:
        group = None if not keys else key[0] if len(keys) == 1 else tuple(key)
        groups.setdefault(group, []).append(took)
    return {
        group: (
            Decimal(sum(took, dt.timedelta()) // dt.timedelta(microseconds=1))
            / len(took)
            / ONE_DAY_US
        ).quantize(TENTH)
        for group, took in groups.items()
    }


def share(part: int, whole: int) -> Percent:
    """part of whole in percent; a dash when there is no whole."""
    if not whole:
        return Percent(None)
    return Percent((Decimal(part) * 100 / whole).quantize(TENTH))


def _cells(row: dict[str, Any], median: Decimal | None) -> list[Cell]:
    return [
        row["offered"],
        row["opened"],
        row["accepted"],
        row["declined"],
        row["expired"],
        share(row["accepted"], row["offered"]),
        Money(cents(row["won"] or 0)),
        median,
    ]


def _accepted(offers: QuerySet[ConversionOffer]) -> QuerySet[ConversionOffer]:
    return offers.filter(status=OfferStatus.ACCEPTED, sent_at__isnull=False).order_by()


def build(window: Months, now: dt.datetime) -> Section:
    starts, ends = window.starts_at(), window.ends_at(now)
    in_window = ConversionOffer.objects.filter(created_at__gte=starts, created_at__lt=ends)

    # Overall: the offers made in the window, by kind and source (at most six groups).
    by_group = {
        (row["kind"], row["source"]): row
        for row in in_window.values("kind", "source").annotate(**funnel()).order_by()
    }
    group_medians = median_days(_accepted(in_window), "kind", "source")
    overall_median = median_days(_accepted(in_window)).get(None)
    total = {name: sum((row[name] or 0 for row in by_group.values()), 0) for name in FUNNEL}
    overall = Table(
        slug="funnel",
        caption="Offers made in the window, by kind and source",
        columns=("Kind · source", *COLUMNS),
        rows=[
            [
                f"{KIND_WORDS[kind]} · {SOURCE_WORDS[source]}",
                *_cells(by_group[kind, source], group_medians.get((kind, source))),
            ]
            for kind in OfferKind
            for source in OfferSource
            if (kind, source) in by_group and by_group[kind, source]["offered"]
        ],
        chart=Chart(
            kind="bar", series=tuple(Series(column) for column in range(1, 6)), y_label="Offers"
        ),
        empty="No offer was sent in this period.",
    )
    if overall.rows:
        overall.rows.append(["All offers", *_cells(total, overall_median)])

    # Per campaign run started in the window, newest first: all of the run's offers.
    runs_in_window = CampaignRun.objects.filter(started_at__gte=starts, started_at__lt=ends)
    runs = (
        runs_in_window.annotate(**funnel("offers__"))
        .order_by("-started_at", "-id")
        .values("id", "started_at", "trigger", *FUNNEL)
    )
    # The runs a subquery, not a list: the medians stay one query however many runs there were.
    run_offers = ConversionOffer.objects.filter(campaign_run__in=runs_in_window.values("id"))
    run_medians = median_days(_accepted(run_offers), "campaign_run_id")
    per_run = Table(
        slug="runs",
        caption="Campaign runs started in the window, newest first",
        columns=("Campaign run", *COLUMNS),
        rows=[
            [
                f"{timezone.localtime(run['started_at']):%Y-%m-%d %H:%M} "
                f"({CampaignTrigger(run['trigger']).label.lower()})",
                *_cells(run, run_medians.get(run["id"])),
            ]
            for run in runs
        ],
        empty="No campaign ran in this period.",
    )
    return Section(
        slug="conversion",
        title="Conversion",
        lead="Offers sent in the window and how clients answered them. The conversion rate is "
        "accepted over offered; an offer still open counts as offered only. Recurring revenue "
        "won is the monthly price of the accepted offers; days to accept run from sending to "
        "the client's acceptance.",
        headline=[
            ("Offers sent", total["offered"]),
            ("Accepted", total["accepted"]),
            ("Conversion rate", share(total["accepted"], total["offered"])),
            ("Recurring revenue won", Money(cents(total["won"] or 0))),
            ("Median days to accept", overall_median),
        ],
        tables=[overall, per_run],
    )
