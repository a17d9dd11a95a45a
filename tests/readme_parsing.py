"""Reading README.md's fenced examples for tests/test_readme.py: its blocks, the commands
and expected output of a shell session, and the matching of output against what the README
shows (``...`` elides, ``echo-5d1c...`` stands for a real id, timestamps match any)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import ROOT

README = ROOT / "README.md"
SKIP_MARK = re.compile(r"<!--\s*not run by tests/test_readme\.py:?\s*(.*?)\s*-->")
PLACEHOLDER = re.compile(r"\b([a-z][a-z0-9_]*)-[0-9a-f]{4}\.\.\.")
ELISION = re.compile(r"(\b[a-z][a-z0-9_]*-[0-9a-f]{4}\.\.\.|\.\.\.)")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\.\.\.|[{}\[\]:,]|[^\s{}\[\]:,"]+')


@dataclass(frozen=True)
class Block:
    lang: str
    text: str
    line: int
    skip_reason: str | None

    @property
    def first(self) -> str:
        return self.text.splitlines()[0].split("#")[0].strip()


@dataclass
class Command:
    text: str
    expected: list[str] = field(default_factory=list)


def readme_blocks() -> list[Block]:
    lines = README.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    start: int | None = None
    for n, line in enumerate(lines):
        if not line.startswith("```"):
            continue
        if start is None:
            start = n
            continue
        before = [text for text in lines[max(0, start - 2) : start] if text.strip()][-1:]
        mark = SKIP_MARK.fullmatch(before[0].strip()) if before else None
        lang = lines[start].removeprefix("```").strip()
        text = "\n".join(lines[start + 1 : n]) + "\n"
        found.append(Block(lang, text, start + 1, mark.group(1) if mark else None))
        start = None
    assert start is None, f"README.md:{start}: a fence is never closed"
    return found


def runnable(lang: str) -> list[Block]:
    return [b for b in readme_blocks() if b.lang == lang and b.skip_reason is None]


def session(text: str) -> list[Command]:
    """The ``$ `` commands of a block (with their ``\\`` continuation lines) and the
    output written under each."""
    commands: list[Command] = []
    continued = False
    for line in text.splitlines():
        if continued:
            commands[-1].text += "\n" + line
        elif line.startswith("$ "):
            commands.append(Command(line[2:]))
        elif commands:
            commands[-1].expected.append(line)
        continued = line.endswith("\\")
    return commands


def expected_json(text: str) -> Any:
    """The expected output as JSON with its ``...`` elisions dropped (outside strings),
    or None if it is not JSON."""
    tokens = [t for t in JSON_TOKEN.findall(text) if t != "..."]
    kept: list[str] = []
    for n, token in enumerate(tokens):
        after = tokens[n + 1] if n + 1 < len(tokens) else "]"
        if token == "," and (not kept or kept[-1] in {"{", "[", ","} or after in {"}", "]"}):
            continue
        kept.append(token)
    try:
        return json.loads(" ".join(kept))
    except ValueError:
        return None


def match_string(want: str, got: str, path: str, ids: dict[str, str]) -> list[str]:
    """``...`` is any text, ``echo-5d1c...`` a real echo id (the same one each time), a
    timestamp any timestamp of the API's format."""
    names: list[str] = []
    if TIMESTAMP.fullmatch(want):
        regex = TIMESTAMP.pattern
    else:
        parts = []
        for piece in ELISION.split(want):
            if placeholder := PLACEHOLDER.fullmatch(piece):
                names.append(piece)
                parts.append(f"({placeholder.group(1)}-[0-9a-f]{{32}})")
            else:
                parts.append(".*?" if piece == "..." else re.escape(piece))
        regex = "".join(parts)
    found = re.fullmatch(regex, got, re.DOTALL)
    if not found:
        return [f"{path}: {got!r} is not {want!r}"]
    for name, real in zip(names, found.groups(), strict=True):
        if ids.setdefault(name, real) != real:
            return [f"{path}: {name} was {ids[name]}, here {real}"]
    return []


def match(want: Any, got: Any, path: str, ids: dict[str, str]) -> list[str]:
    """What is wrong with ``got`` as an instance of the README's ``want``: every key
    shown must exist, every value shown must be there (list items: in some item)."""
    if want == "...":
        return []
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{path}: {got!r} is not an object"]
        problems = [f"{path}.{key} is missing" for key in want if key not in got]
        for key in want.keys() & got.keys():
            problems += match(want[key], got[key], f"{path}.{key}", ids)
        return problems
    if isinstance(want, list):
        if not isinstance(got, list):
            return [f"{path}: {got!r} is not a list"]
        problems = []
        for n, item in enumerate(want):
            for candidate in got:
                trial = dict(ids)
                if not match(item, candidate, f"{path}[{n}]", trial):
                    ids.update(trial)
                    break
            else:
                problems.append(f"{path}: no item is {item!r}")
        return problems
    if isinstance(want, str):
        if not isinstance(got, str):
            return [f"{path}: {got!r} is not a string"]
        return match_string(want, got, path, ids)
    if type(want) is not type(got) and not (
        {type(want), type(got)} <= {int, float} and bool not in {type(want), type(got)}
    ):
        return [f"{path}: {got!r} is not {want!r}"]
    return [] if want == got else [f"{path}: {got!r} is not {want!r}"]
