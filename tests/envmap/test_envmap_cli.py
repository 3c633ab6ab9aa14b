"""`singlehdr envmap` end to end: real files in, real EXR/PNG/JSON out."""

import json

import numpy as np
import pytest

from singlehdr.cli import main


@pytest.fixture()
def pano_jpg(tmp_path, load_world, camera):
    from singlehdr.io import write_ldr

    expose, meter = camera
    env = load_world("city", 256)
    return write_ldr(tmp_path / "pano.jpg", expose(env, meter(env, -2.0)), quality=95)


def test_cli_envmap_writes_everything(tmp_path, pano_jpg, capsys):
    from singlehdr.io import read_hdr

    out = tmp_path / "env.exr"
    rc = main(["envmap", str(pano_jpg), "-o", str(out), "--method", "inverse-srgb", "--width", "64", "--cubemap",
               "--preview", str(tmp_path / "sheet.png"), "--report", str(tmp_path / "light.json"),
               "--exposure", "median", "--exposure-target", "0.25"])
    assert rc == 0, capsys.readouterr().err
    hdr, meta = read_hdr(out)
    assert hdr.shape == (32, 64, 3)
    assert meta["alpha"] is not None and float(meta["alpha"].min()) == 1.0
    attrs = meta["attributes"]
    scale = float(attrs["singlehdr:exposure_scale"])
    assert scale > 0 and scale != 1.0 and attrs["singlehdr:exposure_mode"] == "median"
    assert attrs["singlehdr:envmap:kind"] == "equirect"
    for face in ("px", "nx", "py", "ny", "pz", "nz"):
        f, _ = read_hdr(tmp_path / f"env_{face}.exr")
        assert f.shape == (16, 16, 3)
    rep = json.loads((tmp_path / "light.json").read_text())
    assert rep["exposure_scale"] == pytest.approx(scale)
    assert len(rep["sh9"]["radiance_rgb"]) == 9 and 30 < rep["dominant_light"]["azimuth_deg"] < 42
    from PIL import Image

    assert Image.open(tmp_path / "sheet.png").size[0] == 1024


