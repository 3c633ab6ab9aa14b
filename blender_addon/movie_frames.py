"""Write a movie's frames as 8-bit PNGs, for singlehdr (run in singlehdr's Python, not Blender's).

    python movie_frames.py MOVIE OUT.####.png COUNT

Frames are numbered from 1, as Blender numbers a movie's frames; existing
PNGs are kept (the cache), each new one is written to a temporary name and
renamed.  Uses OpenCV, a dependency of singlehdr.  Prints one line per frame.
"""

from __future__ import annotations

import os
import re
import sys


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("error: usage: movie_frames.py MOVIE OUT.####.png COUNT", file=sys.stderr)
        return 2
    movie, pattern, count = argv[0], argv[1], int(argv[2])
    import cv2

    m = re.search(r"#+", pattern)
    if m is None:
        print("error: the output needs a #### frame pattern", file=sys.stderr)
        return 2
    pad = len(m.group(0))
    os.makedirs(os.path.dirname(pattern) or ".", exist_ok=True)
    cap = cv2.VideoCapture(movie)
    if not cap.isOpened():
        print(f"error: OpenCV cannot read the movie {movie}; convert it to an image sequence", file=sys.stderr)
        return 2
    frame = 0
    while frame < count:
        ok, bgr = cap.read()
        if not ok:
            break
        frame += 1
        out = pattern[: m.start()] + f"{frame:0{pad}d}" + pattern[m.end():]
        if os.path.exists(out):
            continue
        tmp = out[:-4] + ".part.png"
        if not cv2.imwrite(tmp, bgr):
            print(f"error: cannot write {out}", file=sys.stderr)
            return 2
        os.replace(tmp, out)
        print(out, flush=True)
    cap.release()
    if frame < count:
        print(f"error: the movie {movie} has only {frame} readable frames of {count}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
