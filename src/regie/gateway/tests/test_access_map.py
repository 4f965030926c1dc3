"""Who may open which page: one table over the whole URL map, for every role (need-to-know).

The test walks every URL pattern the hub and the number service serve (Django's resolver, all of
them) and requests each one as every persona; :data:`TABLE` says what each must get. A pattern
missing from the table fails the test, so a new page cannot ship without a rule. Where an object
id is in the URL the table has a row per *variant*: the object at the personas' own school (A),
at another school of their board (A2), and at another board (B) — the tenant checks.

Personas (all at board A, school A1 unless said otherwise): anonymous; a pupil with a login
(under 16); a login without any role; a teacher of group 5; a care coordinator, a school admin and
a privacy officer of A1; a board admin of board A; the hub's superuser (the technical
administrator); a guardian of the pupil (a portal login, ``accounts.GuardianAccount``). Outside
the portal a guardian's login is a login without any role: a row that gives no answer for the
guardian expects the answer of ``nobody``. Inside the portal, the guardian against another
guardian's child is ``portal/tests/test_isolation.py``'s walk.

Expected answers: 200 the page; ``LOGIN`` a redirect to the login page; 403 the role has no
business on this page; 404 the object is not theirs to see (never a hint that it exists);
302 a form's redirect; 400/401/405 what a protocol endpoint answers without its credentials.
The admin site (``admin:*``) is one family: only the superuser gets in, everyone else is sent to
the admin's login; every admin URL is requested all the same.
"""

from __future__ import annotations

import copy
import random
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from regie.accounts.models import GuardianAccount, IdentityProvider
from regie.accounts.services import create_pupil_login
from regie.agreements.events import SWITCH_CHANGED
from regie.agreements.tests.register import World, license_group, make_agreement
from regie.audit.services import SYSTEM, record
from regie.conftest import free_port
from regie.logins import verified_client
from regie.roster.importing.records import StaffRole
from regie.roster.models import (
    Group,
    Guardian,
    ImportRun,
    ImportStatus,
    SensitiveCategory,
    SensitiveRecord,
    Student,
)
from regie.roster.tests.exports import make_staff

pytestmark = pytest.mark.django_db

PASSWORD = "fictief-wachtwoord-123"
ROLES = (
    *("anonymous", "pupil", "nobody", "teacher", "care", "school_admin", "officer", "board"),
    *("superuser", "guardian"),
)
NOBODY = ROLES.index("nobody")
LOGIN = "login"  # a redirect to the hub's login page
ADMIN_LOGIN = "admin-login"  # a redirect to the admin's login page
GET, POST, PUT, DELETE = "get", "post", "put", "delete"

Expected = tuple[int | str, ...]


@dataclass(frozen=True)
class Row:
    key: str  # the URL pattern's name (namespace:name)
    variant: str  # whose object the ids in the URL point at: "" (none), "A", "A2", "B", "offer"
    method: str
    expected: Expected  # one answer per role, in the order of ROLES (the guardian's optional)

    def answer_for(self, column: int) -> int | str:
        """What the role in ``column`` must get; a guardian outside the portal is a nobody."""
        return self.expected[column] if column < len(self.expected) else self.expected[NOBODY]


def rows(names: tuple[str, ...], expected: Expected, method: str = GET) -> list[Row]:
    return [Row(name, "", method, expected) for name in names]


def variants(name: str, method: str = GET, **by_variant: Expected) -> list[Row]:
    return [Row(name, variant, method, expected) for variant, expected in by_variant.items()]


