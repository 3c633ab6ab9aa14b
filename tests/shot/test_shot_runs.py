"""Shot runs through the real CLI: shot lock, sidecar reuse, chunks, resume, failures, movies.

The network runs use a tiny *untrained* model (seeded random weights), whose
Linearization-Net gives a different camera response for every frame -- the
case shot locking exists for.  Frames are small (64x48).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from singlehdr.cli import main
from singlehdr.io import read_hdr

pytestmark = pytest.mark.usefixtures("one_torch_thread")
CORE = Path(__file__).resolve().parents[2] / "core"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    import torch

    from singlehdr.models.pipeline import SingleHDRConfig, SingleHDRModel
    from singlehdr.weights import save_model

    torch.manual_seed(3)
    m = SingleHDRModel(SingleHDRConfig(width=0.125, refine=False)).eval()
    with torch.no_grad():  # a Linearization-Net that reacts strongly to content (as a trained one does)
        m.linearize.head.weight.mul_(40.0)
    return str(save_model(tmp_path_factory.mktemp("m") / "tiny.safetensors", m, provenance={"name": "tiny-untrained"}))


def make_plate(folder: Path, frames, size=(64, 48), seed=0) -> None:
    """A panning gradient with a bright blob and an exposure ramp: every frame different."""
    folder.mkdir(parents=True, exist_ok=True)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for i, f in enumerate(frames):
        gain = 0.6 + 0.08 * i
        base = 0.5 + 0.4 * np.sin((xx + 3 * i) / 9.0)[..., None] * np.array([1.0, 0.8, 0.6])
        blob = 3.0 * np.exp(-((xx - 20 - 2 * i) ** 2 + (yy - 20) ** 2) / 40.0)[..., None]
        lin = np.clip(gain * (base * 0.5 + blob), 0, 1)
        u8 = np.round(255 * lin ** (1 / 2.2)).astype(np.uint8)
        Image.fromarray(u8).save(folder / f"plate.{f:04d}.png")


def cli(*argv, capsys=None) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr() if capsys else ("", "")
    return rc, out, err


def per_frame_crf(path: Path, model: str) -> np.ndarray:
    from singlehdr import ReconstructOptions
    from singlehdr.api import estimate_inverse_crf

    return estimate_inverse_crf(str(path), ReconstructOptions(model=model, device="cpu"))


def test_sequence_round_trip_locks_one_curve_per_shot(tmp_path, tiny_model, capsys):
    from singlehdr import ReconstructOptions, reconstruct

    frames = range(1001, 1006)
    make_plate(tmp_path / "in", frames)
    out = tmp_path / "out"
    rc, stdout, err = cli("reconstruct", tmp_path / "in/plate.####.png", "--frames", "1001-1005", "-o",
                          out / "plate.####.exr", "--model", tiny_model, "--device", "cpu", "--float",
                          "--crf-samples", "3", "--json", capsys=capsys)
    assert rc == 0, err
    summary = json.loads(stdout)
    assert summary["done"] == list(frames) and summary["failed"] == [] and summary["sidecar_written"]
    assert sorted(p.name for p in out.iterdir()) == [f"plate.{f}.exr" for f in frames] + ["plate.shot.json"]
    side = json.loads((out / "plate.shot.json").read_text())
    assert side["sampled_frames"] == [1001, 1003, 1005] and side["how"] == "pooled"
    # the lock is the pointwise median of the three sampled frames' own curves
    curves = [per_frame_crf(tmp_path / f"in/plate.{f}.png", tiny_model) for f in (1001, 1003, 1005)]
    assert max(np.abs(c - curves[0]).max() for c in curves) > 1e-3  # this model's curve does vary per frame
    locked = np.median(np.stack(curves), axis=0)
    np.testing.assert_allclose(side["inverse_crf"], np.maximum.accumulate(locked), atol=2e-6)
    opts = ReconstructOptions(model=tiny_model, device="cpu")
    for f in frames:
        got, meta = read_hdr(out / f"plate.{f}.exr")
        assert meta["attributes"]["singlehdr:shot_lock"] == side["id"]
        want = reconstruct(str(tmp_path / f"in/plate.{f}.png"), opts, inverse_crf=np.asarray(side["inverse_crf"])).hdr_linear
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # per-frame mode differs exactly where the per-frame curve differs from the lock
    rc, _, err = cli("reconstruct", tmp_path / "in/plate.####.png", "-o", tmp_path / "pf", "--model", tiny_model,
                     "--device", "cpu", "--float", "--per-frame", "-q", capsys=capsys)
    assert rc == 0, err
    assert not (tmp_path / "pf" / "plate.shot.json").exists()
    got, _ = read_hdr(tmp_path / "pf" / "plate.1002.exr")
    want = reconstruct(str(tmp_path / "in/plate.1002.png"), opts).hdr_linear
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    locked_1002, _ = read_hdr(out / "plate.1002.exr")
    assert np.abs(got - locked_1002).max() > 1e-3


def test_next_chunk_reuses_the_sidecar_and_crf_from(tmp_path, tiny_model, capsys):
    from singlehdr import ReconstructOptions, reconstruct

    make_plate(tmp_path / "in", range(1, 7))
    seq, out = tmp_path / "in/plate.####.png", tmp_path / "out/plate.####.exr"
    common = ["--model", tiny_model, "--device", "cpu", "--float", "-q", "--frames", "1-6"]
    rc, _, err = cli("reconstruct", seq, "-o", out, "--chunk", "1/2", *common, capsys=capsys)
    assert rc == 0, err
    side_path = tmp_path / "out/plate.shot.json"
    # put a known curve into the sidecar: chunk 2 must use it, not estimate again
    d = json.loads(side_path.read_text())
    x = np.linspace(0, 1, 1024)
    d["inverse_crf"] = [float(v) for v in x**2.0]
    side_path.write_text(json.dumps(d))
    rc, stdout, err = cli("reconstruct", seq, "-o", out, "--chunk", "2/2", "--json", *common, capsys=capsys)
    assert rc == 0, err
    summary = json.loads(stdout)
    assert summary["done"] == [4, 5, 6] and not summary["sidecar_written"]
    opts = ReconstructOptions(model=tiny_model, device="cpu")
    got, meta = read_hdr(tmp_path / "out/plate.0005.exr")
    want = reconstruct(str(tmp_path / "in/plate.0005.png"), opts, inverse_crf=x**2.0).hdr_linear
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # --crf-from: another output folder takes that curve and records where it came from
    rc, _, err = cli("reconstruct", seq, "-o", tmp_path / "other/p.####.exr", "--crf-from", side_path, *common,
                     capsys=capsys)
    assert rc == 0, err
    other = json.loads((tmp_path / "other/p.shot.json").read_text())
    assert other["how"] == "from-file"
    np.testing.assert_allclose(other["inverse_crf"], x**2.0, atol=1e-6)
    np.testing.assert_allclose(read_hdr(tmp_path / "other/p.0005.exr")[0], got, rtol=1e-5, atol=1e-6)  # curve stored to 7 decimals
    # a sidecar made with another model is refused (one line, exit 2), nothing written
    d["model_id"] = "someone-else"
    side_path.write_text(json.dumps(d))
    (tmp_path / "out/plate.0006.exr").unlink()
    rc, _, err = cli("reconstruct", seq, "-o", out, "--skip-existing", *common, capsys=capsys)
    assert rc == 2 and err.startswith("error: sidecar") and "someone-else" in err and "\n" not in err.strip()
    assert not (tmp_path / "out/plate.0006.exr").exists()


def test_chunks_touch_only_their_frames(tmp_path, capsys):
    make_plate(tmp_path / "in", range(10, 17))  # 7 frames in 3 chunks: 3, 2, 2
    done = []
    for k in (1, 2, 3):
        rc, stdout, err = cli("reconstruct", tmp_path / "in/plate.####.png", "-o", tmp_path / "o/plate.####.exr",
                              "--method", "inverse-srgb", "--chunk", f"{k}/3", "--json", "-q", capsys=capsys)
        assert rc == 0, err
        s = json.loads(stdout)
        assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [f"plate.{f:04d}.exr" for f in done + s["done"]]
        done += s["done"]
    assert done == list(range(10, 17))
    assert not (tmp_path / "o" / "plate.shot.json").exists()  # a training-free method has nothing to lock


def test_failed_frame_exit_3_then_skip_existing_redoes_only_it(tmp_path, capsys):
    """The issue's report: frame 5 corrupt; after the fix a re-run must not refuse frame 1 nor redo it."""
    make_plate(tmp_path / "in", range(1, 9))
    good5 = (tmp_path / "in/plate.0005.png").read_bytes()
    (tmp_path / "in/plate.0005.png").write_bytes(good5[:40])  # truncated
    args = ["reconstruct", tmp_path / "in/plate.####.png", "-o", tmp_path / "o/plate.####.exr", "--method", "akyuz"]
    rc, stdout, err = cli(*args, "--json", capsys=capsys)
    assert rc == 3
    s = json.loads(stdout)
    assert s["status"] == "failed" and [x["frame"] for x in s["failed"]] == [5]
    assert s["done"] == [1, 2, 3, 4, 6, 7, 8]
    assert "error: frame 5:" in err and "1 of 8 frames failed: 5" in err
    assert not (tmp_path / "o/plate.0005.exr").exists()
    rc, _, err = cli(*args, capsys=capsys)  # no flag: refused before any work, as before
    assert rc == 2 and "--skip-existing" in err
    stats = {f: os.stat(tmp_path / f"o/plate.{f:04d}.exr") for f in (1, 2, 3, 4, 6, 7, 8)}
    (tmp_path / "in/plate.0005.png").write_bytes(good5)
    rc, stdout, err = cli(*args, "--skip-existing", "--json", capsys=capsys)
    assert rc == 0, err
    s = json.loads(stdout)
    assert s["done"] == [5] and s["skipped"] == [1, 2, 3, 4, 6, 7, 8]
    for f, st in stats.items():
        now = os.stat(tmp_path / f"o/plate.{f:04d}.exr")
        assert (now.st_ino, now.st_mtime_ns, now.st_size) == (st.st_ino, st.st_mtime_ns, st.st_size)


