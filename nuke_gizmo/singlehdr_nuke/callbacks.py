"""Knob callbacks of the SingleHDR gizmo (imported when a button is pressed).

The result is part of the script.  The gizmo's internal Read is driven by
the gizmo's own knobs through expressions written in SingleHDR.gizmo
(file = the evaluated 'output file', first/last = 'baked_first'/'baked_last',
colour space set from 'output colour space' by onCreate), so a script saved,
reopened or rendered with ``nuke -x`` reads the same EXRs; nothing here
changes a knob *inside* the gizmo that a saved script would lose.

Two modes (knob 'mode'): HDR image runs ``singlehdr reconstruct`` (one run
per view for all frames); Environment map runs ``singlehdr envmap`` (one run
per frame and view: the map of each frame, optionally the sun-free map and
the JSON report beside it, whose sun is shown in the read-only 'sun' knob).

Reconstruct (main thread): read the knobs with evaluate() (TCL expanded),
work out the input per view (the upstream Read's own photo file, a file, or
frames rendered by a temporary Write with proxy mode off), then run
``python -m singlehdr.cli reconstruct`` on a worker thread with a
ProgressTask (Cancel stops it; frames finished so far are kept), and
update the node on the main thread (nuke.executeInMainThread).  Without a
GUI (``nuke -x``/``-t``) the same runs synchronously.  Errors are one line,
on the node's status and in a message (or a RuntimeError without a GUI).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import nuke

from .runner import (
    MODE_ENVMAP,
    Cancelled,
    NodeError,
    Settings,
    build_argv,
    build_envmap_argv,
    check_envmap_settings,
    frame_path,
    has_frame_pattern,
    is_direct_input,
    pick_srgb_colorspace,
    resolve_python,
    run_cli,
    sidecar_paths,
    singlehdr_colorspace,
    split_brackets,
    sun_summary,
    writable_colorspaces,
)

# Knob names of SingleHDR.gizmo (artist-facing labels live in the gizmo).
K_SOURCE = "source"
K_INPUT_FILE = "input_file"
K_METHOD = "method"
K_MODEL = "model_path"
K_EXPOSURE = "exposure_mode"
K_TARGET = "exposure_target"
K_COLORSPACE = "output_colorspace"
K_COLORSPACE_MENU = "colorspace_menu"
K_DEVICE = "device"
K_PYTHON = "python"
K_OUTPUT = "output_file"
K_FIRST = "range_first"
K_LAST = "range_last"
K_BAKE_ON_RENDER = "bake_on_render"
K_BAKED_FIRST = "baked_first"
K_BAKED_LAST = "baked_last"
K_STATUS = "status"
K_MODE = "mode"
K_ENVMAP_KIND = "envmap_kind"
K_WIDTH = "envmap_width"
K_SUN = "sun"
K_SUN_INTENSITY = "sun_intensity"
K_FOV = "fov"
K_PHOTO_VIEW = "photo_view"
K_YAW = "yaw"
K_PITCH = "pitch"
K_SPLIT_SUN = "split_sun"
K_SUN_INFO = "sun_info"
K_BRACKETS = "brackets"
K_EV = "ev_list"
ENVMAP_KNOBS = ("div_envmap", K_ENVMAP_KIND, K_WIDTH, K_SUN, K_SUN_INTENSITY, K_FOV, K_PHOTO_VIEW, K_YAW, K_PITCH,
                K_SPLIT_SUN, K_SUN_INFO)
INTERNAL_READ = "SingleHDR_Read"
WORKING_SPACE_ITEM = "(working space)"
GIZMO_CLASS = "SingleHDR"
_IN_RENDER = [False]  # True while bake_missing runs inside a render (beforeRender)


# ------------------------------------------------------------------ knobs


def _text(node: nuke.Node, name: str) -> str:
    """A knob's value as text (pulldowns: the item; strings: as typed)."""
    value = node[name].value()
    return "" if value is None else str(value)


def _evaluated(node: nuke.Node, name: str) -> str:
    """A string/file knob with its TCL expanded (``[getenv X]``, ``[value root.name]``)."""
    knob = node[name]
    evaluate = getattr(knob, "evaluate", None)
    value = evaluate() if callable(evaluate) else knob.value()
    return "" if value is None else str(value)


def set_status(node: nuke.Node, text: str) -> None:
    knob = node.knob(K_STATUS)
    if knob is not None:
        knob.setValue(text)


