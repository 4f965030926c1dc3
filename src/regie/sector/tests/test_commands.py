"""``regie sector``: registering, listing and deactivating hubs; making a supervisor's login."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from regie.audit import signed_note
from regie.audit.models import AuditEvent
from regie.sector.models import Hub, Supervisor

pytestmark = pytest.mark.django_db


def run(*args: str, stdin: io.StringIO | None = None) -> str:
    out = io.StringIO()
    call_command("sector", *args, stdout=out, stdin=stdin)
    return out.getvalue()


def test_it_registers_lists_and_deactivates_a_hub() -> None:
    signer = signed_note.generate_signer("hub-a.example/log")
    output = run("add-hub", "--name", "Hub A", "--vkey", signer.verifier.vkey)
    assert "hub-a.example/log" in output
    hub = Hub.objects.get()
    assert (hub.origin, hub.vkey, hub.active) == ("hub-a.example/log", signer.verifier.vkey, True)
    assert "hub-a.example/log\tHub A\tok\tno report" in run("list-hubs")
    run("deactivate-hub", "--origin", "hub-a.example/log")
    assert not Hub.objects.get().active
    assert "\tinactive\t" in run("list-hubs")
    assert AuditEvent.objects.filter(event_type__startswith="sector.hub.").count() == 2


def test_it_refuses_a_key_that_is_no_vkey() -> None:
    with pytest.raises(CommandError, match="verifier key"):
        run("add-hub", "--name", "Hub A", "--vkey", "hub-a.example/log+00+AAAA")
    assert not Hub.objects.exists()


def test_a_supervisor_with_a_password_from_stdin_gets_no_secret_printed() -> None:
    output = run(
        "add-supervisor",
        "--username",
        "ap-a",
        "--organisation",
        "ap",
        "--password-stdin",
        stdin=io.StringIO("fictief-wachtwoord-123\n"),
    )
    assert "fictief-wachtwoord-123" not in output
    assert Supervisor.objects.get().organisation == "ap"
    assert Supervisor.objects.get().user.check_password("fictief-wachtwoord-123")


def test_a_supervisor_without_a_password_gets_one_generated_and_shown_once() -> None:
    output = run("add-supervisor", "--username", "insp-a", "--organisation", "inspectie")
    password = output.split("password (shown once): ")[1].strip()
    user = Supervisor.objects.get().user
    assert user.check_password(password)


def test_a_taken_username_is_refused() -> None:
    run("add-supervisor", "--username", "ap-a", "--organisation", "ap")
    with pytest.raises(CommandError, match="taken"):
        run("add-supervisor", "--username", "ap-a", "--organisation", "ap")
