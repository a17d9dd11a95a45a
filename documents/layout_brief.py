"""A layout brief read into a program: deterministic, a grammar of this domain's phrasing.

"4 offices of at least 10 m2 along the windows, a 20 m2 meeting room, 1.5 m corridor" is
split into fragments (commas, semicolons, new lines, bullets, "and", "plus"); in each the
parser finds, in this order, a corridor or partition or room-width setting, an area
("at least 10 m2", "10-12 m2", "about 20 m2", "150 sq ft"), a window wish ("along the
windows"), an adjacency ("next to the kitchen"), then the count and the room name. Words
it cannot place are reported verbatim in ``unread``; every assumption it makes (an area
read from a typical minimum, "about" as +-10 %, square feet converted) is in ``notes``.
"""

from __future__ import annotations

import re

import msgspec

from documents import layout_words as words
from documents.layout_program import (
    ENTRANCE,
    MAX_CORRIDOR_M,
    MAX_PARTITION_MM,
    MAX_ROOM_WIDTH_M,
    MIN_CORRIDOR_M,
    MIN_PARTITION_MM,
    MIN_ROOM_WIDTH_M,
    LayoutProgramError,
    Program,
    RoomRequest,
    room_key,
)

# "about 20 m2" is read as 20 m2 +- this fraction.
ABOUT = 0.10
MAX_BRIEF_CHARS = 20_000  # a brief is a paragraph or a list; this is pages of it

_TOKEN = re.compile(r"[a-zà-ÿ0-9]+(?:'s)?")
_SPLIT = re.compile(
    r"[;\n]|,(?!\d)|(?<!\d),|\.(?=\s+[A-Z])|(?i:\s(?:and|plus|&|as\s+well\s+as|also)\s)"
)
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)]|[a-z]\))\s+")
_PUNCTUATION = " \t.:-*•·"
_METRES = ("m", "metre", "metres", "meter", "meters")
# Words of a size setting ("corridors at least 1.2 m wide") that carry nothing more.
_SIZE_WORDS = (
    frozenset(
        "wide width thick thickness clear at least all every no narrower than not less partition "
        "partitions".split()
    )
    | words.CORRIDOR_WORDS
)
_Area = tuple[float, float | None]
_BETWEEN = re.compile(
    rf"between\s+{words.NUM}\s*(?:{words.M2}|{words.FT2})?\s*and\s", re.IGNORECASE
)


class BriefReading(msgspec.Struct, frozen=True):
    """What a brief says: its program, the fragments not read (verbatim) and the
    assumptions made (each a sentence)."""

    program: Program
    unread: list[str]
    notes: list[str]


