"""singlehdr.train: data synthesis from HDR folders, losses, trainer (torchrun/DDP), evaluation.

- :mod:`.dataset`: ``HDRFolderDataset`` (on-the-fly camera simulation).
- :mod:`.losses`: the paper's per-stage losses.
- :mod:`.trainer`: ``TrainConfig``, ``train`` (``singlehdr train``).
- :mod:`.checkpoint`: safetensors checkpoints (model + Adam state + step).
"""

#: Training stages: one sub-network each, or all jointly with Refinement-Net.
STAGES = ("deq", "lin", "hal", "joint")
