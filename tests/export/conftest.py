"""Shared fixtures of the export tests: one real SingleHDRModel export for all of them."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def small_model():
    """The real SingleHDRModel at x0.25 width with random weights (the export must reproduce any weights)."""
    pipeline = pytest.importorskip("singlehdr.models.pipeline")
    import torch

    torch.manual_seed(0)
    return pipeline.SingleHDRModel(pipeline.SingleHDRConfig.small()).eval()


@pytest.fixture(scope="session")
def exported(small_model, tmp_path_factory):
    """small_model exported for Nuke 13 (the strictest target) at 56x40 with a 4 px margin, on one thread."""
    import torch

    from singlehdr.export import export_torchscript

    path = tmp_path_factory.mktemp("nk") / "singlehdr.pt"
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        export_torchscript(small_model, path, example_size=(40, 56), margin=4, target="nuke13")
    finally:
        torch.set_num_threads(n)
    return path
