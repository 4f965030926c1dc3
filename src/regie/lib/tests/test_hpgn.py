"""The first-step hash (published test vectors of the national chain) and the identifier checks."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regie.lib.hpgn import InvalidSalt, decode_salt, hpgn
from regie.lib.identifiers import (
    InvalidIdentifier,
    check_brin,
    check_hpgn,
    check_kvk,
    check_oin,
    check_pgn,
    is_valid_bsn,
    is_valid_onderwijsnummer,
)

PUBLIC_TEST_SALT = "rktYml0MIp9TC9u6Ny6uqw=="


def test_it_hashes_the_published_test_vectors() -> None:
    salt = decode_salt(PUBLIC_TEST_SALT)
    assert hpgn("063138219", salt) == (
        "9735dfd2235eaeb5f0300886bcc99c82ffc1d6420c4e0bde8de7218def2135fa"
    )
    assert hpgn("20DP teacher@school.com", salt) == (
        "0b870ff044775ef0360655c40d5b284b7e3ae2b72207a6894794d787eb019e60"
    )


def test_it_refuses_a_salt_that_is_not_base64() -> None:
    with pytest.raises(InvalidSalt):
        decode_salt("not base64!")


@st.composite
def bsns(draw: st.DrawFn) -> str:
    """Any 9-digit number passing the BSN 11-proef, leading zeros included (all zeros excluded)."""
    digits = draw(st.lists(st.integers(0, 9), min_size=8, max_size=8))
    check = sum(digit * weight for digit, weight in zip(digits, range(9, 1, -1), strict=True)) % 11
    value = "".join(map(str, digits)) + str(check)
    if check == 10 or value == "000000000":
        return draw(st.nothing())
    return value


@given(bsns())
def test_it_accepts_every_bsn_passing_the_11_proef(bsn: str) -> None:
    assert is_valid_bsn(bsn)
    assert check_pgn(bsn) == bsn


@given(bsns(), st.integers(0, 8), st.integers(1, 9))
def test_it_rejects_a_bsn_with_one_digit_changed(bsn: str, position: int, shift: int) -> None:
    changed_digit = str((int(bsn[position]) + shift) % 10)
    changed = bsn[:position] + changed_digit + bsn[position + 1 :]
    assert not is_valid_bsn(changed)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty PGN"),
        ("12345678", "a PGN is exactly 9 digits (BSN or onderwijsnummer)"),
        ("1234567890", "a PGN is exactly 9 digits (BSN or onderwijsnummer)"),
        ("abcdefghi", "a PGN is exactly 9 digits (BSN or onderwijsnummer)"),
        (" 63138219", "a PGN is exactly 9 digits (BSN or onderwijsnummer)"),
        ("063138219 ", "a PGN is exactly 9 digits (BSN or onderwijsnummer)"),
        ("123456789", "fails the BSN 11-proef"),
        ("000000000", "fails the BSN 11-proef"),
        ("100000000", "fails the 11-proef for both BSN and onderwijsnummer"),
    ],
)
def test_it_rejects_invalid_pgns_with_a_reason(value: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as raised:
        check_pgn(value)
    assert str(raised.value) == reason


def test_it_keeps_leading_zeros_of_a_pgn() -> None:
    assert check_pgn("063138219") == "063138219"


@pytest.mark.parametrize("onderwijsnummer", ["109458073", "105646185"])
def test_it_accepts_onderwijsnummers(onderwijsnummer: str) -> None:
    assert is_valid_onderwijsnummer(onderwijsnummer)
    assert not is_valid_bsn(onderwijsnummer)
    assert check_pgn(onderwijsnummer) == onderwijsnummer


def test_it_rejects_an_onderwijsnummer_not_starting_with_10() -> None:
    # 248244757 satisfies the onderwijsnummer sum (≡ 5 mod 11), but does not start with 10.
    assert not is_valid_onderwijsnummer("248244757")


def _reason(check: Callable[[str], str], value: str) -> str | None:
    try:
        check(value)
    except InvalidIdentifier as error:
        return str(error)
    return None


# Every fixed text a refusal can say: a value that is part of one ("numb" of "a KvK number is 8
# digits") proves nothing, however the check treats it.
FIXED_TEXT = " | ".join(
    {
        reason
        for check in (check_pgn, check_hpgn, check_brin, check_kvk, check_oin)
        for probe in (
            "",
            "x",
            "1",
            "12345678",
            "123456789",
            "1234567890",
            "abcdefghij" * 7,
            "0" * 64,
        )
        if (reason := _reason(check, probe)) is not None
    }
)


@given(st.text(min_size=4).filter(lambda value: value not in FIXED_TEXT))
def test_it_never_puts_the_value_in_the_reason(value: str) -> None:
    for check in (check_pgn, check_hpgn, check_brin, check_kvk, check_oin):
        reason = _reason(check, value)
        assert reason is None or value not in reason


def test_it_checks_the_hpgn_format() -> None:
    assert check_hpgn("0" * 64) == "0" * 64
    with pytest.raises(InvalidIdentifier, match="64 hexadecimal characters; this one has 63"):
        check_hpgn("a" * 63)
    with pytest.raises(InvalidIdentifier, match="lowercase hexadecimal"):
        check_hpgn("A" * 64)
    with pytest.raises(InvalidIdentifier, match="empty HPgn"):
        check_hpgn("")


@pytest.mark.parametrize("brin", ["00AA", "12AB", "12AB01"])
def test_it_accepts_brins(brin: str) -> None:
    assert check_brin(brin) == brin


@pytest.mark.parametrize("brin", ["", "12ab", "1AB2", "12ABC", "12AB1", "12AB012", "ABCD"])
def test_it_rejects_malformed_brins(brin: str) -> None:
    with pytest.raises(InvalidIdentifier):
        check_brin(brin)


def test_it_checks_kvk_numbers() -> None:
    assert check_kvk("12345678") == "12345678"
    for value in ("1234567", "123456789", "1234567a", ""):
        with pytest.raises(InvalidIdentifier, match="8 digits"):
            check_kvk(value)


def test_it_checks_oins() -> None:
    assert check_oin("00000001234567890000") == "00000001234567890000"
    for value in ("0000000123456789000", "000000012345678900001", "0000000123456789000a"):
        with pytest.raises(InvalidIdentifier, match="20 digits"):
            check_oin(value)
