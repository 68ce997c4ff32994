"""Consumption assistance (消费扶贫/消费帮扶) ledger: purchases of products from helped areas (issue #4).

Entered by the helper side, whose canteens, unions, markets and firms are the buyers; the
helped side may confirm or dispute a purchase (its commerce office knows what its sellers sold),
but a purchase counts without it (see ``xiezuo.consumption.ledgers``). Money is fen (D4).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from xiezuo.ledgers.models import LedgerRecord
from xiezuo.pairings.models import Organisation


class Purchase(LedgerRecord):
    """One purchase of a product from the helped area (消费帮扶采购).

    ``product`` and ``category`` (code list product_category) say what was bought,
    ``certificate_no`` is its 扶贫产品 certification number where it has one, ``origin_code`` the
    helped-side region it comes from, ``buyer`` who bought it, ``channel`` (code list
    purchase_channel) how, ``amount_fen`` for how much and ``purchased_on`` when.
    ``evidence_by`` (code list evidence_party: buyer, seller or platform) and ``evidence_ref``
    (invoice, order or contract number) say what proves it.
    """

    product = models.CharField(max_length=200)
    category = models.CharField(max_length=24)
    certificate_no = models.CharField(max_length=64, blank=True)
    origin_code = models.BigIntegerField()
    buyer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=24)
    amount_fen = models.BigIntegerField()
    purchased_on = models.DateField()
    evidence_by = models.CharField(max_length=12)
    evidence_ref = models.CharField(max_length=100)

    class Meta(LedgerRecord.Meta):
        verbose_name = "消费帮扶采购"
        constraints = [
            *LedgerRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(amount_fen__gte=0), name="%(app_label)s_%(class)s_amount_nonneg"
            ),
        ]
        indexes = [
            *LedgerRecord.Meta.indexes,
            models.Index(fields=["pairing", "year", "channel"], name="%(app_label)s_%(class)s_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.purchased_on} {self.product}"
