"""How a rights request reads for the requester and the privacy officer: its steps, the hub's
own outcome, the kinds with a plain explanation of each right."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from regie.agreements.models import Supplier

from . import requests
from .models import RequestKind, RightsRequest

# Each right in plain Dutch (B1), for the form.
KIND_EXPLANATIONS: dict[str, str | Promise] = {
    RequestKind.ACCESS: gettext_lazy(
        "Inzage: u krijgt een overzicht van alle gegevens die de school en de leveranciers over "
        "de leerling hebben, als bestand."
    ),
    RequestKind.RECTIFICATION: gettext_lazy(
        "Correctie: een gegeven klopt niet. De school verbetert het in de leerlingadministratie. "
        "Schrijf in de toelichting wat er niet klopt."
    ),
    RequestKind.ERASURE: gettext_lazy(
        "Verwijdering: de leveranciers en de hub verwijderen de gegevens van de leerling, "
        "behalve wat de wet de school laat bewaren. U hoort wat bewaard blijft en waarom."
    ),
    RequestKind.RESTRICTION: gettext_lazy(
        "Beperking: de gegevens worden tijdelijk niet gebruikt, bijvoorbeeld zolang een "
        "correctie of bezwaar loopt."
    ),
    RequestKind.OBJECTION: gettext_lazy(
        "Bezwaar: u wilt niet dat de gegevens van de leerling voor een bepaald doel gebruikt "
        "worden. Schrijf in de toelichting waarom."
    ),
}


# The same for a pupil of 16 or older, who exercises their own rights ("je").
KIND_EXPLANATIONS_PUPIL: dict[str, str | Promise] = {
    RequestKind.ACCESS: gettext_lazy(
        "Inzage: je krijgt een overzicht van alle gegevens die de school en de leveranciers over "
        "jou hebben, als bestand."
    ),
    RequestKind.RECTIFICATION: gettext_lazy(
        "Correctie: een gegeven klopt niet. De school verbetert het in de leerlingadministratie. "
        "Schrijf in de toelichting wat er niet klopt."
    ),
    RequestKind.ERASURE: gettext_lazy(
        "Verwijdering: de leveranciers en de hub verwijderen je gegevens, behalve wat de wet de "
        "school laat bewaren. Je hoort wat bewaard blijft en waarom."
    ),
    RequestKind.RESTRICTION: gettext_lazy(
        "Beperking: je gegevens worden tijdelijk niet gebruikt, bijvoorbeeld zolang een "
        "correctie of bezwaar loopt."
    ),
    RequestKind.OBJECTION: gettext_lazy(
        "Bezwaar: je wilt niet dat je gegevens voor een bepaald doel gebruikt worden. Schrijf in "
        "de toelichting waarom."
    ),
}


@dataclass(frozen=True)
class StepLine:
    at: datetime
    label: str
    text: str


def step_lines(rr: RightsRequest) -> list[StepLine]:
    suppliers = {
        supplier.pk: supplier.name
        for supplier in Supplier.objects.filter(pk__in=rr.fan_out.values("supplier_id"))
    }
    lines = []
    for step in rr.steps.all():
        text = ""
        what = step.what
        if what.startswith(requests.SUPPLIER_REFUSAL):
            name = suppliers.get(int(what[len(requests.SUPPLIER_REFUSAL) :]), "")
            label = _("Besluit over leverancier %(supplier)s") % {"supplier": name}
            text = step.text
        elif what == "order_sent":
            label = _("Opdracht verstuurd naar %(supplier)s") % {"supplier": step.text}
        elif what == "order_not_sent":
            label = _("Geen opdracht kunnen sturen naar %(supplier)s") % {"supplier": step.text}
        elif what == "supplier_completed":
            label = _("%(supplier)s heeft de opdracht uitgevoerd") % {"supplier": step.text}
        elif what == "supplier_refused":
            label = _("%(supplier)s heeft de opdracht geweigerd") % {"supplier": step.text}
        elif what in ("supplier_overdue", "supplier_failed"):
            label = _("Leverancier %(supplier)s heeft nog niet gereageerd") % {
                "supplier": step.text
            }
        elif what == "received":
            label = _("Verzoek ontvangen")
        elif what == "extended":
            label, text = _("Termijn verlengd"), step.text
        elif what == "overdue":
            label = _("De termijn is verstreken")
        elif what == "completed":
            label, text = _("Verzoek afgerond"), step.text
        elif what == "refused":
            label, text = _("Verzoek geweigerd"), step.text
        else:
            label, text = what, step.text
        lines.append(StepLine(step.at, label, text))
    return lines


@dataclass(frozen=True)
class HubLine:
    what: str
    done: bool
    why: str
    count: int | None


def hub_lines(rr: RightsRequest) -> list[HubLine]:
    return [
        HubLine(
            what=str(requests.HUB_OUTCOME_TEXTS.get(item.get("what", ""), item.get("what", ""))),
            done=bool(item.get("done")),
            why=str(requests.HUB_OUTCOME_WHY.get(item.get("why", ""), item.get("why", ""))),
            count=item.get("count"),
        )
        for item in rr.hub_outcome
    ]


def kinds(is_pupil: bool = False) -> list[tuple[str, str, str]]:
    """(value, label, explanation) of each right, for a guardian ("u") or a pupil ("je")."""
    texts = KIND_EXPLANATIONS_PUPIL if is_pupil else KIND_EXPLANATIONS
    return [(value, str(label), str(texts[value])) for value, label in RequestKind.choices]
