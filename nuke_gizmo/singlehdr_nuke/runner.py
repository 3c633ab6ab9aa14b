"""The Nuke-free half of the SingleHDR node: settings, paths, the subprocess.

Nuke embeds its own libtorch, which clashes with PyTorch in-process, so the
node never imports torch or singlehdr.  It runs the singlehdr command line in
a separate Python (``SINGLEHDR_PYTHON``) and exchanges image files with it.
Nothing here imports ``nuke``; :mod:`singlehdr_nuke.callbacks` does.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Dict, List, Optional, Sequence, Tuple

# Choices shown on the node: singlehdr's own lists (choices.py is a generated copy of
# core/singlehdr/choices.py, which imports nothing; tools/sync_host_choices.py).
from .choices import COLORSPACES, DEVICES, ENVMAP_KINDS, EXPOSURE_MODES, METHODS, SUN_MODES  # noqa: F401

SOURCES = ("upstream node", "file")
# The node's two products: ``singlehdr reconstruct`` (an HDR image per frame) or
# ``singlehdr envmap`` (an equirect 2:1 environment map per frame).
MODE_HDR = "HDR image"
MODE_ENVMAP = "Environment map"
MODES = (MODE_HDR, MODE_ENVMAP)

# Camera RAW / DNG: singlehdr's RAW_EXTENSIONS (core/singlehdr/io/raw.py; a test keeps the two equal).
# singlehdr reads them with rawpy (linear sensor data), so a Read of one is handed over as the file.
RAW_EXTENSIONS = (".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf", ".rw2",
                  ".pef", ".srw", ".x3f", ".3fr", ".iiq", ".erf", ".kdc", ".mef", ".mos", ".mrw", ".raw", ".rwl")
# Files singlehdr reads directly (its LDR readers and RAW); anything else is rendered.
DIRECT_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".heic", ".heif", ".avif", ".bmp") + RAW_EXTENSIONS

ENV_PYTHON = "SINGLEHDR_PYTHON"

_HASHES = re.compile(r"#+")
_PRINTF = re.compile(r"%(0?)(\d*)d")


class NodeError(Exception):
    """A problem the artist can fix; its message is one line."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class Cancelled(NodeError):
    """The artist pressed Cancel in the progress window."""


@dataclass(frozen=True)
class Settings:
    """What the node's knobs say, as plain values."""

    method: str = "singlehdr"
    model: str = ""
    exposure: str = "relative"
    exposure_target: float = 0.18
    colorspace: str = "lin_rec709"
    device: str = "auto"
    python: str = ""
    output: str = ""
    extra_args: List[str] = field(default_factory=list)
    # Environment-map mode (``singlehdr envmap``); ignored in HDR-image mode
    mode: str = MODE_HDR
    envmap_kind: str = "auto"
    width: int = 1024
    sun: str = "auto"
    sun_intensity: float = 0.0  # 0 = from the clear-sky fit
    fov: float = 0.0  # 0 = from the photo's EXIF
    yaw: Optional[float] = None  # None = not given (the CLI assumes 0 and says so)
    pitch: Optional[float] = None
    split_sun: bool = False  # also write the sun-free map and the JSON report
    # Exposure brackets of one scene (both modes): files, a folder or a sequence pattern, in
    # the place of the input (``--brackets A B C``); empty = the node's input as usual.
    brackets: List[str] = field(default_factory=list)
    ev: str = ""  # their exposure values in stops ("-2,0,2" or "-2 0 2"); empty = from EXIF


def sidecar_paths(output: str) -> Tuple[str, str]:
    """(sun-free map, JSON report) written beside an environment map.

    The tag goes before the extension, after any frame pattern, so each is a
    sequence Nuke reads with the same pattern:
    sidecar_paths("/s/env.%V.####.exr") == ("/s/env.%V.####_nosun.exr", "/s/env.%V.####_sun.json").
    """
    stem, ext = os.path.splitext(output)
    return f"{stem}_nosun{ext or '.exr'}", f"{stem}_sun.json"


