"""Writing an EnvmapResult: equirect EXR (+ alpha), cube faces, preview sheet, JSON report.

All files go through singlehdr.io's atomic writers (temp file + os.replace)
and refuse to overwrite an input (and an existing file unless overwrite).
The EXR header carries the reconstruction's provenance (singlehdr:* from
:func:`singlehdr.io.provenance_attributes`, incl. singlehdr:exposure_scale)
plus singlehdr:envmap:* facts (kind, convention, light direction, ...).
Values above the half-float range (a recovered sun) switch the EXR to
32-bit float automatically.
"""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from .make import EnvmapResult
from .projections import CUBE_FACES, equirect_to_cube

from ..colour import fits_half


def envmap_attributes(result: EnvmapResult) -> dict[str, Any]:
    """EXR header attributes for an envmap (provenance + geometry + light)."""
    from ..io import provenance_attributes

    attrs = provenance_attributes(result.reconstruction)
    attrs["singlehdr:colorspace"] = result.colorspace
    for k, v in result.metadata.items():
        if k.startswith("envmap_"):
            key = "singlehdr:envmap:" + k[len("envmap_"):]
            attrs[key] = v if isinstance(v, (int, float, str)) else json.dumps(v)
    attrs["singlehdr:envmap:sun"] = json.dumps(result.sun) if result.sun else "none"
    return attrs


def _text_atomic(path: Path, text: str, overwrite: bool, inputs: Iterable[Any]) -> Path:
    from ..io.atomic import atomic_output

    with atomic_output(path, overwrite=overwrite, inputs=inputs) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def cube_paths(path: str | PathLike[str]) -> dict[str, Path]:
    """Face name -> path: <stem>_px.exr ... beside ``path``."""
    p = Path(path)
    return {f: p.with_name(f"{p.stem}_{f}{p.suffix or '.exr'}") for f in CUBE_FACES}


def write_envmap(result: EnvmapResult, path: str | PathLike[str], **kw: Any) -> dict[str, Any]:
    """Write the map and its side outputs as one set (all or none): see :func:`_write_envmap_files`."""
    from ..io.atomic import output_set

    with output_set():
        return _write_envmap_files(result, path, **kw)


def _write_envmap_files(
    result: EnvmapResult,
    path: str | PathLike[str],
    *,
    overwrite: bool = False,
    inputs: Iterable[str | PathLike[str]] = (),
    cubemap: bool = False,
    cube_size: int | None = None,
    preview: str | PathLike[str] | None = None,
    report: str | PathLike[str] | None = None,
    without_sun: str | PathLike[str] | None = None,
    half: bool | None = None,
) -> dict[str, Any]:
    """Write the map (and optional cube faces, preview PNG, report JSON, sun-free map).  Returns {what: path(s)}.

    without_sun: where to write ``result.hdr_without_sun`` (the map with only the
    recovered sun disc replaced by the sky, for a separate sun lamp; the map itself
    when no sun was added), with the map's header plus ``singlehdr:envmap:layer``.

    half: None = half floats unless a value exceeds the half range.
    Cube faces: ``<stem>_{px,nx,py,ny,pz,nz}<suffix>`` of ``cube_size``
    (default width / 4), OpenGL orientation (see singlehdr.envmap.projections).
    """
    from ..io import write_hdr, write_ldr

    inputs = list(inputs)
    env = result.hdr_linear
    if half is None:
        half = fits_half(env)
    attrs = envmap_attributes(result)
    written: dict[str, Any] = {}
    written["envmap"] = write_hdr(path, env, alpha=result.alpha, half=half, colorspace=result.colorspace,
                                  attributes=attrs, overwrite=overwrite, inputs=inputs)
    if without_sun:
        wo = result.hdr_without_sun if result.hdr_without_sun is not None else env
        wa = dict(attrs, **{"singlehdr:envmap:layer": "without_sun" if result.sun else "without_sun (no sun was added)"})
        written["without_sun"] = write_hdr(without_sun, wo, alpha=result.alpha,
                                           half=fits_half(wo) if half is None else half,
                                           colorspace=result.colorspace, attributes=wa, overwrite=overwrite, inputs=inputs)
    if cubemap:
        size = cube_size or max(8, env.shape[1] // 4)
        faces = equirect_to_cube(env, size)
        alphas = equirect_to_cube(result.alpha[..., None], size)
        written["cubemap"] = {}
        for face, fp in cube_paths(path).items():
            fa = dict(attrs, **{"singlehdr:envmap:cube_face": face,
                                "singlehdr:envmap:cube_convention": "OpenGL 4.6 Table 8.19, row 0 = t 0 (top)"})
            written["cubemap"][face] = write_hdr(fp, faces[face], alpha=alphas[face][..., 0], half=half,
                                                 colorspace=result.colorspace, attributes=fa,
                                                 overwrite=overwrite, inputs=inputs)
    if preview:
        from .sheet import preview_sheet

        written["preview"] = write_ldr(preview, preview_sheet(env, result.sh), overwrite=overwrite, inputs=inputs)
    if report:
        data = result.report()
        data["files"] = {k: (str(v) if not isinstance(v, dict) else {f: str(q) for f, q in v.items()}) for k, v in written.items()}
        written["report"] = _text_atomic(Path(report), json.dumps(data, indent=2) + "\n", overwrite, inputs)
    return written
