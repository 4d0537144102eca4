"""An accepted offer points at the contract it started (step 2 of the move out of contracts).

Until now the contract pointed at its offer (`ServiceContract.offer`), which made `contracts`
know about the app above it. The link is copied onto the offer here, in one statement each
way; contracts 0006 then drops the old column. The reverse name is "+" until that column is
gone (offers 0003 names it "offer"), so the two never meet in the migration state.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_link_to_offers(apps, schema_editor):
    contract_model = apps.get_model("contracts", "ServiceContract")
    offer_model = apps.get_model("offers", "ConversionOffer")
    contract_of = contract_model.objects.filter(offer_id=OuterRef("pk")).values("pk")[:1]
    accepted = contract_model.objects.filter(offer__isnull=False).values("offer_id")
    offer_model.objects.filter(pk__in=accepted).update(contract_id=Subquery(contract_of))
    _check_now(schema_editor)


def copy_link_to_contracts(apps, schema_editor):
    contract_model = apps.get_model("contracts", "ServiceContract")
    offer_model = apps.get_model("offers", "ConversionOffer")
    offer_of = offer_model.objects.filter(contract_id=OuterRef("pk")).values("pk")[:1]
    started = offer_model.objects.filter(contract__isnull=False).values("contract_id")
    contract_model.objects.filter(pk__in=started).update(offer_id=Subquery(offer_of))
    _check_now(schema_editor)


def _check_now(schema_editor):
    # PostgreSQL defers foreign-key checks to the commit and refuses to alter a table with
    # checks pending; the reverse drops a column right after this copy. Check them now.
    schema_editor.connection.check_constraints()


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0005_client_history_backfill"),
        ("offers", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversionoffer",
            name="contract",
            field=models.OneToOneField(
                blank=True,
                help_text="The contract the client started by accepting this offer.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="contracts.servicecontract",
            ),
        ),
        migrations.RunPython(copy_link_to_offers, copy_link_to_contracts),
    ]