def has_frame_pattern(path: str) -> bool:
    """Whether ``path`` holds a frame number pattern (#### or %04d)."""
    return bool(_HASHES.search(path) or _PRINTF.search(path))


def frame_path(pattern: str, frame: int) -> str:
    """Substitute ``frame`` into Nuke's frame patterns.

    '####' -> zero-padded to the number of '#' (one '#' = no padding, as in
    Nuke); '%04d' / '%d' -> printf style.  A path without a pattern is
    returned unchanged.  frame_path("a.####.exr", 7) == "a.0007.exr".
    """

    def hashes(m: "re.Match[str]") -> str:
        return f"{frame:0{len(m.group(0))}d}" if len(m.group(0)) > 1 else str(frame)

    def printf(m: "re.Match[str]") -> str:
        width = m.group(2)
        return f"{frame:0{int(width)}d}" if width else str(frame)

    return _PRINTF.sub(printf, _HASHES.sub(hashes, pattern))


def resolve_python(knob_value: str) -> str:
    """The interpreter that has singlehdr installed, set explicitly.

    The node's 'python' knob, else $SINGLEHDR_PYTHON.  There is no guess
    on PATH: a Nuke started from a desktop icon has a PATH that rarely
    leads to the right Python, and never Nuke's own sys.executable (Nuke).
    Raises NodeError saying what to set.
    """
    for source, candidate in (("the node's 'python' knob", knob_value.strip()),
                              (ENV_PYTHON, os.environ.get(ENV_PYTHON, "").strip())):
        if candidate:
            found = shutil.which(candidate) if not os.path.isabs(candidate) else candidate
            if not found or not os.path.isfile(found) or not os.access(found, os.X_OK):
                raise NodeError(
                    f"python interpreter {candidate!r} (from {source}) not found; set the node's 'python' knob "
                    f"(Setup tab) or {ENV_PYTHON} to the Python that has singlehdr installed"
                )
            return found
    raise NodeError(
        f"no Python for singlehdr is set; set the node's 'python' knob (Setup tab) or {ENV_PYTHON} "
        "to the Python that has singlehdr installed (for example .venv/bin/python of install/demo.sh)"
    )


# Variables Nuke sets for its own embedded Python and libraries; a child
# Python that inherits them loads Nuke's standard library or libraries.
STRIPPED_ENV = ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP", "PYTHONUSERBASE", "PYTHONEXECUTABLE",
                "PYTHONNOUSERSITE", "PYTHONSAFEPATH", "__PYVENV_LAUNCHER__", "LD_LIBRARY_PATH",
                "DYLD_LIBRARY_PATH", "DYLD_FRAMEWORK_PATH", "DYLD_INSERT_LIBRARIES", "QT_PLUGIN_PATH",
                "QT_QPA_PLATFORM_PLUGIN_PATH", "TCL_LIBRARY", "TK_LIBRARY")
STRIPPED_PREFIXES = ("NUKE", "FOUNDRY")


