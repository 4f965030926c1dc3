"""The register: suppliers, their products, processing agreements with data schedules, licences,
the school's switches, consent records, DPIA screenings and the participation council's decisions.

- :class:`Supplier` and :class:`Product` are a catalogue shared by every board of the hub: they
  are public facts about companies, not about pupils.
- :class:`ProcessingAgreement` (verwerkersovereenkomst, Model Verwerkersovereenkomst 4.0 or a
  general model) is between one board and one supplier; without a board it is a supplier's
  published *offer* that any board can adopt as its own. Its :class:`DataSchedule` per product
  (privacybijsluiter) lists the processings — purpose, data subjects, attributes from the fixed
  catalogue (:mod:`.catalogue`), sources, retention — and the subprocessors.
- :class:`Licence`, :class:`SchoolSwitch` and :class:`Consent` are the school's decisions the
  release policy (:mod:`.policy`) reads.

Changes go through :mod:`.services`, which validates, audits and refuses with a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from regie.core import datacategories as dc
from regie.core.models import KVK_VALIDATOR, Board, School, SchoolYear, Sector
from regie.roster.models import Group, Guardian, Student

from . import catalogue, dpia

# --- suppliers and products --------------------------------------------------------------------


class ConvenantStatus(models.TextChoices):
    """Where the supplier stands with the Privacyconvenant Digitale Onderwijsmiddelen."""

    DEELNEMER = "deelnemer", _("deelnemer")
    MEDESTANDER = "medestander", _("medestander")
    NONE = "none", _("geen")


class Supplier(models.Model):
    """A supplier of digital learning materials (uitgever, distributeur): a processor."""

    PERSONAL_DATA: ClassVar[bool] = True  # the contact person
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "name": dc.NOT_PERSONAL,
        "kvk": dc.NOT_PERSONAL,
        "website": dc.NOT_PERSONAL,
        "contact_name": dc.NAME,
        "contact_email": dc.EMAIL,
        "convenant_status": dc.NOT_PERSONAL,
        "certifications": dc.NOT_PERSONAL,
        "created_at": dc.NOT_PERSONAL,
    }

    name = models.CharField(_("naam"), max_length=200)
    kvk = models.CharField(_("KvK-nummer"), max_length=8, unique=True, validators=[KVK_VALIDATOR])
    website = models.URLField(_("website"), blank=True)
    contact_name = models.CharField(_("contactpersoon"), max_length=200, blank=True)
    contact_email = models.EmailField(_("e-mailadres contactpersoon"), blank=True)
    convenant_status = models.CharField(
        _("Privacyconvenant"),
        max_length=12,
        choices=ConvenantStatus.choices,
        default=ConvenantStatus.NONE,
    )
    certifications = models.JSONField(
        _("certificeringen"),
        default=list,
        blank=True,
        help_text=_("Bijvoorbeeld ISO 27001, NEN 7510, ISAE 3402."),
    )
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)

    class Meta:
        verbose_name = _("leverancier")
        verbose_name_plural = _("leveranciers")
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class ProductUsers(models.TextChoices):
    PUPILS = "pupils", _("leerlingen")
    TEACHERS = "teachers", _("leerkrachten")
    BOTH = "both", _("leerlingen en leerkrachten")


class Product(models.Model):
    """A digital learning material or service of a supplier."""

    PERSONAL_DATA: ClassVar[bool] = False

    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="products", verbose_name=_("leverancier")
    )
    name = models.CharField(_("naam"), max_length=200)
    url = models.URLField(_("adres (URL)"), blank=True)
    sector = models.CharField(_("sector"), max_length=3, choices=Sector.choices)
    users = models.CharField(
        _("gebruikers"), max_length=10, choices=ProductUsers.choices, default=ProductUsers.PUPILS
    )
    description = models.TextField(_("omschrijving"), blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("producten")
        ordering = ("supplier__name", "name")
        constraints = [
            models.UniqueConstraint(fields=("supplier", "name"), name="product_supplier_name")
        ]

    def __str__(self) -> str:
        return self.name


# --- processing agreements -----------------------------------------------------------------------


class AgreementModel(models.TextChoices):
    MVO4 = "mvo4", _("Model Verwerkersovereenkomst 4.0 (Privacyconvenant)")
    GENERAL = "general", _("algemeen model")


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("concept")
    OFFERED = "offered", _("aangeboden")
    SIGNED = "signed", _("ondertekend")
    ACTIVE = "active", _("actief")
    TERMINATED = "terminated", _("beëindigd")
    DATA_DESTROYED = "data_destroyed", _("gegevens vernietigd")


EDITABLE_STATUSES = frozenset({AgreementStatus.DRAFT, AgreementStatus.OFFERED})


class AgreementQuerySet(models.QuerySet["ProcessingAgreement"]):
    def offers(self) -> AgreementQuerySet:
        """Agreements a supplier published for any board to adopt."""
        return self.filter(board__isnull=True, status=AgreementStatus.OFFERED)

    def active_on(self, day: date) -> AgreementQuerySet:
        return self.filter(
            Q(end_date__isnull=True) | Q(end_date__gte=day),
            board__isnull=False,
            status=AgreementStatus.ACTIVE,
            start_date__lte=day,
        )

    def ending_within(self, day: date, days: int) -> AgreementQuerySet:
        """Active agreements whose end date lies within ``days`` days from ``day``."""
        return self.active_on(day).filter(end_date__lte=day + timedelta(days=days))

    def governing(self, product: Product, day: date) -> AgreementQuerySet:
        """The agreements that can govern what goes to ``product``'s supplier on ``day``: active,
        with a data schedule for the product. Per board the first is the governing one (the latest
        start, then the latest made); :meth:`governing_for` picks it."""
        return (
            self.active_on(day)
            .filter(supplier_id=product.supplier_id, schedules__product=product)
            .order_by("-start_date", "-pk")
        )

    def governing_for(
        self, board_id: int, product: Product, day: date
    ) -> ProcessingAgreement | None:
        """The board's agreement that governs ``product`` on ``day``: without one, nothing about
        the board's pupils or staff goes to the supplier for it (:mod:`.policy`)."""
        return self.governing(product, day).filter(board_id=board_id).first()


