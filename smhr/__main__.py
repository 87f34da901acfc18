"""``python -m smhr`` is the same as the ``smhr`` command."""

from smhr.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
