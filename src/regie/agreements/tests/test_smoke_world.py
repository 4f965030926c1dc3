from regie.agreements import policy
from regie.agreements.tests.register import World, license_group


def test_it_builds_the_world(world: World) -> None:
    pupil = world.pupil()
    assert policy.decide(world.product, pupil).allowed == frozenset()
    license_group(world.product, world.group)
    decision = policy.decide(world.product, pupil)
    assert decision.allowed == {"supplier_pseudonym"}
    assert decision.reasons()["groups"] == "not_switched_on"
