"""The rooms of the synthetic plan (tests/plans.py), derived by hand from its walls.

Frame: the plan's metres, y down (tests/plans.py WALLS_M, OPENINGS_M). Every opening is
closed by a piece of its wall, so a room ends at wall faces: a centre line at c with
thickness t has its faces at c - t/2 and c + t/2.

- Outer walls (indexes 0-6, 0.3 m on centre lines 0.15 / 13.85 / 0.15 / 23.85): the inside
  runs x 0.3..23.7, y 0.3..13.7. The windows (2..3 top, 12..14 bottom, 3..4.5 right) are
  closed at the same faces.
- x = 9 (walls 7, 8; 0.2 m, faces 8.9 / 9.1; the door 9..10 between them), y = 5 (walls 12,
  13 from x 0.3 to 8.9, 0.12 m, faces 4.94 / 5.06; the plain opening 4..5 between them),
  y = 7 (walls 9, 10 from x 9.1 to 23.7, faces 6.94 / 7.06; the door 15..16), x = 17 (wall 11
  from y 0.3 to 6.94, faces 16.94 / 17.06).
- KITCHEN x 0.3..8.9, y 0.3..4.94: 8.6 x 4.64 = 39.904 m2.
- LIVING x 0.3..8.9, y 5.06..13.7: 8.6 x 8.64 = 74.304 m2.
- BEDROOM x 9.1..16.94, y 0.3..6.94: 7.84 x 6.64 = 52.0576 m2.
- BATH x 17.06..23.7, y 0.3..6.94: 6.64 x 6.64 = 44.0896 m2.
- The diagonal wall 14 runs (17.5, 13.7) to (23.7, 10.2), 0.12 m thick; its centre line cuts
  the corner triangle with legs 6.2 and 3.5 (area 10.85, hypotenuse sqrt(6.2² + 3.5²) =
  7.11969, height from the corner h = 6.2 x 3.5 / 7.11969 = 3.04789). Each face is 0.06 from
  the centre line, so the triangles cut by the faces are similar with the height h ± 0.06:
  the small room (no label) is 10.85 x ((h - 0.06) / h)² = 10.4270 m2, and the hall loses
  10.85 x ((h + 0.06) / h)² = 11.2814 m2.
- HALL x 9.1..23.7, y 7.06..13.7: 14.6 x 6.64 = 96.944, less 11.2814 = 85.6626 m2.

Labels (tests/plans.py _distractors) sit at KITCHEN (3, 2.5), LIVING (3, 9.5), BEDROOM
(12, 3.5), BATH (19.5, 3.5), HALL (12, 11); the "1.00" of the door's dimension at
(15.15, 5.85) lies in the bedroom and is a measurement, not a room number.

Adjacency: each wall and opening with a room on both faces (wall indexes in WALLS_M,
opening indexes in OPENINGS_M). Wall 7 has the kitchen, then the living room, beside the
bedroom, and the living room beside the hall below y 7; wall 10 (x 16..23.7) has the
bedroom above it for x 16..16.94, then the bath. Walls 0-6 are the exterior ones.
"""

from __future__ import annotations

# The WALLS_M and OPENINGS_M this truth was derived from: a change there needs a new
# derivation here (test_rooms checks they still match).
WALLS_M = [
    (0, 0.15, 2, 0.15, 0.3),
    (3, 0.15, 24, 0.15, 0.3),
    (0, 13.85, 12, 13.85, 0.3),
    (14, 13.85, 24, 13.85, 0.3),
    (0.15, 0.3, 0.15, 13.7, 0.3),
    (23.85, 0.3, 23.85, 3, 0.3),
    (23.85, 4.5, 23.85, 13.7, 0.3),
    (9, 0.3, 9, 9, 0.2),
    (9, 10, 9, 13.7, 0.2),
    (9.1, 7, 15, 7, 0.12),
    (16, 7, 23.7, 7, 0.12),
    (17, 0.3, 17, 6.94, 0.12),
    (0.3, 5, 4, 5, 0.12),
    (5, 5, 8.9, 5, 0.12),
    (17.5, 13.7, 23.7, 10.2, 0.12),
]
OPENINGS_M = [
    ("window", 2, 0.15, 3, 0.15, (0, 1)),
    ("window", 12, 13.85, 14, 13.85, (2, 3)),
    ("window", 23.85, 3, 23.85, 4.5, (5, 6)),
    ("door", 9, 9, 9, 10, (7, 8)),
    ("door", 15, 7, 16, 7, (9, 10)),
    ("opening", 4, 5, 5, 5, (12, 13)),
]

# Name (None: no label), a point inside, area in m2.
ROOMS: list[tuple[str | None, tuple[float, float], float]] = [
    ("KITCHEN", (3, 2.5), 39.904),
    ("LIVING", (3, 9.5), 74.304),
    ("BEDROOM", (12, 3.5), 52.0576),
    ("BATH", (19.5, 3.5), 44.0896),
    ("HALL", (12, 11), 85.6626),
    (None, (22.5, 13), 10.4270),
]
EXTERIOR_WALLS = {0, 1, 2, 3, 4, 5, 6}

# Room pairs (names; the triangle is "TRIANGLE") and the wall between them.
WALL_ADJACENCY: set[tuple[str, str, int]] = {
    ("KITCHEN", "BEDROOM", 7),
    ("LIVING", "BEDROOM", 7),
    ("LIVING", "HALL", 7),
    ("LIVING", "HALL", 8),
    ("BEDROOM", "HALL", 9),
    ("BEDROOM", "HALL", 10),
    ("BATH", "HALL", 10),
    ("BEDROOM", "BATH", 11),
    ("KITCHEN", "LIVING", 12),
    ("KITCHEN", "LIVING", 13),
    ("HALL", "TRIANGLE", 14),
}
# Room pairs through an opening (index in OPENINGS_M) and its kind.
OPENING_ADJACENCY: set[tuple[str, str, str, int]] = {
    ("LIVING", "HALL", "door", 3),
    ("BEDROOM", "HALL", "door", 4),
    ("KITCHEN", "LIVING", "opening", 5),
}
# The openings on each room's boundary.
ROOM_OPENINGS: dict[str, set[int]] = {
    "KITCHEN": {0, 5},
    "LIVING": {3, 5},
    "BEDROOM": {4},
    "BATH": {2},
    "HALL": {1, 3, 4},
    "TRIANGLE": set(),
}
