"""The top floor: the commands that wire every app together (DESIGN §5, docs/architecture.md).

``regie serve`` and ``regie worker`` run the hub and the number service, ``regie demo`` sets up
and serves the embedded demo with its demo suppliers, ``regie openapi`` and ``regie docs`` write
the generated reference files. Nothing imports this app; it may import every other one.
"""