class ProcessingAgreement(models.Model):
    """A verwerkersovereenkomst between a board (controller) and a supplier (processor)."""

    PERSONAL_DATA: ClassVar[bool] = True  # the signatories
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "board": dc.NOT_PERSONAL,
        "supplier": dc.NOT_PERSONAL,
        "title": dc.NOT_PERSONAL,
        "model": dc.NOT_PERSONAL,
        "version": dc.NOT_PERSONAL,
        "status": dc.NOT_PERSONAL,
        "board_signatory": dc.NAME,
        "board_signatory_role": dc.ROLE,
        "board_signed_on": dc.NOT_PERSONAL,
        "supplier_signatory": dc.NAME,
        "supplier_signatory_role": dc.ROLE,
        "supplier_signed_on": dc.NOT_PERSONAL,
        "start_date": dc.NOT_PERSONAL,
        "end_date": dc.NOT_PERSONAL,
        "terminated_on": dc.NOT_PERSONAL,
        "data_destroyed_on": dc.NOT_PERSONAL,
        "adopted_from": dc.NOT_PERSONAL,
        "created_at": dc.NOT_PERSONAL,
        "updated_at": dc.NOT_PERSONAL,
    }

    board = models.ForeignKey(
        Board,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreements",
        verbose_name=_("schoolbestuur"),
        help_text=_("Leeg: een aanbod van de leverancier dat elk bestuur kan overnemen."),
    )
    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="agreements", verbose_name=_("leverancier")
    )
    title = models.CharField(_("titel"), max_length=200)
    model = models.CharField(
        _("model"), max_length=10, choices=AgreementModel.choices, default=AgreementModel.MVO4
    )
    version = models.CharField(_("versie"), max_length=30, default="1")
    status = models.CharField(
        _("status"), max_length=15, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    board_signatory = models.CharField(_("ondertekenaar bestuur"), max_length=200, blank=True)
    board_signatory_role = models.CharField(_("functie"), max_length=200, blank=True)
    board_signed_on = models.DateField(_("ondertekend door bestuur op"), null=True, blank=True)
    supplier_signatory = models.CharField(
        _("ondertekenaar leverancier"), max_length=200, blank=True
    )
    supplier_signatory_role = models.CharField(_("functie"), max_length=200, blank=True)
    supplier_signed_on = models.DateField(
        _("ondertekend door leverancier op"), null=True, blank=True
    )
    start_date = models.DateField(_("ingangsdatum"), null=True, blank=True)
    end_date = models.DateField(_("einddatum"), null=True, blank=True)
    terminated_on = models.DateField(_("beëindigd op"), null=True, blank=True)
    data_destroyed_on = models.DateField(_("gegevens vernietigd op"), null=True, blank=True)
    adopted_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="adoptions",
        verbose_name=_("overgenomen van aanbod"),
    )
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)
    updated_at = models.DateTimeField(_("gewijzigd"), auto_now=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        verbose_name = _("verwerkersovereenkomst")
        verbose_name_plural = _("verwerkersovereenkomsten")
        ordering = ("supplier__name", "-created_at")

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"

    @property
    def is_offer(self) -> bool:
        return self.board_id is None

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    def is_active_on(self, day: date) -> bool:
        return (
            self.board_id is not None
            and self.status == AgreementStatus.ACTIVE
            and self.start_date is not None
            and self.start_date <= day
            and (self.end_date is None or self.end_date >= day)
        )

    @property
    def is_signed(self) -> bool:
        """Both parties named a signatory and a date of signature."""
        return bool(
            self.board_signatory
            and self.board_signed_on
            and self.supplier_signatory
            and self.supplier_signed_on
        )


class Deviation(models.Model):
    """A deviation from the model agreement, with the reason the parties agreed on it."""

    PERSONAL_DATA: ClassVar[bool] = False

    agreement = models.ForeignKey(
        ProcessingAgreement, on_delete=models.CASCADE, related_name="deviations"
    )
    clause = models.CharField(_("artikel"), max_length=50)
    text = models.TextField(_("afwijking"))
    reason = models.TextField(_("reden"))

    class Meta:
        verbose_name = _("afwijking van het model")
        verbose_name_plural = _("afwijkingen van het model")
        ordering = ("agreement", "pk")

    def __str__(self) -> str:
        return f"{self.clause}: {self.text[:40]}"


class DataSchedule(models.Model):
    """The privacybijsluiter: the annex of an agreement that says what happens in one product."""

    PERSONAL_DATA: ClassVar[bool] = False

    agreement = models.ForeignKey(
        ProcessingAgreement, on_delete=models.CASCADE, related_name="schedules"
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="schedules", verbose_name=_("product")
    )
    breach_notification_hours = models.PositiveIntegerField(
        _("melding datalek binnen (uren)"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(72)],
    )
    destruction_days = models.PositiveIntegerField(
        _("vernietiging na einde overeenkomst (dagen)"),
        default=90,
        validators=[MaxValueValidator(3650)],
    )

    class Meta:
        verbose_name = _("privacybijsluiter")
        verbose_name_plural = _("privacybijsluiters")
        constraints = [
            models.UniqueConstraint(fields=("agreement", "product"), name="schedule_per_product")
        ]

    def __str__(self) -> str:
        return f"{self.product} — {self.agreement.title}"

    def attributes(self) -> frozenset[str]:
        """Every attribute any of the schedule's processings names."""
        keys: set[str] = set()
        for processing in self.processings.all():
            keys.update(processing.attributes)
        return frozenset(keys)


class RetentionUnit(models.TextChoices):
    DAYS = "days", _("dagen")
    MONTHS = "months", _("maanden")
    YEARS = "years", _("jaren")


class RetentionTrigger(models.TextChoices):
    LEFT_SCHOOL = "left_school", _("na uitschrijving van de leerling")
    END_OF_CONTRACT = "end_of_contract", _("na het einde van de overeenkomst")
    END_OF_SCHOOL_YEAR = "end_of_school_year", _("na het einde van het schooljaar")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("na het intrekken van de toestemming")


def period_in_words(period: int, unit: str) -> str:
    """``12 maanden``, ``1 jaar``, ``30 dagen`` (in the current language)."""
    if unit == RetentionUnit.DAYS:
        amount = ngettext("%(count)d dag", "%(count)d dagen", period)
    elif unit == RetentionUnit.YEARS:
        amount = ngettext("%(count)d jaar", "%(count)d jaar", period)
    else:
        amount = ngettext("%(count)d maand", "%(count)d maanden", period)
    return amount % {"count": period}


class Processing(models.Model):
    """One processing (verwerking) in a data schedule: a purpose and the data it needs."""

    PERSONAL_DATA: ClassVar[bool] = False

    schedule = models.ForeignKey(DataSchedule, on_delete=models.CASCADE, related_name="processings")
    purpose = models.CharField(_("doel"), max_length=300)
    subjects = models.JSONField(_("betrokkenen"), default=list)
    attributes = models.JSONField(_("gegevens"), default=list)
    sources = models.CharField(
        _("herkomst"), max_length=300, blank=True, help_text=_("Bijvoorbeeld: de school via regie.")
    )
    retention_period = models.PositiveIntegerField(_("bewaartermijn"))
    retention_unit = models.CharField(
        _("eenheid"), max_length=6, choices=RetentionUnit.choices, default=RetentionUnit.MONTHS
    )
    retention_trigger = models.CharField(
        _("vanaf"), max_length=20, choices=RetentionTrigger.choices
    )

    class Meta:
        verbose_name = _("verwerking")
        verbose_name_plural = _("verwerkingen")
        ordering = ("schedule", "pk")

    def __str__(self) -> str:
        return self.purpose

    def retention_in_words(self) -> str:
        """``12 maanden na uitschrijving van de leerling`` (in the current language)."""
        amount = period_in_words(self.retention_period, self.retention_unit)
        return f"{amount} {RetentionTrigger(self.retention_trigger).label}"

    def attribute_labels(self) -> list[str]:
        return [str(catalogue.CATALOGUE[key].label) for key in self.attributes]


class TransferMechanism(models.TextChoices):
    NONE = "none", _("geen doorgifte buiten de EER")
    ADEQUACY = "adequacy", _("adequaatheidsbesluit (art. 45 AVG)")
    SCC = "scc", _("modelcontractbepalingen (art. 46 AVG)")
    BCR = "bcr", _("bindende bedrijfsvoorschriften (art. 47 AVG)")


class Subprocessor(models.Model):
    """A subverwerker the supplier engages for a product."""

    PERSONAL_DATA: ClassVar[bool] = False

    schedule = models.ForeignKey(
        DataSchedule, on_delete=models.CASCADE, related_name="subprocessors"
    )
    name = models.CharField(_("naam"), max_length=200)
    kvk = models.CharField(_("KvK-nummer"), max_length=8, blank=True, validators=[KVK_VALIDATOR])
    location = models.CharField(
        _("locatie (land)"), max_length=2, help_text=_("Landcode, bijvoorbeeld NL of IE.")
    )
    transfer_mechanism = models.CharField(
        _("doorgifte buiten de EER"),
        max_length=10,
        choices=TransferMechanism.choices,
        default=TransferMechanism.NONE,
    )

    class Meta:
        verbose_name = _("subverwerker")
        verbose_name_plural = _("subverwerkers")
        ordering = ("schedule", "name")

    def __str__(self) -> str:
        return self.name


# --- the school's decisions ----------------------------------------------------------------------


class LicenceQuerySet(models.QuerySet["Licence"]):
    def in_force_on(self, day: date) -> LicenceQuerySet:
        """The licences of the school year ``day`` falls in."""
        return self.filter(SchoolYear.containing(day, "school_year__"))

    def covering(self, student: Student) -> LicenceQuerySet:
        """The licences of the pupil's school for their group or naming them (whether they are
        still enrolled is the caller's question, as in :meth:`Licence.covers`)."""
        return self.filter(
            Q(group__students=student) | Q(students=student), school_id=student.school_id
        )


class Licence(models.Model):
    """The school bought a product for a group or for named pupils, for one school year."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "product": dc.NOT_PERSONAL,
        "school": dc.NOT_PERSONAL,
        "school_year": dc.NOT_PERSONAL,
        "group": dc.NOT_PERSONAL,
        "students": dc.ENROLMENT,
        "granted_by": dc.USERNAME,
        "created_at": dc.NOT_PERSONAL,
    }

    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="licences", verbose_name=_("product")
    )
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="licences", verbose_name=_("school")
    )
    school_year = models.ForeignKey(
        SchoolYear, on_delete=models.PROTECT, related_name="licences", verbose_name=_("schooljaar")
    )
    group = models.ForeignKey(
        Group,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="licences",
        verbose_name=_("groep"),
    )
    students = models.ManyToManyField(
        Student, related_name="licences", blank=True, verbose_name=_("leerlingen")
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)

    objects = LicenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("licentie")
        verbose_name_plural = _("licenties")
        ordering = ("school", "product", "-created_at")

    def __str__(self) -> str:
        holder = self.group.name if self.group else _("leerlingen")
        return f"{self.product} — {holder} ({self.school_year})"

    def covers(self, student: Student) -> bool:
        """The pupil is in the licensed group, or named on the licence, and still enrolled."""
        if student.school_id != self.school_id or not student.is_active:
            return False
        if self.group_id is not None:
            return student.groups.filter(pk=self.group_id).exists()
        return self.students.filter(pk=student.pk).exists()


class SchoolSwitch(models.Model):
    """A school switched an attribute of a product's schedule on (a row exists) for its pupils."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "school": dc.NOT_PERSONAL,
        "product": dc.NOT_PERSONAL,
        "attribute": dc.NOT_PERSONAL,
        "switched_by": dc.USERNAME,
        "switched_at": dc.NOT_PERSONAL,
    }

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="switches")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="switches")
    attribute = models.CharField(_("gegeven"), max_length=40, choices=catalogue.choices)
    switched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    switched_at = models.DateTimeField(_("aangezet op"), auto_now_add=True)

    class Meta:
        verbose_name = _("schakelaar")
        verbose_name_plural = _("schakelaars")
        constraints = [
            models.UniqueConstraint(
                fields=("school", "product", "attribute"), name="switch_school_product_attribute"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product}: {self.attribute}"


class ConsentGivenBy(models.TextChoices):
    GUARDIAN = "guardian", _("ouder / verzorger")
    PUPIL = "pupil", _("de leerling zelf (16 jaar of ouder)")


class Consent(models.Model):
    """One decision about consent for one attribute of one product: given or withdrawn.

    Records are never changed: the latest per (pupil, product, attribute) is what holds, so a
    withdrawal takes effect at the next release and the history stays provable.
    """

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "student": dc.PRIVACY_PREFERENCES,
        "product": dc.PRIVACY_PREFERENCES,
        "attribute": dc.PRIVACY_PREFERENCES,
        "given": dc.PRIVACY_PREFERENCES,
        "given_by": dc.RELATION,
        "guardian": dc.RELATION,
        "recorded_by": dc.USERNAME,
        "decided_at": dc.PRIVACY_PREFERENCES,
    }

    student = models.ForeignKey(
        Student, on_delete=models.CASCADE, related_name="consents", verbose_name=_("leerling")
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="consents", verbose_name=_("product")
    )
    attribute = models.CharField(_("gegeven"), max_length=40, choices=catalogue.choices)
    given = models.BooleanField(_("toestemming gegeven"))
    given_by = models.CharField(_("besloten door"), max_length=10, choices=ConsentGivenBy.choices)
    guardian = models.ForeignKey(
        Guardian,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consents",
        verbose_name=_("ouder / verzorger"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("besloten op"))

    class Meta:
        verbose_name = _("toestemming")
        verbose_name_plural = _("toestemmingen")
        ordering = ("student", "product", "attribute", "-decided_at", "-pk")
        indexes = [
            models.Index(fields=("student", "product", "attribute"), name="consent_lookup"),
        ]

    def __str__(self) -> str:
        return f"{self.attribute}: {'+' if self.given else '-'}"


# --- the board's obligations ---------------------------------------------------------------------


class DpiaScreening(models.Model):
    """A pre-DPIA screening of a product by a board: which of the EDPB's nine criteria apply."""

    PERSONAL_DATA: ClassVar[bool] = False

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="dpia_screenings")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="dpia_screenings")
    criteria = models.JSONField(_("criteria die van toepassing zijn"), default=list, blank=True)
    notes = models.TextField(_("toelichting"), blank=True)
    screened_on = models.DateField(_("beoordeeld op"))

    class Meta:
        verbose_name = _("DPIA-toets")
        verbose_name_plural = _("DPIA-toetsen")
        constraints = [
            models.UniqueConstraint(fields=("board", "product"), name="dpia_board_product")
        ]

    def __str__(self) -> str:
        return f"{self.product} ({self.board})"

    @property
    def dpia_required(self) -> bool:
        """Two or more criteria: a DPIA is required (EDPB WP248 rev.01)."""
        return dpia.required(self.criteria)


