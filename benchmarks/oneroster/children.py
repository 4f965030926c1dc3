"""The children of the OneRoster benchmark, with Django in-process: the fictional school, and the
same requests through Django's test client with the reference and a profile."""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import random
import time
from datetime import date
from typing import Any

from ..serving import write_handoff
from .common import (
    ATTRIBUTES,
    CORE_SCOPE,
    GROUPS,
    PROFILED_REQUESTS,
    PUPILS,
    REPETITIONS,
    REQUESTS,
    SWITCHED,
    Request,
    percentile,
)


def _school_year(today: date) -> tuple[str, date, date]:
    start_year = today.year if today.month >= 8 else today.year - 1
    return f"{start_year}-{start_year + 1}", date(start_year, 8, 1), date(start_year + 1, 7, 31)


def _export(rng: random.Random, code: str) -> Any:
    """One school: ``PUPILS`` pupils with ECK iDs in ``GROUPS`` groups, a teacher per group."""
    from regie.roster.importing.records import (
        Gender,
        GroupKind,
        GroupRecord,
        RosterExport,
        SchoolRecord,
        SchoolYearRecord,
        StaffRecord,
        StaffRole,
        StudentRecord,
    )
    from regie.roster.importing.records import Sector as RecordSector
    from regie.roster.tests.exports import FIRST, LAST, eck_id

    school_key = f"org-{code}"
    title, start, end = _school_year(date.today())
    year = SchoolYearRecord("sy-bench", title, start, end)
    groups, students, staff = [], [], []
    per_group = PUPILS // GROUPS
    for number in range(GROUPS):
        level = str(1 + number % 8)
        key = f"G-{number:02d}"
        name = f"Groep {level}{'ABCDE'[number // 8]}"
        groups.append(GroupRecord(key, school_key, name, GroupKind.GROUP, level, year.key))
        staff.append(
            StaffRecord(
                key=f"MW-{number:02d}",
                school_key=school_key,
                voornamen="Eva",
                voorvoegsel="",
                achternaam=f"Smit{number}",
                email=f"leerkracht{number}@{code.lower()}.school.example",
                roles=(StaffRole.TEACHER,),
                group_keys=(key,),
            )
        )
    for number in range(PUPILS):
        group = groups[number // per_group]
        voorvoegsel, last = LAST[number % len(LAST)]
        first = FIRST[number % len(FIRST)]
        students.append(
            StudentRecord(
                key=f"LL-{number:05d}",
                school_key=school_key,
                roepnaam=first,
                voornamen=f"{first} Maria",
                voorvoegsel=voorvoegsel,
                achternaam=last,
                birth_date=date(2014 + number % 8, 1 + number % 12, 1 + number % 28),
                gender=(Gender.FEMALE, Gender.MALE)[number % 2],
                year_level=group.year_level,
                group_keys=(group.key,),
                eck_id=eck_id(rng),
            )
        )
    return RosterExport(
        source_format="benchmark",
        schools=[SchoolRecord(school_key, code, "", f"School {code} (fictief)", RecordSector.PO)],
        school_years=[year],
        groups=groups,
        students=students,
        staff=staff,
    )


def setup_child() -> None:
    """Create the fictional school, supplier, agreement, licences and client; hand them over."""
    import django

    django.setup()
    from django.db import transaction

    from regie.agreements import services as register
    from regie.agreements.tests.register import make_agreement, make_product, make_supplier
    from regie.core.models import School, SchoolYear
    from regie.gateway.services import register_client
    from regie.roster.importing.plan import apply_export
    from regie.roster.models import Group
    from regie.roster.tests.exports import make_board

    rng = random.Random(1000)
    board = make_board("41999", "Stichting Benchmark (fictief)")
    code = "99ZZ"
    with transaction.atomic():
        apply_export(_export(rng, code), board, actor="benchmark", pseudonyms={})
    school = School.objects.get(brin=code)
    supplier = make_supplier("Rekenwereld B.V. (fictief)", "99000001")
    product = make_product(supplier, "Rekenwereld")
    make_agreement(board, supplier, [product], attributes=ATTRIBUTES)
    for attribute in SWITCHED:
        register.set_switch(school, product, attribute, True, user=None)
    year = SchoolYear.objects.get(start__lte=date.today(), end__gte=date.today())
    for group in Group.objects.filter(school=school).order_by("pk"):
        register.grant_licence(product, school, year, group=group, user=None)
    client, secret = register_client(
        supplier,
        name="Rekenwereld roostersynchronisatie (benchmark)",
        product=product,
        redirect_uris=[],
        auth_method="client_secret_basic",
        scopes=(CORE_SCOPE,),
    )
    from django.db import connection

    if connection.vendor == "postgresql":  # planner statistics, as autovacuum would soon make
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    write_handoff({"client_id": client.client_id, "secret": secret, "school": school.pk})


# (file, function, label, top level): the top-level parts do not overlap; the others are "of which".
PROFILED = (
    ("regie/gateway/oneroster/binding.py", "__call__", "bearer token checked", True),
    (
        "regie/gateway/oneroster/release.py",
        "decisions",
        "pupils read, release policy decided",
        True,
    ),
    ("regie/agreements/policy.py", "decide_many", "— of which `policy.decide_many`", False),
    ("regie/gateway/pseudonyms.py", "for_students", "stored pseudonyms read", True),
    ("regie/gateway/oneroster/release.py", "_user", "pupil records built", True),
    (
        "regie/gateway/oneroster/release.py",
        "_teacher_records",
        "teacher records built, with the classes and memberships they need",
        True,
    ),
    (
        "regie/gateway/oneroster/release.py",
        "teachers",
        "— of which classes, memberships and teachers read",
        False,
    ),
    (
        "regie/gateway/oneroster/changes.py",
        "date",
        "dated: what the client was given read, fingerprints compared",
        True,
    ),
    ("regie/gateway/oneroster/query.py", "apply", "filtered, sorted, paged", True),
    ("regie/gateway/oneroster/query.py", "records", "fields selected", True),
    ("regie/gateway/oneroster/binding.py", "json_response", "serialised (orjson)", True),
    ("regie/audit/services.py", "record", "audit event written", True),
)


def _reference(school_id: int) -> float:
    """A plain SELECT of the school's pupils plus json.dumps of as many user-shaped dicts."""
    from django.db import connection

    from regie.roster.models import Student

    table = Student._meta.db_table
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, eck_id, updated_at, year_level FROM {table} WHERE school_id = %s",  # noqa: S608
            [school_id],
        )
        rows = cursor.fetchall()
    users = [
        {
            "sourcedId": row[1],
            "status": "active",
            "dateLastModified": str(row[2]),
            "enabledUser": True,
            "roles": [{"roleType": "primary", "role": "student"}],
            "grades": [row[3]],
        }
        for row in rows
    ]
    json.dumps({"users": users})
    elapsed = time.perf_counter() - started
    if len(rows) != PUPILS:
        raise RuntimeError(f"the reference read {len(rows)} pupils, not {PUPILS}")
    return elapsed


