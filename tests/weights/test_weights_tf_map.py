"""TF name map and import: round trip through real TF-written checkpoints, and refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from singlehdr.errors import SingleHDRError
from singlehdr.models import SingleHDRConfig, SingleHDRModel
from singlehdr.weights.tf_map import import_tf, is_training_state, network_map

pytestmark = pytest.mark.tf


def tf_layout(value: np.ndarray, layout: str) -> np.ndarray:
    if layout == "conv":
        return value.transpose(2, 3, 1, 0)  # OIHW -> HWIO
    if layout == "dense":
        return value.T
    return value


def write_ckpt(folder, tensors: dict[str, np.ndarray]) -> str:
    tf = pytest.importorskip("tensorflow")
    g = tf.Graph()
    with g.as_default():
        feeds = {}
        for name, v in tensors.items():
            ph = tf.compat.v1.placeholder(tf.float32, v.shape)
            tf.compat.v1.get_variable(name, initializer=ph)
            feeds[ph] = v
        saver = tf.compat.v1.train.Saver()
        with tf.compat.v1.Session(graph=g) as sess:
            sess.run(tf.compat.v1.global_variables_initializer(), feeds)
            return saver.save(sess, str(folder / "model.ckpt"), write_meta_graph=False)


@pytest.fixture(scope="module")
def source():
    torch.manual_seed(5)
    model = SingleHDRModel(SingleHDRConfig(0.125, refine=True))
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    sd = model.state_dict()
    tf_tensors = {}
    for net in ("dequantize", "linearize", "hallucinate", "refine"):
        for e in network_map(net):
            tf_tensors[e.tf_name] = tf_layout(sd[e.key].numpy(), e.layout).astype(np.float32)
    return model, tf_tensors


def test_training_state_names():
    assert is_training_state("Dequantization_Net/conv2d/kernel/Adam")
    assert is_training_state("Dequantization_Net/conv2d/kernel/Adam_1")
    assert is_training_state("beta1_power") and is_training_state("beta2_power_3") and is_training_state("global_step")
    assert not is_training_state("crf_feature_net/bn_conv1/BatchNorm/beta")


def test_joint_round_trip_is_exact(source, tmp_path):
    model, tensors = source
    decoys = {"Refinement_Net/conv2d/kernel/Adam": np.zeros(3, np.float32), "beta1_power": np.ones(1, np.float32),
              "vgg_16/conv1/weights": np.zeros(2, np.float32)}  # other scopes (e.g. a loss network) are ignored
    write_ckpt(tmp_path, {**tensors, **decoys})
    imported, prov = import_tf(joint=tmp_path)
    assert imported.config == SingleHDRConfig(0.125, refine=True)
    ref = model.state_dict()
    for k, v in imported.state_dict().items():
        if not k.endswith("num_batches_tracked"):
            assert torch.equal(v, ref[k]), k
    assert set(prov["checkpoints"]) == {"dequantize", "linearize", "hallucinate", "refine"}


def test_three_separate_checkpoints(source, tmp_path):
    _, tensors = source
    dirs = {}
    for net, scope in (("deq", "Dequantization_Net/"), ("lin", "crf_feature_net/"), ("hal", "Hallucination_Net/")):
        d = tmp_path / net
        d.mkdir()
        keep = {k: v for k, v in tensors.items() if k.startswith(scope) or (net == "lin" and k.startswith("ae_invcrf"))}
        write_ckpt(d, keep)
        dirs[net] = d
    model, _ = import_tf(**dirs)
    assert model.config == SingleHDRConfig(0.125, refine=False) and model.refine is None
    with pytest.raises(SingleHDRError, match="lacks"):  # deq checkpoint passed as lin
        import_tf(deq=dirs["deq"], lin=dirs["deq"], hal=dirs["hal"])


def test_refusals(source, tmp_path):
    _, tensors = source
    with pytest.raises(SingleHDRError, match="pass --joint DIR, or all of"):
        import_tf(deq=tmp_path)
    missing = dict(tensors)
    missing.pop("Hallucination_Net/decoder/h7/batch_norm/moving_variance")
    (tmp_path / "missing").mkdir()
    write_ckpt(tmp_path / "missing", missing)
    with pytest.raises(SingleHDRError, match="lacks 1 hallucinate tensors .*h7/batch_norm/moving_variance"):
        import_tf(joint=tmp_path / "missing")
    extra = {**tensors, "Refinement_Net/conv2d_19/kernel": np.zeros((3, 3, 16, 3), np.float32)}
    (tmp_path / "extra").mkdir()
    write_ckpt(tmp_path / "extra", extra)
    with pytest.raises(SingleHDRError, match="unexpected refine tensors .*conv2d_19/kernel"):
        import_tf(joint=tmp_path / "extra")
    bad = dict(tensors)
    bad["crf_feature_net/res2b_branch2b/weights"] = np.zeros((1, 1, 8, 8), np.float32)
    (tmp_path / "bad").mkdir()
    write_ckpt(tmp_path / "bad", bad)
    with pytest.raises(SingleHDRError, match="unexpected shapes: crf_feature_net/res2b_branch2b/weights"):
        import_tf(joint=tmp_path / "bad")
    no_ref = {k: v for k, v in tensors.items() if not k.startswith("Refinement_Net/")}
    (tmp_path / "noref").mkdir()
    write_ckpt(tmp_path / "noref", no_ref)
    with pytest.raises(SingleHDRError, match="no refine network"):
        import_tf(joint=tmp_path / "noref")
