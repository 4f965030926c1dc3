"""The orders in the hub's other pages: the pupil's page offers an erasure order to each supplier
holding the pupil's pseudonym (only to who may send orders), the dashboard counts the orders with
links to the filtered list, and the list filters on outstanding."""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse
from django.utils import timezone

from regie.logins import verified_client
from regie.orders import services
from regie.orders.models import Order, OrderState
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import make_staff

from .conftest import World


def an_erasure(world: World, index: int = 0) -> Order:
    return services.create_order(
        type="erasure",
        supplier=world.supplier,
        students=[world.students[index]],
        legal_basis="AVG art. 17 lid 1",
        deadline=timezone.localdate() + dt.timedelta(days=30),
    )


def test_the_pupil_page_offers_the_erasure_order_only_to_who_may_send_it(world: World) -> None:
    school = world.students[0].school
    officer, _ = make_staff(school.board, school, StaffRole.PRIVACY_OFFICER, username="fg-a")
    care, _ = make_staff(school.board, school, StaffRole.CARE_COORDINATOR, username="ib-a")
    pupil = world.students[0]
    page = reverse("pupil-data", args=[pupil.pk])
    erasure = reverse("orders:erasure", args=[pupil.pk, world.supplier.pk])

    shown = verified_client(officer).get(page)
    assert shown.status_code == 200
    assert f'href="{erasure}"' in shown.content.decode()
    assert "Verwijderopdracht sturen" in shown.content.decode()

    as_care = verified_client(care).get(page)
    assert as_care.status_code == 200  # may see the pupil, may not send orders
    assert "Verwijderopdracht sturen" not in as_care.content.decode()
    assert verified_client(care).get(erasure).status_code == 403


def count_after(text: str, label: str) -> tuple[str, int]:
    found = re.search(rf'<a href="([^"]+)">{label}</a></th><td class="count">(\d+)</td>', text)
    assert found is not None, label
    return found[1], int(found[2])


def test_the_dashboard_counts_orders_outstanding_overdue_and_failed(world: World) -> None:
    school = world.students[0].school
    officer, _ = make_staff(school.board, school, StaffRole.PRIVACY_OFFICER, username="fg-a")
    waiting = an_erasure(world, 0)
    late = an_erasure(world, 1)
    Order.objects.filter(pk=late.pk).update(state=OrderState.OVERDUE)
    broken = an_erasure(world, 2)
    Order.objects.filter(pk=broken.pk).update(state=OrderState.FAILED)
    client = verified_client(officer)

    text = client.get(reverse("agreements:dashboard")).content.decode()
    listed = reverse("orders:list")
    assert count_after(text, "Opdrachten aan leveranciers die nog lopen") == (
        f"{listed}?status=open",
        1,
    )
    assert count_after(text, "Opdrachten aan leveranciers die te laat zijn") == (
        f"{listed}?status=overdue",
        1,
    )
    assert count_after(text, "Mislukte opdrachten aan leveranciers") == (
        f"{listed}?status=failed",
        1,
    )
    assert "Er is nu niets te doen" not in text

    outstanding = client.get(f"{listed}?status=open").content.decode()
    assert reverse("orders:detail", args=[waiting.pk]) in outstanding
    assert reverse("orders:detail", args=[late.pk]) not in outstanding
    assert reverse("orders:detail", args=[broken.pk]) not in outstanding