L = LOGIN
#                      anon pupil none teach care sadm fg   board super
EVERYONE: Expected = (200, 200, 200, 200, 200, 200, 200, 200, 200)
ROSTER: Expected = (L, 403, 403, 200, 200, 200, 200, 200, 403)
ROSTER_A2: Expected = (L, 403, 403, 404, 404, 404, 404, 200, 403)
ROSTER_B: Expected = (L, 403, 403, 404, 404, 404, 404, 404, 403)
SCHOOL_WIDE: Expected = (L, 403, 403, 403, 200, 200, 200, 200, 403)
SCHOOL_WIDE_A2: Expected = (L, 403, 403, 403, 404, 404, 404, 200, 403)
SCHOOL_WIDE_B: Expected = (L, 403, 403, 403, 404, 404, 404, 404, 403)
# Sensitive records: the care coordinator of the pupil's school only (need-to-know; a designated
# staff member too, see portal/tests/test_sensitive_access.py); designations: FG and board admin.
SENSITIVE: Expected = (L, 403, 403, 403, 200, 403, 403, 403, 403)
SENSITIVE_ELSEWHERE: Expected = (L, 403, 403, 403, 404, 403, 403, 403, 403)
DESIGNATIONS: Expected = (L, 403, 403, 403, 403, 403, 200, 200, 403)
IMPORT: Expected = (L, 403, 403, 403, 403, 200, 200, 200, 403)
IMPORT_B: Expected = (L, 403, 403, 403, 403, 404, 404, 404, 403)
IMPORT_POST: Expected = (L, 403, 403, 403, 403, 302, 302, 302, 403)
REGISTER: Expected = (L, 403, 403, 403, 403, 200, 200, 200, 200)
REGISTER_POST: Expected = (L, 403, 403, 403, 403, 302, 302, 302, 302)
REGISTER_A2: Expected = (L, 403, 403, 403, 403, 404, 200, 200, 200)
REGISTER_B: Expected = (L, 403, 403, 403, 403, 404, 404, 404, 200)
BOARD_REGISTER: Expected = (L, 403, 403, 403, 403, 403, 200, 200, 200)
BOARD_REGISTER_B: Expected = (L, 403, 403, 403, 403, 403, 404, 404, 200)
TEACHERS: Expected = (L, 403, 403, 200, 403, 403, 403, 403, 403)
NO_SUCH_ORDER: Expected = (L, 403, 403, 403, 403, 403, 404, 404, 404)
PUPILS_AND_TEACHERS: Expected = (L, 200, 403, 200, 403, 403, 403, 403, 403)
LOGGED_IN_REDIRECT: Expected = (L, 302, 302, 302, 302, 302, 302, 302, 302)
# Only privileged staff have a second step (404 for everyone else); past it, verify sends them on.
SECOND_STEP_DONE: Expected = (L, 404, 404, 404, 404, 302, 302, 302, 302)
SECOND_STEP_PAGES: Expected = (L, 404, 404, 404, 404, 200, 200, 200, 200)
# The portal (regie.portal): guardians and pupils; the pupil is under 16, so their own child pages
# are the guardian's (404 for the pupil); every other child is a 404, staff get 403.
#                      anon pupil none teach care sadm fg   board super guardian
PORTAL: Expected = (L, 200, 403, 403, 403, 403, 403, 403, 403, 200)
PORTAL_CHILD: Expected = (L, 404, 403, 403, 403, 403, 403, 403, 403, 200)
PORTAL_NOT_THEIRS: Expected = (L, 404, 403, 403, 403, 403, 403, 403, 403, 404)
# The sector dashboard: a visitor is sent to the sector's login page (302, not the hub's).
SECTOR: Expected = (302, 403, 403, 403, 403, 403, 403, 403, 200)


def same(status: int) -> Expected:
    return (status,) * len(ROLES)


ONEROSTER = [
    "get_all_orgs",
    "get_org",
    "get_all_schools",
    "get_school",
    "get_all_academic_sessions",
    "get_academic_session",
    "get_all_classes",
    "get_class",
    "get_classes_for_school",
    "get_all_users",
    "get_user",
    "get_all_students",
    "get_student",
    "get_all_teachers",
    "get_teacher",
    "get_students_for_class",
    "get_teachers_for_class",
    "get_teachers_for_school",
    "get_all_enrollments",
    "get_enrollment",
    "get_all_demographics",
    "get_demographics",
]
GRADEBOOK_READ = [
    "get_all_line_items",
    "get_line_item",
    "get_all_results",
    "get_result",
    "get_line_items_for_class",
    "get_results_for_class",
    "get_results_for_line_item_for_class",
    "get_results_for_student_for_class",
]
NUMBER_SERVICE_GET = ("retrieve_chains", "retrieve_sectors", "batch_progress", "own_registration")
NUMBER_SERVICE_POST = (
    "retrieve_stampseudonym",
    "retrieve_eck_id",
    "retrieve_supplier_pseudonym",
    "replace_stampseudonym",
    "submit_stampseudonym_batch",
    "submit_eck_id_batch",
    "submit_supplier_batch",
    "retrieve_batch",
)