def report_error(node: Optional[nuke.Node], message: str) -> None:
    """Show a one-line error: status line + dialog in the GUI, RuntimeError otherwise."""
    if node is not None:
        set_status(node, f"error: {message}")
    if nuke.GUI:
        nuke.message(f"SingleHDR: {message}")
    else:
        raise RuntimeError(f"SingleHDR: {message}")


def view_number(oc: Any, view: str) -> int:
    for n in range(int(oc.viewcount())):
        if oc.viewname(n) == view:
            return n
    raise NodeError(f"the script has no view named {view!r}")


def output_context(frame: int, view: str) -> Any:
    oc = nuke.OutputContext()
    oc.setFrame(int(frame))
    oc.setView(view_number(oc, view))
    return oc


def evaluated_pattern(knob: Any, frame: int, view: str) -> str:
    """A File knob's path for one view with TCL expanded and its frame pattern kept.

    File knobs give either the text as typed (value(), '####' as '%04d',
    TCL not expanded) or a fully substituted path (getEvaluatedValue for a
    frame and view).  The pattern is recovered from the paths at ``frame``
    and ``frame + 1``: the frame number's place is where they differ, and
    the result is checked against both.
    """
    raw = str(knob.value())
    at = str(knob.getEvaluatedValue(output_context(frame, view)))
    if not has_frame_pattern(raw):
        return at
    nxt = str(knob.getEvaluatedValue(output_context(frame + 1, view)))
    m = list(re.finditer(r"%(0?)(\d*)d", raw))[-1]
    width = int(m.group(2)) if m.group(2) else 1
    token = f"{frame:0{width}d}"
    spec = f"%0{width}d" if width > 1 else "%d"
    for start in [i.start() for i in re.finditer(re.escape(token), at)][::-1]:
        candidate = at[:start] + spec + at[start + len(token):]
        if frame_path(candidate, frame) == at and frame_path(candidate, frame + 1) == nxt:
            return candidate
    raise NodeError(f"cannot find the frame number in {raw}; use #### or %04d once in the file name")


def script_views() -> List[str]:
    views = list(nuke.views()) if hasattr(nuke, "views") else ["main"]
    return views or ["main"]


def working_space() -> str:
    knob = nuke.root().knob("workingSpaceLUT")
    return str(knob.value()) if knob is not None else "linear"


def config_colorspaces() -> List[str]:
    """The colour spaces of the script's colour config ('Family/Name' items as Nuke lists them)."""
    knob = nuke.root().knob("workingSpaceLUT")
    values = getattr(knob, "values", None)
    return [str(v) for v in values()] if callable(values) else []


def output_colorspace(node: nuke.Node) -> Tuple[str, str]:
    """(the config's colour-space name the EXRs are in, singlehdr's --colorspace)."""
    name = _evaluated(node, K_COLORSPACE).strip() or working_space()
    cs = singlehdr_colorspace(name)
    if cs is None:
        choices = ", ".join(writable_colorspaces(config_colorspaces())) or "none in this config"
        raise NodeError(
            f"output colour space {name!r} is not one singlehdr writes (linear Rec.709, ACEScg, ACES2065-1 or "
            f"linear Rec.2020); choose one of: {choices}"
        )
    return name.split("/")[-1], cs


def settings_from_node(node: nuke.Node, colorspace: str) -> Settings:
    """Read the node's knobs into a :class:`Settings` (TCL expanded)."""
    photo_view = bool(node[K_PHOTO_VIEW].value())
    return Settings(
        method=_text(node, K_METHOD),
        model=_evaluated(node, K_MODEL),
        exposure=_text(node, K_EXPOSURE),
        exposure_target=float(node[K_TARGET].value()),
        colorspace=colorspace,
        device=_text(node, K_DEVICE),
        python=_evaluated(node, K_PYTHON),
        output=_text(node, K_OUTPUT),
        mode=_text(node, K_MODE),
        envmap_kind=_text(node, K_ENVMAP_KIND),
        width=int(node[K_WIDTH].value()),
        sun=_text(node, K_SUN),
        sun_intensity=float(node[K_SUN_INTENSITY].value()),
        fov=float(node[K_FOV].value()),
        yaw=float(node[K_YAW].value()) if photo_view else None,
        pitch=float(node[K_PITCH].value()) if photo_view else None,
        split_sun=bool(node[K_SPLIT_SUN].value()),
        brackets=split_brackets(_evaluated(node, K_BRACKETS)),
        ev=_text(node, K_EV),
    )


