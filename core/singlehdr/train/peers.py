"""Peer methods for side-by-side evaluation (not part of the reconstruction API).

ExpandNet: Marnerides, Bashford-Rogers, Hatchett & Debattista, "ExpandNet: A
Deep Convolutional Neural Network for High Dynamic Range Expansion from Low
Dynamic Range Content", Computer Graphics Forum 37(2) (Eurographics 2018).
Written here from the paper (sec. 3, fig. 2) and the tensor shapes of the
published ``weights.pth`` (github.com/dmarnerides/hdr-expandnet, BSD-3-Clause-
Clear); the user supplies that file, nothing is shipped or downloaded.

Architecture (three branches on the same LDR input, fused by 1x1 convs):
- local: conv3x3 3->64, SELU, conv3x3 64->128, SELU (stride 1, zero pad 1).
- dilation: three (conv3x3 dilation 2, pad 2, ->64, SELU), then conv3x3
  dilation 2 64->64 without activation (receptive radius 8 px).
- global: the input bilinearly resized to 256x256 (align_corners=False),
  six (conv3x3 stride 2 pad 1, ->64, SELU) down to 4x4, then conv4x4 VALID
  64->64 -> one 64-d vector, broadcast to every pixel.
- fusion: concat [local 128, dilation 64, global 64] = 256 -> conv1x1 ->64,
  SELU, conv1x1 -> 3, sigmoid.
State-dict names follow the release: ``local_net.{0,1}.0``, ``mid_net.{0,1,2}.0``
and ``mid_net.3``, ``glob_net.{0..5}.0`` and ``glob_net.6``,
``end_net.0.0`` and ``end_net.1`` (30 tensors, 456,899 parameters).

Inference as the release's ``expand.py`` does it:
- input: RGB in [0, 1] (the display-referred 8-bit image), min-max mapped to
  [0, 1] over the whole image (``map_range``);
- global features from the whole (resized) image once; local and dilation
  branches on the image zero-padded by 10 px, evaluated in tiles whose 10 px
  margins are dropped (exact: the branches see at most 8 px away);
- output: the sigmoid output min-max mapped to [0, 1] again: relative linear
  HDR (the paper's targets are linear HDR scaled to [0, 1]), so evaluation
  scales it like every other method.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..errors import SingleHDRError

#: Zero padding / tile margin of the release's patch-wise prediction.
EXPANDNET_MARGIN = 10
#: Size the global branch sees.
EXPANDNET_GLOBAL_SIZE = 256


def _conv_selu(cin: int, cout: int, k: int, stride: int = 1, pad: int = 0, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, pad, dilation), nn.SELU())


class ExpandNet(nn.Module):
    """ExpandNet (Marnerides et al. 2018).  forward: (N, 3, H, W) [0, 1] -> (N, 3, H, W) in (0, 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.local_net = nn.Sequential(_conv_selu(3, 64, 3, pad=1), _conv_selu(64, 128, 3, pad=1))
        self.mid_net = nn.Sequential(
            _conv_selu(3, 64, 3, pad=2, dilation=2),
            _conv_selu(64, 64, 3, pad=2, dilation=2),
            _conv_selu(64, 64, 3, pad=2, dilation=2),
            nn.Conv2d(64, 64, 3, 1, 2, 2),
        )
        self.glob_net = nn.Sequential(
            _conv_selu(3, 64, 3, stride=2, pad=1),
            *[_conv_selu(64, 64, 3, stride=2, pad=1) for _ in range(5)],
            nn.Conv2d(64, 64, 4, 1, 0),
        )
        self.end_net = nn.Sequential(_conv_selu(256, 64, 1), nn.Conv2d(64, 3, 1), nn.Sigmoid())

    def global_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) -> (N, 64, 1, 1) from the image resized to 256x256 (bilinear, align_corners=False)."""
        small = F.interpolate(x, (EXPANDNET_GLOBAL_SIZE, EXPANDNET_GLOBAL_SIZE), mode="bilinear", align_corners=False)
        return self.glob_net(small)

    def fuse(self, x: torch.Tensor, glob: torch.Tensor) -> torch.Tensor:
        """Local + dilation branches on x, fused with the global vector.  (N, 3, h, w) -> (N, 3, h, w)."""
        n, _, h, w = x.shape
        feats = torch.cat((self.local_net(x), self.mid_net(x), glob.expand(n, 64, h, w)), dim=1)
        return self.end_net(feats)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fuse(x, self.global_features(x))


def load_expandnet(path: str | Path) -> ExpandNet:
    """Build ExpandNet and load the published ``weights.pth`` strictly (eval mode, CPU).

    Reads with ``torch.load(..., weights_only=True)`` only (never executes
    pickled code).  Raises SingleHDRError if the file is missing, unreadable
    or does not match the architecture.
    """
    p = Path(path)
    if not p.is_file():
        raise SingleHDRError(f"ExpandNet weights not found at {p}; pass the weights.pth of github.com/dmarnerides/hdr-expandnet with --expandnet-weights")
    try:
        state = torch.load(str(p), map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt file or a pickle needing code execution
        raise SingleHDRError(f"cannot read ExpandNet weights {p}: {exc}; expected the state_dict weights.pth of hdr-expandnet") from None
    if not isinstance(state, dict):
        raise SingleHDRError(f"{p} is not a state_dict; expected the weights.pth of hdr-expandnet")
    net = ExpandNet()
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise SingleHDRError(f"{p} does not match the ExpandNet architecture ({first}); expected hdr-expandnet's weights.pth") from None
    return net.eval()


def _map_range(x: torch.Tensor) -> torch.Tensor:
    """The release's min-max map to [0, 1] over the whole tensor (constant -> ones, like np.interp)."""
    lo, hi = x.min(), x.max()
    if float(hi - lo) <= 0:
        return torch.ones_like(x)
    return (x - lo) / (hi - lo)


