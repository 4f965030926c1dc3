"""The texts of a data breach: the fields of the AP's notification form (Meldformulier
datalekken), filled in from the incident and editable; and the notice to the affected pupils'
guardians, drafted here and sent through the portal's notifications (:mod:`.jobs`).

We do not submit to the AP: the privacy officer copies the fields into the AP's form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from regie.audit.services import actor_for, record
from regie.roster.models import Guardian

from . import events, severity
from .incidents import category_label, per_category
from .models import Incident

# The AP's notification form, in its order: key → label.
AP_FIELDS: Mapping[str, Promise] = {
    "organisation": gettext_lazy("Organisatie (verwerkingsverantwoordelijke)"),
    "contact": gettext_lazy("Contactpersoon voor meer informatie"),
    "summary": gettext_lazy("Samenvatting van het incident (aard van de inbreuk)"),
    "breach_time": gettext_lazy("Wanneer vond de inbreuk plaats"),
    "detected_time": gettext_lazy("Wanneer is de inbreuk ontdekt"),
    "processor": gettext_lazy("Betrokken verwerker (leverancier)"),
    "data_categories": gettext_lazy("Soorten persoonsgegevens"),
    "persons": gettext_lazy("Categorieën en (bij benadering) aantal betrokken personen"),
    "records": gettext_lazy("Aantal (bij benadering) betrokken gegevensrecords"),
    "consequences": gettext_lazy("Waarschijnlijke gevolgen voor de betrokkenen"),
    "measures": gettext_lazy("Genomen en voorgestelde maatregelen"),
    "persons_informed": gettext_lazy("Zijn de betrokkenen geïnformeerd"),
    "late_reason": gettext_lazy("Reden voor een melding na 72 uur"),
}


@dataclass(frozen=True)
class ApField:
    key: str
    label: Promise
    value: str


def _when(moment: object) -> str:
    return str(formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT"))  # type: ignore[arg-type]


def ap_defaults(incident: Incident) -> dict[str, str]:
    """The form's fields as the register fills them in."""
    affected = incident.affected.count()
    records = sum(incident.affected.values_list("releases", flat=True))
    categories = per_category(incident)
    scored = severity.assess(incident.severity)
    return {
        "organisation": incident.board.name,
        "contact": _("De functionaris gegevensbescherming van %(board)s")
        % {"board": incident.board.name},
        "summary": incident.description,
        "breach_time": _("Tussen %(start)s en %(end)s")
        % {"start": _when(incident.window_from), "end": _when(incident.window_to)},
        "detected_time": _when(incident.detected_at),
        "processor": incident.supplier.name if incident.supplier else _("geen (intern)"),
        "data_categories": ", ".join(category_label(key) for key, _count in categories)
        or ", ".join(category_label(key) for key in incident.categories),
        "persons": _("Leerlingen: %(count)s (berekend uit het verstrekkingenlogboek)")
        % {"count": affected},
        "records": _("%(count)s verstrekkingen") % {"count": records},
        "consequences": _("Ernst volgens de ENISA-methode: %(level)s (score %(score)s).")
        % {"level": scored.level_label, "score": scored.score},
        "measures": "",
        "persons_informed": _("Ja") if incident.guardians_sent_at else _("Nee, nog niet"),
        "late_reason": "",
    }


def ap_fields(incident: Incident) -> list[ApField]:
    """The form's fields: what the privacy officer edited, else the register's default."""
    defaults = ap_defaults(incident)
    edited = incident.ap_fields or {}
    return [
        ApField(key, label, str(edited.get(key, defaults[key]))) for key, label in AP_FIELDS.items()
    ]


def save_ap_fields(incident: Incident, values: Mapping[str, str]) -> None:
    incident.ap_fields = {key: values[key] for key in AP_FIELDS if key in values}
    incident.save(update_fields=["ap_fields"])


def guardians_default(incident: Incident) -> tuple[str, str]:
    """The draft to guardians, in plain Dutch (B1): what happened, which data, what we do, who
    to ask. About the reader's own child only: nothing about other pupils."""
    subject = _("Een datalek met gegevens van uw kind")
    supplier = incident.supplier.name if incident.supplier else incident.board.name
    body = "\n\n".join(
        [
            _("Beste ouder of verzorger,"),
            _(
                "Bij %(supplier)s is iets misgegaan met gegevens van leerlingen. Daarbij gaat "
                "het ook om gegevens van uw kind. Dat noemen we een datalek."
            )
            % {"supplier": supplier},
            _("Wat is er gebeurd? %(what)s") % {"what": incident.description},
            _(
                "Wat doen wij? We hebben het lek onderzocht en maatregelen genomen. Als dat moet, "
                "melden we het bij de Autoriteit Persoonsgegevens."
            ),
            _(
                "Hebt u vragen? Neem dan contact op met de functionaris gegevensbescherming van "
                "%(board)s."
            )
            % {"board": incident.board.name},
        ]
    )
    return subject, body


def guardians_draft(incident: Incident) -> tuple[str, str]:
    if incident.guardians_subject and incident.guardians_body:
        return incident.guardians_subject, incident.guardians_body
    return guardians_default(incident)


def save_guardians_draft(incident: Incident, subject: str, body: str) -> None:
    incident.guardians_subject = subject.strip()[:200]
    incident.guardians_body = body.strip()
    incident.save(update_fields=["guardians_subject", "guardians_body"])


def recipients(incident: Incident) -> list[tuple[int, str]]:
    """(pupil id, address) of every active guardian with an address of an affected pupil."""
    pupils = incident.affected.values_list("student_id", flat=True)
    links = Guardian.students.through.objects.filter(
        student_id__in=pupils, guardian__is_active=True
    ).exclude(guardian__email="")
    return sorted(set(links.values_list("student_id", "guardian__email")))


def send_to_guardians(incident: Incident, *, user: object) -> None:
    """Send the draft as a job (the payload: the incident's id)."""
    from .jobs import send_breach_notices

    subject, body = guardians_draft(incident)
    save_guardians_draft(incident, subject, body)
    send_breach_notices.defer(incident=incident.pk, actor=actor_for(user))  # type: ignore[arg-type]


def send_now(incident: Incident, actor: str) -> int:
    """The job's work: one message per guardian and affected child, once."""
    from regie.portal.notifications import notify

    if incident.guardians_sent_at is not None:
        return 0
    targets = recipients(incident)
    subject, body = guardians_draft(incident)
    for _pupil, address in targets:
        notify("breach", address, {"subject": subject, "body": body})
    incident.guardians_sent_at = timezone.now()
    incident.save(update_fields=["guardians_sent_at"])
    record(
        events.INCIDENT_GUARDIANS_SENT,
        actor,
        f"incident:{incident.pk}",
        {"messages": len(targets), "pupils": len({pupil for pupil, _ in targets})},
    )
    return len(targets)
