"""A real `xiezuo worker` that also knows the test-only job kinds of tests/jobkinds.py.

python -m tests.jobworker worker [worker options]   # xiezuo worker, test kinds registered
python -m tests.jobworker enqueue KIND JSON         # queue a job as the system, print its id
"""

from __future__ import annotations

import json
import os
import sys


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiezuo.settings")
    import django

    django.setup()
    import tests.jobkinds  # noqa: F401  (registers the test kinds)
    from xiezuo.cli import main as xiezuo

    if argv[0] == "worker":
        return xiezuo(argv)
    if argv[0] == "enqueue":
        from django.contrib.auth.models import User

        from xiezuo.core.jobs import enqueue
        from xiezuo.core.scope import SYSTEM

        actor = User.objects.get(username=argv[3]) if len(argv) > 3 else SYSTEM
        print(enqueue(actor=actor, kind=argv[1], params=json.loads(argv[2]), via="cli").pk)
        return 0
    raise SystemExit(f"unknown command {argv[0]!r}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