@torch.no_grad()
def expandnet_predict(net: ExpandNet, ldr_srgb: np.ndarray, tile: int | None = 512, device: str = "cpu") -> np.ndarray:
    """ExpandNet inference as the release does.  (H, W, 3) [0, 1] -> hdr_linear (H, W, 3) float32 in [0, 1].

    tile: output tile edge (None = whole image at once; results are the same
    up to float rounding since the 10 px margins cover the 8 px receptive
    radius of the local and dilation branches).
    """
    a = np.asarray(ldr_srgb, dtype=np.float32)
    if a.ndim != 3 or a.shape[2] != 3:
        raise SingleHDRError(f"expected an (H, W, 3) image array, got shape {a.shape}")
    dev = torch.device(device)
    net = net.to(dev)
    x = _map_range(torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))[None].to(dev))
    glob = net.global_features(x)
    m = EXPANDNET_MARGIN
    xp = F.pad(x, (m, m, m, m))  # zeros, as the release
    h, w = a.shape[:2]
    out = torch.empty_like(x)
    step_h = h if not tile else int(tile)
    step_w = w if not tile else int(tile)
    for y0 in range(0, h, step_h):
        y1 = min(h, y0 + step_h)
        for x0 in range(0, w, step_w):
            x1 = min(w, x0 + step_w)
            res = net.fuse(xp[:, :, y0 : y1 + 2 * m, x0 : x1 + 2 * m], glob)
            out[:, :, y0:y1, x0:x1] = res[:, :, m:-m, m:-m]
    out = _map_range(out)
    return np.ascontiguousarray(out[0].permute(1, 2, 0).cpu().numpy(), dtype=np.float32)


class ExpandNetPeer:
    """A loaded ExpandNet usable like a method: ``peer.expand(ldr_srgb) -> hdr_linear``."""

    name = "expandnet"

    def __init__(self, weights: str | Path, device: str = "cpu", tile: int | None = 512) -> None:
        self.net = load_expandnet(weights)
        self.device = device
        self.tile = tile

    def expand(self, ldr_srgb: np.ndarray) -> np.ndarray:
        """(H, W, 3) sRGB [0, 1] -> (H, W, 3) relative linear float32."""
        return expandnet_predict(self.net, ldr_srgb, tile=self.tile, device=self.device)


#: Peer names the evaluator knows, with the option that supplies their weights.
PEERS = {"expandnet": "--expandnet-weights"}


def make_peer(name: str, weights: str | Path | None, device: str = "cpu") -> ExpandNetPeer:
    """A peer method by name.  Raises SingleHDRError for unknown names or missing weights."""
    if name != "expandnet":
        raise SingleHDRError(f"unknown peer method {name!r}; choose one of: {', '.join(PEERS)}")
    if weights is None:
        raise SingleHDRError("the ExpandNet peer needs its weights: pass --expandnet-weights PATH (hdr-expandnet's weights.pth)")
    return ExpandNetPeer(weights, device=device)
