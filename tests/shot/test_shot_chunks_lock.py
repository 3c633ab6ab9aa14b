"""Chunk arithmetic, frame sampling, curve pooling and sidecar files (no networks)."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from singlehdr.errors import SingleHDRError
from singlehdr.shot.chunks import chunk_frames, parse_chunk
from singlehdr.shot.lock import ShotLock, pool_curves, publish_sidecar, read_sidecar, sample_frames, sidecar_path


@pytest.mark.parametrize("count", [0, 1, 2, 7, 10, 100, 101])
@pytest.mark.parametrize("n", [1, 2, 3, 8, 13])
def test_chunks_cover_every_frame_exactly_once(count, n):
    frames = list(range(1001, 1001 + count))
    parts = [chunk_frames(frames, k, n) for k in range(1, n + 1)]
    assert [f for p in parts for f in p] == frames  # in order, no gaps, no repeats
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1
    assert sizes == sorted(sizes, reverse=True)  # the extra frames go to the first chunks


def test_chunk_values_by_hand():
    frames = list(range(1, 11))  # 10 frames in 3 chunks: 4, 3, 3
    assert chunk_frames(frames, 1, 3) == [1, 2, 3, 4]
    assert chunk_frames(frames, 2, 3) == [5, 6, 7]
    assert chunk_frames(frames, 3, 3) == [8, 9, 10]
    assert chunk_frames([1001, 1003, 1005], 2, 2) == [1005]  # stepped ranges split by position


@pytest.mark.parametrize("text", ["0/3", "4/3", "3", "a/b", "1/0", "-1/2", ""])
def test_bad_chunks_are_user_errors(text):
    with pytest.raises(SingleHDRError, match="chunk"):
        parse_chunk(text)
    assert parse_chunk(" 2 / 5 ") == (2, 5)


def test_sample_frames_spread_and_deterministic():
    frames = list(range(1001, 1101))
    s = sample_frames(frames, 5)
    assert s == [1001, 1026, 1051, 1075, 1100]  # round(linspace(0, 99, 5)) = 0, 25 (24.75), 50 (49.5, half to even), 74 (74.25), 99
    assert sample_frames(frames, 5) == s
    assert sample_frames([7, 9], 8) == [7, 9]
    assert sample_frames(frames, 1) == [1051]


def test_pool_curves_is_a_monotone_pointwise_median():
    x = np.linspace(0, 1, 1024, dtype=np.float32)
    curves = [x**2.2, x**2.0, x**1.8, x**2.4, np.zeros_like(x)]  # one broken estimate
    g = pool_curves(curves)
    # per sample the values sort as 0 < x^2.4 < x^2.2 < x^2.0 < x^1.8: the median is x^2.2
    np.testing.assert_allclose(g, x**2.2, atol=1e-6)
    assert np.all(np.diff(g) >= 0)
    wiggly = x.copy()
    wiggly[500] = 0.1  # a dip: the pooled curve must not go down
    assert np.all(np.diff(pool_curves([wiggly])) >= 0)
    with pytest.raises(SingleHDRError):
        pool_curves([])


def _lock(value: float = 2.0) -> ShotLock:
    x = np.linspace(0, 1, 1024)
    return ShotLock(method="singlehdr", model_id="m-1", inverse_crf=[float(v) for v in x**value], exposure_mode="relative",
                    exposure_scale=None, how="pooled", sampled_frames=[1, 5, 9])


def test_sidecar_round_trip_and_exclusive_publish(tmp_path):
    assert sidecar_path("plate.", tmp_path) == tmp_path / "plate.shot.json"
    assert sidecar_path("", tmp_path) == tmp_path / "shot.json"
    p = tmp_path / "out" / "plate.shot.json"
    first, wrote = publish_sidecar(p, _lock(2.0))
    assert wrote and p.is_file()
    back = read_sidecar(p)
    assert back.id == first.id and back.sampled_frames == [1, 5, 9]
    np.testing.assert_allclose(back.curve(), np.linspace(0, 1, 1024) ** 2.0, atol=1e-7)
    assert json.loads(p.read_text())["id"] == first.id
    # a second (concurrent) chunk with another estimate adopts the published lock and leaves the file alone
    before = p.read_bytes()
    got, wrote2 = publish_sidecar(p, _lock(2.4))
    assert not wrote2 and got.id == first.id and p.read_bytes() == before
    assert [q.name for q in p.parent.iterdir()] == ["plate.shot.json"]  # no temp files left


def test_concurrent_publishers_agree_on_one_lock(tmp_path):
    p = tmp_path / "s.shot.json"
    results = []

    def go(v):
        results.append(publish_sidecar(p, _lock(v)))

    threads = [threading.Thread(target=go, args=(1.5 + 0.1 * i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(w for _, w in results) == 1
    assert len({lk.id for lk, _ in results}) == 1 and read_sidecar(p).id == results[0][0].id


def test_bad_sidecars_are_one_line_errors(tmp_path):
    p = tmp_path / "x.shot.json"
    p.write_text("{not json")
    with pytest.raises(SingleHDRError, match="cannot read sidecar"):
        read_sidecar(p)
    p.write_text(json.dumps({"kind": "something else"}))
    with pytest.raises(SingleHDRError, match="not a singlehdr shot sidecar"):
        read_sidecar(p)
    d = json.loads(_lock().to_json())
    d["inverse_crf"] = d["inverse_crf"][::-1]  # decreasing
    p.write_text(json.dumps(d))
    with pytest.raises(SingleHDRError, match="no valid inverse CRF"):
        read_sidecar(p)
    with pytest.raises(SingleHDRError, match="does not exist"):
        read_sidecar(tmp_path / "none.json")
