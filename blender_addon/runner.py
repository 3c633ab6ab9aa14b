"""Running singlehdr's command line in a child process, for the modal bakes (no bpy here).

Blender's UI must never wait for a reconstruction (3-30 s for a photo on a
CPU, minutes for a plate).  The operators start ``python -m singlehdr.cli``
in a separate process, poll it from a window-manager timer and can stop it
at any moment (Esc).  The child writes into a private temporary folder next
to the final files; only a finished, successful run is moved into place
(``os.replace``, atomic on one volume), so a cancelled or failed bake leaves
nothing behind.  Because the child *is* the CLI, the maps the add-on loads
are byte for byte what ``singlehdr envmap`` / ``singlehdr reconstruct`` write.

Which Python runs it (:func:`find_python`): the interpreter set in the
add-on preferences, else ``$SINGLEHDR_PYTHON``, else Blender's own Python when
singlehdr can be imported there (install/blender.sh puts it there).  The
child is used even then: a separate process can be cancelled, and a torch
that crashes cannot take Blender down with it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

ENV_PYTHON = "SINGLEHDR_PYTHON"
# The flag with which ``singlehdr envmap`` writes the sun-free map
# (EnvmapResult.hdr_without_sun) beside the map; used only when the CLI offers it.
WITHOUT_SUN_FLAG = "--without-sun"
FIX_PYTHON = (
    "set Edit > Preferences > Add-ons > SingleHDR > Python to the project's .venv/bin/python "
    "(or run install/blender.sh to install singlehdr into Blender's Python)"
)


class BakeError(Exception):
    """A problem the user can fix; its message is one line saying how."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


# ---------------------------------------------------------------------------
# the interpreter


def find_python(configured: str = "") -> str:
    """The Python that runs singlehdr: preferences, then $SINGLEHDR_PYTHON, then Blender's own.

    Raises BakeError (with the fix) when none is usable.
    """
    for origin, candidate in (("the add-on preferences", configured), (f"${ENV_PYTHON}", os.environ.get(ENV_PYTHON, ""))):
        candidate = (candidate or "").strip()
        if not candidate:
            continue
        found = candidate if os.path.isabs(candidate) else shutil.which(candidate)
        if not found or not os.path.isfile(found) or not os.access(found, os.X_OK):
            raise BakeError(f"the Python interpreter {candidate!r} from {origin} does not exist; {FIX_PYTHON}")
        return found
    if importlib.util.find_spec("singlehdr") is not None and sys.executable and os.path.isfile(sys.executable):
        return sys.executable
    raise BakeError(f"no Python with singlehdr is configured; {FIX_PYTHON}")


_HELP_CACHE: dict[tuple[str, str], str] = {}


