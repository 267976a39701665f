"""``python -m core ...``: the ``tenantry`` command line without the console script."""

from core.cli import main

if __name__ == "__main__":
    main()
