"""ExpandNet peer: architecture, strict loading of the published weights, inference invariants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from singlehdr.errors import SingleHDRError
from singlehdr.train import peers

WEIGHTS = Path(__file__).resolve().parents[2] / ".." / "shared" / "peers" / "hdr-expandnet" / "weights.pth"
needs_weights = pytest.mark.skipif(not WEIGHTS.is_file(), reason="hdr-expandnet weights.pth not present")


@pytest.fixture(scope="module")
def net():
    torch.set_num_threads(1)
    return peers.load_expandnet(WEIGHTS)


def _scene(h=64, w=96):
    yy, xx = np.mgrid[0:h, 0:w] / float(w)
    img = np.stack([0.5 + 0.4 * np.sin(6 * xx + 1), 0.5 + 0.4 * np.cos(5 * yy), 0.3 + 0.6 * xx], -1).astype(np.float32)
    img[16:32, 30:54] = 1.0  # a saturated highlight
    return img


def test_architecture_matches_published_parameter_count():
    # PROVENANCE of the release: 30 tensors, 456,899 parameters
    sd = peers.ExpandNet().state_dict()
    assert len(sd) == 30
    assert sum(v.numel() for v in sd.values()) == 456_899


@needs_weights
def test_strict_load_has_no_missing_or_unexpected_keys():
    state = torch.load(str(WEIGHTS), map_location="cpu", weights_only=True)
    res = peers.ExpandNet().load_state_dict(state, strict=False)
    assert res.missing_keys == [] and res.unexpected_keys == []


def test_missing_or_wrong_weights_are_user_errors(tmp_path):
    with pytest.raises(SingleHDRError, match="not found"):
        peers.load_expandnet(tmp_path / "nope.pth")
    bad = tmp_path / "bad.pth"
    torch.save({"local_net.0.0.weight": torch.zeros(1)}, bad)
    with pytest.raises(SingleHDRError, match="does not match"):
        peers.load_expandnet(bad)
    with pytest.raises(SingleHDRError, match="needs its weights"):
        peers.make_peer("expandnet", None)


@needs_weights
def test_output_shape_range_and_tiling_is_exact(net):
    img = _scene()
    whole = peers.expandnet_predict(net, img, tile=None)
    tiled = peers.expandnet_predict(net, img, tile=24)  # tiles + 10 px margins, as the release stitches
    assert whole.shape == img.shape and whole.dtype == np.float32
    assert whole.min() == 0.0 and whole.max() == pytest.approx(1.0)  # min-max mapped like the release
    np.testing.assert_allclose(tiled, whole, atol=2e-5)


@needs_weights
def test_monotone_brightness_response_and_expanded_highlight(net):
    ramp = np.repeat(np.repeat(np.linspace(0.02, 0.98, 96)[None, :, None], 48, 0), 3, 2).astype(np.float32)
    out = peers.expandnet_predict(net, ramp, tile=None)
    row = out[24, 12:-12].mean(-1)
    assert np.all(np.diff(row) > 0)
    # a brighter input gives a brighter output everywhere away from the borders
    img = _scene()
    dark = peers.expandnet_predict(net, np.vstack([img, img * 0.5]), tile=None)
    h = img.shape[0]
    assert np.all(dark[12:h - 12, 12:-12].mean(-1) > dark[h + 12:-12, 12:-12].mean(-1))
    # the saturated patch is expanded beyond sRGB linearisation's ratio to a mid-tone
    y = peers.expandnet_predict(net, img, tile=None).mean(-1)
    lin = ((img + 0.055) / 1.055) ** 2.4
    ratio_net = y[20:28, 36:48].mean() / y[48:56, 36:48].mean()
    ratio_lin = lin[20:28, 36:48].mean() / lin[48:56, 36:48].mean()
    assert ratio_net > ratio_lin
