"""Every role its own way in: the menu a login is offered, and where it lands after logging in.

One place decides both. A role has a short list of the pages its work is on, first its main page;
a login gets the lists of the roles it holds, in the order of :data:`ROLE_ORDER`, without
duplicates (the first label of a page wins). The first entry of that menu is where
:func:`landing` sends the login after it logged in.

Which roles a login holds, and whether it may open a page, come from ``regie.roster.access``
(through ``roster.services``): an entry is offered only when the login has the capability the page
itself requires, so nobody is shown a link to a 403.

- **pupil**: 'Mijn leermiddelen' (the tiles), and their privacy and rights (the portal);
- **guardian**: their children in the portal;
- **privacy officer**: the dashboard (what needs doing), the register, agreements, licences,
  pupils, schools, imports, the orders to suppliers, the rights requests, retention and the audit
  log;
- **board admin, school admin**: schools, imports, pupils, and the register's parts their access
  allows (a board admin also the orders to suppliers);
- **teacher**: their groups (their main page: a teacher's pupils, and from there each pupil's
  page, are the daily work), results and learning materials;
- **care coordinator**: the school's pupils, groups and guardians;
- **administrator** (``is_staff``, the superuser): beheer (the admin site) and the shared register.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from regie.roster import services as roster
from regie.roster.models import StaffRole

from .guardians import is_guardian
from .services import student_for

Capability = Callable[[roster.Access], bool]


def _anyone(access: roster.Access) -> bool:
    return True


@dataclass(frozen=True)
class Item:
    """A page a role's menu offers: its label, its URL name, and what the page requires."""

    label: str | Promise
    url_name: str
    requires: Capability = _anyone


PUPIL = "pupil"
GUARDIAN = "guardian"
ADMINISTRATOR = "administrator"

TILES = Item(_("Mijn leermiddelen"), "tiles")
# The portal (``regie.portal``): a guardian's children, a pupil's own data and rights (from 16;
# before that the page says what changes at 16).
PORTAL = Item(_("Privacy en rechten"), "portal:home")
REGISTER = Item(_("Privacyregister"), "agreements:overview", roster.Access.uses_register)
LICENCES = Item(_("Licenties"), "agreements:licences", roster.Access.uses_register)
SCHOOLS = Item(_("Scholen"), "roster:schools", roster.Access.sees_roster)
IMPORT = Item(_("Importeren"), "roster:import", roster.Access.imports)
STUDENTS = Item(_("Leerlingen"), "roster:students", roster.Access.sees_roster)
GROUPS = Item(_("Groepen"), "roster:groups", roster.Access.sees_roster)
# Orders to suppliers (erasure, access, …): the orders pages' own rule, the board's register.
ORDERS = Item(_("Opdrachten"), "orders:list", roster.Access.edits_board_register)
# Rights requests of parents and pupils (``regie.portal``): the privacy officer's queue.
REQUESTS = Item(_("Verzoeken"), "requests:list", roster.Access.edits_board_register)
# Retention (``regie.retention``): the rules in words, what is coming, legal holds, the runs.
RETENTION = Item(_("Bewaren"), "retention:overview", roster.Access.edits_board_register)
# The hub's signed aggregate reports for the sector dashboard (``regie.oversight``).
REPORTS = Item(_("Rapportages"), "reports:list", roster.Access.edits_board_register)
# Data breaches (``regie.oversight``): the register with the 72-hour clock.
INCIDENTS = Item(_("Datalekken"), "incidents:list", roster.Access.edits_board_register)

MENUS: dict[str, tuple[Item, ...]] = {
    PUPIL: (TILES, PORTAL),
    GUARDIAN: (Item(_("Mijn kinderen"), "portal:home"),),
    StaffRole.PRIVACY_OFFICER: (
        Item(_("Overzicht"), "agreements:dashboard", roster.Access.edits_board_register),
        REGISTER,
        Item(_("Overeenkomsten"), "agreements:agreements", roster.Access.edits_board_register),
        LICENCES,
        STUDENTS,
        SCHOOLS,
        IMPORT,
        ORDERS,
        REQUESTS,
        RETENTION,
        INCIDENTS,
        REPORTS,
        Item(_("Logboek"), "agreements:audit-log", roster.Access.edits_board_register),
    ),
    StaffRole.BOARD_ADMIN: (SCHOOLS, IMPORT, STUDENTS, REGISTER, LICENCES, ORDERS),
    StaffRole.SCHOOL_ADMIN: (SCHOOLS, IMPORT, STUDENTS, REGISTER, LICENCES),
    StaffRole.TEACHER: (
        Item(_("Mijn groepen"), "roster:groups", roster.Access.teaches),
        Item(_("Resultaten"), "results", roster.Access.teaches),
        TILES,
    ),
    StaffRole.CARE_COORDINATOR: (
        STUDENTS,
        GROUPS,
        Item(_("Ouders"), "roster:guardians", roster.Access.sees_whole_school),
    ),
    ADMINISTRATOR: (Item(_("Beheer"), "admin:index"), REGISTER),
}
# Whose work comes first for a login with several roles: the rarer, wider task before the daily
# one (a privacy officer who also teaches lands on the overview, and finds their groups after it).
ROLE_ORDER = (
    PUPIL,
    GUARDIAN,
    StaffRole.PRIVACY_OFFICER,
    StaffRole.BOARD_ADMIN,
    StaffRole.SCHOOL_ADMIN,
    StaffRole.TEACHER,
    StaffRole.CARE_COORDINATOR,
    ADMINISTRATOR,
)


def menu_for(user: User | AnonymousUser) -> list[Item]:
    """The pages ``user`` is offered, its main page first; nothing for a visitor."""
    if not user.is_authenticated:
        return []
    access = roster.access_for(user)
    roles = set(access.roles)
    if not roles and student_for(user) is not None:  # a pupil's login has no staff roles
        roles.add(PUPIL)
    if not roles and is_guardian(user):  # nor has a guardian's
        roles.add(GUARDIAN)
    if getattr(user, "is_staff", False):
        roles.add(ADMINISTRATOR)
    items: dict[str, Item] = {}
    for role in ROLE_ORDER:
        if role not in roles:
            continue
        for item in MENUS[role]:
            if item.url_name not in items and item.requires(access):
                items[item.url_name] = item
    return list(items.values())


def landing(user: User | AnonymousUser) -> str:
    """The URL name of the page ``user`` lands on after logging in: their menu's first entry,
    or the home page for a login without any."""
    menu = menu_for(user)
    return menu[0].url_name if menu else "home"