def child_env(base: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment singlehdr runs in: ``base`` (default os.environ)
    without Nuke's Python and library variables (:data:`STRIPPED_ENV`,
    names starting with NUKE or FOUNDRY), plus PYTHONUNBUFFERED=1 so that
    each finished frame is reported as it happens."""
    env = {k: v for k, v in (os.environ if base is None else base).items()
           if k not in STRIPPED_ENV and not k.upper().startswith(STRIPPED_PREFIXES)}
    env["PYTHONUNBUFFERED"] = "1"
    return env


# singlehdr's output colour spaces under the names OCIO configs give them
# (nuke-default, ACES 1.x, the ACES 1.3 CG/studio configs, roles).
OCIO_NAMES = {
    "lin_rec709": ("linear", "lin_rec709", "lin_srgb", "linear rec.709 (srgb)", "utility - linear - srgb",
                   "utility - linear - rec.709", "scene_linear (linear rec.709)", "linear - srgb", "lin_rec709_srgb"),
    "acescg": ("acescg", "aces - acescg", "lin_ap1", "acescg linear"),
    "aces2065_1": ("aces2065-1", "aces - aces2065-1", "lin_ap0", "aces2065_1"),
    "lin_rec2020": ("linear rec.2020", "utility - linear - rec.2020", "lin_rec2020"),
}


def singlehdr_colorspace(ocio_name: str) -> Optional[str]:
    """The singlehdr --colorspace for a colour space of the script's config
    ('Family/Name' or 'Name'), or None when singlehdr cannot write it.

    singlehdr_colorspace("ACES/ACES - ACEScg") == "acescg";
    singlehdr_colorspace("linear") == "lin_rec709"; ("sRGB") -> None.
    """
    leaf = ocio_name.split("/")[-1].strip().lower()
    for cs, names in OCIO_NAMES.items():
        if leaf in names:
            return cs
    return None


def writable_colorspaces(config_names: Sequence[str]) -> List[str]:
    """The config's colour spaces (leaf names, in menu order) that singlehdr can write."""
    return [n.split("/")[-1] for n in config_names if singlehdr_colorspace(n) is not None]


def is_direct_input(path: str) -> bool:
    """Whether singlehdr can read this file as is (an 8/16-bit photo)."""
    return os.path.splitext(path)[1].lower() in DIRECT_EXTENSIONS


def frames_spec(frames: Sequence[int]) -> str:
    """Frame numbers as singlehdr's --frames text: runs joined by commas.

    frames_spec([1001, 1002, 1003, 1007]) == "1001-1003,1007".
    """
    runs: List[List[int]] = []
    for f in sorted(set(int(f) for f in frames)):
        if runs and f == runs[-1][1] + 1:
            runs[-1][1] = f
        else:
            runs.append([f, f])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def split_brackets(text: str) -> List[str]:
    """The 'brackets' knob (TCL already expanded) -> its files / folder / pattern.

    Separated by spaces, commas or new lines; a path with spaces in quotes.
    split_brackets('a.jpg b.jpg, "my shots/c.jpg"') == ["a.jpg", "b.jpg", "my shots/c.jpg"].
    """
    lexer = shlex.shlex(text or "", posix=True)
    lexer.whitespace += ","
    lexer.whitespace_split = True
    lexer.escape = ""  # Windows paths keep their backslashes
    try:
        return list(lexer)
    except ValueError as exc:  # an unclosed quote
        raise NodeError(f"the brackets knob cannot be read ({exc}); close the quotes around paths with spaces") from None


def ev_argument(ev: str) -> Optional[str]:
    """The 'EV list' knob ("-2, 0, 2", "-2 0 2") -> ``--ev=-2,0,2``; None when empty.

    The values are not checked here: singlehdr says in one line what is wrong with them.
    """
    values = (ev or "").replace(",", " ").split()
    return f"--ev={','.join(values)}" if values else None


def input_args(settings: Settings, input_path: str) -> List[str]:
    """The input of a command line: ``--brackets A B C`` when the node has brackets, else the input."""
    return ["--brackets", *settings.brackets] if settings.brackets else [input_path]


def _ev_args(settings: Settings) -> List[str]:
    flag = ev_argument(settings.ev)
    return [flag] if flag else []