def is_envmap(node: nuke.Node) -> bool:
    return _text(node, K_MODE) == MODE_ENVMAP


def sync_internal_read(node: nuke.Node) -> None:
    """The internal Read reads the EXRs in the output colour space (set from
    the gizmo's knob by onCreate, so it survives save/reopen)."""
    read = node.node(INTERNAL_READ) if isinstance(node, nuke.Group) else None
    if read is None:
        return
    try:
        name, _ = output_colorspace(node)
    except NodeError:
        return
    cs = read.knob("colorspace")
    if cs is not None:
        try:
            cs.setValue(name)
        except ValueError:  # not in this config's menu: leave Nuke's default
            pass


# ------------------------------------------------------------------ inputs


def _upstream_read_file(upstream: nuke.Node) -> Optional[nuke.Node]:
    """The upstream node when it is a Read of a photo singlehdr reads directly."""
    if upstream.Class() != "Read":
        return None
    path = str(upstream["file"].value())
    return upstream if path and is_direct_input(path) else None


def _runs(frames: Sequence[int]) -> List[Tuple[int, int]]:
    """Contiguous (first, last) runs of sorted frame numbers."""
    runs: List[Tuple[int, int]] = []
    for f in sorted(set(frames)):
        if runs and f == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], f)
        else:
            runs.append((f, f))
    return runs


def render_upstream(node: nuke.Node, upstream: nuke.Node, frames: Sequence[int], views: Sequence[str], workdir: str) -> str:
    """Render the upstream image to 16-bit sRGB PNGs with a temporary Write.

    The Write sits beside the gizmo, converts the working space to sRGB
    through its colorspace knob (found in the script's config), writes
    ``input.%V.####.png`` (one file per view and frame) with nuke.execute
    over each contiguous run of frames, at full resolution: proxy mode is
    switched off for the render and restored.  Returns the Write's pattern.
    """
    pattern = os.path.join(workdir, "input.%V.####.png").replace("\\", "/")
    parent = node.parent()
    parent.begin()
    write = None
    root = nuke.root()
    proxy_knob = root.knob("proxy")
    proxy_was = bool(proxy_knob.value()) if proxy_knob is not None else False
    try:
        write = nuke.nodes.Write(file=pattern, file_type="png", channels="rgb")
        write.setInput(0, upstream)
        write["datatype"].setValue("16 bit")
        cs_knob = write.knob("colorspace")
        choice = pick_srgb_colorspace(list(getattr(cs_knob, "values")())) if cs_knob is not None else None
        if cs_knob is None or choice is None:
            raise NodeError(
                "this colour configuration has no sRGB output colour space for the temporary Write; "
                "connect a Read of the original photo or set input to 'file'"
            )
        cs_knob.setValue(choice)
        if proxy_was and proxy_knob is not None:
            proxy_knob.setValue(False)  # singlehdr needs the full-resolution frames
        for first, last in _runs(frames):
            try:
                nuke.execute(write, first, last, 1, views=list(views))
            except RuntimeError as exc:  # Nuke's render error or Cancel in its progress window
                text = " ".join(str(exc).split()) or "render failed"
                if "cancel" in text.lower():
                    raise Cancelled("cancelled while rendering the input; nothing was reconstructed") from None
                raise NodeError(f"rendering the input failed: {text}") from None
    finally:
        if proxy_was and proxy_knob is not None:
            proxy_knob.setValue(True)
        if write is not None:
            nuke.delete(write)
        parent.end()
    return pattern


def input_patterns(node: nuke.Node, frames: Sequence[int], views: Sequence[str], workdir: str) -> Tuple[Dict[str, str], bool]:
    """({view: file or frame pattern singlehdr reads}, whether a sequence)."""
    source = _text(node, K_SOURCE)
    first = min(frames)
    if source == "file":
        knob = node[K_INPUT_FILE]
        if not str(knob.value()).strip():
            raise NodeError("input is set to 'file' but no input file is given; choose one in the 'input file' knob")
        paths = {v: evaluated_pattern(knob, first, v) for v in views}
        return paths, has_frame_pattern(str(knob.value()))
    upstream = node.input(0)
    if upstream is None:
        raise NodeError("nothing is connected to the SingleHDR input; connect an image or set input to 'file'")
    direct = _upstream_read_file(upstream)
    if direct is not None:
        knob = direct["file"]
        return {v: evaluated_pattern(knob, first, v) for v in views}, has_frame_pattern(str(knob.value()))
    if _IN_RENDER[0]:  # inside a render Nuke refuses a second nuke.execute
        raise NodeError(
            "bake on render needs a file input (a Read of a photo, or input = file); render other inputs with "
            "nuke -t singlehdr_bake.py script.nk"
        )
    pattern = render_upstream(node, upstream, frames, views, workdir)
    return {v: pattern.replace("%V", v) for v in views}, True