TABLE: list[Row] = [
    # --- public pages -----------------------------------------------------------------------
    *rows(("home", "healthz", "login", "accessibility", "privacy-statements"), EVERYONE),
    *rows(("set_language", "logout"), same(302), POST),
    *rows(("accounts:upstream-start",), same(502), POST),  # the school's provider is down
    *rows(("accounts:upstream-callback",), same(400)),  # no login was started
    *variants("agreements:privacy-statement", A=EVERYONE, B=EVERYONE),
    *variants("agreements:privacy-statement-print", A=EVERYONE, B=EVERYONE),
    *rows(("after-login",), LOGGED_IN_REDIRECT),
    # --- the second step (privileged staff, past it already: see client_as) --------------------
    *rows(("second_factor:verify",), (*SECOND_STEP_DONE, L)),  # a guardian: set one up first
    # A guardian may set up a second step (offered in the portal); without one yet, the recovery
    # codes send them to set it up (under /inloggen/).
    *rows(("second_factor:enrol", "second_factor:qr"), (*SECOND_STEP_PAGES, 200)),
    *rows(("second_factor:recovery-codes",), (*SECOND_STEP_PAGES, L)),
    # --- the roster (need-to-know) ------------------------------------------------------------
    *rows(("roster:schools", "roster:groups", "roster:students"), ROSTER),
    *variants("roster:group", A=ROSTER, A2=ROSTER_A2, B=ROSTER_B),
    *variants("roster:student", A=ROSTER, A2=ROSTER_A2, B=ROSTER_B),
    *variants("pupil-data", A=ROSTER, A2=ROSTER_A2, B=ROSTER_B),
    *variants("roster:student-link", A=SCHOOL_WIDE, A2=SCHOOL_WIDE_A2, B=SCHOOL_WIDE_B),
    *rows(("roster:guardians",), SCHOOL_WIDE),
    *variants("roster:sensitive-list", A=SENSITIVE, A2=SENSITIVE_ELSEWHERE, B=SENSITIVE_ELSEWHERE),
    *variants("roster:sensitive-add", A=SENSITIVE, A2=SENSITIVE_ELSEWHERE, B=SENSITIVE_ELSEWHERE),
    *variants(
        "roster:sensitive-record", A=SENSITIVE, A2=SENSITIVE_ELSEWHERE, B=SENSITIVE_ELSEWHERE
    ),
    *rows(("roster:sensitive-designations",), DESIGNATIONS),
    *rows(("roster:import",), IMPORT),
    *variants("roster:import-run", A=IMPORT, B=IMPORT_B),
    *variants("roster:import-problems", A=IMPORT, B=IMPORT_B),
    *variants("roster:import-progress", A=IMPORT, B=IMPORT_B),
    *variants("roster:import-apply", POST, A=IMPORT_POST, B=IMPORT_B),
    *variants("roster:import-discard", POST, A=IMPORT_POST, B=IMPORT_B),
    *variants("roster:import-discard", A=IMPORT, B=IMPORT_B),  # the confirmation page
    # --- the privacy register ---------------------------------------------------------------
    *rows(
        (
            "agreements:overview",
            "agreements:suppliers",
            "agreements:supplier",
            "agreements:product",
            "agreements:offers",
            "agreements:offer",
            "agreements:licences",
            "agreements:licence-create",
        ),
        REGISTER,
    ),
    *rows(
        (
            "agreements:supplier-create",
            "agreements:supplier-edit",
            "agreements:product-create",
            "agreements:product-edit",
            "agreements:product-dpia",
            "agreements:product-dpia-record",
            "agreements:product-dpia-waiver",
            "agreements:dpias",
            "agreements:dashboard",
            "agreements:agreements",
            "agreements:agreement-create",
            "agreements:agreement-import",
            "agreements:council",
            "agreements:art30",
            "agreements:audit-log",
        ),
        BOARD_REGISTER,
    ),
    *rows(("agreements:offer-adopt",), (L, 403, 403, 403, 403, 403, 302, 302, 302), POST),
    *variants("agreements:agreement", A=BOARD_REGISTER, B=BOARD_REGISTER_B),
    *variants("agreements:agreement-edit", A=BOARD_REGISTER, B=BOARD_REGISTER_B),
    *variants("agreements:deviation-add", A=BOARD_REGISTER, B=BOARD_REGISTER_B),
    *variants("agreements:schedule-add", A=BOARD_REGISTER, B=BOARD_REGISTER_B),
    *variants("agreements:processing-add", A=BOARD_REGISTER, B=BOARD_REGISTER_B),
    *variants("agreements:subprocessor-add", A=BOARD_REGISTER, B=BOARD_REGISTER_B),
    *variants("agreements:agreement-export", A=BOARD_REGISTER, B=BOARD_REGISTER_B, offer=REGISTER),
    *variants(  # without a target status, or of an active agreement: the refusal is shown
        "agreements:agreement-transition",
        POST,
        A=(L, 403, 403, 403, 403, 403, 400, 400, 400),
        B=(L, 403, 403, 403, 403, 403, 404, 404, 400),
    ),
    *variants(
        "agreements:processing-remove",
        POST,
        A=(L, 403, 403, 403, 403, 403, 400, 400, 400),
        B=(L, 403, 403, 403, 403, 403, 404, 404, 400),
    ),
    *variants(
        "agreements:licence-revoke",
        POST,
        A=REGISTER_POST,
        B=(L, 403, 403, 403, 403, 404, 404, 404, 302),
    ),
    # The confirmation pages of destructive steps (GET changes nothing), and their undo: without
    # a revocation or removal of this session to undo, there is nothing (404).
    *variants(
        "agreements:licence-revoke", A=REGISTER, B=(L, 403, 403, 403, 403, 404, 404, 404, 200)
    ),
    *variants("agreements:licence-restore", POST, A=(L, 403, 403, 403, 403, 404, 404, 404, 404)),
    *variants("agreements:agreement-confirm", A=BOARD_REGISTER, B=BOARD_REGISTER_B),
    *variants("agreements:processing-remove", A=BOARD_REGISTER, B=BOARD_REGISTER_B),
    *variants("agreements:processing-restore", POST, A=(L, 403, 403, 403, 403, 403, 404, 404, 404)),
    *variants("agreements:switches", A=REGISTER, A2=REGISTER_A2, B=REGISTER_B),
    *variants("agreements:consents", A=REGISTER, A2=REGISTER_A2, B=REGISTER_B),
    # --- pupils' and teachers' pages --------------------------------------------------------
    *rows(("tiles",), PUPILS_AND_TEACHERS),
    *rows(("results",), TEACHERS),
    # --- the OpenID provider (its own credentials, not the session's roles) -------------------
    *rows(("gateway:discovery", "gateway:jwks"), EVERYONE),
    *rows(("gateway:authorize",), (L, *same(400)[1:])),  # who, then which client: none
    *rows(("gateway:token",), same(400), POST),  # no grant
    *rows(("gateway:introspect",), same(401), POST),  # no client credentials
    *rows(("gateway:userinfo",), same(401)),  # no access token
    *rows(("gateway:logout",), EVERYONE),  # nothing to confirm: "you are logged out"
    # --- OneRoster REST (a supplier's bearer token; sessions count for nothing) -----------------
    *rows(("oneroster:openapi-json", "gradebook:openapi-json"), EVERYONE),
    *rows(("oneroster:api-root", "gradebook:api-root"), same(404)),
    *rows(tuple(f"oneroster:{name}" for name in ONEROSTER), same(401)),
    *rows(tuple(f"gradebook:{name}" for name in GRADEBOOK_READ), same(401)),
    *rows(("gradebook:put_line_item", "gradebook:put_result"), same(401), PUT),
    *rows(("gradebook:delete_line_item", "gradebook:delete_result"), same(401), DELETE),
    # --- the number service (a client's API key) ------------------------------------------------
    *rows(
        tuple(f"nummervoorziening-api:{name}" for name in ("openapi-json", "openapi-view", "ping")),
        EVERYONE,
    ),
    *rows(("nummervoorziening-api:api-root",), same(404)),
    *rows(tuple(f"nummervoorziening-api:{name}" for name in NUMBER_SERVICE_GET), same(401)),
    *rows(tuple(f"nummervoorziening-api:{name}" for name in NUMBER_SERVICE_POST), same(401), POST),
    *rows(("nummervoorziening-api:declare_suppliers",), same(401), PUT),
    *rows(("nummervoorziening-soap",), same(400)),  # a GET without ?wsdl: no SOAP envelope
    # --- orders to suppliers (regie.orders): the board register's editors; the receipt endpoint
    # takes a supplier's signed receipt (POST), nothing else; an order of nobody's is 404 ---------
    *rows(("orders:list",), BOARD_REGISTER),
    *rows(("orders:detail", "orders:retry", "orders:cancel"), NO_SUCH_ORDER),
    # the pupils of A and B got nothing from the supplier: there is no erasure to send
    *variants("orders:erasure", A=NO_SUCH_ORDER, B=NO_SUCH_ORDER),
    *rows(("orders:receipts",), same(405)),
    # --- the published log (regie.transparency): public; an event's proof, the board register's
    # editors for an event about their board (the event below is board A's) ---------------------
    *rows(("transparency:index", "transparency:keys"), EVERYONE),
    *rows(("transparency:checkpoint",), same(404)),  # nothing published yet
    *rows(("transparency:inclusion", "transparency:consistency"), same(400)),  # no parameters
    *variants("transparency:bundle", A=BOARD_REGISTER, B=BOARD_REGISTER_B),
    # --- the portal (regie.portal), the school's invitations, the privacy officer's requests --
    *rows(("portal:home", "portal:verify"), PORTAL),
    *variants("portal:child", A=PORTAL_CHILD, A2=PORTAL_NOT_THEIRS, B=PORTAL_NOT_THEIRS),
    *variants("portal:child-print", A=PORTAL_CHILD, A2=PORTAL_NOT_THEIRS, B=PORTAL_NOT_THEIRS),
    *variants("portal:child-download", A=PORTAL_CHILD, A2=PORTAL_NOT_THEIRS, B=PORTAL_NOT_THEIRS),
    *variants("portal:consent", A=PORTAL_CHILD, A2=PORTAL_NOT_THEIRS, B=PORTAL_NOT_THEIRS),
    *variants("portal:consent", POST, A=(*PORTAL_CHILD[:-1], 302), B=PORTAL_NOT_THEIRS),
    *variants("portal:requests", A=PORTAL_CHILD, A2=PORTAL_NOT_THEIRS, B=PORTAL_NOT_THEIRS),
    *variants("portal:requests", POST, A=(*PORTAL_CHILD[:-1], 400), B=PORTAL_NOT_THEIRS),
    # an event that is no release of the child (A) and one of another board's pupil (B)
    *variants("portal:release-proof", A=PORTAL_NOT_THEIRS, B=PORTAL_NOT_THEIRS),
    *rows(("portal:request", "portal:request-export"), PORTAL_NOT_THEIRS),  # no such request
    *rows(("portal:accept",), same(302)),  # the link's page: into the session, then the form
    *rows(("portal:accept-form",), same(400)),  # without a link: says so
    *rows(("invitations:list",), SCHOOL_WIDE),
    *rows(("invitations:send",), (L, 403, 403, 403, 404, 404, 404, 404, 403), POST),  # nobody
    *rows(("requests:list",), BOARD_REGISTER),
    *rows(("requests:detail",), NO_SUCH_ORDER),
    # --- retention (regie.retention): the board register's editors ------------------------------
    *rows(("retention:overview",), BOARD_REGISTER),
    *rows(("retention:contracts",), BOARD_REGISTER),
    *[  # of an active agreement: the refusal is shown on the contracts page
        row
        for name in (
            "retention:contract-send",
            "retention:contract-statement",
            "retention:contract-nothing-released",
        )
        for row in variants(
            name,
            POST,
            A=(L, 403, 403, 403, 403, 403, 302, 302, 302),
            B=(L, 403, 403, 403, 403, 403, 404, 404, 302),
        )
    ],
    *rows(("retention:legacy",), BOARD_REGISTER),
    # a supplier's legacy registration: a bearer token with regie.legacy, POST only (no session)
    *rows(("legacy:register",), same(405)),
    *rows(("legacy:register",), same(401), POST),
    *rows(("retention:overview", "retention:holds"), BOARD_REGISTER),
    # a form without its kind or action: nothing to do (404)
    *rows(("retention:overview", "retention:holds"), NO_SUCH_ORDER, POST),
    # no such run (gateway cannot import retention, a later app; another board's run is 404 in
    # retention/tests/test_pages.py)
    *rows(("retention:run",), NO_SUCH_ORDER),
    *rows(("retention:canaries",), BOARD_REGISTER),
    *rows(
        ("retention:canaries-plant", "retention:canaries-order"),
        (L, 403, 403, 403, 403, 403, 302, 302, 302),
        POST,
    ),
    # --- the hub's aggregate reports (regie.oversight): the board register's editors ----------
    *rows(("reports:list",), BOARD_REGISTER),
    *rows(("reports:detail", "reports:note"), NO_SUCH_ORDER),  # no such report
    *rows(("reports:make",), (L, 403, 403, 403, 403, 403, 405, 405, 405)),
    *rows(("reports:make",), (L, 403, 403, 403, 403, 403, 302, 302, 302), POST),
    # --- the sector dashboard (regie.sector): supervisors (none of these personas) and the
    # superuser; a visitor is sent to the sector's own login page (302); the intake authenticates
    # by the signed note, and refuses a body that is not text/plain (415) ------------------------
    *rows(("sector:dashboard", "sector:suppliers"), SECTOR),
    *rows(("sector:supplier",), (302, *(403,) * 7, 404)),  # no such supplier in any report
    *rows(("sector:login",), EVERYONE),
    *rows(("sector:logout",), same(302), POST),
    *rows(("sector:intake",), same(415), POST),
    # --- oversight (regie.oversight): the data-breach register, the board register's editors (an
    # incident of another board is 404 in oversight/tests/test_incidents.py); a supplier's breach
    # report is a signed POST, nothing else --------------------------------------------------------
    *rows(("incidents:list", "incidents:new"), BOARD_REGISTER),
    *rows(("incidents:detail", "incidents:ap", "incidents:guardians"), NO_SUCH_ORDER),
    *rows(("oversight-api:breaches",), same(405)),
    # --- the admin site: its login and logout, and (below) the family of every other page ------
    *rows(("admin:login",), (*same(200)[:8], 302)),  # the superuser is logged in already
    *rows(("admin:logout",), same(302), POST),
]

