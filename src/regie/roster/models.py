"""The school's own people and groups, as its administration system (LAS) knows them.

Every record belongs to one school and carries the LAS's own stable key (``las_key``), so that
the next export of the same LAS is applied as a diff. A pupil's national number (PGN) is never
stored: only the pseudonyms the number service made from it — the stampseudonym (which the law
lets the school keep) and the ECK iD of the school's sector.

A pupil who changes school is a new :class:`Student` record at the new school; within one board
the hub links it to the record at the old school (``previous``): automatically when both carry the
same ECK iD (same sector), and only by an explicit, audited act of the school across sectors
(PO → VO gives another ECK iD).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from regie.core import datacategories as dc
from regie.core.models import School, SchoolYear


class GroupKind(models.TextChoices):
    GROUP = "group", _("groep / klas")
    COMPOSITE = "composite", _("samengestelde groep")


class Gender(models.TextChoices):
    MALE = "M", _("man")
    FEMALE = "V", _("vrouw")
    OTHER = "X", _("anders")
    UNKNOWN = "", _("onbekend")


class StudentStatus(models.TextChoices):
    ACTIVE = "active", _("ingeschreven")
    LEFT = "left", _("uitgeschreven")


class LinkReason(models.TextChoices):
    MOVE = "move", _("schoolwissel binnen de sector (zelfde ECK iD)")
    SECTOR_CHANGE = "sector_change", _("overstap naar een andere sector (door de school gekoppeld)")


class StaffRole(models.TextChoices):
    TEACHER = "teacher", _("leerkracht")
    CARE_COORDINATOR = "care_coordinator", _("intern begeleider")
    PRIVACY_OFFICER = "privacy_officer", _("functionaris gegevensbescherming")
    SCHOOL_ADMIN = "school_admin", _("schoolbeheerder")
    BOARD_ADMIN = "board_admin", _("bestuursbeheerder")


class NamedPerson(models.Model):
    """Dutch name parts, as a LAS records them."""

    voornamen = models.CharField(_("voornamen"), max_length=200, blank=True)
    voorvoegsel = models.CharField(_("voorvoegsel"), max_length=30, blank=True)
    achternaam = models.CharField(_("achternaam"), max_length=200)

    class Meta:
        abstract = True

    @property
    def family_name(self) -> str:
        """``van der Berg``: the voorvoegsel with the achternaam."""
        return f"{self.voorvoegsel} {self.achternaam}".strip()


class Group(models.Model):
    """A group (stamgroep, klas) or composite group (cluster, lesgroep) of a school."""

    PERSONAL_DATA: ClassVar[bool] = False

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="groups")
    las_key = models.CharField(_("LAS-sleutel"), max_length=100)
    name = models.CharField(_("naam"), max_length=200)
    kind = models.CharField(_("soort"), max_length=10, choices=GroupKind.choices)
    year_level = models.CharField(_("jaargroep / leerjaar"), max_length=10, blank=True)
    school_year = models.ForeignKey(
        SchoolYear, on_delete=models.PROTECT, null=True, blank=True, related_name="groups"
    )
    is_active = models.BooleanField(_("actief"), default=True)

    class Meta:
        verbose_name = _("groep")
        verbose_name_plural = _("groepen")
        ordering = ("school", "year_level", "name")
        constraints = [
            models.UniqueConstraint(fields=("school", "las_key"), name="group_school_key")
        ]

    def __str__(self) -> str:
        return self.name


class StudentManager(models.Manager["Student"]):
    """The school's real pupils: every page, count, import and service of the hub sees these.

    A canary (``is_canary``, :mod:`regie.retention.canaries`) is a fictional pupil the hub
    releases to suppliers like a real one, to prove later that they deleted it. School staff
    must never meet one as a pupil, so the default manager leaves canaries out — and with it
    every related manager (``group.students``, ``order.students``, …). Only the channels that
    release pupils to suppliers, and retention's own canary code, read
    :attr:`Student.with_canaries`. A join (``Count("students")``) does not pass a manager: it
    filters with :data:`REAL_PUPILS`.
    """

    def get_queryset(self) -> models.QuerySet[Student]:
        return super().get_queryset().filter(is_canary=False)


class Student(NamedPerson):
    """A pupil (leerling) at one school."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "voornamen": dc.FIRST_NAME,
        "voorvoegsel": dc.LAST_NAME,
        "achternaam": dc.LAST_NAME,
        "school": dc.ENROLMENT,
        "las_key": dc.UNIQUE_ID,
        "roepnaam": dc.FIRST_NAME,
        "birth_date": dc.DATE_OF_BIRTH,
        "gender": dc.GENDER,
        "year_level": dc.ENROLMENT,
        "stampseudonym": dc.STAMPSEUDONYM,
        "eck_id": dc.ECK_ID,
        "status": dc.ENROLMENT,
        "left_on": dc.ENROLMENT,
        "previous": dc.ENROLMENT,
        "link_reason": dc.ENROLMENT,
        "groups": dc.ENROLMENT,
        "created_at": dc.NOT_PERSONAL,
        "updated_at": dc.NOT_PERSONAL,
        "is_canary": dc.NOT_PERSONAL,
    }

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="students")
    las_key = models.CharField(_("LAS-sleutel"), max_length=100)
    roepnaam = models.CharField(_("roepnaam"), max_length=100, blank=True)
    birth_date = models.DateField(_("geboortedatum"), null=True, blank=True)
    gender = models.CharField(_("geslacht"), max_length=1, choices=Gender.choices, blank=True)
    year_level = models.CharField(_("jaargroep / leerjaar"), max_length=10, blank=True)
    stampseudonym = models.CharField(_("stampseudoniem"), max_length=300, blank=True)
    eck_id = models.CharField(_("ECK iD"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=StudentStatus.choices, default=StudentStatus.ACTIVE
    )
    left_on = models.DateField(_("uitgeschreven op"), null=True, blank=True)
    previous = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="next",
        verbose_name=_("vorige inschrijving"),
    )
    link_reason = models.CharField(
        _("reden koppeling"), max_length=20, choices=LinkReason.choices, blank=True
    )
    groups = models.ManyToManyField(Group, related_name="students", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A fictional pupil of retention's canaries: never shown to staff (see StudentManager).
    is_canary = models.BooleanField(default=False, editable=False)

    with_canaries = models.Manager()  # the release to suppliers and retention's canaries only
    objects = StudentManager()

    class Meta:
        default_manager_name = "objects"  # real pupils: canaries never reach staff
        verbose_name = _("leerling")
        verbose_name_plural = _("leerlingen")
        ordering = ("achternaam", "roepnaam")
        constraints = [
            models.UniqueConstraint(fields=("school", "las_key"), name="student_school_key"),
        ]
        indexes = [models.Index(fields=("eck_id",), name="student_eck_id")]

    def __str__(self) -> str:
        return f"{self.roepnaam or self.voornamen} {self.family_name}".strip()

    @property
    def is_active(self) -> bool:
        return self.status == StudentStatus.ACTIVE

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


REAL_PUPILS = models.Q(students__is_canary=False)
"""For a join over a group's or school's ``students``, which no manager filters: real pupils."""


class Guardian(NamedPerson):
    """A parent or guardian (ouder / verzorger) of one or more pupils of a school."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "voornamen": dc.FIRST_NAME,
        "voorvoegsel": dc.LAST_NAME,
        "achternaam": dc.LAST_NAME,
        "school": dc.RELATION,
        "las_key": dc.UNIQUE_ID,
        "email": dc.EMAIL,
        "relation": dc.RELATION,
        "students": dc.RELATION,
        "is_active": dc.NOT_PERSONAL,
    }

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="guardians")
    las_key = models.CharField(_("LAS-sleutel"), max_length=100)
    email = models.EmailField(_("e-mailadres"), blank=True)
    relation = models.CharField(_("relatie"), max_length=20, blank=True)
    students = models.ManyToManyField(Student, related_name="guardians", blank=True)
    is_active = models.BooleanField(_("actief"), default=True)

    class Meta:
        verbose_name = _("ouder / verzorger")
        verbose_name_plural = _("ouders / verzorgers")
        ordering = ("achternaam", "voornamen")
        constraints = [
            models.UniqueConstraint(fields=("school", "las_key"), name="guardian_school_key")
        ]

    def __str__(self) -> str:
        return f"{self.voornamen} {self.family_name}".strip()


class Staff(NamedPerson):
    """A member of staff of a school (or of the board, ``school`` empty) and their roles."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "voornamen": dc.FIRST_NAME,
        "voorvoegsel": dc.LAST_NAME,
        "achternaam": dc.LAST_NAME,
        "board": dc.ROLE,
        "school": dc.ROLE,
        "las_key": dc.UNIQUE_ID,
        "email": dc.EMAIL,
        "roles": dc.ROLE,
        "user": dc.USERNAME,
        "groups": dc.ROLE,
        "is_active": dc.NOT_PERSONAL,
    }

    board = models.ForeignKey(
        "core.Board", on_delete=models.CASCADE, related_name="staff", verbose_name=_("bestuur")
    )
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, null=True, blank=True, related_name="staff"
    )
    las_key = models.CharField(_("LAS-sleutel"), max_length=100, blank=True)
    email = models.EmailField(_("e-mailadres"), blank=True)
    roles = models.JSONField(_("rollen"), default=list, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff_memberships",
        verbose_name=_("inlogaccount"),
    )
    groups = models.ManyToManyField(Group, related_name="teachers", blank=True)
    is_active = models.BooleanField(_("actief"), default=True)

    class Meta:
        verbose_name = _("medewerker")
        verbose_name_plural = _("medewerkers")
        ordering = ("achternaam", "voornamen")
        constraints = [
            models.UniqueConstraint(
                fields=("school", "las_key"),
                condition=~models.Q(las_key=""),
                name="staff_school_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.voornamen} {self.family_name}".strip()

    def has_role(self, role: str) -> bool:
        return role in self.roles


class ImportStatus(models.TextChoices):
    REFUSED = "refused", _("geweigerd (fouten)")
    PREVIEWED = "previewed", _("klaar om toe te passen")
    QUEUED = "queued", _("wacht op verwerking")
    APPLYING = "applying", _("wordt toegepast")
    APPLIED = "applied", _("toegepast")
    FAILED = "failed", _("mislukt")
    DISCARDED = "discarded", _("weggegooid")


class ImportFailure(models.TextChoices):
    """Why applying an import failed (the page says it in the reader's language)."""

    REFUSED = "refused", _("de export past niet (meer) bij de hub")
    NUMBER_SERVICE_UNAVAILABLE = "nv_unavailable", _("de nummervoorziening was niet bereikbaar")
    NUMBER_SERVICE_BLOCKED = "nv_blocked", _("de nummervoorziening heeft de hub geblokkeerd")
    NUMBER_SERVICE_QUOTA = "nv_quota", _("het dagquotum van de nummervoorziening is op")
    NUMBER_SERVICE_LOGIN = "nv_login", _("de hub kon niet inloggen bij de nummervoorziening")
    NUMBER_SERVICE_REFUSED = "nv_refused", _("de nummervoorziening heeft de aanvraag geweigerd")
    USER_GONE = "user_gone", _("het account dat de import startte bestaat niet meer")
    ERROR = "error", _("er ging iets mis in de hub")


class ImportRun(models.Model):
    """One uploaded LAS export: its problems or its plan, and whether it was applied.

    The uploaded file itself waits in ``REGIE_IMPORT_DIR`` (readable by the hub only) until it is
    applied, discarded or expired; it is never stored in the database. Problems and plans name
    files, lines, fields and counts, never a value from the file.
    """

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "board": dc.NOT_PERSONAL,
        "uploaded_by": dc.USERNAME,
        "file_name": dc.NOT_PERSONAL,
        "source_format": dc.NOT_PERSONAL,
        "status": dc.NOT_PERSONAL,
        "problems": dc.NOT_PERSONAL,
        "plan": dc.NOT_PERSONAL,
        "created_at": dc.NOT_PERSONAL,
        "finished_at": dc.NOT_PERSONAL,
        "applied_by": dc.USERNAME,
        "removal_consent": dc.NOT_PERSONAL,
        "rows_done": dc.NOT_PERSONAL,
        "rows_total": dc.NOT_PERSONAL,
        "failure": dc.NOT_PERSONAL,
    }

    id = models.UUIDField(primary_key=True, editable=False)
    board = models.ForeignKey("core.Board", on_delete=models.CASCADE, related_name="imports")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file_name = models.CharField(_("bestand"), max_length=255)
    source_format = models.CharField(_("formaat"), max_length=30, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices)
    problems = models.JSONField(_("fouten"), default=list, blank=True)
    plan = models.JSONField(_("plan"), default=dict, blank=True)
    created_at = models.DateTimeField(_("geüpload"), auto_now_add=True)
    finished_at = models.DateTimeField(_("afgerond"), null=True, blank=True)
    # Applying runs as a job (``roster.apply_import``): who asked for it, the mass removals they
    # confirmed (school code and numbers, SchoolPlan.removal_key), how far it is (pupils whose
    # pseudonyms are obtained, of those that need them) and, when it failed, why (a code the page
    # explains; the problems, if any, in ``problems``). Never a value from the file.
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    removal_consent = models.JSONField(default=list, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    failure = models.CharField(max_length=32, choices=ImportFailure.choices, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"


class PendingPseudonym(models.Model):
    """Pseudonyms obtained for a PGN-bearing pupil of an import that has not been applied yet.

    Exchanging PGNs costs seconds per pupil, so what was obtained is kept until the import is
    applied: an interrupted import resumes without hashing those pupils again. Holds only what the
    school may keep anyway (stampseudonym, ECK iD); deleted when the import is applied.
    """

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "board": dc.NOT_PERSONAL,
        "school_code": dc.ENROLMENT,
        "las_key": dc.UNIQUE_ID,
        "stampseudonym": dc.STAMPSEUDONYM,
        "eck_id": dc.ECK_ID,
        "created_at": dc.NOT_PERSONAL,
    }

    board = models.ForeignKey("core.Board", on_delete=models.CASCADE, related_name="+")
    school_code = models.CharField(max_length=6)  # BRIN + vestiging: the school may be new
    las_key = models.CharField(max_length=100)
    stampseudonym = models.CharField(max_length=300)
    eck_id = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("board", "school_code", "las_key"), name="pending_school_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.school_code}/{self.las_key}"


# --- sensitive data: need-to-know (care coordinator and designated staff only) -------------------


class SensitiveCategory(models.TextChoices):
    """The kinds of sensitive record (keys of :data:`regie.core.datacategories.TAXONOMY`)."""

    PSYCHODIAGNOSTIC = dc.PSYCHODIAGNOSTIC.key, _("psychodiagnostisch onderzoek")
    CARE_PLAN = dc.CARE_PLAN.key, _("zorgplan / ontwikkelingsperspectief")
    SPECIAL_NEEDS = dc.SPECIAL_NEEDS.key, _("extra ondersteuning")
    HEALTH = dc.HEALTH.key, _("gezondheid")


class SensitiveSource(models.TextChoices):
    IMPORT = "import", _("uit de LAS-export")
    HAND = "hand", _("met de hand ingevoerd")


class SensitiveRecord(models.Model):
    """A sensitive record about a pupil: a psychodiagnostic result, a care plan, special needs or
    health. Only the care coordinator of the pupil's school and staff the board designated for
    that school read it (:func:`regie.roster.access.visible_sensitive_records`); every read is an
    audit event. Deleted with the pupil.

    Each row's own data category is in ``category``; the fields that hold its content are mapped to
    care data (``user.education.care``), the parent of three of the four kinds."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "student": dc.CARE,
        "school": dc.ENROLMENT,
        "category": dc.CARE,
        "title": dc.CARE,
        "content": dc.CARE,
        "date": dc.CARE,
        "source": dc.NOT_PERSONAL,
        "recorded_by": dc.USERNAME,
        "recorded_at": dc.NOT_PERSONAL,
    }

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="sensitive_records")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(_("soort"), max_length=60, choices=SensitiveCategory.choices)
    title = models.CharField(_("titel"), max_length=200)
    content = models.TextField(_("inhoud"))
    date = models.DateField(_("datum"))
    source = models.CharField(
        _("bron"), max_length=10, choices=SensitiveSource.choices, default=SensitiveSource.HAND
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("vastgelegd op"), auto_now_add=True)

    class Meta:
        verbose_name = _("gevoelig gegeven")
        verbose_name_plural = _("gevoelige gegevens")
        ordering = ("-date", "-pk")

    def __str__(self) -> str:
        return self.title


class SensitiveDesignation(models.Model):
    """The board designates a staff member to read a school's sensitive records (besides its care
    coordinator), with a reason. Given and withdrawn by the privacy officer or a board admin;
    both are audit events. A withdrawn designation stays, with when and by whom."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "board": dc.NOT_PERSONAL,
        "school": dc.ROLE,
        "staff": dc.ROLE,
        "reason": dc.ROLE,
        "given_by": dc.USERNAME,
        "given_at": dc.NOT_PERSONAL,
        "withdrawn_by": dc.USERNAME,
        "withdrawn_at": dc.NOT_PERSONAL,
    }

    board = models.ForeignKey("core.Board", on_delete=models.CASCADE, related_name="+")
    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey(
        Staff,
        on_delete=models.CASCADE,
        related_name="sensitive_designations",
        verbose_name=_("medewerker"),
    )
    reason = models.CharField(_("reden"), max_length=300)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    given_at = models.DateTimeField(_("aangewezen op"), auto_now_add=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    withdrawn_at = models.DateTimeField(_("ingetrokken op"), null=True, blank=True)

    class Meta:
        verbose_name = _("aanwijzing voor gevoelige gegevens")
        verbose_name_plural = _("aanwijzingen voor gevoelige gegevens")
        ordering = ("-given_at", "-pk")

    def __str__(self) -> str:
        return f"{self.staff} ({self.school})"
