"""Import and export of 1EdTech OneRoster v1.2 CSV Binding zips, in regie's Dutch profile.

The spec: *1EdTech OneRoster v1.2 CSV Binding*, §2 "CSV Overview" (the zip, ``manifest.csv``,
bulk and delta processing, multi-value fields, ``metadata.*`` extension columns) and §3 "CSV
Format" (the files and their columns). :func:`parse_oneroster` validates a whole zip and returns a
:class:`RosterExport` holding every problem it found (capped at :data:`MAX_PROBLEMS`);
:func:`write_oneroster` writes a bulk zip that :func:`parse_oneroster` reads back equal.

Container (§2): ``manifest.csv`` (``propertyName,value``) is required, with ``manifest.version``
1.0 and ``oneroster.version`` 1.2, and ``file.<name>`` = ``bulk`` | ``delta`` | ``absent``. A file
in the zip that the manifest does not list is a problem; so is a listed file that is missing. If
every file is bulk, the export is bulk (``delta=False``); one delta file makes it a delta.
Reference checks: a reference into a bulk file (or, in a bulk export, an absent one) must
resolve; a reference into a delta or absent file of a delta export may point at what the hub
already holds and is not checked. Because ``group_keys``, ``birth_date`` and ``gender`` live on
the user's record, an enrollment or demographics row always needs its user in ``users.csv``.

Rows (§2, §3): each file's required columns must be in the header; a column that is neither
OneRoster 1.2 nor a ``metadata.*`` extension is a problem. The reader is lenient where nothing is
lost: columns may come in any order and a file may have no data rows. (The writer follows the
binding strictly: all columns in order, blank status in bulk, files without rows left out.)
``status`` is empty or ``active`` in bulk files, ``active`` or ``tobedeleted`` (with
``dateLastModified``) in delta files; a ``tobedeleted`` row puts its key in
``export.deleted[kind]`` (kinds ``schools``, ``school_years``, ``groups``, ``students``,
``guardians``, ``staff``; deleted enrollments are simply not listed in the user's ``group_keys``).
Duplicate ``sourcedId``s, bad dates and dangling references are problems. Line numbers are physical
lines; the header is line 1.

Mapping (regie's Dutch profile):

- ``orgs.csv``: ``type=school`` → :class:`SchoolRecord`: ``identifier`` is BRIN + optional
  vestiging (``check_brin``), extension ``metadata.sector`` is PO/VO/MBO/HO or empty. Other org
  types (a ``district`` is the board) are accepted and not imported; ``parentSourcedId`` must
  resolve.
- ``academicSessions.csv``: ``type=schoolYear`` → :class:`SchoolYearRecord`. Terms, semesters
  and grading periods are followed up their ``parentSourcedId`` to the school year of a class.
- ``classes.csv``: ``classType`` homeroom → :attr:`GroupKind.GROUP`, scheduled → ``COMPOSITE``;
  the first ``grades`` value is the year level; ``termSourcedIds`` gives the school year.
  ``courseSourcedId`` is optional (regie does not read ``courses.csv``).
- ``users.csv``: regie's profile keeps the ``role`` and ``orgSourcedIds`` columns of v1.1 (a
  ``roles.csv`` is not read). ``student`` → :class:`StudentRecord`; ``teacher`` → staff with
  role teacher; ``administrator``, ``principal``, ``siteAdministrator`` → school admin;
  ``districtAdministrator`` → board admin; ``counselor`` → care coordinator; ``parent``,
  ``guardian``, ``relative`` → :class:`GuardianRecord` with that relation; ``aide``, ``proctor``
  and ``systemAdministrator`` are not imported. Names: ``givenName`` → voornamen,
  ``preferredGivenName`` → roepnaam (else the first given name), ``middleName`` → voorvoegsel
  (tussenvoegsel), ``familyName`` → achternaam. ``userIds`` ``{eckid:…}`` → ECK iD (checked
  with ``check_eck_id``, as EDEXML's); ``{pgn:…}``, ``{bsn:…}`` or ``{onderwijsnummer:…}`` → PGN
  (at most one, checked with the 11-proef of its kind; one PGN per pupil of the export).
  ``agentSourcedIds`` link pupils and guardians, from either side. ``primaryOrgSourcedId``
  (else the first ``orgSourcedIds``) is the school. Extension ``metadata.regie.roles``, when
  not empty, lists all of a staff member's roles as space-separated :class:`StaffRole` values
  (and replaces the hub's); without it a row gives only the role its ``role`` names, and says
  whether the member teaches (:mod:`regie.roster.importing.plan.roles`).
- ``enrollments.csv``: ``role=student`` → the pupil's ``group_keys`` (a class of their own
  school only); ``teacher`` → the staff member's ``group_keys``; other roles are not imported.
- ``demographics.csv``: ``birthDate`` → birth date; ``sex`` male/female/other/unspecified →
  :class:`Gender` M/V/X/"".

Every value is checked against the database column it is written to
(:mod:`regie.roster.importing.fields`) and a birth date may not lie in the future. No problem ever
holds a value from the file (a PGN least of all): only file, line, field, reason.

The package: :mod:`.columns` (the binding's vocabulary and the files' columns), :mod:`.reader`
(the container and the checks on every row), :mod:`.mapping` (regie's profile, and
:func:`parse_oneroster`) and :mod:`.writer` (:func:`write_oneroster`).
"""

from __future__ import annotations

from .mapping import parse_oneroster
from .reader import MAX_PROBLEMS, SOURCE_FORMAT
from .writer import write_oneroster

__all__ = ["MAX_PROBLEMS", "SOURCE_FORMAT", "parse_oneroster", "write_oneroster"]
