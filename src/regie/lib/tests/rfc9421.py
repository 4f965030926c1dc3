"""An independent verifier of HTTP Message Signatures (RFC 9421), for tests only.

Written against the RFCs, not against the library the hub signs with (``http-message-signatures``):

- RFC 8941 (Structured Field Values): a small parser and serialiser for what signatures need —
  dictionaries, inner lists, parameters, and the bare items (integer, decimal, string, token,
  byte sequence, boolean);
- RFC 9421 §2.1 (HTTP fields: the value trimmed, several lines joined with ``", "``), §2.2 (the
  derived components ``@method``, ``@target-uri``, ``@authority``, ``@scheme``,
  ``@request-target``, ``@path``, ``@query`` and ``@query-param``), §2.3 (``@signature-params``:
  the inner list of covered components with its parameters, serialised per RFC 8941 §4.1.1.1),
  §2.5 (the signature base: one line per component, ``"<name>";<params>: <value>``, joined with
  LF, then the ``@signature-params`` line, no trailing LF), §3.2 (verifying), §4 (the
  ``Signature-Input`` and ``Signature`` dictionaries);
- RFC 9530 §2 (``Content-Digest``: a dictionary of algorithm → byte sequence);
- Ed25519 (RFC 8032) through ``cryptography``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Union
from urllib.parse import parse_qsl, quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class StructuredFieldError(ValueError):
    """The text is not a valid RFC 8941 structured field."""


class SignatureInvalid(Exception):
    """The message's signature does not verify; the text says which step failed."""


# --- RFC 8941: structured field values -----------------------------------------------------------


class Token(str):
    """An sf-token (RFC 8941 §3.3.4), distinct from an sf-string."""

    __slots__ = ()


BareItem = Union[int, Decimal, str, Token, bytes, bool]  # noqa: UP007 (a runtime alias)


@dataclass
class Item:
    value: BareItem
    params: dict[str, BareItem] = field(default_factory=dict)


@dataclass
class InnerList:
    items: list[Item]
    params: dict[str, BareItem] = field(default_factory=dict)


Member = Union[Item, InnerList]  # noqa: UP007 (a runtime alias)

KEY_FIRST = set(string.ascii_lowercase + "*")
KEY_CHARS = set(string.ascii_lowercase + string.digits + "_-.*")
TOKEN_FIRST = set(string.ascii_letters + "*")
TOKEN_CHARS = set(string.ascii_letters + string.digits + ":/" + "!#$%&'*+-.^_`|~")
BASE64_CHARS = set(string.ascii_letters + string.digits + "+/=")


class Parser:
    """RFC 8941 §4.2, the parsing algorithms, over one field value."""

    def __init__(self, text: str) -> None:
        try:
            text.encode("ascii")
        except UnicodeEncodeError:
            raise StructuredFieldError("not ASCII") from None
        self.text = text.strip(" ")  # §4.2: discard leading and trailing SP
        self.at = 0

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        self.at += 1
        return char

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.at += 1

    def done(self) -> None:
        if self.at != len(self.text):
            raise StructuredFieldError(f"unexpected text at {self.at}")

    def dictionary(self) -> dict[str, Member]:  # §4.2.2
        members: dict[str, Member] = {}
        while self.peek():
            key = self.key()
            if self.peek() == "=":
                self.at += 1
                members[key] = self.member()
            else:
                members[key] = Item(True, self.parameters())
            self.skip(" \t")
            if not self.peek():
                break
            if self.take() != ",":
                raise StructuredFieldError("a comma must separate dictionary members")
            self.skip(" \t")
            if not self.peek():
                raise StructuredFieldError("a trailing comma")
        self.done()
        return members

    def member(self) -> Member:  # §4.2.1.1
        if self.peek() == "(":
            return self.inner_list()
        return self.item()

    def inner_list(self) -> InnerList:  # §4.2.1.2
        if self.take() != "(":
            raise StructuredFieldError("an inner list starts with '('")
        items: list[Item] = []
        while self.peek():
            self.skip(" ")
            if self.peek() == ")":
                self.at += 1
                return InnerList(items, self.parameters())
            items.append(self.item())
            if self.peek() not in {" ", ")"}:
                raise StructuredFieldError("inner list items are separated by a space")
        raise StructuredFieldError("an inner list ends with ')'")

    def item(self) -> Item:  # §4.2.3
        value = self.bare_item()
        return Item(value, self.parameters())

    def parameters(self) -> dict[str, BareItem]:  # §4.2.3.2
        params: dict[str, BareItem] = {}
        while self.peek() == ";":
            self.at += 1
            self.skip(" ")
            key = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.at += 1
                value = self.bare_item()
            params[key] = value
        return params

    def key(self) -> str:  # §4.2.3.3
        if self.peek() not in KEY_FIRST or not self.peek():
            raise StructuredFieldError("a key starts with a lowercase letter or '*'")
        start = self.at
        while self.peek() and self.peek() in KEY_CHARS:
            self.at += 1
        return self.text[start : self.at]

    def bare_item(self) -> BareItem:  # §4.2.3.1
        char = self.peek()
        if char == "-" or char.isdigit():
            return self.number()
        if char == '"':
            return self.string()
        if char == ":":
            return self.byte_sequence()
        if char == "?":
            return self.boolean()
        if char and char in TOKEN_FIRST:
            return self.token()
        raise StructuredFieldError(f"no bare item at {self.at}")

    def number(self) -> int | Decimal:  # §4.2.4
        match = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,3})?").match(self.text, self.at)
        if match is None:
            raise StructuredFieldError("not a number")
        self.at = match.end()
        if match[1] is None:
            return int(match[0])
        if len(match[0].lstrip("-").split(".")[0]) > 12:
            raise StructuredFieldError("a decimal has at most 12 integer digits")
        return Decimal(match[0])

    def string(self) -> str:  # §4.2.5
        self.at += 1
        out = []
        while self.peek():
            char = self.take()
            if char == "\\":
                escaped = self.take()
                if escaped not in {'"', "\\"}:
                    raise StructuredFieldError("only '\"' and '\\' may be escaped")
                out.append(escaped)
            elif char == '"':
                return "".join(out)
            elif not 0x20 <= ord(char) <= 0x7E:
                raise StructuredFieldError("a string holds visible ASCII only")
            else:
                out.append(char)
        raise StructuredFieldError("a string ends with '\"'")

    def token(self) -> Token:  # §4.2.6
        start = self.at
        while self.peek() and self.peek() in TOKEN_CHARS:
            self.at += 1
        return Token(self.text[start : self.at])

    def byte_sequence(self) -> bytes:  # §4.2.7
        self.at += 1
        end = self.text.find(":", self.at)
        if end < 0:
            raise StructuredFieldError("a byte sequence ends with ':'")
        encoded = self.text[self.at : end]
        if not set(encoded) <= BASE64_CHARS:
            raise StructuredFieldError("a byte sequence is base64")
        self.at = end + 1
        try:
            return base64.b64decode(encoded, validate=True)
        except ValueError:
            raise StructuredFieldError("a byte sequence is base64") from None

    def boolean(self) -> bool:  # §4.2.8
        self.at += 1
        char = self.take()
        if char not in {"0", "1"}:
            raise StructuredFieldError("a boolean is ?0 or ?1")
        return char == "1"