def test_resume_after_a_killed_run(tmp_path, tiny_model):
    """SIGKILL mid-run: every output present is complete; --skip-existing keeps them (same inode and
    mtime) and redoes a damaged one."""
    n = 16
    make_plate(tmp_path / "in", range(1, n + 1), size=(64, 48))
    out = tmp_path / "o"
    cmd = [sys.executable, "-m", "singlehdr.cli", "reconstruct", str(tmp_path / "in/plate.####.png"), "-o",
           str(out / "plate.####.exr"), "--model", tiny_model, "--device", "cpu", "-q", "--crf-samples", "2"]
    env = dict(os.environ, PYTHONPATH=str(CORE), OMP_NUM_THREADS="1")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and len(list(out.glob("plate.*.exr"))) < 3:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    finished = sorted(out.glob("plate.*.exr"))
    assert finished, proc.stderr.read().decode()
    for p in finished:  # nothing half-written under a final name
        hdr, meta = read_hdr(p)
        assert hdr.shape == (48, 64, 3) and meta["attributes"]["singlehdr:shot_lock"]
    stats = {p.name: os.stat(p) for p in finished}
    damaged = None
    if len(finished) >= 2:  # a partial file left by some other tool: must be redone, not kept
        damaged = finished[-1]
        damaged.write_bytes(damaged.read_bytes()[:200])
    rc = subprocess.run(cmd + ["--skip-existing", "--json"], env=env, capture_output=True, text=True, timeout=600)
    assert rc.returncode == 0, rc.stderr
    s = json.loads(rc.stdout)
    assert sorted(s["done"] + s["skipped"]) == list(range(1, n + 1))
    assert s["done"] and len(s["skipped"]) == len(finished) - (1 if damaged else 0)  # killed mid-run; kept = complete
    assert s["recomputed"] == ([int(damaged.name.split(".")[1])] if damaged else [])
    for p in sorted(out.glob("plate.*.exr")):
        assert read_hdr(p)[0].shape == (48, 64, 3)
    for name, st in stats.items():
        if damaged is not None and name == damaged.name:
            continue
        now = os.stat(out / name)
        assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns), name
    assert len(list(out.glob("plate.*.exr"))) == n


