"""EMoR parsing, curves, inverses and banks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from singlehdr.camera import crf as C
from singlehdr.camera.emor import load_emor, load_invemor, parse_emor_file
from singlehdr.errors import SingleHDRError


def test_emor_files_parse_to_known_values():
    e, i = load_emor(), load_invemor()
    assert e["h"].shape == (25, 1024) and i["hinv"].shape == (25, 1024)
    # first lines of emor.txt: E = 0, 9.775171e-4 (= 1/1023); f0 = 0, 8.833750e-3
    assert e["E"][1] == pytest.approx(9.775171e-4) and e["E"][-1] == 1.0
    assert e["f0"][1] == pytest.approx(8.83375e-3)
    assert i["g0"][0] == 0.0 and i["g0"][-1] == pytest.approx(1.0)
    # the basis is orthonormal over the 1024 samples
    np.testing.assert_allclose(e["h"][:5] @ e["h"][:5].T, np.eye(5), atol=1e-5)


def test_emor_parser_rejects_bad_file(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text("E =\n0 1 2 3\n")
    with pytest.raises(SingleHDRError, match="expected 1024"):
        parse_emor_file(p)
    with pytest.raises(SingleHDRError, match="cannot read"):
        parse_emor_file(tmp_path / "missing.txt")


def test_make_monotone_follows_reference_formula():
    c = np.linspace(0, 1, 1024)
    c[500] = c[499] - 0.01  # one step down by 0.01 + 1/1023 ...
    out = C.make_monotone(c)
    d = np.diff(c)
    d = d - d.min()
    d = d / d.sum()
    np.testing.assert_allclose(out, np.concatenate([[0], np.cumsum(d)]), atol=1e-6)
    assert C.is_valid_curve(out)
    np.testing.assert_allclose(C.make_monotone(np.linspace(0, 1, 1024)), np.linspace(0, 1, 1024), atol=1e-6)


def test_apply_curve_linear_interpolation_hand_value():
    curve = np.linspace(0, 1, 1024) ** 2
    # x = 0.5 -> index 511.5 -> mean of (511/1023)^2 and (512/1023)^2
    expect = 0.5 * ((511 / 1023) ** 2 + (512 / 1023) ** 2)
    assert C.apply_curve(np.array([0.5]), curve)[0] == pytest.approx(expect, rel=1e-6)
    assert C.apply_curve(np.array([1.0, 0.0, 1.7, -1.0]), curve).tolist() == [1.0, 0.0, 1.0, 0.0]
    x = torch.tensor([[[[0.5, 1.0]]]])
    out = C.apply_curve_torch(x, torch.tensor(curve, dtype=torch.float32))
    assert out[0, 0, 0, 0].item() == pytest.approx(expect, rel=1e-5) and out[0, 0, 0, 1].item() == 1.0


def test_apply_curve_torch_per_image_curves_and_grad():
    curves = torch.stack([torch.linspace(0, 1, 1024), torch.linspace(0, 1, 1024) ** 0.5])
    x = torch.full((2, 3, 2, 2), 0.25, requires_grad=True)
    out = C.apply_curve_torch(x, curves)
    assert out[0].mean().item() == pytest.approx(0.25, abs=1e-6)
    assert out[1].mean().item() == pytest.approx(0.5, abs=1e-3)
    out.sum().backward()
    assert x.grad is not None and x.grad[0].mean().item() == pytest.approx(1.0, rel=1e-3)


def test_invert_curve_round_trip():
    f = C.gamma_curve(2.2)
    g = C.invert_curve(f)
    assert C.is_valid_curve(g)
    x = np.linspace(0.05, 1, 50)
    np.testing.assert_allclose(C.apply_curve(C.apply_curve(x, f), g), x, atol=2e-3)
    # analytic: inverse of x^(1/2.2) is y^2.2
    np.testing.assert_allclose(g[512], (512 / 1023) ** 2.2, atol=1e-3)


def test_named_curves_valid_and_srgb_value():
    named = C.named_curves()
    assert {"linear", "srgb", "gamma-2.2", "filmic-s", "emor-mean"} <= set(named)
    for n, f in named.items():
        assert C.is_valid_curve(f), n
    # sRGB of 0.214041 ~ 0.5: sample 219 of 1023 is x = 0.21408
    assert named["srgb"][219] == pytest.approx(0.5, abs=1e-3)


def test_emor_samples_valid_and_deterministic():
    a = C.sample_emor_curve(np.random.default_rng(3))
    b = C.sample_emor_curve(np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert C.is_valid_curve(a)
    f0 = load_emor()["f0"]
    assert 0.0 < np.abs(a - f0).max() < 0.6


def test_crf_bank_splits_disjoint_and_deterministic():
    tr = C.crf_bank("train", seed=1, n_random=30)
    te = C.crf_bank("test", seed=1, n_random=10)
    tr2 = C.crf_bank("train", seed=1, n_random=30)
    assert [c.name for c in tr] == [c.name for c in tr2]
    np.testing.assert_array_equal(tr[-1].f, tr2[-1].f)
    assert not {c.name for c in tr} & {c.name for c in te}
    train_f = np.stack([c.f for c in tr])
    for c in te:  # no test curve equals any train curve
        assert np.abs(train_f - c.f).max(axis=1).min() > 1e-3
    for c in tr + te:
        assert C.is_valid_curve(c.f) and C.is_valid_curve(c.g)
    with pytest.raises(SingleHDRError):
        C.crf_bank("val")


def _write_dorf(path, n):
    lines = []
    x = np.linspace(0, 1, 1024)
    for k in range(n):
        g = 1.5 + k * 0.1
        lines += [f"curve{k}.tif", "Graph", "I ="]
        lines += ["  ".join(f"{v:.6e}" for v in x[j : j + 4]) for j in range(0, 1024, 4)]
        lines += ["B ="]
        lines += ["  ".join(f"{v:.6e}" for v in x[j : j + 4] ** (1 / g)) for j in range(0, 1024, 4)]
    path.write_text("\n".join(lines) + "\n")


def test_read_dorf_and_bank(tmp_path):
    p = tmp_path / "dorfCurves.txt"
    _write_dorf(p, 24)
    curves = C.read_dorf(p)
    assert len(curves) == 24
    i, b = curves["curve3.tif"]
    assert i.shape == (1024,) and b[512] == pytest.approx((512 / 1023) ** (1 / 1.8), rel=1e-5)
    tr = C.crf_bank("train", dorf=p)
    te = C.crf_bank("test", dorf=p)
    assert len(te) == 10 and len(tr) == 14
    assert not {c.name for c in tr} & {c.name for c in te}
    bad = tmp_path / "bad.txt"
    bad.write_text("name\nGraph\nX = 1 2\n")
    with pytest.raises(SingleHDRError, match="not a DoRF"):
        C.read_dorf(bad)
