"""Files the fuzzers found, kept as regression cases (each failed before its fix)."""

from __future__ import annotations

import base64

import pytest

from singlehdr.errors import SingleHDRError
from singlehdr.io import read_ldr

# A 716-byte mutated 8-bit TIFF (found by the random byte mutator): its header passes
# the pixel limit, but Pillow's decoder meets a 188 MP image at load() and raised its
# DecompressionBombError, a traceback in the CLI.
TIFF_BOMB = base64.b64decode(
    "SUkqAAgAAAAKAAABBAABAAAAEADvAAEBBAABAAAADAAAAAIBAwADAAAAhgAAAAMBAwABAAAAAQAAAAYBAwABAAAAAgAAABEBBAAB"
    "AAAAjAAAABUBAwABAAAAAwAAABYBBAABAAAADAAAABcBBAABAAAAQAIAABwBAwABAAAAAQAAAAAAAAAIAAgACAB5rx++JfS1h6c7"
    "fxZHSSpqEAdV/bltMx9qp9N22c/ZVXcplQt4KnouAGxtiiB/TBVpqk22yQQ3SJd8kRNJKb6uTt8jBV+q8YIjmATRUhom0+cv/9tU"
    "DSdvNC5G4Anrc7yD8S5BgoFUTheA1N1q+vdRHtXwpvZ6hhNe7BojCH6aiOCuopqBExmkNmqlmT5EJKm4IkUmnEzeRKSi8LjulQFT"
    "vVeoHqVi8RJcxGR2VRlS4MRPqsrLdSr0R8eh3hTu3z21At1qvcsH4RsndEGlMZ/C9mZJk6brlXBMuaMSTCt+YSiHqFfVGg+0kMDu"
    "gtClg4D9WGx5oxCmCmFxkJKaBlS8atOLka37AR4XNQX8JnnheT9KbE54aRXf948Y6FxhQe2wTV5sYavyC9jZOPnfuBtywY0Pw2k4"
    "WRpcBP8jVk11VuIw/mT7VRXVKL3hN1GQ3tp8kM0o7tw8oLulEhA5G3y8k+d9cyDzq/ruFpp8wAuonF8grwxWB05Anq61acCoiMf4"
    "e/WfY3qnUOtin9vUrLbBlm7lKSFQPPiH4o033+Egw5EuVrswm4iHLtKKsKBSvGXrdTJ3ZPNP4wciS72aamnXN8lfsdBuMj0/GG2k"
    "Y/TwxspQwQ0FEVG5CGKY2JA/FoHO1J4uEwxFiCaeUMmHxEGR4gTul/5Jfa6Xntwpt3Lp8nFb5vDF5/J8XA9wN7mc77BAX4CJ8KFT"
    "RpMWdeXqj4tVlnWl88AjLLD4mdZHPvvgc9Ckx5au8G689QpAW5J08DE="
)


def test_tiff_whose_decoded_size_disagrees_with_its_header(tmp_path):
    p = tmp_path / "bomb.tif"
    p.write_bytes(TIFF_BOMB)
    with pytest.raises(SingleHDRError, match="larger than its header says"):
        read_ldr(p)
