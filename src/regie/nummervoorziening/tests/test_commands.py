"""The operator commands: ``regie nv-keys`` (generate, list, rotate, convert) and ``regie nv-client``."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from regie.audit.models import AuditEvent as Event
from regie.conftest import HUB_OIN, LAS_OIN, make_hpgn
from regie.nummervoorziening import events, services
from regie.nummervoorziening.errors import AuthenticationFailed
from regie.nummervoorziening.keys import KINDS, load_keyring
from regie.nummervoorziening.models import Client, ClientSupplier

OTHER_HUB_OIN = "00000001000000000066"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def own_keys(tmp_path: Path) -> Iterator[Path]:
    """A key directory of this test's own, with the service's cached deriver reset around it."""
    directory = tmp_path / "keys"
    services.get_deriver.cache_clear()
    with override_settings(NV_KEYS_DIR=directory):
        yield directory
    services.get_deriver.cache_clear()


@pytest.mark.django_db
def test_nv_keys_generates_each_missing_key_once_and_lists_versions(own_keys: Path) -> None:
    created, _ = run("nv_keys", "generate")
    assert sorted(Path(line.removeprefix("created ")).name for line in created.splitlines()) == [
        f"{kind}-v1.key" for kind in sorted(KINDS)
    ]
    again, _ = run("nv_keys", "generate")
    assert "all keys present" in again
    listed, _ = run("nv_keys", "list")
    assert listed.splitlines() == [f"{kind}: version 1" for kind in KINDS]
    for path in own_keys.iterdir():
        assert path.read_text().strip() not in listed + created  # never prints key material


@pytest.mark.django_db
def test_nv_keys_rotates_and_converts_old_values_for_chain_parties(
    own_keys: Path, tmp_path: Path, rng: random.Random
) -> None:
    run("nv_keys", "generate")
    deriver = services.get_deriver()
    hpgns = [make_hpgn(rng) for _ in range(3)]
    old = [deriver.stampseudonym(deriver.anchor(hpgn)) for hpgn in hpgns]

    rotated, _ = run("nv_keys", "rotate", "--kind", "stampseudonym")
    assert "stampseudonym-v2.key" in rotated
    assert load_keyring(own_keys).current_version("stampseudonym") == 2
    assert Event.objects.filter(event_type=events.KEY_ROTATED).count() == 1

    source, target = tmp_path / "old.txt", tmp_path / "table.csv"
    source.write_text("\n".join([*old, "https://not.a.stampseudonym.example/x", ""]) + "\n")
    _, summary = run("nv_keys", "convert", "--kind", "stampseudonym", str(source), str(target))
    assert "3 converted, 1 not recognised" in summary
    assert target.stat().st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [row["old"] for row in rows[:3]] == old
    services.get_deriver.cache_clear()
    current = services.get_deriver()
    for row, hpgn in zip(rows[:3], hpgns, strict=True):
        assert row["error"] == ""
        # the new value is what the service now issues for the same pupil, at version 2
        assert row["new"] == current.stampseudonym(current.anchor(hpgn))
        assert "/sp/2/" in row["new"]
    assert rows[3]["new"] == ""
    assert rows[3]["error"]
    assert Event.objects.filter(event_type=events.CONVERSION_PRODUCED).count() == 1


@pytest.mark.django_db
def test_nv_keys_refuses_to_rotate_the_anchor_key(own_keys: Path) -> None:
    run("nv_keys", "generate")
    with pytest.raises(CommandError):
        run("nv_keys", "rotate", "--kind", "anchor")
    assert load_keyring(own_keys).current_version("anchor") == 1


@pytest.mark.django_db
def test_nv_keys_names_the_file_it_cannot_read(own_keys: Path) -> None:
    run("nv_keys", "generate")
    (own_keys / "eckid-v1.key").write_text("not a key\n")
    with pytest.raises(CommandError, match=r"eckid-v1\.key"):
        run("nv_keys", "list")


@pytest.mark.django_db
def test_nv_client_registers_and_manages_a_client() -> None:
    registered, _ = run(
        "nv_client", "register", "--oin", LAS_OIN, "--name", "LAS (fictief)", "--role", "las"
    )
    key = registered.rsplit("API key (shown once): ", 1)[1].strip()
    client = Client.objects.get(oin=LAS_OIN)
    assert services.authenticate_api_key(key) == client

    renewed, _ = run("nv_client", "new-key", "--oin", LAS_OIN)
    new_key = renewed.rsplit(": ", 1)[1].strip()
    assert services.authenticate_api_key(new_key) == client
    with pytest.raises(AuthenticationFailed):
        services.authenticate_api_key(key)

    run("nv_client", "set-quota", "--oin", LAS_OIN, "7")
    run("nv_client", "block", "--oin", LAS_OIN, "--until", "2999-01-01T08:00")
    client.refresh_from_db()
    assert client.daily_batch_quota == 7
    assert client.is_blocked()
    listed, _ = run("nv_client", "list")
    assert f"{LAS_OIN}  LAS (fictief)  role=las  quota=7/day  blocked" in listed
    run("nv_client", "unblock", "--oin", LAS_OIN)
    client.refresh_from_db()
    assert not client.is_blocked()
    changes = Event.objects.filter(event_type=events.CLIENT_CHANGED).order_by("id")
    assert [sorted(event.details) for event in changes] == [
        ["quota"],
        ["blocked_until"],
        ["blocked_until"],
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("register", "--oin", "123", "--name", "x", "--role", "las"), "OIN"),
        (("new-key", "--oin", "00000009999999999999"), "no client is registered"),
        (("block", "--oin", LAS_OIN, "--until", "tomorrow"), "ISO date-time"),
        (("set-quota", "--oin", LAS_OIN, "-1"), "0 or more"),
    ],
)
def test_nv_client_refuses_bad_input_and_changes_nothing(
    las_client: tuple[Client, str], args: tuple[str, ...], message: str
) -> None:
    before = list(Client.objects.values())
    with pytest.raises(CommandError, match=message):
        run("nv_client", *args)
    assert list(Client.objects.values()) == before


@pytest.mark.django_db
def test_nv_client_registers_a_hub_and_manages_its_suppliers() -> None:
    registered, _ = run(
        "nv_client",
        "register",
        "--oin",
        HUB_OIN,
        "--name",
        "Hub (fictief)",
        "--role",
        "hub",
        "--supplier",
        "12345678",
        "--supplier",
        "00000004000000000123",
    )
    assert "as hub" in registered
    client = Client.objects.get(oin=HUB_OIN)
    listed, _ = run("nv_client", "suppliers", "list", "--oin", HUB_OIN)
    assert listed.splitlines() == ["00000004000000000123", "12345678"]

    added, _ = run("nv_client", "suppliers", "add", "--oin", HUB_OIN, "87654321", "12345678")
    assert "3 suppliers (added: 87654321; removed: -)" in added
    removed, _ = run("nv_client", "suppliers", "remove", "--oin", HUB_OIN, "12345678")
    assert "2 suppliers (added: -; removed: 12345678)" in removed
    assert client.supplier_ids() == ["00000004000000000123", "87654321"]
    assert f"{HUB_OIN}  Hub (fictief)  role=hub" in run("nv_client", "list")[0]
    assert "suppliers=2" in run("nv_client", "list")[0]

    run("nv_client", "set-role", "--oin", HUB_OIN, "las")
    client.refresh_from_db()
    assert (client.role, client.supplier_ids()) == ("las", [])
    changes = Event.objects.filter(event_type=events.CLIENT_SUPPLIERS_CHANGED).order_by("id")
    assert [(event.details["added"], event.details["removed"]) for event in changes] == [
        (["00000004000000000123", "12345678"], []),
        (["87654321"], []),
        ([], ["12345678"]),
        ([], ["00000004000000000123", "87654321"]),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (
                "register",
                "--oin",
                HUB_OIN,
                "--name",
                "x",
                "--role",
                "las",
                "--supplier",
                "12345678",
            ),
            "only a hub client has suppliers",
        ),
        (
            ("register", "--oin", HUB_OIN, "--name", "x", "--role", "hub", "--supplier", "acme"),
            "supplier 1 in the list",
        ),
        (("suppliers", "add", "--oin", LAS_OIN, "12345678"), "only a hub client"),
        (("suppliers", "list", "--oin", LAS_OIN), "has no suppliers"),
        (("suppliers", "add", "--oin", OTHER_HUB_OIN, "1234"), "supplier 1 in the list"),
        (("suppliers", "remove", "--oin", OTHER_HUB_OIN, "87654321"), "not in this client's"),
    ],
)
def test_nv_client_refuses_bad_supplier_input_and_changes_nothing(
    las_client: tuple[Client, str], args: tuple[str, ...], message: str
) -> None:
    services.register_client(oin=OTHER_HUB_OIN, name="Hub", role="hub", suppliers=["12345678"])
    before = list(Client.objects.values()), list(ClientSupplier.objects.values())
    with pytest.raises(CommandError, match=message):
        run("nv_client", *args)
    assert (list(Client.objects.values()), list(ClientSupplier.objects.values())) == before


@pytest.mark.django_db
def test_nv_client_register_needs_a_role() -> None:
    with pytest.raises(CommandError, match="--role"):
        run("nv_client", "register", "--oin", HUB_OIN, "--name", "x")
    assert not Client.objects.exists()
