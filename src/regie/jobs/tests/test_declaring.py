"""Declaring jobs: names, and payloads of ids only."""

from __future__ import annotations

import pytest

from regie.jobs.jobs import probe
from regie.jobs.registry import JOBS, PayloadError, check_payload, job


def test_a_payload_of_ids_passes() -> None:
    assert check_payload({"run_id": 12, "kind": "oneroster-csv"}) == {
        "run_id": 12,
        "kind": "oneroster-csv",
    }


@pytest.mark.parametrize(
    "value",
    [
        "Jan de Vries",
        "https://nv.example/lp/1/" + "ab" * 64,
        "ouder@school.example",
        {"nested": 1},
        [1, 2],
        1.5,
        True,
        None,
        "",
        "x" * 65,
    ],
)
def test_a_payload_with_anything_but_ids_is_refused_without_showing_the_value(
    value: object,
) -> None:
    with pytest.raises(PayloadError) as refused:
        check_payload({"subject": value})
    assert "subject" in str(refused.value)
    assert not value or str(value) not in str(refused.value)


def test_defer_refuses_a_payload_before_anything_is_queued() -> None:
    with pytest.raises(PayloadError):
        probe.defer(probe="Jan de Vries")  # no database: the check comes first


def test_a_name_is_dotted_and_declared_once() -> None:
    with pytest.raises(ValueError, match="dotted"):
        job("Probe")
    with pytest.raises(ValueError, match="declared already"):
        job("jobs.probe")(lambda probe: None)
    assert JOBS["jobs.probe"] is probe


def test_the_retry_wait_grows_exponentially_then_gives_up() -> None:
    flaky = JOBS["jobs.probe"].__class__("jobs.flaky_example", print, retries=3, backoff=4)
    assert [flaky.retry_wait(attempts) for attempts in (1, 2, 3, 4)] == [4, 16, 64, None]