# -------------------------------------------------------------------- bake


@dataclass
class Job:
    """One bake: singlehdr runs (one per view) and what they write."""

    node: Any
    frames: List[int]
    runs: List[Tuple[str, List[str], List[Tuple[int, str]]]]  # view, argv, [(frame, output path)]
    workdir: str
    envmap: bool = False  # singlehdr envmap runs (one per frame and view)
    started: float = field(default_factory=time.time)

    def outputs(self) -> List[Tuple[int, str]]:
        return [o for _, _, outs in self.runs for o in outs]


def bake_views(node: nuke.Node) -> List[str]:
    """The views to reconstruct: all of the script's when the output file has %V/%v."""
    raw = str(node[K_OUTPUT].value())
    views = script_views()
    if "%V" in raw or "%v" in raw:
        return views
    if len(views) > 1:
        raise NodeError(
            f"the script has {len(views)} views ({', '.join(views)}) but the output file has no %V; "
            "put %V in the output file name so the views do not overwrite each other"
        )
    return views[:1]


def prepare(node: nuke.Node, frames: Sequence[int]) -> Job:
    """Everything that must happen on Nuke's main thread before singlehdr runs."""
    frames = sorted(set(int(f) for f in frames))
    if not frames:
        raise NodeError("no frames to reconstruct; check the frame range")
    settings = settings_from_node(node, output_colorspace(node)[1])
    envmap = settings.mode == MODE_ENVMAP
    if envmap:
        check_envmap_settings(settings)
    python = resolve_python(settings.python)
    views = bake_views(node)
    outputs: Dict[str, str] = {}
    for v in views:
        out = evaluated_pattern(node[K_OUTPUT], frames[0], v)
        if not out.lower().endswith((".exr", ".hdr")):
            raise NodeError(f"output file {out} must end in .exr (or .hdr)")
        if not os.path.isabs(out):
            raise NodeError(
                f"the output file {out} is not an absolute path; save the script first (the default output "
                "folder is next to it) or give an absolute output file"
            )
        if len(frames) > 1 and not has_frame_pattern(out):
            raise NodeError("to reconstruct a range, the output file needs a frame number pattern such as name.####.exr")
        outputs[v] = out
    workdir = tempfile.mkdtemp(prefix="singlehdr_nuke_")
    try:
        if settings.brackets:  # the brackets replace the input: one HDR (or map) from several exposures, a still
            inputs, is_sequence = {v: "" for v in views}, False
        else:
            inputs, is_sequence = input_patterns(node, frames, views, workdir)
        runs = []
        for v in views:
            if envmap:  # singlehdr envmap makes one map per run: a run per frame
                for f in (frames if is_sequence else frames[:1]):
                    out = frame_path(outputs[v], f)
                    nosun, report = sidecar_paths(out) if settings.split_sun else (None, None)
                    argv = build_envmap_argv(settings, python, frame_path(inputs[v], f), out, nosun, report)
                    runs.append((v, argv, [(f, out)]))
                continue
            if is_sequence:
                done = frames
                argv = build_argv(settings, python, inputs[v], outputs[v], frames)
            else:
                done = frames[:1]
                argv = build_argv(settings, python, inputs[v], frame_path(outputs[v], done[0]))
            runs.append((v, argv, [(f, frame_path(outputs[v], f)) for f in done]))
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    for _, _, outs in runs:
        for folder in {os.path.dirname(o) for _, o in outs if os.path.dirname(o)}:
            os.makedirs(folder, exist_ok=True)
    return Job(node, frames, runs, workdir, envmap=envmap)


