"""The release decision for one (product, pupil): CPU per ``policy.decide`` ÷ the same questions
built and compiled by the ORM each time.

In a child process (``python -m benchmarks.policy --child VAR_DIR``) on a fresh SQLite file
database, migrated, with a small register: one board with an active agreement whose schedule
names the single sign-on attributes, a group licence, the school's switches, consent for half of
the pupils, a DPIA; a second board with an agreement of its own. Each pupil is decided as a launch
decides it: with only the supplier pseudonym requested (authorize) and with every SSO attribute
(token and userinfo). Three ways, in alternating rounds (best of each), over the same pupils:

- **prepared**: ``policy.decide`` as it is: the questions of ``policy.facts_for`` are prepared
  querysets (:mod:`regie.lib.prepared`), built and compiled once per process;
- **the reference**: the same ``policy.decide`` with each prepared question replaced by its
  queryset built and compiled by the ORM on every call (what every decision cost before);
- ``policy.decide_many`` for that one pupil (the ORM batch reader that rostering uses).

A teacher of the licensed group (``policy.decide_staff``) is measured the first two ways.

CPU is ``time.process_time`` (SQLite runs in the process, so its work is counted too).
``REGIE_BENCH_POLICY_CALLS`` sets the decisions per round (default 3 000). Standalone: ``python -m
benchmarks.policy``. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CALLS = int(os.environ.get("REGIE_BENCH_POLICY_CALLS", "3000"))
ROUNDS = 5
PUPILS = 200
AIM_MS = 0.5


class Unprepared:
    """A question run as the ORM runs it: the queryset built and compiled on every call."""

    def __init__(self, build: Callable[..., Any]) -> None:
        self.build = build

    def rows(self, **values: Any) -> list[Any]:
        return list(self.build(**values))


def _register(pupils: int) -> tuple[Any, list[Any], list[Any]]:
    """The product, its pupils and a teacher's membership (a fictional register, made with the
    models directly)."""
    from django.utils import timezone

    from regie.agreements import catalogue
    from regie.agreements.models import (
        AgreementStatus,
        Consent,
        DataSchedule,
        Dpia,
        DpiaOutcome,
        Licence,
        Processing,
        ProcessingAgreement,
        Product,
        SchoolSwitch,
        Supplier,
    )
    from regie.core.models import Board, School, SchoolYear
    from regie.gateway.claims import SSO_ATTRIBUTES
    from regie.roster.models import Group, Staff, StaffRole, Student

    today = timezone.localdate()
    first = today.year if today.month >= 8 else today.year - 1
    year = SchoolYear.objects.create(
        title=f"{first}-{first + 1}", start=date(first, 8, 1), end=date(first + 1, 7, 31)
    )
    supplier = Supplier.objects.create(name="Rekenwereld B.V. (fictief)", kvk="99000001")
    product = Product.objects.create(supplier=supplier, name="Rekenwereld", sector="PO")
    schools = []
    for number in (1, 2):
        board = Board.objects.create(
            bestuursnummer=f"4100{number}", name=f"Stichting {number} (fictief)"
        )
        schools.append(
            School.objects.create(board=board, brin=f"99Z{number}", name="School", sector="PO")
        )
        agreement = ProcessingAgreement.objects.create(
            board=board,
            supplier=supplier,
            title="Verwerkersovereenkomst (fictief)",
            status=AgreementStatus.ACTIVE,
            start_date=today - timedelta(days=30),
        )
        schedule = DataSchedule.objects.create(agreement=agreement, product=product)
        Processing.objects.create(
            schedule=schedule,
            purpose="Oefenen",
            subjects=["pupils"],
            attributes=[*SSO_ATTRIBUTES, "care"],
            sources="de school via regie",
            retention_period=12,
            retention_unit="months",
            retention_trigger="left_school",
        )
        Dpia.objects.create(
            board=board,
            product=product,
            performed_on=today,
            outcome=DpiaOutcome.ACCEPTABLE,
            reference="DPIA-1",
            reviewer_name="F. Functionaris",
            reviewer_role="FG",
        )
    school = schools[0]
    group = Group.objects.create(school=school, las_key="G5", name="Groep 5", kind="group")
    students = Student.objects.bulk_create(
        Student(school=school, las_key=f"L{number}", achternaam="Jansen")
        for number in range(pupils)
    )
    group.students.add(*students)
    Licence.objects.create(product=product, school=school, school_year=year, group=group)
    for attribute in ("first_name", "last_name", "groups", "gender", "year_level", "school"):
        SchoolSwitch.objects.create(school=school, product=product, attribute=attribute)
    moment = timezone.now()
    for student in students[::2]:
        for attribute in sorted(catalogue.CONSENT_GATED - catalogue.SENSITIVE)[:2]:
            Consent.objects.create(
                student=student,
                product=product,
                attribute=attribute,
                given=True,
                given_by="guardian",
                decided_at=moment,
            )
    teacher = Staff.objects.create(
        board=school.board,
        school=school,
        voornamen="Kim",
        achternaam="Visser",
        email="kim.visser@school.example",
        roles=[StaffRole.TEACHER],
    )
    teacher.groups.add(group)
    memberships = list(Staff.objects.filter(pk=teacher.pk).select_related("school__board"))
    return product, list(Student.objects.filter(school=school).order_by("pk")), memberships


@contextmanager
def _unprepared() -> Iterator[None]:
    """``policy``'s questions built and compiled by the ORM on every call, for the while."""
    from regie.agreements import policy

    questions: dict[str, Callable[..., Any]] = {
        "SCHEDULE": policy.schedule_question,
        "SWITCHES": policy.switches_question,
        "CONSENTS": policy.consents_question,
        "DPIA_ALLOWING": policy.dpia_question,
        "GOVERNING": policy.governing_question,
        "LICENSED_GROUPS": policy.licensed_groups_question,
    }
    saved = {name: getattr(policy, name) for name in questions}
    for name, question in questions.items():
        setattr(policy, name, Unprepared(question))
    try:
        yield
    finally:
        for name, prepared in saved.items():
            setattr(policy, name, prepared)


