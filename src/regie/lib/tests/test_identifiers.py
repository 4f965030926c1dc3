"""The identifier checks of regie.lib.identifiers: the form each identifier must have."""

from __future__ import annotations

import pytest

from regie.lib.identifiers import InvalidIdentifier, check_eck_id

ECK_ID = "https://ketenid.example/201703/" + "0a" * 64


@pytest.mark.parametrize(
    "value",
    [ECK_ID, "https://nummervoorziening.regie.example:8443/1/abc", "https://id.example/a/b-c_d~e"],
)
def test_it_accepts_an_eck_id(value: str) -> None:
    assert check_eck_id(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "060000019",
        "http://ketenid.example/201703/0a1b",
        "https://",
        "https://ketenid.example",
        "https://ketenid.example/",
        "https://ketenid.example/2017 03/0a1b",
        " https://ketenid.example/201703/0a1b",
        "https://ketenid.example/201703/0a1b\n",
        "https://ketenid.example/201703/0a1b?x=1",
        "https://ketenid.example/201703/0a1b#x",
        "https://ketenid.example/201703/zoë",
        "https://user:pw@ketenid.example/201703/0a1b",
    ],
)
def test_it_refuses_what_is_not_an_eck_id_without_repeating_it(value: str) -> None:
    with pytest.raises(InvalidIdentifier) as error:
        check_eck_id(value)
    assert "ECK iD" in str(error.value)
    if value:
        assert value.strip() not in str(error.value)