def run_job(job: Job, cancelled: Callable[[], bool], progress: Callable[[int, str], None]) -> Optional[NodeError]:
    """Run singlehdr for each view (any thread); returns the error, if any."""
    total = len(job.outputs())
    finished = 0
    try:
        for view, argv, outs in job.runs:
            def tick(elapsed: float, lines: List[str], outs: List[Tuple[int, str]] = outs, base: int = finished) -> None:
                n = base + min(len(lines), len(outs))
                progress(int(100 * n / max(total, 1)), f"{n}/{total} frame(s) done, {elapsed:.0f} s")

            run_cli(argv, cancelled=cancelled, tick=tick)
            missing = [o for _, o in outs if not os.path.isfile(o)]
            if missing:
                return NodeError(f"singlehdr finished but wrote no file at {missing[0]}")
            finished += len(outs)
            progress(int(100 * finished / max(total, 1)), f"{finished}/{total} frame(s) done")
        return None
    except NodeError as exc:
        return exc
    finally:
        shutil.rmtree(job.workdir, ignore_errors=True)


def done_frames(job: Job) -> List[int]:
    """Frames whose EXR (every view) this job wrote (singlehdr writes each atomically)."""
    by_frame: Dict[int, bool] = {}
    for f, path in job.outputs():
        ok = os.path.isfile(path) and os.path.getmtime(path) >= job.started - 1.0
        by_frame[f] = by_frame.get(f, True) and ok
    return sorted(f for f, ok in by_frame.items() if ok)


def sun_files(node: nuke.Node, frame: int) -> Optional[Tuple[str, str]]:
    """(sun-free map, JSON report) written beside the map of ``frame`` (first view) when
    'write sun-free map + sun lamp data' is on; None otherwise."""
    if not (is_envmap(node) and bool(node[K_SPLIT_SUN].value())):
        return None
    try:
        view = bake_views(node)[0]
    except NodeError:
        return None
    knob: Any = node[K_OUTPUT]
    return sidecar_paths(str(knob.getEvaluatedValue(output_context(frame, view))))


def show_sun(node: nuke.Node, frame: int) -> str:
    """Fill the read-only 'sun' knob from the report of ``frame`` (empty when there is none)."""
    files = sun_files(node, frame)
    text = ""
    if files is not None and os.path.isfile(files[1]):
        try:
            with open(files[1], encoding="utf-8") as f:
                report = json.load(f)
            text = f"frame {frame}: " + sun_summary(report, files[0])
        except (OSError, ValueError) as exc:
            text = f"cannot read the sun report {files[1]}: {' '.join(str(exc).split())}"
    knob = node.knob(K_SUN_INFO)
    if knob is not None:
        knob.setValue(text)
    return text


def finish(job: Job, error: Optional[NodeError]) -> List[str]:
    """Update the node (main thread): baked range grown over earlier runs, Read reloaded, status."""
    node = job.node
    done = done_frames(job)
    if done:
        first, last = min(done), max(done)
        b0, b1 = int(node[K_BAKED_FIRST].value()), int(node[K_BAKED_LAST].value())
        if b1 >= b0:  # grow over what earlier runs baked
            first, last = min(first, b0), max(last, b1)
        node[K_BAKED_FIRST].setValue(first)
        node[K_BAKED_LAST].setValue(last)
        sync_internal_read(node)
        read = node.node(INTERNAL_READ) if isinstance(node, nuke.Group) else None
        if read is not None:
            read["reload"].execute()  # type: ignore[attr-defined]
        if job.envmap:
            show_sun(node, done[-1])
    total = len(set(f for f, _ in job.outputs()))
    if isinstance(error, Cancelled):
        report_error(node, f"cancelled after {len(done)} of {total} frame(s); the finished frames are kept")
    elif error is not None:
        report_error(node, str(error))
    else:
        set_status(node, f"{len(done)} frame(s) -> {str(node[K_OUTPUT].value())}")
    return [p for f, p in job.outputs() if f in done]