ADMIN_FAMILY: Expected = (ADMIN_LOGIN,) * 8 + ("admitted", ADMIN_LOGIN)


# --- the world ---------------------------------------------------------------------------------


class AccessWorld(World):
    """The register's world (boards A and B, personas, an active agreement at A) plus the
    personas the table needs, and at board B an agreement, a licence and an import of its own."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.care, _ = make_staff(
            self.board_a, self.a1, StaffRole.CARE_COORDINATOR, username="ib-a"
        )
        self.pupil_user = create_pupil_login(self.pupil(), "leerling-a", PASSWORD)
        self.superuser = User.objects.create_superuser("beheer", "beheer@regie.example", PASSWORD)
        self.nobody = User.objects.create_user("niemand", password=PASSWORD)
        self.agreement_b = make_agreement(self.board_b, self.supplier, [self.product])
        self.offer = make_agreement(None, self.supplier, [self.other_product], title="Aanbod")
        self.group_a2 = Group.objects.filter(school=self.a2).order_by("pk")[0]
        self.group_b = Group.objects.filter(school=self.b1).order_by("pk")[0]
        self.licence_a = license_group(self.product, self.group)
        self.licence_b = license_group(self.product, self.group_b)
        self.run_a, self.run_b = (
            ImportRun.objects.create(
                id=uuid.uuid4(), board=board, file_name="export.zip", status=ImportStatus.REFUSED
            )
            for board in (self.board_a, self.board_b)
        )
        self.provider = IdentityProvider(
            board=self.board_a,
            name="Inloggen met Entree",
            issuer=f"http://127.0.0.1:{free_port()}",  # nobody listens: the provider is down
            client_id="regie-hub",
        )
        self.provider.set_client_secret("fictief-geheim")
        self.provider.save()
        guardian = Guardian.objects.create(
            school=self.a1, las_key="OU-map", achternaam="Ouder", email="ouder-a@ouders.example"
        )
        guardian.students.add(self.pupil())
        self.guardian = User.objects.create_user("ouder-a", password=PASSWORD)
        GuardianAccount.objects.create(
            user=self.guardian, board=self.board_a, email="ouder-a@ouders.example"
        )
        self.records = {
            variant: SensitiveRecord.objects.create(
                student=student,
                school_id=student.school_id,
                category=SensitiveCategory.PSYCHODIAGNOSTIC,
                title="Onderzoek (fictief)",
                content="Fictief",
                date=student.created_at.date(),
            )
            for variant, student in (
                ("A", self.pupil()),
                ("A2", Student.objects.filter(school=self.a2).order_by("pk")[0]),
                ("B", Student.objects.filter(school=self.b1).order_by("pk")[0]),
            )
        }
        self.event_a, self.event_b = (  # an event about a pupil of each board, for its proof
            record(SWITCH_CHANGED, SYSTEM, f"student:{student.pk}", {"fields": []})
            for student in (self.pupil(), Student.objects.filter(school=self.b1).order_by("pk")[0])
        )

    def users(self) -> dict[str, User | None]:
        return {
            "anonymous": None,
            "pupil": self.pupil_user,
            "nobody": self.nobody,
            "teacher": self.teacher,
            "care": self.care,
            "school_admin": self.school_admin,
            "officer": self.officer,
            "board": self.board_admin,
            "superuser": self.superuser,
            "guardian": self.guardian,
        }

    def ids(self) -> dict[str, dict[str, int]]:
        """The ids the URLs' parameters take, by parameter name and variant (whose object)."""
        agreements = {"A": self.agreement, "B": self.agreement_b, "offer": self.offer}
        schedules = {
            variant: schedule
            for variant, agreement in agreements.items()
            if (schedule := agreement.schedules.first()) is not None
        }
        objects: dict[str, dict[str, Any]] = {
            "group_id": {"A": self.group, "A2": self.group_a2, "B": self.group_b},
            "student_id": {
                "A": self.pupil(),
                "A2": Student.objects.filter(school=self.a2).order_by("pk")[0],
                "B": Student.objects.filter(school=self.b1).order_by("pk")[0],
            },
            "run_id": {"A": self.run_a, "B": self.run_b},
            "supplier_id": dict.fromkeys(("", "A", "B"), self.supplier),
            "product_id": dict.fromkeys(("", "A", "A2", "B"), self.product),
            "agreement_id": {**agreements, "": self.offer},
            "schedule_id": schedules,
            "processing_id": {
                variant: schedule.processings.order_by("pk")[0]
                for variant, schedule in schedules.items()
            },
            "licence_id": {"A": self.licence_a, "B": self.licence_b},
            "school_id": {"A": self.a1, "A2": self.a2, "B": self.b1},
            "provider_id": {"": self.provider},
            "event_id": {"A": self.event_a, "B": self.event_b},
            "record_id": self.records,
        }
        return {
            name: {variant: item.pk for variant, item in items.items()}
            for name, items in objects.items()
        }


