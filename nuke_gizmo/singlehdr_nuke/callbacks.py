"""Knob callbacks of the SingleHDR gizmo (imported when a button is pressed).

Reconstruct: get the frame as an 8/16-bit sRGB file (the upstream Read's own
file when it is a photo, else a temporary 16-bit PNG rendered by a Write
node with nuke.execute), run ``python -m singlehdr.cli reconstruct`` in a
separate Python (knob 'python' / $SINGLEHDR_PYTHON), and load the written
EXR into the gizmo's internal Read.  A ProgressTask shows progress and lets
the artist cancel; errors are shown as singlehdr's one-line message.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import List, Optional, Sequence, Tuple

import nuke

from .runner import (
    Cancelled,
    NodeError,
    Settings,
    build_argv,
    default_output_pattern,
    frame_path,
    has_frame_pattern,
    is_direct_input,
    pick_srgb_colorspace,
    resolve_python,
    run_cli,
)

# Knob names of SingleHDR.gizmo (artist-facing labels live in the gizmo).
K_SOURCE = "source"
K_INPUT_FILE = "input_file"
K_METHOD = "method"
K_MODEL = "model_path"
K_EXPOSURE = "exposure_mode"
K_TARGET = "exposure_target"
K_COLORSPACE = "output_colorspace"
K_DEVICE = "device"
K_PYTHON = "python"
K_OUTPUT = "output_file"
K_FIRST = "range_first"
K_LAST = "range_last"
K_STATUS = "status"
INTERNAL_READ = "SingleHDR_Read"


def _text(node: nuke.Node, name: str) -> str:
    value = node[name].value()
    return "" if value is None else str(value)


def settings_from_node(node: nuke.Node) -> Settings:
    """Read the node's knobs into a :class:`Settings`."""
    return Settings(
        method=_text(node, K_METHOD),
        model=_text(node, K_MODEL),
        exposure=_text(node, K_EXPOSURE),
        exposure_target=float(node[K_TARGET].value()),
        colorspace=_text(node, K_COLORSPACE),
        device=_text(node, K_DEVICE),
        python=_text(node, K_PYTHON),
        output=_text(node, K_OUTPUT),
    )


def set_status(node: nuke.Node, text: str) -> None:
    knob = node.knob(K_STATUS)
    if knob is not None:
        knob.setValue(text)


def report_error(node: Optional[nuke.Node], message: str) -> None:
    """Show a one-line error: a dialog in the GUI, RuntimeError otherwise."""
    if node is not None:
        set_status(node, f"error: {message}")
    if nuke.GUI:
        nuke.message(f"SingleHDR: {message}")
    else:
        raise RuntimeError(f"SingleHDR: {message}")


def output_pattern(node: nuke.Node, settings: Settings, n_frames: int) -> str:
    """The output file pattern; fills the knob with a default when empty."""
    pattern = settings.output.strip()
    if not pattern:
        pattern = default_output_pattern(node.name())
        node[K_OUTPUT].setValue(pattern)
    if not pattern.lower().endswith((".exr", ".hdr")):
        raise NodeError(f"output file {pattern} must end in .exr (or .hdr)")
    if n_frames > 1 and not has_frame_pattern(pattern):
        raise NodeError("to reconstruct a range, the output file needs a frame number pattern such as name.####.exr")
    return pattern


def _upstream_read_file(upstream: nuke.Node) -> Optional[str]:
    """The file of an upstream Read when singlehdr can read it directly."""
    if upstream.Class() != "Read":
        return None
    path = _text(upstream, "file")
    return path if path and is_direct_input(path) else None


def render_upstream(node: nuke.Node, upstream: nuke.Node, frames: Sequence[int], workdir: str) -> str:
    """Render the upstream image to 16-bit sRGB PNGs with a temporary Write.

    The Write sits beside the gizmo (in its parent group), converts Nuke's
    working space to sRGB through its colorspace knob, is executed with
    nuke.execute over each contiguous run of frames and deleted again.
    Returns the frame pattern of the written files.
    """
    pattern = os.path.join(workdir, "input.####.png").replace("\\", "/")
    parent = node.parent()
    parent.begin()
    write = None
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
        for first, last in _runs(frames):
            nuke.execute(write, first, last)
    finally:
        if write is not None:
            nuke.delete(write)
        parent.end()
    return pattern


def _runs(frames: Sequence[int]) -> List[tuple]:
    """Contiguous (first, last) runs of sorted frame numbers."""
    runs: List[tuple] = []
    for f in sorted(set(frames)):
        if runs and f == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], f)
        else:
            runs.append((f, f))
    return runs


def input_source(node: nuke.Node, frames: Sequence[int], workdir: str) -> Tuple[str, bool]:
    """(the file or frame pattern singlehdr should read, whether a sequence).

    input = 'file': the 'input file' knob.  input = 'upstream node': the
    upstream Read's own file when it is an 8/16-bit photo, else the frames
    rendered by a temporary Write (see :func:`render_upstream`).
    """
    source = _text(node, K_SOURCE)
    if source == "file":
        path = _text(node, K_INPUT_FILE).strip()
        if not path:
            raise NodeError("input is set to 'file' but no input file is given; choose one in the 'input file' knob")
        return path, has_frame_pattern(path)
    upstream = node.input(0)
    if upstream is None:
        raise NodeError("nothing is connected to the SingleHDR input; connect an image or set input to 'file'")
    direct = _upstream_read_file(upstream)
    if direct is not None:
        return direct, has_frame_pattern(direct)
    return render_upstream(node, upstream, frames, workdir), True


