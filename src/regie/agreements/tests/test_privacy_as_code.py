"""Privacy as code: agreements and their schedules as YAML/JSON, round trips, refusals, offers,
and the export and import pages."""

from __future__ import annotations

import copy
import html
import json
import string
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.agreements import catalogue, privacy_as_code, services
from regie.agreements.models import (
    AgreementModel,
    AgreementStatus,
    ConvenantStatus,
    DataSchedule,
    Deviation,
    Processing,
    ProcessingAgreement,
    Product,
    ProductUsers,
    RetentionTrigger,
    RetentionUnit,
    Subprocessor,
    Supplier,
    TransferMechanism,
)
from regie.agreements.privacy_as_code import DocumentRefused, dump_agreement, parse
from regie.agreements.tests.register import World, make_agreement, make_product, make_supplier
from regie.browser import document_language, unlabelled_controls
from regie.core.models import Sector
from regie.logins import log_in_in_browser
from regie.roster.tests.exports import client_for, make_board

pytestmark = pytest.mark.django_db

EXAMPLE = Path(settings.BASE_DIR) / "docs" / "examples" / "verwerkersovereenkomst.yaml"


def counts() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            Supplier,
            Product,
            ProcessingAgreement,
            Deviation,
            DataSchedule,
            Processing,
            Subprocessor,
        )
    )


