"""xiezuo import monitoring FILE [--dry-run] [--errors OUT] [--json] [--user U]

Import the monitoring sheet (监测对象帮扶措施): help measures of monitored households with their
dates, risk types and the removal of risks.
"""

from __future__ import annotations

from xiezuo.core.imports.command import ImportCommand


class Command(ImportCommand):
    help = "Import help measures and risk removal of monitored households (CSV, XLSX, XLS or a zip)."
    kind_key = "monitoring"
