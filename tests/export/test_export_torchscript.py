"""TorchScript export for Nuke's Inference node: real torch.jit files, loaded back.

A small scriptable conv net (real torch layers, size multiple 16) shows the
dynamic-size route; the real SingleHDRModel (x0.25 width, random weights:
the export must reproduce whatever weights it gets) shows the route its
code allows today (a fixed-size trace behind a size guard).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from singlehdr.camera.transfer import linear_to_srgb
from singlehdr.cli import main as cli_main
from singlehdr.errors import SingleHDRError
from singlehdr.export import NukeInferenceWrapper, export_torchscript, read_export_info
from singlehdr.export.commands import parse_size
from singlehdr.export.export import pad_amounts, srgb_encode, symmetric_pad

CORE = str(Path(__file__).resolve().parents[2] / "core")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


class TinyUNet(nn.Module):
    """A scriptable encoder-decoder with a size multiple of 16 (4 poolings)."""

    multiple = 16

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.inp = nn.Conv2d(3, 6, 3, padding=1)
        self.mid = nn.Conv2d(6, 6, 3, padding=1)
        self.out = nn.Conv2d(12, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = torch.relu(self.inp(x))
        b = a
        for _ in range(4):
            b = torch.relu(self.mid(nn.functional.avg_pool2d(b, 2)))
        b = nn.functional.interpolate(b, scale_factor=16.0, mode="nearest")
        return torch.relu(x * 4.0 + self.out(torch.cat([a, b], 1)))


# ------------------------------------------------------------ small pieces


def test_symmetric_pad_equals_numpy_symmetric_even_beyond_the_size():
    x = torch.arange(2 * 5 * 7, dtype=torch.float32).reshape(1, 2, 5, 7)
    for pads in [(0, 0, 0, 0), (1, 2, 3, 0), (3, 12, 9, 2), (5, 5, 7, 7)]:
        t, b, l, r = pads
        got = symmetric_pad(x, t, b, l, r).numpy()
        want = np.pad(x.numpy(), ((0, 0), (0, 0), (t, b), (l, r)), mode="symmetric")
        np.testing.assert_array_equal(got, want)
    # abc|cba: the edge sample is repeated (not PyTorch 'reflect')
    row = torch.tensor([[[[1.0, 2.0, 3.0]]]])
    assert symmetric_pad(row, 0, 0, 2, 2)[0, 0, 0].tolist() == [2.0, 1.0, 1.0, 2.0, 3.0, 3.0, 2.0]


def test_pad_amounts_known_values():
    assert pad_amounts(100, 64, 32) == (46, 46)  # 100 + 92 = 192 = 3 * 64
    assert pad_amounts(64, 32, 0) == (0, 0)
    assert pad_amounts(33, 32, 0) == (15, 16)
    assert pad_amounts(512, 32, 32) == (32, 32)  # the authors' 32 px mirror
    for size in range(1, 80):
        a, b = pad_amounts(size, 32, 8)
        assert (size + a + b) % 32 == 0 and a >= 8 and b >= 8 and b - a in (0, 1)


def test_srgb_encode_matches_iec_curve_and_numpy_version():
    # hand values: 0.5 -> 1.055 * 0.5**(1/2.4) - 0.055 = 0.735357; 0.002 -> 12.92 * 0.002
    x = torch.tensor([0.0, 0.002, 0.0031308, 0.18, 0.5, 1.0, 4.0, -1.0])
    got = srgb_encode(x)
    assert got[1].item() == pytest.approx(0.02584, abs=1e-6)
    assert got[4].item() == pytest.approx(0.7353570, abs=1e-6)
    assert got[6].item() == pytest.approx(1.0, abs=1e-6) and got[7].item() == 0.0
    np.testing.assert_allclose(got.numpy(), linear_to_srgb(x.numpy()), atol=1e-6)


def test_parse_size_is_width_by_height():
    assert parse_size("1920x1080") == (1080, 1920)
    assert parse_size(" 64X32 ") == (32, 64)
    for bad in ("512", "0x10", "axb", "10x"):
        with pytest.raises(SingleHDRError):
            parse_size(bad)


# ----------------------------------------------------- dynamic-size export


def test_scripted_export_runs_at_other_sizes_like_the_eager_model(tmp_path):
    model = TinyUNet().eval()
    path = export_torchscript(model, tmp_path / "tiny.pt", example_size=(40, 56), margin=8)
    info = read_export_info(path)
    assert info["dynamic_shapes"] is True and info["compiled_with"] == "script"
    assert info["multiple"] == 16 and info["margin"] == 8 and info["input_encoding"] == "linear"
    loaded = torch.jit.load(str(path))
    eager = NukeInferenceWrapper(model, 16, "linear", 8).eval()
    gen = torch.Generator().manual_seed(1)
    for h, w in [(40, 56), (23, 70), (65, 17)]:  # traced size and two others
        x = torch.rand(1, 4, h, w, generator=gen) * 1.5  # rgba, values above 1 as in Nuke
        with torch.no_grad():
            got, want = loaded(x), eager(x)
        assert got.shape == (1, 3, h, w)
        assert float((got - want).abs().max()) <= 1e-4


def test_wrapper_semantics_encode_pad_run_crop():
    """At a size that needs no padding, the wrapper is model(sRGB(x)), and
    with input 'srgb' it is model(clip(x))."""
    model = TinyUNet().eval()
    x = torch.rand(1, 3, 32, 48, generator=torch.Generator().manual_seed(2)) * 1.2
    with torch.no_grad():
        lin = NukeInferenceWrapper(model, 16, "linear", 0)(x)
        srgb = NukeInferenceWrapper(model, 16, "srgb", 0)(x)
        np.testing.assert_allclose(lin.numpy(), model(srgb_encode(x)).numpy(), atol=1e-6)
        np.testing.assert_allclose(srgb.numpy(), model(x.clamp(0, 1)).numpy(), atol=1e-6)
        # with padding: the centre crop of the model run on the mirrored image
        y = NukeInferenceWrapper(model, 16, "srgb", 8)(x[:, :, :30, :41])
        padded = torch.from_numpy(np.pad(x[:, :, :30, :41].clamp(0, 1).numpy(), ((0, 0), (0, 0), (9, 9), (11, 12)), mode="symmetric"))
        np.testing.assert_allclose(y.numpy(), model(padded)[:, :, 9:39, 11:52].numpy(), atol=1e-6)


def test_export_file_loads_without_singlehdr(tmp_path):
    """No pickled Python classes of ours: a fresh Python that cannot import
    singlehdr loads and runs the file and gets the same numbers."""
    model = TinyUNet().eval()
    path = export_torchscript(model, tmp_path / "tiny.pt", example_size=(32, 32), margin=4, info={"model_id": "tiny-test"})
    x = torch.rand(1, 3, 37, 29, generator=torch.Generator().manual_seed(3))
    np.save(tmp_path / "x.npy", x.numpy())
    code = (
        "import os, sys\n"
        f"sys.path = [p for p in sys.path if os.path.abspath(p or '.') != {CORE!r}]\n"
        "sys.modules['singlehdr'] = None  # any 'import singlehdr' now fails\n"
        "import numpy as np, torch\n"
        f"m = torch.jit.load({str(path)!r})\n"
        f"y = m(torch.from_numpy(np.load({str(tmp_path / 'x.npy')!r})))\n"
        f"np.save({str(tmp_path / 'y.npy')!r}, y.detach().numpy())\n"
        "try:\n    import singlehdr\nexcept ImportError:\n    print('singlehdr blocked')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "singlehdr blocked" in proc.stdout
    with torch.no_grad():
        want = NukeInferenceWrapper(model, 16, "linear", 4)(x).numpy()
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), want, atol=1e-5)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        meta = json.loads(z.read(next(n for n in names if n.endswith("extra/singlehdr.json"))))
    assert meta["model"] == {"model_id": "tiny-test"}
    assert not any(n.endswith(".py") and "singlehdr" in n for n in names if "/code/" not in n)


def test_export_refuses_overwrite_and_writes_atomically(tmp_path):
    model = TinyUNet().eval()
    out = tmp_path / "a.pt"
    out.write_bytes(b"keep")
    with pytest.raises(SingleHDRError, match="already exists"):
        export_torchscript(model, out, example_size=(16, 16), margin=0)
    assert out.read_bytes() == b"keep"
    export_torchscript(model, out, example_size=(16, 16), margin=0, overwrite=True)
    assert read_export_info(out)["example_size"] == [16, 16]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt"]  # no temp files left


def test_read_export_info_rejects_foreign_files(tmp_path):
    with pytest.raises(SingleHDRError, match="no TorchScript file"):
        read_export_info(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a zip")
    with pytest.raises(SingleHDRError, match="not a TorchScript file"):
        read_export_info(bad)


class ShapeBakingNet(nn.Module):
    """Reads a size into Python, as much model code does: a trace bakes it in."""

    multiple = 8

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = int(x.shape[2])
        ramp = torch.arange(h, dtype=x.dtype, device=x.device).view(1, 1, h, 1) / h
        return x * 2.0 + ramp


def test_a_trace_that_bakes_shapes_is_saved_fixed_size_with_a_clear_error(tmp_path):
    model = ShapeBakingNet().eval()
    path = export_torchscript(model, tmp_path / "baked.pt", example_size=(24, 40), margin=4, method="trace")
    info = read_export_info(path)
    assert info["dynamic_shapes"] is False and info["compiled_with"] == "trace, fixed size"
    assert info["constraint"].startswith("input must be exactly 40x24")
    assert info["checks"]["other_sizes"][0] == [24 + 8 + 7, 40 + 16 + 3]
    assert info["checks"]["other_sizes_max_abs_error"][-1] > 1e-4  # the baked size shows at another size
    # the traced arange was made on the CPU: recorded as not device-portable
    assert info["device"] == "cpu" and info["device_portable"] is False and "--device cuda" in info["device_note"]
    loaded = torch.jit.load(str(path))
    x = torch.rand(1, 3, 24, 40, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        want = NukeInferenceWrapper(model, 8, "linear", 4)(x)
        np.testing.assert_allclose(loaded(x).numpy(), want.numpy(), atol=1e-6)
    with pytest.raises(Exception, match="exported for 40x24 images; Reformat"):
        loaded(torch.rand(1, 3, 30, 40))
    # without the check a trace cannot be trusted at other sizes: fixed size as well
    unchecked = read_export_info(export_torchscript(TinyUNet(), tmp_path / "u.pt", example_size=(16, 16), method="trace", check=False))
    assert unchecked["dynamic_shapes"] is False and unchecked["checks"] == {}


# --------------------------------------------------- the real SingleHDRModel


def test_real_model_export_matches_eager_and_guards_its_size(exported, small_model):
    path = exported
    info = read_export_info(path)
    loaded = torch.jit.load(str(path))
    x = torch.rand(1, 3, 40, 56, generator=torch.Generator().manual_seed(4)) * 1.3
    with torch.no_grad():
        got = loaded(x)
        want = NukeInferenceWrapper(small_model, small_model.multiple, "linear", 4)(x)
    assert got.shape == (1, 3, 40, 56)
    assert float(got.min()) >= 0.0  # linear HDR >= 0
    assert float((got - want).abs().max()) <= 1e-4 * max(1.0, float(want.abs().max()))
    # the model creates no tensors of its own (Sobel by slices, histogram centres as floats):
    # a CPU export also runs on Nuke's GPU
    assert info["device"] == "cpu" and info["device_portable"] is True
    if info["dynamic_shapes"]:  # the model's code became scriptable/traceable at any size
        with torch.no_grad():
            other = torch.rand(1, 3, 33, 47)
            ref = NukeInferenceWrapper(small_model, small_model.multiple, "linear", 4)(other)
            assert float((loaded(other) - ref).abs().max()) <= 1e-4 * max(1.0, float(ref.abs().max()))
    else:  # documented constraint: exactly the exported size, clear message otherwise
        assert info["constraint"].startswith("input must be exactly 56x40")
        with pytest.raises(Exception, match="Reformat"):
            loaded(torch.rand(1, 3, 33, 47))


def test_cli_export_torchscript(tmp_path, small_model, capsys):
    from singlehdr.weights import save_model

    weights = save_model(tmp_path / "small.safetensors", small_model, provenance={"name": "test-small"})
    out = tmp_path / "singlehdr.pt"
    args = ["export-torchscript", "--model", str(weights), "-o", str(out), "--size", "48x32", "--margin", "0", "--device", "cpu",
            "--target", "nuke15", "--exposure", "1.5"]
    assert cli_main(args) == 0
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and "CatFileCreator" in printed
    assert "for nuke15 (PyTorch 1.12): make the .cat with Nuke 15.0's CatFileCreator" in printed
    assert torch.jit.load(str(out)).exposure == 1.5
    info = read_export_info(out)
    assert info["example_size"] == [32, 48] and info["model"]["model_id"].startswith("test-small-")
    assert info["target"] == "nuke15" and info["target_torch"] == "1.12"
    # user errors: one line, exit 2, nothing overwritten
    before = out.read_bytes()
    assert cli_main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "--overwrite" in err[0]
    assert out.read_bytes() == before
    assert cli_main(["export-torchscript", "-o", str(tmp_path / "x.cat")]) == 2
    assert ".pt" in capsys.readouterr().err