class DpiaOutcome(models.TextChoices):
    """The conclusion of a DPIA (AVG art. 35 lid 7): is the remaining risk acceptable?"""

    ACCEPTABLE = "acceptable", _("aanvaardbaar")
    WITH_MEASURES = "with_measures", _("aanvaardbaar met maatregelen")
    NOT_ACCEPTABLE = "not_acceptable", _("niet aanvaardbaar")


class Dpia(models.Model):
    """The DPIA a board carried out (or had carried out) for a product: when, with what outcome,
    the document it is written down in and who reviewed it. One per (board, product): a new DPIA
    replaces the record, the audit log keeps every version's outcome."""

    PERSONAL_DATA: ClassVar[bool] = True  # the reviewer
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "board": dc.NOT_PERSONAL,
        "product": dc.NOT_PERSONAL,
        "performed_on": dc.NOT_PERSONAL,
        "outcome": dc.NOT_PERSONAL,
        "reference": dc.NOT_PERSONAL,
        "reviewer_name": dc.NAME,
        "reviewer_role": dc.ROLE,
        "notes": dc.NOT_PERSONAL,
        "recorded_by": dc.USERNAME,
        "recorded_at": dc.NOT_PERSONAL,
    }

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="dpias")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="dpias")
    performed_on = models.DateField(_("datum DPIA"))
    outcome = models.CharField(_("uitkomst"), max_length=15, choices=DpiaOutcome.choices)
    reference = models.CharField(
        _("kenmerk van het document"),
        max_length=100,
        help_text=_("Het nummer of de naam waaronder het DPIA-rapport is opgeslagen."),
    )
    reviewer_name = models.CharField(_("beoordeeld door"), max_length=200)
    reviewer_role = models.CharField(_("functie beoordelaar"), max_length=200)
    notes = models.TextField(_("toelichting"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("vastgelegd op"), auto_now=True)

    class Meta:
        verbose_name = _("DPIA")
        verbose_name_plural = _("DPIA's")
        constraints = [
            models.UniqueConstraint(fields=("board", "product"), name="dpia_record_board_product")
        ]

    def __str__(self) -> str:
        return f"{self.product} ({self.board}): {self.get_outcome_display()}"

    @property
    def allows_use(self) -> bool:
        """The outcome lets the board take the product into use."""
        return self.outcome != DpiaOutcome.NOT_ACCEPTABLE


class DpiaWaiver(models.Model):
    """An explicit exception: the board takes a product into use without a (positive) DPIA, for a
    reason it wrote down. Who and when are kept here and in the audit log."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "board": dc.NOT_PERSONAL,
        "product": dc.NOT_PERSONAL,
        "reason": dc.NOT_PERSONAL,
        "granted_by": dc.USERNAME,
        "granted_at": dc.NOT_PERSONAL,
    }

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="dpia_waivers")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="dpia_waivers")
    reason = models.TextField(_("reden"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    granted_at = models.DateTimeField(_("vastgelegd op"), auto_now_add=True)

    class Meta:
        verbose_name = _("uitzondering op de DPIA")
        verbose_name_plural = _("uitzonderingen op de DPIA")
        constraints = [
            models.UniqueConstraint(fields=("board", "product"), name="dpia_waiver_board_product")
        ]

    def __str__(self) -> str:
        return f"{self.product} ({self.board})"


class CouncilDecision(models.Model):
    """The participation council's (MR / GMR) decision on the privacy regulation."""

    PERSONAL_DATA: ClassVar[bool] = False

    class Decision(models.TextChoices):
        CONSENT = "consent", _("instemming")
        REFUSED = "refused", _("geen instemming")

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="council_decisions")
    document_title = models.CharField(_("document"), max_length=200, default="Privacyreglement")
    document_version = models.CharField(_("versie van het document"), max_length=30)
    decided_on = models.DateField(_("datum besluit"))
    decision = models.CharField(_("besluit"), max_length=10, choices=Decision.choices)
    notes = models.TextField(_("toelichting"), blank=True)

    class Meta:
        verbose_name = _("besluit medezeggenschapsraad")
        verbose_name_plural = _("besluiten medezeggenschapsraad")
        ordering = ("board", "-decided_on")

    def __str__(self) -> str:
        return f"{self.document_title} {self.document_version}: {self.get_decision_display()}"
