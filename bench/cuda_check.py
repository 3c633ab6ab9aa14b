"""CUDA against CPU: the shipped model's agreement and speed on a GPU, and the envmap and TorchScript paths there.

    PYTHONPATH=core python bench/cuda_check.py [--out bench/out/cuda_check.md] [--threads 16]

Needs a CUDA GPU (exits 2 with one line without one).  Prints markdown tables and writes them to ``--out``:

1. **Agreement** on the bundled sample photo (``singlehdr.data.sample_path()``): ``singlehdr.api.reconstruct``
   with the default options on the CPU (fp32) is the reference; on CUDA at fp32, bf16 and fp16, untiled and tiled
   (512, overlap 64): the log2 ratio error against the reference over pixels whose reference luminance is at
   least 1e-3 of LDR white (mean, 99th percentile, max) and the relative RMSE.  Seconds: best of three warm runs.
2. **Envmap**: ``make_envmap`` on the sample resized to a 2048x1024 and a 4096x2048 equirect, 1024 wide map,
   sun auto, device cpu and cuda: seconds (best of two warm runs), whether a sun was added, and the largest log2
   ratio between the two maps (the sun/glare code is numpy and runs on the CPU either way).
3. **TorchScript**: ``export_torchscript`` on CUDA (the Nuke wrapper, its own check at 512x512), the file loaded
   with ``torch.jit.load`` and run on CUDA at 1080x1920, against the same file run on the CPU.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

LUMA = np.array([0.2126, 0.7152, 0.0722])


def log2_err(out: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """Log2 ratio error of ``out`` against ``ref`` over pixels whose reference luminance is >= 1e-3."""
    y = ref @ LUMA
    m = y >= 1e-3
    e = np.abs(np.log2(np.maximum(out[m], 1e-6) / np.maximum(ref[m], 1e-6)))
    rel = float(np.sqrt(np.mean((out - ref) ** 2)) / max(float(np.sqrt(np.mean(ref ** 2))), 1e-12))
    return {"mean": float(e.mean()), "p99": float(np.percentile(e, 99)), "max": float(e.max()), "rel_rmse": rel}


def best_of(n: int, fn):
    import torch

    out, best = None, float("inf")
    for _ in range(n):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t = time.perf_counter()
        out = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return out, best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "cuda_check.md")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads for the CPU rows (0 = torch default)")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: agreement,envmap,torchscript")
    ap.add_argument("--dry-run-on-cpu", action="store_true", help=argparse.SUPPRESS)  # the "cuda" rows on the CPU: checks the script
    args = ap.parse_args(argv)
    import torch

    gpu = "cpu" if args.dry_run_on_cpu else "cuda"
    dev_of = {"cpu": "cpu", "cuda": gpu}
    if not torch.cuda.is_available() and not args.dry_run_on_cpu:
        print("error: no CUDA device: this benchmark needs a GPU", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    skip = {s for s in args.skip.split(",") if s}
    from singlehdr.api import load_input, reconstruct
    from singlehdr.data import sample_path
    from singlehdr.options import ReconstructOptions

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("")

    def emit(s: str = "") -> None:  # written as it goes: a run stopped at its time limit keeps its rows
        print(s, flush=True)
        with args.out.open("a") as f:
            f.write(s + "\n")

    name = "none (dry run on the CPU)" if args.dry_run_on_cpu else torch.cuda.get_device_properties(0).name
    mem = 0 if args.dry_run_on_cpu else torch.cuda.get_device_properties(0).total_memory
    emit(f"Device: {name}, {mem / 2**30:.0f} GiB, torch {torch.__version__} (CUDA {torch.version.cuda}), "
         f"numpy {np.__version__}, Python {sys.version.split()[0]}; CPU rows: {torch.get_num_threads()} torch threads "
         f"of {os.cpu_count()} logical cores")
    ldr = load_input(sample_path())
    emit(f"Sample: {ldr.pixels.shape[1]}x{ldr.pixels.shape[0]}")

    if "agreement" not in skip:
        emit()
        emit("| device | precision | tile | seconds | log2 err mean | p99 | max | rel RMSE |")
        emit("|---|---|---|---:|---:|---:|---:|---:|")
        ref, t_cpu = best_of(3, lambda: reconstruct(ldr, ReconstructOptions(device="cpu")).hdr_linear)
        emit(f"| cpu | fp32 | none | {t_cpu:.3f} | (reference) | | | |")
        for prec in ("fp32", "bf16", "fp16"):
            for tile in (0, 512):
                opts = ReconstructOptions(device=gpu, precision=prec, tile=tile, tile_overlap=64)
                out, t = best_of(3, lambda: reconstruct(ldr, opts).hdr_linear)
                e = log2_err(out, ref)
                emit(f"| cuda | {prec} | {tile or 'none'} | {t:.3f} | {e['mean']:.2e} | {e['p99']:.2e} | {e['max']:.2e} | {e['rel_rmse']:.2e} |")

    if "envmap" not in skip:
        import cv2

        from singlehdr.envmap import EnvmapOptions, make_envmap

        emit()
        emit("| input | device | seconds | sun added | max log2 ratio cuda vs cpu (luminance >= 1e-3) |")
        emit("|---|---|---:|---|---:|")
        u8 = np.round(ldr.pixels * 255).astype(np.uint8)
        for w in (2048, 4096):
            pano = cv2.resize(u8, (w, w // 2), interpolation=cv2.INTER_AREA if w < u8.shape[1] else cv2.INTER_CUBIC)
            maps = {}
            for dev in ("cpu", "cuda"):
                opts = EnvmapOptions(width=1024, reconstruct=ReconstructOptions(device=dev_of[dev]))
                make_envmap(pano, opts)  # warm
                r, t = best_of(2, lambda: make_envmap(pano, opts))
                maps[dev] = r.hdr_linear
                diff = "" if dev == "cpu" else f"{log2_err(maps['cuda'], maps['cpu'])['max']:.2e}"
                emit(f"| {w}x{w // 2} | {dev} | {t:.2f} | {'yes' if r.sun is not None else 'no'} | {diff} |")

    if "torchscript" not in skip:
        from singlehdr.export.export import export_torchscript
        from singlehdr.weights import load_model

        emit()
        model, info = load_model(None, device=gpu)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "singlehdr.pt"
            t = time.perf_counter()
            export_torchscript(model, path, info=info, check=True)
            t_export = time.perf_counter() - t
            x = torch.from_numpy(np.ascontiguousarray(np.transpose(ldr.pixels ** 2.2, (2, 0, 1))[None])).float()
            x = torch.nn.functional.interpolate(x, size=(1080, 1920), mode="bilinear", align_corners=False)
            outs = {}
            for dev in ("cpu", "cuda"):
                m = torch.jit.load(str(path), map_location=dev_of[dev])
                xd = x.to(dev_of[dev])
                with torch.no_grad():
                    m(xd)
                    o, secs = best_of(2, lambda: m(xd))
                outs[dev] = (o.float().cpu().numpy()[0].transpose(1, 2, 0), secs)
            e = log2_err(outs["cuda"][0], outs["cpu"][0])
            emit("| TorchScript (Nuke wrapper, exported on CUDA) | export s (with check) | cpu s 1920x1080 | cuda s 1920x1080 | log2 err mean / p99 / max | rel RMSE |")
            emit("|---|---:|---:|---:|---|---:|")
            emit(f"| {path.name} | {t_export:.1f} | {outs['cpu'][1]:.2f} | {outs['cuda'][1]:.3f} | "
                 f"{e['mean']:.2e} / {e['p99']:.2e} / {e['max']:.2e} | {e['rel_rmse']:.2e} |")

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
