"""Plates (image sequences, movie clips) for the compositor node: frames, the cache, the bake job.

A plate is baked frame by frame by ``singlehdr reconstruct`` in a child
process (:mod:`.runner`) into a cache folder of EXRs
(``<cache>/<name>.####.exr``, the source's own frame numbers); the node then
shows the cached EXR sequence, so scrubbing reads files and never
recomputes, and a second bake only does the frames missing from the cache.
With the shot-locked CLI (``--skip-existing``) the whole shot is named on
one command line, so singlehdr estimates one camera response for the shot;
an older CLI gets only the missing frames.

Movies: the child first writes the clip's frames as PNGs
(``movie_frames.py``, OpenCV, which singlehdr already depends on) into the
cache, numbered from 1 like Blender's movie frames.

Only pure Python here (no bpy): file names and frame numbers.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import runner

_LAST_DIGITS = re.compile(r"^(.*?)(\d+)(\D*)$")
MOVIE_SCRIPT = Path(__file__).with_name("movie_frames.py")


@dataclass(frozen=True)
class FramePattern:
    """``folder / (prefix + frame zero-padded to pad + suffix)``."""

    folder: Path
    prefix: str
    pad: int
    suffix: str

    def path(self, frame: int) -> Path:
        return self.folder / f"{self.prefix}{frame:0{self.pad}d}{self.suffix}"

    def hashes(self) -> str:
        """The pattern in singlehdr's CLI form: ``folder/prefix####suffix``."""
        return str(self.folder / f"{self.prefix}{'#' * self.pad}{self.suffix}")

    def frames_on_disk(self) -> list[int]:
        if not self.folder.is_dir():
            return []
        rx = re.compile(re.escape(self.prefix) + rf"(\d{{{self.pad}}})" + re.escape(self.suffix) + "$")
        return sorted(int(m.group(1)) for p in self.folder.iterdir() if (m := rx.match(p.name)) and p.is_file())


def pattern_of(path: str | os.PathLike[str]) -> tuple[FramePattern, int]:
    """The frame pattern of one file of a sequence and that file's frame number.

    pattern_of("/p/plate.1001.jpg") == (FramePattern(Path("/p"), "plate.", 4, ".jpg"), 1001).
    Raises BakeError when the name holds no frame number.
    """
    p = Path(path)
    stem, ext = os.path.splitext(p.name)
    m = _LAST_DIGITS.match(stem)
    if m is None:
        raise runner.BakeError(f"{p.name} has no frame number; an image sequence needs names like plate.1001.jpg")
    prefix, digits, rest = m.groups()
    return FramePattern(p.parent, prefix, len(digits), rest + ext), int(digits)


def safe_name(text: str) -> str:
    return "".join(c if (c.isalnum() or c in "-_") else "_" for c in text) or "plate"


