"""What ``layout`` is asked to build: the program (rooms with their bounds) and its sizes.

A program comes from a brief (``documents.layout_brief``), from the ``program`` parameter
(a JSON list of rooms, checked here field by field), or both: ``merge`` joins them and the
explicit program wins, room name by room name, and every value it overrides is noted.
A refusal is a ``LayoutProgramError`` (job error ``BadParameter``; a ValueError too, so
msgspec reports it on decoding) whose message names the field: "... - at `$.program[1]`".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from documents.errors import DocumentError
from documents.model import at_field
from shared import error_types
from shared.validation import field_of

# Bounds no real request passes: they keep a typo (10000 offices, a 1e9 m2 room) from
# reaching the generator, which would spend its whole time budget on it.
MAX_COUNT = 200
MAX_AREA_M2 = 100_000.0
MIN_CORRIDOR_M, MAX_CORRIDOR_M = 0.6, 20.0
MIN_ROOM_WIDTH_M, MAX_ROOM_WIDTH_M = 0.5, 50.0
MIN_PARTITION_MM, MAX_PARTITION_MM = 10.0, 1000.0
# The defaults, applied when neither the brief nor a parameter gives a value.
DEFAULT_CORRIDOR_M = 1.2
DEFAULT_ROOM_WIDTH_M = 2.1
DEFAULT_PARTITION_MM = 100.0
# An adjacency may name this instead of a room: the plan's entrance door.
ENTRANCE = "entrance"

Name = Annotated[str, Meta(min_length=1, max_length=80)]
Count = Annotated[int, Meta(ge=1, le=MAX_COUNT)]
Area = Annotated[float, Meta(ge=0, le=MAX_AREA_M2)]
CorridorWidth = Annotated[float, Meta(ge=MIN_CORRIDOR_M, le=MAX_CORRIDOR_M)]
RoomWidth = Annotated[float, Meta(ge=MIN_ROOM_WIDTH_M, le=MAX_ROOM_WIDTH_M)]
PartitionThickness = Annotated[float, Meta(ge=MIN_PARTITION_MM, le=MAX_PARTITION_MM)]


class LayoutProgramError(DocumentError, ValueError):
    """A program or brief value that cannot be laid out; the message names the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type=error_types.BAD_PARAMETER)


class RoomRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``count`` rooms named ``name``, each of ``min_area_m2``..``max_area_m2`` (None: no
    upper bound), beside the rooms named in ``adjacent_to`` (or ``"entrance"``)."""

    name: Name
    min_area_m2: Area
    count: Count = 1
    max_area_m2: Area | None = None
    adjacent_to: list[Name] = []
    needs_window: bool = False

    def __post_init__(self) -> None:
        # Meta constraints hold when decoding; check them for direct construction too.
        _check(bool(self.name.strip()), "must not be blank", "name")
        _check(1 <= self.count <= MAX_COUNT, f"must be 1..{MAX_COUNT}", "count")
        for field in ("min_area_m2", "max_area_m2"):
            area = getattr(self, field)
            ok = area is None or 0 <= area <= MAX_AREA_M2
            _check(ok, f"must be 0..{MAX_AREA_M2:g}", field)
        top = self.max_area_m2
        if top is not None and top < self.min_area_m2:
            message = f"max_area_m2 {top:g} is below min_area_m2 {self.min_area_m2:g}"
            raise LayoutProgramError(at_field(message, "$.max_area_m2"))


class Program(msgspec.Struct, frozen=True):
    """Rooms to lay out and the sizes a brief may set (None: not said)."""

    rooms: list[RoomRequest] = []
    corridor_width_m: CorridorWidth | None = None
    min_room_width_m: RoomWidth | None = None
    partition_thickness_mm: PartitionThickness | None = None


class Resolved(msgspec.Struct, frozen=True):
    """The program the generator lays out: every size settled, with where each came from."""

    rooms: list[RoomRequest]
    corridor_width_m: float
    min_room_width_m: float
    partition_thickness_mm: float
    notes: list[str]


def _check(ok: bool, problem: str, field: str) -> None:
    if not ok:
        raise LayoutProgramError(at_field(f"{field} {problem}", f"$.{field}"))


def room_key(name: str) -> str:
    """The name rooms are matched on (adjacency, merging): case and spacing ignored."""
    return " ".join(name.lower().split())


def room_names(rooms: Sequence[RoomRequest]) -> list[tuple[int, str]]:
    """Each room to place, as (its request's index, its name): a kind asked for once is
    named as asked ("meeting room"), one asked for more than once (in one request or
    several) is numbered across them ("office 1" .. "office 5"); names never repeat."""
    totals: dict[str, int] = {}
    for room in rooms:
        totals[room_key(room.name)] = totals.get(room_key(room.name), 0) + room.count
    numbered: dict[str, int] = {}
    seen: set[str] = set()
    out: list[tuple[int, str]] = []
    for index, room in enumerate(rooms):
        key = room_key(room.name)
        for _ in range(room.count):
            name = room.name
            if totals[key] > 1:
                numbered[key] = numbered.get(key, 0) + 1
                name = f"{room.name} {numbered[key]}"
            unique, k = name, 1
            while room_key(unique) in seen:  # "office 1" asked for beside two "office"s
                k += 1
                unique = f"{name} ({k})"
            seen.add(room_key(unique))
            out.append((index, unique))
    return out


def decode_program(value: Any, path: str = "$.program") -> list[RoomRequest]:
    """A ``program`` parameter (decoded JSON: a list of room objects) as checked rooms."""
    try:
        rooms = msgspec.convert(value, list[RoomRequest])
    except msgspec.ValidationError as exc:
        field = field_of(exc)
        problem = str(exc).split(" - at `")[0]
        raise LayoutProgramError(at_field(problem, path + (field or "$")[1:])) from None
    return rooms


def check_rooms(
    rooms: Sequence[RoomRequest], among: Sequence[RoomRequest], path: str = "$.program"
) -> None:
    """Each adjacency of ``rooms`` names a room of ``among`` or the entrance."""
    names = {room_key(room.name) for room in among} | {ENTRANCE}
    counts: dict[str, int] = {}
    for room in among:
        counts[room_key(room.name)] = counts.get(room_key(room.name), 0) + room.count
    for index, room in enumerate(rooms):
        if room_key(room.name) == ENTRANCE:
            message = f"{ENTRANCE!r} names the plan's entrance door in adjacent_to, not a room"
            raise LayoutProgramError(at_field(message, f"{path}[{index}].name"))
        for other, target in enumerate(room.adjacent_to):
            where = f"{path}[{index}].adjacent_to[{other}]"
            if room_key(target) not in names:
                known = ", ".join(sorted(names))
                message = f"{target!r} is no room of the program (rooms: {known})"
                raise LayoutProgramError(at_field(message, where))
            if room_key(target) == room_key(room.name) and counts[room_key(target)] < 2:
                message = f"{room.name!r} is asked for once: it cannot be next to itself"
                raise LayoutProgramError(at_field(message, where))


def merge(
    brief: Program | None, explicit: Sequence[RoomRequest] | None
) -> tuple[Program, list[str]]:
    """The brief's program with the explicit rooms over it: an explicit room replaces every
    brief room of the same name, other brief rooms stay; notes say what was replaced. An
    explicit room's adjacency must name a room of the result (else LayoutProgramError)."""
    brief = brief or Program()
    explicit = list(explicit or [])
    notes: list[str] = []
    given = {room_key(room.name) for room in explicit}
    kept: list[RoomRequest] = []
    for room in brief.rooms:
        if room_key(room.name) in given:
            notes.append(f"program's {room.name!r} replaces the brief's ({_describe(room)})")
        else:
            kept.append(room)
    rooms = kept + explicit
    names = {room_key(room.name) for room in rooms} | {ENTRANCE}
    # A brief room's adjacency to a room the program replaced by another name is dropped,
    # said in a note; an explicit room's is an error (check_rooms).
    cleaned = list(explicit)
    for room in reversed(kept):
        lost = [name for name in room.adjacent_to if room_key(name) not in names]
        for name in lost:
            notes.append(f"brief's {room.name!r} next to {name!r} dropped: no such room")
        keep = [name for name in room.adjacent_to if name not in lost]
        cleaned.insert(0, msgspec.structs.replace(room, adjacent_to=keep))
    check_rooms(explicit, rooms, "$.program")
    return msgspec.structs.replace(brief, rooms=cleaned), notes


def resolve(
    program: Program,
    corridor_width_m: float | None = None,
    min_room_width_m: float | None = None,
    partition_thickness_mm: float | None = None,
) -> Resolved:
    """Sizes settled: a parameter (not None) wins over the brief, the brief over the
    issue's default; each choice that is not the plain default is noted."""
    notes: list[str] = []
    chosen: list[float] = []
    for field, parameter, from_brief, default in (
        ("corridor_width_m", corridor_width_m, program.corridor_width_m, DEFAULT_CORRIDOR_M),
        ("min_room_width_m", min_room_width_m, program.min_room_width_m, DEFAULT_ROOM_WIDTH_M),
        (
            "partition_thickness_mm",
            partition_thickness_mm,
            program.partition_thickness_mm,
            DEFAULT_PARTITION_MM,
        ),
    ):
        if parameter is not None:
            if from_brief is not None and from_brief != parameter:
                notes.append(f"{field} {parameter:g} (parameter) over the brief's {from_brief:g}")
            chosen.append(parameter)
        elif from_brief is not None:
            notes.append(f"{field} {from_brief:g} from the brief")
            chosen.append(from_brief)
        else:
            chosen.append(default)
    if not program.rooms:
        raise LayoutProgramError(at_field("no room to lay out: give a brief or a program", "$"))
    corridor, width, partition = chosen
    return Resolved(program.rooms, corridor, width, partition, notes)


def _describe(room: RoomRequest) -> str:
    area = (
        f"{room.min_area_m2:g}"
        if room.max_area_m2 is None
        else (f"{room.min_area_m2:g}-{room.max_area_m2:g}")
    )
    return f"{room.count} x {area} m2"