def without_status(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    data["agreement"].pop("status", None)
    return data


def example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return data


def as_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def rich_agreement(world: World) -> ProcessingAgreement:
    """A draft of board A: two schedules, deviations, subprocessors, signatures, a start date."""
    supplier = make_supplier("Taalhuis B.V. (fictief)", "99000011")
    lezen, spellen = make_product(supplier, "Leeshuis"), make_product(supplier, "Spelhuis")
    agreement = make_agreement(
        world.board_a,
        supplier,
        [lezen, spellen],
        (catalogue.SUPPLIER_PSEUDONYM, "groups", "results"),
        status=AgreementStatus.DRAFT,
    )
    services.add_deviation(
        agreement, "art. 7.3", "Melding binnen 12 uur.", "Ruim binnen 72 uur melden.", user=None
    )
    services.add_deviation(agreement, "art. 9", "Geen audit op locatie.", "ISAE 3402.", user=None)
    schedule = agreement.schedules.get(product=lezen)
    services.add_subprocessor(
        schedule, name="Hosting B.V. (fictief)", kvk="99000012", location="NL", user=None
    )
    services.add_subprocessor(
        schedule, name="Mailwolk Inc. (fictief)", location="US", transfer_mechanism="scc", user=None
    )
    services.update_agreement(
        agreement,
        {
            "board_signatory": "A. Bestuurder",
            "board_signatory_role": "voorzitter",
            "board_signed_on": date(2026, 7, 1),
            "supplier_signatory": "B. Directeur",
            "supplier_signed_on": date(2026, 6, 28),
            "start_date": date(2026, 8, 1),
        },
        user=None,
    )
    return agreement


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("write", [privacy_as_code.to_yaml, privacy_as_code.to_json])
def test_it_reads_back_an_agreement_it_wrote_into_another_board(world: World, write: Any) -> None:
    agreement = rich_agreement(world)
    before = dump_agreement(agreement)

    document = parse(write(agreement), name="overeenkomst")
    copied = privacy_as_code.import_agreement(document, world.board_b, user=world.officer_b)

    assert copied.pk != agreement.pk
    assert copied.board == world.board_b
    assert copied.status == AgreementStatus.DRAFT
    assert copied.supplier == agreement.supplier  # matched by KvK, not created again
    assert without_status(dump_agreement(copied)) == without_status(before)
    assert before["agreement"]["status"] == AgreementStatus.DRAFT
    assert len(before["deviations"]) == 2
    assert len(before["schedules"][0]["subprocessors"]) == 2


def test_it_reads_back_an_active_agreement_as_a_draft(world: World) -> None:
    exported = privacy_as_code.to_yaml(world.agreement)
    assert "status: active" in exported

    copied = privacy_as_code.import_agreement(
        parse(exported, name="actief.yaml"), world.board_b, user=None
    )

    assert copied.status == AgreementStatus.DRAFT
    assert without_status(dump_agreement(copied)) == without_status(dump_agreement(world.agreement))


def test_it_imports_the_documented_example(world: World) -> None:
    document = parse(EXAMPLE.read_bytes(), name=EXAMPLE.name)

    agreement = privacy_as_code.import_agreement(document, world.board_a, user=world.officer)

    assert agreement.status == AgreementStatus.DRAFT
    assert agreement.supplier.kvk == "99000101"
    assert agreement.is_signed
    assert dump_agreement(agreement) == {
        **document.normalised(),
        "agreement": {**document.normalised()["agreement"], "status": "draft"},
    }
    assert without_status(dump_agreement(agreement)) == example() | {
        "agreement": {
            **example()["agreement"],
            "signatories": {
                party: {**signatory, "signed_on": signatory["signed_on"].isoformat()}
                for party, signatory in example()["agreement"]["signatories"].items()
            },
            "start_date": "2026-08-01",
            "end_date": "2029-07-31",
        }
    }


def test_it_creates_a_supplier_and_products_it_does_not_know(world: World) -> None:
    before = Supplier.objects.count(), Product.objects.count()

    privacy_as_code.import_agreement(
        parse(EXAMPLE.read_text(), name="x.yaml"), world.board_a, user=None
    )

    assert (Supplier.objects.count(), Product.objects.count()) == (before[0] + 1, before[1] + 1)


# --- the property: every valid document survives import and export -----------------------------

EEA = sorted(services.EEA)
ELSEWHERE = ["US", "GB", "CH", "IN", "JP"]
words = (
    st.text(alphabet=string.ascii_letters + "éëï .-", min_size=1, max_size=30)
    .map(str.strip)
    .filter(bool)
)
iso_days = st.dates().filter(lambda day: day.year >= 1000).map(lambda day: day.isoformat())


@st.composite
def subprocessors(draw: st.DrawFn) -> dict[str, Any]:
    inside = draw(st.booleans())
    return {
        "name": draw(words),
        "kvk": draw(st.one_of(st.just(""), st.from_regex(r"\A99[0-9]{6}\Z"))),
        "location": draw(st.sampled_from(EEA if inside else ELSEWHERE)),
        "transfer_mechanism": draw(
            st.sampled_from(
                TransferMechanism.values
                if inside
                else [TransferMechanism.ADEQUACY.value, "scc", "bcr"]
            )
        ),
    }


@st.composite
def processings(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "purpose": draw(words),
        "subjects": draw(
            st.lists(st.sampled_from(catalogue.Subject.values), min_size=1, unique=True)
        ),
        "attributes": draw(
            st.lists(st.sampled_from(list(catalogue.CATALOGUE)), min_size=1, unique=True)
        ),
        "sources": draw(st.one_of(st.just(""), words)),
        "retention": {
            "period": draw(st.integers(min_value=0, max_value=2_000_000_000)),
            "unit": draw(st.sampled_from(RetentionUnit.values)),
            "trigger": draw(st.sampled_from(RetentionTrigger.values)),
        },
    }


@st.composite
def signatories(draw: st.DrawFn) -> dict[str, Any]:
    result = {}
    for party in ("board", "supplier"):
        if draw(st.booleans()):
            signatory = {"name": draw(words), "role": draw(st.one_of(st.just(""), words))}
            if draw(st.booleans()):
                signatory["signed_on"] = draw(iso_days)
            result[party] = signatory
    return result


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(words, min_size=1, max_size=3, unique=True))
    agreement: dict[str, Any] = {
        "title": draw(words),
        "model": draw(st.sampled_from(AgreementModel.values)),
        "version": draw(words.map(lambda text: text[:30].strip()).filter(bool)),
        "signatories": draw(signatories()),
    }
    days = sorted(draw(st.lists(iso_days, max_size=2)))
    for name, day in zip(("start_date", "end_date"), days, strict=False):
        agreement[name] = day
    return {
        "format": privacy_as_code.FORMAT,
        "supplier": {
            "name": draw(words),
            "kvk": draw(st.from_regex(r"\A98[0-9]{6}\Z")),
            "website": draw(st.sampled_from(["", "https://www.leverancier.example"])),
            "contact": {
                "name": draw(st.one_of(st.just(""), words)),
                "email": draw(st.sampled_from(["", "privacy@leverancier.example"])),
            },
            "convenant_status": draw(st.sampled_from(ConvenantStatus.values)),
            "certifications": draw(st.lists(words, max_size=3, unique=True)),
        },
        "products": [
            {
                "name": name,
                "url": draw(st.sampled_from(["", "https://product.leverancier.example"])),
                "sector": draw(st.sampled_from(Sector.values)),
                "users": draw(st.sampled_from(ProductUsers.values)),
                "description": draw(st.one_of(st.just(""), words)),
            }
            for name in names
        ],
        "agreement": agreement,
        "deviations": draw(
            st.lists(
                st.fixed_dictionaries({"clause": words, "text": words, "reason": words}),
                max_size=3,
            )
        ),
        "schedules": [
            {
                "product": name,
                "breach_notification_hours": draw(st.integers(min_value=1, max_value=72)),
                "destruction_days": draw(st.integers(min_value=0, max_value=3650)),
                "processings": draw(st.lists(processings(), max_size=3)),
                "subprocessors": draw(st.lists(subprocessors(), max_size=3)),
            }
            for name in names
        ],
    }


