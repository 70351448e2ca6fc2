"""The gRPC example's sealed Transaction in Python: decoded with the
companion descriptor set (the `protobuf` package, no generated code), its
fields opened with the Python twin, and a Transaction sealed in Python for
Rust to open. Reads one JSON request on stdin, writes one JSON answer:

    {"descriptors": B64, "sealed": B64, "vars": {"ENCRYPTED_FIELDS_KEY_...": ...}}
    -> {"opened": {...}, "sealed": B64}

A test tool: it prints decrypted values, which a service never should.
"""

import base64
import json
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

import encrypted_fields as ef


def text(envelope: bytes) -> str:
    """Envelope bytes in the text form the twin reads (FORMAT.md section 6)."""
    return base64.urlsafe_b64encode(envelope).decode().rstrip("=")


def raw(envelope_text: str) -> bytes:
    return base64.urlsafe_b64decode(envelope_text + "=" * (-len(envelope_text) % 4))


def main() -> None:
    request = json.load(sys.stdin)
    fds = descriptor_pb2.FileDescriptorSet.FromString(base64.b64decode(request["descriptors"]))
    pool = descriptor_pool.DescriptorPool()
    for file in fds.file:
        pool.Add(file)
    Transaction = message_factory.GetMessageClass(pool.FindMessageTypeByName("payments.EncryptedTransaction"))
    keyring = ef.Keyring.from_vars(sorted(request["vars"].items()))

    # What the Rust derive binds (the .proto's options): the transaction's
    # id, and each user's place in it; CashUser's context, its full name.
    def binding(tx_id: int, side: str):
        record = ef.RecordBinding().push_type("transaction", [("id", json.dumps(tx_id))])
        position = ef.Position.root("transaction").member(side)
        return {"record": record, "position": position}

    fields = [("email", "pii"), ("mailing_address", "us_address"), ("linked_bank_account", "banking")]
    tx = Transaction.FromString(base64.b64decode(request["sealed"]))
    opened = {"id": tx.id, "amount_cents": tx.amount_cents, "notes": list(tx.notes)}
    for side in ("sender", "receiver"):
        user = getattr(tx, side)
        opened[side] = {"cash_tag": user.cash_tag}
        for field, alias in fields:
            opened[side][field] = ef.decrypt_field(keyring, alias, "payments.CashUser", field,
                                                   text(getattr(user, field)), **binding(tx.id, side))

    # A new transaction, sealed here for Rust to open.
    out = Transaction(id=tx.id + 1, amount_cents=777, notes=["sealed in Python"])
    for side in ("sender", "receiver"):
        user = getattr(out, side)
        user.cash_tag = opened[side]["cash_tag"]
        for field, alias in fields:
            value = opened[side][field]
            if field == "email":
                value = "python+" + value
            envelope = ef.encrypt_field(keyring, alias, "payments.CashUser", field, value,
                                        **binding(out.id, side))
            setattr(user, field, raw(envelope))
    json.dump({"opened": opened, "sealed": base64.b64encode(out.SerializeToString()).decode()}, sys.stdout)


if __name__ == "__main__":
    main()
