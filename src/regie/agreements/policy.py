"""The release policy (DESIGN §1.1, §6): what of a pupil or a teacher may go to a supplier for a
product.

    allowed(supplier, product, pupil) = agreement.active ∧ licence(pupil, product)
        ∧ attribute ∈ schedule ∧ school_switch(attribute)
        ∧ (¬sensitive ∨ dpia_allows(board, product)) ∧ (¬consent_gated ∨ consent(pupil))

A sensitive attribute (``catalogue.SENSITIVE``: care data, psychodiagnostics, care plans, special
needs, health) also needs a DPIA on record for (board, product) whose outcome allows use
(``Dpia.allows_use``); every sensitive attribute is consent-gated (the catalogue's
``consent_gated``: the schedule cannot waive consent for them).

A teacher is released by the same rule at one of their schools, with a licence for a group they
teach (or for named pupils of it) as their licence and :data:`STAFF_RELEASE` as their schedule (no
data schedule covers staff data, so no switch or consent widens it):

    allowed(supplier, product, teacher) = ∃ school of the teacher: agreement.active
        ∧ licence(a group they teach, product) ∧ attribute ∈ STAFF_RELEASE

:func:`decide` (pupils) and :func:`decide_staff` (teachers) are used by every outbound channel
(SSO claims, the tiles, rostering, results, exports). They return the allowed attribute keys *and*
a :class:`Refusal` for everything that was not allowed, naming the condition that failed, so that
pages and the audit log can explain it. :func:`evaluate` and :func:`evaluate_staff` are the rule
itself, on plain facts; :func:`facts_for` and :func:`staff_facts_for` read them from the register
(which agreement governs: ``ProcessingAgreement.objects.governing``; which licences are in force:
``Licence.objects.in_force_on``; which cover a pupil: ``.covering``).

How the facts are read: every question is a function that builds its queryset from ids with those
managers' methods (:func:`schedule_question` and the others below), prepared once per process
(:class:`regie.lib.prepared.Prepared`: built and compiled once, then run with the product's and
the person's ids). A launch decides three times; Django's building and compiling of the
querysets, not the SQL, was most of a decision's cost. For one pupil, whether an agreement
governs, whether a licence covers them and what the schedule names are one query; switches,
consents and the DPIA one query each, asked only when an attribute to decide needs them.
:func:`decide_many` reads many pupils at once with ordinary querysets (the ``__in`` lists vary in
length, so they cannot be prepared); a property test over random registers holds the two equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from django.db.models import Exists, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from regie.core.models import School, SchoolYear
from regie.lib.prepared import Prepared
from regie.roster.models import Group, Staff, StaffRole, Student, StudentStatus

from . import catalogue
from .models import (
    Consent,
    DataSchedule,
    Dpia,
    DpiaOutcome,
    Licence,
    Processing,
    ProcessingAgreement,
    Product,
    SchoolSwitch,
)


class Condition(StrEnum):
    """Which condition of the policy failed. Stable values: they go into audit events."""

    NO_ACTIVE_AGREEMENT = "no_active_agreement"
    NO_LICENCE = "no_licence"
    NOT_IN_SCHEDULE = "not_in_schedule"
    NOT_SWITCHED_ON = "not_switched_on"
    NO_DPIA = "no_dpia"
    NO_CONSENT = "no_consent"
    UNKNOWN_ATTRIBUTE = "unknown_attribute"


# Why an attribute may not go, for the pages that show a decision (Dutch, with English available).
EXPLANATIONS: dict[Condition, Promise] = {
    Condition.NO_ACTIVE_AGREEMENT: _(
        "het schoolbestuur heeft geen actieve verwerkersovereenkomst met de leverancier"
    ),
    Condition.NO_LICENCE: _("de leerling heeft dit schooljaar geen licentie voor het product"),
    Condition.NOT_IN_SCHEDULE: _("de privacybijsluiter van de overeenkomst noemt dit gegeven niet"),
    Condition.NOT_SWITCHED_ON: _("de school heeft dit gegeven niet aangezet"),
    Condition.NO_DPIA: _(
        "dit is een gevoelig gegeven en er is geen DPIA vastgelegd die het gebruik toestaat"
    ),
    Condition.NO_CONSENT: _(
        "voor dit gegeven is toestemming nodig, en die is er niet (of is ingetrokken)"
    ),
    Condition.UNKNOWN_ATTRIBUTE: _("geen gegeven uit de catalogus van regie"),
}


@dataclass(frozen=True)
class Refusal:
    attribute: str
    condition: Condition

    @property
    def explanation(self) -> str:
        return str(EXPLANATIONS[self.condition])


@dataclass(frozen=True)
class Facts:
    """What the register says about one (product, pupil), as plain values."""

    agreement_active: bool
    licensed: bool
    schedule: frozenset[str] = frozenset()
    switched_on: frozenset[str] = frozenset()
    consents: frozenset[str] = frozenset()  # consent-gated attributes with consent in force
    agreement_id: int | None = None
    dpia_allows: bool = False  # a DPIA for (board, product) whose outcome allows use


@dataclass(frozen=True)
class Decision:
    allowed: frozenset[str]
    refused: tuple[Refusal, ...] = field(default=())
    agreement_id: int | None = None
    # An active agreement and a licence cover the person for the product: it is theirs (a tile
    # shows it), whatever else was refused.
    covered: bool = False

    @property
    def may_release(self) -> bool:
        """Anything at all may go: without this, a channel releases nothing (no launch)."""
        return bool(self.allowed)

    def reasons(self) -> dict[str, str]:
        """Attribute → failed condition, for audit details and pages."""
        return {refusal.attribute: refusal.condition.value for refusal in self.refused}


def evaluate(facts: Facts, requested: Iterable[str] | None = None) -> Decision:
    """The rule. ``requested`` defaults to every attribute of the catalogue."""
    wanted = list(dict.fromkeys(requested)) if requested is not None else list(catalogue.CATALOGUE)
    allowed: set[str] = set()
    refused: list[Refusal] = []
    for key in wanted:
        condition = _failed_condition(facts, key)
        if condition is None:
            allowed.add(key)
        else:
            refused.append(Refusal(key, condition))
    covered = facts.agreement_active and facts.licensed
    return Decision(frozenset(allowed), tuple(refused), facts.agreement_id, covered)


def _failed_condition(facts: Facts, key: str) -> Condition | None:
    if key not in catalogue.CATALOGUE:
        return Condition.UNKNOWN_ATTRIBUTE
    if not facts.agreement_active:
        return Condition.NO_ACTIVE_AGREEMENT
    if not facts.licensed:
        return Condition.NO_LICENCE
    if key not in facts.schedule:
        return Condition.NOT_IN_SCHEDULE
    if key not in facts.switched_on and key not in catalogue.DEFAULT_ON:
        return Condition.NOT_SWITCHED_ON
    if key in catalogue.SENSITIVE and not facts.dpia_allows:
        return Condition.NO_DPIA
    if key in catalogue.CONSENT_GATED and key not in facts.consents:
        return Condition.NO_CONSENT
    return None


# --- reading the facts from the register ---------------------------------------------------------


def schedule_question(
    product: int, supplier: int, school: int, student: int, day: date
) -> QuerySet[DataSchedule, tuple[int, int, list[str] | None, bool]]:
    """The schedule of the agreement that governs ``product`` at the pupil's school's board on
    ``day``, one row per processing: (agreement, board, the processing's attributes, whether a
    licence in force covers the pupil). No rows: no active agreement."""
    the_product = Product(pk=product, supplier_id=supplier)
    pupil = Student(pk=student, school_id=school)
    board = School.objects.filter(pk=school).order_by().values("board_id")[:1]
    chosen = (
        ProcessingAgreement.objects.governing(the_product, day)
        .filter(board_id=Subquery(board))
        .values("pk")[:1]
    )
    covering = Licence.objects.in_force_on(day).covering(pupil).filter(product=the_product)
    # The annotation last, so that the columns' order is the SQL's as well as values_list's.
    return (
        DataSchedule.objects.filter(product=the_product, agreement_id=Subquery(chosen))
        .annotate(licensed=Exists(covering))
        .values_list("agreement_id", "agreement__board_id", "processings__attributes", "licensed")
    )


def switches_question(product: int, school: int) -> QuerySet[SchoolSwitch, tuple[str]]:
    """The attributes the school switched on for ``product``."""
    return SchoolSwitch.objects.filter(school_id=school, product_id=product).values_list(
        "attribute"
    )


def consents_question(product: int, student: int) -> QuerySet[Consent, tuple[str, bool]]:
    """The pupil's consent records for ``product``, the latest first per attribute."""
    return (
        Consent.objects.filter(student_id=student, product_id=product)
        .order_by("attribute", "-decided_at", "-pk")
        .values_list("attribute", "given")
    )


