"""No English reason on a Dutch page (issue 12, item 10): the importer's problems, the roster's
and the gateway's refusals, and the number service's refusals during an import.

A reason a person can see is a Dutch msgid — ``gettext_noop`` where it is stored (an import run's
problems, read later in the reader's language), ``gettext``/``gettext_lazy`` where it is shown at
once — with ``%(name)s`` values, never a string literal or f-string. The scan below holds every
place that gives a reason to that rule; the page tests show the two languages.
"""

from __future__ import annotations

import ast
import random
from dataclasses import replace
from pathlib import Path

import pytest
from django.conf import LazySettings, settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from regie.conftest import make_bsn
from regie.roster import services
from regie.roster.importing.oneroster import write_oneroster
from regie.roster.importing.records import Problem, StaffRole
from regie.roster.models import ImportRun, ImportStatus, Student
from regie.roster.tests.exports import (
    client_for,
    make_board,
    make_staff,
    run_the_apply_job,
    school_export,
)

SRC = Path(__file__).resolve().parents[2]
SCANNED = [
    *sorted((SRC / "roster" / "importing").rglob("*.py")),
    SRC / "roster" / "services.py",
    SRC / "gateway" / "services.py",
]
# Whatever takes a reason, and where: the position of the reason among the arguments (or
# the keyword ``reason``).
REASON_AT = {
    "Problem": 3,
    "refuse": 1,  # files.refuse(file, reason, …)
    "refused": 2,  # edexml.refused(file, line, reason, …)
    "problem": 3,  # the OneRoster mapper's self.problem(file, line, column, reason, …)
    "add": 3,  # Problems.add(file, line, column, reason, …)
    "_problem": 2,  # the EDEXML reader's self._problem(line, field, reason, …)
    "_bad_agent": 2,
    "LinkRefused": 0,
    "Refused": 0,
}
TRANSLATING = {"gettext_noop", "gettext", "gettext_lazy", "_"}


def _name(call: ast.Call) -> str:
    function = call.func
    return function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")


def _is_text(node: ast.AST) -> bool:
    """A string literal or f-string (or an expression built of them)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_text(node.left) or _is_text(node.right)
    if isinstance(node, ast.IfExp):
        return _is_text(node.body) or _is_text(node.orelse)
    return False


def untranslated(source: str) -> list[str]:
    """Each place in ``source`` that gives a reason as a plain string or f-string: a reason
    argument, or a ``return`` in a function whose name says it gives a problem or a reason."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and (at := REASON_AT.get(_name(node))) is not None:
            reasons = [k.value for k in node.keywords if k.arg == "reason"]
            if len(node.args) > at:
                reasons.append(node.args[at])
            found += [f"line {node.lineno}" for reason in reasons if _is_text(reason)]
        elif isinstance(node, ast.FunctionDef) and any(
            word in node.name for word in ("problem", "reason", "too_long", "same_pgn")
        ):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    values = (
                        inner.value.elts if isinstance(inner.value, ast.Tuple) else [inner.value]
                    )
                    if _is_text(values[0]):
                        found.append(f"line {inner.lineno} (return)")
    return found


def msgids(source: str) -> list[str]:
    """The literal msgids of ``source``'s translation calls."""
    return [
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and _name(node) in TRANSLATING
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ]


