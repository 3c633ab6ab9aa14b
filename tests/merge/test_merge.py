"""Brackets: exposures, alignment, response recovery, merge, ghosts, bad input (singlehdr.merge)."""

from __future__ import annotations

import numpy as np
import pytest

from singlehdr.errors import SingleHDRError
from singlehdr.merge import MergeOptions, merge_brackets
from singlehdr.merge.align import align_frames, apply_shift, measure_shift
from singlehdr.merge.combine import merge_weighted
from singlehdr.merge.exposure import frame_exposures
from singlehdr.merge.response import known_response, recover_response

from merge_scenes import make_blocks, make_scene, shoot

Y = np.array([0.2126, 0.7152, 0.0722])
EVS = (-2.0, 0.0, 2.0)


def _mid_range(hdr: np.ndarray, evs=EVS) -> np.ndarray:
    """Pixels some frame saw well (not clipped in the darkest, not black in the brightest)."""
    return (hdr.max(axis=-1) * 2.0 ** min(evs) < 0.9) & (hdr.min(axis=-1) * 2.0 ** max(evs) > 0.05)


# ---------------------------------------------------------------- exposures
def test_exposures_from_exif_and_ev():
    e = frame_exposures([{"ExposureTime": 1 / 400}, {"ExposureTime": 1 / 100}, {"ExposureTime": 1 / 25}], ["a", "b", "c"])
    assert np.allclose(e / e[1], [0.25, 1.0, 4.0])
    # f-number and ISO enter when every frame has them: t S / N^2
    e = frame_exposures([{"ExposureTime": 0.01, "FNumber": 4.0, "ISO": 100}, {"ExposureTime": 0.01, "FNumber": 2.0, "ISO": 200}],
                        ["a", "b"])
    assert e[1] / e[0] == pytest.approx(8.0)
    e = frame_exposures([{}, {}], ["a", "b"], ev=(-1.5, 0.5))
    assert e[1] / e[0] == pytest.approx(4.0)


@pytest.mark.parametrize("exifs, ev, text", [
    ([{"ExposureTime": 0.01}, {}], None, "b.jpg has no EXIF exposure time; pass --ev"),
    ([{}, {}], (0.0,), "--ev has 1 values for 2 brackets"),
    ([{"ExposureTime": 0.01}, {"ExposureTime": 0.0101}], None, "the brackets all have the same exposure"),
])
def test_exposure_errors_are_one_line(exifs, ev, text):
    with pytest.raises(SingleHDRError) as ei:
        frame_exposures(exifs, ["a.jpg", "b.jpg"], ev)
    assert text in str(ei.value) and "\n" not in str(ei.value)


# ---------------------------------------------------------------- alignment
def test_alignmtb_recovers_a_known_shift():
    hdr = make_blocks(96, 128, seed=3)
    ref = shoot(hdr, 0.0)
    moved = apply_shift(shoot(hdr, 2.0), 5, -3)  # another exposure, moved right 5 px and up 3 px
    assert measure_shift(ref, moved) == (-5, 3)
    out, shifts = align_frames([shoot(hdr, -2.0), ref, moved], reference=1)
    assert shifts == [(0, 0), (0, 0), (-5, 3)]
    inner = (slice(8, -8), slice(8, -8))
    assert np.array_equal(out[2][inner], shoot(hdr, 2.0)[inner])


def test_alignmtb_wraps_for_360_panoramas():
    hdr = make_blocks(64, 128, seed=4)
    ref = shoot(hdr, 0.0)
    moved = np.roll(shoot(hdr, -2.0), -6, axis=1)  # the pano rotated 6 px left: columns wrap round the seam
    dx, dy = measure_shift(ref, moved, wrap_x=True)
    assert (dx, dy) == (6, 0)
    aligned = apply_shift(moved, dx, dy, wrap_x=True)
    assert np.array_equal(aligned, shoot(hdr, -2.0))  # every column back, seam included


