"""Who may see what in the hub: the one place where a login becomes need-to-know (DESIGN §1.8).

Every page and service that shows schools, groups, pupils, guardians, imports or the privacy
register asks this module; nothing else reads staff roles to decide it. Other apps reach it
through :mod:`regie.roster.services`.

- **teacher**: the groups they teach and those groups' active pupils; their groups' results and
  their products in 'Mijn leermiddelen';
- **care coordinator**: their school's groups, pupils and guardians;
- **school admin**: the same, importing for their school, and their school's decisions in the
  register (licences, switches, consent);
- **privacy officer**: the same, and the board's register (agreements, DPIA screenings, council);
- **board admin**: every school of the board, importing for the board, the board's register;
- **superuser**: every board's register (and publishing offers), and the admin site.

Sensitive records (psychodiagnostics, care plans, special needs, health:
``SensitiveRecord``) are need-to-know *within* the school: only the care coordinator of the
pupil's school and staff the board designated for that school (``SensitiveDesignation``) read
them (:meth:`Access.reads_sensitive`, :func:`visible_sensitive_records`). Teachers, school admins,
board admins, privacy officers and the superuser do not, unless designated; the privacy officer
and the board admin give and withdraw designations (:meth:`Access.designates`) without reading.

The superuser is the hub's technical administrator: the admin site and the shared register, not
pupils (the admin shows no pupils or guardians either). A pupil's login (``accounts``) opens
'Mijn leermiddelen' only. Nobody sees another board.

Two kinds of refusal, never mixed up:

- a page the role has no business on at all answers 403 (:func:`access_required`);
- an object that is someone else's — another group, school or board — answers 404, never a hint
  that it exists: views load objects through the ``visible_*`` querysets below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import PermissionDenied
from django.db.models import FilteredRelation, Q, QuerySet
from django.http import HttpRequest, HttpResponse

from regie.core.models import Board, School

from .models import (
    Group,
    Guardian,
    ImportRun,
    SensitiveDesignation,
    SensitiveRecord,
    Staff,
    StaffRole,
    Student,
    StudentStatus,
)

User = AuthUser | AnonymousUser
View = TypeVar("View", bound=Callable[..., HttpResponse])

SCHOOL_WIDE_ROLES = {StaffRole.SCHOOL_ADMIN, StaffRole.PRIVACY_OFFICER, StaffRole.CARE_COORDINATOR}
IMPORT_ROLES = {StaffRole.BOARD_ADMIN, StaffRole.SCHOOL_ADMIN, StaffRole.PRIVACY_OFFICER}
BOARD_REGISTER_ROLES = {StaffRole.PRIVACY_OFFICER, StaffRole.BOARD_ADMIN}
SCHOOL_REGISTER_ROLES = {StaffRole.PRIVACY_OFFICER, StaffRole.SCHOOL_ADMIN, StaffRole.BOARD_ADMIN}


@dataclass(frozen=True)
class Access:
    """What one login may see, from its active staff memberships (ids of boards, schools and
    staff memberships)."""

    boards: frozenset[int]  # board admin: every school of these boards
    schools: frozenset[int]  # school-wide roles
    teaching_schools: frozenset[int]  # schools where they teach
    teaching_staff: frozenset[int]  # their memberships with the teacher role (at a school)
    import_boards: frozenset[int]
    import_schools: frozenset[int]
    register_boards: frozenset[int]  # the board's register (agreements, DPIA, council)
    register_schools: frozenset[int]  # a school's decisions; every school of register_boards
    # The staff roles of the active memberships: which work a login has, for the order of its menu
    # and where it lands after logging in (``accounts``). Never a reason to let anyone in: pages
    # ask the capabilities below.
    roles: frozenset[str] = frozenset()
    # Sensitive records: the schools whose records they read (care coordinator there, or
    # designated by the board), and the boards whose designations they manage.
    sensitive_schools: frozenset[int] = frozenset()
    designation_boards: frozenset[int] = frozenset()

    # Capabilities: what a page may require of a login (see :func:`access_required`).

    def sees_roster(self) -> bool:
        return bool(self.boards or self.schools or self.teaching_staff)

    def sees_whole_school(self) -> bool:
        """Guardians, and linking a pupil's enrolments: school-wide roles and board admins."""
        return bool(self.boards or self.schools)

    def imports(self) -> bool:
        return bool(self.import_boards or self.import_schools)

    def teaches(self) -> bool:
        return bool(self.teaching_staff)

    def uses_register(self) -> bool:
        return bool(self.register_boards or self.register_schools)

    def edits_board_register(self) -> bool:
        return bool(self.register_boards)

    def reads_sensitive(self) -> bool:
        """Sensitive records: the care coordinator, and staff the board designated."""
        return bool(self.sensitive_schools)

    def designates(self) -> bool:
        """Giving and withdrawing designations for sensitive records: privacy officers and board
        admins (of their own board; not the superuser)."""
        return bool(self.designation_boards)


