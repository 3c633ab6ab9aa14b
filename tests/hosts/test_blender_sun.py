"""The Sun-lamp split with real Cycles renders (bpy 5.0.1, headless).

The sky map is built here with a sun whose direction and energy are known
exactly: a smooth sky plus a 2 x 2-pixel disc.  The split (the World shows
the map without the disc, a Sun lamp of strength = the disc's irradiance
carries it) must give the same light as the map alone, and less noise at
equal samples.  A pole's shadow checks the lamp's direction (with a World
rotation).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.bpy

MAP_W, MAP_H = 512, 256
SUN_COL, SUN_ROW = 330, 85  # the disc's top-left pixel
SUN_RADIANCE = np.array([9000.0, 8000.0, 6500.0], np.float32)  # map units
ROTATION = math.radians(30.0)
REF_SPP, LOW_SPP = 24, 4


def sky_maps(tmp_path: Path):
    """(full map path, sun-free map path, sun dict per the envmap contract)."""
    from singlehdr.envmap import projections as P
    from singlehdr.io import write_hdr

    dirs = P.equirect_directions(MAP_H, MAP_W)  # (H, W, 3), +Y up
    up = np.clip(dirs[..., 1], -1.0, 1.0)
    sky = np.empty((MAP_H, MAP_W, 3), np.float32)
    sky[...] = np.where(up[..., None] > 0, 0.25 + 0.15 * up[..., None] * np.array([0.6, 0.8, 1.0]), 0.08)
    full = sky.copy()
    block = (slice(SUN_ROW, SUN_ROW + 2), slice(SUN_COL, SUN_COL + 2))
    full[block] = SUN_RADIANCE
    omega = P.equirect_solid_angles(MAP_H, MAP_W)
    irradiance = ((full[block] - sky[block]) * omega[block][..., None]).sum(axis=(0, 1))
    weights = (omega[block][..., None] * (full[block] - sky[block]))
    centre = (dirs[block] * weights.mean(axis=-1, keepdims=True)).sum(axis=(0, 1))
    centre /= np.linalg.norm(centre)
    az, el = P.azimuth_elevation(centre)
    sun = {
        "direction": [float(v) for v in centre],
        "azimuth_deg": float(az),
        "elevation_deg": float(el),
        "diameter_deg": 0.53,
        "radiance_rgb": [float(v) for v in SUN_RADIANCE],
        "irradiance_rgb": [float(v) for v in irradiance],
        "confidence": 1.0,
        "method": "test: painted 2x2 disc",
    }
    full_path = write_hdr(tmp_path / "sky_full.exr", full, half=False)
    free_path = write_hdr(tmp_path / "sky_nosun.exr", sky, half=False)
    return full_path, free_path, sun


def lit_scene(bpy):
    """A white diffuse ground, a thin pole at the origin, an orthographic camera from above; Cycles, 64x36."""
    scene = bpy.context.scene
    mat = bpy.data.materials.new("white")
    tree = mat.node_tree
    tree.nodes.clear()
    diffuse = tree.nodes.new("ShaderNodeBsdfDiffuse")
    diffuse.inputs["Color"].default_value = (0.8, 0.8, 0.8, 1.0)
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    tree.links.new(diffuse.outputs["BSDF"], out.inputs["Surface"])

    def box(name, size, location):
        mesh = bpy.data.meshes.new(name)
        sx, sy, sz = (s / 2 for s in size)
        verts = [(x * sx, y * sy, z * sz) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]
        faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
        mesh.from_pydata(verts, [], faces)
        mesh.materials.append(mat)
        obj = bpy.data.objects.new(name, mesh)
        obj.location = location
        scene.collection.objects.link(obj)
        return obj

    box("ground", (40.0, 40.0, 0.02), (0.0, 0.0, -0.01))
    box("pole", (0.12, 0.12, 1.5), (0.0, 0.0, 0.75))
    cam_data = bpy.data.cameras.new("cam")
    cam_data.type = "ORTHO"
    cam_data.ortho_scale = 8.0
    cam = bpy.data.objects.new("cam", cam_data)
    cam.location = (0.0, 0.0, 10.0)
    scene.collection.objects.link(cam)
    scene.camera = cam
    r = scene.render
    r.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.use_denoising = False
    scene.cycles.seed = 7
    r.threads_mode, r.threads = "FIXED", 1
    r.resolution_x, r.resolution_y, r.resolution_percentage = 64, 36, 100
    r.image_settings.file_format = "OPEN_EXR"
    r.image_settings.color_depth = "32"
    return scene


def render(bpy, path: Path, samples: int) -> np.ndarray:
    import OpenImageIO as oiio

    scene = bpy.context.scene
    scene.cycles.samples = samples
    scene.cycles.use_adaptive_sampling = False
    scene.render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    return oiio.ImageBuf(str(path)).get_pixels(oiio.FLOAT)[..., :3]


def world_with(bpy, addon, path: Path, rotation: float, importance: int):
    image = bpy.data.images.load(str(path), check_existing=False)
    image.colorspace_settings.name = "Linear Rec.709"
    world = bpy.data.worlds.new(path.stem)
    addon.world.build_world(world, image, strength=1.0, rotation=rotation)
    # Cycles' importance map: 1024 (its automatic default, ~7 s a render on one core) for the map with the
    # sun (coarser maps under-sample the disc: 9 % dark at 24 spp with 512); 256 for the smooth sun-free sky
    world.cycles.sampling_method = "MANUAL"
    world.cycles.sample_map_resolution = importance
    bpy.context.scene.world = world
    return world


def shadow_centroid(img: np.ndarray) -> np.ndarray:
    """(row, col) centroid of the pole's shadow (pixels below 60% of the median luminance)."""
    y = img.mean(axis=2)
    mask = y < 0.6 * np.median(y)
    assert mask.sum() >= 3, "no shadow found"
    rows, cols = np.nonzero(mask)
    return np.array([rows.mean(), cols.mean()])


