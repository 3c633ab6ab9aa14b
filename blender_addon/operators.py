"""Operators: one per action.

- ``singlehdr.bake_hdr``: a SingleHDR node's source -> linear HDR.  Plates
  (image sequences, movie clips) and photo files run ``singlehdr reconstruct``
  in a child process (modal, Esc cancels; plates into an EXR cache the node
  shows); images that exist only in memory are reconstructed in Blender's
  Python with ``singlehdr.reconstruct``.
- ``singlehdr.world_from_photo``: photo / 360 panorama / chrome ball ->
  ``singlehdr envmap`` in a child process -> EXR on disk (or packed) ->
  World with an Environment Texture, and the recovered sun as a Sun lamp.

No step of singlehdr is re-implemented here; see runner.py, world.py, plates.py.
"""

from __future__ import annotations

import json
import traceback
from pathlib import Path

import bpy
from bpy_extras.io_utils import ImportHelper

from .convert import EXPOSURE_ITEMS, KIND_ITEMS, METHOD_ITEMS, make_options, working_space_key
from .prefs import settings

PHOTO_GLOB = "*.jpg;*.jpeg;*.png;*.tif;*.tiff;*.webp;*.heic;*.heif"
# Camera RAW / DNG: singlehdr's RAW_EXTENSIONS (core/singlehdr/io/raw.py; a test keeps the two equal).
# World from Photo passes them to the CLI, which reads them with rawpy; Blender itself cannot load them.
RAW_EXTENSIONS = (".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf", ".rw2",
                  ".pef", ".srw", ".x3f", ".3fr", ".iiq", ".erf", ".kdc", ".mef", ".mos", ".mrw", ".raw", ".rwl")
WORLD_GLOB = PHOTO_GLOB + "".join(f";*{ext}" for ext in RAW_EXTENSIONS)


def _user_error(exc: BaseException) -> str | None:
    """The one-line message of an error the user can fix, else None."""
    from .runner import BakeError

    if isinstance(exc, BakeError):
        return str(exc)
    try:
        from singlehdr.errors import SingleHDRError
    except ImportError:
        return "singlehdr is not installed in Blender's Python: run install/blender.sh (see the add-on README)"
    if isinstance(exc, SingleHDRError):
        return str(exc)
    if isinstance(exc, ImportError):
        return f"a package singlehdr needs is missing in Blender's Python ({exc}); run install/blender.sh"
    return None


def _report_failure(op, exc: BaseException) -> set[str]:
    """Report a failure in the UI (a user error as its one line; a bug with a traceback on the console); CANCELLED."""
    message = _user_error(exc)
    if message is None:
        traceback.print_exc()
        message = f"SingleHDR failed unexpectedly ({type(exc).__name__}: {exc}); see the system console"
    op.report({"ERROR"}, message)
    return {"CANCELLED"}


def _run_reporting(op: bpy.types.Operator, context, work) -> set[str]:
    """Run ``work(progress)`` with a progress bar; errors become reports."""
    wm = context.window_manager
    wm.progress_begin(0, 100)
    try:
        work(lambda pct: wm.progress_update(int(pct)))
    except Exception as exc:  # every failure is reported in the UI, bugs with a traceback
        return _report_failure(op, exc)
    finally:
        wm.progress_end()
    return {"FINISHED"}


def _photo_file(image) -> Path | None:
    """The 8-bit sRGB photo file behind a Blender image, when singlehdr can read that file as Blender shows it.

    Only unpacked, unmodified byte images from a file, tagged sRGB; anything else
    (generated, packed, edited, float, other colour spaces) is baked from Blender's pixels.
    """
    if image.source != "FILE" or image.packed_file is not None or image.is_dirty or image.is_float:
        return None
    if image.colorspace_settings.name != "sRGB" or not image.filepath:
        return None
    path = Path(bpy.path.abspath(image.filepath))
    return path if path.is_file() and path.suffix.lower() in PHOTO_GLOB.replace("*", "").split(";") else None


def _provenance(metadata: dict) -> str:
    plain = {k: v for k, v in metadata.items() if isinstance(v, (str, int, float, bool))}
    return json.dumps(plain, sort_keys=True)


