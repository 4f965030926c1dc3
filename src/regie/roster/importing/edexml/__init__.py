"""EDEXML import and export: the XML in which Dutch LAS products export a school's roster.

EDEXML is Edustandaard's exchange format for pupil and group data ("EDEXML 2.x", the XML of the
UWLR afspraak, "Uitwisseling Leerlinggegevens"). One file describes one school (one BRIN plus
dependance) in one school year. regie reads this subset of it, matching local names so that a file
works with or without a namespace, and ignores every other element:

- ``school``: ``schooljaar`` (``YYYY-YYYY``), ``brincode``, ``dependancecode`` (``00`` or absent:
  no vestiging), ``schoolnaam`` and ``sector`` (optional; ``sector`` is a regie extension).
- ``groepen/groep[@key]`` and ``samengestelde_groepen/samengestelde_groep[@key]``: ``naam``,
  ``jaargroep``.
- ``leerlingen/leerling[@key, @eckid]``: ``achternaam``, ``voorvoegsel``, ``roepnaam``,
  ``voornamen``, ``geboortedatum``, ``geslacht`` (1 man, 2 vrouw, 0/9 onbekend, X), ``jaargroep``,
  the PGN as ``bsn`` or ``onderwijsnummer`` (EDEXML 2.x) or ``bsn_ondwnr`` (either; what regie
  writes), at most one of them, ``groep[@key]`` and
  ``samengestelde_groepen/samengestelde_groep[@key]``. (``bsn_ondwnr-4``, the last four digits
  only, is not read.)
- ``leerkrachten/leerkracht[@key]``: ``achternaam``, ``voorvoegsel``, ``roepnaam``, ``voornamen``,
  ``emailadres`` and ``groepen/(groep|samengestelde_groep)[@key]``.

EDEXML has no guardians. The parser streams (expat through defusedxml, one record in memory at a
time), refuses DTDs and entities, and reports content problems by file, line, field and reason,
never with a value from the file.

The package: :mod:`.vocabulary` (names and codes shared by reading and writing), :mod:`.reader`
(expat's events → records), :mod:`.source` (the bytes: size, encoding, :func:`parse_edexml`) and
:mod:`.writer` (:func:`write_edexml`).
"""

from __future__ import annotations

from .source import parse_edexml
from .vocabulary import MAX_PROBLEMS, MAX_RECORD_ELEMENTS, MAX_VALUE_CHARACTERS, SOURCE_FORMAT
from .writer import write_edexml

__all__ = [
    "MAX_PROBLEMS",
    "MAX_RECORD_ELEMENTS",
    "MAX_VALUE_CHARACTERS",
    "SOURCE_FORMAT",
    "parse_edexml",
    "write_edexml",
]