def kwargs_for(ids: dict[str, dict[str, int]], pattern: URLPattern, variant: str) -> dict[str, Any]:
    """Values for the pattern's parameters, for one variant."""
    kwargs: dict[str, Any] = {}
    for parameter in pattern.pattern.converters:
        if parameter == "fmt":
            kwargs[parameter] = "csv" if pattern.name == "art30" else "yaml"
        elif parameter == "to":  # the step a confirmation page is for
            kwargs[parameter] = "terminated"
        elif parameter in ids:
            kwargs[parameter] = ids[parameter][variant]
        elif parameter == "sequence":  # an aggregate report's number: none made yet
            kwargs[parameter] = 999
        elif parameter == "incident_id":  # oversight's, a later app: no such incident
            kwargs[parameter] = 2_000_000_000
        else:  # ids of the APIs' own objects: none of these exist
            kwargs[parameter] = str(uuid.uuid4())
    return kwargs


@pytest.fixture
def world(rng: random.Random) -> AccessWorld:
    return AccessWorld(rng)


# --- walking the URL map -----------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """One pattern of the URL map: its key in the table, and how to make a URL for it."""

    key: str  # namespace:name, or for an unnamed pattern namespace:route
    pattern: URLPattern
    name: str | None
    route: str  # the whole route, when every part is a path() route (for unnamed patterns)

    def url(self, kwargs: dict[str, Any]) -> str:
        if self.name is not None:
            return reverse(self.name, kwargs=kwargs)
        route = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(kwargs[match[1]]), self.route)
        route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda match: str(kwargs[match[1]]), route)
        return "/" + route.replace("^", "").replace("$", "")


