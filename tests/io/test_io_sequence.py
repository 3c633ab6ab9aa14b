"""Sequence patterns, frame ranges, folder expansion and output naming."""

from pathlib import Path

import pytest

from singlehdr.errors import SingleHDRError
from singlehdr.io.sequence import expand_inputs, output_paths, parse_frames, parse_pattern


def touch(folder, *names):
    for n in names:
        (folder / n).write_bytes(b"x")


def test_parse_frames():
    assert parse_frames("1001-1004") == [1001, 1002, 1003, 1004]
    assert parse_frames("1-9x4") == [1, 5, 9]
    assert parse_frames("7, 1,3-4") == [1, 3, 4, 7]
    assert parse_frames("-2-1") == [-2, -1, 0, 1]
    for bad in ("", "a-b", "10-5", "1-5x0"):
        with pytest.raises(SingleHDRError):
            parse_frames(bad)


def test_parse_pattern_forms():
    seq, frames = parse_pattern("shots/plate.####.jpg")
    assert (seq.prefix, seq.suffix, seq.pad, frames) == ("plate.", ".jpg", 4, None)
    assert seq.path(7) == Path("shots/plate.0007.jpg") and seq.path(12345).name == "plate.12345.jpg"
    seq, frames = parse_pattern("plate.%04d.jpg")
    assert (seq.prefix, seq.pad, frames) == ("plate.", 4, None)
    seq, _ = parse_pattern("plate.%d.png")
    assert seq.path(5).name == "plate.5.png"
    seq, frames = parse_pattern("plate.1001-1003#.jpg")
    assert (seq.prefix, seq.suffix, seq.pad, frames) == ("plate.", ".jpg", 4, [1001, 1002, 1003])
    seq, frames = parse_pattern("p_1-3@@@.png")
    assert seq.path(frames[0]).name == "p_001.png" and frames == [1, 2, 3]
    assert parse_pattern("photo.jpg") is None


def test_expand_sequence_by_discovery_and_frames(tmp_path):
    touch(tmp_path, "plate.1001.jpg", "plate.1002.jpg", "plate.1003.jpg", "plate.1001.png", "other.jpg")
    items = expand_inputs([str(tmp_path / "plate.####.jpg")])
    assert [(i.frame, i.path.name) for i in items] == [(1001, "plate.1001.jpg"), (1002, "plate.1002.jpg"), (1003, "plate.1003.jpg")]
    items = expand_inputs([str(tmp_path / "plate.%04d.jpg")], frames="1002-1003")
    assert [i.frame for i in items] == [1002, 1003]
    items = expand_inputs([str(tmp_path / "plate.1001-1002#.jpg")])
    assert [i.frame for i in items] == [1001, 1002]
    with pytest.raises(SingleHDRError, match="missing 2 of 3 frames .first: plate.1004.jpg"):
        expand_inputs([str(tmp_path / "plate.####.jpg")], frames="1003-1005")
    with pytest.raises(SingleHDRError, match="no files match"):
        expand_inputs([str(tmp_path / "shot.####.jpg")])


def test_expand_folder_files_and_dedupe(tmp_path):
    touch(tmp_path, "img10.jpg", "img2.png", "img1.JPG", ".hidden.jpg", "notes.txt")
    items = expand_inputs([str(tmp_path), str(tmp_path / "img2.png")])
    assert [i.path.name for i in items] == ["img1.JPG", "img2.png", "img10.jpg"]
    with pytest.raises(SingleHDRError, match="does not exist"):
        expand_inputs([str(tmp_path / "nope.jpg")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(SingleHDRError, match="has no images"):
        expand_inputs([str(tmp_path / "empty")])


def test_output_naming(tmp_path):
    touch(tmp_path, "plate.1001.jpg", "plate.1002.jpg", "a.jpg", "a.png")
    seq = expand_inputs([str(tmp_path / "plate.####.jpg")])
    out = tmp_path / "out"
    assert [p.name for p in output_paths(seq, out, ".exr")] == ["plate.1001.exr", "plate.1002.exr"]
    assert [p.name for p in output_paths(seq, tmp_path / "hdr.%05d.exr", ".exr")] == ["hdr.01001.exr", "hdr.01002.exr"]
    one = expand_inputs([str(tmp_path / "a.jpg")])
    assert output_paths(one, tmp_path / "x.exr", ".exr") == [tmp_path / "x.exr"]
    assert output_paths(one, out, ".hdr") == [out / "a.hdr"]
    with pytest.raises(SingleHDRError, match="would both write"):
        output_paths(expand_inputs([str(tmp_path / "a.jpg"), str(tmp_path / "a.png")]), out, ".exr")
    with pytest.raises(SingleHDRError, match="need an output folder"):
        output_paths(seq, tmp_path / "x.exr", ".exr")
    with pytest.raises(SingleHDRError, match="needs sequence input"):
        output_paths(one, tmp_path / "o.####.exr", ".exr")


def test_frames_without_a_sequence_input_is_refused(tmp_path):
    f = tmp_path / "still.jpg"
    f.write_bytes(b"not read here")
    with pytest.raises(SingleHDRError, match="needs a sequence input"):
        expand_inputs([str(f)], frames="1-3")