def reconstruct(node: nuke.Node, frames: Sequence[int], background: Optional[bool] = None) -> Optional[threading.Thread]:
    """Reconstruct ``frames`` of ``node``.

    One singlehdr run per view for all frames (the model is loaded once).
    A still input (no frame pattern) is reconstructed once, at the first
    frame, and held.  In the GUI (``background`` default) singlehdr runs on
    a worker thread that returns at once; without a GUI it runs here.
    Raises NodeError (one line) for what the artist can fix before anything runs.
    """
    job = prepare(node, frames)
    if background is None:
        background = bool(nuke.GUI)
    if not background:
        error = run_job(job, cancelled=lambda: False, progress=lambda p, m: None)
        finish(job, error)
        return None

    def work() -> None:
        task = nuke.ProgressTask("SingleHDR")
        try:
            task.setMessage("reconstructing")
            task.setProgress(0)

            def progress(percent: int, message: str) -> None:
                task.setProgress(max(0, min(100, percent)))
                task.setMessage(message)

            error = run_job(job, cancelled=task.isCancelled, progress=progress)
        except Exception as exc:  # noqa: BLE001 (shown as one line, never a traceback)
            error = NodeError(f"singlehdr failed: {exc}")
        finally:
            del task
        nuke.executeInMainThread(finish, (job, error))

    set_status(node, "reconstructing ...")
    thread = threading.Thread(target=work, name=f"SingleHDR bake {node.name()}", daemon=True)
    thread.start()
    return thread


def _this(node: Optional[nuke.Node]) -> nuke.Node:
    return node if node is not None else nuke.thisNode()


def _guarded(node: nuke.Node, call: Callable[[], Any]) -> None:
    """Run a button's work: every error the artist can see is one line."""
    try:
        call()
    except NodeError as exc:
        report_error(node, str(exc))
    except RuntimeError as exc:  # a Nuke call that failed (render, knob): one line, no traceback
        if nuke.GUI:
            report_error(node, " ".join(str(exc).split()))
        else:
            raise


def reconstruct_button(node: Optional[nuke.Node] = None) -> None:
    """'Reconstruct' button: the current frame."""
    this = _this(node)
    _guarded(this, lambda: reconstruct(this, [int(nuke.frame())]))


def reconstruct_range_button(node: Optional[nuke.Node] = None) -> None:
    """'Reconstruct range' button: frames range_first .. range_last."""
    this = _this(node)

    def run() -> None:
        first, last = int(this[K_FIRST].value()), int(this[K_LAST].value())
        if last < first:
            raise NodeError(f"the frame range {first}-{last} is empty; set 'frame range' so that first <= last")
        reconstruct(this, range(first, last + 1))

    _guarded(this, run)


# ------------------------------------------------------------- farm mode


def missing_frames(node: nuke.Node) -> List[int]:
    """Frames of the node's frame range whose EXR is missing for some view
    (a still input: its first frame only)."""
    first, last = int(node[K_FIRST].value()), int(node[K_LAST].value())
    frames = list(range(first, last + 1))
    if not frames:
        return []
    still = _text(node, K_SOURCE) == "file" and not has_frame_pattern(str(node[K_INPUT_FILE].value()))
    upstream = node.input(0)
    if str(node[K_BRACKETS].value()).strip():  # brackets: one still from several exposures
        still = True
    elif _text(node, K_SOURCE) != "file" and upstream is not None:
        direct = _upstream_read_file(upstream)
        still = direct is not None and not has_frame_pattern(str(direct["file"].value()))
    if still:
        frames = frames[:1]
    views = bake_views(node)

    knob: Any = node[K_OUTPUT]

    def exists(f: int, v: str) -> bool:
        return os.path.isfile(str(knob.getEvaluatedValue(output_context(f, v))))

    return [f for f in frames if not all(exists(f, v) for v in views)]


def bake_missing(nodes: Optional[Sequence[nuke.Node]] = None, in_render: bool = False) -> Dict[str, List[int]]:
    """Reconstruct the missing frames of SingleHDR nodes (all with 'bake on
    render' on, or the given ones), synchronously.  Returns {node: frames}."""
    if nodes is None:
        nodes = [n for n in nuke.allNodes(GIZMO_CLASS, recurseGroups=True) if n[K_BAKE_ON_RENDER].value()]
    baked: Dict[str, List[int]] = {}
    _IN_RENDER[0] = in_render
    try:
        for node in nodes:
            try:
                frames = missing_frames(node)
                if frames:
                    reconstruct(node, frames, background=False)
                baked[node.name()] = frames
            except NodeError as exc:
                set_status(node, f"error: {exc}")
                raise RuntimeError(f"SingleHDR {node.name()}: {exc}") from None
    finally:
        _IN_RENDER[0] = False
    return baked


def before_render() -> None:
    """nuke.addBeforeRender callback (registered by init.py): before a Write
    renders, the 'bake on render' SingleHDR nodes compute their missing
    frames through the same runner, so a farm render (nuke -x) needs no UI."""
    bake_missing(in_render=True)


