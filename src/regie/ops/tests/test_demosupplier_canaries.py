"""The demo suppliers pass the hub's canaries; a misbehaving one (``keeps_erased``, for tests
only) is caught. Against the live hub: a canary is planted in the licensed group, the demo
supplier fetches its roster over OneRoster (the canary with it), the hub orders the canary
deleted and the supplier confirms with signed receipts; then the supplier sends a result for it
from its roster copy. The well-behaved supplier forgot the canary and sends nothing; the
misbehaving one still has it, the hub refuses the result and records a breach."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from regie.demosupplier import server
from regie.demosupplier.suppliers import REKENWERELD
from regie.gateway import pseudonyms
from regie.gateway.tests.conftest import Launchable
from regie.ops import supplier_registration as registration
from regie.ops.tests.test_demosupplier_rostering import allow_results, csrf_of
from regie.orders.jobs import deliver
from regie.orders.models import Order, OrderState
from regie.retention import canaries
from regie.retention.models import CanaryChannel, CanarySighting
from regie.roster.models import Student

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]


@pytest.mark.parametrize("keeps_erased", [False, True])
def test_a_supplier_that_keeps_an_erased_canary_is_caught_and_a_demo_supplier_is_not(
    launchable: Launchable, keeps_erased: bool
) -> None:
    allow_results(launchable)
    supplier = server.start(
        REKENWERELD, f"{launchable.base}/oidc", port=0, keeps_erased=keeps_erased
    )
    try:
        registration.register_clients(supplier.app, launchable.supplier, {"": launchable.product})
        [canary] = canaries.plant(launchable.school, launchable.group)
        student = Student.with_canaries.get(pk=canary.student_id)
        value = pseudonyms.for_student(student, launchable.supplier)
        assert value is not None

        browser = httpx.Client(base_url=supplier.url, follow_redirects=False, timeout=60)
        page = browser.get("/rooster")
        assert (
            browser.post("/rooster/ophalen", data={"csrf": csrf_of(page.text)}).status_code == 303
        )
        page = browser.get("/rooster")
        assert f'<tr data-student="{html.escape(value)}">' in page.text  # released like a pupil
        group = re.search(r'<tr data-class="([^"]+)"><td>Groep 5</td>', page.text)
        assert group is not None
        form = {"csrf": csrf_of(page.text), "class": html.unescape(group[1]), "student": value}

        [erasure] = [
            item for item in canaries.order_deleted(canary) if item.supplier == launchable.supplier
        ]
        deliver(order=str(erasure.order_id), attempt=1)
        assert erasure.order is not None
        assert Order.objects.get(pk=erasure.order.pk).state == OrderState.COMPLETED
        assert supplier.app.holdings.holds(value) is keeps_erased

        sent = browser.post("/rooster/resultaat", data=form)
        assert sent.status_code == 400
        found = CanarySighting.objects.filter(supplier=launchable.supplier)
        if keeps_erased:
            assert list(found.values_list("channel", "breach")) == [(CanaryChannel.RESULTS, True)]
            assert canaries.breaching_suppliers(canary.board) == [launchable.supplier]
        else:
            assert "niet in het opgehaalde rooster" in sent.text  # it forgot the canary
            assert not found.exists()
            assert canaries.breaching_suppliers(canary.board) == []
    finally:
        supplier.stop()