def test_cli_absolute_without_exif_is_exit_2(tmp_path, pano_jpg, capsys):
    rc = main(["envmap", str(pano_jpg), "-o", str(tmp_path / "e.exr"), "--method", "inverse-srgb", "--width", "32",
               "--exposure", "absolute"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: absolute exposure needs EXIF") and "--exposure median" in err
    assert "Traceback" not in err and not (tmp_path / "e.exr").exists()


def test_cli_never_overwrites_input(tmp_path, pano_jpg, capsys):
    before = pano_jpg.read_bytes()
    rc = main(["envmap", str(pano_jpg), "-o", str(pano_jpg), "--method", "inverse-srgb", "--width", "32", "--overwrite"])
    assert rc == 2 and "input" in capsys.readouterr().err
    assert pano_jpg.read_bytes() == before


def test_cli_sun_on_with_intensity_in_file_report_and_header(tmp_path, pano_jpg, capsys):
    """--inject-sun (= --sun on) with --sun-intensity 20: the file gains exactly 20 (luminance x sr) in a disc at the
    reported direction, over the map without the clipped blob; report and EXR header carry the sun."""
    from singlehdr.envmap.calibrate import luminance
    from singlehdr.envmap.projections import equirect_directions, equirect_solid_angles
    from singlehdr.io import read_hdr

    out_a, out_b = tmp_path / "a.exr", tmp_path / "b.exr"
    assert main(["envmap", str(pano_jpg), "-o", str(out_a), "--method", "inverse-srgb", "--width", "128", "--sun", "off"]) == 0
    assert main(["envmap", str(pano_jpg), "-o", str(out_b), "--method", "inverse-srgb", "--width", "128",
                 "--inject-sun", "--sun-intensity", "20", "--report", str(tmp_path / "b.json")]) == 0
    a, _ = read_hdr(out_a)
    b, meta = read_hdr(out_b)
    rep = json.loads((tmp_path / "b.json").read_text())
    sun = rep["sun"]
    assert sun["irradiance_luminance"] == pytest.approx(20.0, rel=1e-6) and sun["method"] == "given intensity"
    assert json.loads(meta["attributes"]["singlehdr:envmap:sun"])["irradiance_luminance"] == pytest.approx(20.0, rel=1e-6)
    om = equirect_solid_angles(64, 128)
    ang = np.degrees(np.arccos(np.clip(equirect_directions(64, 128) @ np.asarray(sun["direction"]), -1, 1)))
    disc = ang < 2.0
    gained = float(np.sum((luminance(b) - luminance(a))[disc] * om[disc]))
    assert gained == pytest.approx(20.0, rel=0.05)  # minus the clipped blob's own (small) light, half-float rounding
    assert float(b.max()) > 1000  # 20 units over a sub-pixel disc
    assert "sun: azimuth" in capsys.readouterr().out


def test_cli_sun_flags_contradict(tmp_path, pano_jpg, capsys):
    rc = main(["envmap", str(pano_jpg), "-o", str(tmp_path / "e.exr"), "--sun", "off", "--sun-intensity", "3"])
    assert rc == 2 and "--sun off" in capsys.readouterr().err
    rc = main(["envmap", str(pano_jpg), "-o", str(tmp_path / "e.exr"), "--sun", "auto", "--inject-sun"])
    assert rc == 2 and "--inject-sun" in capsys.readouterr().err
    assert not (tmp_path / "e.exr").exists()


def test_cli_photo_orientation_note_on_stderr(tmp_path, capsys):
    from singlehdr.io import write_ldr

    rng = np.random.default_rng(0)
    img = (rng.random((48, 64, 3)) * 200).astype(np.uint8)
    p = write_ldr(tmp_path / "photo.png", img)
    rc = main(["envmap", str(p), "-o", str(tmp_path / "e.exr"), "--kind", "photo", "--fov", "60", "--method", "inverse-srgb",
               "--width", "64", "--report", str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert rc == 0 and "yaw = pitch = 0 was assumed" in err and len([ln for ln in err.splitlines() if "yaw" in ln]) == 1
    assert any("yaw = pitch = 0" in n for n in json.loads((tmp_path / "r.json").read_text())["notes"])


@pytest.mark.parametrize("extra", [
    ["--report", "{out}", "--overwrite"],          # the report would replace the map itself
    ["--cubemap", "--report", "{dir}/e_px.exr"],   # ... or a cube face
    ["--preview", "{dir}/r.json", "--report", "{dir}/r.json"],
    ["--preview", "{dir}/sheet.bmp"],              # preview format only known after the map is written
])
def test_cli_bad_side_outputs_fail_before_writing(tmp_path, pano_jpg, capsys, extra):
    out = tmp_path / "e.exr"
    argv = [a.format(out=out, dir=tmp_path) for a in extra]
    rc = main(["envmap", str(pano_jpg), "-o", str(out), "--method", "inverse-srgb", "--width", "32", *argv])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pano.jpg"]


def test_cli_without_sun_writes_the_sun_free_map(tmp_path, load_world, camera, capsys):
    """--without-sun writes hdr_without_sun: equal to the map outside the sun, short of it by the sun's energy."""
    from singlehdr.envmap.projections import equirect_solid_angles
    from singlehdr.io import read_hdr, write_ldr

    expose, meter = camera
    env = load_world("sunrise", 512)
    src = write_ldr(tmp_path / "sunrise.jpg", expose(env, meter(env, 0.0)), quality=95)
    out, nosun, rep = tmp_path / "env.exr", tmp_path / "env_nosun.exr", tmp_path / "light.json"
    rc = main(["envmap", str(src), "-o", str(out), "--method", "inverse-srgb", "--width", "256",
               "--without-sun", str(nosun), "--report", str(rep)])
    assert rc == 0, capsys.readouterr().err
    full, _ = read_hdr(out)
    free, meta = read_hdr(nosun)
    sun = json.loads(rep.read_text())["sun"]
    assert sun is not None and meta["attributes"]["singlehdr:envmap:layer"] == "without_sun"
    d_omega = equirect_solid_angles(*full.shape[:2])[..., None]
    missing = ((full - free) * d_omega).sum(axis=(0, 1))
    # what was taken out is the sun's irradiance (the disc's integral; half floats and the re-filled sky aside)
    np.testing.assert_allclose(missing, sun["irradiance_rgb"], rtol=0.1)
    changed = np.abs(full - free).max(axis=-1) > 1e-3 * full.max()
    assert 0 < changed.mean() < 0.01


def test_reconstruct_on_a_panorama_is_the_envmap_without_the_sun(tmp_path):
    """The reconstruction path does not contradict the envmap path (issue 9): a 2:1 panorama through
    `reconstruct` and through `make_envmap(sun="off")` at the input's width is the same map, pixel for pixel, with
    the default model (training-free operators, which do not expand highlights, also get envmap's clipped-plateau
    lift); the CLI says that envmap also recovers the sun."""
    import subprocess
    import sys

    from PIL import Image

    from singlehdr import ReconstructOptions, reconstruct
    from singlehdr.data import sample_path
    from singlehdr.envmap import EnvmapOptions, make_envmap

    im = Image.open(sample_path()).convert("RGB").resize((256, 128), Image.Resampling.BOX)
    ldr = np.asarray(im)
    rec = ReconstructOptions()
    a = reconstruct(ldr, rec).hdr_linear[..., :3]
    b = make_envmap(ldr, EnvmapOptions(width=256, sun="off", reconstruct=rec)).hdr_linear[..., :3]
    np.testing.assert_array_equal(a, b)
    src = tmp_path / "pano.png"
    im.save(src)
    out = subprocess.run([sys.executable, "-m", "singlehdr.cli", "reconstruct", str(src), "-o", str(tmp_path / "p.exr"),
                          "--device", "cpu"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "360 panorama: the same map as `singlehdr envmap --sun off`" in out.stdout
