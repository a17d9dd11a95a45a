"""The words and phrases of a layout brief: room names and synonyms, counts, units, fillers,
and the patterns of areas, lengths, window wishes and adjacency.

Kept apart from the parser (``documents.layout_brief``) so the vocabulary can grow without
touching the grammar. Every name maps to one canonical room name, which is what the
program, adjacency and merging use.
"""

from __future__ import annotations

import re
from typing import Final

# Synonym (in tokens: lower-case letters and digits, hyphens as spaces) -> canonical name.
ROOM_NAMES: Final[dict[str, str]] = {
    "office": "office",
    "private office": "office",
    "cellular office": "office",
    "meeting room": "meeting room",
    "conference room": "meeting room",
    "boardroom": "meeting room",
    "board room": "meeting room",
    "meeting space": "meeting room",
    "kitchen": "kitchen",
    "kitchenette": "kitchenette",
    "tea point": "kitchenette",
    "pantry": "kitchenette",
    "bathroom": "bathroom",
    "washroom": "bathroom",
    "shower room": "bathroom",
    "toilet": "toilet",
    "wc": "toilet",
    "w c": "toilet",
    "restroom": "toilet",
    "lavatory": "toilet",
    "loo": "toilet",
    "storage": "storage",
    "storage room": "storage",
    "store room": "storage",
    "storeroom": "storage",
    "store": "storage",
    "stores": "storage",
    "reception": "reception",
    "reception area": "reception",
    "lobby": "reception",
    "waiting area": "reception",
    "open plan office": "open-plan office",
    "open plan area": "open-plan office",
    "open plan": "open-plan office",
    "open office": "open-plan office",
    "bedroom": "bedroom",
    "double bedroom": "bedroom",
    "single bedroom": "bedroom",
    "living room": "living room",
    "lounge": "living room",
    "sitting room": "living room",
    "living area": "living room",
    "dining room": "dining room",
    "utility room": "utility room",
    "laundry": "utility room",
    "server room": "server room",
    "comms room": "server room",
    "print room": "print room",
    "copy room": "print room",
    "break room": "break room",
    "staff room": "break room",
    "study": "study",
}

# Typical minimum floor areas (m2) used for a known room the brief gives no area: a stated
# assumption (in the reading's notes), from common office and housing guidance (e.g. the
# UK's nationally described space standard: 7.5 m2 a single bedroom).
TYPICAL_MIN_M2: Final[dict[str, float]] = {
    "office": 9.0,
    "meeting room": 12.0,
    "kitchen": 7.0,
    "kitchenette": 4.0,
    "bathroom": 4.0,
    "toilet": 1.5,
    "storage": 3.0,
    "reception": 10.0,
    "open-plan office": 30.0,
    "bedroom": 7.5,
    "living room": 13.0,
    "dining room": 9.0,
    "utility room": 3.0,
    "server room": 6.0,
    "print room": 4.0,
    "break room": 10.0,
    "study": 6.0,
}

CORRIDOR_WORDS: Final = frozenset(
    {"corridor", "corridors", "hallway", "hallways", "passage", "passages", "circulation"}
)

NUMBER_WORDS: Final[dict[str, int]] = {
    "a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "dozen": 12, "pair": 2, "couple": 2,
}  # fmt: skip

# Counts a brief may give that are no number: the fragment is reported, never guessed.
VAGUE_COUNTS: Final = frozenset(
    {"several", "some", "many", "lots", "lot", "few", "multiple", "various", "numerous"}
)

# Words that carry nothing for the program (articles, glue, politeness, request verbs).
FILLERS: Final = frozenset(
    """of each with the and plus also per for in x room rooms please we i need needs want
    would like require requires required should must have has include includes including
    there be is are provide want also total our us min minimum""".split()
)

# Metres per unit of a length (corridor, room width, partition).
LENGTH_UNITS: Final[dict[str, float]] = {
    "m": 1.0, "metre": 1.0, "metres": 1.0, "meter": 1.0, "meters": 1.0,
    "cm": 0.01, "mm": 0.001, "ft": 0.3048, "foot": 0.3048, "feet": 0.3048, "'": 0.3048,
    "in": 0.0254, "inch": 0.0254, "inches": 0.0254, '"': 0.0254,
}  # fmt: skip

