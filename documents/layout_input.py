"""layout's parameters: the plan, what to build (a brief and/or a program) and the search.

The plan is given as model3d takes it (``documents.model3d_input``): as ``plan`` or at the
top level, as a chain passes the result of the job before (``ingest?then=layout``:
``pages`` and ``document``). Light (msgspec only): the gateway imports it for the schema.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from documents.layout_brief import MAX_BRIEF_CHARS
from documents.layout_program import (
    CorridorWidth,
    PartitionThickness,
    RoomRequest,
    RoomWidth,
    check_rooms,
)
from documents.model import at_field
from documents.model3d_input import PlanInput

MAX_CANDIDATES = 32
MAX_WORKERS = 8
# The function's timeout is this and a margin for the preview and the result.
MAX_BUDGET_S = 100.0
DEFAULT_BUDGET_S = 60.0
MAX_SEED = 2**31 - 1


class LayoutInput(PlanInput, frozen=True):
    """The plan, the rooms wanted, and the search."""

    brief: Annotated[
        Annotated[str, Meta(max_length=MAX_BRIEF_CHARS)] | None,
        Meta(
            description='what to build, in words: "4 offices of at least 10 m2 along the '
            'windows, a 20 m2 meeting room, 1.5 m corridor"; what is not read is reported',
        ),
    ] = None
    program: Annotated[
        list[RoomRequest] | None,
        Meta(description="rooms to build; a room named as one of the brief's replaces it"),
    ] = None
    candidates: Annotated[
        int, Meta(ge=1, le=MAX_CANDIDATES, description="layouts generated and compared")
    ] = 2
    max_workers: Annotated[
        int, Meta(ge=1, le=MAX_WORKERS, description="processes generating candidates at once")
    ] = 2
    seed: Annotated[
        int, Meta(ge=0, le=MAX_SEED, description="the same seed gives the same layout")
    ] = 0
    min_room_width_m: Annotated[
        RoomWidth | None, Meta(description="null: the brief's, else 2.1")
    ] = None
    corridor_width_m: Annotated[
        CorridorWidth | None, Meta(description="null: the brief's, else 1.2")
    ] = None
    partition_thickness_mm: Annotated[
        PartitionThickness | None, Meta(description="null: the brief's, else 100")
    ] = None
    time_budget_s: Annotated[
        float,
        Meta(
            ge=1,
            le=MAX_BUDGET_S,
            description="how long new seeds are tried while no candidate is valid",
        ),
    ] = DEFAULT_BUDGET_S

    def __post_init__(self) -> None:
        # A ValueError here is a 400 at submission naming the field.
        if not self.program and not (self.brief or "").strip():
            message = "give a brief or a program (or both): no room to lay out"
            raise ValueError(at_field(message, "$.brief"))
        if self.program is not None and self.brief is None:
            # With a brief too, adjacencies may name its rooms: checked once it is read.
            check_rooms(self.program, self.program)