def in_order(data: dict[str, Any]) -> dict[str, Any]:
    """Subprocessors are listed by name (the register's order, in the database's collation)."""
    data = copy.deepcopy(data)
    for schedule in data["schedules"]:
        schedule["subprocessors"].sort(key=lambda item: sorted(item.items()))
    return data


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=documents(), as_json=st.booleans())
def test_it_writes_back_every_valid_document_it_imports(
    db: None, data: dict[str, Any], as_json: bool
) -> None:
    text = json.dumps(data) if as_json else as_yaml(data)
    with transaction.atomic():
        board = make_board("41009", "Stichting Eigenschap (fictief)")
        document = parse(text, name="eigenschap")
        assert document.normalised() == data
        agreement = privacy_as_code.import_agreement(document, board, user=None)
        assert in_order(without_status(dump_agreement(agreement))) == in_order(data)
        transaction.set_rollback(True)


# --- refusals ------------------------------------------------------------------------------------


def broken(change: Any) -> str:
    data = example()
    change(data)
    return as_yaml(data)


def set_in(path: list[Any], value: Any) -> Any:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


PROCESSING = ["schedules", 0, "processings", 1]
SUBPROCESSOR = ["schedules", 0, "subprocessors", 1]
BAD_DOCUMENTS = {
    "unknown top-level key": (
        broken(set_in(["colour"], "rood")),
        "colour",
        "unknown key; the keys here are format, supplier",
    ),
    "unknown nested key": (
        broken(set_in([*PROCESSING, "retention", "forever"], True)),
        "schedules[0].processings[1].retention.forever",
        "unknown key; the keys here are period, unit, trigger",
    ),
    "unknown attribute": (
        broken(set_in([*PROCESSING, "attributes", 2], "shoe_size")),
        "schedules[0].processings[1].attributes[2]",
        "unknown attribute 'shoe_size'",
    ),
    "negative retention": (
        broken(set_in([*PROCESSING, "retention", "period"], -1)),
        "schedules[0].processings[1].retention.period",
        "The retention period cannot be negative.",
    ),
    "non-EEA subprocessor without mechanism": (
        broken(set_in([*SUBPROCESSOR, "transfer_mechanism"], "none")),
        "schedules[0].subprocessors[1].transfer_mechanism",
        "US is outside the EEA: name the transfer mechanism",
    ),
    "wrong type": (
        broken(set_in(["schedules", 0, "breach_notification_hours"], "twaalf")),
        "schedules[0].breach_notification_hours",
        "expected a whole number, found text",
    ),
    "unquoted KvK number": (
        broken(set_in(["supplier", "kvk"], 99000001)),
        "supplier.kvk",
        "expected text, found a number or yes/no: put the value in quotes",
    ),
    "value outside the choices": (
        broken(set_in(["products", 0, "sector"], "XX")),
        "products[0].sector",
        "expected one of these values: 'PO', 'VO', 'MBO', 'HO'",
    ),
    "missing key": (
        broken(lambda data: data["agreement"].pop("title")),
        "agreement.title",
        "missing: this key is required",
    ),
    "schedule for an unlisted product": (
        broken(set_in(["schedules", 0, "product"], "Taallijn")),
        "schedules[0].product",
        "'Taallijn' is not in products",
    ),
    "end before start": (
        broken(set_in(["agreement", "end_date"], "2020-01-01")),
        "agreement.end_date",
        "The end date lies before the start date.",
    ),
    "model field rule": (
        broken(set_in(["supplier", "kvk"], "1234")),
        "supplier.kvk",
        "8",
    ),
    "breach notification too late": (
        broken(set_in(["schedules", 0, "breach_notification_hours"], 96)),
        "schedules[0].breach_notification_hours",
        "72",
    ),
    "other format": (
        broken(set_in(["format"], "regie-agreement/2")),
        "format",
        "unsupported format: this version of regie reads regie-agreement/1",
    ),
    "empty file": (b"", "upload.yaml", "the file is empty"),
    "only a comment": ("# niets\n", "upload.yaml", "expected a mapping of keys and values"),
    "binary file": (
        bytes(range(256)) * 4,
        "upload.yaml",
        "not a text file: expected YAML or JSON in UTF-8",
    ),
    "oversized file": (
        b"a: " + b"x" * privacy_as_code.MAX_BYTES,
        "upload.yaml",
        "the file is larger than 1024 KiB",
    ),
    "invalid YAML": (
        "format: regie-agreement/1\nsupplier: [\n",
        "upload.yaml, line 3, column 1",
        "invalid YAML",
    ),
    "invalid JSON": ('{"format": "regie-agreement/1",}', "upload.yaml, line 1", "invalid JSON"),
    "alias bomb": (
        'format: regie-agreement/1\na: &a ["x","x"]\nb: &b [*a,*a]\nc: [*b,*b]\n',
        "upload.yaml, line 2, column 4",
        "anchors and aliases (&name, *name) are not allowed",
    ),
    "duplicate key": (
        "format: regie-agreement/1\nformat: regie-agreement/1\n",
        "upload.yaml, line 2",
        "the key 'format' appears twice",
    ),
    "python object tag": (
        "format: !!python/object/apply:os.system ['true']\n",
        "upload.yaml, line 1",
        "invalid YAML",
    ),
}


