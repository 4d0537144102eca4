"""The conversion engine leaves contracts (step 3 of 4; see offers 0001).

The contract no longer points at its offer (offers 0002 copied the link onto the offer), and
the campaign settings, runs and offers leave this app's state: their tables stay as they are
until offers 0003 renames them.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0005_client_history_backfill"),
        ("offers", "0002_offer_contract"),
    ]

    operations = [
        migrations.RemoveField(model_name="servicecontract", name="offer"),
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="ConversionOffer"),
                migrations.DeleteModel(name="CampaignRun"),
                migrations.DeleteModel(name="CampaignSettings"),
            ],
        ),
    ]
