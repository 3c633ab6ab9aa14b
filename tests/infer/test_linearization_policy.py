"""Linearization policy, given inverse CRFs, and skipping stages that are exact identities."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infer_doubles import DoubleModel, test_image
from singlehdr.camera.transfer import srgb_to_linear
from singlehdr.errors import SingleHDRError
from singlehdr.infer import Reconstructor
from singlehdr.infer.engine import identity_stages, srgb_inverse_crf

pytestmark = pytest.mark.usefixtures("one_torch_thread")
pipeline = pytest.importorskip("singlehdr.models.pipeline")


def test_srgb_inverse_crf_is_the_iec_curve():
    g = srgb_inverse_crf()
    assert g.shape == (1024,) and g.dtype == np.float32 and g[0] == 0.0 and g[-1] == pytest.approx(1.0)
    assert g[512] == pytest.approx(((512 / 1023 + 0.055) / 1.055) ** 2.4, rel=1e-5)
    assert g[10] == pytest.approx(10 / 1023 / 12.92, rel=1e-5)


def test_given_inverse_crf_replaces_the_estimate():
    img = test_image(64, 96, seed=3)
    m = DoubleModel()
    e = Reconstructor(m, info={}, device="cpu", tile=0)
    g_other = e.estimate_inverse_crf(test_image(64, 96, seed=9) * 0.3)
    assert g_other.shape == (1024,)
    own = e.run(img)
    given = e.run(img, inverse_crf=g_other)
    again = e.run(img, inverse_crf=e.estimate_inverse_crf(img))
    assert np.abs(given - own).max() > 1e-3  # the curve really changed the result
    np.testing.assert_allclose(again, own, atol=1e-6)
    with pytest.raises(SingleHDRError):
        e.run(img, inverse_crf=np.ones(10))
    with pytest.raises(SingleHDRError):
        e.run(img, inverse_crf=np.linspace(1, 0, 1024))


def test_srgb_policy_skips_the_crf_pass():
    m = DoubleModel()
    e = Reconstructor(m, info={"inference": {"linearization": "srgb"}}, device="cpu", tile=0)
    assert e.linearization == "srgb"
    np.testing.assert_array_equal(e.estimate_inverse_crf(test_image(64, 64, seed=1)), srgb_inverse_crf())
    e.run(test_image(64, 96, seed=2))
    assert m.crf_calls == []  # never asked the model for a curve
    # the options override the file
    assert Reconstructor(m, info={"inference": {"linearization": "srgb"}}, device="cpu", linearization="learned").linearization == "learned"
    with pytest.raises(SingleHDRError):
        Reconstructor(m, info={"inference": {"linearization": "telepathy"}}, device="cpu")


@pytest.fixture(scope="module")
def prior_model():
    from singlehdr.train.prior import prior_init

    torch.manual_seed(0)
    return prior_init(pipeline.SingleHDRModel(pipeline.SingleHDRConfig.small())).eval()


def test_identity_stages_detected_and_skipping_them_changes_nothing(prior_model):
    assert identity_stages(prior_model) == ["dequantize", "refine"]
    img = test_image(96, 128, seed=5)
    img[20:50, 30:70] = 1.0  # a clipped patch, so Hallucination-Net has work
    g = srgb_inverse_crf()
    fast = Reconstructor(prior_model, info={}, device="cpu", tile=0, highlights="network").run(img, inverse_crf=g)
    full = Reconstructor(prior_model, info={}, device="cpu", tile=0, highlights="network", skip_identities=False).run(img, inverse_crf=g)
    np.testing.assert_allclose(fast, full, atol=1e-6)
    # and under the sRGB curve unclipped pixels are the JPEG as is
    low = img.max(-1) < 0.9
    np.testing.assert_allclose(fast[low], srgb_to_linear(img)[low], rtol=1e-4, atol=1e-6)
    # a trained (non-zero) head is not an identity
    m2 = pipeline.SingleHDRModel(pipeline.SingleHDRConfig.small())
    assert identity_stages(m2) == []


def test_gate_falls_back_to_srgb_unless_lin_is_trained_and_consistent(prior_model):
    img = test_image(64, 96, seed=6)
    closed = Reconstructor(prior_model, info={"inference": {"linearization": "gated", "gate": {"lin_trained": False}}}, device="cpu", tile=0)
    np.testing.assert_array_equal(closed.estimate_inverse_crf(img), srgb_inverse_crf())
    learned = Reconstructor(prior_model, info={}, device="cpu", tile=0, linearization="learned").estimate_inverse_crf(img)
    # the prior's Lin-Net gives one curve whatever the image (zero head weights): perfectly consistent
    opened = Reconstructor(prior_model, info={"inference": {"linearization": "gated", "gate": {"lin_trained": True, "max_log_spread": 0.05}}},
                           device="cpu", tile=0)
    np.testing.assert_allclose(opened.estimate_inverse_crf(img), learned, atol=1e-6)
    far = Reconstructor(prior_model, info={"inference": {"linearization": "gated", "gate": {"lin_trained": True, "max_log_from_prior": 0.0}}},
                        device="cpu", tile=0)
    np.testing.assert_array_equal(far.estimate_inverse_crf(img), srgb_inverse_crf())


def test_api_estimate_and_reuse_inverse_crf():
    from singlehdr.api import estimate_inverse_crf, reconstruct
    from singlehdr.options import ReconstructOptions

    img = (test_image(64, 96, seed=7) * 255).round().astype(np.uint8)
    g = estimate_inverse_crf(img)
    np.testing.assert_array_equal(g, srgb_inverse_crf())  # the shipped default's policy: the sRGB prior
    a = reconstruct(img)
    b = reconstruct(img, inverse_crf=g)
    assert a.metadata["linearization"] == "srgb" and b.metadata["linearization"] == "given"
    np.testing.assert_allclose(a.hdr_linear, b.hdr_linear, atol=1e-6)
    # a different curve changes the mid-tones
    c = reconstruct(img, inverse_crf=np.linspace(0, 1, 1024))
    assert np.abs(c.hdr_linear - a.hdr_linear).max() > 0.05
    # the paper pipeline's curve comes from Linearization-Net
    learned = estimate_inverse_crf(img, ReconstructOptions(linearization="learned"))
    assert np.abs(learned - g).max() > 1e-3
    with pytest.raises(SingleHDRError):
        estimate_inverse_crf(img, ReconstructOptions(method="inverse-srgb"))
