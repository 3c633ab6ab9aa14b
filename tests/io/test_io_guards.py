"""Every bad input or output path is a one-line SingleHDRError and leaves no file."""

import struct
import zlib

import numpy as np
import OpenEXR
import pytest
from PIL import Image

from singlehdr.errors import SingleHDRError
from singlehdr.io import read_hdr, read_ldr, write_hdr, write_ldr
from singlehdr.io.atomic import atomic_output


def png_header_only(path, width, height):
    """A PNG whose IHDR claims width x height (pixel data missing)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def one_line(exc):
    msg = str(exc.value)
    assert "\n" not in msg and len(msg) > 10
    return msg


def test_missing_empty_and_folder(tmp_path):
    with pytest.raises(SingleHDRError, match="does not exist"):
        read_ldr(tmp_path / "nope.jpg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(SingleHDRError, match="empty"):
        read_ldr(tmp_path / "empty.jpg")
    with pytest.raises(SingleHDRError, match="folder"):
        read_ldr(tmp_path)
    with pytest.raises(SingleHDRError, match="does not exist"):
        read_hdr(tmp_path / "nope.exr")


@pytest.mark.parametrize("ext,fmt", [(".jpg", "JPEG"), (".png", "PNG")])
def test_truncated_ldr(tmp_path, rng, ext, fmt):
    a = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    Image.fromarray(a).save(tmp_path / f"full{ext}", format=fmt)
    data = (tmp_path / f"full{ext}").read_bytes()
    (tmp_path / f"cut{ext}").write_bytes(data[: len(data) // 2])
    with pytest.raises(SingleHDRError, match="truncated or corrupt") as exc:
        read_ldr(tmp_path / f"cut{ext}")
    one_line(exc)


def test_truncated_and_garbage_exr(tmp_path, rng):
    hdr = rng.random((300, 400, 3)).astype(np.float32)
    write_hdr(tmp_path / "full.exr", hdr, half=False)
    data = (tmp_path / "full.exr").read_bytes()
    (tmp_path / "cut.exr").write_bytes(data[: len(data) // 2])
    with pytest.raises(SingleHDRError, match="truncated or corrupt|not a valid"):
        read_hdr(tmp_path / "cut.exr")
    (tmp_path / "bad.exr").write_bytes(b"\x76\x2f\x31\x01" + b"\x00" * 20)
    with pytest.raises(SingleHDRError, match="EXR"):
        read_hdr(tmp_path / "bad.exr")


def test_absurd_dimensions_checked_before_decoding(tmp_path):
    png_header_only(tmp_path / "huge.png", 100_000, 100_000)  # 10 gigapixels, a few bytes on disk
    with pytest.raises(SingleHDRError, match="10000 MP, above the 200 MP limit; raise --max-pixels") as exc:
        read_ldr(tmp_path / "huge.png")
    one_line(exc)
    png_header_only(tmp_path / "small.png", 40, 30)
    with pytest.raises(SingleHDRError, match="above the 0 MP limit"):
        read_ldr(tmp_path / "small.png", max_pixels=1000)


def test_exr_pixel_cap(tmp_path):
    write_hdr(tmp_path / "a.exr", np.ones((40, 30, 3), np.float32))
    with pytest.raises(SingleHDRError, match="max-pixels"):
        read_hdr(tmp_path / "a.exr", max_pixels=1000)


def test_nan_inf_in_hdr_input(tmp_path):
    a = np.ones((4, 4), np.float32)
    r = a.copy()
    r[1, 1] = np.nan
    g = a.copy()
    g[2, 2] = np.inf
    OpenEXR.File({"compression": OpenEXR.ZIP_COMPRESSION}, {"R": r, "G": g, "B": a}).write(str(tmp_path / "nan.exr"))
    with pytest.raises(SingleHDRError, match="2 pixels with NaN or Inf"):
        read_hdr(tmp_path / "nan.exr")
    got, _ = read_hdr(tmp_path / "nan.exr", allow_nonfinite=True)
    assert np.isnan(got[1, 1, 0])


def test_wrong_extension_and_unsupported(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "photo.png", format="JPEG")
    with pytest.raises(SingleHDRError, match="contains JPEG data but its extension is .png; rename it to .jpg"):
        read_ldr(tmp_path / "photo.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "anim.gif")
    with pytest.raises(SingleHDRError, match="GIF files are not supported"):
        read_ldr(tmp_path / "anim.gif")
    (tmp_path / "notes.jpg").write_text("hello")
    with pytest.raises(SingleHDRError, match="not a supported image"):
        read_ldr(tmp_path / "notes.jpg")
    write_hdr(tmp_path / "a.exr", np.ones((2, 2, 3), np.float32))
    with pytest.raises(SingleHDRError, match="already an HDR image"):
        read_ldr(tmp_path / "a.exr")
    with pytest.raises(SingleHDRError, match="GIF files are not supported"):
        read_hdr(tmp_path / "anim.gif")
    Image.new("RGB", (4, 4)).save(tmp_path / "real.jpg")
    with pytest.raises(SingleHDRError, match="real.jpg is an LDR image"):
        read_hdr(tmp_path / "real.jpg")


def test_output_guards_leave_no_file(tmp_path):
    src = tmp_path / "in.png"
    write_ldr(src, np.zeros((4, 4, 3), np.float32))
    before = src.read_bytes()
    hdr = np.ones((4, 4, 3), np.float32)
    # output == input: refused even with overwrite
    write_hdr(tmp_path / "in.exr", hdr)
    with pytest.raises(SingleHDRError, match="also an input"):
        write_hdr(tmp_path / "sub" / ".." / "in.exr", hdr * 3, overwrite=True, inputs=[tmp_path / "in.exr"])
    assert read_hdr(tmp_path / "in.exr")[0].max() == 1.0
    with pytest.raises(SingleHDRError, match="also an input"):
        write_ldr(tmp_path / "." / "in.png", np.zeros((4, 4, 3)), overwrite=True, inputs=[str(src)])
    assert src.read_bytes() == before
    out = write_hdr(tmp_path / "out.exr", hdr)
    with pytest.raises(SingleHDRError, match="already exists; pass --overwrite"):
        write_hdr(out, hdr * 2)
    assert read_hdr(out)[0].max() == 1.0
    write_hdr(out, hdr * 2, overwrite=True)
    assert read_hdr(out)[0].max() == 2.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.exr", "in.png", "out.exr"]


def test_failed_write_removes_temp_file(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_output(tmp_path / "x.exr") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    # a writer failing inside the bindings (alpha of the wrong shape) leaves nothing either
    with pytest.raises(SingleHDRError):
        write_hdr(tmp_path / "y.exr", np.ones((4, 4, 3), np.float32), alpha=np.ones((3, 3), np.float32))
    assert list(tmp_path.iterdir()) == []


def test_truncated_16bit_png(tmp_path, rng):
    write_ldr(tmp_path / "full.png", rng.integers(0, 65536, size=(100, 120, 3), dtype=np.uint16))
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(SingleHDRError, match="truncated or corrupt"):
        read_ldr(tmp_path / "cut.png")


def test_emit_waits_for_another_threads_native_capture(capsys):
    """A line printed for the user while another thread holds a native-output capture (a plate's writer thread
    writing an EXR) reaches the real stderr instead of vanishing into the capture (a flaky shot test found it)."""
    import threading
    import time

    from singlehdr.io.native import captured, emit

    inside, release = threading.Event(), threading.Event()

    def writer() -> None:
        with captured("test"):
            inside.set()
            release.wait(5)

    t = threading.Thread(target=writer)
    t.start()
    assert inside.wait(5)
    done = threading.Event()

    def say() -> None:
        emit("error: frame 5: truncated")
        done.set()

    s = threading.Thread(target=say)
    s.start()
    time.sleep(0.2)
    assert not done.is_set()  # it waits for the capture to end ...
    release.set()
    t.join(5)
    s.join(5)
    assert done.is_set()
    assert "error: frame 5: truncated" in capsys.readouterr().err  # ... and then reaches stderr
