"""The ``socialclusters`` console command: Django's management commands under one name.

``socialclusters refdata load`` runs the ``refdata`` management command; hyphenated names
(``import-organisations``) map to the underscored command modules (``import_organisations``).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialclusters.config.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if args and "-" in args[0] and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["socialclusters", *args])
    except KeyboardInterrupt:
        print("Interrupted: nothing was committed by the running command.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