@dataclass
class PlateBake:
    """Bake a plate into ``cache``: start() -> poll() until not running -> result paths, or cancel().

    kind: "SEQUENCE" (``source`` = one file of the sequence) or "MOVIE"
    (``source`` = the movie file, ``movie_frames`` = its frame count).
    """

    source: Path
    kind: str
    cache: Path
    python: str
    name: str = "plate"
    movie_frames: int = 0
    method: str = "singlehdr"
    model: str = ""
    device: str = "auto"
    input_kind: str = "auto"
    colorspace_key: str = "lin_rec709"
    run: runner.ChildRun | None = None
    frames: list[int] = field(default_factory=list)
    todo: list[int] = field(default_factory=list)
    shot_locked: bool = False

    def __post_init__(self) -> None:
        self.output = FramePattern(self.cache, f"{safe_name(self.name)}.", 4, ".exr")

    def input_pattern(self) -> FramePattern:
        if self.kind == "MOVIE":
            return FramePattern(self.cache / "frames", f"{safe_name(self.name)}.", 4, ".png")
        return pattern_of(self.source)[0]

    def start(self) -> "PlateBake":
        if not self.source.is_file():
            raise runner.BakeError(f"the plate {self.source} cannot be found; check the source image's file path")
        if self.method == "singlehdr" and self.model and not Path(self.model).is_file():
            raise runner.BakeError(f"the model file {self.model} does not exist; fix Preferences > Add-ons > SingleHDR > Model")
        steps: list[list[str]] = []
        if self.kind == "MOVIE":
            if self.movie_frames < 1:
                raise runner.BakeError(f"Blender reads no frames from the movie {self.source.name}")
            self.frames = list(range(1, self.movie_frames + 1))
            pngs = self.input_pattern()
            if any(not pngs.path(f).is_file() for f in self.frames):
                steps.append([self.python, str(MOVIE_SCRIPT), str(self.source), pngs.hashes(), str(self.movie_frames)])
        else:
            self.frames = self.input_pattern().frames_on_disk()
            if not self.frames:
                raise runner.BakeError(f"no frames of {self.source.name} found on disk")
        self.todo = [f for f in self.frames if not self.output.path(f).is_file()]
        self.cache.mkdir(parents=True, exist_ok=True)
        if self.todo:
            self.shot_locked = runner.has_flag(runner.cli_help(self.python, "reconstruct"), "--skip-existing")
            steps.append(runner.reconstruct_argv(
                self.python, self.input_pattern().hashes(), self.output.hashes(),
                self.frames if self.shot_locked else self.todo,
                method=self.method, model=self.model, device=self.device, input_kind=self.input_kind,
                colorspace=self.colorspace_key, skip_existing=self.shot_locked,
            ))
        if not steps:  # everything cached: a run that does nothing, so the operator's flow stays one path
            steps.append([sys.executable or self.python, "-c", "pass"])
        per_frame = 8.0 if self.method == "singlehdr" else 0.5
        self.run = runner.ChildRun(steps, expected_s=per_frame * max(len(self.todo), 1),
                                   count_lines=len(self.todo) if len(steps) == 1 else 0).start()
        return self

    def poll(self) -> str:
        return self.run.poll() if self.run is not None else "failed"

    def progress(self) -> float:
        return self.run.progress() if self.run is not None else 0.0

    def cancel(self) -> None:
        """Stop the child.  Frames already finished stay in the cache (each was written atomically);
        a temporary file of a frame that was being written when the child was killed is removed."""
        if self.run is not None:
            self.run.cancel()
        for folder in (self.cache, self.cache / "frames"):
            if folder.is_dir():
                for p in folder.glob(".*.tmp-*"):
                    p.unlink(missing_ok=True)
                for p in folder.glob("*.part.png"):
                    p.unlink(missing_ok=True)

    def missing(self) -> list[int]:
        return [f for f in self.frames if not self.output.path(f).is_file()]


@dataclass
class StillBake(runner.PrivateFolderJob):
    """One photo file -> one EXR in a private folder, by ``singlehdr reconstruct`` in a child process."""

    source: Path
    private: Path
    python: str
    method: str = "singlehdr"
    model: str = ""
    device: str = "auto"
    input_kind: str = "auto"
    colorspace_key: str = "lin_rec709"
    run: runner.ChildRun | None = None

    @property
    def output(self) -> Path:
        return self.private / "baked.exr"

    def start(self) -> "StillBake":
        if self.method == "singlehdr" and self.model and not Path(self.model).is_file():
            raise runner.BakeError(f"the model file {self.model} does not exist; fix Preferences > Add-ons > SingleHDR > Model")
        argv = runner.reconstruct_argv(self.python, str(self.source), str(self.output), None, method=self.method,
                                       model=self.model, device=self.device, input_kind=self.input_kind,
                                       colorspace=self.colorspace_key)
        self.run = runner.ChildRun([argv], expected_s=8.0 if self.method == "singlehdr" else 1.0).start()
        return self

    def missing(self) -> list[int]:
        return [] if self.output.is_file() else [1]
