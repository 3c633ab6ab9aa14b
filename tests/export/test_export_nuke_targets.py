"""TorchScript for each Nuke release: only operators that release's libtorch knows, half precision, knobs.

Nuke loads a .cat's TorchScript with its own libtorch (Foundry, ".cat File Creation
Reference", Introduction: Nuke 13.x PyTorch 1.6, Nuke 14/15.0 PyTorch 1.12).  The
operator lists in tests/export/ops/ come from each release's native_functions.yaml
(see ops/make_op_lists.py); the graph of a real export of the SingleHDR model
(x0.25 width, random weights) is compared against them.  No old PyTorch can run
here (none has a wheel for this Python), so loading in those releases themselves
is not tested: this is an operator and argument-count check.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from singlehdr.export import export_torchscript, read_export_info
from singlehdr.export.export import NUKE_TARGETS, NukeInferenceWrapper, graph_operators, srgb_encode

OPS = Path(__file__).resolve().parent / "ops"

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def load_ops(name: str) -> dict[str, int]:
    """{"aten::conv2d": 7, ...}: the most arguments any overload of each operator takes."""
    known: dict[str, int] = {}
    for line in (OPS / f"{name}.txt").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        op, n = line.split()
        base = op.rsplit(".", 1)[0]
        known[base] = max(known.get(base, 0), int(n))
    return known


def builtins() -> set[str]:
    return {ln.strip() for ln in (OPS / "torchscript-builtins.txt").read_text().splitlines() if ln.strip() and not ln.startswith("#")}


def unknown_operators(ops: dict[str, int], target_ops: str) -> list[str]:
    """Operators (with their argument count) the target's libtorch does not have."""
    known, extra = load_ops(target_ops), builtins()
    bad = []
    for op, n in sorted(ops.items()):
        if op in extra:
            continue
        if op not in known:
            bad.append(f"{op} (unknown)")
        elif n > known[op]:
            bad.append(f"{op} ({n} arguments, the release has at most {known[op]})")
    return bad


def test_operator_lists_hold_known_facts():
    """Spot checks of the data files against facts of the PyTorch releases."""
    v16, v112 = load_ops("torch-1.6"), load_ops("torch-1.12")
    assert "aten::pad" not in v16 and v112["aten::pad"] == 4  # F.pad became a native op in 1.12
    assert "aten::amax" not in v16 and "aten::amax" in v112  # torch.amax is 1.7+
    assert v16["aten::_convolution"] == 12 and v112["aten::_convolution"] == 13  # allow_tf32 came in 1.7
    assert v16["aten::conv2d"] == v112["aten::conv2d"] == 7
    assert len(v16) > 800 and len(v112) > len(v16)


@pytest.mark.parametrize("target", sorted(NUKE_TARGETS))
def test_export_uses_only_operators_each_target_knows(exported, target):
    ops = graph_operators(torch.jit.load(str(exported)))
    assert "aten::conv2d" in ops and "aten::pad" not in ops and "aten::_convolution" not in ops
    assert unknown_operators(ops, NUKE_TARGETS[target]["ops"]) == []


def test_the_operator_check_catches_a_plain_trace(small_model):
    """A plain torch.jit.trace of the same model (what the export did before) fails the 1.6 check."""
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(small_model, torch.rand(1, 3, 64, 64), check_trace=False)
    bad = unknown_operators(graph_operators(traced), "torch-1.6")
    assert "aten::pad (unknown)" in bad and "aten::amax (unknown)" in bad
    assert "aten::_convolution (13 arguments, the release has at most 12)" in bad


def test_export_metadata_names_the_target(exported, small_model, tmp_path):
    info = read_export_info(exported)
    assert (info["target"], info["target_torch"], info["min_nuke"]) == ("nuke13", "1.6", "13.0")
    assert info["compiled_with"] == "staged trace" and info["dynamic_shapes"] is True
    assert info["knobs"] == {"exposure": "float, stops", "input_is_srgb": "bool", "margin": "int"}
    from singlehdr.errors import SingleHDRError

    with pytest.raises(SingleHDRError, match="unknown Nuke target 'nuke12'"):
        export_torchscript(small_model, tmp_path / "x.pt", example_size=(32, 32), target="nuke12")


def test_export_runs_in_half_precision(exported, small_model):
    """Inference's 'Optimise for speed and memory' runs the module in half precision."""
    x = torch.rand(1, 3, 40, 56, generator=torch.Generator().manual_seed(7)) * 1.2
    with torch.no_grad():
        ref = NukeInferenceWrapper(small_model, small_model.multiple, "linear", 4)(x)
        half = torch.jit.load(str(exported)).half()
        y = half(x.half())
        assert y.dtype == torch.float16 and y.shape == (1, 3, 40, 56)
        err = float((y.float() - ref).abs().max())
        assert err <= 2e-2 * max(1.0, float(ref.abs().max())), err
        y32 = half(x)  # float pixels into the half module: computed in half, returned as float32
        assert y32.dtype == torch.float32
        assert float((y32 - y.float()).abs().max()) <= 1e-3


def test_knobs_are_module_attributes(exported, small_model):
    """Cattery guide, 'Custom Knobs': a CatFileCreator knob named like an attribute drives it."""
    loaded = torch.jit.load(str(exported))
    assert isinstance(loaded.exposure, float) and loaded.exposure == 0.0
    assert loaded.input_is_srgb is False and isinstance(loaded.margin, int) and loaded.margin == 4
    x = torch.rand(1, 3, 40, 56, generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        base = loaded(x)
        loaded.exposure = 1.5
        brighter = loaded(x)
        torch.testing.assert_close(brighter, base * 2.0**1.5, rtol=1e-5, atol=1e-6)
        loaded.exposure = 0.0
        loaded.input_is_srgb = True  # the pixels are already sRGB: no encoding inside
        as_srgb = loaded(srgb_encode(x))
        torch.testing.assert_close(as_srgb, base, rtol=1e-5, atol=1e-5)
