"""Oversight's background jobs: sending a data breach's notice to the affected pupils'
guardians (payload: the incident's id and who asked, never an address)."""

from __future__ import annotations

from django.db import transaction

from regie.jobs.registry import job

from .models import Incident


@job("oversight.send_breach_notices", retries=5, backoff=2)
def send_breach_notices(incident: int, actor: str) -> None:
    from .texts import send_now

    with transaction.atomic():
        found = Incident.objects.select_for_update().filter(pk=incident).first()
        if found is not None:
            send_now(found, actor)