def test_lamp_direction_colour_and_strength_from_the_sun_contract(blender, addon):
    """Hand-checked: a sun straight overhead in the map, the light pointing down; colour * strength = irradiance."""
    world = addon.world
    d = world.blender_direction([0.0, 1.0, 0.0])
    assert tuple(round(v, 9) for v in d) == (0.0, 0.0, 1.0)
    # map centre (-Z in singlehdr) faces +X in Blender; a rotation of -90 degrees turns it to +Y
    np.testing.assert_allclose(tuple(world.blender_direction([0.0, 0.0, -1.0])), (1.0, 0.0, 0.0), atol=1e-9)
    np.testing.assert_allclose(tuple(world.blender_direction([0.0, 0.0, -1.0], math.radians(-90))), (0.0, 1.0, 0.0), atol=1e-7)
    colour, strength = world.lamp_colour_strength([2.0, 4.0, 1.0], world_strength=1.5)
    assert strength == pytest.approx(6.0) and colour == pytest.approx((0.5, 1.0, 0.25))
    bpy = blender
    sun = {"direction": [0.0, 0.0, -1.0], "irradiance_rgb": [2.0, 4.0, 1.0], "diameter_deg": 0.53}
    obj = world.set_sun_lamp(bpy.context.scene, sun, rotation=0.0)
    assert obj.data.type == "SUN" and obj.data.angle == pytest.approx(math.radians(0.53))
    assert obj.data.energy == pytest.approx(4.0) and tuple(obj.data.color) == pytest.approx((0.5, 1.0, 0.25))
    # the lamp shines along its local -Z: from +X towards -X
    shine = obj.rotation_euler.to_matrix() @ __import__("mathutils").Vector((0.0, 0.0, -1.0))
    np.testing.assert_allclose(tuple(shine), (-1.0, 0.0, 0.0), atol=1e-6)
    # a second bake updates the same lamp instead of adding another sun
    again = world.set_sun_lamp(bpy.context.scene, dict(sun, irradiance_rgb=[1.0, 1.0, 1.0]))
    assert again == obj and sum(o.type == "LIGHT" for o in bpy.context.scene.objects) == 1


def test_sun_lamp_split_conserves_energy_and_cuts_noise(blender, addon, tmp_path):
    bpy = blender
    full, free, sun = sky_maps(tmp_path)
    scene = lit_scene(bpy)

    world_with(bpy, addon, full, ROTATION, 1024)
    map_ref = render(bpy, tmp_path / "map_ref.exr", REF_SPP)
    map_low = render(bpy, tmp_path / "map_low.exr", LOW_SPP)

    world_with(bpy, addon, free, ROTATION, 256)
    sky_only = render(bpy, tmp_path / "sky_only.exr", REF_SPP)
    lamp = addon.world.set_sun_lamp(scene, sun, rotation=ROTATION)
    assert lamp.data.energy == pytest.approx(max(sun["irradiance_rgb"]))
    lamp_ref = render(bpy, tmp_path / "lamp_ref.exr", REF_SPP)
    lamp_low = render(bpy, tmp_path / "lamp_low.exr", LOW_SPP)

    # energy: the lamp + painted-out map gives the map's light within 5 % (per channel, whole frame)
    ratio = lamp_ref.mean(axis=(0, 1)) / map_ref.mean(axis=(0, 1))
    assert np.all(np.abs(ratio - 1.0) < 0.05), ratio
    # ... and the sun carries most of it: without the lamp the ground is far darker
    assert sky_only.mean() < 0.5 * map_ref.mean(), (sky_only.mean(), map_ref.mean())
    # direction: the pole's shadow falls on the same spot (within 1.5 px at 64x36)
    c_map, c_lamp = shadow_centroid(map_ref), shadow_centroid(lamp_ref)
    assert np.linalg.norm(c_map - c_lamp) < 1.5, (c_map, c_lamp)
    # the shadow is where the sun direction says (camera: 8 m wide over 64 px, looking down)
    d = addon.world.blender_direction(sun["direction"], ROTATION)
    tip = np.array([0.0, 0.0, 1.5]) - 1.5 / d.z * np.array(d)  # the shadow of the pole's top
    assert np.linalg.norm(tip[:2]) > 0.5
    # fireflies: at 4 samples the lit ground away from the shadow varies less with the lamp
    y_map, y_lamp = map_low.mean(axis=2), lamp_low.mean(axis=2)
    lit = (map_ref.mean(axis=2) > 0.8 * np.median(map_ref.mean(axis=2))) & (lamp_ref.mean(axis=2) > 0.8 * np.median(lamp_ref.mean(axis=2)))
    noise_map = np.std(y_map[lit] - map_ref.mean(axis=2)[lit])
    noise_lamp = np.std(y_lamp[lit] - lamp_ref.mean(axis=2)[lit])
    print(f"energy ratio {ratio}, noise (std vs {REF_SPP} spp) map {noise_map:.4g} lamp {noise_lamp:.4g}, "
          f"peak map {y_map.max():.4g} lamp {y_lamp.max():.4g}")
    assert noise_lamp < 0.8 * noise_map, (noise_lamp, noise_map)
    (tmp_path / "numbers.json").write_text(json.dumps({"ratio": ratio.tolist(), "noise_map": float(noise_map),
                                                       "noise_lamp": float(noise_lamp)}))
