"""The package README's examples, run as written: its Python blocks in order,
with demo keys in the environment; the last is an excerpt of examples/web.py."""

import pathlib
import re

import encrypted_fields as ef

PYTHON = pathlib.Path(__file__).resolve().parents[1]


def blocks():
    return re.findall(r"```python\n(.*?)```", (PYTHON / "README.md").read_text(), re.S)


def stripped(text):
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def test_the_readme_examples_run(monkeypatch):
    declare, use, excerpt = blocks()
    for alias in ("PII", "BANKING"):
        monkeypatch.setenv(f"ENCRYPTED_FIELDS_KEY_{alias}", ef.Key.generate())
    namespace = {"__name__": "readme"}
    exec(compile(declare, "README.md", "exec"), namespace)
    exec(compile(use, "README.md", "exec"), namespace)
    assert namespace["sealed"] == ["banking", "pii"]
    web = (PYTHON / "examples" / "web.py").read_text()
    assert stripped(excerpt) in stripped(web)