SUN_ITEMS = (
    ("LAMP", "Sun lamp", "Recover the sun and light it with a Sun lamp (crisp shadows, no fireflies); "
     "the World shows the map with the sun painted out"),
    ("MAP", "In the map", "Recover the sun and keep it in the World texture"),
    ("NONE", "No sun", "Do not recover a sun (overcast skies, interiors)"),
)
STORAGE_ITEMS = (
    ("AUTO", "Auto", "Next to the .blend (// path) when it is saved, else packed"),
    ("RELATIVE", "Next to .blend", "Write the map to //singlehdr/ beside the .blend and use a relative path"),
    ("PACK", "Pack into .blend", "Pack the map into the .blend (no file on disk)"),
)


def build_world(world, image, *, strength: float, rotation: float) -> None:
    """World nodes (see world.build_world)."""
    from .world import build_world as _build

    _build(world, image, strength=strength, rotation=rotation)


class _ModalBake:
    """Runs a bake job (start/poll/progress/cancel) without blocking Blender.

    With a window: a timer polls the child; the status bar shows progress;
    Esc cancels (the job removes its private files; nothing in the scene has
    changed).  Without a window (background, scripts) or with ``blocking``:
    waits for the child.  The scene is changed only in ``_apply`` after a
    successful run, so the whole action is one undo step.
    """

    _job = None
    _timer = None
    _label = "SingleHDR"

    def _run_job(self, context, job) -> set[str]:
        wm = context.window_manager
        self._job = job
        if bpy.app.background or context.window is None or getattr(self, "blocking", False):
            job_state = job.run.wait() if job.run is not None else "failed"
            return self._end(context, job_state)
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.modal_handler_add(self)
        wm.progress_begin(0, 100)
        self._status(context)
        return {"RUNNING_MODAL"}

    def _status(self, context) -> None:
        job = self._job
        pct = int(100 * job.progress())
        text = f"{self._label}: {pct}% ({job.run.elapsed:.0f} s) - Esc to cancel"
        if context.workspace is not None:
            context.workspace.status_text_set(text)
        context.window_manager.progress_update(pct)

    def _cleanup(self, context) -> None:
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
            wm.progress_end()
            if context.workspace is not None:
                context.workspace.status_text_set(None)

    def modal(self, context, event):
        if event.type == "ESC" and event.value == "PRESS":
            self._job.cancel()
            self._cleanup(context)
            self.report({"WARNING"}, f"{self._label} cancelled: nothing was changed")
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        state = self._job.poll()
        if state == "running":
            self._status(context)
            return {"PASS_THROUGH"}
        self._cleanup(context)
        return self._end(context, state)

    def cancel(self, context):  # Blender calls this when it ends the modal operator itself (file closed ...)
        if self._job is not None:
            self._job.cancel()
        self._cleanup(context)

    def _end(self, context, state: str) -> set[str]:
        job = self._job
        if state == "cancelled":
            job.cancel()
            self.report({"WARNING"}, f"{self._label} cancelled: nothing was changed")
            return {"CANCELLED"}
        if state != "done":
            job.cancel()
            self.report({"ERROR"}, job.run.error if job.run is not None and job.run.error else f"{self._label} failed")
            return {"CANCELLED"}
        try:
            return self._apply(context)
        except Exception as exc:  # noqa: BLE001 - every failure is reported in the UI
            return _report_failure(self, exc)