def build_argv(
    settings: Settings, python: str, input_path: str, output_path: str, frames: Optional[Sequence[int]] = None
) -> List[str]:
    """The singlehdr command line.

    python -m singlehdr.cli reconstruct INPUT [--frames F] -o OUTPUT
        --method M [--model PATH] --device D --exposure MODE
        [--exposure-target X] --colorspace CS --overwrite [--ev=E1,E2,..]
    INPUT/OUTPUT: files, or frame patterns (name.####.ext) with ``frames``
    (one run, the model loaded once, for a whole range); with brackets
    (``settings.brackets``) INPUT is ``--brackets A B C`` and the output one file.
    --overwrite: the output belongs to this node and is re-made on each run
    (singlehdr still refuses to write over its input).
    """
    argv = [python, "-m", "singlehdr.cli", "reconstruct", *input_args(settings, input_path)]
    if frames is not None:
        argv += ["--frames", frames_spec(frames)]
    argv += ["-o", output_path, "--method", settings.method]
    if settings.method == "singlehdr" and settings.model.strip():
        argv += ["--model", settings.model.strip()]
    argv += ["--device", settings.device, "--exposure", settings.exposure]
    if settings.exposure == "median":
        argv += ["--exposure-target", repr(float(settings.exposure_target))]
    argv += ["--colorspace", settings.colorspace, "--overwrite"]
    argv += _ev_args(settings)
    argv += list(settings.extra_args)
    return argv


def check_envmap_settings(settings: Settings) -> None:
    """Refuse, before anything runs, the knob combinations ``singlehdr envmap`` would
    refuse, in knob terms (one line, what to do).  Everything else (width, field of
    view, pitch ranges) is checked by singlehdr itself, whose one-line error is shown."""
    if settings.sun_intensity < 0:
        raise NodeError(f"sun intensity {settings.sun_intensity:g} is negative; use 0 (from the fit) or a positive value")
    if settings.sun_intensity > 0 and settings.sun == "off":
        raise NodeError("sun intensity sizes the sun, but sun = off adds none; set sun to auto or on, or the intensity to 0")


def build_envmap_argv(
    settings: Settings, python: str, input_path: str, output_path: str,
    without_sun: Optional[str] = None, report: Optional[str] = None,
) -> List[str]:
    """The ``singlehdr envmap`` command line for one frame.

    python -m singlehdr.cli envmap INPUT -o OUTPUT --kind K --width W
        --method M [--model PATH] --device D --exposure MODE [--exposure-target X]
        --colorspace CS --sun auto|on|off [--sun-intensity E] [--fov DEG]
        [--yaw DEG] [--pitch DEG] [--without-sun EXR --report JSON] --overwrite [--ev=E1,E2,..]
    INPUT is ``--brackets A B C`` when the node has brackets.
    Options at their CLI default are passed anyway (the same map as a bare
    ``singlehdr envmap INPUT -o OUTPUT`` with those values); --sun-intensity
    only when > 0 (0 = from the fit), --fov only when > 0 (0 = EXIF),
    --yaw/--pitch only when set.
    """
    check_envmap_settings(settings)
    argv = [python, "-m", "singlehdr.cli", "envmap", *input_args(settings, input_path), "-o", output_path,
            "--kind", settings.envmap_kind, "--width", str(int(settings.width)), "--method", settings.method]
    if settings.method == "singlehdr" and settings.model.strip():
        argv += ["--model", settings.model.strip()]
    argv += ["--device", settings.device, "--exposure", settings.exposure]
    if settings.exposure == "median":
        argv += ["--exposure-target", repr(float(settings.exposure_target))]
    argv += ["--colorspace", settings.colorspace, "--sun", settings.sun]
    if settings.sun_intensity > 0:
        argv += ["--sun-intensity", repr(float(settings.sun_intensity))]
    if settings.fov > 0:
        argv += ["--fov", repr(float(settings.fov))]
    if settings.yaw is not None:
        argv += ["--yaw", repr(float(settings.yaw))]
    if settings.pitch is not None:
        argv += ["--pitch", repr(float(settings.pitch))]
    if without_sun:
        argv += ["--without-sun", without_sun]
    if report:
        argv += ["--report", report]
    argv += ["--overwrite"]
    argv += _ev_args(settings)
    argv += list(settings.extra_args)
    return argv


