"""Bounded fuzzing of every reader a user's file reaches: OpenEXR, Radiance .hdr,
JPEG/PNG/TIFF (8 and 16 bit), singlehdr .safetensors models and TF checkpoints.

Each case mutates a small valid seed file (byte flips, header flips, truncation,
insertion, deletion) and feeds it to the reader.  A case passes when the reader
returns a valid result or raises SingleHDRError (the CLI's one line, exit 2)
and prints nothing (no native-library output, no Python warning); any other
exception, a crash or a case running past HANG_SECONDS fails the test
(hypothesis then shrinks it to a minimal mutation).

Budget: SINGLEHDR_FUZZ_EXAMPLES cases per reader (default 150, deterministic:
the same cases every run).  A longer, randomised run:

    SINGLEHDR_FUZZ_EXAMPLES=5000 python -m pytest tests/reliability/test_fuzz.py -s

prints the cases run per reader (also written as JSON to SINGLEHDR_FUZZ_REPORT
if set).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from singlehdr.errors import SingleHDRError

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
from exr_builder import HALF, rgb_to_yc, write_exr_raw  # noqa: E402
from tf_builder import write_checkpoint  # noqa: E402

pytestmark = [pytest.mark.fuzz, pytest.mark.usefixtures("one_torch_thread")]

EXAMPLES = int(os.environ.get("SINGLEHDR_FUZZ_EXAMPLES", "150"))
HANG_SECONDS = 20.0
COUNTS: dict[str, Counter] = {}
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=EXAMPLES <= 150,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


class Hang(Exception):
    pass


def _alarm(signum, frame):  # noqa: ARG001
    raise Hang(f"a reader ran past {HANG_SECONDS} s")


# ---------------------------------------------------------------- mutations
_op = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
    st.tuples(st.just("head"), st.integers(0, 511), st.integers(0, 255)),
    st.tuples(st.just("truncate"), st.floats(0, 1, exclude_max=True), st.just(0)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), st.floats(0, 1, exclude_max=True), st.integers(1, 64)),
)
MUTATIONS = st.lists(_op, min_size=1, max_size=6)


def mutate(data: bytes, ops) -> bytes:
    b = bytearray(data)
    for kind, where, what in ops:
        if not b:
            break
        if kind == "flip":
            b[int(where * len(b))] = what
        elif kind == "head":
            b[where % len(b)] = what
        elif kind == "truncate":
            del b[int(where * len(b)):]
        elif kind == "insert":
            pos = int(where * len(b))
            b[pos:pos] = what
        elif kind == "delete":
            pos = int(where * len(b))
            del b[pos:pos + what]
    return bytes(b)


def run_case(reader: str, fn, path: Path) -> None:
    """fn(path) must return normally or raise SingleHDRError, within HANG_SECONDS."""
    counts = COUNTS.setdefault(reader, Counter())
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    try:
        with warnings.catch_warnings():  # a warning would be printed by the CLI: it fails the case
            warnings.simplefilter("error", RuntimeWarning)
            warnings.simplefilter("error", UserWarning)
            fn(path)
        counts["valid"] += 1
    except SingleHDRError as exc:
        assert "\n" not in str(exc)
        counts["refused"] += 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    counts["cases"] += 1


# ---------------------------------------------------------------- seeds
@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    from singlehdr.io import write_hdr, write_ldr

    d = tmp_path_factory.mktemp("seeds")
    rng = np.random.default_rng(3)
    hdr = (10.0 ** rng.uniform(-2, 2, (12, 16, 3))).astype(np.float32)
    ldr = rng.random((12, 16, 3)).astype(np.float32)
    s: dict[str, list[Path]] = {"exr": [], "hdr": [], "ldr": []}
    s["exr"].append(write_hdr(d / "zip.exr", hdr, alpha=np.ones((12, 16), np.float32)))
    s["exr"].append(write_hdr(d / "none.exr", hdr, half=False, compression="none"))
    s["exr"].append(write_hdr(d / "piz.exr", hdr, compression="piz", colorspace="acescg"))
    y, ry, by = rgb_to_yc(hdr.astype(np.float64))
    s["exr"].append(write_exr_raw(d / "yc.exr", {"Y": (y, HALF, 1, 1), "RY": (ry, HALF, 2, 2), "BY": (by, HALF, 2, 2)}))
    s["hdr"].append(write_hdr(d / "rle.hdr", hdr))
    s["hdr"].append(write_hdr(d / "flat.hdr", hdr[:, :6]))
    s["ldr"].append(write_ldr(d / "a.png", ldr))
    s["ldr"].append(write_ldr(d / "b16.png", ldr, bits=16))
    s["ldr"].append(write_ldr(d / "c.jpg", ldr))
    s["ldr"].append(write_ldr(d / "d.tif", ldr))
    s["ldr"].append(write_ldr(d / "e16.tif", ldr, bits=16))
    return s


@pytest.fixture(scope="module")
def model_seed(tmp_path_factory):
    import torch

    import singlehdr.weights as weights
    from singlehdr.models import SingleHDRConfig, SingleHDRModel

    torch.manual_seed(0)
    p = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    weights.save_model(p, SingleHDRModel(SingleHDRConfig(weights.MIN_WIDTH, False)), provenance={"name": "fuzz"},
                       half=True)
    return p


@pytest.fixture(scope="module")
def tf_seed(tmp_path_factory):
    d = tmp_path_factory.mktemp("tf")
    rng = np.random.default_rng(5)
    tensors = {
        "Dequantization_Net/conv2d/kernel": rng.normal(size=(3, 3, 3, 4)).astype(np.float32),
        "Dequantization_Net/conv2d/bias": rng.normal(size=(4,)).astype(np.float32),
        "global_step": np.array(7, np.int64),
        "x/half": rng.normal(size=(5, 3)).astype(np.float16),
    }
    return write_checkpoint(d / "model.ckpt", tensors)


# ---------------------------------------------------------------- readers
def _read_hdr(p: Path) -> None:
    from singlehdr.io import read_hdr

    hdr, meta = read_hdr(p, allow_nonfinite=True)
    assert hdr.ndim == 3 and hdr.shape[2] == 3 and hdr.dtype == np.float32
    assert (meta["height"], meta["width"]) == hdr.shape[:2]


def _read_ldr(p: Path) -> None:
    from singlehdr.io import read_ldr

    img = read_ldr(p)
    px = img.pixels
    assert px.ndim == 3 and px.shape[2] == 3 and px.dtype == np.float32
    assert float(px.min()) >= 0.0 and float(px.max()) <= 1.0


def _load_model(p: Path) -> None:
    import singlehdr.weights as weights

    model, info = weights.load_model(p, device="cpu")
    assert info["config"]["width"] >= weights.MIN_WIDTH


def _read_tf(prefix: Path) -> None:
    from singlehdr.weights.tf_checkpoint import TFCheckpoint

    ckpt = TFCheckpoint(prefix)
    for name in ckpt.names():
        a = ckpt.read(name)
        assert a.shape == tuple(ckpt.shape(name))


def _fuzz_file(tmp_path: Path, capfd, reader: str, seed: Path, ops, fn) -> None:
    p = tmp_path / f"case{seed.suffix}"
    p.write_bytes(mutate(seed.read_bytes(), ops))
    capfd.readouterr()
    run_case(reader, fn, p)
    out, err = capfd.readouterr()
    assert out == "" and err == "", f"a native library printed past the reader: {(out + err)[:300]!r}"


@FUZZ
@given(which=st.integers(0, 3), ops=MUTATIONS)
def test_fuzz_exr_reader(tmp_path, capfd, seeds, which, ops):
    _fuzz_file(tmp_path, capfd, "exr", seeds["exr"][which], ops, _read_hdr)


@FUZZ
@given(which=st.integers(0, 1), ops=MUTATIONS)
def test_fuzz_radiance_reader(tmp_path, capfd, seeds, which, ops):
    _fuzz_file(tmp_path, capfd, "radiance", seeds["hdr"][which], ops, _read_hdr)


@FUZZ
@given(which=st.integers(0, 4), ops=MUTATIONS)
def test_fuzz_ldr_readers(tmp_path, capfd, seeds, which, ops):
    _fuzz_file(tmp_path, capfd, "jpeg/png/tiff", seeds["ldr"][which], ops, _read_ldr)


@FUZZ
@given(ops=MUTATIONS, in_header=st.booleans())
def test_fuzz_safetensors_model(tmp_path, model_seed, ops, in_header):
    data = model_seed.read_bytes()
    if in_header:  # aim at the JSON header (8-byte length + header) most of the time
        n = 8 + int.from_bytes(data[:8], "little")
        ops = [(k, w * n / len(data) if isinstance(w, float) and k != "head" else w, x) for k, w, x in ops]
    p = tmp_path / "m.safetensors"
    p.write_bytes(mutate(data, ops))
    run_case("safetensors", _load_model, p)


@FUZZ
@given(ops=MUTATIONS, target=st.sampled_from(["index", "data"]))
def test_fuzz_tf_checkpoint(tmp_path, tf_seed, ops, target):
    prefix = tmp_path / "model.ckpt"
    for suffix in (".index", ".data-00000-of-00001"):
        src = Path(str(tf_seed) + suffix).read_bytes()
        if (target == "index") == (suffix == ".index"):
            src = mutate(src, ops)
        Path(str(prefix) + suffix).write_bytes(src)
    run_case("tf-checkpoint", _read_tf, prefix)


def test_fuzz_report():
    """Print (and optionally save) the cases run per reader; every reader was exercised."""
    report = {k: dict(v) for k, v in sorted(COUNTS.items())}
    total = sum(v["cases"] for v in COUNTS.values())
    print(f"\nfuzz: {total} cases run (valid = read, refused = one-line SingleHDRError): " + json.dumps(report))
    if os.environ.get("SINGLEHDR_FUZZ_REPORT"):
        Path(os.environ["SINGLEHDR_FUZZ_REPORT"]).write_text(json.dumps({"total": total, "readers": report}, indent=2))
    if COUNTS:  # run together with the fuzz tests (not with -k selecting only this one)
        assert all(v["cases"] >= min(EXAMPLES, 10) for v in COUNTS.values()), report