class SINGLEHDR_OT_bake_hdr(_ModalBake, bpy.types.Operator):
    """Reconstruct the node's source (a photo, an image sequence or a movie) as linear HDR; Esc cancels a plate"""

    bl_idname = "singlehdr.bake_hdr"
    bl_label = "Bake HDR"
    bl_options = {"REGISTER", "UNDO"}

    tree_name: bpy.props.StringProperty(name="Node tree", options={"HIDDEN", "SKIP_SAVE"})
    node_name: bpy.props.StringProperty(name="Node", options={"HIDDEN", "SKIP_SAVE"})
    blocking: bpy.props.BoolProperty(name="Wait", default=False, options={"HIDDEN", "SKIP_SAVE"})

    def _node(self, context):
        from .nodes import NODE_IDNAME

        if self.tree_name:
            tree = bpy.data.node_groups.get(self.tree_name)
            node = tree.nodes.get(self.node_name) if tree is not None else None
        else:
            node = getattr(context, "active_node", None)
        return node if node is not None and node.bl_idname == NODE_IDNAME else None

    def execute(self, context):
        node = self._node(context)
        if node is None:
            self.report({"ERROR"}, "select a SingleHDR Reconstruct node in the compositor first")
            return {"CANCELLED"}
        clip, source = node.source_clip, node.source_image
        if source is None and clip is None:
            self.report({"ERROR"}, "choose a source image, sequence or movie clip on the SingleHDR node first")
            return {"CANCELLED"}
        if clip is not None or source.source in ("SEQUENCE", "MOVIE"):
            return self._start_plate(context, node)
        if _photo_file(source) is not None:
            return self._start_still(context, node, source)
        return self._bake_still(context, node, source)

    # -- a photo file: a child process, modal ------------------------------------------

    def _start_still(self, context, node, source):
        from .plates import StillBake
        from .prefs import python_setting
        from .runner import find_python, private_folder

        try:
            model_path, device = settings(context)
            job = StillBake(
                source=_photo_file(source), private=private_folder(Path(bpy.app.tempdir or ".") / "singlehdr"),
                python=find_python(python_setting(context)), method=node.method, model=model_path, device=device,
                input_kind=node.input_kind, colorspace_key=working_space_key(bpy.data.colorspace.working_space),
            ).start()
        except Exception as exc:  # noqa: BLE001
            return _report_failure(self, exc)
        self._label = f"SingleHDR {source.name}"
        self._node_ref = (node.id_data.name, node.name)
        self._source_name = source.name
        return self._run_job(context, job)

    # -- plates: a child process, modal, cached ----------------------------------------

    def _start_plate(self, context, node):
        from .nodes import plate_cache_folder
        from .plates import PlateBake
        from .prefs import python_setting
        from .runner import find_python

        try:
            model_path, device = settings(context)
            colorspace_name = bpy.data.colorspace.working_space
            clip, image = node.source_clip, node.source_image
            data = clip if clip is not None else image
            kind = "MOVIE" if clip is not None or image.source == "MOVIE" else "SEQUENCE"
            source_path = Path(bpy.path.abspath(data.filepath))
            job = PlateBake(
                source=source_path, kind=kind,
                cache=plate_cache_folder(node, str(source_path), model_path), python=find_python(python_setting(context)),
                name=Path(bpy.path.abspath(data.filepath)).stem.rstrip("0123456789._-") or data.name,
                movie_frames=int(data.frame_duration) if kind == "MOVIE" else 0,
                method=node.method, model=model_path, device=device, input_kind=node.input_kind,
                colorspace_key=working_space_key(colorspace_name),
            ).start()
        except Exception as exc:  # noqa: BLE001
            return _report_failure(self, exc)
        self._label = f"SingleHDR plate {job.source.name} ({len(job.todo)} of {len(job.frames)} frames to bake)"
        self._node_ref = (node.id_data.name, node.name)
        return self._run_job(context, job)

    def _apply(self, context) -> set[str]:
        from .nodes import set_baked_sequence
        from .plates import StillBake

        job = self._job
        if isinstance(job, StillBake):
            return self._apply_still(context)
        missing = job.missing()
        if missing:
            self.report({"ERROR"}, f"singlehdr finished but {len(missing)} frames are missing from the cache (first: {missing[0]})")
            return {"CANCELLED"}
        tree = bpy.data.node_groups.get(self._node_ref[0])
        node = tree.nodes.get(self._node_ref[1]) if tree is not None else None
        if node is None:
            self.report({"ERROR"}, "the SingleHDR node was deleted while baking; the frames stay in the cache")
            return {"CANCELLED"}
        set_baked_sequence(node, job.output.path(job.frames[0]), job.frames, bpy.data.colorspace.working_space)
        node.baked_info = f"{node.method}: {len(job.frames)} frames" + (", one camera response per shot" if job.shot_locked else "")
        self.report({"INFO"}, f"baked {len(job.todo)} frames ({len(job.frames) - len(job.todo)} from the cache) into {job.cache}")
        return {"FINISHED"}

    def _apply_still(self, context) -> set[str]:
        from .blender_io import read_pixels, write_float_image
        from .runner import remove_private

        job = self._job
        tree = bpy.data.node_groups.get(self._node_ref[0])
        node = tree.nodes.get(self._node_ref[1]) if tree is not None else None
        try:
            if node is None:
                self.report({"ERROR"}, "the SingleHDR node was deleted while baking")
                return {"CANCELLED"}
            colorspace_name = bpy.data.colorspace.working_space
            loaded = bpy.data.images.load(str(job.output), check_existing=False)
            loaded.colorspace_settings.name = colorspace_name
            hdr = read_pixels(loaded)[..., :3]
            bpy.data.images.remove(loaded)
        finally:
            remove_private(job.private)
        image = write_float_image(f"{self._source_name} HDR", hdr, colorspace_name, existing=node.baked_image)
        image["singlehdr"] = json.dumps({"method": node.method, "via": "singlehdr reconstruct (child process)"})
        node.set_baked_image(image)
        node.baked_colorspace = colorspace_name
        node.baked_info = f"{node.method} (singlehdr CLI)"
        self.report({"INFO"}, f"baked {image.name} ({image.size[0]}x{image.size[1]}, peak {float(hdr.max()):.3g})")
        return {"FINISHED"}

    # -- an image in memory: in Blender's Python (needs singlehdr there) -----------------

    def _bake_still(self, context, node, source):
        model_path, device = settings(context)

        def work(progress):
            import singlehdr

            from .blender_io import read_ldr, write_float_image

            colorspace_name = bpy.data.colorspace.working_space
            options = make_options(
                node.method,
                model_path=model_path,
                device=device,
                input_kind=node.input_kind,
                colorspace=working_space_key(colorspace_name),
            )
            ldr = read_ldr(source)
            progress(10)
            result = singlehdr.reconstruct(ldr, options)
            progress(90)
            image = write_float_image(f"{source.name} HDR", result.hdr_linear, colorspace_name, existing=node.baked_image)
            image["singlehdr"] = _provenance(result.metadata)
            node.set_baked_image(image)
            node.baked_colorspace = colorspace_name
            node.baked_info = str(result.metadata.get("model_id", node.method))
            progress(100)
            self.report({"INFO"}, f"baked {image.name} ({image.size[0]}x{image.size[1]}, peak {float(result.hdr_linear.max()):.3g})")

        return _run_reporting(self, context, work)


