"""Reproduce the shipped default model (core/singlehdr/weights/default.safetensors) from scratch.

The ONE command (from the repository root, with the singlehdr venv)::

    python tools/train_default.py

Steps (all outputs under --build, default build/default; nothing is downloaded):

1. data: Blender's bundled CC0 Poly Haven HDRIs (bpy's studiolights/world) and
   Cycles renders of seeds 1000-1039 (tools/render_training_hdrs.py, 512x256;
   rendered into BUILD/renders unless --renders names a folder that already
   holds them with their renders.json);
2. split (folders of symlinks): held out = courtyard.exr, sunset.exr and
   renders 1032-1039 (evaluation only); train = the other 6 HDRIs + renders
   1000-1031; the CRFs are split too (camera.crf.crf_bank "train" / "test");
3. prior initialisation (singlehdr.train.trainer.prior_init): every stage
   starts as the identity of what it reverses, the inverse CRF as the mean of
   the training CRF bank;
4. ``singlehdr train --stage lin`` and ``--stage hal`` from that prior (the
   two stages are independent given the prior: Lin trains on the pre-quantised
   LDR, Hal on the clipped linear image, so they run side by side, one thread
   each) and their sub-networks are merged into one model; Deq and Ref keep
   their identity prior (no CPU time was left for them);
5. ``singlehdr evaluate`` on the held-out split against inverse-srgb, akyuz,
   kovaleski and ExpandNet, then the weights are copied into the package and
   MODEL_CARD.md is written with the table, the data hashes and the timings.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS_DIR = ROOT / "core" / "singlehdr" / "weights"
HELD_OUT_HDRIS = ("courtyard.exr", "sunset.exr")
RENDER_SEEDS = range(1000, 1040)
HELD_OUT_SEEDS = range(1032, 1040)
EXPANDNET_WEIGHTS = "/work/shared/peers/hdr-expandnet/weights.pth"

#: The shipped recipe: (stage, steps, batch, crop, lr).
RECIPE = {
    "lin": {"steps": 400, "batch": 8, "crop": 128, "lr": 3e-4},
    "hal": {"steps": 400, "batch": 4, "crop": 128, "lr": 3e-4},
}
SHORT_SIDE = 256
SEED = 0


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def bundled_hdri_dir() -> Path:
    """Blender's bundled studio-light HDRIs (BLENDER_USER_RESOURCES points at a temp dir first)."""
    out = subprocess.run(
        [sys.executable, "-c", "import bpy; print(bpy.utils.system_resource('DATAFILES', path='studiolights/world'))"],
        check=True, capture_output=True, text=True, env={**os.environ, "BLENDER_USER_RESOURCES": str(Path(os.environ.get("TMPDIR", "/tmp")) / "singlehdr_bur")},
    )
    return Path(out.stdout.strip().splitlines()[-1])


def ensure_renders(renders: Path) -> Path:
    """Render seeds 1000-1039 unless ``renders`` already holds them (with renders.json)."""
    want = [renders / f"render_{s:05d}.exr" for s in RENDER_SEEDS]
    if (renders / "renders.json").is_file() and all(p.is_file() for p in want):
        return renders
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "render_training_hdrs.py"), "--out", str(renders),
         "--count", str(len(RENDER_SEEDS)), "--first-seed", str(RENDER_SEEDS[0]), "--width", "512", "--height", "256"],
        check=True,
    )
    return renders


def build_split(build: Path, hdri_dir: Path, renders: Path) -> tuple[Path, Path]:
    """build/train and build/heldout as folders of symlinks."""
    train, held = build / "train", build / "heldout"
    for d in (train, held):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    for p in sorted(hdri_dir.glob("*.exr")):
        (held if p.name in HELD_OUT_HDRIS else train).joinpath(p.name).symlink_to(p.resolve())
    for s in RENDER_SEEDS:
        p = renders / f"render_{s:05d}.exr"
        (held if s in HELD_OUT_SEEDS else train).joinpath(p.name).symlink_to(p.resolve())
    return train, held


def make_init(path: Path) -> Path:
    import numpy as np
    import torch

    from singlehdr.camera.crf import crf_bank
    from singlehdr.models.pipeline import SingleHDRConfig, SingleHDRModel
    from singlehdr.train.trainer import prior_init
    from singlehdr.weights import save_model

    torch.manual_seed(SEED)
    g_mean = np.mean([c.g for c in crf_bank("train")], axis=0)
    model = prior_init(SingleHDRModel(SingleHDRConfig.small()), inverse_crf=g_mean).eval()
    return save_model(path, model, provenance={"name": "singlehdr-prior", "init": "prior_init(mean train-bank inverse CRF)"})


