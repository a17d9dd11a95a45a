"""The error catalogue (shared/error_types.py) is the one list of the error types clients
see, the README's tables say the same, every exception class of ours has one root, and
shared/ imports nothing of documents/."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

from shared import error_types
from shared.errors import HttpError, SluiceError, status_of
from shared.functions import load_functions
from tests.conftest import ROOT

PACKAGES = ("shared", "gateway", "consumers", "documents")
# Imported for their effect on the process (ignoring SIGTERM) or as a program: not here.
NOT_IMPORTED = {"consumers.forkserver_init", "consumers.__main__"}
# A job error type as the Lua scripts and Python spell it: CamelCase, quoted.
QUOTED_TYPE = re.compile(r"""['"]([A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+)['"]""")


def our_modules() -> list[str]:
    names = []
    for package in PACKAGES:
        path = [str(ROOT / package)]
        for info in pkgutil.walk_packages(path, prefix=f"{package}."):
            if info.name not in NOT_IMPORTED:
                names.append(info.name)
    return names


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_every_exception_class_of_ours_derives_from_sluice_error() -> None:
    found = []
    for name in our_modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and value.__module__ == name
                and issubclass(value, BaseException)
            ):
                found.append(value)
                assert issubclass(value, SluiceError), f"{name}.{value.__qualname__}"
    from consumers.errors import AttemptFailed
    from documents.errors import DocumentError
    from shared.errors import PermanentError
    from shared.settings import SettingsError

    assert {AttemptFailed, PermanentError, SettingsError, DocumentError} <= set(found)
    assert issubclass(SettingsError, ValueError)  # callers catch it as one


def test_http_errors_take_status_and_type_from_the_catalogue() -> None:
    entries = set(error_types.HTTP_ERROR_TYPES.values())
    concrete = [cls for cls in all_subclasses(HttpError) if "http" in vars(cls)]
    assert len(concrete) >= 12
    for cls in concrete:
        assert cls.http in entries, cls
        assert (cls.status_code, cls.type) == (status_of(cls.http), cls.http.type)
        error = cls("why", field="$.x")
        assert error.to_dict() == {"type": cls.http.type, "message": "why", "field": "$.x"}


def all_subclasses(cls: type[HttpError]) -> set[type[HttpError]]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= all_subclasses(sub)
    return found


def test_lua_scripts_and_outcomes_name_only_catalogued_job_error_types() -> None:
    """The Lua scripts cannot import the catalogue: their types are read from the text."""
    sources = [*sorted((ROOT / "shared" / "lua").glob("*.lua")), ROOT / "consumers/outcomes.py"]
    named = {
        (source.name, found)
        for source in sources
        for found in QUOTED_TYPE.findall(source.read_text(encoding="utf-8"))
    }
    assert (("start.lua", error_types.ATTEMPTS_EXHAUSTED)) in named  # the pattern finds them
    unknown = {pair for pair in named if pair[1] not in error_types.JOB_ERROR_TYPES}
    assert not unknown


def test_python_names_catalogued_types_by_their_constants() -> None:
    """No literal copy of a catalogued type (CamelCase job types, snake_case HTTP types)
    outside the catalogue; ``error`` is left out, being the status field's name too."""
    types = (set(error_types.JOB_ERROR_TYPES) | set(error_types.HTTP_ERROR_TYPES)) - {
        error_types.PLAIN_TEXT
    }
    literals = set()
    for package in PACKAGES:
        for path in python_files(package):
            relative = path.relative_to(ROOT).as_posix()
            if relative == "shared/error_types.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            skipped = {id(node) for node in ast.walk(tree) if is_all_or_docstring(node)}
            for node in ast.walk(tree):
                if id(node) in skipped:
                    skipped |= {id(child) for child in ast.iter_child_nodes(node)}
                elif isinstance(node, ast.Constant) and node.value in types:
                    literals.add((relative, node.value))
    assert not literals, "use the constants of shared/error_types.py"


def is_all_or_docstring(node: ast.AST) -> bool:
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True
    return isinstance(node, ast.Assign) and any(
        isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
    )


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_shared_imports_nothing_of_documents() -> None:
    offending = {
        (path.relative_to(ROOT).as_posix(), name)
        for path in python_files("shared")
        for name in imported_modules(path)
        if name == "documents" or name.startswith("documents.")
    }
    assert not offending
    # The check can see an import of documents (documents/ itself has them).
    assert any(
        name.startswith("documents.") for name in imported_modules(ROOT / "documents/bom.py")
    )


def test_built_in_functions_are_loaded_without_function_modules() -> None:
    assert {"echo", "ingest", "bom", "render"} <= set(load_functions(()))


def readme_table(header: str) -> list[list[str]]:
    """The rows of the table with ``header`` in the README's Errors section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n### Errors\n", 1)[1].split("\n### ", 1)[0]
    lines = section.splitlines()
    start = lines.index(header) + 2  # past the header and the |---| line
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


@pytest.mark.parametrize("kind", ["job", "http"])
def test_readme_tables_are_the_catalogue(kind: str) -> None:
    if kind == "job":
        rows = readme_table("| type | meaning | retried |")
        expected = [
            [f"`{entry.type}`", entry.meaning, "yes" if entry.retried else "no"]
            for entry in error_types.JOB_ERROR_TYPES.values()
        ]
    else:
        rows = readme_table("| status | type | when |")
        expected = [
            ["other" if entry.status is None else str(entry.status), f"`{entry.type}`", entry.when]
            for entry in error_types.HTTP_ERROR_TYPES.values()
        ]
    assert rows == expected
