"""World from Photo, the Blender side: the World graph, the Sun lamp and the bake job.

The job (:class:`WorldBake`) runs ``singlehdr envmap`` in a child process
(:mod:`.runner`) into a private folder and touches nothing in Blender until
it has finished: :meth:`WorldBake.apply` then moves the files into place,
loads the map, builds the World and (optionally) the Sun lamp in one go, so
the operator is one undo step and a cancelled bake leaves the scene as it was.

Sun lamp split (contract with singlehdr.envmap's sun recovery): the report's
sun has ``direction`` (singlehdr convention, +Y up, -Z forward),
``diameter_deg`` and ``irradiance_rgb`` = the integral of the disc's radiance
over its solid angle, in map units.  A Blender Sun lamp of strength E
(W/m^2) gives the irradiance E at normal incidence, exactly what a World of
strength 1 with that disc gives; so the lamp gets colour * strength =
irradiance_rgb * world strength, its angle is the disc's diameter, and the
World shows the sun-free map (``hdr_without_sun``).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy
import mathutils

from . import runner
from .convert import output_name

SUN_OBJECT = "SingleHDR Sun"


# ---------------------------------------------------------------------------
# geometry


def blender_direction(direction, rotation: float = 0.0) -> mathutils.Vector:
    """A singlehdr map direction (x, y, z) -> the Blender world direction where the World shows it.

    singlehdr -> Blender is (x, y, z) -> (-z, -x, y) (singlehdr.envmap.projections.to_blender);
    the World's Mapping node rotates the lookup vector by ``rotation`` about Z, so
    what the map holds at m appears at Rz(-rotation) m.
    """
    x, y, z = (float(v) for v in direction)
    v = mathutils.Vector((-z, -x, y))
    v.normalize()
    v.rotate(mathutils.Matrix.Rotation(-rotation, 3, "Z"))
    return v


def sun_rotation(direction_blender: mathutils.Vector) -> mathutils.Euler:
    """Euler rotation of a Sun lamp whose light comes from ``direction_blender`` (it shines along its -Z)."""
    return direction_blender.to_track_quat("Z", "Y").to_euler()


def lamp_colour_strength(irradiance_rgb, world_strength: float = 1.0) -> tuple[tuple[float, float, float], float]:
    """(colour with max 1, strength in W/m^2) with colour * strength = irradiance_rgb * world_strength."""
    rgb = [max(float(v), 0.0) * float(world_strength) for v in irradiance_rgb]
    peak = max(rgb)
    if peak <= 0:
        return (1.0, 1.0, 1.0), 0.0
    return (rgb[0] / peak, rgb[1] / peak, rgb[2] / peak), peak


def usable_sun(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The sun of an envmap report (contract keys present), else None."""
    if not report:
        return None
    for key in ("sun", "sun_injected"):
        sun = report.get(key)
        if isinstance(sun, dict):
            break
    else:
        return None
    if not all(k in sun for k in ("direction", "irradiance_rgb")):
        return None
    return sun


# ---------------------------------------------------------------------------
# the scene


def build_world(world: bpy.types.World, image: bpy.types.Image, *, strength: float, rotation: float) -> None:
    """World nodes: Texture Coordinate -> Mapping (rotation Z) -> Environment Texture -> Background -> World Output."""
    tree = world.node_tree
    nodes, links = tree.nodes, tree.links
    nodes.clear()
    coords = nodes.new("ShaderNodeTexCoord")
    coords.location = (-900, 0)
    mapping = nodes.new("ShaderNodeMapping")
    mapping.name = "SingleHDR Mapping"
    mapping.location = (-700, 0)
    mapping.inputs["Rotation"].default_value = (0.0, 0.0, rotation)
    env = nodes.new("ShaderNodeTexEnvironment")
    env.name = "SingleHDR Environment"
    env.location = (-450, 0)
    env.image = image
    env.projection = "EQUIRECTANGULAR"
    env.interpolation = "Linear"
    background = nodes.new("ShaderNodeBackground")
    background.name = "SingleHDR Background"
    background.location = (-150, 0)
    background.inputs["Strength"].default_value = strength
    output = nodes.new("ShaderNodeOutputWorld")
    output.location = (100, 0)
    links.new(coords.outputs["Generated"], mapping.inputs["Vector"])
    links.new(mapping.outputs["Vector"], env.inputs["Vector"])
    links.new(env.outputs["Color"], background.inputs["Color"])
    links.new(background.outputs["Background"], output.inputs["Surface"])