def url_patterns() -> Iterator[Served]:
    """Every pattern of the URL map, nested includes walked."""

    def walk(
        patterns: list[URLPattern | URLResolver], namespace: str, route: str
    ) -> Iterator[Served]:
        for item in patterns:
            here = route + str(item.pattern)
            if isinstance(item, URLResolver):
                inner = namespace
                if item.namespace:
                    inner = f"{namespace}:{item.namespace}" if namespace else item.namespace
                yield from walk(item.url_patterns, inner, here)
            elif item.name:
                name = f"{namespace}:{item.name}" if namespace else item.name
                yield Served(name, item, name, here)
            else:
                yield Served(f"{namespace}:{here}", item, None, here)

    yield from walk(get_resolver().url_patterns, "", "")


def admin_kwargs(pattern: URLPattern) -> dict[str, Any]:
    from django.contrib.contenttypes.models import ContentType

    kwargs: dict[str, Any] = {}
    for parameter in pattern.pattern.regex.groupindex:
        if parameter == "app_label":
            kwargs[parameter] = "core"
        elif parameter == "content_type_id":
            kwargs[parameter] = ContentType.objects.get_for_model(User).pk
        else:
            kwargs[parameter] = "1"
    return kwargs


def client_as(user: User | None) -> Client:
    """A client logged in as ``user`` (past the second step, for the roles that have one)."""
    return Client() if user is None else verified_client(user)


