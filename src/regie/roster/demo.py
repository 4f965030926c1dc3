"""The demo board, loaded the way a school would: LAS exports through the real importer.

:func:`load_demo_board` generates the fictional board (``demo_board``), writes its primary school
as an EDEXML file (as Dutch primary-school LAS products export) and the whole board as a OneRoster
1.2 CSV zip (as secondary-school LAS products do), and imports both with ``roster.services`` — the
same validation, pseudonyms for the few PGN-bearing pupils (through the number service's HTTP
API), and apply as a diff. :func:`demo_logins` gives the demo's staff personas a login.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth.models import User

from regie.core.models import Board
from regie.nummervoorziening import client as nv

from . import services
from .demo_board import PO_SCHOOL, DemoBoard, generate_demo_board
from .importing.edexml import write_edexml
from .importing.oneroster import write_oneroster
from .importing.records import without_student
from .models import (
    ImportRun,
    ImportStatus,
    SensitiveCategory,
    SensitiveRecord,
    Staff,
    StaffRole,
    Student,
)
from .sensitive import add_record

DEMO_PASSWORD = "regie-demo"  # noqa: S105 (demo only; the demo server listens on loopback)


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    who: str


EDEXML_FILE = "de-vlieger-edexml.xml"
ONEROSTER_FILE = "de-vliet-oneroster.zip"


def demo_board_loaded() -> Board | None:
    """The demo board, when both of its exports were applied (an interrupted start is redone)."""
    from .demo_board import BESTUURSNUMMER

    board = Board.objects.filter(bestuursnummer=BESTUURSNUMMER).first()
    if board is None:
        return None
    applied = set(
        ImportRun.objects.filter(board=board, status=ImportStatus.APPLIED).values_list(
            "file_name", flat=True
        )
    )
    return board if {EDEXML_FILE, ONEROSTER_FILE} <= applied else None


def load_demo_board(
    directory: Path, *, client: nv.NummervoorzieningClient | None = None, pupils: int = 1200
) -> Board:
    """Create the demo board and import its exports. Raises when an import is refused."""
    demo: DemoBoard = generate_demo_board(pupils=pupils)
    board, _ = Board.objects.get_or_create(
        bestuursnummer=demo.bestuursnummer, defaults={"name": demo.name, "kvk": demo.kvk}
    )
    directory.mkdir(parents=True, exist_ok=True)
    edexml = directory / EDEXML_FILE
    oneroster = directory / ONEROSTER_FILE
    write_edexml(demo.export, PO_SCHOOL.key, edexml)
    write_oneroster(demo.export, oneroster)
    for path in (edexml, oneroster):
        run, export = services.upload_export(path, path.name, board, user=None)
        if run.status != ImportStatus.PREVIEWED:
            problems = services.problems_from_json(run.problems)
            raise services.ExportRefused(problems)
        services.apply(run, user=None, client=client, export=export)
    return board


LEAVING_FILE = "de-vlieger-edexml-na-vertrek.xml"


def write_leaving_export(directory: Path, las_key: str, *, pupils: int = 1200) -> Path:
    """The primary school's next EDEXML export after the pupil ``las_key`` left (the demo's
    retention story: upload it at "Importeren" and the pupil is marked as left)."""
    demo: DemoBoard = generate_demo_board(pupils=pupils)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / LEAVING_FILE
    write_edexml(without_student(demo.export, las_key), PO_SCHOOL.key, target)
    return target


PERSONAS = (
    ("fg", StaffRole.PRIVACY_OFFICER, "functionaris gegevensbescherming, OBS De Vlieger"),
    ("leerkracht", StaffRole.TEACHER, "leerkracht, OBS De Vlieger"),
    ("ib", StaffRole.CARE_COORDINATOR, "intern begeleider, OBS De Vlieger (zorggegevens)"),
    ("bestuur", StaffRole.BOARD_ADMIN, "bestuursbeheerder, Stichting De Vliet"),
)


def demo_logins(board: Board) -> list[DemoLogin]:
    """A login for one staff member of each persona's role (created once, password reset)."""
    logins = []
    for username, role, who in PERSONAS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username=username, password=DEMO_PASSWORD)
        else:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if not Staff.objects.filter(user=user).exists():
            candidates = Staff.objects.filter(board=board, user__isnull=True, is_active=True)
            if role != StaffRole.BOARD_ADMIN:
                candidates = candidates.filter(school__brin=PO_SCHOOL.brin)
            member = next((m for m in candidates.order_by("pk") if m.has_role(role)), None)
            if member is None:
                continue
            member.user = user
            member.save(update_fields=["user"])
        logins.append(DemoLogin(str(role), username, DEMO_PASSWORD, who))
    return logins


DEMO_SENSITIVE_TITLE = "Psychodiagnostisch onderzoek (fictief)"
DEMO_SENSITIVE_CONTENT = (
    "Fictief voorbeeld. Onderzoek naar lees- en spellingvaardigheid door een orthopedagoog. "
    "Conclusie: kenmerken van dyslexie; advies: extra leestijd en voorlezen van toetsen. "
    "Besproken met de ouders."
)


def demo_sensitive_record(student: Student) -> SensitiveRecord:
    """The demo's one sensitive record: a fictional psychodiagnostic result for ``student`` (the
    demo guardian's child), which the care coordinator ``ib`` reads and ``leerkracht`` may not."""
    found = SensitiveRecord.objects.filter(student=student, title=DEMO_SENSITIVE_TITLE).first()
    if found is not None:
        return found
    return add_record(
        student,
        category=SensitiveCategory.PSYCHODIAGNOSTIC,
        title=DEMO_SENSITIVE_TITLE,
        content=DEMO_SENSITIVE_CONTENT,
        day=student.created_at.date(),
        user=None,
    )
