"""Guards on the shape of the code that no linter checks for us."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")


def test_every_type_ignore_names_its_error_and_says_why() -> None:
    bare = []
    for path in sorted([*ROOT.glob("src/**/*.py"), *ROOT.glob("tests/**/*.py")]):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            found = IGNORE.search(line)
            if found and not (found["codes"] and re.match(r"\s+#\s*\S", found["rest"])):
                bare.append(f"{path.relative_to(ROOT)}:{number}")
    assert bare == []


def test_no_module_imports_another_modules_private_names() -> None:
    """A module's ``_names`` are its own: what another module needs is made public, named as
    such (ruff's import-private-name cannot see this inside one package)."""
    found = []
    for path in sorted([*ROOT.glob("src/**/*.py"), *ROOT.glob("tests/**/*.py")]):
        text = path.read_text()
        statements = re.findall(r"^\s*from albumen[\w.]* import (?:\([^)]*\)|[^\n]*)", text, re.M)
        for statement in statements:
            names = re.findall(r"\b(_\w+)", statement.split(" import ", 1)[1])
            found += [
                f"{path.relative_to(ROOT)}: {name}" for name in names if name != "__version__"
            ]
    assert found == []


def test_no_log_call_passes_an_extra_that_logging_refuses() -> None:
    """``extra={"name": ...}`` raises KeyError in logging (a LogRecord's own attribute): it made
    every ``albumen backup`` exit 1 after a complete snapshot, wherever INFO was logged."""
    import logging

    reserved = set(vars(logging.LogRecord("n", 0, "p", 0, "m", None, None))) | {
        "message",
        "asctime",
    }
    clashes = []
    for path in sorted(ROOT.glob("src/**/*.py")):
        for extra in re.findall(r"extra=\{([^}]*)\}", path.read_text()):
            keys = set(re.findall(r"\"(\w+)\":", extra))
            clashes += [f"{path.relative_to(ROOT)}: {key}" for key in keys & reserved]
    assert clashes == []
