"""A pupil's 16th birthday moves the rights from the guardian to the pupil: the day before, the
guardian sees the child and the pupil's portal explains what changes at 16; on the birthday the
guardian's pages about the child answer 404 (the list says since when the child decides), and the
pupil sees their own pages and decides on consent themselves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from regie.agreements import policy
from regie.agreements.models import Consent, ConsentGivenBy

from .people import PortalWorld, make_pupil_login, release, sixteenth_birthday_is

pytestmark = pytest.mark.django_db

CHILD_PAGES = ("portal:child", "portal:child-print", "portal:child-download", "portal:consent")


def test_the_day_before_the_guardian_acts_and_the_pupil_reads_what_changes(
    world: PortalWorld,
) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    sixteenth_birthday_is(world.child_a, tomorrow)
    guardian = world.client(world.user_a)
    for name in CHILD_PAGES:
        assert guardian.get(reverse(name, args=[world.child_a.pk])).status_code == 200, name
    home = guardian.get(reverse("portal:home")).content.decode()
    assert reverse("portal:child", args=[world.child_a.pk]) in home

    pupil = world.client(make_pupil_login(world.child_a))
    html = pupil.get(reverse("portal:home")).content.decode()
    assert "Wat verandert er als je 16 wordt?" in html
    assert f"Dat is vanaf {date_format(tomorrow, 'j F Y')}." in html
    for name in CHILD_PAGES:
        assert pupil.get(reverse(name, args=[world.child_a.pk])).status_code == 404, name


def test_on_the_birthday_the_pupil_decides_and_the_guardian_no_longer_sees_the_child(
    world: PortalWorld,
) -> None:
    today = timezone.localdate()
    sixteenth_birthday_is(world.child_a, today)
    event = release(world.child_a, world, ("supplier_pseudonym",))
    guardian = world.client(world.user_a)
    for name in CHILD_PAGES:
        assert guardian.get(reverse(name, args=[world.child_a.pk])).status_code == 404, name
    proof = reverse("portal:release-proof", args=[world.child_a.pk, event.pk])
    assert guardian.get(proof).status_code == 404
    home = guardian.get(reverse("portal:home")).content.decode()
    assert reverse("portal:child", args=[world.child_a.pk]) not in home
    assert f"beslist sinds {date_format(today, 'j F Y')} zelf (16 jaar of ouder)" in home
    assert str(world.child_a) in home
    # Guardian A's other children are not affected: guardian B still sees child B.
    other = world.client(world.user_b).get(reverse("portal:child", args=[world.child_b.pk]))
    assert other.status_code == 200

    pupil = world.client(make_pupil_login(world.child_a))
    html = pupil.get(reverse("portal:home")).content.decode()
    assert reverse("portal:child", args=[world.child_a.pk]) in html
    assert "Wat verandert er als je 16 wordt?" not in html
    page = pupil.get(reverse("portal:child", args=[world.child_a.pk])).content.decode()
    assert "Jouw gegevens" in page
    assert "Welke gegevens de school over jou heeft" in page
    assert pupil.get(proof).status_code == 200

    pupil.post(
        reverse("portal:consent", args=[world.child_a.pk]),
        {"product": world.product.pk, "attribute": "first_name", "given": "1"},
    )
    consent = Consent.objects.get(student=world.child_a)
    assert (consent.given_by, consent.guardian) == (ConsentGivenBy.PUPIL, None)
    assert "first_name" in policy.decide(world.product, world.child_a).allowed
    html = pupil.get(reverse("portal:consent", args=[world.child_a.pk])).content.decode()
    assert "<td>jij</td>" in html
