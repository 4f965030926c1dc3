"""``python -m benchmarks.sso``: the benchmark, or one of its children."""

from . import main

main()