# ------------------------------------------------------------- knob events


def populate_colorspace_menu(node: nuke.Node) -> None:
    menu = node.knob(K_COLORSPACE_MENU)
    if menu is None or not hasattr(menu, "setValues"):
        return
    getattr(menu, "setValues")([WORKING_SPACE_ITEM] + writable_colorspaces(config_colorspaces()))


def on_create(node: Optional[nuke.Node] = None) -> None:
    """New or loaded node: range defaults to the script's range (new nodes),
    the colour-space menu lists the script's config, the internal Read
    follows 'output colour space'."""
    node = _this(node)
    if int(node[K_FIRST].value()) == 0 and int(node[K_LAST].value()) == 0:
        root = nuke.root()
        node[K_FIRST].setValue(int(root["first_frame"].value()))
        node[K_LAST].setValue(int(root["last_frame"].value()))
    populate_colorspace_menu(node)
    sync_internal_read(node)
    b0, b1 = int(node[K_BAKED_FIRST].value()), int(node[K_BAKED_LAST].value())
    if b1 >= b0 and is_envmap(node):  # a reopened script: the sun data of the baked maps (the knob is not saved)
        show_sun(node, min(max(int(nuke.frame()), b0), b1))
    knob_changed(node)


def knob_changed(node: Optional[nuke.Node] = None, knob: Optional[nuke.Knob] = None) -> None:
    """Show only the knobs that matter; the colour-space menu fills the text knob (cheap)."""
    node = _this(node)
    if knob is not None and knob.name() == K_COLORSPACE_MENU:
        choice = str(knob.value())
        node[K_COLORSPACE].setValue("" if choice == WORKING_SPACE_ITEM else choice)
    if knob is not None and knob.name() in (K_COLORSPACE, K_COLORSPACE_MENU):
        sync_internal_read(node)
    node[K_INPUT_FILE].setVisible(_text(node, K_SOURCE) == "file")
    node[K_EV].setEnabled(bool(str(node[K_BRACKETS].value()).strip()))
    node[K_TARGET].setVisible(_text(node, K_EXPOSURE) == "median")
    node[K_MODEL].setEnabled(_text(node, K_METHOD) == "singlehdr")
    envmap = is_envmap(node)
    for name in ENVMAP_KNOBS:
        node[name].setVisible(envmap)
    photo = envmap and _text(node, K_ENVMAP_KIND) in ("auto", "photo")  # the photo's view: ordinary photos only
    for name in (K_FOV, K_PHOTO_VIEW, K_YAW, K_PITCH):
        node[name].setVisible(photo)
    node[K_YAW].setEnabled(bool(node[K_PHOTO_VIEW].value()))
    node[K_PITCH].setEnabled(bool(node[K_PHOTO_VIEW].value()))
    node[K_SUN_INTENSITY].setEnabled(_text(node, K_SUN) != "off")
    node[K_SUN_INFO].setVisible(envmap and bool(node[K_SPLIT_SUN].value()))


# ------------------------------------------------------------------- menus


def export_torchscript_dialog(target: str = "nuke14") -> Optional[str]:
    """Menu: write singlehdr.pt for CatFileCreator (asks for the path)."""
    path = nuke.getFilename("Save SingleHDR TorchScript for CatFileCreator", "*.pt")
    if not path:
        return None
    if not path.lower().endswith(".pt"):
        path += ".pt"
    try:
        python = resolve_python("")
        task = nuke.ProgressTask("SingleHDR export")
        task.setMessage("exporting TorchScript")
        try:
            out = run_cli([python, "-m", "singlehdr.cli", "export-torchscript", "-o", path, "--target", target,
                           "--overwrite"], cancelled=task.isCancelled)
        finally:
            del task
    except NodeError as exc:
        report_error(None, str(exc))
        return None
    nuke.message(out.strip() + "\n\nIn NukeX: CatFileCreator -> Torchscript File = this file, Channels In/Out = rgb, then Create .cat file.")
    return path


def check_setup() -> Optional[str]:
    """Menu: show which Python/singlehdr the node would use."""
    try:
        python = resolve_python("")
        version = run_cli([python, "-m", "singlehdr.cli", "--version"]).strip()
    except NodeError as exc:
        report_error(None, str(exc))
        return None
    nuke.message(f"SingleHDR is ready: {version}\nPython: {python}")
    return version
