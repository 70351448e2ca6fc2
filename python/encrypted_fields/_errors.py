"""Errors: one class per kind the Rust crate reports, each naming the alias, context and
field, never plaintext, key bytes or ciphertext."""

from __future__ import annotations

from typing import Optional, Sequence


class EncryptedFieldsError(Exception):
    """Base class; ``kind`` matches the Rust crate's ``ErrorKind`` in snake case."""

    kind = "error"

    def __init__(self, message: str, alias: Optional[str] = None,
                 context: Optional[str] = None, field: Optional[str] = None):
        self.alias, self.context, self.field = alias, context, field
        if context is not None and field is not None:
            message = f"{message} (field `{field}` of `{context}`)"
        super().__init__(message)


class UnknownAlias(EncryptedFieldsError):
    """The keyring has no key for the alias: this service has no access."""
    kind = "unknown_alias"


class UnknownKeyId(EncryptedFieldsError):
    """The alias is known but not the key that sealed the envelope (rotated out)."""
    kind = "unknown_key_id"


class MalformedEnvelope(EncryptedFieldsError):
    """Not an envelope: bad text encoding, or too short."""
    kind = "malformed_envelope"


class UnsupportedVersion(EncryptedFieldsError):
    """The version byte is not one this implementation reads."""
    kind = "unsupported_version"


class AuthenticationFailed(EncryptedFieldsError):
    """Wrong key, tampered, or moved from another field, type or alias."""
    kind = "authentication_failed"


class InvalidKey(EncryptedFieldsError):
    """A key or alias given to a keyring is invalid; names the variable."""
    kind = "invalid_key"


class MissingAliases(EncryptedFieldsError):
    """``Keyring.require`` found aliases missing; ``missing`` lists them all."""
    kind = "missing_aliases"

    def __init__(self, missing: Sequence[str]):
        self.missing = sorted(set(missing))
        plural = "" if len(self.missing) == 1 else "es"
        super().__init__(f"keyring has no key for alias{plural} `" + "`, `".join(self.missing) + "`")


class SerializeError(EncryptedFieldsError):
    """The value cannot be written as JSON."""
    kind = "serialize"


class DeserializeError(EncryptedFieldsError):
    """The decrypted plaintext is not JSON, or a record does not fit its ``Schema``."""
    kind = "deserialize"


class UnknownMember(DeserializeError):
    """A sealed record has a member its type does not declare (FORMAT.md 13.5, step 1)."""