_NONE = frozenset[int]()
NO_ACCESS = Access(_NONE, _NONE, _NONE, _NONE, _NONE, _NONE, _NONE, _NONE)


def access_for(user: User) -> Access:
    """The access of ``user``: one query (two more for the superuser's register)."""
    if not user.is_authenticated:
        return NO_ACCESS
    sets: dict[str, set[int]] = {
        name: set() for name in Access.__dataclass_fields__ if name != "roles"
    }
    held: set[str] = set()
    # One row per membership and designation in force (a left join): still one query.
    memberships = (
        Staff.objects.filter(user_id=user.pk, is_active=True)
        .annotate(
            designation=FilteredRelation(
                "sensitive_designations",
                condition=Q(sensitive_designations__withdrawn_at__isnull=True),
            )
        )
        .values_list("id", "board_id", "school_id", "roles", "designation__school_id")
    )
    for staff_id, board_id, school_id, role_list, designated in memberships:
        roles = set(role_list)
        held.update(roles)
        if designated is not None:
            sets["sensitive_schools"].add(designated)
        if BOARD_REGISTER_ROLES & roles:
            sets["designation_boards"].add(board_id)
        if StaffRole.BOARD_ADMIN in roles:
            sets["boards"].add(board_id)
            sets["import_boards"].add(board_id)
        if BOARD_REGISTER_ROLES & roles:
            sets["register_boards"].add(board_id)
        if school_id is None:
            continue
        if SCHOOL_WIDE_ROLES & roles:
            sets["schools"].add(school_id)
        if StaffRole.CARE_COORDINATOR in roles:
            sets["sensitive_schools"].add(school_id)
        if IMPORT_ROLES & roles:
            sets["import_schools"].add(school_id)
        if SCHOOL_REGISTER_ROLES & roles:
            sets["register_schools"].add(school_id)
        if StaffRole.TEACHER in roles:
            sets["teaching_schools"].add(school_id)
            sets["teaching_staff"].add(staff_id)
    if getattr(user, "is_superuser", False):
        sets["register_boards"].update(Board.objects.values_list("pk", flat=True))
    if sets["register_boards"]:
        sets["register_schools"].update(
            School.objects.filter(board_id__in=sets["register_boards"]).values_list("pk", flat=True)
        )
    return Access(**{name: frozenset(items) for name, items in sets.items()}, roles=frozenset(held))


