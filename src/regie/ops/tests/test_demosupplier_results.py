"""In the demo register the release policy allows Rekenwereld's results for its licensed pupils,
so the demo supplier's "Resultaat terugsturen" is accepted by the gradebook."""

from __future__ import annotations

from regie.agreements import policy
from regie.agreements.demo import REKENWERELD_KVK, load_demo_register
from regie.agreements.models import Licence, Product
from regie.agreements.tests.register import World


def test_the_demo_register_allows_rekenwereld_results_for_every_licensed_pupil(
    world: World,
) -> None:
    load_demo_register(world.board_a)
    product = Product.objects.get(name="Rekenwereld", supplier__kvk=REKENWERELD_KVK)
    licensed = {
        pupil
        for licence in Licence.objects.filter(product=product, group__isnull=False)
        for pupil in licence.group.students.all()  # type: ignore[union-attr]
    }
    assert licensed
    for pupil in licensed:
        decision = policy.decide(product, pupil, ["results"])
        assert "results" in decision.allowed, decision.reasons()
