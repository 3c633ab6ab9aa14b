"""singlehdr evaluate: held-out cameras, resizing, the report files, the CLI."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from singlehdr.cli import main
from singlehdr.errors import SingleHDRError
from singlehdr.train import evaluate as E
from singlehdr.train import metrics as M


def _scene(h, w, sun=(3, 5), seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = 0.05 + 0.5 * (0.5 + 0.5 * np.sin(xx / 3.0))[..., None] * np.array([1.0, 0.8, 0.6])
    img = (base * (1.0 + 0.1 * rng.random((h, w, 3)))).astype(np.float32)
    img[sun[0] : sun[0] + 2, sun[1] : sun[1] + 3] = 40.0  # a small bright light
    return img


@pytest.fixture()
def hdr_dir(tmp_path):
    from singlehdr.io import write_hdr

    d = tmp_path / "hdr"
    d.mkdir()
    write_hdr(d / "a_pano.exr", _scene(32, 64), half=False)
    write_hdr(d / "b_photo.exr", _scene(40, 48, sun=(10, 20), seed=1), half=False)
    (d / "notes.txt").write_text("not an image")
    return d


def test_find_hdr_files_sorted_and_limited(hdr_dir, tmp_path):
    assert [p.name for p in E.find_hdr_files(hdr_dir)] == ["a_pano.exr", "b_photo.exr"]
    assert [p.name for p in E.find_hdr_files(hdr_dir, limit=1)] == ["a_pano.exr"]
    with pytest.raises(SingleHDRError, match="no .exr"):
        E.find_hdr_files(tmp_path / "hdr" / ".." / "hdr" / "..")  # tmp_path itself has no HDRs
    with pytest.raises(SingleHDRError, match="does not exist"):
        E.find_hdr_files(tmp_path / "missing")


def test_resize_long_side_is_a_box_mean():
    a = np.arange(4 * 8 * 3, dtype=np.float32).reshape(4, 8, 3)
    r = E.resize_long_side(a, 4)
    assert r.shape == (2, 4, 3)
    expect = a.reshape(2, 2, 4, 2, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(r, expect, rtol=1e-5)
    np.testing.assert_array_equal(E.resize_long_side(a, 16), a)  # never upscales


def test_exposure_clips_the_requested_fraction():
    img = np.repeat(np.linspace(0.01, 1.0, 100, dtype=np.float32)[:, None, None], 3, axis=2)  # 100 x 1
    t = E.exposure_for_clip_fraction(img, 0.05)
    assert float(np.mean(np.max(img * t, -1) >= 1.0 - 1e-6)) == pytest.approx(0.05, abs=0.011)


def test_held_out_camera_is_deterministic_and_from_the_test_split():
    from singlehdr.camera import crf_bank

    img = _scene(16, 32)
    a, b = E.held_out_camera(img, 0, seed=3), E.held_out_camera(img, 0, seed=3)
    assert (a.crf_name, a.t, a.quality) == (b.crf_name, b.t, b.quality)
    others = {E.held_out_camera(img, i, seed=3).crf_name for i in range(8)}
    assert len(others) > 1  # cameras vary with the image index
    test_names = {c.name for c in crf_bank("test", seed=3)}
    train_names = {c.name for c in crf_bank("train", seed=3)}
    assert others <= test_names and not (others & train_names)
    assert 80 <= a.quality <= 95 and 0.01 <= a.clip_fraction <= 0.10


def test_make_ldr_identity_crf_without_jpeg_is_rounded_clip():
    img = np.array([[[0.11, 0.52, 2.0], [0.002, 0.31, 0.903]]], np.float32)  # away from half codes
    cam = E.HeldOutCamera("identity", np.linspace(0, 1, 1024, dtype=np.float32), 0.0, 1.0, 101)
    got = E.make_ldr(img, cam)
    np.testing.assert_allclose(got, np.round(np.clip(img, 0, 1) * 255) / 255, atol=1e-6)


def test_build_methods_errors():
    with pytest.raises(SingleHDRError, match="unknown method"):
        E.build_methods(["magic"])
    with pytest.raises(SingleHDRError, match="nothing to evaluate"):
        E.build_methods([])
    with pytest.raises(SingleHDRError, match="needs its weights"):
        E.build_methods(["expandnet"])


def test_evaluate_end_to_end_values_and_files(hdr_dir, tmp_path):
    from singlehdr.classical import expand
    from singlehdr.io import read_hdr

    methods = E.build_methods(["inverse-srgb", "akyuz"])
    rep = E.evaluate(hdr_dir, methods, size=48, seed=1, jod=False, thumb_height=24, log=None)
    assert len(rep.rows) == 4 and rep.images == ["a_pano.exr", "b_photo.exr"]
    # recompute one row by hand from the documented recipe
    ref = E.resize_long_side(read_hdr(hdr_dir / "b_photo.exr")[0], 48)
    cam = E.held_out_camera(ref, 1, seed=1)
    ldr = E.make_ldr(ref, cam)
    pred = expand("inverse-srgb", ldr)
    row = next(r for r in rep.rows if r["image"] == "b_photo.exr" and r["method"] == "inverse-srgb")
    want = M.image_metrics(pred, ref, ldr, white=1.0 / cam.t)
    assert row["log_psnr"] == pytest.approx(want["log_psnr"], rel=1e-4)
    assert row["pu21_psnr"] == pytest.approx(want["pu21_psnr"], rel=1e-4)
    assert row["crf"] == cam.crf_name and row["jpeg_quality"] == cam.quality
    # panoramas get the lighting metrics, photos do not
    pano = next(r for r in rep.rows if r["image"] == "a_pano.exr" and r["method"] == "akyuz")
    assert math.isfinite(pano["sh9_rel_error"]) and math.isnan(row["sh9_rel_error"])
    # the inverse-sRGB input is clipped: it scores worse inside the clipped region
    assert row["clipped_log_psnr"] < row["log_psnr"]

    paths = E.write_report(rep, tmp_path / "report")
    md = paths["md"].read_text()
    assert "| inverse-srgb |" in md and "| akyuz |" in md and "log-PSNR" in md
    with open(paths["csv"], newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["method"] for r in rows] == ["inverse-srgb", "akyuz"] * 2
    assert float(rows[3]["log_psnr"]) == pytest.approx(rep.rows[3]["log_psnr"], rel=1e-5)
    from PIL import Image

    with Image.open(paths["sheet"]) as im:
        w, h = im.size
    assert h == 16 + 2 * 24 and w == 4 * 48  # label row + 2 images; input, GT, 2 methods (widest tile 48)
    with pytest.raises(SingleHDRError, match="already exists"):
        E.write_report(rep, tmp_path / "report")
    summ = {s["method"]: s for s in rep.summary()}
    assert summ["akyuz"]["log_psnr"] == pytest.approx(np.mean([r["log_psnr"] for r in rep.rows if r["method"] == "akyuz"]))


def test_cli_evaluate(hdr_dir, tmp_path, capsys):
    out = tmp_path / "rep"
    rc = main(["evaluate", "--hdr", str(hdr_dir), "--method", "inverse-srgb", "-o", str(out), "--size", "32", "--limit", "1", "--no-jod"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "| inverse-srgb |" in printed and (out / "results.csv").is_file() and (out / "contact_sheet.png").is_file()
    assert main(["evaluate", "--hdr", str(tmp_path / "nope"), "--method", "akyuz", "-o", str(out)]) == 2
    assert main(["evaluate", "--hdr", str(hdr_dir), "--method", "magic", "-o", str(out)]) == 2
    assert "error: unknown method" in capsys.readouterr().err


def test_family_evaluation_reports_as_is_row_and_difference(hdr_dir, tmp_path):
    from singlehdr.camera.transfer import srgb_to_linear

    methods = [E.Method("inverse-srgb", srgb_to_linear), E.Method("double", lambda x: 2.0 * srgb_to_linear(x) ** 1.1)]
    rep = E.evaluate(hdr_dir, methods, size=None, jod=False, families=["srgb", "film"], draws=2, log=None)
    assert len(rep.rows) == 2 * 2 * 2 * 2  # images x families x draws x methods
    assert {r["family"] for r in rep.rows} == {"srgb", "film"}
    fs = {(r["family"], r["method"]): r for r in rep.family_summary()}
    for fam in ("srgb", "film"):
        rows = [r["pu21_psnr"] for r in rep.rows if r["family"] == fam and r["method"] == "double"]
        assert fs[(fam, "double")]["pu21_psnr"] == pytest.approx(np.mean(rows))
    assert fs[("mean", "double")]["pu21_psnr"] == pytest.approx((fs[("srgb", "double")]["pu21_psnr"] + fs[("film", "double")]["pu21_psnr"]) / 2)
    table = E.family_table(rep)
    line = next(x for x in table.splitlines() if x.startswith("| double | srgb |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert float(cells[5]) == pytest.approx(fs[("srgb", "double")]["pu21_psnr"] - fs[("srgb", "inverse-srgb")]["pu21_psnr"], abs=0.006)
    # the JPEG as is keeps less than all of the clipped light
    assert 0 < fs[("mean", "inverse-srgb")]["clipped_energy"] < 1
    # the same seed gives the same cameras
    rep2 = E.evaluate(hdr_dir, methods[:1], size=None, jod=False, families=["srgb", "film"], draws=2, log=None)
    assert [r["crf"] for r in rep2.rows] == [r["crf"] for r in rep.rows if r["method"] == "inverse-srgb"]
