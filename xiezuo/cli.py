"""The `xiezuo` command: nested subcommands dispatched to Django management commands (D12).

``xiezuo regions load --level village`` runs the command ``regions_load``; ``xiezuo demo`` runs
``demo``. Django's own commands keep their names behind ``xiezuo manage`` (``xiezuo manage
migrate``), so ``check``, ``test`` and ``shell`` mean what they mean in Django.
"""

from __future__ import annotations

import os
import sys

USAGE = """usage: xiezuo <command> [<subcommand>] [options]

commands:
  demo [--no-serve] [--force]      set up a demo system on SQLite and serve it on :8000
  serve [--host H] [--port N] [--dev]  serve the site under gunicorn (with a background worker);
                                    --dev: Django's development server
  check-deploy                      check the configuration for production (exit 1 on a problem)
  worker [--once]                   run background jobs
  regions load [--level L]          load the region tree and code history
  pairings load                     load the 2016 East-West pairing list
  codes load                        load the code lists
  users create ...                  create a user with grants
  import registry FILE ...          import the registry of registered poor people
  import monitoring FILE ...        import monitored households' help measures and risk removal
  import <ledger> FILE ...          import a cooperation ledger (placements, funds, projects ...)
  template registry|monitoring|<ledger> --out F.xlsx   write an import template
  synth registry|ledgers ...        synthetic, import-ready files (no real people)
  assess --year Y [--framework F] [--scope REGION] [--snapshot S] [--json | --out F.xlsx]
                                    the annual assessment (考核) of every pairing, both sides
  manage <django command> ...       any Django management command (migrate, shell, ...)

Run `xiezuo <command> [<subcommand>] --help` for the options of one command."""


def resolve(argv: list[str], known: set[str]) -> tuple[str, list[str]] | None:
    """Map the command line to a Django command name and its arguments.

    >>> resolve(["regions", "load", "--level", "village"], {"regions_load", "demo"})
    ('regions_load', ['--level', 'village'])
    >>> resolve(["demo", "--no-serve"], {"regions_load", "demo"})
    ('demo', ['--no-serve'])
    >>> resolve(["nope"], {"demo"}) is None
    True
    >>> resolve(["import", "placements", "f.xlsx"], {"import_registry", "import_ledger"})
    ('import_ledger', ['placements', 'f.xlsx'])
    >>> resolve(["check-deploy"], {"check_deploy"})
    ('check_deploy', [])
    """
    if argv and "-" in argv[0] and not argv[0].startswith("-"):
        argv = [argv[0].replace("-", "_"), *argv[1:]]
    if len(argv) >= 2 and f"{argv[0]}_{argv[1]}" in known:
        return f"{argv[0]}_{argv[1]}", argv[2:]
    if argv and argv[0] in known:
        return argv[0], argv[1:]
    if len(argv) >= 2 and f"{argv[0]}_ledger" in known and not argv[1].startswith("-"):
        # xiezuo import placements FILE → import_ledger placements FILE (one command per family)
        return f"{argv[0]}_ledger", argv[1:]
    return None


def _xiezuo_commands() -> set[str]:
    from django.core.management import get_commands

    return {name for name, app in get_commands().items() if app.startswith("xiezuo")}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0
    if args[0] == "--version":
        from xiezuo import __version__

        print(f"xiezuo {__version__}")
        return 0
    if args[0] == "demo":
        # The demo makes its own keys and serves its own static files.
        os.environ.setdefault("XIEZUO_DEMO", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiezuo.settings")
    from xiezuo.env import ConfigError

    try:
        return _run(args)
    except ConfigError as exc:
        # one line naming the setting, never a traceback
        print(f"xiezuo: {exc}", file=sys.stderr)
        # check-deploy reports a missing or malformed setting as a problem like any other
        return 1 if args[0] == "check-deploy" else 2


def _run(args: list[str]) -> int:
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    if args[0] == "manage":
        execute_from_command_line(["xiezuo manage", *args[1:]])
        return 0
    found = resolve(args, _xiezuo_commands())
    if found is None:
        print(f"xiezuo: unknown command {' '.join(args[:2])!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    name, rest = found
    execute_from_command_line([f"xiezuo {name.replace('_', ' ')}", name, *rest])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