def set_sun_lamp(
    scene: bpy.types.Scene, sun: dict[str, Any], *, rotation: float = 0.0, world_strength: float = 1.0,
    world: bpy.types.World | None = None,
) -> bpy.types.Object:
    """Create or update the scene's "SingleHDR Sun" lamp from a recovered sun (following ``world`` if given)."""
    obj = scene.objects.get(SUN_OBJECT)
    if obj is None or obj.type != "LIGHT" or obj.data.type != "SUN":
        light = bpy.data.lights.new(SUN_OBJECT, "SUN")
        obj = bpy.data.objects.new(SUN_OBJECT, light)
        scene.collection.objects.link(obj)
    light = obj.data
    obj.driver_remove("rotation_euler", 2)
    light.driver_remove("energy")
    colour, strength = lamp_colour_strength(sun["irradiance_rgb"], world_strength)
    light.color = colour
    light.energy = strength
    light.angle = math.radians(float(sun.get("diameter_deg", 0.53)))
    obj.rotation_mode = "XYZ"
    obj.rotation_euler = sun_rotation(blender_direction(sun["direction"], rotation))
    obj["singlehdr_sun"] = json.dumps({k: v for k, v in sun.items() if isinstance(v, (int, float, str, list))})
    if world is not None:
        follow_world(obj, world, rotation=rotation, world_strength=world_strength)
    return obj


def follow_world(obj: bpy.types.Object, world: bpy.types.World, *, rotation: float, world_strength: float) -> None:
    """Drivers so the lamp follows the World's Rotation and Strength set later (World panel).

    The lamp's XYZ Euler applies Z last, about the world Z axis, so turning the
    World by d turns the lamp by -d about Z: rotation_euler.z = z0 - (rot - rot0).
    Its strength scales with the Background strength.  Simple expressions only
    (they run even with Python auto-execution off).
    """
    obj.driver_remove("rotation_euler", 2)
    obj.data.driver_remove("energy")
    z0 = obj.rotation_euler.z + rotation
    fc = obj.driver_add("rotation_euler", 2)
    var = fc.driver.variables.new()
    var.name, var.type = "rot", "SINGLE_PROP"
    var.targets[0].id_type, var.targets[0].id = "WORLD", world
    var.targets[0].data_path = 'node_tree.nodes["SingleHDR Mapping"].inputs["Rotation"].default_value[2]'
    fc.driver.expression = f"{z0!r} - rot"
    base = obj.data.energy / world_strength if world_strength > 0 else obj.data.energy
    fc = obj.data.driver_add("energy")
    var = fc.driver.variables.new()
    var.name, var.type = "strength", "SINGLE_PROP"
    var.targets[0].id_type, var.targets[0].id = "WORLD", world
    var.targets[0].data_path = 'node_tree.nodes["SingleHDR Background"].inputs["Strength"].default_value'
    fc.driver.expression = f"{base!r} * strength"


def remove_sun_lamp(scene: bpy.types.Scene) -> None:
    obj = scene.objects.get(SUN_OBJECT)
    if obj is not None and "singlehdr_sun" in obj:
        light = obj.data
        bpy.data.objects.remove(obj)
        if light is not None and light.users == 0:
            bpy.data.lights.remove(light)


def load_map(path: Path, colorspace_name: str, *, storage: str) -> bpy.types.Image:
    """Load an envmap EXR: float, working space, alpha channel-packed; relative path or packed."""
    image = bpy.data.images.load(str(path), check_existing=False)
    image.colorspace_settings.name = colorspace_name
    # alpha is singlehdr's reliability mask (0 = filled in): keep it, never premultiply by it
    image.alpha_mode = "CHANNEL_PACKED"
    if storage == "PACK":
        image.pack()
        image.filepath = f"//{path.name}" if bpy.data.filepath else path.name
    elif bpy.data.filepath:
        try:
            image.filepath = bpy.path.relpath(str(path))
        except ValueError:  # another drive on Windows
            pass
    return image


# ---------------------------------------------------------------------------
# the bake job


def output_folder(storage: str, directory: str) -> Path:
    """Where the finished map goes.

    RELATIVE: ``//singlehdr/`` next to the saved .blend (refused for an unsaved file);
    FOLDER: ``directory``; PACK: Blender's temp folder (the files are packed and removed).
    """
    if storage == "FOLDER":
        if not directory:
            raise runner.BakeError("choose an output folder, or store the map next to the .blend or packed")
        return Path(bpy.path.abspath(directory))
    if storage == "RELATIVE":
        if not bpy.data.filepath:
            raise runner.BakeError("save the .blend first (the map goes next to it with a // path), or choose Pack into .blend")
        return Path(bpy.data.filepath).parent / "singlehdr"
    return Path(bpy.app.tempdir or os.path.join(os.path.expanduser("~"), ".cache")) / "singlehdr"