@pytest.mark.parametrize(("content", "path", "reason"), BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS)
def test_it_refuses_a_bad_document_naming_path_and_reason(
    world: World, content: str | bytes, path: str, reason: str
) -> None:
    before = counts()

    with pytest.raises(DocumentRefused) as refused:
        privacy_as_code.import_agreement(
            parse(content, name="upload.yaml"), world.board_a, user=None
        )

    with translation.override("en"):  # the Dutch texts: test_refusals_language
        assert any(
            (problem.location == path or problem.location.startswith(f"{path}, "))
            and reason in problem.reason
            for problem in refused.value.problems
        ), str(refused.value)
        assert path in str(refused.value)
    assert counts() == before


def test_it_lists_every_problem_at_once() -> None:
    def change(data: dict[str, Any]) -> None:
        set_in(["colour"], "rood")(data)
        set_in([*PROCESSING, "attributes", 0], "shoe_size")(data)
        set_in(["schedules", 0, "processings", 0, "retention", "period"], -5)(data)
        set_in([*SUBPROCESSOR, "transfer_mechanism"], "none")(data)

    with pytest.raises(DocumentRefused) as refused:
        parse(broken(change), name="fouten.yaml")

    assert sorted(problem.path for problem in refused.value.problems) == [
        "colour",
        "schedules[0].processings[0].retention.period",
        "schedules[0].processings[1].attributes[0]",
        "schedules[0].subprocessors[1].transfer_mechanism",
    ]