SQ_FT_M2: Final = 0.09290304  # one square foot, exactly

# The phrases around the words: areas, lengths, window wishes, adjacency. Matched on the
# lower-cased fragment; an area pattern's kind says how its numbers bound the room, the
# first kind that matches wins (so "no less than" is a minimum, never "less than").
NUM = r"\d+(?:[.,]\d+)?"
M2 = r"(?:m\s?(?:2|²|\^2)|sq\.?\s?m(?:etres?|eters?)?|sqm|square\s+(?:metres?|meters?|m))(?![a-z])"
FT2 = r"(?:sq\.?\s?f(?:ee|oo)?t|sqft|ft\s?(?:2|²|\^2)|square\s+f(?:ee|oo)t)(?![a-z])"
UNIT = rf"(?P<unit>{M2}|{FT2})"
AREA_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("range", rf"(?:between\s+|from\s+)?(?P<a>{NUM})\s*(?:{M2}|{FT2})?\s*"
                  rf"(?:and|to|-|–)\s*(?P<b>{NUM})\s*{UNIT}"),
        ("about", rf"(?:about|approx(?:\.|imately)?|around|roughly|circa|ca\.|~)\s*"
                  rf"(?P<a>{NUM})\s*{UNIT}"),
        ("min", rf"(?:at\s+least|min(?:imum|\.)?|no\s+less\s+than|not\s+less\s+than|over|"
                rf"(?<!no\s)(?<!not\s)more\s+than)\s*(?:of\s+)?(?P<a>{NUM})\s*{UNIT}"),
        ("min", rf"(?P<a>{NUM})\s*\+\s*{UNIT}"),
        ("min", rf"(?P<a>{NUM})\s*\+?\s*{UNIT}\s*(?:min(?:imum|\.)?|or\s+more|at\s+least|\+)"
                rf"(?![a-z])"),
        ("max", rf"(?:up\s+to|at\s+most|max(?:imum|\.)?|no\s+more\s+than|not\s+more\s+than|"
                rf"under|(?<!no\s)(?<!not\s)less\s+than)\s*(?:of\s+)?(?P<a>{NUM})\s*{UNIT}"),
        ("max", rf"(?P<a>{NUM})\s*{UNIT}\s*(?:max(?:imum|\.)?|at\s+most|or\s+less)(?![a-z])"),
        ("plain", rf"(?P<a>{NUM})\s*{UNIT}"),
    )
]  # fmt: skip
LENGTH = re.compile(
    rf"(?P<a>{NUM})\s*(?P<unit>mm|cm|m|metres?|meters?|ft|feet|foot|inch(?:es)?|in|'|\")"
    r"(?!\s?(?:2|²|\^))(?![a-z])"
)
WINDOW = re.compile(
    r"(?:along|by|on|at|facing|overlooking|towards?|onto)\s+(?:the\s+|a\s+)?"
    r"(?:windows?|fa[cç]ades?|exterior(?:\s+walls?)?|outside(?:\s+walls?)?|perimeter|street)"
    r"(?![a-z])|with\s+(?:a\s+|an\s+|its\s+own\s+)?(?:external\s+|outside\s+)?windows?(?![a-z])"
    r"|(?:with\s+)?(?:natural\s+light|daylight)|daylit|windowed|on\s+the\s+window\s+side"
)
NO_WINDOW = re.compile(r"without\s+(?:a\s+)?windows?(?![a-z])|windowless|no\s+windows?(?![a-z])")
ADJACENT = re.compile(
    r"(?P<how>next\s+to|by|adjacent\s+to|beside|alongside|near(?:\s+to)?|close\s+to|"
    r"connected\s+to|opening\s+(?:onto|into|to))\s+(?:the\s+|a\s+|an\s+)?"
    r"(?P<target>[a-z][a-z-]*(?:\s+(?!and\b|with\b|of\b)[a-z][a-z-]*){0,2})"
)
