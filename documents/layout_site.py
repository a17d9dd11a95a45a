"""The site ``layout`` lays out: a plan page's (or a wall list's) floor inside its shell.

The plan is read as model3d reads it (``documents.model3d_plan.plan_of``: an ingest page, a
wall list or a layout, in metres from the plan's top-left corner, openings placed on their
walls). Each wall becomes its rectangle (square ends, so corners close) and each opening in
a gap between walls its piece of wall; a closing of half a metre seals what still leaks.
The footprint is that union with its holes filled; a wall is exterior when its rectangle
reaches the footprint's edge, and the site is the footprint less the exterior walls: the
floor inside the shell. When the walls enclose nothing, the union of the rooms is the site.

Openings keep their kind; those in the shell are on the outline, each with its ``face``:
the stretch of the site's edge in front of it. The entrance is a door on the outline (the
first one), else a plain opening there; a plan without either gets the middle of the
site's longest side, noted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import msgspec
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from documents.model3d_input import Model3dInput, Model3dParameterError, Plan
from documents.model3d_plan import Plan3d, Wall3d, plan_of

CLOSING_M = 0.5  # gaps in the shell up to twice this are closed
REACH_M = 0.05  # slack when asking whether a shape touches another
MIN_SITE_M2 = 1.0


@dataclass(frozen=True)
class SiteOpening:
    """An existing door, window or plain opening: its span along its wall (metres), the
    wall's thickness, and for one in the shell, its face on the site's edge."""

    kind: str
    span: LineString
    thickness: float
    on_outline: bool
    face: BaseGeometry | None  # on_outline only: the site edge in front of it

    @property
    def zone(self) -> BaseGeometry:
        """Where a new partition must not go: the opening through its wall's depth."""
        return self.span.buffer(self.thickness / 2 + REACH_M, cap_style="flat")


@dataclass(frozen=True)
class Site:
    """The floor to lay out (metres, x right and y down the page from ``origin``)."""

    outline: Polygon
    walls: list[Wall3d]  # every existing wall, exterior or not
    exterior: list[bool]  # per wall
    openings: list[SiteOpening]
    entrance: LineString  # on the outline: a door's face, or a chosen stretch
    origin: tuple[float, float]  # plan units: the plan point at x = y = 0
    metres_per_unit: float
    notes: list[str] = field(default_factory=list)

    @property
    def windows(self) -> list[SiteOpening]:
        return [o for o in self.openings if o.kind == "window" and o.on_outline]

    def inner_walls(self) -> BaseGeometry:
        """Existing walls inside the shell, as solid rectangles."""
        inner = [_rect(w) for w, ext in zip(self.walls, self.exterior, strict=True) if not ext]
        return shapely.unary_union(inner) if inner else Polygon()

    def inner_lines(self) -> list[tuple[LineString, float]]:
        """Existing walls inside the shell: centre line and thickness."""
        return [
            (LineString([(w.x1, w.z1), (w.x2, w.z2)]), w.thickness)
            for w, ext in zip(self.walls, self.exterior, strict=True)
            if not ext
        ]

    def blocking_walls(self) -> BaseGeometry:
        """The inner walls less their doors and plain openings: what one cannot walk through."""
        passages = [o.zone for o in self.openings if o.kind != "window" and not o.on_outline]
        if not passages:
            return self.inner_walls()
        return self.inner_walls().difference(shapely.unary_union(passages))

    def to_plan(self, x: float, y: float) -> tuple[float, float]:
        """A point in the plan's units."""
        k = self.metres_per_unit
        return self.origin[0] + x / k, self.origin[1] + y / k


def site_of(plan: Any, page: int = 0, metres_per_unit: float | None = None) -> Site:
    """The site of ``plan`` (decoded JSON: an ingest result or a wall list); a plan without
    scale or walls is a Model3dParameterError naming what to pass."""
    fields = msgspec.convert(plan, Plan)
    params = Model3dInput(plan=fields, page=page, metres_per_unit=metres_per_unit)
    return site_from(plan_of(params, "layout"))


