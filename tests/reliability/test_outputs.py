"""Outputs under concurrency, signals and killed runs; a folder batch past bad files;
an envmap's outputs written as a set."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from singlehdr.errors import SingleHDRError
from singlehdr.io import read_hdr, write_hdr

ROOT = Path(__file__).resolve().parents[2]
# Children import the same singlehdr as this process (PYTHONPATH first, then this checkout).
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT / "core")])),
           OMP_NUM_THREADS="1")


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in Path(folder).rglob(".*.tmp-*"))


# ---------------------------------------------------------------- concurrency
def _writer(out: str, value: float, barrier, results) -> None:
    try:
        barrier.wait(timeout=60)
        write_hdr(out, np.full((64, 64, 3), value, np.float32), half=False, compression="none")
        results.put((value, "ok"))
    except SingleHDRError as exc:
        results.put((value, "exists" if "already exists" in str(exc) else str(exc)))
    except BaseException as exc:  # pragma: no cover - reported to the parent
        results.put((value, f"{type(exc).__name__}: {exc}"))


@pytest.mark.slow
def test_concurrent_writers_without_overwrite_exactly_one_wins(tmp_path):
    """8 processes released together write the same output, 25 times: exactly one
    succeeds each time, the others get 'already exists', and the file is the winner's."""
    ctx = mp.get_context("fork")
    n, trials = 8, 25
    for t in range(trials):
        out = tmp_path / f"race{t}.exr"
        barrier, results = ctx.Barrier(n), ctx.Queue()
        procs = [ctx.Process(target=_writer, args=(str(out), float(i + 1), barrier, results)) for i in range(n)]
        for p in procs:
            p.start()
        got = [results.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(timeout=60)
        winners = [v for v, r in got if r == "ok"]
        assert len(winners) == 1, (t, got)
        assert all(r in ("ok", "exists") for _, r in got), got
        assert float(read_hdr(out)[0][0, 0, 0]) == winners[0]
    assert _temporaries(tmp_path) == []


def test_overwrite_replaces_and_without_it_an_existing_file_stays(tmp_path):
    out = tmp_path / "a.exr"
    write_hdr(out, np.ones((4, 4, 3), np.float32))
    with pytest.raises(SingleHDRError, match="already exists"):
        write_hdr(out, np.full((4, 4, 3), 2.0, np.float32))
    assert read_hdr(out)[0].max() == 1.0
    write_hdr(out, np.full((4, 4, 3), 2.0, np.float32), overwrite=True)
    assert read_hdr(out)[0].max() == 2.0


# ---------------------------------------------------------------- signals
def _big_png(path: Path, w: int = 2400, h: int = 1600) -> Path:
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([(xx % 256), (yy % 256), ((xx + yy) % 256)], -1).astype(np.uint8)
    Image.fromarray(img).save(path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_during_the_write_leave_nothing_and_one_line(tmp_path, sig, code):
    """The CLI gets the signal while its temporary output exists (mid-write, as a farm
    manager or `timeout` sends it): exit 128+N, one line on stderr, nothing left behind."""
    src = _big_png(tmp_path / "big.png")
    outdir = tmp_path / "out"
    outdir.mkdir()
    argv = [sys.executable, "-m", "singlehdr.cli", "reconstruct", str(src), "-o", str(outdir / "big.exr"),
            "--method", "inverse-srgb", "--float", "--compression", "zip"]
    for _attempt in range(4):
        proc = subprocess.Popen(argv, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        sent = False
        while proc.poll() is None and time.monotonic() < deadline:
            if any(n.startswith(".big.tmp-") for n in os.listdir(outdir)):
                proc.send_signal(sig)
                sent = True
                break
            time.sleep(0.002)
        _, err = proc.communicate(timeout=300)
        if not sent:  # finished before we saw the temporary: try again
            (outdir / "big.exr").unlink(missing_ok=True)
            continue
        if proc.returncode == 0:  # the signal landed just after the placement: output complete
            assert read_hdr(outdir / "big.exr")[0].shape == (1600, 2400, 3)
            (outdir / "big.exr").unlink()
            continue
        assert proc.returncode == code, err
        assert "Traceback" not in err
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: stopped by"), err
        assert sorted(os.listdir(outdir)) == []
        return
    pytest.fail("never caught the command while its temporary existed")


def test_temporary_of_a_killed_run_is_swept_by_the_next_write(tmp_path):
    """SIGKILL cannot be handled: the temporary stays until a later write into the same
    folder, which removes temporaries older than STALE_SECONDS (and nothing else)."""
    out = tmp_path / "k.exr"
    script = (
        "import sys, time\n"
        "from singlehdr.io.atomic import atomic_output\n"
        f"with atomic_output({str(out)!r}) as tmp:\n"
        "    tmp.write_bytes(b'partial')\n"
        "    print(tmp, flush=True)\n"
        "    time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], env=ENV, stdout=subprocess.PIPE, text=True)
    tmp = Path(proc.stdout.readline().strip())
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert tmp.exists() and not out.exists()
    keep = tmp_path / "notes.tmp-1-abc.txt"  # not our pattern
    keep.write_text("mine")
    young = tmp_path / ".other.tmp-99999-0123abcd.exr"  # ours but fresh: maybe another live run
    young.write_bytes(b"x")
    old = time.time() - 2 * 3600
    os.utime(tmp, (old, old))
    write_hdr(tmp_path / "next.exr", np.ones((2, 2, 3), np.float32))
    assert not tmp.exists()
    assert keep.exists() and young.exists()


# ---------------------------------------------------------------- batch
def test_folder_batch_goes_past_a_bad_file_lists_failures_and_exits_3(tmp_path, capsys):
    from singlehdr.cli import main

    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.png", "c.png"):
        Image.fromarray((rng.random((16, 24, 3)) * 255).astype(np.uint8)).save(src / name)
    (src / "b.png").write_bytes((src / "a.png").read_bytes()[:60])  # truncated
    (src / "d.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 30)  # corrupt
    out = tmp_path / "out"
    rc = main(["reconstruct", str(src), "-o", str(out), "--method", "inverse-srgb"])
    _, err = capsys.readouterr()
    assert rc == 3
    assert sorted(p.name for p in out.iterdir()) == ["a.exr", "c.exr"]
    assert "2 of 4 inputs failed; 2 outputs written" in err
    assert f"{src / 'b.png'}:" in err and f"{src / 'd.png'}:" in err
    assert "Traceback" not in err


# ---------------------------------------------------------------- envmap set
def test_envmap_outputs_all_or_none_when_the_preview_fails(tmp_path, capsys):
    """--cubemap --preview --report where the preview cannot be written (its folder is a
    file): no map, no faces, no report, no temporaries."""
    from singlehdr.cli import main

    src = tmp_path / "pano.png"
    rng = np.random.default_rng(1)
    Image.fromarray((rng.random((32, 64, 3)) * 255).astype(np.uint8)).save(src)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    out = tmp_path / "env" / "map.exr"
    rc = main(["envmap", str(src), "-o", str(out), "--method", "inverse-srgb", "--width", "64", "--cubemap",
               "--preview", str(blocker / "sheet.png"), "--report", str(tmp_path / "env" / "r.json")])
    _, err = capsys.readouterr()
    assert rc == 2 and "Traceback" not in err
    assert not (tmp_path / "env").exists() or sorted(os.listdir(tmp_path / "env")) == []
    assert _temporaries(tmp_path) == []
    # and with a writable preview the whole set appears
    rc = main(["envmap", str(src), "-o", str(out), "--method", "inverse-srgb", "--width", "64", "--cubemap",
               "--preview", str(tmp_path / "env" / "sheet.png"), "--report", str(tmp_path / "env" / "r.json")])
    assert rc == 0, capsys.readouterr().err
    names = sorted(os.listdir(tmp_path / "env"))
    assert names == sorted(["map.exr", "r.json", "sheet.png"] + [f"map_{f}.exr" for f in ("px", "nx", "py", "ny", "pz", "nz")])
