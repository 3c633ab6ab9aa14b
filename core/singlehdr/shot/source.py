"""Where a shot's frames come from: an image sequence on disk or a movie file.

Both give numbered frames as :class:`singlehdr.types.LDRImage` s:

- :class:`SequenceSource`: ``plate.####.jpg`` style patterns
  (:mod:`singlehdr.io.sequence`); frame numbers are the file's.
- :class:`MovieSource`: a movie (.mp4, .mov, ...) decoded with imageio's
  ffmpeg plugin (the optional ``movie`` extra: ``pip install 'singlehdr[movie]'``,
  i.e. imageio-ffmpeg, which ships its own ffmpeg binary); frames are
  numbered from ``first_frame`` (default 1) in decode order.  8-bit video is
  treated as display-referred sRGB-like (Rec.709 video uses nearly the same
  curve; the networks estimate the actual response anyway).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SingleHDRError
from ..types import LDRImage

#: File name endings read as movies.
MOVIE_EXTENSIONS = (".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".mts", ".m2ts", ".3gp")


def is_movie(path: str | Path) -> bool:
    return Path(path).suffix.lower() in MOVIE_EXTENSIONS


class SequenceSource:
    """Frames of a sequence pattern (see :mod:`singlehdr.io.sequence`)."""

    kind = "sequence"

    def __init__(self, pattern: Any, frames_on_disk: list[int] | None = None, *, max_pixels: int | None = None):
        self.pattern = pattern
        self.max_pixels = max_pixels
        self._on_disk = frames_on_disk

    @property
    def display(self) -> str:
        return self.pattern.display()

    @property
    def stem(self) -> str:
        return self.pattern.prefix

    def available_frames(self) -> list[int]:
        if self._on_disk is None:
            self._on_disk = self.pattern.find_frames()
        return list(self._on_disk)

    def input_path(self, frame: int) -> Path:
        return self.pattern.path(frame)

    def read(self, frame: int) -> LDRImage:
        from ..io import read_ldr

        path = self.pattern.path(frame)
        if not path.is_file():
            raise SingleHDRError(f"input frame {path} is missing")
        return read_ldr(path, max_pixels=self.max_pixels) if self.max_pixels else read_ldr(path)

    def iter_frames(self, frames: list[int]) -> Iterator[tuple[int, LDRImage | None, BaseException | None]]:
        """(frame, image, None) or (frame, None, error) for each frame, in order."""
        for f in frames:
            try:
                yield f, self.read(f), None
            except Exception as exc:  # a bad frame fails alone; the run goes on
                yield f, None, exc


def _imageio_ffmpeg() -> None:
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        raise SingleHDRError(
            "reading movies needs imageio-ffmpeg: pip install 'singlehdr[movie]' (or convert to an image sequence first)"
        ) from None


class MovieSource:
    """Frames of a movie file, numbered first_frame, first_frame + 1, ... in decode order."""

    kind = "movie"

    def __init__(self, path: str | Path, *, first_frame: int = 1, max_pixels: int | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise SingleHDRError(f"input {self.path} does not exist; check the path")
        _imageio_ffmpeg()
        self.first_frame = int(first_frame)
        self.max_pixels = max_pixels
        self._count: int | None = None
        self.meta: dict[str, Any] = {}
        try:
            with self._reader() as r:
                self.meta = dict(r.get_meta_data())
        except SingleHDRError:
            raise
        except Exception as exc:
            raise SingleHDRError(f"cannot read movie {self.path.name}: {str(exc).splitlines()[0] if str(exc) else exc}") from None
        size = self.meta.get("size") or (0, 0)
        if max_pixels and size[0] * size[1] > max_pixels:
            raise SingleHDRError(f"movie {self.path.name} is {size[0]}x{size[1]}; raise --max-pixels to read it")

    def _reader(self) -> Any:
        import imageio.v2 as iio

        return iio.get_reader(str(self.path), format="ffmpeg")

    @property
    def display(self) -> str:
        return str(self.path)

    @property
    def stem(self) -> str:
        return self.path.stem + "."

    def available_frames(self) -> list[int]:
        if self._count is None:
            try:
                with self._reader() as r:
                    self._count = int(r.count_frames())
            except Exception as exc:
                raise SingleHDRError(f"cannot count the frames of {self.path.name}: {exc}") from None
            if self._count < 1:
                raise SingleHDRError(f"movie {self.path.name} has no frames")
        return list(range(self.first_frame, self.first_frame + self._count))

    def input_path(self, frame: int) -> Path:
        return self.path

    @staticmethod
    def _to_ldr(a: np.ndarray, path: Path, frame: int) -> LDRImage:
        ldr = LDRImage.from_array(np.asarray(a)[..., :3])
        ldr.path = path
        ldr.exif = {}
        return ldr

    def read(self, frame: int) -> LDRImage:
        for f, ldr, err in self.iter_frames([frame]):
            if err is not None:
                raise err
            return ldr  # type: ignore[return-value]
        raise SingleHDRError(f"frame {frame} is not in {self.path.name}")

    def iter_frames(self, frames: list[int]) -> Iterator[tuple[int, LDRImage | None, BaseException | None]]:
        """Decode once, front to back, yielding the wanted frames in order."""
        wanted = sorted(set(frames))
        if not wanted:
            return
        want = set(wanted)
        got: set[int] = set()
        try:
            with self._reader() as r:
                for i, a in enumerate(r):
                    f = self.first_frame + i
                    if f > wanted[-1]:
                        break
                    if f in want:
                        got.add(f)
                        yield f, self._to_ldr(a, self.path, f), None
        except Exception as exc:  # a broken stream: the frames not read yet fail
            for f in wanted:
                if f not in got:
                    yield f, None, SingleHDRError(f"cannot decode frame {f} of {self.path.name}: {exc}")
            return
        for f in wanted:
            if f not in got:
                yield f, None, SingleHDRError(f"frame {f} is past the end of {self.path.name}")