class _Fragment:
    """One fragment being read: its text lower-cased (same length as the original) with
    each part read blanked out, so what is left over can be reported verbatim."""

    def __init__(self, original: str) -> None:
        self.original = original
        self.text = "".join(c.lower() if len(c.lower()) == 1 else c for c in original)
        self.left = self.text

    def take(self, match: re.Match[str]) -> None:
        self.blank(*match.span())

    def blank(self, start: int, end: int) -> None:
        self.left = self.left[:start] + " " * (end - start) + self.left[end:]

    def search(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        return pattern.search(self.left)


def parse_brief(text: str) -> BriefReading:
    """The program a brief asks for, what could not be read and what was assumed."""
    if len(text) > MAX_BRIEF_CHARS:
        raise LayoutProgramError(f"brief over {MAX_BRIEF_CHARS} characters - at `$.brief`")
    reader = _Reader()
    for start, end in _fragments(text):
        reader.read(_Fragment(text[start:end]))
    program = Program(
        rooms=reader.rooms,
        corridor_width_m=reader.sizes.get("corridor_width_m"),
        min_room_width_m=reader.sizes.get("min_room_width_m"),
        partition_thickness_mm=reader.sizes.get("partition_thickness_mm"),
    )
    return BriefReading(program, reader.unread, reader.notes)


def _fragments(text: str) -> list[tuple[int, int]]:
    """Spans of the brief's fragments; one holding only an area or a wish ("10 m2
    minimum", "on the facade") continues the fragment before it."""
    # "between 10 and 12 m2" holds an "and" that separates nothing: mask it (same length).
    masked = _BETWEEN.sub(lambda m: m.group(0)[:-4] + "\0nd ", text)
    spans: list[tuple[int, int]] = []
    start = 0
    for match in [*_SPLIT.finditer(masked), None]:
        end = len(text) if match is None else match.start()
        piece = text[start:end]
        bullet = _BULLET.match(piece)
        first = start + (bullet.end() if bullet else 0)
        while first < end and text[first] in _PUNCTUATION:
            first += 1
        while end > first and text[end - 1] in _PUNCTUATION:
            end -= 1
        if first < end:
            if spans and _qualifies_only(text[first:end]):
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((first, end))
        start = len(text) if match is None else match.end()
    return spans


def _qualifies_only(text: str) -> bool:
    fragment = _Fragment(text)
    taken = False
    for pattern in [*(p for _, p in words.AREA_PATTERNS), words.WINDOW, words.NO_WINDOW]:
        if (match := fragment.search(pattern)) is not None:
            fragment.take(match)
            taken = True
    left = {t[0] for t in _TOKEN.finditer(fragment.left)}
    return taken and left <= words.FILLERS


def _number(text: str) -> float:
    whole, _, part = text.partition(",")
    if part and len(part) == 3:  # "1,000": a thousands separator
        return float(whole + part)
    return float(text.replace(",", "."))


class _Reader:
    """Reads fragments in order, accumulating rooms, sizes, unread parts and notes."""

    def __init__(self) -> None:
        self.rooms: list[RoomRequest] = []
        self.unread: list[str] = []
        self.notes: list[str] = []
        self.sizes: dict[str, float] = {}
        self.plain_noted = False

    def read(self, fragment: _Fragment) -> None:
        tokens = {t[0] for t in _TOKEN.finditer(fragment.text)}
        if tokens & words.CORRIDOR_WORDS:
            self._size(fragment, "corridor_width_m")
        elif tokens & {"partition", "partitions"}:
            self._size(fragment, "partition_thickness_mm")
        elif tokens & {"wide", "width"} and tokens & {"room", "rooms"} and not _name_in(fragment):
            self._size(fragment, "min_room_width_m")
        else:
            self._room(fragment)

    def _size(self, fragment: _Fragment, field: str) -> None:
        match = fragment.search(words.LENGTH)
        if match is None:
            if field != "corridor_width_m":
                self.unread.append(fragment.original)
            elif fragment.original not in self.notes:
                self.notes.append(f"{fragment.original!r}: no corridor width given")
            return
        fragment.take(match)
        metres = _number(match["a"]) * words.LENGTH_UNITS[match["unit"]]
        low, high, value, unit = {
            "corridor_width_m": (MIN_CORRIDOR_M, MAX_CORRIDOR_M, metres, "m"),
            "min_room_width_m": (MIN_ROOM_WIDTH_M, MAX_ROOM_WIDTH_M, metres, "m"),
            "partition_thickness_mm": (MIN_PARTITION_MM, MAX_PARTITION_MM, metres * 1000, "mm"),
        }[field]
        said = match[0].strip()
        if not low <= value <= high:
            self.unread.append(fragment.original)
            self.notes.append(f"{said!r}: {field} must be {low:g}..{high:g} {unit}")
            return
        value = round(value, 4)
        if unit == "m" and match["unit"] not in _METRES or unit == "mm" and match["unit"] != "mm":
            self.notes.append(f"{said!r} read as {value:g} {unit}")
        self.sizes[field] = value
        self._leftovers(fragment, _SIZE_WORDS)

    def _room(self, fragment: _Fragment) -> None:
        area = self._area(fragment)
        window = fragment.search(words.WINDOW)
        if window:
            fragment.take(window)
        if no_window := fragment.search(words.NO_WINDOW):
            fragment.take(no_window)
        adjacent: list[str] = []
        while (near := fragment.search(words.ADJACENT)) is not None:
            target = _canonical(near["target"])
            if target is None:
                break
            adjacent.append(target[0])
            if near["how"].startswith(("near", "close")):
                self.notes.append(f"{near[0]!r} read as adjacent to {target[0]!r}")
            fragment.blank(near.start(), near.start("target") + target[1])
        found = _name_in(fragment)
        tokens = list(_TOKEN.finditer(fragment.left))
        if found is None or {t[0] for t in tokens} & words.VAGUE_COUNTS:
            self._unknown(fragment, area, window is not None, adjacent)
            return
        name, start, end = found
        fragment.blank(start, end)
        if area is None and "all" in {t[0] for t in tokens} and (window or adjacent):
            if any(room_key(room.name) == name for room in self.rooms):
                self._qualify(name, window is not None, adjacent)
                self._leftovers(fragment, frozenset({"all", "every"}))
                return
        count, plural = self._count(fragment, tokens, start, end)
        if area is None and any(t[0][0].isdigit() for t in _TOKEN.finditer(fragment.left)):
            self.unread.append(fragment.original)
            self.notes.append(f"{fragment.original!r}: a number without a unit (m2, sq ft)")
            return
        if count is None:
            self.unread.append(fragment.original)
            if plural:
                self.notes.append(f"{fragment.original!r}: how many is not said")
            return
        self._add(fragment, name, count, area, window is not None, adjacent)

    def _unknown(
        self, fragment: _Fragment, area: _Area | None, window: bool, adjacent: list[str]
    ) -> None:
        # A name the vocabulary lacks is kept, as written, only when the brief sizes it.
        tokens = [t for t in _TOKEN.finditer(fragment.left) if t[0] not in words.FILLERS]
        if not tokens and area is None and not window and not adjacent:
            return  # "We need:", "please": nothing asked
        count = 1
        if tokens and (tokens[0][0].isdigit() or tokens[0][0] in words.NUMBER_WORDS):
            count = (
                int(tokens[0][0]) if tokens[0][0].isdigit() else words.NUMBER_WORDS[tokens[0][0]]
            )
            tokens = tokens[1:]
        vague = any(t[0] in words.VAGUE_COUNTS for t in tokens)
        if area is None or not 1 <= len(tokens) <= 3 or vague:
            self.unread.append(fragment.original)
            return
        name = " ".join(t[0] for t in tokens)
        self.notes.append(f"{name!r} is no room type the parser knows: kept as named")
        fragment.blank(0, len(fragment.left))
        self._add(fragment, name, count, area, window, adjacent)

    def _add(
        self, fragment: _Fragment, name: str, count: int, area: _Area | None, window: bool,
        adjacent: list[str],
    ) -> None:  # fmt: skip
        if area is None:
            least = words.TYPICAL_MIN_M2.get(name, 0.0)
            self.notes.append(f"{name!r}: no area given, {least:g} m2 assumed (a typical minimum)")
            area = (least, None)
        try:
            room = RoomRequest(name, area[0], count, area[1], adjacent, window)
        except LayoutProgramError as exc:
            self.unread.append(fragment.original)
            self.notes.append(f"{fragment.original!r}: {exc.message.split(' - at ')[0]}")
            return
        self.rooms.append(room)
        self._leftovers(fragment)

    def _qualify(self, name: str, window: bool, adjacent: list[str]) -> None:
        for index, room in enumerate(self.rooms):
            if room_key(room.name) == name:
                wish = room.needs_window or window
                more = room.adjacent_to + adjacent
                self.rooms[index] = msgspec.structs.replace(
                    room, needs_window=wish, adjacent_to=more
                )

    def _area(self, fragment: _Fragment) -> _Area | None:
        for kind, pattern in words.AREA_PATTERNS:
            match = fragment.search(pattern)
            if match is None:
                continue
            fragment.take(match)
            per_m2 = 1.0 if re.fullmatch(words.M2, match["unit"]) else words.SQ_FT_M2
            a = _number(match["a"]) * per_m2
            said = match[0].strip()
            if per_m2 != 1.0:
                self.notes.append(f"{said!r} read in m2 (1 sq ft = {words.SQ_FT_M2} m2)")
            if kind == "range":
                b = _number(match["b"]) * per_m2
                return (round(min(a, b), 4), round(max(a, b), 4))
            if kind == "about":
                low, high = round(a * (1 - ABOUT), 4), round(a * (1 + ABOUT), 4)
                self.notes.append(f"{said!r} read as {low:g}-{high:g} m2 (+-10 %)")
                return (low, high)
            if kind == "max":
                self.notes.append(f"{said!r}: no lower bound (0 m2)")
                return (0.0, round(a, 4))
            if kind == "plain" and not self.plain_noted:
                self.plain_noted = True
                self.notes.append(f"a plain area such as {said!r} is read as a minimum")
            return (round(a, 4), None)
        return None

    def _count(
        self, fragment: _Fragment, tokens: list[re.Match[str]], start: int, end: int
    ) -> tuple[int | None, bool]:
        plural = fragment.text[start:end].endswith("s")
        before = [t for t in tokens if t.end() <= start and _is_count(t[0], before=True)]
        # "office x3", and "OFFICES: 4" (a count right after the name and a colon).
        after = [
            t for t in tokens if t.start() >= end and (_is_count(t[0], before=False) or (
                t[0].isdigit() and fragment.text[end : t.start()].strip() == ":"))
        ]  # fmt: skip
        counts = before + after
        for token in counts:
            fragment.take(token)
        if not counts:
            return (None if plural else 1), plural
        values = [int(t[0].strip("x")) if t[0].strip("x").isdigit() else
                  words.NUMBER_WORDS[t[0]] for t in counts]  # fmt: skip
        # "a pair of", "a dozen": the second word is the count.
        if len(values) > 1 and counts[0][0] in ("a", "an"):
            return values[1], plural
        return values[0], plural

    def _leftovers(self, fragment: _Fragment, extra: frozenset[str] = frozenset()) -> None:
        # Runs of words with nothing read between them, holding a word that is no filler,
        # are reported verbatim, with the fillers around them.
        known = words.FILLERS | extra | set(words.NUMBER_WORDS)
        run: list[re.Match[str]] = []
        for token in [*_TOKEN.finditer(fragment.left), None]:
            if token is not None:
                gap = slice(run[-1].end(), token.start()) if run else slice(0, 0)
                if fragment.left[gap] == fragment.text[gap]:
                    run.append(token)
                    continue
            if any(t[0] not in known for t in run):
                self.unread.append(fragment.original[run[0].start() : run[-1].end()])
            run = [] if token is None else [token]


def _is_count(token: str, before: bool) -> bool:
    if re.fullmatch(r"x\d+|\d+x", token):
        return True
    return before and (token.isdigit() or token in words.NUMBER_WORDS)


def _name_in(fragment: _Fragment) -> tuple[str, int, int] | None:
    """The canonical room name the fragment's unread text holds, with its span (longest)."""
    tokens = list(_TOKEN.finditer(fragment.left.replace("-", " ")))
    best: tuple[str, int, int] | None = None
    for i in range(len(tokens)):
        for size in (3, 2, 1):
            found = _lookup([t[0] for t in tokens[i : i + size]], size)
            if found is not None and found != ENTRANCE:  # the door, never a room to place
                span = (found, tokens[i].start(), tokens[i + size - 1].end())
                if best is None or span[2] - span[1] > best[2] - best[1]:
                    best = span
                break
    return best


def _canonical(phrase: str) -> tuple[str, int] | None:
    """The canonical name (or the entrance) a phrase starts with, and how many of its
    characters name it; None if it names no room."""
    tokens = list(_TOKEN.finditer(phrase.replace("-", " ")))
    for size in (3, 2, 1):
        found = _lookup([t[0] for t in tokens[:size]], size)
        if found is not None:
            return found, tokens[size - 1].end()
    return None


def _lookup(parts: list[str], size: int) -> str | None:
    """The canonical name of exactly these words (the last one plural or singular)."""
    if len(parts) != size:
        return None
    last = parts[-1]
    for form in (last, last.removesuffix("'s"), last.removesuffix("s"), last.removesuffix("es")):
        key = " ".join([*parts[:-1], form])
        if key in words.ROOM_NAMES:
            return words.ROOM_NAMES[key]
        if key in ("entrance", "main entrance", "entry"):
            return ENTRANCE
    return None