# ---------------------------------------------------------------- response
def test_recovered_response_of_srgb_jpeg_brackets_is_close_to_srgb():
    hdr = make_scene(96, 128, seed=1)
    frames = [shoot(hdr, ev, "srgb", 95) for ev in EVS]
    srgb = known_response("srgb")
    z = np.linspace(0, 1, 1024)
    sel = (z > 0.05) & (z < 0.95)
    g = recover_response(frames, 2.0 ** np.array(EVS), "emor")
    assert g.shape == (3, 1024) and np.all(np.diff(g, axis=1) >= 0) and np.allclose(g[:, -1], 1.0)
    assert np.abs(g - srgb)[:, sel].mean() < 0.03
    assert np.abs(g - srgb)[:, sel].max() < 0.09
    gd = recover_response(frames, 2.0 ** np.array(EVS), "debevec")  # OpenCV CalibrateDebevec, projected on EMoR
    assert np.abs(gd - srgb)[:, sel].mean() < 0.06
    gr = recover_response(frames, 2.0 ** np.array(EVS), "robertson")  # OpenCV CalibrateRobertson, projected on EMoR
    assert np.abs(gr - srgb)[:, sel].mean() < 0.08


def test_recovered_response_beats_the_srgb_assumption_on_another_curve():
    from singlehdr.camera.crf import invert_curve, named_curves

    hdr = make_scene(96, 128, seed=2)
    frames = [shoot(hdr, ev, "gamma-2.6") for ev in EVS]
    truth = invert_curve(named_curves()["gamma-2.6"])
    z = np.linspace(0, 1, 1024)
    sel = (z > 0.05) & (z < 0.95)
    g = recover_response(frames, 2.0 ** np.array(EVS), "emor")
    err_emor = np.abs(g - truth)[:, sel].mean()
    err_srgb = np.abs(known_response("srgb")[0] - truth)[sel].mean()
    assert err_emor < 0.5 * err_srgb


# ---------------------------------------------------------------- merge
def test_three_brackets_merge_back_to_the_hdr(scene):
    frames = [shoot(scene, ev) for ev in EVS]
    m = merge_brackets(frames, MergeOptions(ev=EVS, response="srgb"))
    ok = _mid_range(scene)
    rel = m.hdr_linear[ok] / scene[ok]
    assert np.median(rel) == pytest.approx(1.0, abs=0.01)
    assert np.percentile(np.abs(rel - 1), 99) < 0.03  # 8-bit quantisation of the best frame
    # the sun (and the ramp's top) clip even at -2 EV: flagged, and held at the darkest frame's lower bound 1 / 0.25
    over = scene.max(axis=-1) * 0.25
    assert np.array_equal(m.clip, np.any(frames[0] >= 0.98, axis=-1))
    assert m.clip[over >= 1.0].all() and not m.clip[over < 0.9].any()
    all_clipped = scene.min(axis=-1) * 0.25 >= 1.0
    assert all_clipped.sum() > 100 and np.allclose(m.hdr_linear[all_clipped], 4.0, atol=1e-3)


def test_recovered_response_merge_is_within_a_few_percent(scene):
    frames = [shoot(scene, ev, "srgb", 95) for ev in EVS]
    m = merge_brackets(frames, MergeOptions(ev=EVS))  # response recovered from the frames
    ok = _mid_range(scene)
    rel = (m.hdr_linear[ok] @ Y) / (scene[ok] @ Y)
    rel = rel / np.median(rel)  # one global scale is free
    assert np.percentile(np.abs(rel - 1), 90) < 0.06


def test_opencv_merges_agree_with_ours(scene):
    frames = [shoot(scene, ev) for ev in EVS]
    ok = _mid_range(scene)
    ours = merge_brackets(frames, MergeOptions(ev=EVS, response="srgb")).hdr_linear
    for method in ("debevec", "robertson"):
        other = merge_brackets(frames, MergeOptions(ev=EVS, response="srgb", merge=method)).hdr_linear
        rel = (other[ok] @ Y) / (ours[ok] @ Y)
        assert np.median(rel) == pytest.approx(1.0, abs=0.03), method


