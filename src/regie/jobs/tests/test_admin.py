"""The queue's page in the administrator's admin: counts, failed jobs, retry and cancel behind a
confirmation (POST, CSRF), audited; for the administrator only. Both engines."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from regie.audit.models import AuditEvent
from regie.jobs import services
from regie.jobs.tests.failing import fail_next_job
from regie.jobs.tests.schedule import fails, fails_slowly
from regie.logins import verified_client

pytestmark = pytest.mark.django_db(transaction=True)

QUEUE = "admin:jobs_queuedjob_changelist"


def administrator() -> Client:
    user = User.objects.create_superuser("beheer", "beheer@regie.example", "fictief-wachtwoord")
    return verified_client(user)


def test_the_administrator_sees_the_counts_and_the_failed_jobs_without_their_payload() -> None:
    fails.defer(run_id=4321)
    dead = fail_next_job()
    fails_slowly.defer(run_id=8765)
    waiting = fail_next_job()
    client = administrator()

    index = client.get(reverse("admin:index")).content.decode()
    assert reverse(QUEUE) in index
    page = client.get(reverse(QUEUE))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Wachtrij van achtergrondtaken" in text
    assert "jobs.test_fails" in text
    assert "jobs.test_fails_slowly" in text
    assert "Unlucky" in text
    assert "4321" not in text
    assert "8765" not in text
    assert reverse("admin:jobs_queuedjob_retry", args=[dead]) in text
    assert reverse("admin:jobs_queuedjob_cancel", args=[waiting]) in text
    assert reverse("admin:jobs_queuedjob_retry", args=[waiting]) not in text
    assert reverse("admin:jobs_queuedjob_cancel", args=[dead]) not in text


def test_retry_and_cancel_ask_first_then_act_on_a_post_with_its_token_and_are_audited() -> None:
    fails.defer(run_id=1)
    dead = fail_next_job()
    fails_slowly.defer(run_id=2)
    waiting = fail_next_job()
    client = administrator()
    retry_url = reverse("admin:jobs_queuedjob_retry", args=[dead])
    cancel_url = reverse("admin:jobs_queuedjob_cancel", args=[waiting])

    confirm = client.get(retry_url)
    assert confirm.status_code == 200
    assert "Ja, opnieuw proberen" in confirm.content.decode()
    assert services.overview().dead == 1  # asking changed nothing
    # The wrong action for a job, or an unknown job: 404.
    assert client.get(reverse("admin:jobs_queuedjob_retry", args=[waiting])).status_code == 404
    assert client.get(reverse("admin:jobs_queuedjob_cancel", args=[dead])).status_code == 404
    assert client.get(reverse("admin:jobs_queuedjob_retry", args=[987654])).status_code == 404

    forged = Client(enforce_csrf_checks=True)
    forged.cookies = client.cookies
    assert forged.post(retry_url).status_code == 403  # no CSRF token
    assert services.overview().dead == 1

    answer = client.post(retry_url)
    assert answer.status_code == 302
    assert answer["Location"] == reverse(QUEUE)
    assert client.post(cancel_url).status_code == 302
    after = services.overview()
    # The retried job waits for its next attempt (as after a failure); the cancelled one is gone.
    assert (after.dead, after.failed, after.queued) == (0, 1, 0)
    events = AuditEvent.objects.filter(event_type__startswith="jobs.job.").order_by("pk")
    assert [(e.event_type, e.subject, e.details["name"]) for e in events] == [
        ("jobs.job.retried", f"job:{dead}", "jobs.test_fails"),
        ("jobs.job.cancelled", f"job:{waiting}", "jobs.test_fails_slowly"),
    ]
    # Done already: the confirmation is gone (404).
    assert client.post(retry_url).status_code == 404


def test_staff_who_are_not_the_administrator_are_refused() -> None:
    staff = User.objects.create_user("medewerker", "m@regie.example", "fictief", is_staff=True)
    client = verified_client(staff)
    assert client.get(reverse(QUEUE)).status_code == 403
    assert reverse(QUEUE) not in client.get(reverse("admin:index")).content.decode()
    anonymous = Client().get(reverse(QUEUE))
    assert anonymous.status_code == 302
    assert "login" in anonymous["Location"]