def inprocess_child(school_id: int) -> None:
    """The same requests through Django's test client, the reference, and a profile."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    token = os.environ["REGIE_BENCH_TOKEN"]
    browser = DjangoClient(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")

    def get(request: Request) -> None:
        answer = browser.get(request.path)
        headers = {name.lower(): value for name, value in answer.headers.items()}
        request.check(answer.status_code, headers, answer.content)

    times: dict[str, list[float]] = {request.name: [] for request in REQUESTS}
    for request in REQUESTS:
        get(request)  # warm
    queries = {}
    for request in REQUESTS:
        with CaptureQueriesContext(connection) as captured:
            get(request)
        queries[request.name] = len(captured)
    for _ in range(REPETITIONS // 2):
        for request in REQUESTS:
            started = time.perf_counter()
            get(request)
            times[request.name].append(time.perf_counter() - started)
    references = [_reference(school_id) for _ in range(REPETITIONS // 2)]

    profile = cProfile.Profile()
    started = time.perf_counter()
    for _ in range(PROFILED_REQUESTS):
        profile.enable()
        get(REQUESTS[0])
        profile.disable()
    profiled = (time.perf_counter() - started) / PROFILED_REQUESTS
    if os.environ.get("REGIE_BENCH_PROFILE"):
        profile.dump_stats(os.environ["REGIE_BENCH_PROFILE"])
    table: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    parts = {}
    for suffix, function, label, _top in PROFILED:
        cumulative = sum(
            entry[3]
            for (filename, _, name), entry in table.items()
            if name == function and filename.endswith(suffix)
        )
        parts[label] = cumulative / PROFILED_REQUESTS
    parts["the rest: Django, django-ninja, the other queries, sorting"] = profiled - sum(
        parts[label] for _, _, label, top in PROFILED if top
    )
    print(
        json.dumps(
            {
                "p50": {name: percentile(values, 0.5) for name, values in times.items()},
                "queries": queries,
                "reference": percentile(references, 0.5),
                "profiled": profiled,
                "parts": parts,
            }
        )
    )
