"""Evaluation on a folder of HDR images with held-out synthetic cameras.

For every HDR (EXR or Radiance .hdr) in a folder:
1. resize so the long side is ``size`` (box filter: the mean of the covered
   pixels, radiance preserved);
2. build one LDR input with a held-out camera, deterministic from ``seed`` and
   the file's position: a CRF from the camera module's held-out bank
   (``crf_bank("test")``), an exposure t chosen so that a fraction
   p ~ U(1 %, 10 %) of the pixels clip (t = 1 / quantile(max_c H, 1 - p);
   training draws t = 2^U(-3, 3) instead), no sensor noise, 8-bit rounding,
   JPEG quality ~ U{80..95} (training: 90..100, so most are outside it);
3. reconstruct it with every requested method: ``singlehdr.reconstruct``
   (the networks with a model file, or a training-free operator) or a peer
   (``expandnet``, with user-supplied weights);
4. score with :func:`singlehdr.train.metrics.image_metrics` (prediction
   scaled by the optimal global scale; LDR white 1 / t mapped to 100 cd/m^2
   for PU21 and ColorVideoVDP; SH9 and light direction for 2:1 panoramas).

Outputs (atomic writes): ``results.md`` (per-method means), ``results.csv``
(one row per image and method) and ``contact_sheet.png`` (rows = images,
columns = ground truth + methods, tone-mapped with singlehdr.preview.tonemap
after scaling each prediction like the metrics do).
"""

from __future__ import annotations

import csv
import io as _io
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import SingleHDRError
from ..geometry import is_equirect_shape
from . import metrics as M

HDR_SUFFIXES = (".exr", ".hdr")
#: Held-out camera ranges (see the module docstring).
CLIP_FRACTION_RANGE = (0.01, 0.10)
JPEG_QUALITY_RANGE = (80, 95)
CLASSICAL = ("inverse-srgb", "akyuz", "kovaleski")
#: Per-family cameras (``families=``): clip fraction and JPEG quality ranges.
FAMILY_CLIP_RANGE = (0.01, 0.15)
FAMILY_JPEG_RANGE = (80, 95)
#: The method every family row is compared with: the JPEG as is (sRGB-decoded).
AS_IS = "inverse-srgb"

#: Columns of results.csv, in order.
CSV_COLUMNS = (
    "image", "family", "method", "width", "height", "crf", "clip_fraction_target", "log2_exposure", "jpeg_quality",
    "scale", "log_psnr", "pu21_psnr", "jod", "clipped_log_psnr", "clipped_pu21_psnr", "clipped_fraction",
    "clipped_energy", "clipped_log_rmse",
    "sh9_rel_error", "light_angle_deg", "seconds", "sec_per_mp",
)
#: (column, header, format) of the Markdown summary.
MD_COLUMNS = (
    ("log_psnr", "log-PSNR (dB)", "{:.2f}"),
    ("pu21_psnr", "PU21-PSNR (dB)", "{:.2f}"),
    ("jod", "JOD", "{:.2f}"),
    ("clipped_log_psnr", "clipped log-PSNR (dB)", "{:.2f}"),
    ("clipped_pu21_psnr", "clipped PU21-PSNR (dB)", "{:.2f}"),
    ("sh9_rel_error", "SH9 rel. err.", "{:.3f}"),
    ("light_angle_deg", "light dir. err. (deg)", "{:.1f}"),
    ("sec_per_mp", "s / MP", "{:.2f}"),
)


# ------------------------------------------------------------------ inputs
def find_hdr_files(hdr_dir: str | Path, limit: int | None = None) -> list[Path]:
    """Sorted .exr / .hdr files directly in ``hdr_dir`` (first ``limit``)."""
    d = Path(hdr_dir)
    if not d.is_dir():
        raise SingleHDRError(f"HDR folder {d} does not exist; pass --hdr DIR with .exr or .hdr files")
    files = sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() in HDR_SUFFIXES)
    if not files:
        raise SingleHDRError(f"no .exr or .hdr files in {d}; pass --hdr DIR with HDR images")
    return files[: limit] if limit else files


def resize_long_side(hdr_linear: np.ndarray, size: int | None) -> np.ndarray:
    """Downscale so max(H, W) == size with a box filter.  (H, W, 3) -> (h, w, 3) float32.

    Box filter = mean of the covered source area (Pillow ``BOX`` on float
    planes), so radiance is preserved.  Never upscales; size None/0 keeps it.
    """
    from PIL import Image

    h, w = hdr_linear.shape[:2]
    if not size or max(h, w) <= size:
        return np.ascontiguousarray(hdr_linear, dtype=np.float32)
    k = size / max(h, w)
    nw, nh = max(1, round(w * k)), max(1, round(h * k))
    planes = [np.asarray(Image.fromarray(np.ascontiguousarray(hdr_linear[..., c], dtype=np.float32), "F").resize((nw, nh), Image.Resampling.BOX)) for c in range(3)]
    return np.stack(planes, axis=-1).astype(np.float32)


