"""``make_envmap`` / ``singlehdr envmap`` from exposure brackets and RAW files: the merge takes the envmap path,
the networks fill only what the darkest frame (the sensor) clips; bad input is one line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from merge_scenes import make_scene, shoot

from singlehdr.cli import main
from singlehdr.io import write_ldr

EVS = (-2.0, 0.0, 2.0)
DNG = Path(__file__).parent / "data" / "courtyard_96x48.dng"


def oiio_rgb(path) -> np.ndarray:
    oiio = pytest.importorskip("OpenImageIO")
    buf = oiio.ImageBuf(str(path))
    px = buf.get_pixels(oiio.FLOAT)
    assert px is not None, oiio.geterror()
    return np.asarray(px)[..., :3]


@pytest.fixture
def scene() -> np.ndarray:
    return make_scene()  # 64 x 128 (2:1: an equirect), a 'sun' blob of 60


@pytest.fixture
def bracket_files(tmp_path, scene):
    return [write_ldr(tmp_path / f"f{i}.png", shoot(scene, ev)) for i, ev in enumerate(EVS)]


def _opts(fill: str, sun: str = "off", width: int = 128):
    from singlehdr import ReconstructOptions
    from singlehdr.envmap import EnvmapOptions
    from singlehdr.merge import MergeOptions

    return EnvmapOptions(kind="equirect", width=width, sun=sun, reconstruct=ReconstructOptions(device="cpu"),
                         merge=MergeOptions(ev=EVS, fill=fill, response="srgb"))


def test_envmap_from_brackets_networks_fill_only_the_clip(scene):
    from singlehdr.envmap import make_envmap

    frames = [shoot(scene, ev) for ev in EVS]
    clip = np.any(scene * 2.0 ** min(EVS) >= 1.0, axis=-1)  # what the darkest frame (EV -2) clips: the sun blob
    assert 0.005 < clip.mean() < 0.05
    none = make_envmap(frames, _opts("none"))
    net = make_envmap(frames, _opts("networks"))
    from singlehdr.merge import merge_brackets

    mclip = merge_brackets(frames, _opts("none").merge).clip  # the merge's own mask: the sun and its rim
    assert np.all(mclip[clip]) and mclip.mean() < 2 * clip.mean() + 0.01
    assert none.hdr_linear.shape == net.hdr_linear.shape == (64, 128, 3)
    assert none.metadata["method"] == "brackets" and net.metadata["method"] == "brackets+singlehdr"
    assert none.metadata["envmap_clip_level"] == pytest.approx(4.0) == net.metadata["envmap_clip_level"]
    # the merge itself where some frame saw the scene (8-bit frames: within a few per cent)
    ok = ~clip & (scene.max(axis=-1) * 4 > 0.05)
    rel = none.hdr_linear[ok] / scene[ok]
    assert np.median(rel) == pytest.approx(1.0, abs=0.01)
    assert np.percentile(np.abs(rel - 1.0), 95) < 0.05
    # fill none keeps the lower bound: the clip level 4 (the sun is 60)
    assert np.all(np.abs(none.hdr_linear[clip].max(axis=-1) - 4.0) < 0.2)
    # the networks change nothing outside the darkest frame's clip, and only raise inside it
    assert np.array_equal(net.hdr_linear[~mclip], none.hdr_linear[~mclip])
    y = lambda a: a @ np.array([0.2126, 0.7152, 0.0722], np.float32)  # noqa: E731
    assert np.all(y(net.hdr_linear[mclip]) >= y(none.hdr_linear[mclip]) - 1e-4)
    assert y(net.hdr_linear[clip]).sum() > 1.1 * y(none.hdr_linear[clip]).sum()
    # fill none with sun "auto" recovers no sun (a lower bound stays one) and says so
    auto = make_envmap(frames, _opts("none", sun="auto"))
    assert auto.sun is None and np.array_equal(auto.hdr_linear, none.hdr_linear)
    assert "fill none" in " ".join(auto.notes)


def test_envmap_from_raw_is_the_sensor_data():
    pytest.importorskip("rawpy")
    from singlehdr.envmap import make_envmap
    from singlehdr.io.raw import read_raw

    raw = read_raw(DNG)
    res = make_envmap(str(DNG), _opts("none", width=96))
    assert np.array_equal(res.hdr_linear, raw.hdr_linear)  # 96x48 map of a 96x48 RAW: the data itself
    assert res.metadata["method"] == "raw" and res.metadata["envmap_clip_level"] == pytest.approx(1.0)
    if raw.clip.any():
        net = make_envmap(str(DNG), _opts("networks", width=96))
        assert np.array_equal(net.hdr_linear[~raw.clip], raw.hdr_linear[~raw.clip])


def test_cli_envmap_brackets_writes_the_api_map(tmp_path, bracket_files, capsys):
    from singlehdr.envmap import make_envmap

    out = tmp_path / "env.exr"
    rc = main(["envmap", "--brackets", *map(str, bracket_files), "--ev", "-2", "0", "2", "--fill", "none",
               "--response", "srgb", "--kind", "equirect", "--width", "128", "--sun", "off", "-o", str(out)])
    assert rc == 0, capsys.readouterr().err
    got = oiio_rgb(out)
    api = make_envmap([str(f) for f in bracket_files], _opts("none"))
    np.testing.assert_allclose(got, api.hdr_linear, rtol=1e-3, atol=1e-4)  # the EXR may be half float
    # a folder of brackets, exposure values with commas
    folder = tmp_path / "shots"
    folder.mkdir()
    for f in bracket_files:
        Path(f).rename(folder / Path(f).name)
    out2 = tmp_path / "env2.exr"
    assert main(["envmap", "--brackets", str(folder), "--ev=-2,0,2", "--fill", "none", "--response", "srgb",
                 "--kind", "equirect", "--width", "128", "--sun", "off", "-o", str(out2)]) == 0
    np.testing.assert_array_equal(oiio_rgb(out2), got)


def test_cli_envmap_raw(tmp_path, capsys):
    pytest.importorskip("rawpy")
    from singlehdr.io.raw import read_raw

    out = tmp_path / "env.exr"
    assert main(["envmap", str(DNG), "--fill", "none", "--kind", "equirect", "--width", "96", "--sun", "off",
                 "-o", str(out)]) == 0, capsys.readouterr().err
    np.testing.assert_allclose(oiio_rgb(out), read_raw(DNG).hdr_linear, rtol=1e-3, atol=1e-4)


def _bad(args, tmp_path, capsys, text):
    out = tmp_path / "bad.exr"
    rc = main(["envmap", *args, "--kind", "equirect", "--width", "64", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert text in err, err
    assert not out.exists() and not list(tmp_path.glob("*.tmp*"))


def test_cli_envmap_bad_brackets(tmp_path, bracket_files, scene, capsys):
    files = [str(f) for f in bracket_files]
    # a single bracket
    _bad(["--brackets", files[0], "--ev", "0"], tmp_path, capsys, "needs at least 2 frames")
    # no EXIF exposure and no --ev
    _bad(["--brackets", *files], tmp_path, capsys, "f0.png has no EXIF exposure time; pass --ev")
    # brackets of different sizes
    small = write_ldr(tmp_path / "small.png", shoot(scene[:32, :64], 0.0))
    _bad(["--brackets", files[0], files[1], str(small), "--ev=-2,0,2"], tmp_path, capsys, "must all have the same size")
    # a corrupt frame
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    _bad(["--brackets", files[0], str(broken), files[2], "--ev=-2,0,2"], tmp_path, capsys, "bracket 2 (broken.jpg)")
    # several images without --brackets; --ev without --brackets
    _bad(files, tmp_path, capsys, "pass --brackets")
    _bad([files[0], "--ev", "0"], tmp_path, capsys, "--ev applies to --brackets only")


def test_cli_envmap_bad_raw(tmp_path, bracket_files, capsys):
    pytest.importorskip("rawpy")
    bad = tmp_path / "broken.cr2"
    bad.write_bytes(b"\x00" * 100)
    _bad([str(bad)], tmp_path, capsys, "cannot read broken.cr2 as camera RAW")
    _bad(["--brackets", str(bracket_files[0]), str(DNG), "--ev=-2,0"], tmp_path, capsys, "courtyard_96x48.dng is a camera RAW")


@pytest.mark.parametrize("geometry", [dict(kind="photo", fov=60.0, yaw=0.0, pitch=0.0), dict(kind="ball", ball=(64.0, 48.0, 40.0))])
def test_envmap_brackets_photo_and_ball_keep_the_lower_bound(geometry):
    """Photo and chrome-ball brackets: unfilled, nothing in the map exceeds the darkest frame's clip level (4)."""
    from singlehdr import ReconstructOptions
    from singlehdr.envmap import EnvmapOptions, make_envmap
    from singlehdr.merge import MergeOptions

    scene = make_scene(96, 128)
    frames = [shoot(scene, ev) for ev in EVS]
    res = make_envmap(frames, EnvmapOptions(width=64, sun="off", reconstruct=ReconstructOptions(device="cpu"),
                                            merge=MergeOptions(ev=EVS, fill="none", response="srgb"), **geometry))
    assert res.kind == geometry["kind"] and res.metadata["envmap_clip_level"] == pytest.approx(4.0)
    assert 3.5 < float(res.hdr_linear.max()) <= 4.0 + 1e-3
