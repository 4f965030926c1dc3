"""The derivations of the pseudonym chain (DESIGN §4.2–4.4), with versioned keys.

Every layer is a keyed function of the layer below; nothing is looked up or stored::

    anchor          = HMAC-SHA-256(K_anchor, "regie/anchor" ‖ 0 ‖ hpgn)   (internal, never issued)
    stampseudonym₁  = HMAC-SHA-512(K_sp₁,  anchor of the oldest substituted HPgn)
    eck_id₁         = HMAC-SHA-512(K_eck₁, chainId ‖ 0 ‖ sectorId ‖ 0 ‖ stampseudonym₁)
    supplier₁       = HMAC-SHA-512(K_sup₁, supplierId ‖ 0 ‖ sectorId ‖ 0 ‖ eck_id₁)
    value_{v+1}     = Feistel(K_{v+1}, value_v)          for every rotatable layer

Values are issued at the current key version of their layer, as URIs::

    stampseudonym   {base}/sp/{version}/{128 hex}
    ECK iD          {base}/{version}/{128 hex}
    supplier        {base}/lp/{version}/{128 hex}

A key rotation adds a version. Because each step to the next version is a keyed *permutation*, the
service can take a value of any older version back to version 1 and forward again, so

- a value presented at an older version is still understood (and answered at the current one);
- a rotation produces its conversion table (old → new) from the old values alone: no mapping from
  pupils to pseudonyms is ever stored;
- rotating a lower layer does not change the layers above it: an ECK iD is derived from the
  stampseudonym's version-1 value, so a stampseudonym rotation leaves every ECK iD as it was.
"""

from __future__ import annotations

from typing import Final

from regie.lib.crypto import Feistel, Hmac
from regie.lib.identifiers import InvalidIdentifier, check_hpgn

from .keys import Keyring

_SEPARATOR: Final = b"\x00"
# Prepared (chain/supplier, sector) contexts kept per deriver; there are few chains and sectors,
# and suppliers number in the hundreds.
_MAX_CONTEXTS: Final = 10_000


class DerivationError(ValueError):
    """Input that no derivation can be made from. ``code`` is stable, the message never echoes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Layer:
    """One rotatable layer: its version-1 derivation and its chain of version steps."""

    def __init__(self, name: str, keys: tuple[bytes, ...], prefix: str, error_code: str) -> None:
        self.name = name
        self.root = Hmac(keys[0])
        self.steps = [Feistel(key) for key in keys[1:]]
        self.current_version = len(keys)
        self.prefix = prefix
        self.error_code = error_code
        self._issued_prefix = f"{prefix}{self.current_version}/"
        self._issued_length = len(self._issued_prefix)
        self._prefix_length = len(prefix)
        self._contexts: dict[tuple[str, str], Hmac] = {}

    def render(self, core: bytes) -> str:
        """Issue a version-1 value at the current version."""
        value = core
        for step in self.steps:
            value = step.forward(value)
        return self._issued_prefix + value.hex()

    def prepared(self, first: str, sector_id: str) -> Hmac:
        """The version-1 HMAC with its context (chain or supplier, and sector) already fed in."""
        key = (first, sector_id)
        prepared = self._contexts.get(key)
        if prepared is None:
            prepared = self.root.prefixed(
                first.encode() + _SEPARATOR + sector_id.encode() + _SEPARATOR
            )
            if len(self._contexts) < _MAX_CONTEXTS:
                self._contexts[key] = prepared
        return prepared

    def issue(self, prepared: Hmac, message: bytes) -> str:
        """Derive this layer's version-1 value from ``message`` and issue it (the hot path)."""
        if not self.steps:
            return self._issued_prefix + prepared.hexdigest(message)
        return self.render(prepared.digest(message))

    def parse(self, text: str) -> bytes:
        """The version-1 value behind an issued value of any known version.

        Checked without a regular expression (this is the hot path): the prefix, a decimal
        version, and 128 characters that are exactly the lowercase hex form of 64 bytes. Values
        of the current version, nearly all of them, take a shorter path to the same checks.
        """
        if text.startswith(self._issued_prefix):
            digest = text[self._issued_length :]
            try:
                value = bytes.fromhex(digest)
            except ValueError:
                raise self._malformed(text) from None
            if len(value) != 64 or value.hex() != digest:
                raise self._malformed(text)
            for step in reversed(self.steps):
                value = step.backward(value)
            return value
        if not text.startswith(self.prefix):
            raise self._malformed(text)
        version_text, _, digest = text[self._prefix_length :].partition("/")
        try:
            value = bytes.fromhex(digest)
        except ValueError:
            raise self._malformed(text) from None
        if len(value) != 64 or value.hex() != digest or not version_text.isdecimal():
            raise self._malformed(text)
        version = int(version_text)
        if not 1 <= version <= self.current_version:
            raise DerivationError(self.error_code, f"unknown key version of this {self.name}")
        for step in reversed(self.steps[: version - 1]):
            value = step.backward(value)
        return value

    def _malformed(self, text: str) -> DerivationError:
        """Say precisely what is wrong with a value that is not an issued one (never echo it)."""
        if not text:
            return DerivationError(self.error_code, f"empty {self.name}")
        if not text.startswith(self.prefix):
            return DerivationError(
                self.error_code, f"not a {self.name} issued by this number service"
            )
        return DerivationError(
            self.error_code,
            f"a {self.name} ends in /{{key version}}/{{128 lowercase hexadecimal characters}}",
        )

    def convert(self, text: str) -> str:
        """The same value at the current key version (the conversion table's row)."""
        return self.render(self.parse(text))