def exposure_for_clip_fraction(hdr_linear: np.ndarray, fraction: float) -> float:
    """Exposure t so that ``fraction`` of the pixels have a channel >= 1 after H * t.

    (H, W, 3) -> float: t = 1 / quantile(max_c H, 1 - fraction) (the
    brightest fraction of pixels clips).  Falls back to 1 / max for a map
    whose quantile is 0.
    """
    peak = np.max(np.asarray(hdr_linear, dtype=np.float64), axis=-1)
    q = float(np.quantile(peak, 1.0 - fraction))
    if q <= 0:
        q = float(peak.max())
    if q <= 0:
        raise SingleHDRError("an HDR image is black everywhere; remove it from the evaluation folder")
    return 1.0 / q


@dataclass
class HeldOutCamera:
    """One held-out camera: CRF (name + curve f), exposure t, JPEG quality."""

    crf_name: str
    crf_f: np.ndarray
    clip_fraction: float
    t: float
    quality: int


def held_out_camera(hdr_linear: np.ndarray, index: int, seed: int = 0) -> HeldOutCamera:
    """The camera for the ``index``-th image: deterministic in (seed, index).

    CRF uniformly from ``singlehdr.camera.crf_bank("test", seed)``; clip
    fraction ~ U(1 %, 10 %); JPEG quality ~ U{80..95}; drawn from
    numpy's Generator on SeedSequence(seed, spawn_key=(7, index)).
    """
    from ..camera import crf_bank

    bank = crf_bank("test", seed=seed)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7, index)))
    crf = bank[int(rng.integers(len(bank)))]
    frac = float(rng.uniform(*CLIP_FRACTION_RANGE))
    q = int(rng.integers(JPEG_QUALITY_RANGE[0], JPEG_QUALITY_RANGE[1] + 1))
    return HeldOutCamera(crf.name, crf.f, frac, exposure_for_clip_fraction(hdr_linear, frac), q)


def family_camera(hdr_linear: np.ndarray, index: int, family: str, draw: int = 0, seed: int = 0) -> HeldOutCamera:
    """A camera whose curve comes from ``family`` (see :mod:`singlehdr.camera.families`):
    deterministic in (seed, family, index, draw); clip fraction ~ U(1 %, 15 %), JPEG ~ U{80..95}."""
    from ..camera.families import FAMILIES, draw_curve

    fam = FAMILIES.index(family)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(11, fam, index, draw)))
    name, f = draw_curve(family, rng, seed=seed)
    frac = float(rng.uniform(*FAMILY_CLIP_RANGE))
    q = int(rng.integers(FAMILY_JPEG_RANGE[0], FAMILY_JPEG_RANGE[1] + 1))
    return HeldOutCamera(name, np.asarray(f, dtype=np.float32), frac, exposure_for_clip_fraction(hdr_linear, frac), q)


def make_ldr(hdr_linear: np.ndarray, cam: HeldOutCamera) -> np.ndarray:
    """The forward camera without noise: jpeg(quantize(f(clip(H t))), q).  (H, W, 3) -> (H, W, 3) float32, multiples of 1/255.

    Steps are singlehdr.camera's ``expose``, ``clip01``, ``apply_crf``,
    ``quantize`` and ``jpeg`` (Liu et al. 2020, sec. 3 image formation).
    """
    from ..camera import apply_crf, clip01, expose, jpeg, quantize

    x = clip01(expose(np.asarray(hdr_linear, dtype=np.float32), float(cam.t)))
    return jpeg(quantize(apply_crf(x, cam.crf_f)), cam.quality)


# ------------------------------------------------------------------ methods
@dataclass
class Method:
    """A named way to turn ldr_srgb (H, W, 3) into hdr_linear (H, W, 3)."""

    label: str
    run: Callable[[np.ndarray], np.ndarray]


def _options_method(label: str, **options: Any) -> Method:
    from ..api import reconstruct
    from ..options import ReconstructOptions

    opts = ReconstructOptions(**options)

    def run(ldr_srgb: np.ndarray) -> np.ndarray:
        u8 = np.round(np.clip(ldr_srgb, 0.0, 1.0) * 255.0).astype(np.uint8)
        return reconstruct(u8, opts).hdr_linear

    return Method(label, run)


