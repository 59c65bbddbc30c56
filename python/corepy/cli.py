"""The ``corepy`` command: ``corepy sql "…"`` and ``corepy gen tpch …``.

The command line is implemented in Rust (``corepy_sql::cli``); this is its entry point.
"""

from __future__ import annotations

import sys

from corepy import _core


def main(argv: list[str] | None = None) -> int:
    """Runs the command line and returns its exit code (0 ok, 1 error, 2 usage, 130 Ctrl-C)."""
    args = list(sys.argv if argv is None else ["corepy", *argv])
    sys.stdout.flush()
    code = int(_core.run_cli(args))
    if argv is None:
        sys.exit(code)
    return code


if __name__ == "__main__":
    main()
