"""singlehdr.shot: shot-locked sequence and movie runs for plates and render farms.

One camera response (and exposure, for ``--exposure median``) per shot, kept
in a sidecar JSON beside the outputs and reused by every chunk; chunking
(``--chunk K/N``), resumable runs (``--skip-existing``), a bounded
decode -> reconstruct -> write pipeline, movie input.  The CLI side is
:func:`singlehdr.shot.cli.run_shot_command`; Python callers build a
:class:`ShotJob` and call :func:`run_shot`.
"""

from .chunks import chunk_bounds, chunk_frames, parse_chunk
from .lock import ShotLock, pool_curves, read_sidecar, sample_frames
from .run import ShotJob, ShotReport, output_state, run_shot
from .source import MOVIE_EXTENSIONS, MovieSource, SequenceSource, is_movie

__all__ = [
    "ShotJob", "ShotReport", "ShotLock", "run_shot", "output_state", "chunk_frames", "chunk_bounds", "parse_chunk",
    "pool_curves", "read_sidecar", "sample_frames", "SequenceSource", "MovieSource", "is_movie", "MOVIE_EXTENSIONS",
]