def access_required(capability: Callable[[Access], bool]) -> Callable[[View], View]:
    """A view for logged-in users whose access has ``capability``: anonymous visitors go to the
    login page, every other login gets 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not capability(access_for(request.user)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(checked)  # type: ignore[return-value]

    return decorate


# --- what a login may see (an object outside these is a 404) ------------------------------------


def visible_schools(user: User) -> QuerySet[School]:
    access = access_for(user)
    return School.objects.filter(
        Q(board_id__in=access.boards) | Q(pk__in=access.schools) | Q(pk__in=access.teaching_schools)
    ).select_related("board")


def visible_groups(user: User) -> QuerySet[Group]:
    access = access_for(user)
    return Group.objects.filter(
        Q(school__board_id__in=access.boards)
        | Q(school_id__in=access.schools)
        | Q(teachers__id__in=access.teaching_staff)
    ).distinct()


def taught_groups(user: User) -> QuerySet[Group]:
    """The active groups ``user`` teaches (for their results page)."""
    return Group.objects.filter(
        teachers__id__in=access_for(user).teaching_staff, is_active=True
    ).distinct()


def teaching_memberships(user: User) -> list[Staff]:
    """The user's active school memberships with the teacher role, oldest first, with their
    school and board: one query (a teacher's launch asks it at every step)."""
    if not user.is_authenticated:
        return []
    memberships = (
        Staff.objects.filter(user_id=user.pk, is_active=True, school__isnull=False)
        .select_related("school__board")
        .order_by("pk")
    )
    return [staff for staff in memberships if staff.has_role(StaffRole.TEACHER)]


def visible_students(user: User) -> QuerySet[Student]:
    access = access_for(user)
    return Student.objects.filter(
        Q(school__board_id__in=access.boards)
        | Q(school_id__in=access.schools)
        | Q(groups__teachers__id__in=access.teaching_staff, status="active")
    ).distinct()


@dataclass(frozen=True)
class Viewer:
    """Staff who see a pupil's data by the rules above: a role, how far it reaches (``groups``:
    the groups they teach, ``school``: the whole school, ``board``: every school of the board),
    and how many active memberships hold it today."""

    role: StaffRole
    reach: str
    count: int


def pupil_viewers(student: Student) -> list[Viewer]:
    """Who at school sees ``student`` (as :func:`visible_students` decides), per role: teachers of
    the pupil's groups (while the pupil is active), the school-wide roles of the pupil's school,
    the board admins of its board. The hub's technical administrator sees no pupils."""
    counts: dict[tuple[str, str], int] = {}
    staff = Staff.objects.filter(is_active=True, board_id=student.school.board_id)
    teacher_ids = set(
        Staff.objects.filter(
            is_active=True, groups__students=student, school_id=student.school_id
        ).values_list("pk", flat=True)
    )
    taught = student.status == StudentStatus.ACTIVE
    for member in staff:
        roles = set(member.roles)
        held = [(StaffRole.BOARD_ADMIN, "board")] if StaffRole.BOARD_ADMIN in roles else []
        if member.school_id == student.school_id:
            held += [(role, "school") for role in SCHOOL_WIDE_ROLES & roles]
            if StaffRole.TEACHER in roles and member.pk in teacher_ids and taught:
                held.append((StaffRole.TEACHER, "groups"))
        for key in held:
            counts[key] = counts.get(key, 0) + 1
    order = [StaffRole.TEACHER, *sorted(SCHOOL_WIDE_ROLES), StaffRole.BOARD_ADMIN]
    return [
        Viewer(StaffRole(role), reach, count)
        for role in order
        for (held, reach), count in counts.items()
        if held == role
    ]


def visible_guardians(user: User) -> QuerySet[Guardian]:
    """Guardians: only for school-wide roles and board admins (teachers see them per pupil)."""
    access = access_for(user)
    return Guardian.objects.filter(
        Q(school__board_id__in=access.boards) | Q(school_id__in=access.schools)
    ).distinct()


def may_link(user: User, student: Student) -> bool:
    """School-wide roles at the pupil's school, and board admins, may link enrolments."""
    access = access_for(user)
    return student.school.board_id in access.boards or student.school_id in access.schools


def import_boards(user: User) -> QuerySet[Board]:
    """The boards this user may import for: board admins, and school admins and privacy officers."""
    access = access_for(user)
    return Board.objects.filter(
        Q(pk__in=access.import_boards) | Q(schools__pk__in=access.import_schools)
    ).distinct()


def visible_import_runs(user: User) -> QuerySet[ImportRun]:
    """The import runs of the boards ``user`` may import for (:func:`import_boards`)."""
    return ImportRun.objects.filter(board__in=import_boards(user))


@dataclass(frozen=True)
class ImportScope:
    """What a login may import for one board: the whole board (a board admin: an export of any
    of its schools, several at once included), or only the schools listed."""

    board: Board
    board_wide: bool
    schools: list[School]


def import_scopes(user: User) -> list[ImportScope]:
    """Per board this user may import for, which schools an export may hold (the rule
    ``services.may_import_export`` applies to the export itself)."""
    access = access_for(user)
    scopes = []
    for board in import_boards(user).order_by("name"):
        board_wide = board.pk in access.import_boards
        schools = School.objects.filter(board=board).order_by("name")
        if not board_wide:
            schools = schools.filter(pk__in=access.import_schools)
        scopes.append(ImportScope(board, board_wide, list(schools)))
    return scopes


def register_boards(user: User) -> QuerySet[Board]:
    """The boards whose register ``user`` keeps (agreements, DPIA screenings, council)."""
    return Board.objects.filter(pk__in=access_for(user).register_boards)


def register_schools(user: User) -> QuerySet[School]:
    """The schools whose decisions (licences, switches, consent) ``user`` records."""
    return School.objects.filter(pk__in=access_for(user).register_schools).select_related("board")


def register_students(user: User) -> QuerySet[Student]:
    """Pupils whose consent ``user`` records: those of :func:`register_schools`."""
    return Student.objects.filter(school_id__in=access_for(user).register_schools)


# --- sensitive records (need-to-know within the school) -----------------------------------------


def sensitive_students(user: User) -> QuerySet[Student]:
    """Pupils whose sensitive records ``user`` reads: those of :attr:`Access.sensitive_schools`."""
    return Student.objects.filter(school_id__in=access_for(user).sensitive_schools)


def visible_sensitive_records(user: User) -> QuerySet[SensitiveRecord]:
    """The sensitive records ``user`` may read (a record outside these is a 404 for a reader)."""
    return SensitiveRecord.objects.filter(
        school_id__in=access_for(user).sensitive_schools, student__is_canary=False
    )


def reads_sensitive_of(user: User, student: Student) -> bool:
    """Whether ``user`` reads ``student``'s sensitive records (the pupil page's link)."""
    return student.school_id in access_for(user).sensitive_schools


def sensitive_reader_role(user: AuthUser, school_id: int) -> tuple[str, bool]:
    """(the role value a read is recorded with, designated?) of ``user`` at ``school_id``: the
    care coordinator's role if they are one there, else the roles of the designated membership
    (``designated`` when it holds none)."""
    memberships = Staff.objects.filter(user_id=user.pk, is_active=True)
    for member in memberships.filter(school_id=school_id):
        if member.has_role(StaffRole.CARE_COORDINATOR):
            return str(StaffRole.CARE_COORDINATOR), False
    designated = (
        memberships.filter(
            sensitive_designations__school_id=school_id,
            sensitive_designations__withdrawn_at__isnull=True,
        )
        .order_by("pk")
        .first()
    )
    if designated is not None and designated.roles:
        return str(sorted(designated.roles)[0]), True
    return "designated", True


def designation_boards(user: User) -> QuerySet[Board]:
    """The boards whose designations ``user`` manages (privacy officer, board admin)."""
    return Board.objects.filter(pk__in=access_for(user).designation_boards)


def visible_designations(user: User) -> QuerySet[SensitiveDesignation]:
    return SensitiveDesignation.objects.filter(
        board_id__in=access_for(user).designation_boards
    ).select_related("school", "staff")
