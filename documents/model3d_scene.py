"""model3d's trimesh Scene and its binary glTF: one named node per wall, room and slab.

Nodes: ``walls`` holds ``wall-N`` (N: the wall's index in the plan's walls; a layout's
partitions follow the plan's walls as ``partition-N``) and ``opening-N`` (the wall over,
and under, an opening in a gap between walls); ``rooms`` holds ``room-ID NAME``, a floor
patch, or an empty node for a room without area; ``slab`` is the floor slab. Vertices are
not shared between faces, and no normals are written: glTF viewers then shade each face
flat, as a model of boxes should be.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import trimesh
from trimesh.visual import TextureVisuals
from trimesh.visual.material import PBRMaterial

from documents.model3d_mesh import Boxes, RoomFloor, box_mesh

# Colours (RGBA 0-255) a viewer shows: walls off-white, new partitions warmer, the slab
# grey, rooms in pale tints that tell neighbours apart.
WALL_RGBA = (226, 222, 212, 255)
PARTITION_RGBA = (235, 205, 160, 255)
SLAB_RGBA = (150, 150, 150, 255)
ROOM_TINTS = (
    (174, 206, 235, 255),
    (190, 226, 180, 255),
    (240, 206, 170, 255),
    (214, 190, 232, 255),
    (240, 230, 160, 255),
    (170, 222, 214, 255),
)


# trimesh leaves these calls untyped; each is made in one small function here.
def _material(name: str, rgba: tuple[int, int, int, int], two_sided: bool = False) -> Any:
    return PBRMaterial(  # type: ignore[no-untyped-call]
        name=name,
        baseColorFactor=list(rgba),
        metallicFactor=0.0,
        roughnessFactor=0.9,
        doubleSided=two_sided,
    )


def _mesh(vertices: Any, faces: Any, material: Any) -> Any:
    mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=False, validate=False)
    mesh.visual = TextureVisuals(material=material)  # type: ignore[no-untyped-call]
    return mesh


def _empty_node(scene: trimesh.Scene, name: str, parent: Hashable) -> None:
    scene.graph.update(frame_to=name, frame_from=parent)  # type: ignore[no-untyped-call]


def build_scene(
    walls: Boxes,
    wall_kinds: list[str],
    slab: Boxes | None,
    floors: list[RoomFloor | str],
) -> trimesh.Scene:
    """The trimesh Scene of the model (``wall_kinds``: "wall" or "partition" per wall)."""
    scene = trimesh.Scene()
    base = scene.graph.base_frame
    for group in ("walls", "rooms"):
        _empty_node(scene, group, base)
    materials = {
        "wall": _material("wall", WALL_RGBA),
        "partition": _material("partition", PARTITION_RGBA),
    }
    order = np.argsort(walls.owner, kind="stable")
    owners = walls.owner[order]
    cuts = np.flatnonzero(np.diff(owners)) + 1
    for chunk in np.split(order, cuts):
        if not len(chunk):
            continue
        owner = int(walls.owner[chunk[0]])
        part = Boxes(walls.base[chunk], walls.bottom[chunk], walls.top[chunk], walls.owner[chunk])
        vertices, faces = box_mesh(part)
        if owner >= 0:
            kind = wall_kinds[owner]
            name = f"{kind}-{owner}"
        else:
            kind, name = "wall", f"opening-{-1 - owner}"
        scene.add_geometry(
            _mesh(vertices, faces, materials[kind]),
            node_name=name,
            geom_name=name,
            parent_node_name="walls",
        )
    if slab is not None:
        vertices, faces = box_mesh(slab)
        slab_mesh = _mesh(vertices, faces, _material("slab", SLAB_RGBA))
        scene.add_geometry(slab_mesh, node_name="slab", geom_name="slab")
    for k, floor in enumerate(floors):
        if isinstance(floor, str):
            _empty_node(scene, floor, "rooms")
            continue
        tint = _material(f"room-{k}", ROOM_TINTS[k % len(ROOM_TINTS)], two_sided=True)
        scene.add_geometry(
            _mesh(floor.vertices, floor.faces, tint),
            node_name=floor.name,
            geom_name=floor.name,
            parent_node_name="rooms",
        )
    return scene


def glb_bytes(scene: trimesh.Scene) -> bytes:
    """The scene as binary glTF 2.0 (metres, y up)."""
    data = scene.export(file_type="glb", include_normals=False)  # type: ignore[no-untyped-call]
    return bytes(data)


def bounds_of(scene: trimesh.Scene) -> tuple[list[float], list[float]]:
    """The scene's axis-aligned bounds, min and max (x, y, z) in metres."""
    low, high = scene.bounds
    return [round(float(v), 4) for v in low], [round(float(v), 4) for v in high]