def test_it_never_echoes_a_long_value() -> None:
    secret = "Jan Jansen " * 50
    with pytest.raises(DocumentRefused) as refused:
        parse(broken(set_in([*PROCESSING, "attributes", 0], secret)), name="lang.yaml")

    assert secret not in str(refused.value)
    assert len(str(refused.value)) < 200


def test_it_changes_nothing_when_the_register_refuses_half_way(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise services.Refused("the subprocessor register is closed today")

    monkeypatch.setattr(services, "add_subprocessor", refuse)
    document = parse(EXAMPLE.read_text(), name="x.yaml")
    before = counts()

    with pytest.raises(DocumentRefused) as refused:
        privacy_as_code.import_agreement(document, world.board_a, user=None)

    assert str(refused.value) == "schedules[0]: the subprocessor register is closed today"
    assert counts() == before


# --- offers --------------------------------------------------------------------------------------


def offer_document() -> privacy_as_code.AgreementDocument:
    def change(data: dict[str, Any]) -> None:
        for key in ("signatories", "start_date", "end_date"):
            data["agreement"].pop(key)

    return parse(broken(change), name="aanbod.yaml")


def test_it_publishes_an_offer_that_a_board_adopts_unchanged(world: World) -> None:
    offer = privacy_as_code.publish_offer(offer_document(), user=None)

    assert offer.is_offer
    assert offer.status == AgreementStatus.OFFERED
    assert "status" not in dump_agreement(offer)["agreement"]
    assert offer in ProcessingAgreement.objects.offers()

    adopted = services.adopt_offer(offer, world.board_a, user=world.officer)

    assert adopted.board == world.board_a
    assert without_status(dump_agreement(adopted)) == dump_agreement(offer)


def test_it_refuses_an_offer_with_signatures_and_dates(world: World) -> None:
    before = counts()

    with pytest.raises(DocumentRefused) as refused:
        privacy_as_code.publish_offer(parse(EXAMPLE.read_text(), name="x.yaml"), user=None)

    assert [problem.path for problem in refused.value.problems] == [
        "agreement.signatories",
        "agreement.start_date",
        "agreement.end_date",
    ]
    assert counts() == before


# --- the pages -----------------------------------------------------------------------------------


def export_url(agreement: ProcessingAgreement, fmt: str) -> str:
    return reverse("agreements:agreement-export", args=[agreement.pk, fmt])


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_it_lets_the_officer_download_an_agreement(world: World, fmt: str) -> None:
    response = client_for(world.officer).get(export_url(world.agreement, fmt))

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="verwerkersovereenkomst-{world.agreement.pk}-v1.{fmt}"'
    )
    document = parse(response.content, name=f"download.{fmt}")
    assert document.agreement.status == AgreementStatus.ACTIVE


def test_it_hides_an_agreement_from_another_board_and_teachers(world: World) -> None:
    assert client_for(world.officer_b).get(export_url(world.agreement, "yaml")).status_code == 404
    assert client_for(world.teacher).get(export_url(world.agreement, "yaml")).status_code == 403
    assert client_for(world.officer).get(export_url(world.agreement, "xml")).status_code == 404


def test_it_lets_every_board_download_a_published_offer(world: World) -> None:
    offer = privacy_as_code.publish_offer(offer_document(), user=None)

    response = client_for(world.officer_b).get(export_url(offer, "yaml"))

    assert response.status_code == 200
    assert f'filename="aanbod-{offer.pk}-v4-0-2026-1.yaml"' in response["Content-Disposition"]


def upload(content: bytes, name: str = "overeenkomst.yaml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/yaml")


def test_it_imports_a_file_on_the_import_page(world: World) -> None:
    client = client_for(world.officer)
    page = client.get(reverse("agreements:agreement-import"))
    assert page.status_code == 200
    assert b'<label for="id_file"' in page.content
    assert b'name="publish"' not in page.content

    response = client.post(
        reverse("agreements:agreement-import"),
        {"board": world.board_a.pk, "file": upload(EXAMPLE.read_bytes())},
    )

    agreement = ProcessingAgreement.objects.get(supplier__kvk="99000101")
    assert response.status_code == 302
    assert response["Location"] == reverse("agreements:agreement", args=[agreement.pk])
    assert agreement.board == world.board_a
    assert agreement.status == AgreementStatus.DRAFT