def build_methods(methods: Sequence[str] = (), models: Sequence[str] = (), *, expandnet_weights: str | Path | None = None, device: str = "auto") -> list[Method]:
    """Methods by name, in the order given: models first, then methods.

    methods: "singlehdr" (the shipped default model), a classical operator
    ("inverse-srgb", "akyuz", "kovaleski") or a peer ("expandnet").
    models: paths to .safetensors models (label: the file stem).
    """
    out: list[Method] = []
    for m in models:
        out.append(_options_method(Path(m).stem, method="singlehdr", model=str(m), device=device))
    for name in methods:
        if name == "singlehdr":
            out.append(_options_method("singlehdr", method="singlehdr", device=device))
        elif name in CLASSICAL:
            out.append(_options_method(name, method=name))
        elif name == "expandnet":
            from .peers import make_peer

            peer = make_peer(name, expandnet_weights, device="cpu" if device == "auto" else device)
            out.append(Method(name, peer.expand))
        else:
            raise SingleHDRError(f"unknown method {name!r}; choose singlehdr, {', '.join(CLASSICAL)} or expandnet (or give --model PATH)")
    if not out:
        raise SingleHDRError("nothing to evaluate; give --method NAME or --model PATH at least once")
    labels = [m.label for m in out]
    if len(set(labels)) != len(labels):
        raise SingleHDRError(f"two methods share a name ({', '.join(labels)}); give each model file a distinct name")
    return out


# ------------------------------------------------------------------ the run
@dataclass
class EvalReport:
    """What :func:`evaluate` measured: one row per (image, method), plus the tone-mapped tiles."""

    rows: list[dict[str, Any]]
    methods: list[str]
    images: list[str]
    settings: dict[str, Any]
    tiles: dict[tuple[str, str], np.ndarray] = field(default_factory=dict, repr=False)

    def family_summary(self) -> list[dict[str, Any]]:
        """Per (family, method) means, then "mean" (over families, each weighted equally)."""
        fams = [f for f in dict.fromkeys(r.get("family", "") for r in self.rows) if f]
        out = []
        cols = ("pu21_psnr", "log_psnr", "clipped_energy", "clipped_log_rmse", "clipped_pu21_psnr")
        for m in self.methods:
            per = []
            for f in fams:
                rows = [r for r in self.rows if r["method"] == m and r.get("family") == f]
                s: dict[str, Any] = {"family": f, "method": m, "n": len(rows)}
                for c in cols:
                    v = np.array([r[c] for r in rows], dtype=np.float64)
                    v = v[~np.isnan(v)]
                    s[c] = float(v.mean()) if v.size else math.nan
                per.append(s)
            if per:
                mean = {"family": "mean", "method": m, "n": sum(p["n"] for p in per)}
                for c in cols:
                    v = np.array([p[c] for p in per], dtype=np.float64)
                    v = v[~np.isnan(v)]
                    mean[c] = float(v.mean()) if v.size else math.nan
                per.append(mean)
            out.extend(per)
        return out

    def summary(self) -> list[dict[str, Any]]:
        """Per-method means of every numeric column (nan ignored, inf kept)."""
        out = []
        for m in self.methods:
            rows = [r for r in self.rows if r["method"] == m]
            s: dict[str, Any] = {"method": m, "images": len(rows)}
            for col, _, _ in MD_COLUMNS:
                vals = np.array([r[col] for r in rows], dtype=np.float64)
                vals = vals[~np.isnan(vals)]
                s[col] = float(vals.mean()) if vals.size else math.nan
            out.append(s)
        return out


