"""The ``regie`` console command: a thin wrapper over Django's manage.py.

Every operation is a management command (``regie help`` lists them): ``regie demo``,
``regie serve --role nummervoorziening``, ``regie worker``, ``regie nv-keys``, ``regie nv-client``,
``regie hash-pgns``, ``regie openapi``, ``regie docs``.

``regie witness`` is the exception: the transparency-log witness (:mod:`regie.audit.witness`),
which other organisations run without the hub, so it starts without Django; ``regie help`` lists it
after Django's commands.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["witness"]:
        from regie.audit.witness import main as witness_main

        sys.exit(witness_main(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regie.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")  # `regie nv-keys` runs the nv_keys command
    execute_from_command_line(argv)
    if argv[1:] == ["help"]:
        print("\n[regie, zonder Django / without Django]\n    witness")


if __name__ == "__main__":
    main()