class Deriver:
    """All derivations under one keyring. Thread-safe: key schedules and prepared contexts are
    never changed once made."""

    def __init__(self, keyring: Keyring, base: str) -> None:
        base = base.rstrip("/")
        self.base = base
        self._anchor = Hmac(keyring.key("anchor", 1), "sha256")
        self.stampseudonyms = Layer(
            "stampseudonym",
            keyring.keys["stampseudonym"],
            f"{base}/sp/",
            "invalid-stampseudonym",
        )
        self.eck_ids = Layer("ECK iD", keyring.keys["eckid"], f"{base}/", "invalid-eck-id")
        self.supplier_pseudonyms = Layer(
            "supplier pseudonym",
            keyring.keys["supplier"],
            f"{base}/lp/",
            "invalid-supplier-pseudonym",
        )

    @property
    def layers(self) -> dict[str, Layer]:
        return {
            "stampseudonym": self.stampseudonyms,
            "eckid": self.eck_ids,
            "supplier": self.supplier_pseudonyms,
        }

    def anchor(self, hpgn: str) -> bytes:
        """The internal anchor of an HPgn; raises :class:`DerivationError` on a malformed HPgn."""
        try:
            check_hpgn(hpgn)
        except InvalidIdentifier as error:
            raise DerivationError("invalid-hpgn", str(error)) from None
        return self._anchor.digest(b"regie/anchor" + _SEPARATOR + hpgn.encode("ascii"))

    def stampseudonym(self, anchor: bytes) -> str:
        """The stampseudonym of an anchor (after substitutions are resolved by the caller)."""
        return self.stampseudonyms.issue(self.stampseudonyms.root, anchor)

    def eck_id(self, stampseudonym: str, chain_id: str, sector_id: str) -> str:
        core = self.stampseudonyms.parse(stampseudonym)
        return self.eck_ids.issue(self.eck_ids.prepared(chain_id, sector_id), core)

    def supplier_pseudonym(self, eck_id: str, supplier_id: str, sector_id: str) -> str:
        core = self.eck_ids.parse(eck_id)
        prepared = self.supplier_pseudonyms.prepared(supplier_id, sector_id)
        return self.supplier_pseudonyms.issue(prepared, core)