def parse_dictionary(text: str) -> dict[str, Member]:
    return Parser(text).dictionary()


def parse_inner_list(text: str) -> InnerList:
    parser = Parser(text)
    inner = parser.inner_list()
    parser.done()
    return inner


def serialize_bare_item(value: BareItem) -> str:  # RFC 8941 §4.1.3.1
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        text = format(value.quantize(Decimal("0.001")).normalize(), "f")
        return text if "." in text else text + ".0"
    if isinstance(value, Token):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return ":" + base64.b64encode(value).decode("ascii") + ":"


def serialize_parameters(params: Mapping[str, BareItem]) -> str:  # RFC 8941 §4.1.1.2
    return "".join(
        f";{key}" if value is True else f";{key}={serialize_bare_item(value)}"
        for key, value in params.items()
    )


def serialize_item(item: Item) -> str:
    return serialize_bare_item(item.value) + serialize_parameters(item.params)


def serialize_inner_list(inner: InnerList) -> str:  # RFC 8941 §4.1.1.1
    items = " ".join(serialize_item(item) for item in inner.items)
    return f"({items})" + serialize_parameters(inner.params)


# --- RFC 9421: the signature base ----------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """A request as the verifier sees it: method, the target URI, header lines, body."""

    method: str
    target_uri: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    @classmethod
    def of(
        cls, method: str, target_uri: str, headers: Mapping[str, str] | list[tuple[str, str]]
    ) -> Message:
        pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
        return cls(method, target_uri, tuple(pairs))

    def field_value(self, name: str) -> str:
        """§2.1: every line of the field, trimmed, joined with a comma and a space."""
        values = [value.strip(" \t") for key, value in self.headers if key.lower() == name]
        if not values:
            raise SignatureInvalid(f"the covered field {name!r} is missing")
        return ", ".join(values)


def _authority(target_uri: str) -> str:
    split = urlsplit(target_uri)
    host = (split.hostname or "").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(split.scheme.lower())
    if split.port is not None and split.port != default:
        return f"{host}:{split.port}"
    return host


def derived_value(message: Message, name: str, params: Mapping[str, BareItem]) -> str:
    """§2.2: the value of a derived component of a request."""
    split = urlsplit(message.target_uri)
    path = split.path or "/"
    if name == "@method":  # §2.2.1: as is, case-sensitive
        return message.method
    if name == "@target-uri":  # §2.2.2
        return message.target_uri
    if name == "@authority":  # §2.2.3: lowercase host, default port omitted
        return _authority(message.target_uri)
    if name == "@scheme":  # §2.2.4
        return split.scheme.lower()
    if name == "@request-target":  # §2.2.5 (origin form)
        return path + (f"?{split.query}" if split.query else "")
    if name == "@path":  # §2.2.6: an empty path is "/"
        return path
    if name == "@query":  # §2.2.7: with its "?"; an empty query is "?"
        return f"?{split.query}"
    if name == "@query-param":  # §2.2.8: decoded, then percent-encoded again
        wanted = params.get("name")
        if not isinstance(wanted, str):
            raise SignatureInvalid("@query-param needs a name")
        pairs = parse_qsl(split.query, keep_blank_values=True)
        values = [value for key, value in pairs if key == wanted]
        if len(values) != 1:
            raise SignatureInvalid("@query-param names no single parameter")
        return quote(values[0], safe="")
    raise SignatureInvalid(f"unsupported derived component {name!r}")


