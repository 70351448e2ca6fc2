"""encrypted-fields envelopes and record seals for Python: a twin of the Rust crate's format.

Written from ``docs/FORMAT.md`` alone. Reads and writes the same envelopes
(format versions 1 to 4) with ``cryptography``'s AES-GCM-SIV, the same record
seals (HMAC-SHA256 and Ed25519), loads keys from the same
``ENCRYPTED_FIELDS_KEY_<ALIAS>``, ``ENCRYPTED_FIELDS_SIGNING_KEY_<ALIAS>`` and
``ENCRYPTED_FIELDS_VERIFYING_KEY_<ALIAS>`` variables, and raises the same kinds
of error. Error messages name the alias and field, never plaintext, key bytes
or ciphertext.

Records as dataclasses, declared as the Rust derive declares structs (the
package's README.md has the whole mapping)::

    @record(context="transaction", rename_all="camelCase", bind=("id",))
    @dataclass
    class Transaction:
        id: int
        email: Annotated[str, Encrypted("pii")]
        sender: CashUser                      # another @record: nested

    wire = encrypt(keyring, transaction)      # a dict, the Rust companion's JSON
    transaction = decrypt(keyring, Transaction, wire)
    partial, missing_aliases = decrypt_partial(keyring, Transaction, wire)

One field at a time (the binding is alias, context and field; ``record`` and
``position`` make it version 2, FORMAT.md section 4.1)::

    keyring = Keyring.from_env()
    envelope = encrypt_field(keyring, "pii", "Customer", "email", "ada@example.com")
    value = decrypt_field(keyring, "pii", "Customer", "email", envelope)

Records without dataclasses, declared as the Rust derive declares them: a ``Schema`` names
the type's context and each member by its serialized name, in declaration
order: ``Plain()`` (kept as it is; ``Plain(float)`` for a Rust ``f64``,
``optional=True`` for an ``Option``), ``Encrypted(alias, deterministic=False,
optional=False)``, or ``Nested(shape, key=None, bind_index=False)``, where
``shape`` is a child ``Schema`` or ``ListOf``, ``MapOf`` (string keys) or
``OptionOf`` of one, and ``key`` also seals the child whole under that alias.
Type-level options mirror ``#[encrypt(...)]``: ``bind`` (plain members),
``bind_positions``, ``legacy_unbound``, ``seal`` or ``sign`` (an alias) and
``seal_member`` (default ``_seal``)::

    user = Schema("CashUser", {"cashTag": Plain(str), "bankAccount": Encrypted("banking")})
    tx = Schema("transaction", {"id": Plain(int), "sender": Nested(user),
                                "witnesses": Nested(ListOf(user), bind_index=True)},
                bind=["id"], bind_positions=True, seal="records")
    wire = tx.encrypt(keyring, {"id": 7, "sender": {"cashTag": "$ada", "bankAccount": "acct-1"},
                                "witnesses": []})
    plain = tx.decrypt(keyring, wire)       # or JSON text, read by ``loads``
    partial, inaccessible = tx.decrypt_partial(keyring, wire)

``decrypt_partial`` leaves the fields of aliases the keyring lacks sealed (as
``Envelope`` strings), takes a seal it cannot check unchecked, and lists those
aliases. ``canonical``, ``seal_record`` and ``verify_record`` are the record
seals of FORMAT.md section 13 on their own; ``loads`` reads JSON text as a
record reader does (integers of any size stay integers, ``-0`` is a float).
"""


from ._format import VERSION, VERSION_2, VERSION_3, VERSION_4
from ._errors import (
    EncryptedFieldsError,
    UnknownAlias,
    UnknownKeyId,
    MalformedEnvelope,
    UnsupportedVersion,
    AuthenticationFailed,
    InvalidKey,
    MissingAliases,
    SerializeError,
    DeserializeError,
    UnknownMember,
)
from ._keys import Key, SigningKey, VerifyingKey, Keyring, var_name
from ._jsontext import MAX_DEPTH, loads
from ._envelope import (
    RecordBinding,
    Position,
    encrypt_field,
    decrypt_field,
    inspect,
    DEFAULT_MAX_ENVELOPE_LEN,
    set_max_envelope_len,
)
from ._canonical import canonical
from ._seals import MAC, SIGNATURE, seal_message, seal_record, verify_record
from ._schema import Schema, Plain, Encrypted, Nested, ListOf, MapOf, OptionOf, Envelope
from ._records import record, encrypt, decrypt, decrypt_partial, schema_of

__all__ = [
    "VERSION",
    "VERSION_2",
    "VERSION_3",
    "VERSION_4",
    "MAX_DEPTH",
    "Key",
    "SigningKey",
    "VerifyingKey",
    "Keyring",
    "RecordBinding",
    "Position",
    "encrypt_field",
    "decrypt_field",
    "inspect",
    "var_name",
    "loads",
    "canonical",
    "MAC",
    "SIGNATURE",
    "seal_message",
    "seal_record",
    "verify_record",
    "record",
    "encrypt",
    "decrypt",
    "decrypt_partial",
    "schema_of",
    "Schema",
    "Plain",
    "Encrypted",
    "Nested",
    "ListOf",
    "MapOf",
    "OptionOf",
    "Envelope",
    "DEFAULT_MAX_ENVELOPE_LEN",
    "set_max_envelope_len",
    "EncryptedFieldsError",
    "UnknownAlias",
    "UnknownKeyId",
    "MalformedEnvelope",
    "UnsupportedVersion",
    "AuthenticationFailed",
    "InvalidKey",
    "MissingAliases",
    "SerializeError",
    "DeserializeError",
    "UnknownMember",
]
