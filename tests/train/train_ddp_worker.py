"""Run by torchrun in test_train_trainer.py: train a few steps, dump this rank's parameters."""

import sys

import torch

torch.set_num_threads(1)

from safetensors.torch import save_file  # noqa: E402

from singlehdr.train.trainer import TrainConfig, train  # noqa: E402

data, out, dump = sys.argv[1], sys.argv[2], sys.argv[3]
res = train(TrainConfig(stage="deq", data=data, out=out, config="0.125", steps=3, batch=2, crop=32,
                        short_side=48, lr=1e-3, device="cpu", progress=False, log_every=1, save_every=100))
params = {k: v.detach().contiguous() for k, v in res["model"].named_parameters()}
save_file(params, f"{dump}/rank{res['rank']}.safetensors", metadata={"world": str(res["world_size"])})