def component_line(message: Message, component: Item) -> str:
    """§2.5 step 2: ``"<name>";<params>: <value>``."""
    name = component.value
    if not isinstance(name, str) or isinstance(name, Token) or name != name.lower():
        raise SignatureInvalid("a component identifier is a lowercase string")
    if name.startswith("@"):
        value = derived_value(message, name, component.params)
    else:
        if component.params:
            raise SignatureInvalid("field parameters (sf, key, bs, req, tr) are not supported")
        value = message.field_value(name)
    if "\n" in value or "\r" in value:
        raise SignatureInvalid("a component value has a line break")
    return f"{serialize_item(component)}: {value}"


def signature_base(message: Message, signature_params: InnerList) -> str:
    """§2.5: each covered component once, in order, then ``@signature-params``; no final LF."""
    seen: set[str] = set()
    lines = []
    for component in signature_params.items:
        identifier = serialize_item(component)
        if identifier in seen:
            raise SignatureInvalid("a component is covered twice")
        seen.add(identifier)
        lines.append(component_line(message, component))
    lines.append(f'"@signature-params": {serialize_inner_list(signature_params)}')
    return "\n".join(lines)


# --- RFC 9421 §3.2 and §4: verifying -------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    label: str
    covered: tuple[str, ...]
    params: dict[str, BareItem]
    base: str


def signature_for(message: Message, label: str) -> tuple[InnerList, bytes]:
    """§4.1, §4.2: the label's inner list from ``Signature-Input``, its bytes from ``Signature``."""
    try:
        inputs = parse_dictionary(message.field_value("signature-input"))
        signatures = parse_dictionary(message.field_value("signature"))
    except StructuredFieldError as error:
        raise SignatureInvalid(f"a signature header is malformed ({error})") from None
    chosen = inputs.get(label)
    value = signatures.get(label)
    if not isinstance(chosen, InnerList):
        raise SignatureInvalid(f"no signature input labelled {label!r}")
    if not isinstance(value, Item) or not isinstance(value.value, bytes):
        raise SignatureInvalid(f"no signature labelled {label!r}")
    return chosen, value.value


def verify(
    message: Message,
    label: str,
    *,
    keys: Mapping[str, Ed25519PublicKey],
    verifier: Callable[[bytes, bytes], None] | None = None,
) -> Verified:
    """§3.2: rebuild the base for ``label`` and check it with the key its ``keyid`` names.

    ``verifier(signature, base)`` replaces the Ed25519 check (the RFC's HMAC test vector)."""
    params_list, signature = signature_for(message, label)
    base = signature_base(message, params_list)
    params = params_list.params
    if verifier is not None:
        verifier(signature, base.encode("ascii"))
    else:
        alg = params.get("alg", "ed25519")
        if alg != "ed25519":
            raise SignatureInvalid("only alg ed25519 is verified here")
        keyid = params.get("keyid")
        key = keys.get(keyid) if isinstance(keyid, str) else None
        if key is None:
            raise SignatureInvalid("unknown keyid")
        try:
            key.verify(signature, base.encode("ascii"))
        except InvalidSignature:
            raise SignatureInvalid("the signature does not verify") from None
    covered = tuple(serialize_item(item) for item in params_list.items)
    return Verified(label, covered, dict(params), base)


def hmac_sha256_verifier(secret: bytes) -> Callable[[bytes, bytes], None]:
    """§3.3.3: HMAC using SHA-256, for the RFC's own shared-secret test vector."""

    def check(signature: bytes, base: bytes) -> None:
        if not hmac.compare_digest(hmac.new(secret, base, hashlib.sha256).digest(), signature):
            raise SignatureInvalid("the signature does not verify")

    return check


def ed25519_key_from_jwk(jwk: Mapping[str, object]) -> Ed25519PublicKey:
    """RFC 8037 §2: an OKP key, crv Ed25519, ``x`` the public key in base64url."""
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise SignatureInvalid("not an Ed25519 JWK")
    x = str(jwk.get("x", ""))
    return Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))


def content_digest_matches(value: str, body: bytes) -> bool:
    """RFC 9530 §2: every algorithm we know in ``Content-Digest`` matches the body, and there
    is at least one."""
    algorithms = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
    try:
        members = parse_dictionary(value)
    except StructuredFieldError:
        return False
    checked = 0
    for name, member in members.items():
        if name not in algorithms:
            continue
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            return False
        if not hmac.compare_digest(member.value, algorithms[name](body).digest()):
            return False
        checked += 1
    return checked > 0