def answer(client: Client, method: str, url: str) -> HttpResponse:
    """One request, rolled back afterwards with the client's cookies: a POST (even a logout)
    changes nothing for the next request."""
    cookies = copy.deepcopy(client.cookies)
    with transaction.atomic():
        # https, as behind the TLS proxy (OAuth refuses plain http)
        response: HttpResponse = getattr(client, method)(url, secure=True)
        transaction.set_rollback(True)
    client.cookies = cookies
    return response


STRICT = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
}


def policy_problems(response: HttpResponse) -> list[str]:
    """What is missing from the strict Content-Security-Policy every answer must carry."""
    policy = response.get("Content-Security-Policy")
    if not policy:
        return ["no Content-Security-Policy"]
    directives = {
        words[0]: words[1:] for words in (part.split() for part in policy.split(";")) if words
    }
    problems = [
        f"{name} is {directives.get(name)}"
        for name, sources in STRICT.items()
        if directives.get(name) != sources
    ]
    if directives.get("form-action", [""])[0] != "'self'":
        problems.append(f"form-action is {directives.get('form-action')}")
    if "unsafe" in policy:
        problems.append("an unsafe- keyword")
    return problems


def outcome(response: HttpResponse) -> int | str:
    """The status, or LOGIN / ADMIN_LOGIN for a redirect to a login page."""
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse("admin:login")):
            return ADMIN_LOGIN
        if location.startswith(reverse("login")):
            return LOGIN
    return response.status_code


