"""Render procedural HDR scenes with Blender's Cycles to widen the training data.

Usage (any Python with bpy==5.0.1 installed, e.g. the test venv):

    python tools/render_training_hdrs.py --out data/renders --count 48 --width 512 --height 256

Each scene is made from a seed alone (same seed -> same scene): a ground plane
and a handful of primitives with random Principled BSDF materials (some
glossy/metallic, some emissive: bright emitters for clipped highlights), a few
area/point lights, lit by either Cycles' physical sky (sun + sky, random sun
position) or one of Blender's bundled CC0 Poly Haven HDRIs from the TRAIN split
(never the held-out ones, so that evaluation stays clean), randomly rotated.
About a quarter of the scenes use an equirectangular panoramic camera (full
environment maps); the rest a perspective camera with a random field of view.
Output: scene-linear OpenEXR (32-bit float, RGBA) written by Cycles, plus
renders.json listing seed, world, camera and the SHA-256 of every file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import sys
import tempfile
from pathlib import Path

# Blender's bundled HDRIs kept out of training entirely (evaluation only).
HELD_OUT_HDRIS = ("courtyard.exr", "sunset.exr")


def bundled_hdri_dir() -> Path:
    import bpy

    return Path(bpy.utils.system_resource("DATAFILES", path="studiolights/world"))


def train_hdris() -> list[Path]:
    return sorted(p for p in bundled_hdri_dir().glob("*.exr") if p.name not in HELD_OUT_HDRIS)


def _material(bpy, rng: random.Random, name: str, emissive: bool):
    mat = bpy.data.materials.new(name)
    nt = mat.node_tree if mat.node_tree else None
    if nt is None:  # Blender < 5 needs use_nodes; 5.0 materials always have nodes
        mat.use_nodes = True
        nt = mat.node_tree
    bsdf = next(n for n in nt.nodes if n.type == "BSDF_PRINCIPLED")
    hue = [rng.random() for _ in range(3)]
    bsdf.inputs["Base Color"].default_value = (*hue, 1.0)
    bsdf.inputs["Metallic"].default_value = 1.0 if rng.random() < 0.3 else 0.0
    bsdf.inputs["Roughness"].default_value = rng.choice([0.02, 0.1, 0.3, 0.6, 0.9])
    if emissive:
        bsdf.inputs["Emission Color"].default_value = (*[0.5 + 0.5 * c for c in hue], 1.0)
        bsdf.inputs["Emission Strength"].default_value = 10 ** rng.uniform(0.0, 2.0)
    return mat


def build_scene(seed: int, width: int, height: int, samples: int):
    import bpy
    import addon_utils  # importable only after bpy

    bpy.ops.wm.read_homefile(use_empty=True, use_factory_startup=True)
    addon_utils.enable("cycles", default_set=True)
    rng = random.Random(seed)
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    scene.cycles.seed = seed
    scene.render.resolution_x, scene.render.resolution_y = width, height
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = False
    scene.render.image_settings.file_format = "OPEN_EXR"
    scene.render.image_settings.color_depth = "32"
    scene.render.image_settings.exr_codec = "ZIP"

    # World: physical sky or a bundled (train split) HDRI.
    world = bpy.data.worlds.new("World")
    scene.world = world
    nt = world.node_tree
    background = next(n for n in nt.nodes if n.type == "BACKGROUND")
    info: dict = {"seed": seed}
    if rng.random() < 0.5:
        sky = nt.nodes.new("ShaderNodeTexSky")
        sky.sky_type = "MULTIPLE_SCATTERING"
        sky.sun_elevation = math.radians(rng.uniform(2.0, 70.0))
        sky.sun_rotation = math.radians(rng.uniform(0.0, 360.0))
        nt.links.new(sky.outputs["Color"], background.inputs["Color"])
        background.inputs["Strength"].default_value = rng.uniform(0.3, 1.0)
        info["world"] = {"type": "sky", "sun_elevation_deg": math.degrees(sky.sun_elevation)}
    else:
        hdri = rng.choice(train_hdris())
        env = nt.nodes.new("ShaderNodeTexEnvironment")
        env.image = bpy.data.images.load(str(hdri))
        mapping = nt.nodes.new("ShaderNodeMapping")
        coords = nt.nodes.new("ShaderNodeTexCoord")
        mapping.inputs["Rotation"].default_value[2] = rng.uniform(0.0, 2 * math.pi)
        nt.links.new(coords.outputs["Generated"], mapping.inputs["Vector"])
        nt.links.new(mapping.outputs["Vector"], env.inputs["Vector"])
        nt.links.new(env.outputs["Color"], background.inputs["Color"])
        background.inputs["Strength"].default_value = 10 ** rng.uniform(-0.5, 0.5)
        info["world"] = {"type": "hdri", "file": hdri.name}

    # Ground and primitives.
    bpy.ops.mesh.primitive_plane_add(size=60.0, location=(0, 0, 0))
    bpy.context.object.data.materials.append(_material(bpy, rng, "ground", emissive=False))
    n_objects = rng.randint(3, 8)
    for i in range(n_objects):
        kind = rng.choice(["sphere", "cube", "cylinder", "torus"])
        loc = (rng.uniform(-4, 4), rng.uniform(-4, 4), 0.0)
        size = rng.uniform(0.4, 1.5)
        if kind == "sphere":
            bpy.ops.mesh.primitive_uv_sphere_add(radius=size, location=(loc[0], loc[1], size), segments=48, ring_count=24)
            bpy.ops.object.shade_smooth()
        elif kind == "cube":
            bpy.ops.mesh.primitive_cube_add(size=size * 2, location=(loc[0], loc[1], size), rotation=(0, 0, rng.uniform(0, 3)))
        elif kind == "cylinder":
            bpy.ops.mesh.primitive_cylinder_add(radius=size * 0.6, depth=size * 2, location=(loc[0], loc[1], size))
        else:
            bpy.ops.mesh.primitive_torus_add(location=(loc[0], loc[1], size * 0.5), major_radius=size, minor_radius=size * 0.3)
            bpy.ops.object.shade_smooth()
        bpy.context.object.data.materials.append(_material(bpy, rng, f"m{i}", emissive=rng.random() < 0.15))

    # Lights: bright point/area lights give speculars and clipped highlights.
    for i in range(rng.randint(0, 3)):
        ltype = rng.choice(["POINT", "AREA", "SPOT"])
        light = bpy.data.lights.new(f"L{i}", ltype)
        light.energy = 10 ** rng.uniform(2.0, 3.7)
        light.color = (1.0, rng.uniform(0.7, 1.0), rng.uniform(0.5, 1.0))
        obj = bpy.data.objects.new(f"L{i}", light)
        obj.location = (rng.uniform(-6, 6), rng.uniform(-6, 6), rng.uniform(2, 7))
        scene.collection.objects.link(obj)

    # Camera: a quarter of the scenes are full 360 equirect panoramas.
    cam = bpy.data.cameras.new("Camera")
    cam_obj = bpy.data.objects.new("Camera", cam)
    scene.collection.objects.link(cam_obj)
    scene.camera = cam_obj
    if rng.random() < 0.25:
        cam.type = "PANO"
        cam.panorama_type = "EQUIRECTANGULAR"
        cam_obj.location = (rng.uniform(-2, 2), rng.uniform(-2, 2), rng.uniform(0.8, 2.5))
        cam_obj.rotation_euler = (math.pi / 2, 0.0, rng.uniform(0, 2 * math.pi))
        info["camera"] = "equirect"
    else:
        cam.lens_unit = "FOV"
        cam.angle = math.radians(rng.uniform(40.0, 80.0))
        dist = rng.uniform(8.0, 14.0)
        az = rng.uniform(0, 2 * math.pi)
        cam_obj.location = (dist * math.cos(az), dist * math.sin(az), rng.uniform(1.0, 5.0))
        target = bpy.data.objects.new("Target", None)
        target.location = (0.0, 0.0, 0.8)
        scene.collection.objects.link(target)
        track = cam_obj.constraints.new("TRACK_TO")
        track.target = target
        track.track_axis = "TRACK_NEGATIVE_Z"
        track.up_axis = "UP_Y"
        info["camera"] = {"fov_deg": math.degrees(cam.angle)}
    return scene, info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--count", type=int, default=48)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--samples", type=int, default=48)
    args = ap.parse_args(argv)
    os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="singlehdr_bur_"))
    args.out.mkdir(parents=True, exist_ok=True)
    records = []
    index = args.out / "renders.json"
    # keep what an earlier run recorded about files that are already there
    known = {r.get("file"): r for r in json.loads(index.read_text())} if index.is_file() else {}
    for seed in range(args.first_seed, args.first_seed + args.count):
        path = args.out / f"render_{seed:05d}.exr"
        if not path.exists():
            scene, info = build_scene(seed, args.width, args.height, args.samples)
            scene.render.filepath = str(path)
            import bpy

            bpy.ops.render.render(write_still=True)
        else:
            info = dict(known.get(path.name) or {"seed": seed, "world": "cached", "camera": "cached"})
        info["file"] = path.name
        info["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        records.append(info)
        print(f"{path.name} {info['sha256'][:12]}", file=sys.stderr)
    (args.out / "renders.json").write_text(json.dumps(records, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
