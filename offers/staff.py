"""Who makes and withdraws offers by hand: the permission the admin's "Send a contract offer
now" and the client page's button ask for (managers hold it)."""

from __future__ import annotations

SEND_OFFERS = "offers.change_conversionoffer"
