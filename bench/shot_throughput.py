"""Throughput of a sequence run vs single-image calls, in frames per minute.

Makes ``--frames`` 1920x1080 JPEG frames (a pan over a bundled HDRI through
the project's camera model), then times, in one run and on the same machine
(order: sequence, single calls, sequence again; the sequence row is the mean
of its two runs, so a load that drifts during the run does not favour one mode):

- ``single``: one ``singlehdr reconstruct frame.jpg -o frame.exr`` process per
  frame (what a shell loop or a naive farm job does: Python, torch and the
  model are loaded for every frame);
- ``sequence``: one ``singlehdr reconstruct plate.####.jpg -o out/plate.####.exr``
  process (model loaded once, shot lock estimated once, decode / inference /
  write overlapped by the bounded pipeline of singlehdr.shot);
- ``sequence --per-frame`` (with ``--per-frame``): the same without the shot lock.

Every process gets ``OMP_NUM_THREADS=--threads`` (default 2 = the machine's
cores).  Wall-clock times include process start-up, as a user sees them.

    python bench/shot_throughput.py --frames 8

Writes bench/out/shot_throughput/throughput.md and .csv and prints the table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT_DIR, machine_info, write_table  # noqa: E402

CORE = Path(__file__).resolve().parent.parent / "core"


def make_frames(folder: Path, n: int, size=(1920, 1080)) -> None:
    from PIL import Image

    from flicker import bundled_hdri, render_pan
    from singlehdr.camera.crf import srgb_curve
    from singlehdr.camera.forward import apply_crf, clip01, quantize, to_uint8
    from singlehdr.io import read_hdr

    env, _ = read_hdr(bundled_hdri("courtyard"))
    views = render_pan(env, n, (size[0] // 4, size[1] // 4), yaw0=0.0, yaw_step=1.0, pitch=5.0, hfov=60.0, ss=1)
    folder.mkdir(parents=True, exist_ok=True)
    curve = srgb_curve()
    for i, v in enumerate(views):
        scale = 0.18 / float(np.median(v.mean(axis=2)))
        ldr = to_uint8(quantize(apply_crf(clip01(v * scale), curve)))
        Image.fromarray(ldr).resize(size, Image.BICUBIC).save(folder / f"plate.{1001 + i:04d}.jpg", quality=92)


def run(cmd: list[str], threads: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(CORE), OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    return dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default=None)
    ap.add_argument("--per-frame", action="store_true", help="also time a sequence run with --per-frame")
    ap.add_argument("--out", type=Path, default=OUT_DIR / "shot_throughput")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="singlehdr_tput_"))
    try:
        make_frames(work / "in", args.frames)
        py = [sys.executable, "-m", "singlehdr.cli", "reconstruct"]
        extra = ["--device", "cpu", "-q"] + (["--model", args.model] if args.model else [])
        times: dict[str, float] = {}
        seq_cmd = py + [str(work / "in" / "plate.####.jpg"), "-o", str(work / "seq" / "plate.####.exr")] + extra

        def sequence() -> float:
            shutil.rmtree(work / "seq", ignore_errors=True)
            return run(seq_cmd, args.threads)

        # sequence, single calls, sequence (A B A): a load that changes over the run (a shared machine)
        # biases both sequence runs in opposite directions; their mean is the row
        s1 = sequence()
        t = 0.0
        for i in range(args.frames):
            src = work / "in" / f"plate.{1001 + i:04d}.jpg"
            t += run(py + [str(src), "-o", str(work / "single" / f"plate.{1001 + i:04d}.exr")] + extra, args.threads)
        times["single-image calls (one process per frame)"] = t
        s2 = sequence()
        times[f"sequence run, shot-locked (default; mean of {s1:.1f} s before and {s2:.1f} s after)"] = (s1 + s2) / 2
        if args.per_frame:
            times["sequence run, --per-frame"] = run(
                py + [str(work / "in" / "plate.####.jpg"), "-o", str(work / "pf" / "plate.####.exr"), "--per-frame"]
                + extra, args.threads)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = times["single-image calls (one process per frame)"]
    rows = [{"mode": k, "frames": args.frames, "wall s": f"{v:.1f}", "frames / min": f"{60 * args.frames / v:.2f}",
             "speed vs single calls": f"{base / v:.2f}x"} for k, v in times.items()]
    info = machine_info()
    pre = (f"Device: CPU ({info['cpu']}), {info['cpu_cores']} cores shared with other engineers' jobs while measured, "
           f"OMP_NUM_THREADS={args.threads}; torch {info['torch']}; 1920x1080 JPEG frames; the shipped model "
           f"unless --model.  All rows measured in one run.\n\nCommand: python bench/shot_throughput.py "
           + " ".join(sys.argv[1:] if argv is None else argv))
    text = write_table(rows, ["mode", "frames", "wall s", "frames / min", "speed vs single calls"],
                       args.out / "throughput.md", args.out / "throughput.csv", title="Sequence throughput", preamble=pre)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