def load_result(node: nuke.Node, pattern: str, frames: Sequence[int]) -> nuke.Node:
    """Point the internal Read at the output files and reload it."""
    read = node.node(INTERNAL_READ) if isinstance(node, nuke.Group) else None
    if read is None:
        raise NodeError(f"the gizmo has no internal Read named {INTERNAL_READ}; re-create the SingleHDR node")
    first, last = min(frames), max(frames)
    if _text(read, "file") == pattern and has_frame_pattern(pattern):  # grow the range over earlier runs
        first = min(first, int(read["first"].value()))
        last = max(last, int(read["last"].value()))
    read["file"].setValue(pattern)
    for name, value in (("first", first), ("last", last), ("origfirst", first), ("origlast", last)):
        read[name].setValue(value)
    read["reload"].execute()  # type: ignore[attr-defined]
    return read


def reconstruct(node: nuke.Node, frames: Sequence[int]) -> List[str]:
    """Reconstruct ``frames`` of ``node``; returns the written EXR paths.

    One singlehdr run for all frames (the model is loaded once).  A still
    input (no frame pattern) is reconstructed once, at the first frame, and
    held.  Raises NodeError (one line) for anything the artist can fix.
    """
    frames = sorted(set(int(f) for f in frames))
    if not frames:
        raise NodeError("no frames to reconstruct; check the frame range")
    settings = settings_from_node(node)
    python = resolve_python(settings.python)
    pattern = output_pattern(node, settings, len(frames))
    workdir = tempfile.mkdtemp(prefix="singlehdr_nuke_")
    task = nuke.ProgressTask("SingleHDR")
    try:
        task.setMessage("preparing input")
        task.setProgress(0)
        source, is_sequence = input_source(node, frames, workdir)
        if is_sequence:
            done = frames
            argv = build_argv(settings, python, source, pattern, frames)
        else:
            done = frames[:1]
            argv = build_argv(settings, python, source, frame_path(pattern, done[0]))
        outputs = [frame_path(pattern, f) for f in done]
        for folder in {os.path.dirname(o) for o in outputs if os.path.dirname(o)}:
            os.makedirs(folder, exist_ok=True)

        def tick(elapsed: float, lines: List[str]) -> None:
            finished = min(len(lines), len(done))
            task.setProgress(int(100 * finished / len(done)))
            task.setMessage(f"{finished}/{len(done)} frame(s) done, {elapsed:.0f} s")

        run_cli(argv, cancelled=task.isCancelled, tick=tick)
        missing = [o for o in outputs if not os.path.isfile(o)]
        if missing:
            raise NodeError(f"singlehdr finished but wrote no file at {missing[0]}")
        task.setProgress(100)
    finally:
        del task
        shutil.rmtree(workdir, ignore_errors=True)
    load_result(node, pattern, done)
    set_status(node, f"{len(outputs)} frame(s) -> {pattern}")
    return outputs


def _this(node: Optional[nuke.Node]) -> nuke.Node:
    return node if node is not None else nuke.thisNode()


def reconstruct_button(node: Optional[nuke.Node] = None) -> None:
    """'Reconstruct' button: the current frame."""
    node = _this(node)
    try:
        reconstruct(node, [int(nuke.frame())])
    except NodeError as exc:
        report_error(node, str(exc))


def reconstruct_range_button(node: Optional[nuke.Node] = None) -> None:
    """'Reconstruct range' button: frames range_first .. range_last."""
    node = _this(node)
    try:
        first, last = int(node[K_FIRST].value()), int(node[K_LAST].value())
        if last < first:
            raise NodeError(f"the frame range {first}-{last} is empty; set 'frame range' so that first <= last")
        reconstruct(node, range(first, last + 1))
    except NodeError as exc:
        report_error(node, str(exc))


def on_create(node: Optional[nuke.Node] = None) -> None:
    """New node: frame range defaults to the script's range."""
    node = _this(node)
    if int(node[K_FIRST].value()) == 0 and int(node[K_LAST].value()) == 0:
        root = nuke.root()
        node[K_FIRST].setValue(int(root["first_frame"].value()))
        node[K_LAST].setValue(int(root["last_frame"].value()))
    knob_changed(node)


def knob_changed(node: Optional[nuke.Node] = None, knob: Optional[nuke.Knob] = None) -> None:
    """Show only the knobs that matter for the current choices (cheap)."""
    node = _this(node)
    node[K_INPUT_FILE].setVisible(_text(node, K_SOURCE) == "file")
    node[K_TARGET].setVisible(_text(node, K_EXPOSURE) == "median")
    node[K_MODEL].setEnabled(_text(node, K_METHOD) == "singlehdr")


def export_torchscript_dialog() -> Optional[str]:
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
            out = run_cli([python, "-m", "singlehdr.cli", "export-torchscript", "-o", path, "--overwrite"], cancelled=task.isCancelled)
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
