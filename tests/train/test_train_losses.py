"""The paper's losses on hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from singlehdr.errors import SingleHDRError
from singlehdr.train import losses as L


def test_mu_tonemap_values():
    x = torch.tensor([0.0, 0.1, 1.0, 2.0])
    expect = [0.0, math.log(2) / math.log(11), 1.0, math.log(21) / math.log(11)]
    assert L.mu_tonemap(x).tolist() == pytest.approx(expect, rel=1e-6)


def test_total_variation_hand_value():
    x = torch.tensor([[[[0.0, 1.0], [2.0, 4.0]]]])
    # dy: |2-0|, |4-1| -> mean 2.5 ; dx: |1-0|, |4-2| -> mean 1.5
    assert L.total_variation(x).item() == pytest.approx(4.0)


def test_deq_and_lin_losses():
    a, b = torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.5)
    assert L.deq_loss(a, b).item() == pytest.approx(0.25)
    g, gt = torch.zeros(1, 1024), torch.ones(1, 1024)
    assert L.lin_loss(a, b, g, gt).item() == pytest.approx(0.25 + 0.1 * 1.0)


def test_hal_loss_without_vgg():
    a = torch.tensor([[[[0.0, 1.0]]]])
    b = torch.tensor([[[[0.0, 0.0]]]])
    # L1 of T: mean(|0-0|, |1-0|) = 0.5; TV of T(A): dx mean |1-0| = 1 (no dy) -> 0.5 + 0.1
    assert L.hal_loss(a, b).item() == pytest.approx(0.6, rel=1e-6)


def test_joint_loss_is_scale_invariant():
    torch.manual_seed(0)
    h = torch.rand(2, 3, 8, 8) * 2
    assert L.joint_loss(h * 7.0, h).item() == pytest.approx(0.0, abs=1e-6)
    out = torch.rand(2, 3, 8, 8)
    assert L.joint_loss(out, h).item() == pytest.approx(L.joint_loss(out * 3.0, h).item(), rel=1e-5)
    assert L.joint_loss(out, h).item() > 0.01


def test_vgg_weights_load_and_perceptual(tmp_path):
    from safetensors.torch import save_file

    torch.manual_seed(0)
    net = L.VGG16Features()
    sd = {k: torch.randn_like(v) * 0.1 for k, v in net.state_dict().items()}
    sd["classifier.0.weight"] = torch.zeros(2, 2)  # ignored extra key
    p = tmp_path / "vgg16.safetensors"
    save_file(sd, str(p))
    vgg = L.load_vgg16(p)
    assert torch.equal(vgg.features[0].weight, sd["features.0.weight"])
    a = torch.rand(1, 3, 16, 16)
    assert L.perceptual_loss(vgg, a, a).item() == 0.0
    assert L.perceptual_loss(vgg, a, a.flip(-1)).item() > 0.0
    assert len(vgg(a)) == 3 and vgg(a)[2].shape == (1, 256, 2, 2)
    with_vgg = L.hal_loss(a, a.flip(-1), vgg).item()
    assert with_vgg > L.hal_loss(a, a.flip(-1)).item()
    bad = tmp_path / "bad.safetensors"
    save_file({"x": torch.zeros(1)}, str(bad))
    with pytest.raises(SingleHDRError, match="not a VGG16"):
        L.load_vgg16(bad)
    with pytest.raises(SingleHDRError, match="not found"):
        L.load_vgg16(tmp_path / "missing.pth")