def evaluate(
    hdr_dir: str | Path,
    methods: Sequence[Method],
    *,
    limit: int | None = None,
    size: int | None = 512,
    seed: int = 0,
    jod: bool = True,
    thumb_height: int = 128,
    log: Callable[[str], None] | None = print,
    families: Sequence[str] = (),
    draws: int = 1,
) -> EvalReport:
    """Run every method on every HDR of ``hdr_dir`` and score it (see module doc).

    families: curve families (singlehdr.camera.families.FAMILIES) to synthesise the
    inputs with, ``draws`` cameras per image and family; empty = one held-out camera
    per image (the original protocol)."""
    from ..io import read_hdr
    from ..preview import tonemap

    files = find_hdr_files(hdr_dir, limit)
    use_jod = bool(jod) and M.load_pycvvdp() is not None
    for m in methods:  # warm-up: model loading is not part of the timing
        m.run(np.full((64, 128, 3), 0.5, np.float32))
    rows: list[dict[str, Any]] = []
    tiles: dict[tuple[str, str], np.ndarray] = {}
    for idx, path in enumerate(files):
        hdr, _ = read_hdr(path)
        ref = resize_long_side(hdr, size)
        h, w = ref.shape[:2]
        equirect = is_equirect_shape(h, w)
        cams = [("", held_out_camera(ref, idx, seed))] if not families else [
            (fam, family_camera(ref, idx, fam, d, seed)) for fam in families for d in range(max(1, int(draws)))]
        for k, (fam, cam) in enumerate(cams):
            ldr = make_ldr(ref, cam)
            tm = lambda x: _thumb(tonemap(x * np.float32(cam.t), exposure=-1.0), thumb_height)  # noqa: E731
            if k == 0:
                tiles[(path.name, "ground truth")] = tm(ref)
                tiles[(path.name, "input")] = _thumb(ldr, thumb_height)
            for m in methods:
                t0 = time.perf_counter()
                pred = m.run(ldr)
                sec = time.perf_counter() - t0
                if pred.shape != ref.shape:
                    raise SingleHDRError(f"method {m.label} returned shape {pred.shape} for a {ref.shape} input")
                met = M.image_metrics(pred, ref, ldr, white=1.0 / cam.t, equirect=equirect, jod=use_jod)
                row = {
                    "image": path.name, "family": fam, "method": m.label, "width": w, "height": h, "crf": cam.crf_name,
                    "clip_fraction_target": cam.clip_fraction, "log2_exposure": math.log2(cam.t), "jpeg_quality": cam.quality,
                    **met, "seconds": sec, "sec_per_mp": sec / (h * w / 1e6),
                }
                rows.append(row)
                if k == 0:
                    tiles[(path.name, m.label)] = tm(pred * np.float32(met["scale"]))
                if log:
                    log(f"{path.name:>24s} {fam:>6s} {m.label:>16s}  log-PSNR {met['log_psnr']:6.2f}  PU21 {met['pu21_psnr']:6.2f}  {sec:6.2f} s")
    settings = {"hdr_dir": str(hdr_dir), "size": size, "seed": seed, "images": len(files), "jod": use_jod,
                "families": list(families), "draws": int(draws)}
    return EvalReport(rows, [m.label for m in methods], [p.name for p in files], settings, tiles)


def _thumb(ldr_srgb: np.ndarray, height: int) -> np.ndarray:
    """Resize a display image to ``height`` rows (bilinear).  (H, W, 3) -> (height, w, 3) uint8."""
    from PIL import Image

    u8 = np.round(np.clip(ldr_srgb, 0, 1) * 255).astype(np.uint8)
    h, w = u8.shape[:2]
    nw = max(1, round(w * height / h))
    return np.asarray(Image.fromarray(u8, "RGB").resize((nw, height), Image.Resampling.BILINEAR))