def train_stages(build: Path, train_dir: Path, init: Path) -> dict[str, dict]:
    """Run the Lin and Hal stages side by side (one thread each); returns per-stage facts."""
    procs = {}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for stage, r in RECIPE.items():
        out = build / "runs" / stage
        if out.exists():
            shutil.rmtree(out)
        cmd = [sys.executable, "-m", "singlehdr.cli", "train", "--stage", stage, "--data", str(train_dir), "--init", str(init),
               "--out", str(out), "--steps", str(r["steps"]), "--batch", str(r["batch"]), "--crop", str(r["crop"]),
               "--lr", str(r["lr"]), "--short-side", str(SHORT_SIDE), "--seed", str(SEED), "--device", "cpu",
               "--save-every", "100", "--log-every", "10", "--no-progress"]
        print("$", " ".join(cmd), flush=True)
        procs[stage] = (subprocess.Popen(cmd, env=env), time.perf_counter(), out, cmd)
    facts = {}
    for stage, (p, t0, out, cmd) in procs.items():
        if p.wait() != 0:
            raise SystemExit(f"stage {stage} failed (exit {p.returncode})")
        summary = json.loads((out / "summary.json").read_text())
        facts[stage] = {**RECIPE[stage], "seconds": round(summary["seconds"], 1), "losses": summary["losses"],
                        "model": str(out / "model.safetensors"), "command": " ".join(cmd[1:])}
    return facts


def merge(init: Path, facts: dict[str, dict], out: Path, provenance: dict) -> Path:
    """One model: the prior, with linearize.* from the Lin run and hallucinate.* from the Hal run."""
    from singlehdr.weights import load_model, save_model

    model, _ = load_model(str(init), device="cpu")
    sd = model.state_dict()
    for stage, prefix in (("lin", "linearize."), ("hal", "hallucinate.")):
        part, _ = load_model(facts[stage]["model"], device="cpu")
        for k, v in part.state_dict().items():
            if k.startswith(prefix):
                sd[k] = v
    model.load_state_dict(sd)
    return save_model(out, model.eval(), provenance=provenance)


def evaluate(model: Path, held: Path, report: Path, size: int) -> str:
    cmd = [sys.executable, "-m", "singlehdr.cli", "evaluate", "--hdr", str(held), "--model", str(model),
           "--method", "inverse-srgb", "--method", "akyuz", "--method", "kovaleski"]
    if Path(EXPANDNET_WEIGHTS).is_file():
        cmd += ["--method", "expandnet", "--expandnet-weights", EXPANDNET_WEIGHTS]
    cmd += ["-o", str(report), "--size", str(size), "--no-jod", "--overwrite", "--device", "cpu"]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    return " ".join(["singlehdr"] + cmd[3:])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, default=ROOT / "build" / "default", help="work folder (default build/default)")
    ap.add_argument("--renders", type=Path, default=None, help="folder with the Cycles renders (default BUILD/renders; rendered when missing)")
    ap.add_argument("--eval-size", type=int, default=512, help="long side of the held-out images in the evaluation")
    ap.add_argument("--no-install", action="store_true", help="do not copy the result into core/singlehdr/weights")
    args = ap.parse_args(argv)
    t_all = time.perf_counter()
    build = args.build.resolve()
    build.mkdir(parents=True, exist_ok=True)
    renders = ensure_renders((args.renders or build / "renders").resolve())
    train_dir, held = build_split(build, bundled_hdri_dir(), renders)
    init = make_init(build / "init.safetensors")
    facts = train_stages(build, train_dir, init)
    train_files = sorted(train_dir.iterdir())
    provenance = {
        "name": "singlehdr-default",
        "trained_by": "tools/train_default.py (singlehdr train --stage lin / hal from prior_init)",
        "config": "small (width 0.25, refine)",
        "stages": {s: {k: v for k, v in f.items() if k in ("steps", "batch", "crop", "lr", "seconds")} for s, f in facts.items()},
        "data": {p.name: sha256(p) for p in train_files},
        "held_out": sorted(p.name for p in held.iterdir()),
        "short_side": SHORT_SIDE,
        "seed": SEED,
    }
    merged = merge(init, facts, build / "default.safetensors", provenance)
    shipped = merged
    if not args.no_install:
        shipped = WEIGHTS_DIR / "default.safetensors"
        shutil.copyfile(merged, shipped)
    eval_cmd = evaluate(shipped, held, build / "eval", args.eval_size)
    write_card(WEIGHTS_DIR / "MODEL_CARD.md" if not args.no_install else build / "MODEL_CARD.md", shipped, facts, train_files,
               held, build / "eval" / "results.md", eval_cmd, time.perf_counter() - t_all)
    return 0