def test_a_ghost_is_rejected(scene):
    frames = [shoot(scene, ev) for ev in EVS]
    # a person walks through the +2 EV frame: a dark shape where the scene is mid-grey
    person = np.zeros(scene.shape[:2], bool)
    person[20:44, 40:52] = True
    moved = scene.copy()
    moved[person] = 0.002
    frames[2] = shoot(moved, 2.0)
    g = known_response("srgb")
    e = 2.0 ** np.array(EVS)
    clean, _ = merge_weighted([shoot(scene, ev) for ev in EVS], e, g)
    kept, _ = merge_weighted(frames, e, g, ghost=False)
    fixed, ghost = merge_weighted(frames, e, g, ghost=True)
    err = lambda x: np.abs(np.log2((x[person] @ Y) / (clean[person] @ Y))).mean()  # noqa: E731
    assert err(kept) > 1.0  # without rejection the person shows up (stops of error)
    assert err(fixed) < 0.05
    assert ghost[person].mean() > 0.9 and ghost.mean() < 0.2


# ---------------------------------------------------------------- bad input
def test_bracket_errors_are_one_line(tmp_path, scene):
    from singlehdr.io import write_ldr

    a = write_ldr(tmp_path / "a.png", shoot(scene, -2))
    b = write_ldr(tmp_path / "b.png", shoot(scene, 0))
    small = write_ldr(tmp_path / "small.png", shoot(scene[:32, :64], 0))
    other = write_ldr(tmp_path / "other.png", shoot(make_scene(seed=9)[:, ::-1] * 4, 0))
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 20)
    cases = [
        ([a], None, "needs at least 2 frames"),
        ([a, small], (-2, 0), "brackets must all have the same size; got a.png 128x64, small.png 64x32"),
        ([a, b], None, "a.png has no EXIF exposure time; pass --ev"),
        ([a, bad], (-2, 0), "bracket 2 (bad.jpg): cannot read bad.jpg"),
        ([a, other], (-2, 0), "do not show the same scene"),
    ]
    for paths, ev, text in cases:
        with pytest.raises(SingleHDRError) as ei:
            merge_brackets(paths, MergeOptions(ev=ev))
        msg = str(ei.value)
        assert text in msg and "\n" not in msg, msg


def test_a_360_bracket_aligns_round_the_seam():
    hdr = make_blocks(64, 128, seed=6)  # 2:1: taken as an equirect panorama, so the shift wraps
    frames = [shoot(hdr, -2.0), shoot(hdr, 0.0), np.roll(shoot(hdr, 2.0), 5, axis=1)]
    m = merge_brackets(frames, MergeOptions(ev=EVS, response="srgb"))
    assert m.wrap_x and m.shifts == [(0, 0), (0, 0), (-5, 0)]
    flat = merge_brackets(frames, MergeOptions(ev=EVS, response="srgb", wrap="off"))
    assert not flat.wrap_x
    ok = _mid_range(hdr)
    ok[:, :8] = ok[:, -8:] = False
    rel = m.hdr_linear[ok] / hdr[ok]
    assert np.percentile(np.abs(rel - 1), 95) < 0.03
    # the seam columns are right only when the shift wraps (an edge-replicating shift smears them)
    seam = _mid_range(hdr) & (np.arange(128) >= 123)[None, :]

    def seam_err(x: np.ndarray) -> float:
        return float(np.abs(np.log2(x[seam] / hdr[seam])).mean())

    assert seam_err(m.hdr_linear) < 0.05
    assert seam_err(flat.hdr_linear) > 2 * seam_err(m.hdr_linear)
    # without the wrap the smeared seam columns of the +2 EV frame look like a moving object
    assert m.ghost[:, -5:].mean() < 0.05 < 0.3 < flat.ghost[:, -5:].mean()