def _write_movie(path: Path, levels) -> None:
    import imageio.v2 as iio

    w = iio.get_writer(str(path), format="ffmpeg", fps=24, codec="libx264", quality=None, macro_block_size=1,
                       output_params=["-qp", "0", "-pix_fmt", "yuv444p"])
    for v in levels:
        w.append_data(np.full((32, 48, 3), v, np.uint8))
    w.close()


def test_movie_input(tmp_path, capsys):
    pytest.importorskip("imageio_ffmpeg")
    levels = [40, 80, 120, 160, 200]
    movie = tmp_path / "clip.mp4"
    _write_movie(movie, levels)
    rc, stdout, err = cli("reconstruct", movie, "-o", tmp_path / "hdr", "--method", "inverse-srgb", "--json", "-q",
                          capsys=capsys)
    assert rc == 0, err
    s = json.loads(stdout)
    assert s["done"] == [1, 2, 3, 4, 5]
    assert sorted(p.name for p in (tmp_path / "hdr").iterdir()) == [f"clip.{f:04d}.exr" for f in range(1, 6)]
    for f, v in zip(range(1, 6), levels):
        got, _ = read_hdr(tmp_path / "hdr" / f"clip.{f:04d}.exr")
        want = ((v / 255 + 0.055) / 1.055) ** 2.4  # IEC 61966-2-1 inverse sRGB of the (lossless) grey level
        np.testing.assert_allclose(got.mean(), want, rtol=0.03)
    # frame numbering and sub-ranges work as for sequences
    rc, stdout, err = cli("reconstruct", movie, "-o", tmp_path / "m/c.####.exr", "--method", "inverse-srgb",
                          "--first-frame", "1001", "--frames", "1002-1003", "--json", "-q", capsys=capsys)
    assert rc == 0, err
    assert json.loads(stdout)["done"] == [1002, 1003]
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["c.1002.exr", "c.1003.exr"]