def site_from(plan: Plan3d) -> Site:
    """The site of a plan already read in metres."""
    walls = [w for w in plan.walls if w.length > 1e-6]
    notes = list(plan.warnings)
    rects = [_rect(w) for w in walls]
    gaps = [g for g in plan.gaps]
    gap_rects = [LineString([g.span[:2], g.span[2:]]).buffer(g.thickness / 2) for g in gaps]
    footprint = _footprint(rects + gap_rects)
    outline: Polygon | None = None
    exterior = [False] * len(walls)
    if footprint is not None:
        edge = footprint.exterior
        exterior = [r.distance(edge) <= REACH_M for r in rects]
        band = [r for r, ext in zip(rects, exterior, strict=True) if ext]
        band += [r for r in gap_rects if r.distance(edge) <= REACH_M]
        closed = _close(shapely.unary_union(band)) if band else Polygon()
        outline = _largest(footprint.difference(closed))
        # A wall lying within the shell's depth (a frame line, a lining) is part of it.
        exterior = [
            ext or r.difference(closed).area <= 0.1 * r.area
            for r, ext in zip(rects, exterior, strict=True)
        ]
    if outline is None or outline.area < MIN_SITE_M2:
        outline = _rooms_outline(plan)
        notes.append("the walls enclose no floor: the site is the union of the rooms")
        exterior = [r.distance(outline.exterior) <= REACH_M + w.thickness for r, w in
                    zip(rects, walls, strict=True)]  # fmt: skip
    outline = _largest(shapely.set_precision(outline.simplify(0.005), 0.001)) or outline
    shell = sorted(w.thickness for w, ext in zip(walls, exterior, strict=True) if ext)
    depth = shell[len(shell) // 2] if shell else 0.0
    openings = _openings(plan, depth, outline)
    entrance = _entrance(openings, outline, notes)
    return Site(
        outline, walls, exterior, openings, entrance, plan.origin, plan.metres_per_unit, notes
    )


def _rect(w: Wall3d) -> Polygon:
    line = LineString([(w.x1, w.z1), (w.x2, w.z2)])
    return line.buffer(max(w.thickness, 1e-3) / 2, cap_style="square", join_style="mitre")


def _close(shape: BaseGeometry) -> BaseGeometry:
    return shape.buffer(CLOSING_M, join_style="mitre").buffer(-CLOSING_M, join_style="mitre")


def _largest(shape: BaseGeometry) -> Polygon | None:
    parts = [g for g in getattr(shape, "geoms", [shape]) if isinstance(g, Polygon)]
    return max(parts, key=lambda p: p.area) if parts else None


def _footprint(pieces: list[Polygon]) -> Polygon | None:
    """The shell's outer outline with its holes filled; None when it encloses nothing."""
    if not pieces:
        return None
    biggest = _largest(_close(shapely.unary_union(pieces)))
    if biggest is None or not biggest.interiors:
        return None
    return Polygon(biggest.exterior)


def _rooms_outline(plan: Plan3d) -> Polygon:
    rooms = [Polygon(r.polygon) for r in plan.rooms if len(r.polygon) >= 3]
    rooms = [r if r.is_valid else r.buffer(0) for r in rooms]
    # The rooms stop at the walls' faces: a wall's width apart; grow, join, shrink back.
    joined = shapely.unary_union([r.buffer(0.3, join_style="mitre") for r in rooms])
    outline = _largest(joined.buffer(-0.3, join_style="mitre")) if rooms else None
    if outline is None or outline.area < MIN_SITE_M2:
        raise Model3dParameterError("the plan has no closed outline and no rooms to lay out")
    return Polygon(outline.exterior)


def _openings(plan: Plan3d, shell_depth: float, outline: Polygon) -> list[SiteOpening]:
    found: list[tuple[str, LineString, float]] = []
    for cut in plan.cuts:
        w = plan.walls[cut.wall]
        ux, uy = (w.x2 - w.x1) / w.length, (w.z2 - w.z1) / w.length
        a = (w.x1 + ux * cut.start, w.z1 + uy * cut.start)
        b = (w.x1 + ux * cut.end, w.z1 + uy * cut.end)
        found.append((cut.kind, LineString([a, b]), w.thickness))
    for gap in plan.gaps:
        found.append((gap.kind, LineString([gap.span[:2], gap.span[2:]]), gap.thickness))
    edge = outline.exterior
    openings = []
    for kind, span, thickness in found:
        # In the shell: its middle outside the site within the shell's depth of the edge,
        # or inside within its own half depth (a window drawn on the wall's inner face).
        middle = span.interpolate(0.5, normalized=True)
        off = middle.distance(edge)
        if outline.contains(middle):
            on_outline = off <= thickness / 2 + REACH_M
        else:
            on_outline = off <= max(thickness / 2, shell_depth) + REACH_M
        face = None
        if on_outline:
            reach = max(thickness, shell_depth) + REACH_M
            face = edge.intersection(span.buffer(reach, cap_style="flat"))
            on_outline = face.length > 1e-3
        openings.append(
            SiteOpening(kind, span, thickness, on_outline, face if on_outline else None)
        )
    return openings


def _entrance(openings: list[SiteOpening], outline: Polygon, notes: list[str]) -> LineString:
    for kind in ("door", "opening"):
        for opening in openings:
            if opening.kind == kind and opening.on_outline and opening.face is not None:
                return _longest_line(opening.face)
    # No door in the shell: the middle of the longest side, 0.9 m wide.
    coords = list(outline.exterior.coords)
    sides = [LineString([a, b]) for a, b in zip(coords, coords[1:], strict=False)]
    side = max(sides, key=lambda s: s.length)
    half = min(0.45, side.length / 2)
    mid = side.length / 2
    a, b = side.interpolate(mid - half), side.interpolate(mid + half)
    notes.append(
        f"no door on the outline: the entrance is taken at the middle of the longest side"
        f" ({side.length:.2f} m), at ({_xy(side.interpolate(mid))})"
    )
    return LineString([a, b])


def _longest_line(shape: BaseGeometry) -> LineString:
    lines = [g for g in getattr(shape, "geoms", [shape]) if isinstance(g, LineString)]
    merged = shapely.line_merge(shapely.unary_union(lines)) if len(lines) > 1 else lines[0]
    parts = [g for g in getattr(merged, "geoms", [merged]) if isinstance(g, LineString)]
    return max(parts, key=lambda g: g.length)


def _xy(point: Point) -> str:
    return f"{point.x:.2f}, {point.y:.2f} m"


def polygons(shape: BaseGeometry) -> list[Polygon]:
    """The polygons of a shape (a Polygon, a MultiPolygon or a collection)."""
    if isinstance(shape, Polygon):
        return [] if shape.is_empty else [shape]
    if isinstance(shape, MultiPolygon) or hasattr(shape, "geoms"):
        return [p for g in shape.geoms for p in polygons(g)]
    return []


def lines(shape: BaseGeometry) -> list[LineString]:
    """The line strings of a shape."""
    if isinstance(shape, LineString):
        return [] if shape.is_empty or shape.length <= 0 else [shape]
    if hasattr(shape, "geoms"):
        return [p for g in shape.geoms for p in lines(g)]
    return []


def side_lengths(polygon: Polygon) -> tuple[float, float]:
    """The short and long sides of a polygon's minimum rotated rectangle."""
    box = polygon.minimum_rotated_rectangle
    if not isinstance(box, Polygon):
        return 0.0, 0.0
    c = list(box.exterior.coords)
    a, b = math.dist(c[0], c[1]), math.dist(c[1], c[2])
    return min(a, b), max(a, b)
