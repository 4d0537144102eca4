"""The figures' HTML and CSV forms: every value escaped on the page, bare in the CSV."""

from __future__ import annotations

from decimal import Decimal

from clients.figures import Link, Money, Percent, Table


def test_rows_escape_every_value_and_keep_links() -> None:
    table = Table(
        slug="t",
        caption="c",
        columns=("Client", "Spend", "Share", "Tickets"),
        rows=[
            ('<script>alert("x")</script>', Money(Decimal("1234.50")), Percent(None), 3),
            (Link("A & B <i>", "/x/?a=1&b=2"), None, Percent(Decimal("61.24")), 0),
        ],
    )

    assert table.html_rows() == (
        '<tr><th scope="row" class="fw-normal">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'
        '</th><td class="text-end">$1,234.50</td><td class="text-end">\N{EN DASH}</td>'
        '<td class="text-end">3</td></tr>'
        '<tr><th scope="row" class="fw-normal"><a href="/x/?a=1&amp;b=2">A &amp; B &lt;i&gt;</a>'
        '</th><td class="text-end"></td><td class="text-end">61.2%</td>'
        '<td class="text-end">0</td></tr>'
    )
    assert table.csv() == (
        "Client,Spend,Share,Tickets\r\n"
        '"<script>alert(""x"")</script>",1234.50,,3\r\n'
        "A & B <i>,,61.2,0\r\n"
    )