def test_movie_without_the_extra_is_one_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "clip.mov").write_bytes(b"\0" * 64)
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if the optional extra were not installed
    rc, _, err = cli("reconstruct", tmp_path / "clip.mov", "-o", tmp_path / "o", capsys=capsys)
    assert rc == 2 and err.strip() == ("error: reading movies needs imageio-ffmpeg: pip install 'singlehdr[movie]' "
                                       "(or convert to an image sequence first)")
    assert not (tmp_path / "o").exists()


def test_shot_flags_need_a_sequence(tmp_path, capsys):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    rc, _, err = cli("reconstruct", tmp_path / "a.png", "-o", tmp_path / "a.exr", "--chunk", "1/2", capsys=capsys)
    assert rc == 2 and "--chunk works on one sequence" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_an_unreadable_sampled_frame_is_left_out_of_the_lock(tmp_path, tiny_model, capsys):
    make_plate(tmp_path / "in", range(1, 6))
    (tmp_path / "in/plate.0003.png").write_bytes(b"")  # sampled (1, 3, 5), and broken
    rc, stdout, err = cli("reconstruct", tmp_path / "in/plate.####.png", "-o", tmp_path / "o/plate.####.exr",
                          "--model", tiny_model, "--device", "cpu", "--crf-samples", "3", "--exposure", "median",
                          "--json", "-q", capsys=capsys)
    assert rc == 3, err
    s = json.loads(stdout)
    assert s["done"] == [1, 2, 4, 5] and [x["frame"] for x in s["failed"]] == [3]
    side = json.loads((tmp_path / "o/plate.shot.json").read_text())
    assert side["sampled_frames"] == [1, 5]
    curves = [per_frame_crf(tmp_path / f"in/plate.{f:04d}.png", tiny_model) for f in (1, 5)]
    np.testing.assert_allclose(side["inverse_crf"], np.maximum.accumulate(np.median(np.stack(curves), axis=0)),
                               atol=2e-6)
    assert side["exposure_scale"] > 0