def cli_help(python: str, command: str, *, timeout_s: float = 60.0) -> str:
    """``python -m singlehdr.cli COMMAND --help`` (cached per interpreter); raises BakeError with the fix.

    The CLI starts without importing torch, so this takes well under a second.
    """
    key = (python, command)
    if key not in _HELP_CACHE:
        try:
            proc = subprocess.run(
                [python, "-m", "singlehdr.cli", command, "--help"],
                capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise BakeError(f"cannot start {python}: {exc.strerror or exc}; {FIX_PYTHON}") from None
        except subprocess.TimeoutExpired:
            raise BakeError(f"{python} -m singlehdr.cli did not answer in {timeout_s:.0f} s; {FIX_PYTHON}") from None
        if proc.returncode != 0:
            raise BakeError(explain_failure(proc.stderr, proc.returncode, python))
        _HELP_CACHE[key] = proc.stdout
    return _HELP_CACHE[key]


def has_flag(help_text: str, flag: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", help_text) is not None


def explain_failure(stderr: str, returncode: int, python: str = "python") -> str:
    """One line for a failed child run, with the fix where we know it.

    singlehdr prints user errors as ``error: <what to do>`` (exit 2): that
    line is used as is.  A missing singlehdr / torch in the child's Python
    gets the fix.  Otherwise the last line of stderr.
    """
    text = stderr or ""
    if re.search(r"No module named '?singlehdr", text):
        return f"{python} has no singlehdr installed; {FIX_PYTHON}"
    m = re.search(r"No module named '?([\w.]+)'?", text)
    if m:
        return (f"{python} lacks the package {m.group(1)!r} that singlehdr needs: install singlehdr's dependencies there "
                f"(pip install <repo>), or {FIX_PYTHON}")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in reversed(lines):
        if "unrecognized arguments" in ln:  # the CLI's one-line usage error: an option this singlehdr lacks
            return f"this singlehdr is too old for the add-on ({ln}); update singlehdr in {python}"
        if ln.startswith("error:"):
            return ln[len("error:"):].strip()
    if lines:
        return f"singlehdr failed (exit status {returncode}): {lines[-1]}"
    return f"singlehdr failed with exit status {returncode} and no message"


# ---------------------------------------------------------------------------
# command lines


def envmap_argv(
    python: str,
    source: str,
    out_exr: str,
    report: str,
    *,
    kind: str = "auto",
    width: int = 1024,
    method: str = "singlehdr",
    model: str = "",
    device: str = "auto",
    exposure: str = "relative",
    exposure_target: float | None = None,
    colorspace: str = "lin_rec709",
    fov: float = 0.0,
    sun: str | None = None,
    without_sun: str | None = None,
    brackets: Sequence[str] = (),
    ev: str = "",
) -> list[str]:
    """``python -m singlehdr.cli envmap SOURCE -o OUT --report JSON ...``.

    sun: "auto" / "on" / "off" (passed only when given: older singlehdr has no --sun);
    without_sun: where the sun-free map goes (only when the CLI offers WITHOUT_SUN_FLAG);
    brackets: several exposures of one scene (``--brackets A B C`` in place of SOURCE);
    ev: their exposure values in stops, in that order ("-2,0,2" or "-2 0 2"; empty = EXIF).
    A camera RAW / DNG SOURCE needs nothing extra: the CLI reads it.
    """
    inputs = ["--brackets", *brackets] if brackets else [source]
    argv = [python, "-m", "singlehdr.cli", "envmap", *inputs, "-o", out_exr, "--report", report,
            "--kind", kind, "--width", str(int(width)), "--method", method, "--device", device,
            "--exposure", exposure, "--colorspace", colorspace]
    if method == "singlehdr" and model:
        argv += ["--model", model]
    if exposure == "median" and exposure_target is not None:
        argv += ["--exposure-target", repr(float(exposure_target))]
    if fov and fov > 0:
        argv += ["--fov", repr(float(fov))]
    if sun is not None:
        argv += ["--sun", sun]
    if without_sun:
        argv += [WITHOUT_SUN_FLAG, without_sun]
    ev_flag = ev_argument(ev)
    if ev_flag:
        argv.append(ev_flag)
    return argv


def ev_argument(ev: str) -> str:
    """An EV list as typed ("-2, 0, 2", "-2 0 2") -> the CLI's ``--ev=-2,0,2``; "" when empty.

    The values are not checked here: singlehdr says in one line what is wrong with them.
    """
    values = (ev or "").replace(",", " ").split()
    return f"--ev={','.join(values)}" if values else ""


def frames_spec(frames: Sequence[int]) -> str:
    """Frame numbers as singlehdr's --frames text: frames_spec([1, 2, 3, 7]) == "1-3,7"."""
    runs: list[list[int]] = []
    for f in sorted({int(f) for f in frames}):
        if runs and f == runs[-1][1] + 1:
            runs[-1][1] = f
        else:
            runs.append([f, f])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def reconstruct_argv(
    python: str,
    source_pattern: str,
    out_pattern: str,
    frames: Sequence[int] | None,
    *,
    method: str = "singlehdr",
    model: str = "",
    device: str = "auto",
    input_kind: str = "auto",
    colorspace: str = "lin_rec709",
    skip_existing: bool = False,
) -> list[str]:
    """``python -m singlehdr.cli reconstruct PATTERN --frames F -o OUT.####.exr ... [--skip-existing]``.

    With ``skip_existing`` (the shot-locked CLI) the whole shot is named and the
    CLI skips frames already in the cache, keeping one camera response per shot;
    without it ``frames`` should hold only the missing frames.
    """
    argv = [python, "-m", "singlehdr.cli", "reconstruct", source_pattern]
    if frames:
        argv += ["--frames", frames_spec(frames)]
    argv += ["-o", out_pattern, "--method", method, "--device", device, "--input-kind", input_kind,
             "--colorspace", colorspace, "--float"]
    if method == "singlehdr" and model:
        argv += ["--model", model]
    argv += ["--skip-existing"] if skip_existing else ["--overwrite"]
    return argv


# ---------------------------------------------------------------------------
# the child process


def _pump(stream, sink: list[str]) -> None:
    for line in iter(stream.readline, ""):
        sink.append(line)
    stream.close()


@dataclass
class ChildRun:
    """Commands run one after the other in a child process; poll() never blocks.

    ``expected_s`` sizes the time-based progress of a step that prints nothing
    until it ends; ``count_lines`` (> 0) makes progress = printed lines / count
    (singlehdr reconstruct prints one line per finished frame).
    """

    steps: list[list[str]]
    expected_s: float = 20.0
    count_lines: int = 0
    env: dict[str, str] | None = None
    state: str = "new"  # new | running | done | failed | cancelled
    error: str = ""
    stdout: str = ""
    _proc: subprocess.Popen | None = field(default=None, repr=False)
    _out: list[str] = field(default_factory=list, repr=False)
    _err: list[str] = field(default_factory=list, repr=False)
    _pumps: list[threading.Thread] = field(default_factory=list, repr=False)
    _step: int = 0
    _t0: float = 0.0

    def start(self) -> "ChildRun":
        self._t0 = time.monotonic()
        self.state = "running"
        self._launch()
        return self

    def _launch(self) -> None:
        argv = self.steps[self._step]
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONUNBUFFERED"] = "1"
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 2) - 1)))
        self._out, self._err = [], []
        try:
            self._proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env,
                start_new_session=os.name == "posix",  # its own process group: cancel stops what it started too
            )
        except OSError as exc:
            self.state, self.error = "failed", f"cannot start {argv[0]}: {exc.strerror or exc}; {FIX_PYTHON}"
            return
        self._pumps = [threading.Thread(target=_pump, args=(s, sink), daemon=True)
                       for s, sink in ((self._proc.stdout, self._out), (self._proc.stderr, self._err))]
        for t in self._pumps:
            t.start()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._t0 if self._t0 else 0.0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def progress(self) -> float:
        """0..1 (never 1 before the end): printed lines / count_lines, else time-based."""
        if self.state == "done":
            return 1.0
        done_steps = self._step / len(self.steps)
        if self.count_lines > 0:
            lines = sum(1 for ln in self._out if ln.strip() and not ln.startswith(" "))
            step = min(lines / self.count_lines, 0.99)
        else:
            step = min(1.0 - 2.718281828 ** (-self.elapsed / max(self.expected_s, 0.1)), 0.95)
        return min(done_steps + step / len(self.steps), 0.99)

    def poll(self) -> str:
        """Advance: returns the state (running, done, failed, cancelled)."""
        if self.state != "running" or self._proc is None:
            return self.state
        rc = self._proc.poll()
        if rc is None:
            return self.state
        for t in self._pumps:
            t.join(timeout=10)
        self.stdout += "".join(self._out)
        if rc != 0:
            self.state = "failed"
            self.error = explain_failure("".join(self._err), rc, self.steps[self._step][0])
            return self.state
        self._step += 1
        if self._step < len(self.steps):
            self._launch()
            return self.state
        self.state = "done"
        return self.state

    def wait(self, cancelled: Callable[[], bool] = lambda: False, poll_s: float = 0.05) -> str:
        """Block until the end (scripts and headless use); ``cancelled()`` stops it."""
        while self.poll() == "running":
            if cancelled():
                self.cancel()
                break
            time.sleep(poll_s)
        return self.state

    def cancel(self) -> None:
        """Stop the child and everything it started; the state becomes 'cancelled'."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            # SIGINT first: singlehdr's CLI turns it into KeyboardInterrupt, so its atomic writers
            # remove their temporary files; then SIGTERM / SIGKILL for a child that does not stop.
            steps = ((signal.SIGINT, 1.0), (signal.SIGTERM, 5.0), (getattr(signal, "SIGKILL", signal.SIGTERM), 5.0))
            for sig, wait_s in steps:
                try:
                    if os.name == "posix":
                        os.killpg(proc.pid, sig)
                    elif sig != getattr(signal, "SIGKILL", None):
                        proc.terminate()
                    else:
                        proc.kill()
                except (ProcessLookupError, PermissionError):
                    pass
                try:
                    proc.wait(timeout=wait_s)
                    break
                except subprocess.TimeoutExpired:
                    continue
        for t in self._pumps:
            t.join(timeout=5)
        if self.state in ("new", "running"):
            self.state = "cancelled"


# ---------------------------------------------------------------------------
# private output folders


def private_folder(final_folder: Path) -> Path:
    """A fresh hidden folder inside ``final_folder`` (same volume, so the final rename is atomic)."""
    final_folder.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".singlehdr-", dir=final_folder))


def free_path(folder: Path, name: str) -> Path:
    """``folder/name``, numbered (name_001.exr, ...) if that file exists."""
    path = folder / name
    stem, suffix = path.stem, path.suffix
    n = 0
    while path.exists():
        n += 1
        path = folder / f"{stem}_{n:03d}{suffix}"
    return path


def move_into_place(src: Path, dst: Path) -> Path:
    """Rename a finished file into place (never over an existing file)."""
    if dst.exists():
        raise BakeError(f"{dst} appeared while baking; nothing was replaced")
    os.replace(src, dst)
    return dst


def remove_private(folder: Path | None) -> None:
    if folder is not None and folder.name.startswith(".singlehdr-"):
        shutil.rmtree(folder, ignore_errors=True)


class PrivateFolderJob:
    """poll/progress/cancel shared by the bakes whose child process writes into a private
    folder (``self.private``) that is removed when the run fails or is cancelled.  Subclasses
    (dataclasses) have the fields ``run: ChildRun | None`` and ``private: Path | None``."""

    run: "ChildRun | None"
    private: "Path | None"

    def poll(self) -> str:
        state = self.run.poll() if self.run is not None else "failed"
        if state in ("failed", "cancelled"):
            remove_private(self.private)
        return state

    def progress(self) -> float:
        return self.run.progress() if self.run is not None else 0.0

    def cancel(self) -> None:
        if self.run is not None:
            self.run.cancel()
        remove_private(self.private)