def light_rotation(direction: Sequence[float]) -> Tuple[float, float]:
    """(rotate x, rotate y) in degrees that aim a Nuke light at the scene from ``direction``.

    ``direction``: the unit vector towards the sun in singlehdr's convention
    (+Y up, -Z forward), which is Nuke's 3D space.  A DirectLight shines down
    its local -Z axis; with rotation order ZXY (Nuke's default) and rotate z = 0,
    local -Z becomes (-cos x sin y, sin x, -cos x cos y), which must equal
    -direction.  light_rotation((0, 1, 0)) == (-90, 0) (the sun overhead:
    the light points down); light_rotation((0, 0, -1)) == (0, 180).
    """
    x, y, z = (float(v) for v in direction)
    n = math.sqrt(x * x + y * y + z * z) or 1.0
    x, y, z = x / n, y / n, z / n
    rot_x = math.degrees(math.asin(max(-1.0, min(1.0, -y))))
    rot_y = math.degrees(math.atan2(x, z)) if abs(x) + abs(z) > 1e-12 else 0.0
    return rot_x, rot_y


def sun_summary(report: Dict[str, Any], without_sun: Optional[str] = None) -> str:
    """The text of the node's read-only 'sun' knob, from a ``singlehdr envmap --report`` JSON.

    Direction, elevation/azimuth, irradiance (RGB, map units: the disc's
    radiance integrated over its solid angle, at normal incidence), the
    DirectLight rotation of :func:`light_rotation`, confidence and method;
    or why there is none.
    """
    sun = report.get("sun")
    if not isinstance(sun, dict) or "direction" not in sun or "irradiance_rgb" not in sun:
        assessment = report.get("sun_assessment")
        notes = [" ".join(str(n).split()) for n in report.get("notes") or [] if "sun" in str(n).lower()]
        if isinstance(assessment, dict) and assessment.get("mode") == "off":
            why = "sun = off"
        else:
            why = notes[0] if notes else "no confident sun in the input"
        lines = [f"no sun was recovered ({why}); the map holds all the light"]
    else:
        d = [float(v) for v in sun["direction"]]
        e = [float(v) for v in sun["irradiance_rgb"]]
        rx, ry = light_rotation(d)
        lines = [
            f"sun direction (x, y, z): {d[0]:.4f} {d[1]:.4f} {d[2]:.4f}  (+Y up, -Z forward)",
            f"elevation {float(sun.get('elevation_deg', 0.0)):.2f} deg, azimuth {float(sun.get('azimuth_deg', 0.0)):.2f} deg, "
            f"diameter {float(sun.get('diameter_deg', 0.53)):.2f} deg",
            f"irradiance RGB (map units): {e[0]:.6g} {e[1]:.6g} {e[2]:.6g}",
            f"DirectLight rotate (order ZXY): {rx:.2f} {ry:.2f} 0",
            f"confidence {float(sun.get('confidence', 0.0)):.2f} ({sun.get('method', '?')})",
        ]
    if without_sun:
        lines.append(f"sun-free map: {without_sun}")
    return "\n".join(lines)


def error_line(stderr: str, returncode: int, python: str = "python") -> str:
    """The one-line message to show for a failed singlehdr run.

    singlehdr prints user errors as 'error: <what to do>' (exit status 2);
    that line is returned without the prefix.  A Python without singlehdr
    ('No module named singlehdr') gets a message saying so.  Otherwise the
    last non-empty line of stderr (a crash), or the exit status.
    """
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    if any("No module named singlehdr" in ln or "No module named 'singlehdr'" in ln for ln in lines):
        return (f"the Python at {python} has no singlehdr installed; install it there (pip install singlehdr) "
                f"or set the node's 'python' knob / {ENV_PYTHON} to the Python that has it")
    for ln in reversed(lines):
        if ln.startswith("error:"):
            return ln[len("error:") :].strip()
    if lines:
        return f"singlehdr failed (exit status {returncode}): {lines[-1]}"
    return f"singlehdr failed with exit status {returncode} and no message"


