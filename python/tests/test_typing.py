"""The package ships type hints (``py.typed``): they hold under ``mypy --strict``,
for the package and for the example service that uses it."""

import pathlib
import subprocess
import sys

PYTHON = pathlib.Path(__file__).resolve().parents[1]


def test_the_package_and_its_example_type_check_strictly(tmp_path):
    assert (PYTHON / "encrypted_fields" / "py.typed").is_file()
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--python-version", "3.10", "--cache-dir", str(tmp_path),
         "encrypted_fields", "examples/web.py"],
        cwd=PYTHON, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