def child(var_dir: Path) -> dict[str, Any]:
    os.environ["DJANGO_SETTINGS_MODULE"] = "regie.settings"
    os.environ["REGIE_VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir / 'regie.sqlite3'}"
    os.environ.setdefault("REGIE_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from regie.agreements import policy
    from regie.agreements.catalogue import SUPPLIER_PSEUDONYM
    from regie.gateway.claims import SSO_ATTRIBUTES

    call_command("migrate", interactive=False, verbosity=0)
    product, students, memberships = _register(PUPILS)
    requests = {"authorize": (SUPPLIER_PSEUDONYM,), "token, userinfo": SSO_ATTRIBUTES}
    teacher_request = "a teacher (`decide_staff`)"

    def prepared(student: Any, requested: tuple[str, ...]) -> Any:
        return policy.decide(product, student, requested)

    def reference(student: Any, requested: tuple[str, ...]) -> Any:
        with _unprepared():
            return policy.decide(product, student, requested)

    def batch(student: Any, requested: tuple[str, ...]) -> Any:
        return policy.decide_many(product, [student], requested)[student.pk]

    ways: dict[str, Callable[[Any, tuple[str, ...]], Any]] = {
        "prepared": prepared,
        "reference": reference,
        "decide_many": batch,
    }
    # The same answers all three ways (a benchmark of wrong answers would be worthless).
    for requested in requests.values():
        for student in students:
            answers = {name: way(student, requested) for name, way in ways.items()}
            assert answers["prepared"] == answers["reference"] == answers["decide_many"]

    result: dict[str, Any] = {"sqlite": sqlite3.sqlite_version, "requests": {}}
    for label, requested in requests.items():
        best: dict[str, float] = {}
        queries: dict[str, float] = {}
        for name, way in ways.items():
            with CaptureQueriesContext(connection) as captured:
                for student in students:
                    way(student, requested)
            queries[name] = len(captured) / len(students)
        for _round in range(ROUNDS):
            for name, way in ways.items():
                started = time.process_time()
                for number in range(CALLS):
                    way(students[number % len(students)], requested)
                spent = (time.process_time() - started) / CALLS
                best[name] = min(best.get(name, spent), spent)
        result["requests"][label] = {"seconds": best, "queries": queries}

    def teacher(unprepared: bool) -> Any:
        if not unprepared:
            return policy.decide_staff(product, memberships)
        with _unprepared():
            return policy.decide_staff(product, memberships)

    assert teacher(True) == teacher(False)
    assert teacher(False).groups == ("Groep 5",)
    best = {}
    queries = {}
    for name, unprepared in (("prepared", False), ("reference", True)):
        with CaptureQueriesContext(connection) as captured:
            teacher(unprepared)
        queries[name] = float(len(captured))
    for _round in range(ROUNDS):
        for name, unprepared in (("prepared", False), ("reference", True)):
            started = time.process_time()
            for _call in range(CALLS):
                teacher(unprepared)
            spent = (time.process_time() - started) / CALLS
            best[name] = min(best.get(name, spent), spent)
    result["requests"][teacher_request] = {"seconds": best, "queries": queries}
    profiler = cProfile.Profile()
    profiler.enable()
    for number in range(CALLS):
        policy.decide(product, students[number % len(students)], SSO_ATTRIBUTES)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(8)
    result["profile"] = stream.getvalue()
    return result


def _top(profile: str) -> list[str]:
    """The profile's rows (tottime first), trimmed to what a reader needs."""
    lines = profile.splitlines()
    start = next(index for index, line in enumerate(lines) if line.strip().startswith("ncalls"))
    rows = [line.rstrip() for line in lines[start : start + 9] if line.strip()]
    return [re.sub(r" at 0x[0-9a-f]+", "", row) for row in rows]


def run() -> str:
    with tempfile.TemporaryDirectory(prefix="regie-bench-policy-") as directory:
        completed = subprocess.run(
            [sys.executable, "-m", "benchmarks.policy", "--child", directory],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            timeout=3600,
            check=False,
        )
    if completed.returncode != 0:
        raise RuntimeError(f"the child exited with {completed.returncode}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = [
        "## The release decision for one pupil (`policy.decide`)",
        "",
        f"SQLite {result['sqlite']} (file), {PUPILS} pupils, {CALLS} decisions per round, best "
        f"of {ROUNDS} alternating rounds; load average at the end {load}. CPU per decision "
        "(`time.process_time`, SQLite's work included). **The reference**: the same "
        "`policy.decide` with each of its questions built and compiled by the ORM on every call "
        "(as before they were prepared). All three ways give equal decisions for every pupil "
        "(checked first).",
        "",
        "| request | way | CPU per decision | ÷ the reference | queries |",
        "|---|---|---|---|---|",
    ]
    for label, figures in result["requests"].items():
        seconds = figures["seconds"]
        for name in ("prepared", "reference", "decide_many"):
            if name not in seconds:
                continue
            title = {
                "prepared": "prepared",
                "reference": "*reference: the same questions through the ORM*",
                "decide_many": "`decide_many` for one pupil",
            }[name]
            lines.append(
                f"| {label} | {title} | {seconds[name] * 1000:.3f} ms | "
                f"{seconds[name] / seconds['reference']:.2f} | {figures['queries'][name]:.1f} |"
            )
    prepared = result["requests"]["token, userinfo"]["seconds"]["prepared"] * 1000
    reached = "reached" if prepared < AIM_MS else "not reached"
    lines += [
        "",
        f"Aim: well under {AIM_MS} ms of CPU per decision with every SSO attribute requested "
        f"({reached}: {prepared:.3f} ms). Where a prepared decision's time goes "
        "(cProfile, tottime):",
        "",
        "```",
        *_top(result["profile"]),
        "```",
        "",
        "What is left is the database's work (the cursor's `execute` and `fetchall`), Django's "
        "SQLite cursor turning `%s` into `?` on every statement (`re.Pattern.sub`), putting the "
        "values in place and converting the rows (`regie.lib.prepared`), and the rule itself "
        "(`evaluate`). A launch decides three times: once for authorize, twice with every "
        "attribute.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", type=Path)
    arguments = parser.parse_args()
    if arguments.child is not None:
        print(json.dumps(child(arguments.child)))
    else:
        print(run())


if __name__ == "__main__":
    main()
