"""A refusal a person can see is a translatable text with a Dutch msgid: the register's services,
the agreement import's problems and the forms never give a plain (English) string, and a page
shows the refusal in the page's language (Dutch by default, English in the English UI).
"""

from __future__ import annotations

import ast
import html
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from regie.agreements import policy, privacy_as_code, services
from regie.agreements.models import AgreementStatus
from regie.agreements.tests.register import World
from regie.agreements.tests.test_pages_register import draft_agreement
from regie.agreements.tests.test_privacy_as_code import PROCESSING, broken, set_in
from regie.roster.tests.exports import client_for

APP = Path(__file__).resolve().parents[1]
SCANNED = [
    *sorted((APP / "services").glob("*.py")),
    *sorted((APP / "privacy_as_code").glob("*.py")),
    APP / "forms.py",
    APP / "forms_school.py",
    *sorted((APP / "views").glob("*.py")),
]

# The call, and the position of its text a person may see.
MESSAGE_ARGUMENT = {
    "Refused": 0,
    "ValidationError": 0,
    "_rule": 0,
    "refusal": 1,
    "Problem": 1,
    "add_error": 1,
    "error": 1,  # messages.error(request, text)
}
TRANSLATIONS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext_lazy"}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_translation(node: ast.expr) -> bool:
    if isinstance(node, ast.Call):
        return _name(node.func) in TRANSLATIONS
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _is_translation(node.left)  # _("… %(name)s …") % {...}
    return False


def _is_passed_on(node: ast.expr) -> bool:
    """A value handed on as it is (``error.message``, a translated constant, Django's own)."""
    return isinstance(node, (ast.Name, ast.Attribute, ast.Subscript))


def untranslated(source: str, filename: str = "<source>") -> list[str]:
    """Every call in ``source`` that gives a person a text that is not a translation."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name == "PydanticCustomError":
            found.append((node.lineno, "PydanticCustomError (use _rule)"))
            continue
        position = MESSAGE_ARGUMENT.get(name)
        if position is None or len(node.args) <= position:
            continue
        if name == "error" and _name(getattr(node.func, "value", node.func)) != "messages":
            continue
        argument = node.args[position]
        if not (_is_translation(argument) or _is_passed_on(argument)):
            found.append((node.lineno, f"{name}({ast.unparse(argument)[:60]})"))
    return [f"{filename}:{line}: {call}" for line, call in sorted(found)]


def test_every_refusal_of_the_app_is_a_translation() -> None:
    found = []
    for path in SCANNED:
        source = path.read_text(encoding="utf-8")
        if path.name == "document.py":  # _rule is where the one PydanticCustomError is made
            source = source.replace("return PydanticCustomError(", "return dict(")
        found += untranslated(source, str(path.relative_to(APP)))

    assert found == []


def test_the_scan_finds_a_plain_an_f_string_and_a_formatted_refusal() -> None:
    source = (
        "raise Refused('the end date lies before the start date', field='end_date')\n"
        "raise Refused(f'unknown fields: {names}')\n"
        "raise refusal(where, 'the file is empty')\n"
        "problems.append(Problem(path, 'listed twice'))\n"
        "form.add_error(None, 'wrong' + ' twice')\n"
        "messages.error(request, 'the agreement is {}'.format(status))\n"
        "raise PydanticCustomError('kind', 'text')\n"
        "raise Refused(_('De einddatum ligt voor de begindatum.'), field='end_date')\n"
        "raise refusal(where, error.message, **error.params)\n"
    )

    assert [line.split(":")[1] for line in untranslated(source)] == [str(n) for n in range(1, 8)]


def test_a_refusal_is_rendered_in_the_active_language() -> None:
    refusal = services.Refused(
        _(
            "De overeenkomst heeft de status ‘%(status)s’. Alleen een concept of een aanbod "
            "kunt u wijzigen. Maak in plaats daarvan een nieuwe versie."
        ),
        status=AgreementStatus.ACTIVE.label,
    )

    with translation.override("nl"):
        assert refusal.reason.startswith("De overeenkomst heeft de status ‘actief’.")
        assert str(refusal) == refusal.reason
    with translation.override("en"):
        assert refusal.reason.startswith("The agreement's status is ‘active’.")


# --- on the pages --------------------------------------------------------------------------------

pytestmark = pytest.mark.django_db


def _page_text(content: bytes) -> str:
    return html.unescape(content.decode())


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", "Niet ondertekend. Dit ontbreekt nog: ondertekenaar van het bestuur"),
        ("en", "Not signed. Still missing: board signatory"),
    ],
)
def test_a_service_refusal_is_shown_in_the_language_of_the_page(
    world: World, language: str, expected: str
) -> None:
    agreement = draft_agreement(world)
    client = client_for(world.officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    url = reverse("agreements:agreement-transition", args=[agreement.pk])
    client.post(url, {"to": AgreementStatus.OFFERED})

    response = client.post(url, {"to": AgreementStatus.SIGNED})

    assert response.status_code == 400
    text = _page_text(response.content)
    assert f'lang="{language}"' in text
    assert expected in text


def _upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("fout.yaml", content, content_type="application/yaml")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "nl",
            ["attributes[2]</code>: onbekend gegeven 'shoe_size'", "fout.yaml, regel 3, kolom 1"],
        ),
        (
            "en",
            ["attributes[2]</code>: unknown attribute 'shoe_size'", "fout.yaml, line 3, column 1"],
        ),
    ],
)
def test_the_problems_of_an_import_are_shown_in_the_language_of_the_page(
    world: World, language: str, expected: list[str]
) -> None:
    client = client_for(world.officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    url = reverse("agreements:agreement-import")
    unknown = broken(set_in([*PROCESSING, "attributes", 2], "shoe_size")).encode()
    not_yaml = b"format: regie-agreement/1\nsupplier: [\n"

    pages = [
        _page_text(client.post(url, {"board": world.board_a.pk, "file": _upload(content)}).content)
        for content in (unknown, not_yaml)
    ]

    assert expected[0] in pages[0]
    assert expected[1] in pages[1]
    if language == "nl":  # the parser's own (English) words only in the English UI
        assert "</code>: ongeldige YAML</li>" in pages[1]
        assert "but found" not in pages[1]
        assert "but got" not in pages[1]
    else:
        assert "</code>: invalid YAML: " in pages[1]


def test_a_problem_is_rendered_in_the_language_active_when_shown() -> None:
    with translation.override("nl"), pytest.raises(privacy_as_code.DocumentRefused) as refused:
        privacy_as_code.parse(b"", name="leeg.yaml")

    with translation.override("en"):
        assert str(refused.value) == "leeg.yaml: the file is empty"
    with translation.override("nl"):
        assert str(refused.value) == "leeg.yaml: het bestand is leeg"


def test_every_explanation_of_the_release_policy_has_its_english_text() -> None:
    for condition in policy.Condition:
        refusal = policy.Refusal("first_name", condition)
        with translation.override("nl"):
            dutch = refusal.explanation
        with translation.override("en"):
            english = refusal.explanation
        assert dutch != english, condition