# ------------------------------------------------------------------ outputs
def _fmt(v: float, f: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if isinstance(v, float) and math.isinf(v):
        return "inf"
    return f.format(v)


def markdown_table(report: EvalReport) -> str:
    """The per-method mean table as GitHub Markdown (n/a where a metric does not apply)."""
    head = "| method | " + " | ".join(h for _, h, _ in MD_COLUMNS) + " |"
    sep = "|---|" + "---:|" * len(MD_COLUMNS)
    lines = [head, sep]
    for s in report.summary():
        lines.append(f"| {s['method']} | " + " | ".join(_fmt(s[c], f) for c, _, f in MD_COLUMNS) + " |")
    return "\n".join(lines)


def family_table(report: EvalReport, as_is: str = AS_IS) -> str:
    """Per-family Markdown table: for every method other than ``as_is``, each family's
    PU21-PSNR beside the JPEG as is and the difference, then the clipped-region energy
    and log error of both.  Empty when the run had no families or no ``as_is`` rows."""
    fs = report.family_summary()
    if not fs or as_is not in report.methods:
        return ""
    base = {r["family"]: r for r in fs if r["method"] == as_is}
    head = ("| method | family | inputs | PU21 as is (dB) | PU21 method (dB) | difference (dB) | log-PSNR as is | log-PSNR method "
            "| clipped energy as is | clipped energy method | clipped log RMSE as is (stops) | clipped log RMSE method (stops) |")
    lines = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in fs:
        if r["method"] == as_is:
            continue
        b = base[r["family"]]
        lines.append(
            f"| {r['method']} | {r['family']} | {r['n']} | {_fmt(b['pu21_psnr'], '{:.2f}')} | {_fmt(r['pu21_psnr'], '{:.2f}')} | "
            f"{_fmt(r['pu21_psnr'] - b['pu21_psnr'], '{:+.2f}')} | {_fmt(b['log_psnr'], '{:.2f}')} | {_fmt(r['log_psnr'], '{:.2f}')} | "
            f"{_fmt(b['clipped_energy'], '{:.3f}')} | {_fmt(r['clipped_energy'], '{:.3f}')} | "
            f"{_fmt(b['clipped_log_rmse'], '{:.2f}')} | {_fmt(r['clipped_log_rmse'], '{:.2f}')} |"
        )
    return "\n".join(lines)


def markdown_report(report: EvalReport, title: str = "Evaluation") -> str:
    """results.md: the settings, the table, and how each number is defined."""
    st = report.settings
    fams = st.get("families") or []
    if fams:
        intro = (f"{st['images']} HDR images from `{st['hdr_dir']}`, long side {st['size']} px, seed {st['seed']}; "
                 f"{st.get('draws', 1)} LDR input(s) per image and camera-curve family ({', '.join(fams)}; see "
                 "singlehdr.camera.families), 1-15 % of pixels clipped, no noise, 8 bit, JPEG quality 80-95.")
        ftab = family_table(report)
    else:
        intro = (f"{st['images']} HDR images from `{st['hdr_dir']}`, long side {st['size']} px, seed {st['seed']}; "
                 "one LDR input each from a held-out camera (test-split CRF, 1-10 % of pixels clipped, no noise, "
                 "8 bit, JPEG quality 80-95).")
        ftab = ""
    return "\n".join([
        f"# {title}",
        "",
        intro,
        "",
        markdown_table(report),
        "",
        *( [f"Per camera-curve family (difference = method - {AS_IS}, the JPEG as is; clipped energy = sum of "
            "luminance in the clipped region / the truth's, after the global scale):", "", ftab, ""] if ftab else []),
        "Means over images. Every prediction is first multiplied by its optimal global scale "
        "(least squares of log luminance). log-PSNR: log2 luminance in a 16-stop window below the "
        "reference peak, peak = 16 stops. PU21-PSNR: PU21 (banding+glare) of display luminance "
        "(LDR white = 100 cd/m^2, linear 1500 cd/m^2 display), peak = PU21(100 cd/m^2). "
        "JOD: ColorVideoVDP, display `standard_hdr_linear`" + ("" if st["jod"] else " (not available: pycvvdp not installed)") + ". "
        "Clipped: pixels whose LDR input is >= 0.95 in any channel. SH9 / light direction: 2:1 "
        "panoramas only. s / MP: wall time per megapixel on this machine, model loading excluded.",
        "",
    ])


def write_text(path: Path, text: str, overwrite: bool) -> Path:
    """Write a text file atomically (singlehdr.io.atomic)."""
    from ..io.atomic import atomic_output

    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def csv_text(report: EvalReport) -> str:
    """results.csv: one row per (image, method), columns :data:`CSV_COLUMNS`."""
    buf = _io.StringIO()
    wr = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    wr.writeheader()
    for r in report.rows:
        wr.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    return buf.getvalue()


def contact_sheet(report: EvalReport, label_height: int = 16) -> np.ndarray:
    """Rows = images, columns = input, ground truth, then methods.  Returns (H, W, 3) uint8."""
    from PIL import Image, ImageDraw

    cols = ["input", "ground truth", *report.methods]
    first = report.tiles[(report.images[0], "ground truth")]
    th = first.shape[0]
    tw = max(report.tiles[(im, "ground truth")].shape[1] for im in report.images)
    sheet = Image.new("RGB", (tw * len(cols), label_height + th * len(report.images)), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for j, c in enumerate(cols):
        draw.text((j * tw + 4, 2), c, fill=(230, 230, 230))
    for i, im in enumerate(report.images):
        for j, c in enumerate(cols):
            sheet.paste(Image.fromarray(report.tiles[(im, c)]), (j * tw, label_height + i * th))
    return np.asarray(sheet)


def write_report(report: EvalReport, out_dir: str | Path, *, overwrite: bool = False, title: str = "Evaluation") -> dict[str, Path]:
    """Write results.md, results.csv and contact_sheet.png into ``out_dir`` (atomic)."""
    from ..io import write_ldr

    out = Path(out_dir)
    paths = {
        "md": write_text(out / "results.md", markdown_report(report, title), overwrite),
        "csv": write_text(out / "results.csv", csv_text(report), overwrite),
        "sheet": write_ldr(out / "contact_sheet.png", contact_sheet(report), overwrite=overwrite),
    }
    return paths