def _pump(stream: IO[str], sink: List[str]) -> None:
    for line in iter(stream.readline, ""):
        sink.append(line)
    stream.close()


def _stop(proc: "subprocess.Popen[str]") -> None:
    """Terminate the run and everything it started (its process group on POSIX)."""
    sig_term = getattr(signal, "SIGTERM")
    sig_kill = getattr(signal, "SIGKILL", sig_term)
    for sig, wait_s in ((sig_term, 10.0), (sig_kill, 10.0)):
        try:
            if os.name == "posix":
                os.killpg(proc.pid, sig)
            elif sig is sig_term:
                proc.terminate()
            else:
                proc.kill()
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def run_cli(
    argv: Sequence[str],
    *,
    cancelled: Callable[[], bool] = lambda: False,
    tick: Callable[[float, List[str]], None] = lambda elapsed, lines: None,
    poll_s: float = 0.1,
    timeout_s: Optional[float] = None,
    env: Optional[Dict[str, str]] = None,
) -> str:
    """Run singlehdr; returns its stdout, raises NodeError with one line.

    Polls every ``poll_s`` seconds so the caller can update a progress bar
    (``tick(elapsed_s, stdout_lines_so_far)``; singlehdr prints one line per
    finished image) and cancel (``cancelled()`` -> the process is terminated
    and Cancelled raised).  ``env``: the base environment (default
    os.environ), cleaned by :func:`child_env`.  Called on a worker thread
    by the gizmo, so Nuke's UI stays responsive.
    """
    run_env = child_env(env)  # Nuke's Python/library variables stripped; unbuffered output
    try:
        proc = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=run_env,
            start_new_session=os.name == "posix",  # its own process group: cancel stops its children too
        )
    except OSError as exc:
        raise NodeError(f"cannot start {argv[0]}: {exc.strerror or exc}; check the node's 'python' knob") from None
    out_lines: List[str] = []
    err_lines: List[str] = []
    pumps = [
        threading.Thread(target=_pump, args=(proc.stdout, out_lines), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, err_lines), daemon=True),
    ]
    for t in pumps:
        t.start()
    t0 = time.monotonic()
    stop: Optional[NodeError] = None
    while proc.poll() is None:
        elapsed = time.monotonic() - t0
        if timeout_s is not None and elapsed > timeout_s:
            stop = NodeError(f"singlehdr took longer than {timeout_s:.0f} s and was stopped")
        elif cancelled():
            stop = Cancelled("cancelled; no new result was loaded")
        if stop is not None:
            _stop(proc)
            break
        tick(elapsed, list(out_lines))
        time.sleep(poll_s)
    for t in pumps:
        t.join(timeout=10)
    if stop is not None:
        raise stop
    if proc.returncode != 0:
        raise NodeError(error_line("".join(err_lines), proc.returncode, str(argv[0])))
    return "".join(out_lines)


def pick_srgb_colorspace(values: Sequence[str]) -> Optional[str]:
    """The sRGB display-encoding entry of a Write node's colorspace menu.

    Nuke's default config calls it 'sRGB'; OCIO ACES configs 'Output - sRGB',
    'sRGB - Texture' or 'sRGB Encoded Rec.709 (sRGB)' (menus may prefix a
    family, 'Output/Output - sRGB').  Plain sRGB encodings come first: ACES
    'Output - sRGB' applies the RRT (a tone curve singlehdr cannot undo) and
    is used only when a config has nothing else.  Returns None when there is none.
    """
    wanted = ("srgb", "srgb - texture", "srgb encoded rec.709 (srgb)", "srgb_tx", "utility - srgb - texture", "output - srgb")
    names = [str(v) for v in values]
    for want in wanted:
        for name in names:
            if name.split("/")[-1].strip().lower() == want:
                return name
    return None
