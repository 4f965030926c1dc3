"""Importing a LAS export: parse a file into records, validate it whole, then apply it as a diff.

- :mod:`.records` — the format-independent records every parser produces.
- :mod:`.oneroster` — 1EdTech OneRoster 1.2 CSV (a zip).
- :mod:`.edexml` — EDEXML/UWLR-style XML as Dutch LAS products export it.
- :mod:`.files` — reading an upload safely: size limit, zip checks, encoding detection.
"""