def dpia_question(product: int, board: int) -> QuerySet[Dpia, tuple[int]]:
    """A DPIA on record for (board, product) whose outcome allows use (``Dpia.allows_use``)."""
    return (
        Dpia.objects.filter(board_id=board, product_id=product)
        .exclude(outcome=DpiaOutcome.NOT_ACCEPTABLE)
        .values_list("board_id")[:1]
    )


# Public so that ``benchmarks/policy.py`` can run the same questions unprepared, as its reference.
SCHEDULE = Prepared(schedule_question, product=int, supplier=int, school=int, student=int, day=date)
SWITCHES = Prepared(switches_question, product=int, school=int)
CONSENTS = Prepared(consents_question, product=int, student=int)
DPIA_ALLOWING = Prepared(dpia_question, product=int, board=int)


def consents_in_force(student: Student, product: Product) -> frozenset[str]:
    """Consent-gated attributes whose latest consent record says 'given'."""
    latest: dict[str, bool] = {}
    for attribute, given in CONSENTS.rows(product=product.pk, student=student.pk):
        latest.setdefault(attribute, given)
    return frozenset(attribute for attribute, given in latest.items() if given)


def facts_for(
    product: Product,
    student: Student,
    day: date | None = None,
    requested: Iterable[str] | None = None,
) -> Facts:
    """The register's facts for (product, pupil). Which agreement is active, whether a licence
    covers the pupil and what the schedule names are one query; the school's switches, the
    pupil's consents and the board's DPIA are read only when deciding an attribute needs them
    (:func:`evaluate` looks at switches only for scheduled attributes that are not on by default,
    at consents only for scheduled consent-gated ones, at the DPIA only for scheduled sensitive
    ones, and at none of them without a licence). With ``requested``, only those attributes
    count. Each is a prepared query (:func:`schedule_question` and the others); the pupil's school
    need not be loaded."""
    day = day or timezone.localdate()
    wanted = frozenset(requested) if requested is not None else frozenset(catalogue.CATALOGUE)
    rows = SCHEDULE.rows(
        product=product.pk,
        supplier=product.supplier_id,
        school=student.school_id,
        student=student.pk,
        day=day,
    )
    if not rows:
        return Facts(agreement_active=False, licensed=False)
    agreement_id, board_id = rows[0][0], rows[0][1]
    licensed = student.is_active and bool(rows[0][3])
    schedule: set[str] = set()
    for _agreement, _board, attributes, _licensed in rows:
        schedule.update(attributes or ())
    deciding = wanted & schedule if licensed else frozenset()
    switched: frozenset[str] = frozenset()
    if not deciding <= catalogue.DEFAULT_ON:
        switched = frozenset(
            attribute
            for (attribute,) in SWITCHES.rows(product=product.pk, school=student.school_id)
        )
    consents: frozenset[str] = frozenset()
    if deciding & catalogue.CONSENT_GATED:
        consents = consents_in_force(student, product)
    dpia_allows = False
    if deciding & catalogue.SENSITIVE:
        dpia_allows = bool(DPIA_ALLOWING.rows(product=product.pk, board=board_id))
    return Facts(
        agreement_active=True,
        licensed=licensed,
        schedule=frozenset(schedule),
        switched_on=switched,
        consents=consents,
        agreement_id=agreement_id,
        dpia_allows=dpia_allows,
    )


