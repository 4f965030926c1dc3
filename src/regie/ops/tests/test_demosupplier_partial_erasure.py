"""An erasure order limited to some attributes (``details.attributes``, a withdrawn consent):
the demo supplier erases only those claims of what it kept from the sign-ins, keeps the rest, and
says so in its destruction statement; an order without them erases everything, as before."""

from __future__ import annotations

from regie.ops.tests.test_demosupplier_orders import OTHER, PUPIL, Channel, channel  # noqa: F401


def hold_claims(channel: Channel, sub: str) -> None:  # noqa: F811
    holdings = channel.supplier.app.holdings
    holdings.signed_in(
        sub, "Rekenwereld", {"sub": sub, "given_name": "Fictief", "groups": ["Groep 5"]}
    )
    holdings.roster_copy({"class-1": "Groep 5"}, {sub: ["class-1"]})
    holdings.result_sent(sub, {"class": "class-1", "score": 8.0, "date": "2026-05-01"})


def test_an_erasure_order_with_attributes_erases_only_those(channel: Channel) -> None:  # noqa: F811
    hold_claims(channel, PUPIL)
    hold_claims(channel, OTHER)
    order = channel.order(
        "erasure",
        [PUPIL],
        details={
            "reason": "consent-withdrawn",
            "attributes": ["first_name"],
            "product": "Rekenwereld",
        },
    )
    _accepted, completed = channel.receipts(channel.send(order), order)
    assert completed["status"] == "completed"
    assert completed["statement"].startswith("Vernietigingsverklaring")
    assert "alleen deze gegevens gewist: first_name" in completed["statement"]
    holdings = channel.supplier.app.holdings
    kept = holdings.data([PUPIL, OTHER])
    assert kept[PUPIL]["received_at_sign_in"] == {
        "Rekenwereld": {"sub": PUPIL, "groups": ["Groep 5"]}
    }
    assert kept[PUPIL]["roster_classes"] == [{"sourcedId": "class-1", "title": "Groep 5"}]
    assert len(kept[PUPIL]["results_sent"]) == 1
    assert kept[OTHER]["received_at_sign_in"]["Rekenwereld"]["given_name"] == "Fictief"


def test_an_erasure_order_without_attributes_erases_everything(channel: Channel) -> None:  # noqa: F811
    hold_claims(channel, PUPIL)
    order = channel.order("erasure", [PUPIL], details={"reason": "retention"})
    _accepted, completed = channel.receipts(channel.send(order), order)
    assert "alle gegevens" in completed["statement"]
    assert not channel.supplier.app.holdings.holds(PUPIL)


def test_attributes_that_are_no_list_of_names_are_refused(channel: Channel) -> None:  # noqa: F811
    hold_claims(channel, PUPIL)
    for bad in ("first_name", [], [3]):
        order = channel.order("erasure", [PUPIL], details={"attributes": bad})
        assert channel.send(order).status_code == 400
    assert channel.supplier.app.holdings.holds(PUPIL)
