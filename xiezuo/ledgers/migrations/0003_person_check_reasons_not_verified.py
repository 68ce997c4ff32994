"""Checks stored before ADR 0016 told "outside the helped area" or "not in the registry": both
become "not verified", as new checks are told (no registry oracle). One set-based UPDATE."""

from typing import Any

from django.db import migrations


def forwards(apps: Any, schema_editor: Any) -> None:
    PersonCheck = apps.get_model("ledgers", "PersonCheck")
    PersonCheck.objects.filter(reason__in=["outside_area", "not_registered"]).update(reason="not_verified")


class Migration(migrations.Migration):
    dependencies = [("ledgers", "0002_person_hmac_byte_order")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