def _dpia_allowed(board_ids: set[int], product: Product) -> set[int]:
    """The boards with a DPIA on record for ``product`` whose outcome allows use."""
    return set(
        Dpia.objects.filter(board_id__in=board_ids, product=product)
        .exclude(outcome=DpiaOutcome.NOT_ACCEPTABLE)
        .values_list("board_id", flat=True)
    )


def decide(
    product: Product,
    student: Student,
    requested: Iterable[str] | None = None,
    *,
    day: date | None = None,
) -> Decision:
    """What of ``student`` may go to ``product``'s supplier, and why the rest may not."""
    wanted = list(requested) if requested is not None else None
    return evaluate(facts_for(product, student, day, wanted), wanted)


def current_school_year(day: date | None = None) -> SchoolYear | None:
    day = day or timezone.localdate()
    return SchoolYear.objects.filter(SchoolYear.containing(day)).first()


# --- many pupils at once (rostering) ------------------------------------------------------------


def decide_many(
    product: Product,
    students: Iterable[Student],
    requested: Iterable[str] | None = None,
    *,
    day: date | None = None,
) -> dict[int, Decision]:
    """:func:`decide` for many pupils (by pk), reading the register in a fixed number of queries.

    Gives exactly what :func:`decide` gives for each pupil; a rostering request for a whole school
    costs eight queries instead of about seven per pupil.
    """
    day = day or timezone.localdate()
    pupils = {student.pk: student for student in students}
    wanted = list(requested) if requested is not None else None
    if not pupils:
        return {}
    school_ids = {student.school_id for student in pupils.values()}
    boards = dict(School.objects.filter(pk__in=school_ids).values_list("pk", "board_id"))
    agreements = _governing_agreements(set(boards.values()), product, day)
    schedules = _schedule_attributes(agreements.values(), product)
    licensed = _licensed_students(product, pupils, school_ids, day)
    switched: dict[int, set[str]] = {}
    for school_id, attribute in SchoolSwitch.objects.filter(
        school_id__in=school_ids, product=product
    ).values_list("school_id", "attribute"):
        switched.setdefault(school_id, set()).add(attribute)
    consents = _consents_in_force_many(pupils, product)
    sensitive = catalogue.SENSITIVE & (
        frozenset(wanted) if wanted is not None else frozenset(catalogue.CATALOGUE)
    )
    dpia_boards: set[int] = set()
    if any(attributes & sensitive for attributes in schedules.values()):
        dpia_boards = _dpia_allowed(set(boards.values()), product)
    decisions = {}
    for pk, student in pupils.items():
        agreement_id = agreements.get(boards[student.school_id])
        if agreement_id is None:
            facts = Facts(agreement_active=False, licensed=False)
        else:
            facts = Facts(
                agreement_active=True,
                licensed=student.is_active and pk in licensed,
                schedule=schedules.get(agreement_id, frozenset()),
                switched_on=frozenset(switched.get(student.school_id, ())),
                consents=consents.get(pk, frozenset()),
                agreement_id=agreement_id,
                dpia_allows=boards[student.school_id] in dpia_boards,
            )
        decisions[pk] = evaluate(facts, wanted)
    return decisions


