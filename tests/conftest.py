"""Shared pytest fixtures (keep small; others may add theirs)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def one_torch_thread():
    """Run a test with torch on one thread (CI has 2 cores), restoring the count after.

    Use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator."""
    return np.random.default_rng(1234)


@pytest.fixture
def hdr_image(rng) -> np.ndarray:
    """A small (24, 32, 3) float32 HDR image with values from 1e-3 to ~1000."""
    return (10.0 ** rng.uniform(-3, 3, size=(24, 32, 3))).astype(np.float32)


@pytest.fixture
def sample_jpg():
    """The bundled sample photo (core/singlehdr/data/sample.jpg)."""
    from singlehdr.data import sample_path

    return sample_path()


def files_in(folder) -> list[str]:
    """Names of all entries in a folder (to assert nothing was left behind)."""
    from pathlib import Path

    return sorted(p.name for p in Path(folder).iterdir())
