"""singlehdr.envmap: HDR environment maps for image-based lighting.

Public API::

    from singlehdr.envmap import make_envmap, EnvmapOptions, write_envmap
    result = make_envmap("ball.jpg", EnvmapOptions(kind="ball", width=1024))
    result.hdr_linear   # (512, 1024, 3) float32 equirect, Y up, -Z forward at the centre
    result.alpha        # (512, 1024) 1 = seen, 0 = filled / unreliable
    result.light        # dominant light: direction, azimuth/elevation, solid angle, intensity
    result.sh           # (9, 3) SH radiance coefficients (Ramamoorthi & Hanrahan 2001)
    result.sun          # None, or the recovered sun: direction, elevation, radiance/irradiance, confidence, method
    result.hdr_without_sun  # the map with only the sun disc replaced by the sky (for a separate Sun lamp)
    result.notes        # one-line messages (no sun and why, assumed photo orientation, no ball found)
    write_envmap(result, "env.exr", cubemap=True, preview="sheet.png", report="light.json")

Modules: calibrate (re-exports singlehdr.exposure), projections, detect, fill, lighting,
sun (sun recovery), make, output, sheet, commands (``singlehdr envmap``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["make_envmap", "EnvmapOptions", "EnvmapResult", "write_envmap", "exposure_scale"]


def __getattr__(name: str) -> Any:  # lazy: importing singlehdr.envmap stays cheap
    if name in ("make_envmap", "EnvmapOptions", "EnvmapResult"):
        from . import make

        return getattr(make, name)
    if name == "write_envmap":
        from .output import write_envmap

        return write_envmap
    if name == "exposure_scale":
        from ..exposure import exposure_scale

        return exposure_scale
    raise AttributeError(name)