def _governing_agreements(board_ids: set[int], product: Product, day: date) -> dict[int, int]:
    """Board → the pk of the agreement that governs ``product`` there (``governing_for``)."""
    chosen: dict[int, int] = {}
    rows = (
        ProcessingAgreement.objects.governing(product, day)
        .filter(board_id__in=board_ids)
        .values_list("board_id", "pk")
    )
    for board_id, agreement_id in rows:
        chosen.setdefault(board_id, agreement_id)
    return chosen


def _schedule_attributes(
    agreement_ids: Iterable[int], product: Product
) -> dict[int, frozenset[str]]:
    """Agreement → what its schedule for ``product`` names (as :meth:`DataSchedule.attributes`)."""
    keys: dict[int, set[str]] = {}
    for agreement_id, attributes in Processing.objects.filter(
        schedule__agreement_id__in=list(agreement_ids), schedule__product=product
    ).values_list("schedule__agreement_id", "attributes"):
        keys.setdefault(agreement_id, set()).update(attributes)
    return {agreement_id: frozenset(found) for agreement_id, found in keys.items()}


def _licensed_students(
    product: Product, pupils: dict[int, Student], school_ids: set[int], day: date
) -> set[int]:
    """The pupils a licence of this school year covers (``Licence.objects.covering``)."""
    licences = list(
        Licence.objects.in_force_on(day)
        .filter(product=product, school_id__in=school_ids)
        .values_list("pk", "school_id", "group_id")
    )
    school_of_group: dict[int, set[int]] = {}
    school_of_licence: dict[int, int] = {}
    for licence_id, school_id, group_id in licences:
        school_of_licence[licence_id] = school_id
        if group_id is not None:
            school_of_group.setdefault(group_id, set()).add(school_id)
    members = Student.groups.through.objects.filter(
        student_id__in=list(pupils), group_id__in=list(school_of_group)
    ).values_list("student_id", "group_id")
    named = Licence.students.through.objects.filter(
        student_id__in=list(pupils), licence_id__in=list(school_of_licence)
    ).values_list("student_id", "licence_id")
    covered = {
        student_id
        for student_id, group_id in members
        if pupils[student_id].school_id in school_of_group[group_id]
    }
    covered.update(
        student_id
        for student_id, licence_id in named
        if pupils[student_id].school_id == school_of_licence[licence_id]
    )
    return covered


