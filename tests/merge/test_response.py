"""The bracket response "auto": one EMoR curve shared by the channels, pulled toward sRGB, chosen against sRGB
by cross-frame consistency on pixels the fit did not see (singlehdr.merge.response)."""

from __future__ import annotations

import numpy as np
import pytest

from singlehdr.camera.crf import invert_curve, named_curves
from singlehdr.errors import SingleHDRError
from singlehdr.merge import MergeOptions, capture_brackets
from singlehdr.merge.response import Z, _finish, consistency_score, known_response, recover_response, sample_pixels

from merge_scenes import make_scene, shoot

EVS = (-2.0, 0.0, 2.0)
E = 2.0 ** np.array(EVS)
MID = (Z > 0.05) & (Z < 0.95)


def _log2_err(g: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per channel: max |log2(g / truth)| over codes 0.05 .. 0.95."""
    return np.abs(np.log2(np.maximum(g[:, MID], 1e-9)) - np.log2(truth[MID])).max(axis=1)


def test_auto_picks_the_fitted_curve_for_a_film_like_camera():
    # the EMoR mean curve (Grossberg & Nayar's average of film and camera responses) is 1.4 stops from sRGB
    truth = invert_curve(named_curves()["emor-mean"]).astype(np.float64)
    srgb = known_response("srgb")
    assert _log2_err(srgb, truth).max() > 1.0
    hdr = make_scene(96, 128, seed=1)
    frames = [shoot(hdr, ev, "emor-mean", 95) for ev in EVS]
    facts: dict = {}
    g = recover_response(frames, E, "auto", facts=facts)
    assert facts["response_chosen"] == "emor"
    s = facts["response_scores"]
    assert s["emor"] < 0.8 * s["srgb"]  # a clear win (AUTO_MARGIN = 0.2)
    assert _log2_err(g, truth).max() < 0.3  # within 0.3 stop at every code 0.05 .. 0.95 (sRGB: > 1 stop off)
    assert np.array_equal(g[0], g[1]) and np.array_equal(g[1], g[2])


def test_auto_keeps_srgb_for_srgb_jpeg_brackets():
    hdr = make_scene(96, 128, seed=2)
    frames = [shoot(hdr, ev, "srgb", 90) for ev in EVS]
    facts: dict = {}
    g = recover_response(frames, E, "auto", facts=facts)
    srgb = known_response("srgb")
    # sRGB, or a fitted curve within 0.1 stop of it
    assert facts["response_chosen"] == "srgb" or _log2_err(g, srgb[0].astype(np.float64)).max() < 0.1
    assert _log2_err(g, srgb[0].astype(np.float64)).max() < 0.1
    # the fitted curve alone ("emor") is close to sRGB as well: the prior and the data agree
    assert _log2_err(recover_response(frames, E, "emor"), srgb[0].astype(np.float64)).max() < 0.15


def test_the_shared_curve_has_no_channel_disagreement_under_a_colour_cast():
    # a strong white balance (per-channel gain) before one camera curve: the channels must still get one curve
    hdr = make_scene(96, 128, seed=3) * np.array([1.8, 1.0, 0.45], np.float32)
    truth = invert_curve(named_curves()["filmic-s"]).astype(np.float64)
    frames = [shoot(hdr, ev, "filmic-s", 95) for ev in EVS]
    g = recover_response(frames, E, "emor")
    assert np.array_equal(g[0], g[1]) and np.array_equal(g[1], g[2])
    assert _log2_err(g, truth).max() < 0.15


def test_consistency_score_is_zero_for_the_true_curve_and_grows_with_a_wrong_one():
    hdr = make_scene(96, 128, seed=4)
    frames = [shoot(hdr, ev, "gamma-2.2") for ev in EVS]  # no JPEG: 8-bit rounding only
    s = sample_pixels(frames, 400)
    truth = np.repeat(invert_curve(named_curves()["gamma-2.2"])[None], 3, axis=0)
    good = consistency_score(s, E, truth)
    assert good < 0.03  # rounding of 8 bits, in stops
    assert consistency_score(s, E, known_response("linear")) > 10 * good
    assert consistency_score(s, E, known_response("srgb")) > 3 * good


def test_finish_keeps_a_steep_curve_with_a_dip_at_the_dark_end():
    # Liu et al.'s monotone fix spread one dip over the whole curve; the running maximum only flattens the dip
    g = Z ** 2.6
    g[20:30] -= 2e-4  # a small dip below zero at the darkest codes, as a basis fit can leave
    out = _finish(g)
    assert out[0] == 0.0 and out[-1] == pytest.approx(1.0) and np.all(np.diff(out) >= 0)
    assert np.allclose(out[100:], g[100:], rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("method", ["auto", "emor"])
def test_too_few_well_exposed_pixels_is_one_line(method):
    black, white = np.zeros((32, 64, 3), np.float32), np.ones((32, 64, 3), np.float32)
    with pytest.raises(SingleHDRError) as ei:
        recover_response([black, black, white], E, method)
    msg = str(ei.value)
    assert "no well-exposed pixels" in msg and "--response srgb" in msg and "\n" not in msg


def test_the_merge_metadata_and_exr_header_record_the_choice_and_the_scores(tmp_path):
    import json

    import OpenImageIO as oiio

    from singlehdr import ReconstructOptions
    from singlehdr.io import write_result
    from singlehdr.merge import reconstruct_brackets

    hdr = make_scene(64, 128, seed=5)
    frames = [shoot(hdr, ev, "emor-mean", 95) for ev in EVS]
    c = capture_brackets(frames, MergeOptions(ev=EVS, fill="none"))
    assert c.meta["response"] == "auto" and c.meta["response_used"] == "emor"
    scores = c.meta["response_scores"]
    assert set(scores) == {"srgb", "emor"} and 0 < scores["emor"] < 0.8 * scores["srgb"]
    fixed = capture_brackets(frames, MergeOptions(ev=EVS, fill="none", response="srgb"))
    assert fixed.meta["response_used"] == "srgb" and "response_scores" not in fixed.meta
    # the EXR header, read back by OpenImageIO
    res = reconstruct_brackets(frames, ReconstructOptions(method="inverse-srgb"), MergeOptions(ev=EVS, fill="none"))
    path = write_result(tmp_path / "merged.exr", res)
    spec = oiio.ImageInput.open(str(path)).spec()
    assert spec.getattribute("singlehdr:response") == "auto"
    assert spec.getattribute("singlehdr:response_used") == "emor"
    assert json.loads(spec.getattribute("singlehdr:response_scores")) == scores
