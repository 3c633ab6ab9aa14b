"""Fixtures of the merge tests."""

from __future__ import annotations

import numpy as np
import pytest
from merge_scenes import make_scene


@pytest.fixture
def scene() -> np.ndarray:
    """The default synthetic scene (64 x 128), sun of 60."""
    return make_scene()
