"""Speed and peak-memory benchmark of the inference engine.

For each device (CPU, and CUDA fp32/bf16 when a GPU is present), each input
size (megapixels) and each mode (untiled / tiled) it runs ``Reconstructor.run``
once in a FRESH subprocess and records:

- seconds, megapixels per second and seconds per megapixel;
- peak memory: on the CPU the process's RSS high-water mark
  (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, which includes Python,
  torch, the model, the input and the output images); on CUDA
  ``torch.cuda.max_memory_allocated``;
- ratios against the smallest size of the same (device, precision, mode):
  ``time_ratio`` = (s/MP) / (s/MP at the smallest size) (1.0 = time linear in
  pixels) and ``mem_ratio`` = peak / peak at the smallest size (target when
  tiling: <= 1.5 from 1 to 32 MP).

Untiled rows whose estimated activation memory exceeds free memory are
skipped and say so.  Writes bench/out/speed.md and bench/out/speed.csv.

    python bench/speed.py --config small --sizes 1,4,16,32
    python bench/speed.py --quick            # 0.25 and 1 MP, small model
    python bench/speed.py --model weights.safetensors --devices cuda
    python bench/speed.py --e2e --sizes 1 --threads 2 --expandnet-weights PATH
        # end to end: singlehdr.api.reconstruct with the default options (what
        # `singlehdr reconstruct` runs after reading the file), the paper pipeline
        # (learned curve, every stage run, network highlights) and ExpandNet on the
        # same image, each in a fresh subprocess, in one run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import OUT_DIR, machine_info, write_table  # noqa: E402

COLUMNS = [
    "device", "precision", "model", "size_mp", "shape", "mode", "tile", "tiles",
    "seconds", "mp_per_s", "s_per_mp", "cpu_s_per_mp", "time_ratio", "cpu_time_ratio", "peak_mb", "mem_ratio", "working_mb", "work_ratio", "note",
]


# --------------------------------------------------------------------------- one row (child)


def make_image(mp: float, seed: int = 0):
    """A 3:2 sRGB test image of about ``mp`` megapixels: smooth gradients, texture, clipped
    highlights; 8-bit quantised.  Built in row strips so no full-size float64 temporary."""
    import numpy as np

    w = int(round((mp * 1e6 * 1.5) ** 0.5))
    h = int(round(w / 1.5))
    img = np.empty((h, w, 3), dtype=np.float32)
    rng = np.random.default_rng(seed)
    xx = np.arange(w, dtype=np.float32)[None, :]
    for r0 in range(0, h, 256):
        r1 = min(h, r0 + 256)
        yy = np.arange(r0, r1, dtype=np.float32)[:, None]
        base = 0.5 + 0.35 * np.sin(xx / (w / 9.0)) * np.cos(yy / (h / 7.0))
        strip = base[..., None] * np.array([1.0, 0.85, 0.7], np.float32)
        strip += 0.03 * rng.standard_normal(strip.shape).astype(np.float32)
        sun = ((yy - 0.3 * h) ** 2 + (xx - 0.7 * w) ** 2) < (0.08 * h) ** 2
        strip[sun] = 1.0
        img[r0:r1] = np.round(np.clip(strip, 0, 1) * 255) / 255
    return img


def build_model(spec: str | None, config: str, device: str):
    """(model, info, label): the given/shipped weights, else a seeded random SingleHDRConfig
    ("full" = width 1.0, "small" = width 0.25, "tiny" = width 0.125: a memory/engine probe only)."""
    import torch

    from singlehdr.models import SingleHDRConfig, SingleHDRModel

    if spec or config == "shipped":
        from singlehdr.weights import load_model

        model, info = load_model(spec, device=device)
        return model, info, str(info.get("model_id", spec))
    torch.manual_seed(0)
    cfg = {"full": SingleHDRConfig.full(), "small": SingleHDRConfig.small(), "tiny": SingleHDRConfig(width=0.125)}[config]
    return SingleHDRModel(cfg).eval(), {"model_id": f"random-{config}", "config": cfg.to_dict()}, f"random-{config}"


def run_e2e_row(job: dict[str, Any]) -> dict[str, Any]:
    """One end-to-end row: "singlehdr" (api.reconstruct, default options), "singlehdr-paper"
    (api.reconstruct with linearization learned, highlights network, no identity skipping)
    or "expandnet" (the peer on the same image)."""
    import resource

    import numpy as np
    import torch

    if job.get("threads"):
        torch.set_num_threads(int(job["threads"]))
    img = make_image(job["mp"])
    warm = make_image(0.05, seed=1)
    if job["method"] == "expandnet":
        from singlehdr.train.peers import make_peer

        peer = make_peer("expandnet", job["expandnet_weights"], device="cpu")
        run = peer.expand
        label = "ExpandNet (peer, published weights)"
    else:
        from singlehdr.api import get_reconstructor, reconstruct
        from singlehdr.options import ReconstructOptions

        if job["method"] == "singlehdr-paper":
            opts = ReconstructOptions(device="cpu", linearization="learned", highlights="network")
            eng = get_reconstructor(None, "cpu", "auto", None, 64, "learned", "network")
            eng.skipped_stages = []  # run every stage, as before the identities were skipped
        else:
            opts = ReconstructOptions(device="cpu")

        def run(x):
            return reconstruct(x, opts).hdr_linear

        label = "singlehdr default" if job["method"] == "singlehdr" else "singlehdr paper pipeline (same weights)"
    run(warm)
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    out = run(img)
    seconds = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    assert out.shape == img.shape and np.isfinite(out).all()
    mp = img.shape[0] * img.shape[1] / 1e6
    return {"device": "cpu", "precision": "fp32", "model": label, "size_mp": round(mp, 2), "shape": f"{img.shape[0]}x{img.shape[1]}",
            "mode": "end-to-end", "seconds": seconds, "mp_per_s": mp / seconds, "s_per_mp": seconds / mp, "cpu_s_per_mp": cpu_s / mp,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def run_row(job: dict[str, Any]) -> dict[str, Any]:
    import resource

    import numpy as np
    import torch

    from singlehdr.infer import Reconstructor

    if job.get("threads"):
        torch.set_num_threads(int(job["threads"]))
    model, info, label = build_model(job.get("model"), job["config"], job["device"])
    tile = job["tile"] if job["mode"] == "tiled" else 0
    eng = Reconstructor(model, info=info, device=job["device"], precision=job["precision"], tile=tile, tile_overlap=job["overlap"])
    cuda = eng.device.type == "cuda"
    eng.run(make_image(0.05, seed=1))  # warm-up: kernels, allocator, lazy init
    img = make_image(job["mp"])
    plan = eng.plan(*img.shape[:2])
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    out = eng.run(img)
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    if cuda:
        peak_mb = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    assert out.shape == img.shape and np.isfinite(out).all()
    mp = img.shape[0] * img.shape[1] / 1e6
    return {
        "device": eng.device_name,
        "precision": eng.precision,
        "model": label,
        "size_mp": round(mp, 2),
        "shape": f"{img.shape[0]}x{img.shape[1]}",
        "mode": job["mode"],
        "tile": plan["tile"],
        "tiles": plan["tiles"],
        "seconds": seconds,
        "mp_per_s": mp / seconds,
        "s_per_mp": seconds / mp,
        "cpu_s_per_mp": cpu_s / mp,
        "peak_mb": peak_mb,
        # peak less the input and output images (2 x 12 B/px float32), i.e. the engine's working memory
        "working_mb": peak_mb - (0 if cuda else 2 * img.nbytes / 2**20),
    }


# --------------------------------------------------------------------------- driver (parent)


def estimated_untiled_bytes(mp: float, config: str) -> float:
    """Rough activation memory of an untiled run (see singlehdr.infer.engine.DEFAULT_BYTES_PER_PIXEL)."""
    from singlehdr.infer.engine import DEFAULT_BYTES_PER_PIXEL

    per_px = 1650.0 if config in ("small", "tiny") else DEFAULT_BYTES_PER_PIXEL
    return mp * 1e6 * 1.15 * per_px  # canvas is ~15% larger than the image at 1 MP (32 px borders)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="a .safetensors model (default: the shipped one if present)")
    p.add_argument("--config", choices=("full", "small", "tiny"), default=None, help="random seeded model of this size (default: small when no weights)")
    p.add_argument("--sizes", default="1,4,16,32", help="comma-separated megapixels")
    p.add_argument("--modes", default="untiled,tiled")
    p.add_argument("--devices", default=None, help="comma-separated: cpu,cuda (default: cpu, plus cuda when available)")
    p.add_argument("--precisions", default=None, help="comma-separated CUDA precisions (default: fp32,bf16; also fp16)")
    p.add_argument("--tile", type=int, default=512, help="tile edge of the tiled rows")
    p.add_argument("--overlap", type=int, default=64)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch default)")
    p.add_argument("--quick", action="store_true", help="sizes 0.25,1 and the small config")
    p.add_argument("--out", type=Path, default=OUT_DIR)
    p.add_argument("--e2e", action="store_true", help="end-to-end rows: singlehdr default, the paper pipeline and ExpandNet")
    p.add_argument("--expandnet-weights", default="../shared/peers/hdr-expandnet/weights.pth", help="ExpandNet weights.pth for --e2e")
    p.add_argument("--_row", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args._row:
        job = json.loads(args._row)
        print("ROW " + json.dumps(run_e2e_row(job) if job.get("e2e") else run_row(job)))
        return 0
    if args.e2e:
        return main_e2e(args)

    import torch

    config = args.config
    if args.model is None and config is None:
        try:
            from singlehdr.weights import DEFAULT_PATH

            config = "shipped" if Path(DEFAULT_PATH).is_file() else "small"
        except ImportError:
            config = "small"
    config = config or "small"
    sizes = [0.25, 1.0] if args.quick else [float(s) for s in args.sizes.split(",") if s]
    if args.quick and not args.model and config == "shipped":
        config = "small"
    devices = args.devices.split(",") if args.devices else (["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    modes = [m for m in args.modes.split(",") if m]

    from singlehdr.infer.device import available_memory_bytes, resolve_device

    rows: list[dict[str, Any]] = []
    for dev in devices:
        precisions = (args.precisions.split(",") if args.precisions else ["fp32", "bf16"]) if dev.startswith("cuda") else ["fp32"]
        free = available_memory_bytes(resolve_device(dev))
        for prec in precisions:
            for mode in modes:
                for mp in sizes:
                    job = {"model": args.model, "config": config, "device": dev, "precision": prec, "mode": mode,
                           "mp": mp, "tile": args.tile, "overlap": args.overlap, "threads": args.threads}
                    base = {"device": dev, "precision": prec, "model": args.model or ("shipped default" if config == "shipped" else f"random-{config}"), "size_mp": mp, "mode": mode}
                    if mode == "untiled" and estimated_untiled_bytes(mp, config) > 0.8 * free:
                        rows.append({**base, "note": f"skipped: ~{estimated_untiled_bytes(mp, config) / 2**30:.0f} GB of activations > free memory"})
                        print(f"skip {dev} {prec} {mode} {mp} MP (memory)", flush=True)
                        continue
                    t0 = time.perf_counter()
                    proc = subprocess.run([sys.executable, __file__, "--_row", json.dumps(job)], capture_output=True, text=True)
                    row_lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("ROW ")]
                    if proc.returncode != 0 or not row_lines:
                        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
                        rows.append({**base, "note": f"failed (rc {proc.returncode}): {tail[0][:120]}"})
                    else:
                        rows.append(json.loads(row_lines[-1][4:]))
                    print(f"{dev} {prec} {mode} {mp} MP: {time.perf_counter() - t0:.1f}s wall  {rows[-1]}", flush=True)
    add_ratios(rows)
    info = machine_info()
    pre = "Machine: " + "; ".join(f"{k}={v}" for k, v in info.items())
    pre += f"\n\nTiled rows: tile {args.tile} px, overlap {args.overlap} px. Peak memory: CPU = process RSS high-water mark" \
           " (Python + torch + model + input + output), CUDA = torch.cuda.max_memory_allocated." \
           "\ntime_ratio = (s/MP) / (s/MP of the smallest size, same device/precision/mode); mem_ratio = peak / peak of the smallest size;" \
           "\ncpu_s_per_mp = process CPU seconds (user + sys) per MP: robust to other load on a shared machine;" \
           "\nworking_mb = peak less the float32 input and output images (24 B/px on CPU), work_ratio likewise."
    text = write_table(rows, COLUMNS, args.out / "speed.md", args.out / "speed.csv", title="singlehdr inference speed and memory", preamble=pre)
    print(text)
    return 0


def main_e2e(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    methods = ["singlehdr", "singlehdr-paper"] + (["expandnet"] if Path(args.expandnet_weights).is_file() else [])
    for mp in [float(s) for s in args.sizes.split(",") if s]:
        for m in methods:
            job = {"e2e": True, "method": m, "mp": mp, "threads": args.threads, "expandnet_weights": args.expandnet_weights}
            proc = subprocess.run([sys.executable, __file__, "--_row", json.dumps(job)], capture_output=True, text=True)
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("ROW ")]
            if proc.returncode != 0 or not lines:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
                rows.append({"model": m, "size_mp": mp, "mode": "end-to-end", "note": f"failed (rc {proc.returncode}): {tail[0][:120]}"})
            else:
                rows.append(json.loads(lines[-1][4:]))
            print(rows[-1], flush=True)
    info = machine_info()
    pre = "Machine: " + "; ".join(f"{k}={v}" for k, v in info.items())
    pre += "\n\nEnd to end: api.reconstruct (default options) on an in-memory 8-bit image, model loading and a warm-up excluded;" \
           " cpu_s_per_mp = process CPU seconds per MP (robust to other load on a shared machine)."
    cols = ["model", "size_mp", "shape", "mode", "seconds", "s_per_mp", "cpu_s_per_mp", "peak_mb", "note"]
    text = write_table(rows, cols, args.out / "speed_e2e.md", args.out / "speed_e2e.csv", title="singlehdr end-to-end speed beside ExpandNet", preamble=pre)
    print(text)
    return 0


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """Fill time_ratio and mem_ratio against the smallest measured size of each (device, precision, mode)."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        if "seconds" in r:
            groups.setdefault((r["device"], r["precision"], r["mode"]), []).append(r)
    for group in groups.values():
        first = min(group, key=lambda r: r["size_mp"])
        for r in group:
            r["time_ratio"] = r["s_per_mp"] / first["s_per_mp"]
            r["cpu_time_ratio"] = r["cpu_s_per_mp"] / first["cpu_s_per_mp"]
            r["mem_ratio"] = r["peak_mb"] / first["peak_mb"]
            r["work_ratio"] = r["working_mb"] / first["working_mb"]


if __name__ == "__main__":
    sys.exit(main())