def _consents_in_force_many(
    pupils: dict[int, Student], product: Product
) -> dict[int, frozenset[str]]:
    """Pupil → :func:`consents_in_force`."""
    latest: dict[tuple[int, str], bool] = {}
    records = Consent.objects.filter(student_id__in=list(pupils), product=product).order_by(
        "student_id", "attribute", "-decided_at", "-pk"
    )
    for student_id, attribute, given in records.values_list("student_id", "attribute", "given"):
        latest.setdefault((student_id, attribute), given)
    found: dict[int, set[str]] = {}
    for (student_id, attribute), given in latest.items():
        if given:
            found.setdefault(student_id, set()).add(attribute)
    return {student_id: frozenset(attributes) for student_id, attributes in found.items()}


# --- teachers ------------------------------------------------------------------------------------

STAFF_ID = "staff_id"
# What a teacher's launch may carry: their keyed id at the supplier (the staff's counterpart of the
# supplier pseudonym), the role, the school and the names of their licensed groups — the
# organisational facts a supplier needs to show a teacher their classes. No data schedule covers
# staff data, so this is a teacher's whole schedule: never a name or an e-mail address.
STAFF_RELEASE = (STAFF_ID, "role", "school", "groups")


@dataclass(frozen=True)
class StaffFacts:
    """What the register says about one (product, school membership of a teacher), as plain
    values."""

    staff_id: int
    agreement_active: bool
    licensed_groups: frozenset[str] = frozenset()  # their active groups a licence covers
    agreement_id: int | None = None


@dataclass(frozen=True)
class StaffDecision(Decision):
    """A :class:`Decision` about a teacher: the membership it releases and its licensed groups."""

    staff_id: int | None = None
    groups: tuple[str, ...] = ()


def evaluate_staff(
    memberships: Sequence[StaffFacts], requested: Iterable[str] | None = None
) -> StaffDecision:
    """The rule for a teacher, on the facts of each of their school memberships (oldest first).

    The first membership whose board has an active agreement and whose groups a licence covers
    is the one released, with its licensed groups. Each requested attribute (by default
    :data:`STAFF_RELEASE`) is answered as a pupil's is, with :data:`STAFF_RELEASE` as the schedule.
    When no membership qualifies, the condition named is the earliest of the rule that failed at
    any of their schools (no active agreement before no licence)."""
    wanted = list(dict.fromkeys(requested)) if requested is not None else list(STAFF_RELEASE)
    released = next((facts for facts in memberships if _covers(facts)), None)
    failed: Condition | None = None
    if released is None:
        without_agreement = any(not facts.agreement_active for facts in memberships)
        failed = Condition.NO_ACTIVE_AGREEMENT if without_agreement else Condition.NO_LICENCE
    allowed: set[str] = set()
    refused: list[Refusal] = []
    for key in wanted:
        condition = _staff_failed_condition(key, failed)
        if condition is None:
            allowed.add(key)
        else:
            refused.append(Refusal(key, condition))
    if released is None:
        return StaffDecision(frozenset(allowed), tuple(refused))
    return StaffDecision(
        frozenset(allowed),
        tuple(refused),
        released.agreement_id,
        covered=True,
        staff_id=released.staff_id,
        groups=tuple(sorted(released.licensed_groups)),
    )


