"""Settings from the environment fail loudly on bad values and read secrets from files."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from regie.lib.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_secret,
    env_secret_list,
    env_str,
)


def test_it_uses_defaults_when_unset() -> None:
    assert env_int("REGIE_TEST_INT", 5, "help", environ={}) == 5
    assert env_bool("REGIE_TEST_BOOL", True, "help", environ={}) is True
    assert env_list("REGIE_TEST_LIST", ["a"], "help", environ={}) == ["a"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: env_int("REGIE_TEST_INT", 5, "h", environ={"REGIE_TEST_INT": "five"}),
            "whole number",
        ),
        (
            lambda: env_int("REGIE_TEST_INT", 5, "h", minimum=1, environ={"REGIE_TEST_INT": "0"}),
            "at least 1",
        ),
        (
            lambda: env_bool("REGIE_TEST_BOOL", True, "h", environ={"REGIE_TEST_BOOL": "maybe"}),
            "true or false",
        ),
        (
            lambda: env_choice(
                "REGIE_TEST_CHOICE", "a", ("a", "b"), "h", environ={"REGIE_TEST_CHOICE": "c"}
            ),
            "one of a, b",
        ),
    ],
)
def test_it_fails_loudly_on_bad_values(call: object, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        call()  # type: ignore[operator]


def test_it_reads_secrets_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t-value\n")
    assert (
        env_secret("REGIE_TEST_SECRET", None, "h", environ={"REGIE_TEST_SECRET_FILE": str(secret)})
        == "s3cr3t-value"
    )
    assert env_str("REGIE_TEST_STR", "x", "h", environ={"REGIE_TEST_STR": "y"}) == "y"


def test_it_reads_a_list_of_secrets_from_the_variable_or_a_file(tmp_path: Path) -> None:
    name = "REGIE_TEST_SECRETS"
    assert env_secret_list(name, "h", environ={}) == []
    assert env_secret_list(name, "h", environ={name: " oud-1 , oud-2 ,"}) == ["oud-1", "oud-2"]
    listed = tmp_path / "secrets"
    listed.write_text("oud-1\noud-2\n\n")
    assert env_secret_list(name, "h", environ={f"{name}_FILE": str(listed)}) == ["oud-1", "oud-2"]


def test_an_unreadable_secret_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="REGIE_TEST_SECRET_FILE") as caught:
        env_secret(
            "REGIE_TEST_SECRET",
            None,
            "h",
            environ={"REGIE_TEST_SECRET_FILE": str(tmp_path / "absent")},
        )
    assert "s3cr3t" not in str(caught.value)