@pytest.mark.parametrize("path", SCANNED, ids=lambda path: str(path.relative_to(SRC)))
def test_every_reason_is_a_translatable_text(path: Path) -> None:
    assert untranslated(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", SCANNED, ids=lambda path: str(path.relative_to(SRC)))
def test_every_reason_has_its_english(path: Path) -> None:
    with translation.override("en"):
        missing = [text for text in msgids(path.read_text()) if translation.gettext(text) == text]
    assert missing == []


@pytest.mark.parametrize(
    "source",
    [
        'Problem(file, 1, None, "not a date")',
        'Problem(file, 1, None, reason=f"school {code} is new")',
        'self.problem(name, line, "type", "not an org type")',
        'raise refuse(file, "the file is empty")',
        'raise Refused(f"unknown scopes: {scopes}", field="scopes")',
        'raise LinkRefused("both enrolments must belong to the same board")',
        'def birth_date_problem(value, today):\n    return "a birth date in the future"',
        'def _too_long(limit):\n    return f"longer than {limit} characters", {}',
    ],
)
def test_the_scan_finds_an_english_reason(source: str) -> None:
    assert untranslated(source) != []


def test_the_scan_accepts_a_translated_reason() -> None:
    source = (
        'Problem(file, 1, None, gettext_noop("geen datum"))\n'
        'raise Refused(_("onbekende scopes: %(scopes)s") % {"scopes": s}, field="scopes")\n'
        "self.problem(name, line, column, *reason)\n"
    )
    assert untranslated(source) == []


def test_the_identifier_checks_english_reasons_each_have_a_dutch_one() -> None:
    """regie.lib.identifiers explains in English (the number service's API); every reason of the
    checks the importer uses has its Dutch msgid (or the importer would say "geen geldig
    nummer" only)."""
    from regie.lib import identifiers
    from regie.roster.importing.checks import IDENTIFIER_REASONS

    tree = ast.parse(Path(identifiers.__file__).read_text())
    used = {"check_pgn", "check_bsn", "check_onderwijsnummer", "check_brin", "check_eck_id"}
    reasons = {
        node.args[0].value
        for function in tree.body
        if isinstance(function, ast.FunctionDef) and function.name in used
        for node in ast.walk(function)
        if isinstance(node, ast.Call)
        and _name(node) == "InvalidIdentifier"
        and isinstance(node.args[0], ast.Constant)
    }
    assert reasons
    assert reasons <= set(IDENTIFIER_REASONS)


def test_a_stored_problem_reads_in_the_language_of_whoever_reads_it() -> None:
    problem = Problem(
        "users.csv", 3, "userIds", "de %(type)s is niet geldig: %(reason)s", {"type": "bsn"}
    )
    stored = services.problems_as_json(
        [
            replace(
                problem,
                params={"type": "bsn", "reason": "voldoet niet aan de elfproef van een BSN"},
            )
        ]
    )
    (read,) = services.problems_from_json(stored)
    assert str(read) == (
        "users.csv, regel 3, userIds: de bsn is niet geldig: voldoet niet aan de elfproef van een BSN"
    )
    with translation.override("en"):
        assert (
            str(read) == "users.csv, line 3, userIds: the bsn is not valid: fails the BSN 11-proef"
        )


# --- pages -------------------------------------------------------------------------------------


def _upload(client: Client, board_pk: int, path: Path) -> ImportRun:
    with path.open("rb") as handle:
        content = handle.read()
    response = client.post(
        reverse("roster:import"),
        {"board": board_pk, "file": SimpleUploadedFile(path.name, content)},
    )
    assert response.status_code == 302
    return ImportRun.objects.latest("created_at")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected", "absent"),
    [
        ("nl", "langer dan 200 tekens", "longer than 200 characters"),
        ("en", "longer than 200 characters", "langer dan 200 tekens"),
    ],
)
def test_an_import_refused_in_dutch_reads_in_the_language_of_the_page(
    rng: random.Random, tmp_path: Path, language: str, expected: str, absent: str
) -> None:
    board = make_board()
    user, _ = make_staff(board, None, StaffRole.BOARD_ADMIN)
    client = client_for(user)
    export = school_export(rng, pupils=2)
    export.students = [replace(export.students[0], achternaam="Lang" * 60), export.students[1]]
    path = tmp_path / "lang.zip"
    write_oneroster(export, path)
    run = _upload(client, board.pk, path)  # uploaded on a Dutch page
    assert run.status == ImportStatus.REFUSED

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(reverse("roster:import-run", args=[run.pk])).content.decode()
    csv = client.get(reverse("roster:import-problems", args=[run.pk])).content.decode()
    assert expected in page
    assert absent not in page
    assert expected in csv


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "nl",
            "Toepassen is mislukt: de nummervoorziening was niet bereikbaar. Er is niets van de "
            "import toegepast. Probeer het later opnieuw.",
        ),
        (
            "en",
            "Applying failed: the number service could not be reached. Nothing of the import was "
            "applied. Please try again later.",
        ),
    ],
)
def test_the_number_service_out_of_reach_is_told_in_the_language_of_the_page(
    rng: random.Random, tmp_path: Path, settings: LazySettings, language: str, expected: str
) -> None:
    settings.NV_CLIENT_URL = "http://127.0.0.1:9/nummervoorziening"  # nothing listens there
    board = make_board()
    user, _ = make_staff(board, None, StaffRole.BOARD_ADMIN)
    client = client_for(user)
    export = school_export(rng, pupils=2)
    export.students = [
        replace(student, eck_id="", pgn=make_bsn(rng)) if index == 0 else student
        for index, student in enumerate(export.students)
    ]
    path = tmp_path / "pgn.zip"
    write_oneroster(export, path)
    run = _upload(client, board.pk, path)
    assert run.status == ImportStatus.PREVIEWED

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.post(reverse("roster:import-apply", args=[run.pk]))
    assert response.status_code == 302
    run_the_apply_job(run)  # the job fails at the number service, in no language of its own
    assert run.status == ImportStatus.FAILED
    assert not Student.objects.exists()

    page = client.get(reverse("roster:import-run", args=[run.pk])).content.decode()
    assert expected in page
    assert "127.0.0.1" not in page
    assert "REGIE_NV_URL" not in page
    # It may be tried again: the file is kept, the button is there.
    assert reverse("roster:import-apply", args=[run.pk]) in page