class SINGLEHDR_OT_world_from_photo(_ModalBake, bpy.types.Operator, ImportHelper):
    """Make the scene's World from one photo, 360 panorama or chrome-ball shot, from exposure brackets of one scene \
(select several files) or from a camera RAW / DNG (reconstructed to linear HDR); Esc cancels"""

    bl_idname = "singlehdr.world_from_photo"
    bl_label = "Create World from Photo"
    bl_options = {"REGISTER", "UNDO"}

    filter_glob: bpy.props.StringProperty(default=WORLD_GLOB, options={"HIDDEN"})
    # the file browser's multi-selection: two or more files = exposure brackets of one scene
    files: bpy.props.CollectionProperty(type=bpy.types.OperatorFileListElement, options={"HIDDEN", "SKIP_SAVE"})
    directory: bpy.props.StringProperty(subtype="DIR_PATH", options={"HIDDEN", "SKIP_SAVE"})
    ev: bpy.props.StringProperty(
        name="EV list",
        description="Brackets: the exposure value of each selected file in stops, in file-name order "
        "(e.g. -2,0,2); empty = from the photos' EXIF (exposure time, f-number, ISO)",
        default="",
    )
    kind: bpy.props.EnumProperty(name="Input", items=KIND_ITEMS, default="auto")
    method: bpy.props.EnumProperty(name="Method", items=METHOD_ITEMS, default="singlehdr")
    exposure: bpy.props.EnumProperty(name="Exposure", items=EXPOSURE_ITEMS, default="relative")
    sun: bpy.props.EnumProperty(name="Sun", items=SUN_ITEMS, default="LAMP")
    strength: bpy.props.FloatProperty(name="Strength", default=1.0, min=0.0, soft_max=10.0)
    width: bpy.props.IntProperty(
        name="Width", description="Width of the equirectangular map in pixels (height = width / 2)",
        default=2048, min=16, soft_max=8192, step=256,
    )
    fov: bpy.props.FloatProperty(
        name="Field of view",
        description="Horizontal field of view of an ordinary photo in degrees; 0 = from the photo's EXIF",
        default=0.0, min=0.0, max=179.0,
    )
    rotation: bpy.props.FloatProperty(
        name="Rotation",
        description="Rotation of the map about Z; 0 = Blender's convention (map centre faces +X), -90 degrees = centre faces +Y",
        default=0.0,
        subtype="ANGLE",
    )
    storage: bpy.props.EnumProperty(name="Store map", items=STORAGE_ITEMS, default="AUTO")
    directory_out: bpy.props.StringProperty(
        name="Output folder",
        description="Write the map to this folder instead (absolute path); empty = as 'Store map' says",
        subtype="DIR_PATH",
        default="",
    )
    blocking: bpy.props.BoolProperty(
        name="Wait", description="Wait for the bake (scripts); the UI otherwise stays live", default=False,
        options={"HIDDEN", "SKIP_SAVE"},
    )

    def draw(self, context):
        layout = self.layout
        for prop in ("kind", "method", "exposure", "sun", "strength", "width", "fov", "rotation", "storage", "directory_out",
                     "ev"):
            layout.prop(self, prop)

    def photo_paths(self) -> list[Path]:
        """The chosen files: the multi-selection (``directory`` + ``files``, in file-name order), else ``filepath``."""
        names = sorted({f.name for f in self.files if f.name})
        if self.directory and names:
            folder = Path(bpy.path.abspath(self.directory))
            return [folder / name for name in names]
        return [Path(bpy.path.abspath(self.filepath))]

    def make_job(self, context):
        from .prefs import python_setting
        from .runner import find_python
        from .world import WorldBake

        model_path, device = settings(context)
        colorspace_name = bpy.data.colorspace.working_space
        storage = "FOLDER" if self.directory_out else self.storage
        if storage == "AUTO":
            storage = "RELATIVE" if bpy.data.filepath else "PACK"
        photos = self.photo_paths()
        return WorldBake(
            source=photos[0], brackets=photos if len(photos) > 1 else [], ev=self.ev,
            python=find_python(python_setting(context)),
            storage=storage, directory=self.directory_out, kind=self.kind, width=self.width - self.width % 2,
            method=self.method, model=model_path, device=device, exposure=self.exposure, fov=self.fov, sun=self.sun,
            strength=self.strength, rotation=self.rotation, colorspace_name=colorspace_name,
            colorspace_key=working_space_key(colorspace_name),
        )

    def execute(self, context):
        photos = self.photo_paths()
        self._label = f"SingleHDR world from {photos[0].name}" + (f" (+{len(photos) - 1} brackets)" if len(photos) > 1 else "")
        try:
            job = self.make_job(context).start()
        except Exception as exc:  # noqa: BLE001
            return _report_failure(self, exc)
        return self._run_job(context, job)

    def _apply(self, context) -> set[str]:
        world, lamp, path = self._job.apply(context)
        for message in self._job.messages:
            self.report({"WARNING"}, message)
        extra = f", Sun lamp {lamp.data.energy:.4g} W/m^2" if lamp is not None else ""
        self.report({"INFO"}, f"world from {self._job.source.name}: {path}{extra}")
        return {"FINISHED"}


def _import_menu(self, context):
    self.layout.operator(SINGLEHDR_OT_world_from_photo.bl_idname, text="Photo as HDR World (SingleHDR)")


classes = (SINGLEHDR_OT_bake_hdr, SINGLEHDR_OT_world_from_photo)


def register():
    for cls in classes:
        bpy.utils.register_class(cls)
    bpy.types.TOPBAR_MT_file_import.append(_import_menu)


def unregister():
    bpy.types.TOPBAR_MT_file_import.remove(_import_menu)
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)
