"""Image sequences, folders and frame ranges -> a list of input files.

Pattern forms (VFX conventions):

- ``plate.####.jpg``      Nuke-style hashes: one ``#`` per digit (4 here);
- ``plate.%04d.jpg``      printf-style (``%d`` = no padding);
- ``plate.1001-1100#.jpg`` RV/DJV-style range: ``#`` = 4-digit padding,
  ``@`` = one digit each (``1-10@@@`` = 3 digits);
- frame ranges (``--frames``): ``1001-1100``, ``1001-1100x2`` (step),
  ``1,5,10-20`` (lists), single frames ``1001``.

Without a frame range a hash/printf pattern is matched against the files in
its folder.  :func:`expand_inputs` turns CLI inputs (files, folders, patterns)
into :class:`InputItem` s; :func:`output_path` names their outputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from ..errors import SingleHDRError
from .ldr import LDR_EXTENSIONS

IMAGE_EXTENSIONS = tuple(e for exts in LDR_EXTENSIONS.values() for e in exts)

_RANGE_HASH = re.compile(r"(-?\d+)-(-?\d+)(?:x(\d+))?([#@]+)")
_HASHES = re.compile(r"#+|@+")
_PRINTF = re.compile(r"%(0?)(\d*)d")


@dataclass(frozen=True)
class SequencePattern:
    """A frame-numbered file name: ``prefix + frame (zero-padded to pad) + suffix``."""

    folder: Path
    prefix: str
    suffix: str
    pad: int

    def path(self, frame: int) -> Path:
        """The file of one frame (negative frames keep the sign before the padding)."""
        sign = "-" if frame < 0 else ""
        return self.folder / f"{self.prefix}{sign}{abs(frame):0{self.pad}d}{self.suffix}"

    def display(self) -> str:
        return str(self.folder / f"{self.prefix}{'#' * max(self.pad, 1)}{self.suffix}")

    def find_frames(self) -> list[int]:
        """Frames present on disk, sorted."""
        if not self.folder.is_dir():
            return []
        digits = rf"\d{{{self.pad},}}" if self.pad > 1 else r"\d+"
        rx = re.compile(re.escape(self.prefix) + rf"(-?{digits})" + re.escape(self.suffix) + r"$")
        frames = []
        for p in self.folder.iterdir():
            m = rx.match(p.name)
            if m and p.is_file():
                frames.append(int(m.group(1)))
        return sorted(set(frames))


def parse_frames(spec: str) -> list[int]:
    """Frame-range text -> sorted unique frames.

    "1001-1100" (inclusive), "1001-1100x2" (every 2nd), "1,5,10-12",
    "-5--1" (negative frames).  SingleHDRError for bad text.
    """
    frames: set[int] = set()
    text = str(spec).replace(" ", "")
    if not text:
        raise SingleHDRError("empty frame range; use e.g. --frames 1001-1100")
    for part in text.split(","):
        m = re.fullmatch(r"(-?\d+)(?:-(-?\d+)(?:x(\d+))?)?", part)
        if not m:
            raise SingleHDRError(f"bad frame range {part!r}; use e.g. 1001-1100, 1001-1100x2 or 1,5,10-20")
        start = int(m.group(1))
        end = int(m.group(2)) if m.group(2) is not None else start
        step = int(m.group(3) or 1)
        if end < start or step < 1:
            raise SingleHDRError(f"bad frame range {part!r}: the end must not be before the start and the step must be >= 1")
        if (end - start) // step > 1_000_000:
            raise SingleHDRError(f"frame range {part!r} is too long")
        frames.update(range(start, end + 1, step))
    return sorted(frames)


def parse_pattern(text: str | PathLike[str]) -> tuple[SequencePattern, list[int] | None] | None:
    """Parse a sequence pattern; None if ``text`` has no frame token.

    Returns (pattern, frames) where frames is the embedded range of the
    RV-style form, else None.  Only the file name (not folders) is parsed.
    """
    p = Path(text)
    name = p.name
    m = _RANGE_HASH.search(name)
    if m:
        marks = m.group(4)
        pad = 4 if marks == "#" else len(marks)
        step = f"x{m.group(3)}" if m.group(3) else ""
        frames = parse_frames(f"{m.group(1)}-{m.group(2)}{step}")
        return SequencePattern(p.parent, name[: m.start()], name[m.end():], pad), frames
    m = _PRINTF.search(name)
    if m:
        pad = int(m.group(2) or 1)
        return SequencePattern(p.parent, name[: m.start()], name[m.end():], pad), None
    found = list(_HASHES.finditer(name))
    if found:
        m = found[-1]  # the frame number is the last token (folders may contain '#')
        return SequencePattern(p.parent, name[: m.start()], name[m.end():], len(m.group(0))), None
    return None


def _natural_key(path: Path) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


@dataclass(frozen=True)
class InputItem:
    """One file to process.

    path: the input file.  frame: its frame number if from a sequence.
    sequence: the pattern it came from (for output naming), or None.
    """

    path: Path
    frame: int | None = None
    sequence: SequencePattern | None = None


def folder_images(folder: Path) -> list[Path]:
    """Image files (by extension) directly in ``folder``, naturally sorted, hidden files skipped."""
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
             and p.suffix.lower() in IMAGE_EXTENSIONS]
    return sorted(files, key=_natural_key)


def expand_inputs(inputs: list[str] | tuple[str, ...], frames: str | None = None) -> list[InputItem]:
    """CLI inputs -> InputItems, in order, duplicates removed.

    Each input is a file, a folder (its image files, sorted) or a sequence
    pattern (see module doc).  ``frames`` (e.g. "1001-1100") selects the
    frames of hash/printf patterns; without it they are found on disk.
    SingleHDRError when an input matches nothing or a requested frame is missing.
    """
    if not inputs:
        raise SingleHDRError("no input given; pass image files, a folder or a sequence such as plate.####.jpg")
    wanted = parse_frames(frames) if frames else None
    items: list[InputItem] = []
    for text in inputs:
        p = Path(text)
        if p.is_dir():
            files = folder_images(p)
            if not files:
                raise SingleHDRError(f"folder {p} has no images ({', '.join(IMAGE_EXTENSIONS[:6])}, ...)")
            items.extend(InputItem(f) for f in files)
            continue
        if p.exists():
            items.append(InputItem(p))
            continue
        parsed = parse_pattern(text)
        if parsed is None:
            raise SingleHDRError(f"input {p} does not exist; check the path")
        seq, embedded = parsed
        chosen = wanted if wanted is not None else embedded
        if chosen is None:
            chosen = seq.find_frames()
            if not chosen:
                raise SingleHDRError(f"no files match the sequence {seq.display()}")
        missing = [f for f in chosen if not seq.path(f).is_file()]
        if missing:
            raise SingleHDRError(
                f"sequence {seq.display()} is missing {len(missing)} of {len(chosen)} frames (first: {seq.path(missing[0]).name})"
            )
        items.extend(InputItem(seq.path(f), f, seq) for f in chosen)
    if wanted is not None and not any(it.sequence is not None for it in items):
        raise SingleHDRError(f"--frames {frames} needs a sequence input such as plate.####.jpg; none was given")
    seen: set[Path] = set()
    unique = []
    for it in items:
        key = it.path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(it)
    return unique


def output_path(item: InputItem, output: str | PathLike[str], ext: str, *, single: bool) -> Path:
    """Where the output of ``item`` goes.

    output: a file name (only for a ``single`` input), a sequence pattern
    such as ``out.####.exr`` (only for sequence inputs: the frame is put in),
    or a folder (an existing one, one ending in "/", or a name without an
    extension).
    ext: the output extension (".exr" or ".hdr") used inside folders.
    Sequences keep their name pattern (``plate.1001.jpg`` -> ``plate.1001.exr``);
    other files keep their stem.
    """
    out = Path(output)
    parsed = parse_pattern(out) if not out.is_dir() else None
    if parsed is not None:
        seq, _ = parsed
        if item.frame is None:
            raise SingleHDRError(f"output pattern {out} needs sequence input (plate.####.jpg); give a folder instead")
        return seq.path(item.frame)
    if single and out.suffix and not (out.is_dir() or str(output).endswith(("/", "\\"))):
        return out
    if item.sequence is not None and item.frame is not None:
        name = Path(item.sequence.path(item.frame).name)
        return out / (name.stem + ext)
    return out / (item.path.stem + ext)


def output_paths(items: list[InputItem], output: str | PathLike[str], ext: str) -> list[Path]:
    """Outputs for all items; SingleHDRError if two inputs would write the same file."""
    single = len(items) == 1
    out = Path(output)
    if not single and out.suffix.lower() in (".exr", ".hdr") and not out.is_dir() and parse_pattern(out) is None:
        raise SingleHDRError(f"{len(items)} inputs need an output folder (or a pattern such as out.####.exr), not the file {out}")
    outs = [output_path(it, output, ext, single=single) for it in items]
    seen: dict[Path, Path] = {}
    for it, o in zip(items, outs):
        key = o.resolve()
        if key in seen:
            raise SingleHDRError(f"{it.path.name} and {seen[key].name} would both write {o}; rename one or process them separately")
        seen[key] = it.path
    return outs
