"""The authors' four networks rebuilt in real TensorFlow (graph mode) from the facts of
../shared/REFERENCE.md, with the authors' exact variable names, for parity tests.

Everything here is TF ops (tf.nn.conv2d 'SAME', tf.compat.v1.image.resize_bilinear
legacy, tf.image.sobel_edges, tf.nn.max_pool 'SAME', tf.pad REFLECT, ...), so it
checks our torch port against TF's own behaviour, not against itself.  Weights
are random (and so are BN moving statistics and the 1x1 fusion kernels, so a
swapped concat order would show); they are loaded into the variables after
creation so the graph and the .meta file stay small.
"""

from __future__ import annotations

import numpy as np


def tf():
    import tensorflow as _tf

    return _tf


class Builder:
    """Creates named variables and remembers random values to load into them."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.values: dict = {}  # initial-value placeholder -> numpy value

    def var(self, name: str, value: np.ndarray):
        t = tf()
        ph = t.compat.v1.placeholder(t.float32, value.shape)
        v = t.compat.v1.get_variable(name, initializer=ph)
        self.values[ph] = value.astype(np.float32)
        return v

    def kernel(self, name: str, k: int, cin: int, cout: int, gain: float = 2.0):
        std = np.sqrt(gain / (k * k * cin))
        return self.var(name, self.rng.normal(0.0, std, (k, k, cin, cout)))

    def vector(self, name: str, n: int, lo: float = -0.1, hi: float = 0.1):
        return self.var(name, self.rng.uniform(lo, hi, n))

    def conv(self, x, scope: str, k: int, cin: int, cout: int, stride: int = 1, padding: str = "SAME",
             w: str = "kernel", b: str | None = "bias", gain: float = 2.0):
        t = tf()
        kern = self.kernel(f"{scope}/{w}", k, cin, cout, gain)
        y = t.nn.conv2d(x, kern, strides=[1, stride, stride, 1], padding=padding)
        if b is not None:
            y = t.nn.bias_add(y, self.vector(f"{scope}/{b}", cout))
        return y

    def bn(self, x, scope: str, c: int, eps: float):
        t = tf()
        gamma = self.vector(f"{scope}/gamma", c, 0.5, 1.5)
        beta = self.vector(f"{scope}/beta", c, -0.2, 0.2)
        mean = self.vector(f"{scope}/moving_mean", c, -0.2, 0.2)
        var = self.vector(f"{scope}/moving_variance", c, 0.5, 1.5)
        return t.nn.batch_normalization(x, mean, var, beta, gamma, eps)

    def load(self, sess):
        sess.run(tf().compat.v1.global_variables_initializer(), feed_dict=self.values)


def unet(b: Builder, x, scope: str, cin: int, widths, kernels, kind: str):
    """Dequantization-Net (kind 'deq') or Refinement-Net ('ref'), names conv2d .. conv2d_18."""
    t = tf()
    counter = iter(range(19))

    def conv(h, ci, co, k):
        n = next(counter)
        name = f"{scope}/conv2d" + (f"_{n}" if n else "")
        return b.conv(h, name, k, ci, co)

    def lrelu(h):
        return t.nn.leaky_relu(h, 0.1)

    h = lrelu(conv(x, cin, widths[0], kernels[0]))
    h = lrelu(conv(h, widths[0], widths[0], kernels[0]))
    skips = [h]
    for i in range(4):
        h = t.nn.avg_pool2d(h, 2, 2, "VALID")
        h = lrelu(conv(h, widths[i], widths[i + 1], kernels[i + 1]))
        h = lrelu(conv(h, widths[i + 1], widths[i + 1], kernels[i + 1]))
        skips.append(h)
    skips.pop()
    ci = widths[4]
    for i in range(4):
        co = widths[3 - i]
        h = t.compat.v1.image.resize_bilinear(h, 2 * t.shape(h)[1:3], align_corners=False, half_pixel_centers=False)
        h = lrelu(conv(h, ci, co, 3))
        h = lrelu(conv(t.concat([h, skips.pop()], -1), 2 * co, co, 3))
        ci = co
    out = conv(h, ci, 3, 3)
    if kind == "deq":
        return t.clip_by_value(x + t.tanh(out), 0.0, 1.0)
    return t.nn.relu(x[..., 0:3] + out)


def linearization(b: Builder, img, g0: np.ndarray, hinv: np.ndarray, stem=64, s2=(64, 256), s3=(128, 512)):
    """Linearization-Net: features, crf_feature_net (ResNet-50 to res3b), dense, EMoR, monotone fix.
    Returns (g (N, 1024), the dense output w (N, 11))."""
    t = tf()
    shape = t.shape(img)
    edges = t.reshape(t.image.sobel_edges(img), [shape[0], shape[1], shape[2], 6])
    feats = [img, edges]
    for k in (4, 8, 16):
        feats.append(t.concat([t.nn.relu(1.0 - t.abs(img - i / float(k)) * float(k)) for i in range(k + 1)], -1))
    x = t.concat(feats, -1)
    cin = 102
    s = "crf_feature_net"
    x = b.conv(x, f"{s}/conv1", 7, cin, stem, 2, w="weights", b="biases")
    x = t.nn.relu(b.bn(x, f"{s}/bn_conv1/BatchNorm", stem, 1e-3))
    x = t.nn.max_pool2d(x, 3, 2, "SAME")
    ci = stem
    for blk, (mid, co), stride, proj in (
        ("2a", s2, 1, True), ("2b", s2, 1, False), ("2c", s2, 1, False), ("3a", s3, 2, True), ("3b", s3, 1, False)
    ):
        y = b.conv(x, f"{s}/res{blk}_branch2a", 1, ci, mid, stride, w="weights", b=None)
        y = t.nn.relu(b.bn(y, f"{s}/bn{blk}_branch2a/BatchNorm", mid, 1e-3))
        y = b.conv(y, f"{s}/res{blk}_branch2b", 3, mid, mid, 1, w="weights", b=None)
        y = t.nn.relu(b.bn(y, f"{s}/bn{blk}_branch2b/BatchNorm", mid, 1e-3))
        y = b.conv(y, f"{s}/res{blk}_branch2c", 1, mid, co, 1, w="weights", b=None, gain=0.5)
        y = b.bn(y, f"{s}/bn{blk}_branch2c/BatchNorm", co, 1e-3)
        if proj:
            sc = b.conv(x, f"{s}/res{blk}_branch1", 1, ci, co, stride, w="weights", b=None)
            sc = b.bn(sc, f"{s}/bn{blk}_branch1/BatchNorm", co, 1e-3)
        else:
            sc = x
        x = t.nn.relu(sc + y)
        ci = co
    feat = t.reduce_mean(x, [1, 2])
    kern = b.var("ae_invcrf_decode_net/dense/kernel", b.rng.normal(0.0, 1.0 / np.sqrt(ci), (ci, 11)))
    bias = b.vector("ae_invcrf_decode_net/dense/bias", 11)
    w = t.matmul(feat, kern) + bias
    g = t.constant(g0.astype(np.float32))[None] + t.matmul(w, t.constant(hinv[:11].astype(np.float32)))
    d = g[:, 1:] - g[:, :-1]
    d = d + t.nn.relu(-t.reduce_min(d, axis=-1, keepdims=True))
    d = d / t.reduce_sum(d, axis=-1, keepdims=True)
    return t.pad(t.cumsum(d, axis=-1), [[0, 0], [1, 0]]), w


def apply_rf(x, g):
    """Look each pixel up at 1023 x (clipped to [0, 1023]) with linear interpolation."""
    t = tf()
    shape = t.shape(x)
    n = g.shape[1]
    pos = t.clip_by_value(t.reshape(x, [shape[0], -1]) * float(n - 1), 0.0, float(n - 1))
    i0 = t.minimum(t.floor(pos), float(n - 2))
    w = pos - i0
    i0 = t.cast(i0, t.int32)
    y0 = t.gather(g, i0, batch_dims=1)
    y1 = t.gather(g, i0 + 1, batch_dims=1)
    return t.reshape(y0 * (1.0 - w) + y1 * w, shape)


def hallucination(b: Builder, x, vgg=((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), bott=512, dec=(512, 512, 256, 128, 64)):
    """Hallucination-Net with the 0.12 mask blend: returns A."""
    t = tf()
    s = "Hallucination_Net"
    r, g, bl = t.split(x * 255.0, 3, 3)
    h = t.concat([bl - 103.939, g - 116.779, r - 123.68], 3)
    ci = 3
    skips = []
    for st, (co, n) in enumerate(vgg, start=1):
        for i in range(1, n + 1):
            gain = 2.0 / 100.0**2 if (st, i) == (1, 1) else 2.0
            h = t.nn.relu(b.conv(h, f"{s}/encoder/h{st}/conv_{i}", 3, ci, co, w="W_conv2d", b="b_conv2d", gain=gain))
            ci = co
        skips.append(h)
        h = t.nn.max_pool2d(h, 2, 2, "SAME")
    h = b.conv(h, f"{s}/encoder/h6/conv", 3, ci, bott, w="W_conv2d", b="b_conv2d")
    h = t.nn.relu(b.bn(h, f"{s}/encoder/h6/batch_norm", bott, 1e-5))
    ci = bott
    for i, co in enumerate(dec, start=1):
        h = t.compat.v1.image.resize_nearest_neighbor(h, 2 * t.shape(h)[1:3], align_corners=False, half_pixel_centers=False)
        h = t.pad(h, [[0, 0], [1, 1], [1, 1], [0, 0]], "REFLECT")
        h = t.nn.relu(b.conv(h, f"{s}/decoder/h{i}/decon2d", 3, ci, co, padding="VALID", w="W_conv2d", b="b_conv2d"))
        h = t.nn.relu(b.bn(h, f"{s}/decoder/h{i}/decon2d/batch_norm_dc", co, 1e-5))
        sk = skips[5 - i]
        h = b.conv(t.concat([h, sk / 255.0], 3), f"{s}/decoder/h{i + 1}/fuse_skip_connection", 1, co + sk.shape[-1], co,
                   w="W_conv2d", b="b_conv2d", gain=1.0)
        ci = co
    h = b.conv(h, f"{s}/decoder/h7/conv2d", 1, ci, 3, w="W_conv2d", b="b_conv2d")
    h = t.nn.relu(b.bn(h, f"{s}/decoder/h7/batch_norm", 3, 1e-5))
    net = b.conv(t.concat([h, x], 3), f"{s}/decoder/h7/fuse_skip_connection", 1, 6, 3, w="W_conv2d", b="b_conv2d", gain=1.0)
    thr = 0.12
    alpha = t.minimum(1.0, t.maximum(0.0, t.reduce_max(x, axis=3, keepdims=True) - 1.0 + thr) / thr)
    return x + alpha * t.nn.relu(net)


def build_and_run(ckpt_dir: str, inputs: list[np.ndarray], g0: np.ndarray, hinv: np.ndarray, width: float = 1.0,
                  extra_feeds: dict | None = None, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Build all four networks in one TF graph, save a V2 checkpoint (with a few
    optimizer-slot decoys) to ``ckpt_dir/model.ckpt`` and return, per NHWC input,
    the TF outputs of every stage:  C, g (and the basis weights w), B, A, R (pipeline from the input), and
    lin/hal/ref outputs on the pipeline's own intermediates."""
    t = tf()
    sw = lambda c: max(1, int(round(c * width)))  # noqa: E731
    g = t.Graph()
    with g.as_default():
        b = Builder(seed)
        ldr = t.compat.v1.placeholder(t.float32, [None, None, None, 3])
        c = unet(b, ldr, "Dequantization_Net", 3, [sw(v) for v in (16, 32, 64, 128, 256)], (7, 5, 3, 3, 3), "deq")
        lin_in = t.compat.v1.placeholder_with_default(c, [None, None, None, 3])
        invcrf, lin_w = linearization(b, lin_in, g0, hinv, sw(64), (sw(64), sw(256)), (sw(128), sw(512)))
        lin_b = apply_rf(lin_in, invcrf)
        hal_in = t.compat.v1.placeholder_with_default(lin_b, [None, None, None, 3])
        a = hallucination(b, hal_in, tuple((sw(cc), n) for cc, n in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))), sw(512),
                          tuple(sw(v) for v in (512, 512, 256, 128, 64)))
        ref_in = t.compat.v1.placeholder_with_default(t.concat([a, lin_b, lin_in], -1), [None, None, None, 9])
        r = unet(b, ref_in, "Refinement_Net", 9, [sw(v) for v in (16, 32, 64, 128, 128)], (7, 5, 3, 3, 3), "ref")
        # decoys the importer must skip
        b.var("Dequantization_Net/conv2d/kernel/Adam", np.zeros((1,), np.float32))
        b.var("Hallucination_Net/encoder/h1/conv_1/W_conv2d/Adam_1", np.zeros((1,), np.float32))
        b.var("beta1_power", np.ones((), np.float32))
        b.var("beta2_power", np.ones((), np.float32))
        saver = t.compat.v1.train.Saver()
        results = []
        with t.compat.v1.Session(graph=g) as sess:
            b.load(sess)
            saver.save(sess, f"{ckpt_dir}/model.ckpt", write_meta_graph=False)
            for x in inputs:
                cv, gv, wv, bv, av, rv = sess.run([c, invcrf, lin_w, lin_b, a, r], {ldr: x})
                results.append({"ldr": x, "C": cv, "g": gv, "w": wv, "B": bv, "A": av, "R": rv})
            for key, (feed_name, value) in (extra_feeds or {}).items():
                node = {"lin": lin_in, "hal": hal_in}[feed_name]
                out = {"lin": invcrf, "hal": a}[feed_name]
                results.append({"key": key, "input": value, "output": sess.run(out, {node: value, ldr: np.zeros((1, 32, 32, 3), np.float32)})})
    return results