def _covers(facts: StaffFacts) -> bool:
    return facts.agreement_active and bool(facts.licensed_groups)


def _staff_failed_condition(key: str, failed: Condition | None) -> Condition | None:
    if key not in catalogue.CATALOGUE and key not in STAFF_RELEASE:
        return Condition.UNKNOWN_ATTRIBUTE
    if failed is not None:
        return failed
    if key not in STAFF_RELEASE:
        return Condition.NOT_IN_SCHEDULE
    return None


def governing_question(
    product: int, supplier: int, board: int, day: date
) -> QuerySet[ProcessingAgreement, tuple[int]]:
    """The agreement that governs ``product`` at ``board`` on ``day`` (``governing_for``)."""
    the_product = Product(pk=product, supplier_id=supplier)
    return (
        ProcessingAgreement.objects.governing(the_product, day)
        .filter(board_id=board)
        .values_list("pk")[:1]
    )


def licensed_groups_question(
    product: int, staff: int, school: int, day: date
) -> QuerySet[Group, tuple[str]]:
    """Names of the teacher's active groups that a licence of their school in force on ``day``
    covers (by group, or by active pupils named on it)."""
    in_force = Licence.objects.in_force_on(day).filter(product_id=product, school_id=school)
    covered = Q(licences__in=in_force) | Q(
        students__licences__in=in_force, students__status=StudentStatus.ACTIVE
    )
    found = Group.objects.filter(covered, teachers=staff, is_active=True).order_by()
    return found.values_list("name").distinct()


GOVERNING = Prepared(governing_question, product=int, supplier=int, board=int, day=date)
LICENSED_GROUPS = Prepared(licensed_groups_question, product=int, staff=int, school=int, day=date)


def staff_facts_for(
    product: Product, memberships: Sequence[Staff], day: date | None = None
) -> tuple[StaffFacts, ...]:
    """The register's facts for ``product`` and each of a teacher's school memberships: which
    agreement governs is one query per board of their memberships (the memberships come with
    their schools); their licensed groups one more per membership with an agreement, in one
    query. A membership that is not an active teacher's at a school teaches no licensed group.
    Both are prepared queries (:func:`governing_question`, :func:`licensed_groups_question`)."""
    day = day or timezone.localdate()
    boards = {staff.pk: staff.school.board_id for staff in memberships if staff.school is not None}
    agreements: dict[int, int | None] = {}
    for board in sorted(set(boards.values())):
        found = GOVERNING.rows(
            product=product.pk, supplier=product.supplier_id, board=board, day=day
        )
        agreements[board] = found[0][0] if found else None
    facts = []
    for staff in memberships:
        board_id = boards.get(staff.pk)
        agreement_id = None if board_id is None else agreements.get(board_id)
        if agreement_id is None:
            facts.append(StaffFacts(staff.pk, agreement_active=False))
            continue
        groups: frozenset[str] = frozenset()
        if staff.school_id is not None and staff.is_active and staff.has_role(StaffRole.TEACHER):
            groups = frozenset(
                name
                for (name,) in LICENSED_GROUPS.rows(
                    product=product.pk, staff=staff.pk, school=staff.school_id, day=day
                )
            )
        facts.append(StaffFacts(staff.pk, True, groups, agreement_id))
    return tuple(facts)


def decide_staff(
    product: Product,
    memberships: Sequence[Staff],
    requested: Iterable[str] | None = None,
    *,
    day: date | None = None,
) -> StaffDecision:
    """What of a teacher (their school memberships, oldest first) may go to ``product``'s
    supplier, and why the rest may not."""
    return evaluate_staff(staff_facts_for(product, memberships, day), requested)
