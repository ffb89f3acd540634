"""``python -m socialclusters.manage`` — the same as the ``socialclusters`` command."""

from socialclusters.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
