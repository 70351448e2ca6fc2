"""The payments demo's `web` service, in Python: a drop-in for `payments serve web`
(examples/payments in the Rust crate), between the Rust `accounts` and `banking`.

It holds whatever keys its environment gives it (the demo gives it none), asks
`accounts` for a sealed transaction, reads what its keys open, and forwards the
transaction to `banking`: what it cannot open goes on byte for byte.

    ACCOUNTS_URL=http://127.0.0.1:PORT BANKING_URL=http://127.0.0.1:PORT python web.py

Like the Rust services it listens on a port the OS picks, prints
``listening on http://127.0.0.1:PORT`` as its first line, and exits when its
standard input closes. Routes: ``POST /payments``, ``GET /transactions/{id}``
(the row it keeps, as it forwarded it) and ``GET /views/{id}`` (what it could
read). Standard library and ``encrypted_fields`` only.
"""

import json
import os
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Annotated, Any, Dict, List, Optional, Tuple

import encrypted_fields as ef
from encrypted_fields import Encrypted, Envelope, record


# The Rust demo's model (examples/payments/model.rs), field for field.
@dataclass
class BankAccount:
    routing: str
    account: str


@record(rename_all="camelCase")
@dataclass
class CashUser:
    cash_tag: str
    email: Annotated[str, Encrypted("pii")]
    mailing_address: Annotated[str, Encrypted("pii")]
    bank_account: Annotated[BankAccount, Encrypted("banking")]


@record(context="transaction", rename_all="camelCase")
@dataclass
class Transaction:
    id: int
    sender: CashUser
    receiver: CashUser
    amount_cents: int


View = List[Tuple[str, Optional[str]]]


def view(tx: Transaction) -> View:
    """What this service could read, as the Rust `view` shows it: sensitive
    values as ``read``, never in clear; ``None`` where a field stayed sealed."""
    rows: View = [("id", str(tx.id)), ("amountCents", str(tx.amount_cents))]
    for side, user in (("sender", tx.sender), ("receiver", tx.receiver)):
        rows.append((f"{side}.cashTag", user.cash_tag))
        for name, value in (("email", user.email), ("mailingAddress", user.mailing_address),
                            ("bankAccount", user.bank_account)):
            rows.append((f"{side}.{name}", None if isinstance(value, Envelope) else "read"))
    return rows


# What a request or an upstream answer may weigh: axum's default body limit.
MAX_BODY = 2 * 1024 * 1024


def compact(value: Any) -> bytes:
    """JSON as serde_json writes it: no spaces, UTF-8."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Upstream(Exception):
    """An upstream service failed; the message names the service, nothing else."""


def post(service: str, url: str, body: Any) -> Any:
    """POSTs ``body`` and reads the JSON answer as a record reader does
    (``ef.loads``: no NaN, no duplicate members, bounded nesting)."""
    request = urllib.request.Request(url, data=compact(body), method="POST",
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = response.read(MAX_BODY + 1)
        if len(answer) > MAX_BODY:
            raise Upstream(f"upstream {service}: answer too large")
        return ef.loads(answer)
    except (urllib.error.URLError, OSError, ef.EncryptedFieldsError) as e:
        raise Upstream(f"upstream {service}: {type(e).__name__}") from None


def payment_request(body: Any) -> bool:
    """Whether ``body`` is what the Rust ``PaymentRequest`` reads."""
    return isinstance(body, dict) and isinstance(body.get("from"), str) and isinstance(body.get("to"), str) \
        and isinstance(body.get("amountCents"), int) and not isinstance(body.get("amountCents"), bool) \
        and -2 ** 63 <= body["amountCents"] < 2 ** 63


class Web:
    def __init__(self, keyring: ef.Keyring, accounts: str, banking: str):
        self.keyring, self.accounts, self.banking = keyring, accounts, banking
        self.rows: Dict[int, Tuple[bytes, View]] = {}
        self.lock = threading.Lock()

    def pay(self, request: Any) -> Any:
        issued = post("accounts", f"{self.accounts}/transactions", request)
        transaction, sealed = ef.decrypt_partial(self.keyring, Transaction, issued)
        # Sealing the partial record again writes each field it could not
        # open back byte for byte.
        forwarded = ef.encrypt(self.keyring, transaction)
        settlement = post("banking", f"{self.banking}/settlements", forwarded)
        with self.lock:
            self.rows[transaction.id] = (compact(forwarded), view(transaction))
        print(f"web: paid transaction {transaction.id}; left sealed: {', '.join(sealed) or 'nothing'}",
              file=sys.stderr)
        return settlement


def handler(web: Web) -> type:
    class Handler(BaseHTTPRequestHandler):
        def answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def fail(self, status: int, message: str) -> None:
            self.answer(status, compact({"message": message}))

        def do_POST(self) -> None:
            if self.path != "/payments":
                return self.fail(404, "no such route")
            length = self.headers.get("content-length", "")
            if not (length.isascii() and length.isdigit()) or int(length) > MAX_BODY:
                return self.fail(413 if length.isascii() and length.isdigit() else 411,
                                 f"a body of at most {MAX_BODY} bytes, with its content-length")
            try:
                request = ef.loads(self.rfile.read(int(length)))
            except ef.EncryptedFieldsError:
                return self.fail(400, "the body is not JSON")
            if not payment_request(request):
                return self.fail(422, "expected {\"from\": str, \"to\": str, \"amountCents\": integer}")
            try:
                self.answer(200, compact(web.pay(request)))
            except Upstream as e:
                self.fail(502, str(e))
            except ef.EncryptedFieldsError as e:
                # The cause (kind, alias, field: never a value) to the log,
                # a fixed message to the client.
                print(f"web: {e}", file=sys.stderr)
                self.fail(500, "internal error")

        def do_GET(self) -> None:
            parts = self.path.strip("/").split("/")
            if len(parts) != 2 or parts[0] not in ("transactions", "views") \
                    or not (parts[1].isascii() and parts[1].isdigit() and len(parts[1]) <= 20):
                return self.fail(404, "no such route")
            with web.lock:
                row = web.rows.get(int(parts[1]))
            if row is None:
                return self.fail(404, f"no transaction {parts[1]}")
            self.answer(200, row[0] if parts[0] == "transactions" else compact(row[1]))

        def log_message(self, format: str, *args: Any) -> None:
            pass  # requests are not logged: a path may carry an id, never more

    return Handler


def main() -> None:
    keyring = ef.Keyring.from_env()
    web = Web(keyring, os.environ["ACCOUNTS_URL"], os.environ["BANKING_URL"])
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(web))
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)

    # Exit when the parent closes our stdin (or dies).
    def watch() -> None:
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