@dataclass
class WorldBake(runner.PrivateFolderJob):
    """One World-from-Photo bake: start() -> poll() until not running -> apply(context) or cancel()."""

    source: Path
    python: str
    storage: str = "RELATIVE"  # RELATIVE | PACK | FOLDER
    directory: str = ""
    kind: str = "auto"
    width: int = 1024
    method: str = "singlehdr"
    model: str = ""
    device: str = "auto"
    exposure: str = "relative"
    fov: float = 0.0
    sun: str = "LAMP"  # LAMP | MAP | NONE
    strength: float = 1.0
    rotation: float = 0.0
    colorspace_name: str = "Linear Rec.709"
    colorspace_key: str = "lin_rec709"
    # exposure brackets of one scene (``singlehdr envmap --brackets``; source = the first) and their
    # exposure values ("-2,0,2"; empty = from EXIF); a RAW / DNG source needs neither
    brackets: list[Path] = field(default_factory=list)
    ev: str = ""
    run: runner.ChildRun | None = None
    folder: Path | None = None
    private: Path | None = None
    split_supported: bool = False
    messages: list[str] = field(default_factory=list)

    def start(self) -> "WorldBake":
        """Check the interpreter and start the child (raises BakeError with the fix)."""
        for photo in self.brackets or [self.source]:
            if not photo.is_file():
                raise runner.BakeError(f"no such photo: {photo}")
        if self.method == "singlehdr" and self.model and not Path(self.model).is_file():
            raise runner.BakeError(f"the model file {self.model} does not exist; fix Preferences > Add-ons > SingleHDR > Model "
                                   "(empty = the model shipped with singlehdr)")
        self.folder = output_folder(self.storage, self.directory)
        help_text = runner.cli_help(self.python, "envmap")
        sun_flag = runner.has_flag(help_text, "--sun")
        self.split_supported = sun_flag and runner.has_flag(help_text, runner.WITHOUT_SUN_FLAG)
        sun_mode = None
        if sun_flag:
            sun_mode = "off" if self.sun == "NONE" else "auto"
        elif self.sun == "LAMP":
            self.messages.append("this singlehdr has no sun recovery yet: the sun stays in the map (no Sun lamp)")
        if self.sun == "LAMP" and sun_flag and not self.split_supported:
            self.messages.append(f"this singlehdr cannot write the sun-free map ({runner.WITHOUT_SUN_FLAG}): "
                                 "the sun stays in the map (no Sun lamp)")
        self.private = runner.private_folder(self.folder)
        name = output_name(self.source.stem)
        argv = runner.envmap_argv(
            self.python, str(self.source), str(self.private / name), str(self.private / "report.json"),
            kind=self.kind, width=self.width, method=self.method, model=self.model, device=self.device,
            exposure=self.exposure, colorspace=self.colorspace_key, fov=self.fov, sun=sun_mode,
            without_sun=str(self.private / name.replace(".exr", "_nosun.exr"))
            if (self.sun == "LAMP" and self.split_supported) else None,
            brackets=[str(p) for p in self.brackets], ev=self.ev,
        )
        expected = 3.0 + (self.width / 1024) ** 2 * (20.0 if self.method == "singlehdr" else 2.0)
        self.run = runner.ChildRun([argv], expected_s=expected).start()
        return self

    def apply(self, context) -> tuple[bpy.types.World, bpy.types.Object | None, Path]:
        """Move the files into place and build the World (+ Sun lamp).  Only after a successful run."""
        assert self.run is not None and self.run.state == "done" and self.private is not None and self.folder is not None
        try:
            name = output_name(self.source.stem)
            report = json.loads((self.private / "report.json").read_text(encoding="utf-8"))
            sun = usable_sun(report) if self.sun == "LAMP" else None
            nosun_tmp = self.private / name.replace(".exr", "_nosun.exr")
            split = sun is not None and nosun_tmp.is_file()
            final = runner.free_path(self.folder, name)
            runner.move_into_place(self.private / name, final)
            shown = final
            if split:
                shown = runner.move_into_place(nosun_tmp, final.with_name(final.stem + "_nosun.exr"))
            report_path = runner.move_into_place(self.private / "report.json", final.with_suffix(".json"))
            image = load_map(shown, self.colorspace_name, storage=self.storage)
            if self.storage == "PACK":
                for p in (final, shown, report_path):
                    p.unlink(missing_ok=True)
        finally:
            runner.remove_private(self.private)
        scene = context.scene
        world = bpy.data.worlds.new(f"SingleHDR {self.source.stem}")
        build_world(world, image, strength=self.strength, rotation=self.rotation)
        world["singlehdr_source"] = str(self.source)
        world["singlehdr_exr"] = str(final)
        world["singlehdr_report"] = json.dumps(report.get("dominant_light", {}))
        scene.world = world
        lamp = None
        if split:
            lamp = set_sun_lamp(scene, sun, rotation=self.rotation, world_strength=self.strength, world=world)
            world["singlehdr_sun"] = json.dumps(sun)
        else:
            remove_sun_lamp(scene)  # a lamp from an earlier bake would light the new World twice
            if self.sun == "LAMP" and sun is None and not self.messages:
                self.messages.append("no sun found in the photo: no Sun lamp added")
        return world, lamp, final