def test_every_url_in_the_map_has_a_rule() -> None:
    in_table = {row.key for row in TABLE}
    served = {item.key for item in url_patterns()}
    without_rule = sorted(key for key in served - in_table if not key.startswith("admin:"))
    assert without_rule == []
    assert sorted(in_table - served) == []


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_table_says_on_every_url(world: AccessWorld, role: str) -> None:
    """... and every answer, whatever its status, carries the strict Content-Security-Policy."""
    client = client_as(world.users()[role])
    ids = world.ids()
    column = ROLES.index(role)
    served = {item.key: item for item in url_patterns()}
    wrong: list[str] = []
    for row in TABLE:
        item = served[row.key]
        response = answer(client, row.method, item.url(kwargs_for(ids, item.pattern, row.variant)))
        wrong.extend(f"{row.key}: {problem}" for problem in policy_problems(response))
        got = outcome(response)
        if got != row.answer_for(column):
            wrong.append(
                f"{row.method.upper()} {row.key} [{row.variant}]: {got}, "
                f"not {row.answer_for(column)}"
            )
    in_table = {row.key for row in TABLE}
    for key, item in served.items():
        if not key.startswith("admin:") or key in in_table:
            continue
        response = answer(client, GET, item.url(admin_kwargs(item.pattern)))
        wrong.extend(f"{key}: {problem}" for problem in policy_problems(response))
        got = outcome(response)
        expected = ADMIN_FAMILY[column]
        if expected == "admitted":
            if got == ADMIN_LOGIN or response.status_code >= 500:
                wrong.append(f"GET {key}: {got}, but the admin should let the superuser in")
        elif got != expected:
            wrong.append(f"GET {key}: {got}, not {expected}")
    assert not wrong, "\n".join(wrong)
