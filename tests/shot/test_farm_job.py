"""docs/farm/singlehdr-plate.js (a Flamenco 3 job type) compiles to a lock task and N chunk
tasks; running their commands with the real CLI covers the shot once, with one sidecar.

Flamenco itself is not installed: the script runs in Node with a minimal stand-in for
the ``author`` / ``job`` objects Flamenco hands a job compiler script (the part under test is
what the script asks the workers to run, which then runs for real).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from singlehdr.cli import main
from singlehdr.io import read_hdr

from test_shot_runs import make_plate

ROOT = Path(__file__).resolve().parents[2]
HARNESS = r"""
const fs = require("fs");
const author = {
  Task: (name, type) => ({ name, type, commands: [], deps: [],
    addCommand(c) { this.commands.push(c); }, addDependency(t) { this.deps.push(t.name); } }),
  Command: (kind, params) => ({ kind, params }),
};
const print = () => {};
const job = { settings: JSON.parse(process.argv[3]), tasks: [], addTask(t) { this.tasks.push(t); } };
// the script's top-level const JOB_TYPE stays inside eval's scope: read it there
eval(fs.readFileSync(process.argv[2], "utf8")
     + "\ncompileJob(job); console.log(JSON.stringify({ label: JOB_TYPE.label, tasks: job.tasks }));");
"""


def compile_job(tmp_path: Path, settings: dict) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    h = tmp_path / "harness.js"
    h.write_text(HARNESS)
    out = subprocess.run([node, str(h), str(ROOT / "docs/farm/singlehdr-plate.js"), json.dumps(settings)],
                         capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout)


def test_flamenco_job_splits_the_shot_with_one_lock(tmp_path, capsys):
    make_plate(tmp_path / "in", range(1001, 1008))
    settings = {"plate": str(tmp_path / "in/plate.####.png"), "output": str(tmp_path / "hdr/plate.####.exr"),
                "frames": "1001-1007", "chunks": 3, "singlehdr": "singlehdr", "device": "cpu", "model": "",
                "extra_args": "--exposure median -q"}
    compiled = compile_job(tmp_path, settings)
    tasks = compiled["tasks"]
    assert compiled["label"] == "SingleHDR Plate"
    assert [t["name"] for t in tasks] == ["lock", "chunk-1-of-3", "chunk-2-of-3", "chunk-3-of-3"]
    assert all(t["deps"] == ["lock"] for t in tasks[1:])
    done: list[int] = []
    finished: set[str] = set()
    for t in tasks:
        assert set(t["deps"]) <= finished
        (cmd,) = t["commands"]
        assert cmd["kind"] == "exec" and cmd["params"]["exe"] == "singlehdr"
        args = cmd["params"]["args"]
        assert args[0] == "reconstruct"
        capsys.readouterr()
        rc = main(args + ["--method", "kovaleski"])  # a training-free operator keeps this fast
        out, err = capsys.readouterr()
        assert rc == 0, err
        if t["name"] != "lock":
            done += json.loads(out)["done"]
        finished.add(t["name"])
    assert done == list(range(1001, 1008))  # every frame exactly once, in order
    side = json.loads((tmp_path / "hdr/plate.shot.json").read_text())
    assert side["exposure_mode"] == "median" and side["exposure_scale"] > 0
    for f in done:
        _, meta = read_hdr(tmp_path / f"hdr/plate.{f}.exr")
        assert meta["attributes"]["singlehdr:shot_lock"] == side["id"]
        assert meta["attributes"]["singlehdr:exposure_scale"] == pytest.approx(side["exposure_scale"], rel=1e-6)
