"""``python -m benchmarks.oneroster``."""

from . import main

main()
