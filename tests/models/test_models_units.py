"""The networks' small functions (hand values) and the pipeline's contract."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from singlehdr.models import SingleHDRConfig, SingleHDRModel
from singlehdr.models.hallucinate import HallucinationNet, highlight_mask
from singlehdr.models.linearize import LinearizationNet, apply_inverse_crf, crf_features, monotone_crf, soft_histogram
from singlehdr.weights.tf_map import network_map


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_soft_histogram_hand_values():
    x = torch.tensor([0.5, 0.3, 1.0]).view(1, 3, 1, 1)  # R, G, B
    h = soft_histogram(x, 4)[0, :, 0, 0].view(5, 3)  # bin-major: [bin, channel]
    assert torch.allclose(h[:, 0], torch.tensor([0.0, 0.0, 1.0, 0.0, 0.0]))
    assert torch.allclose(h[:, 1], torch.tensor([0.0, 0.8, 0.2, 0.0, 0.0]))  # |0.3-0.25|*4 = 0.2; |0.3-0.5|*4 = 0.8
    assert torch.allclose(h[:, 2], torch.tensor([0.0, 0.0, 0.0, 0.0, 1.0]))


def test_crf_features_layout():
    x = torch.rand(1, 3, 8, 10)
    f = crf_features(x)
    assert f.shape == (1, 102, 8, 10)
    assert torch.equal(f[:, :3], x)
    assert torch.allclose(f[:, 9:24], soft_histogram(x, 4))
    assert torch.allclose(f[:, 51:], soft_histogram(x, 16))


def test_monotone_crf_hand_value():
    g = torch.tensor([[0.0, 0.5, 0.4, 1.0]])
    # d = [0.5, -0.1, 0.6] + 0.1 = [0.6, 0, 0.7], / 1.3 -> cumsum
    expected = torch.tensor([[0.0, 0.6 / 1.3, 0.6 / 1.3, 1.0]])
    assert torch.allclose(monotone_crf(g), expected, atol=1e-6)


def test_apply_inverse_crf_matches_np_interp(rng):
    g = np.sort(rng.uniform(size=(2, 1024)).astype(np.float32), axis=1)
    x = rng.uniform(-0.1, 1.1, size=(2, 3, 5, 7)).astype(np.float32)
    out = apply_inverse_crf(torch.from_numpy(x), torch.from_numpy(g)).numpy()
    for n in range(2):
        ref = np.interp(np.clip(x[n], 0, 1) * 1023, np.arange(1024), g[n])
        assert np.abs(out[n] - ref).max() < 1e-6
    ends = apply_inverse_crf(torch.tensor([[[[0.0, 1.0, 2.0]]]]), torch.from_numpy(g[:1]))
    assert ends[0, 0, 0].tolist() == [g[0, 0], g[0, 1023], g[0, 1023]]


def test_highlight_mask_hand_values():
    b = torch.tensor([0.5, 0.88, 0.94, 1.0]).view(1, 1, 1, 4).expand(1, 3, 1, 4).clone()
    b[0, 1:, 0, 2] = 0.0  # only R at 0.94: max over channels still 0.94
    assert torch.allclose(highlight_mask(b)[0, 0, 0], torch.tensor([0.0, 0.0, 0.5, 1.0]), atol=1e-5)


def test_hallucination_leaves_unclipped_pixels_alone():
    net = HallucinationNet(SingleHDRConfig.small().hallucination()).eval()
    b = torch.rand(1, 3, 32, 32) * 0.8  # everything below 0.88: mask 0
    with torch.no_grad():
        assert torch.equal(net(b), b)


def test_linearization_zero_head_gives_mean_curve():
    net = LinearizationNet(SingleHDRConfig.small().linearization()).eval()
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.zero_()
        g = net(torch.rand(2, 3, 16, 16))
    assert g.shape == (2, 1024)
    assert float(g[0, 0]) == 0.0 and abs(float(g[0, -1]) - 1.0) < 1e-6
    assert torch.all(g[:, 1:] >= g[:, :-1])
    assert torch.allclose(g[0], net.g0, atol=1e-4)  # g0 is already monotone from 0 to 1


def test_full_config_has_the_authors_shapes():
    """Kernel shapes from ../shared/REFERENCE.md (TF HWIO / [in, out]) against our modules."""
    model = SingleHDRModel(SingleHDRConfig.full())
    sd = model.state_dict()
    hwio = {
        "Dequantization_Net/conv2d/kernel": (7, 7, 3, 16),
        "Dequantization_Net/conv2d_9/kernel": (3, 3, 256, 256),
        "Dequantization_Net/conv2d_18/kernel": (3, 3, 16, 3),
        "Refinement_Net/conv2d/kernel": (7, 7, 9, 16),
        "Refinement_Net/conv2d_9/kernel": (3, 3, 128, 128),
        "crf_feature_net/conv1/weights": (7, 7, 102, 64),
        "crf_feature_net/res3b_branch2c/weights": (1, 1, 128, 512),
        "Hallucination_Net/decoder/h2/fuse_skip_connection/W_conv2d": (1, 1, 1024, 512),
        "Hallucination_Net/decoder/h3/fuse_skip_connection/W_conv2d": (1, 1, 1024, 512),
        "Hallucination_Net/decoder/h4/fuse_skip_connection/W_conv2d": (1, 1, 512, 256),
        "Hallucination_Net/decoder/h5/fuse_skip_connection/W_conv2d": (1, 1, 256, 128),
        "Hallucination_Net/decoder/h6/fuse_skip_connection/W_conv2d": (1, 1, 128, 64),
        "Hallucination_Net/decoder/h7/fuse_skip_connection/W_conv2d": (1, 1, 6, 3),
        "Hallucination_Net/encoder/h5/conv_3/W_conv2d": (3, 3, 512, 512),
    }
    by_tf = {e.tf_name: e for net in ("dequantize", "linearize", "hallucinate", "refine") for e in network_map(net)}
    for name, shape in hwio.items():
        k = by_tf[name].key
        assert tuple(sd[k].shape) == (shape[3], shape[2], shape[0], shape[1]), name
    dense = by_tf["ae_invcrf_decode_net/dense/kernel"].key
    assert tuple(sd[dense].shape) == (11, 512)
    # every learnable tensor has exactly one TF name
    keys = {k for k in sd if not k.endswith("num_batches_tracked")}
    assert sorted(e.key for e in by_tf.values()) == sorted(keys)
    assert model.linearize.backbone.bn1.eps == 1e-3 and model.hallucinate.encoder.bn6.eps == 1e-5


def test_pipeline_stages_and_given_curve():
    torch.manual_seed(0)
    model = SingleHDRModel(SingleHDRConfig.small()).eval()
    assert model.multiple == 32
    x = torch.rand(1, 3, 32, 64)
    with torch.no_grad():
        st = model.stages(x)
        assert set(st) == {"dequantized", "inverse_crf", "linear", "hallucinated", "refined"}
        assert torch.equal(model(x), st["refined"])
        assert torch.equal(model.estimate_inverse_crf(x), st["inverse_crf"])
        assert float(st["refined"].min()) >= 0.0
        identity = torch.linspace(0, 1, 1024).unsqueeze(0)
        st2 = model.stages(x, inverse_crf=identity)
        assert torch.allclose(st2["linear"], st2["dequantized"], atol=1e-6)
    three = SingleHDRModel(SingleHDRConfig(0.25, refine=False)).eval()
    with torch.no_grad():
        st3 = three.stages(x)
        assert "refined" not in st3 and torch.equal(three(x), st3["hallucinated"])


def test_small_is_much_smaller_than_full():
    n = lambda cfg: sum(p.numel() for p in SingleHDRModel(cfg).parameters())  # noqa: E731
    full, small = n(SingleHDRConfig.full()), n(SingleHDRConfig.small())
    assert 28e6 < full < 30e6 and small < full / 10
    assert SingleHDRConfig.from_dict(SingleHDRConfig.small().to_dict()) == SingleHDRConfig.small()


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
def test_trace_generalises_to_other_sizes_and_channels_last():
    """torch.jit.trace at one size gives the eager result at another (padding amounts are size-independent)."""
    torch.manual_seed(1)
    model = SingleHDRModel(SingleHDRConfig(0.125, refine=True)).eval()
    with torch.no_grad():
        traced = torch.jit.trace(model, torch.rand(1, 3, 64, 64), check_trace=False)
        x = torch.rand(1, 3, 96, 128)
        eager = model(x)
        assert torch.allclose(traced(x), eager, atol=1e-5)
        cl = model.to(memory_format=torch.channels_last)(x.to(memory_format=torch.channels_last))
        assert torch.allclose(cl, eager, atol=1e-4)


def test_autocast_keeps_the_curve_float32():
    torch.manual_seed(2)
    model = SingleHDRModel(SingleHDRConfig(0.125, refine=True)).eval()
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        ref = model.stages(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            st = model.stages(x)
    assert st["inverse_crf"].dtype == torch.float32
    assert torch.all(st["inverse_crf"][:, 1:] >= st["inverse_crf"][:, :-1])
    assert float((st["inverse_crf"] - ref["inverse_crf"]).abs().max()) < 5e-3
    assert float((st["refined"].float() - ref["refined"]).abs().max()) < 0.1