def test_it_lists_the_problems_of_a_refused_file_and_changes_nothing(world: World) -> None:
    before = counts()
    content = broken(set_in([*PROCESSING, "attributes", 2], "shoe_size")).encode()

    response = client_for(world.officer).post(
        reverse("agreements:agreement-import"), {"board": world.board_a.pk, "file": upload(content)}
    )

    assert response.status_code == 400
    text = html.unescape(response.content.decode())
    assert 'role="alert"' in text
    assert "schedules[0].processings[1].attributes[2]</code>: onbekend gegeven 'shoe_size'" in text
    assert counts() == before


def test_it_imports_only_for_boards_the_user_edits(world: World) -> None:
    before = counts()

    response = client_for(world.officer).post(
        reverse("agreements:agreement-import"),
        {"board": world.board_b.pk, "file": upload(EXAMPLE.read_bytes())},
    )

    assert response.status_code == 400
    assert counts() == before
    assert client_for(world.teacher).get(reverse("agreements:agreement-import")).status_code == 403
    assert (
        client_for(world.school_admin).get(reverse("agreements:agreement-import")).status_code
        == 403
    )


def test_it_ignores_publish_for_an_officer(world: World) -> None:
    client_for(world.officer).post(
        reverse("agreements:agreement-import"),
        {"board": world.board_a.pk, "publish": "on", "file": upload(EXAMPLE.read_bytes())},
    )

    assert not ProcessingAgreement.objects.offers().exists()
    assert ProcessingAgreement.objects.get(supplier__kvk="99000101").board == world.board_a


def test_it_lets_a_superuser_publish_an_offer(world: World) -> None:
    admin = User.objects.create_superuser("beheer", "beheer@regie.example", "fictief-wachtwoord")
    content = as_yaml(offer_document().normalised()).encode()

    response = client_for(admin).post(
        reverse("agreements:agreement-import"), {"publish": "on", "file": upload(content)}
    )

    offer = ProcessingAgreement.objects.offers().get()
    assert response.status_code == 302
    assert response["Location"] == reverse("agreements:offer", args=[offer.pk])


# --- in a real browser ---------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.django_db(transaction=True)
def test_an_officer_imports_a_file_after_fixing_it(
    live_server: LiveServer, page: Page, world: World, tmp_path: Path
) -> None:
    bad, good = tmp_path / "fout.yaml", tmp_path / "goed.yaml"
    bad.write_text(broken(set_in([*PROCESSING, "attributes", 2], "shoe_size")), encoding="utf-8")
    good.write_bytes(EXAMPLE.read_bytes())
    log_in_in_browser(page, live_server.url, "fg-a")  # with the app's code at the second step

    page.goto(live_server.url + reverse("agreements:agreement-import"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Verwerkersovereenkomst inlezen")
    assert document_language(page) == "nl"
    assert unlabelled_controls(page) == []
    page.get_by_label("Schoolbestuur").select_option(label=world.board_a.name)
    page.get_by_label("Bestand (YAML of JSON)").set_input_files(bad)
    page.get_by_role("button", name="Inlezen").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "schedules[0].processings[1].attributes[2]: onbekend gegeven 'shoe_size'"
    )
    assert unlabelled_controls(page) == []
    assert not ProcessingAgreement.objects.filter(supplier__kvk="99000101").exists()

    page.get_by_label("Bestand (YAML of JSON)").set_input_files(good)
    page.get_by_role("button", name="Inlezen").click()
    page.wait_for_url("**/privacy/overeenkomsten/*/")
    agreement = ProcessingAgreement.objects.get(supplier__kvk="99000101")
    assert page.url.endswith(reverse("agreements:agreement", args=[agreement.pk]))
    assert agreement.status == AgreementStatus.DRAFT