def write_card(path: Path, weights: Path, facts: dict, train_files: list[Path], held: Path, results_md: Path, eval_cmd: str, wall: float) -> None:
    import torch

    from singlehdr.weights import load_model

    model, info = load_model(str(weights), device="cpu")
    n_params = sum(p.numel() for p in model.parameters())
    table = "\n".join(line for line in results_md.read_text().splitlines() if line.startswith("|"))
    eval_intro = next((line for line in results_md.read_text().splitlines() if line and line[0].isdigit()), "")
    data_rows = "\n".join(f"| {p.name} | {'Blender bundled HDRI (CC0, Poly Haven)' if not p.name.startswith('render_') else 'Cycles render (tools/render_training_hdrs.py)'} | `{sha256(p)}` |" for p in train_files)
    stage_rows = "\n".join(
        f"| {s} | {f['steps']} | {f['batch']} | {f['crop']} | {f['lr']:g} | {f['seconds'] / 60:.1f} min | {f['losses'][0][1]:.4g} -> {f['losses'][-1][1]:.4g} |"
        for s, f in facts.items()
    )
    cpu = platform.processor() or platform.machine()
    text = f"""# SingleHDR default model

`core/singlehdr/weights/default.safetensors`: model id `{info['model_id']}`, {weights.stat().st_size / 1e6:.1f} MB (float32 safetensors).
Used by `singlehdr reconstruct` (and every host) when no `--model` is given.

## Architecture / config

Liu et al., "Single-Image HDR Reconstruction by Learning to Reverse the Camera Pipeline", CVPR 2020:
Dequantization-Net -> Linearization-Net (inverse-EMoR, 11 weights) -> Hallucination-Net (0.12 highlight mask) -> Refinement-Net,
built by `singlehdr.models.pipeline.SingleHDRModel(SingleHDRConfig.small())`: config `{json.dumps(info['config'])}`
(every sub-network at x0.25 channel width), {n_params:,} parameters.

## Initialisation and training

Every stage starts from `singlehdr.train.trainer.prior_init`: Dequantization-Net and Refinement-Net output convs zero
(identity), Linearization-Net head weights zero with its bias the least-squares inverse-EMoR fit of the mean inverse CRF of
the training CRF bank, Hallucination-Net skip fusions as element-wise adds and its last fusion A = B + 0.01 alpha.
Then (the project's own trainer, `singlehdr train`, Adam, synthetic cameras from the *train* CRF bank, images resized to
short side {SHORT_SIDE}, seed {SEED}; no VGG perceptual term, no ImageNet weights):

| stage | steps | batch | crop | lr | wall time | loss first -> last logged |
|---|---:|---:|---:|---:|---:|---|
{stage_rows}

Lin and Hal were trained side by side (one CPU thread each) from the same prior and merged (linearize.* from the Lin run,
hallucinate.* from the Hal run). Dequantization-Net and Refinement-Net were **not trained** (identity prior; the CPU budget
went to the CRF and the highlights), and there was no joint fine-tune.

Hardware: CPU only, {os.cpu_count()} cores ({cpu}), shared with other jobs; torch {torch.__version__}, Python {platform.python_version()}.
Total wall time of the reproduce command: {wall / 60:.1f} min.

## Data

Training: the 6 non-held-out Blender-bundled HDRIs and Cycles renders of seeds 1000-1031 (512x256, 48 samples; scenes lit by
physical sky or a *training* HDRI). Held out (never trained on, evaluation only): `courtyard.exr`, `sunset.exr` (the
bundled sample photo was made from sunset.exr) and renders 1032-1039; the evaluation cameras use the held-out CRF bank.

| training file | source | sha256 |
|---|---|---|
{data_rows}

## Evaluation (held-out split)

`{eval_cmd}`

{eval_intro}

{table}

inverse-srgb is "LDR as is" (sRGB decoding). Metrics after the optimal global scale (see `singlehdr.train.metrics`);
JOD skipped (ColorVideoVDP is slow on CPU). Ten images are a small test set: differences of a few tenths of a dB are noise.

## Reproduce

```
python tools/train_default.py
```

(renders into build/default/renders when the renders are not there; `--renders DIR` reuses existing ones).
The shipped file was made with `python tools/train_default.py --renders /work/scratch/train_data/renders`.

## Limitations

Trained for minutes on a CPU at a quarter of the paper's width on 38 images: expect far less than the authors' model;
Dequantization and Refinement are untrained identities; the synthetic camera has no demosaicing or tone mapping beyond a CRF.
"""
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
