"""Fixtures: the Rust interop binary (examples/interop.rs) and the repo paths."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))


class Rust:
    """Talks to `examples/interop.rs`: one JSON request and answer per line."""

    def __init__(self, binary: str):
        self.process = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, encoding="utf-8")

    def call(self, **request):
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def rust():
    binary = os.environ.get("ENCRYPTED_FIELDS_INTEROP")
    if not binary:
        subprocess.run(["cargo", "build", "-q", "--example", "interop"], cwd=ROOT, check=True)
        binary = str(ROOT / "target" / "debug" / "examples" / "interop")
    client = Rust(binary)
    yield client
    client.close()


@pytest.fixture(scope="session")
def vectors():
    with open(ROOT / "tests" / "vectors" / "v1.json", encoding="utf-8") as f:
        return json.load(f)["vectors"]


@pytest.fixture(scope="session")
def bytes_vectors():
    with open(ROOT / "tests" / "vectors" / "bytes.json", encoding="utf-8") as f:
        return json.load(f)["vectors"]
