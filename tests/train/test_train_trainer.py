"""The trainer: resume is exact, exports load, DDP ranks stay in sync, loss falls."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from singlehdr.errors import SingleHDRError
from singlehdr.train.checkpoint import load_checkpoint
from singlehdr.train.trainer import StepDistributedSampler, TrainConfig, train
from train_helpers import make_hdr_folder

HERE = Path(__file__).resolve().parent


def initial_model():
    """The weights every run with seed 0 and config 0.125 starts from."""
    from singlehdr.models.pipeline import SingleHDRConfig, SingleHDRModel

    torch.manual_seed(0)
    return SingleHDRModel(SingleHDRConfig(width=0.125, refine=False))


DEQ_KEY = next(iter(initial_model().dequantize.state_dict()))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    torch.set_num_threads(1)
    return make_hdr_folder(tmp_path_factory.mktemp("hdrs"), n=3, h=48, w=96)


def cfg(folder, out, **kw):
    base = dict(stage="deq", data=str(folder), out=str(out), config="0.125", steps=4, batch=2, crop=32,
                short_side=48, lr=1e-3, device="cpu", progress=False, log_every=1, save_every=100)
    base.update(kw)
    return TrainConfig(**base)


def test_sampler_shards_and_resumes():
    s0 = StepDistributedSampler(10, 2, rank=0, world=2, seed=1)
    s1 = StepDistributedSampler(10, 2, rank=1, world=2, seed=1)
    for step in range(6):
        a, b = s0.batch_at(step), s1.batch_at(step)
        assert len(a) == 2 and not set(a) & set(b)
    # epoch 0 covers every item once per rank pair (10 items = 2.5 steps of 4 -> 3 steps, wrapped)
    seen = {i % 10 for st in range(3) for i in s0.batch_at(st) + s1.batch_at(st)}
    assert seen == set(range(10))
    # starting at step 4 gives what an uninterrupted sampler gives at step 4
    it = iter(StepDistributedSampler(10, 2, rank=1, world=2, seed=1, start_step=4))
    assert next(it) == s1.batch_at(4)
    assert min(s0.batch_at(3)) >= 10  # epoch 1 uses virtual indices 10..19


def test_resume_is_exact_and_export_loads(folder, tmp_path):
    from singlehdr.weights import load_model

    straight = train(cfg(folder, tmp_path / "a", steps=4))
    train(cfg(folder, tmp_path / "b", steps=2))
    resumed = train(cfg(folder, tmp_path / "b", steps=4, resume=True))
    assert resumed["steps"] == 4
    for (k, p), (_, q) in zip(straight["model"].named_parameters(), resumed["model"].named_parameters()):
        assert torch.equal(p, q), k
    assert [s for s, _ in straight["losses"]] == [1, 2, 3, 4]
    assert straight["losses"][2:] == resumed["losses"]
    # checkpoint holds the Adam moments and the step
    sd, opt, meta = load_checkpoint(tmp_path / "b" / "checkpoint.safetensors")
    assert meta["step"] == 4 and meta["stage"] == "deq"
    assert opt["state"][0]["exp_avg"].shape == straight["model"].dequantize.state_dict()[next(iter(straight["model"].dequantize.state_dict()))].shape
    # the exported model is a singlehdr model that loads and matches
    model, info = load_model(straight["model_path"], device="cpu")
    assert info["config"] == {"width": 0.125, "refine": False}
    assert info["model_id"].startswith("singlehdr-deq-")
    for k, v in model.state_dict().items():
        if not k.endswith("num_batches_tracked"):
            assert torch.equal(v, straight["model"].state_dict()[k]), k
    # per-stage: only Dequantization-Net moved from the seeded initial weights
    init = initial_model()
    trained = straight["model"]
    for k, v in init.linearize.named_parameters():
        assert torch.equal(v, dict(trained.linearize.named_parameters())[k]), k
    assert not torch.equal(init.dequantize.state_dict()[DEQ_KEY], trained.dequantize.state_dict()[DEQ_KEY])
    log = (tmp_path / "b" / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,loss") and len(log) == 5  # header + 2 + 2 resumed rows


def test_stages_chain_with_init(folder, tmp_path):
    deq = train(cfg(folder, tmp_path / "deq", steps=1))
    lin = train(cfg(folder, tmp_path / "lin", stage="lin", steps=2, init=deq["model_path"]))
    # lin started from deq's weights and left them alone
    for k, v in deq["model"].dequantize.state_dict().items():
        assert torch.equal(v, lin["model"].dequantize.state_dict()[k]), k
    joint = train(cfg(folder, tmp_path / "joint", stage="joint", steps=1, init=lin["model_path"], lr=1e-5))
    assert joint["model"].refine is not None and joint["model"].config.refine
    assert all(torch.isfinite(torch.tensor(v)) for _, v in joint["losses"])


def test_small_model_overfits_falling_loss(folder, tmp_path):
    r = train(cfg(folder, tmp_path / "fit", stage="hal", steps=30, lr=1e-3, log_every=1))
    first = sum(v for _, v in r["losses"][:5]) / 5
    last = sum(v for _, v in r["losses"][-5:]) / 5
    assert last < first


def test_bad_options_are_user_errors(folder, tmp_path):
    from singlehdr.cli import main

    with pytest.raises(SingleHDRError, match="multiple of 32"):
        train(cfg(folder, tmp_path / "x", crop=40))
    with pytest.raises(SingleHDRError, match="unknown --config"):
        train(cfg(folder, tmp_path / "x", config="huge"))
    with pytest.raises(SingleHDRError, match="drop --resume"):
        train(cfg(folder, tmp_path / "fresh", resume=True))
    rc = main(["train", "--stage", "deq", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o"), "--no-progress"])
    assert rc == 2


@pytest.mark.slow
def test_ddp_two_cpu_ranks_stay_identical(folder, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(HERE / "train_ddp_worker.py"), str(folder), str(tmp_path / "run"), str(tmp_path)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    from safetensors.torch import load_file

    r0 = load_file(str(tmp_path / "rank0.safetensors"))
    r1 = load_file(str(tmp_path / "rank1.safetensors"))
    assert r0.keys() == r1.keys() and len(r0) > 10
    for k in r0:
        assert torch.equal(r0[k], r1[k]), k
    # rank 0 alone wrote the run's files; training moved the weights
    assert (tmp_path / "run" / "model.safetensors").is_file() and (tmp_path / "run" / "log.csv").is_file()
    init = dict(initial_model().named_parameters())
    assert not torch.equal(init["dequantize." + DEQ_KEY], r0["dequantize." + DEQ_KEY])
    frozen = [k for k in init if not k.startswith("dequantize.")]
    assert frozen and all(torch.equal(init[k], r0[k]) for k in frozen)
