"""Spherical projections: equirectangular, mirror ball, perspective photo, cube map.

Direction convention (used everywhere in singlehdr.envmap)
-----------------------------------------------------------
Right-handed, **+Y up, -Z forward, +X right** (the OpenGL camera frame).
Directions are unit (..., 3) float arrays (x, y, z).

* azimuth  = atan2(x, -z): 0 deg = forward (-Z), +90 deg = right (+X),
  +-180 deg = behind (+Z).
* elevation = asin(y): +90 deg = zenith (+Y).

Equirectangular (latitude-longitude) image, H x W with W = 2 H: pixel
(row i, column j) has its centre at u = (j + 0.5) / W, v = (i + 0.5) / H and
looks along azimuth (u - 0.5) * 360 deg, elevation (0.5 - v) * 180 deg.  The
image centre is forward (-Z), the right quarter (u = 0.75) is +X, the top row
is the zenith.

Blender World mapping: Blender's Environment Texture node (equirectangular,
default vector) shows the image centre (u = 0.5) towards Blender's +X,
u = 0.25 towards +Y, u = 0.75 towards -Y and the top row at +Z (checked with
Cycles renders in tests/hosts/test_blender_world.py).  Our maps therefore load
in Blender with **no rotation** and our frame maps to Blender's (Z up) as

    (x_blender, y_blender, z_blender) = (-z, -x, y)     [ours -> Blender]

(a proper rotation, determinant +1, so handedness is kept).  :func:`to_blender`
applies it.

Mirror (chrome) ball, photographed by an orthographic camera looking along
-Z: a point of the ball image at unit-disk coordinates (x right, y up,
rho = hypot(x, y) <= 1) has normal n = (x, y, sqrt(1 - rho^2)) and reflects the
view ray (0, 0, -1) into r = (2 n_z x, 2 n_z y, 2 n_z^2 - 1) (law of
reflection, r = v - 2 (v.n) n).  The centre reflects +Z (behind the
photographer), the rim reflects -Z (the blind spot behind the ball).
Solid angle: with alpha = 2 asin(rho) the angle from +Z,
d omega = sin(alpha) d alpha d phi = 4 rho d rho d phi = 4 dA, i.e. **every
ball pixel of area a (in units of the ball radius^2) covers 4 a steradians**
(Debevec, "Rendering synthetic objects into real scenes", SIGGRAPH 1998,
mirror-ball sampling; the Jacobian is derived above).

Perspective photo: pinhole with horizontal field of view ``hfov`` (focal
length f = (W / 2) / tan(hfov / 2) pixels), looking forward, then pitched up
by ``pitch`` (rotation about +X) and turned right by ``yaw`` (about +Y).  The
solid angle of the rectangle [x0, x1] x [y0, y1] on the image plane at unit
distance is F(x1, y1) - F(x0, y1) - F(x1, y0) + F(x0, y0) with
F(x, y) = atan2(x y, sqrt(1 + x^2 + y^2)) (exact; e.g. Mazonka, "Solid angle
of conical surfaces, polyhedral cones, and intersecting spherical caps",
2012, right-rectangular pyramid).

Cube map: six square faces named px, nx, py, ny, pz, nz in the OpenGL / Vulkan
/ Direct3D convention (OpenGL 4.6 spec, Table 8.19): for major axis m with
coordinate ma, face coordinates s = (sc / |ma| + 1) / 2 (columns, left to
right) and t = (tc / |ma| + 1) / 2 (rows, top row first) with
+X: sc = -z, tc = -y;  -X: sc = +z, tc = -y;  +Y: sc = +x, tc = +z;
-Y: sc = +x, tc = -z;  +Z: sc = +x, tc = -y;  -Z: sc = -x, tc = -y.
(Faces therefore look mirrored when viewed from inside in a right-handed frame;
that is what GPU cube samplers expect.)
"""

from __future__ import annotations

from typing import Callable

import numpy as np

# ----------------------------------------------------------------------------
# Directions, angles, rotations


def normalize(d: np.ndarray) -> np.ndarray:
    """(..., 3) -> unit (..., 3); zero vectors stay zero."""
    d = np.asarray(d, dtype=np.float64)
    n = np.linalg.norm(d, axis=-1, keepdims=True)
    return d / np.where(n > 0, n, 1.0)


def azimuth_elevation(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(..., 3) directions -> (azimuth, elevation) in degrees (module conventions)."""
    d = normalize(d)
    az = np.degrees(np.arctan2(d[..., 0], -d[..., 2]))
    el = np.degrees(np.arcsin(np.clip(d[..., 1], -1.0, 1.0)))
    return az, el


def direction_from_angles(azimuth_deg: float | np.ndarray, elevation_deg: float | np.ndarray) -> np.ndarray:
    """(azimuth, elevation) in degrees -> unit (..., 3) (x, y, z), inverse of :func:`azimuth_elevation`."""
    a = np.radians(np.asarray(azimuth_deg, dtype=np.float64))
    e = np.radians(np.asarray(elevation_deg, dtype=np.float64))
    a, e = np.broadcast_arrays(a, e)
    return np.stack([np.cos(e) * np.sin(a), np.sin(e), -np.cos(e) * np.cos(a)], axis=-1)


def to_blender(d: np.ndarray) -> np.ndarray:
    """Our (x, y, z) (Y up, -Z forward) -> Blender world (Z up): (-z, -x, y).  See module doc."""
    d = np.asarray(d)
    return np.stack([-d[..., 2], -d[..., 0], d[..., 1]], axis=-1)


def rotation(yaw_deg: float = 0.0, pitch_deg: float = 0.0) -> np.ndarray:
    """3x3 matrix R = R_y(-yaw) @ R_x(pitch): forward (0, 0, -1) -> azimuth yaw, elevation pitch."""
    p, y = np.radians(pitch_deg), np.radians(-yaw_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    return ry @ rx


def angle_between_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle in degrees between two directions."""
    a, b = normalize(a), normalize(b)
    return float(np.degrees(np.arccos(np.clip(np.sum(a * b), -1.0, 1.0))))


# ----------------------------------------------------------------------------
# Sampling helpers


def sample_bilinear(img: np.ndarray, px: np.ndarray, py: np.ndarray, wrap_x: bool = False) -> np.ndarray:
    """Bilinear lookup of img (H, W, C) at continuous pixel coords (centres at +0.5).

    px, py: (...) column / row coordinates.  Rows clamp at the border; columns
    clamp, or wrap around when ``wrap_x`` (360 panoramas).  Returns (..., C).
    """
    h, w = img.shape[:2]
    x = np.asarray(px, dtype=np.float64) - 0.5
    y = np.clip(np.asarray(py, dtype=np.float64) - 0.5, 0.0, h - 1.0)
    if not wrap_x:
        x = np.clip(x, 0.0, w - 1.0)
    x0f, y0f = np.floor(x), np.floor(y)
    fx, fy = (x - x0f)[..., None], (y - y0f)[..., None]
    y0 = y0f.astype(np.int64)
    y1 = np.minimum(y0 + 1, h - 1)
    if wrap_x:
        x0 = np.mod(x0f.astype(np.int64), w)
        x1 = np.mod(x0 + 1, w)
    else:
        x0 = x0f.astype(np.int64)
        x1 = np.minimum(x0 + 1, w - 1)
    a = img[y0, x0] * (1 - fx) + img[y0, x1] * fx
    b = img[y1, x0] * (1 - fx) + img[y1, x1] * fx
    return a * (1 - fy) + b * fy


def _subpixel_offsets(ss: int) -> np.ndarray:
    """(ss*ss, 2) offsets in [0, 1) of a regular ss x ss grid of sample centres."""
    o = (np.arange(ss) + 0.5) / ss
    gx, gy = np.meshgrid(o, o)
    return np.stack([gx.ravel(), gy.ravel()], axis=-1)


# ----------------------------------------------------------------------------
# Equirectangular


def equirect_directions(h: int, w: int, offset: tuple[float, float] = (0.5, 0.5)) -> np.ndarray:
    """(H, W, 3) unit directions at the pixels (offset (0.5, 0.5) = centres)."""
    u = (np.arange(w) + offset[0]) / w
    v = (np.arange(h) + offset[1]) / h
    az = (u - 0.5) * 360.0
    el = (0.5 - v) * 180.0
    return direction_from_angles(az[None, :], el[:, None])


def equirect_solid_angles(h: int, w: int) -> np.ndarray:
    """(H, W) exact solid angle of each equirect pixel: (2 pi / W) (sin(el_top) - sin(el_bottom)).  Sums to 4 pi."""
    edges = np.radians((0.5 - np.arange(h + 1) / h) * 180.0)
    rows = (2.0 * np.pi / w) * (np.sin(edges[:-1]) - np.sin(edges[1:]))
    return np.repeat(rows[:, None], w, axis=1)


def equirect_pixel_coords(d: np.ndarray, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Directions (..., 3) -> continuous (column, row) pixel coords of an H x W equirect."""
    az, el = azimuth_elevation(d)
    return (az / 360.0 + 0.5) * w, (0.5 - el / 180.0) * h


def sample_equirect(env: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Bilinear lookup of an (H, W, C) equirect along directions (..., 3) -> (..., C); the seam wraps."""
    px, py = equirect_pixel_coords(d, env.shape[0], env.shape[1])
    return sample_bilinear(env, px, py, wrap_x=True)


def resample_to_equirect(
    lookup: Callable[[np.ndarray], np.ndarray], h: int, w: int, ss: int = 2, channels: int = 3
) -> np.ndarray:
    """Build an (H, W, channels) equirect by averaging ``lookup(dirs)`` over ss x ss sub-pixel samples.

    lookup: (N, 3) unit directions -> (N, channels) values.
    """
    out = np.zeros((h, w, channels), dtype=np.float64)
    offs = _subpixel_offsets(max(1, int(ss)))
    for ox, oy in offs:
        d = equirect_directions(h, w, (ox, oy)).reshape(-1, 3)
        out += lookup(d).reshape(h, w, channels)
    return (out / len(offs)).astype(np.float32)


def resize_equirect(env: np.ndarray, width: int) -> np.ndarray:
    """Resample an equirect (H, W, C) to (width / 2, width, C).

    Downscaling by an integer factor averages solid-angle-weighted blocks
    (energy preserving); otherwise supersampled bilinear lookup.
    """
    h, w = env.shape[:2]
    oh, ow = max(1, width // 2), int(width)
    if (h, w) == (oh, ow):
        return env.astype(np.float32, copy=True)
    if w % ow == 0 and h % oh == 0 and w // ow == h // oh:
        k = w // ow
        wts = equirect_solid_angles(h, w)[..., None]
        num = (env * wts).reshape(oh, k, ow, k, -1).sum(axis=(1, 3))
        den = wts.reshape(oh, k, ow, k, 1).sum(axis=(1, 3))
        return (num / den).astype(np.float32)
    ss = int(np.clip(np.ceil(w / ow), 1, 8))
    c = env.shape[2]
    return resample_to_equirect(lambda d: sample_equirect(env, d), oh, ow, ss, c)


# ----------------------------------------------------------------------------
# Mirror ball


def ball_to_direction(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Unit-disk coords (x right, y up, rho <= 1) -> reflected directions (..., 3) (module doc)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    nz = np.sqrt(np.clip(1.0 - x * x - y * y, 0.0, 1.0))
    return np.stack([2 * nz * x, 2 * nz * y, 2 * nz * nz - 1.0], axis=-1)


def direction_to_ball(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Directions (..., 3) -> unit-disk (x, y): the normal n = normalize(r + (0, 0, 1)) gives x = n_x, y = n_y.

    The direction -Z (behind the ball) is the whole rim; it maps to (1, 0).
    """
    d = normalize(d)
    h = d + np.array([0.0, 0.0, 1.0])
    n = np.linalg.norm(h, axis=-1)
    bad = n < 1e-9
    n = np.where(bad, 1.0, n)
    x = np.where(bad, 1.0, h[..., 0] / n)
    y = np.where(bad, 0.0, h[..., 1] / n)
    return x, y


def ball_solid_angles(h: int, w: int, cx: float, cy: float, r: float, ss: int = 8) -> np.ndarray:
    """(H, W) solid angle seen by each pixel of an image holding a ball (centre cx, cy; radius r, in pixels).

    4 * (area of the pixel inside the disk) / r^2 (module doc); the rim
    coverage is estimated with ss x ss sub-samples.  Sums to ~4 pi when the
    whole ball is inside the image.
    """
    offs = _subpixel_offsets(ss)
    cols = np.arange(w)[None, :]
    rows = np.arange(h)[:, None]
    cover = np.zeros((h, w))
    for ox, oy in offs:
        cover += ((cols + ox - cx) ** 2 + (rows + oy - cy) ** 2) <= r * r
    return 4.0 * (cover / len(offs)) / (r * r)


def equirect_to_ball(env: np.ndarray, size: int, ss: int = 3) -> np.ndarray:
    """Render a (size, size, C) mirror-ball image of an equirect (ball inscribed; outside the disk = 0)."""
    c = env.shape[2]
    out = np.zeros((size, size, c))
    cnt = np.zeros((size, size, 1))
    r = size / 2.0
    for ox, oy in _subpixel_offsets(ss):
        x = (np.arange(size)[None, :] + ox - r) / r
        y = -(np.arange(size)[:, None] + oy - r) / r
        x, y = np.broadcast_arrays(x, y)
        inside = (x * x + y * y <= 1.0)[..., None]
        vals = sample_equirect(env, ball_to_direction(x, y))
        out += np.where(inside, vals, 0.0)
        cnt += inside
    return np.where(cnt > 0, out / np.maximum(cnt, 1), 0.0).astype(np.float32)


def ball_lookup(ball_img: np.ndarray, cx: float, cy: float, r: float) -> Callable[[np.ndarray], np.ndarray]:
    """A lookup(dirs) -> values reading a ball image (centre cx, cy, radius r in pixels)."""

    def lookup(d: np.ndarray) -> np.ndarray:
        x, y = direction_to_ball(d)
        # keep samples a hair inside the disk so the rim never reads the background
        rho = np.hypot(x, y)
        s = np.where(rho > 1.0 - 0.5 / r, (1.0 - 0.5 / r) / np.maximum(rho, 1e-12), 1.0)
        return sample_bilinear(ball_img, cx + x * s * r, cy - y * s * r)

    return lookup


def ball_to_equirect(ball_img: np.ndarray, cx: float, cy: float, r: float, width: int, ss: int | None = None) -> np.ndarray:
    """Unwrap a mirror-ball image (H, W, C) to a (width / 2, width, C) equirect.

    ss defaults to the ratio of ball to output resolution (ball pixels per
    equirect pixel at the equator, capped at 6) so no ball pixel is skipped.
    """
    h = max(1, width // 2)
    if ss is None:
        # equator pixel: 4 pi^2 / W^2 sr; ball pixel: 4 / r^2 sr
        ss = int(np.clip(np.ceil(np.sqrt((4 * np.pi**2 / width**2) / (4.0 / r**2))), 1, 6))
    return resample_to_equirect(ball_lookup(ball_img, cx, cy, r), h, width, ss, ball_img.shape[2])


def ball_alpha(width: int, rim_deg: float = 20.0, photographer_deg: float = 10.0, ss: int = 2) -> np.ndarray:
    """(width / 2, width) reliability mask of a ball unwrap: 0 within ``rim_deg`` of -Z (blind spot behind the ball,
    seen only at the compressed rim) and within ``photographer_deg`` of +Z (camera / photographer reflection); 1 elsewhere.
    """
    h = max(1, width // 2)
    out = np.zeros((h, width))
    offs = _subpixel_offsets(ss)
    for ox, oy in offs:
        d = equirect_directions(h, width, (ox, oy))
        ang_fwd = np.degrees(np.arccos(np.clip(-d[..., 2], -1, 1)))
        ang_back = 180.0 - ang_fwd
        out += (ang_fwd > rim_deg) & (ang_back > photographer_deg)
    return (out / len(offs)).astype(np.float32)


# ----------------------------------------------------------------------------
# Perspective photos


def focal_pixels(width: int, hfov_deg: float) -> float:
    """Pinhole focal length in pixels: (W / 2) / tan(hfov / 2)."""
    return (width / 2.0) / np.tan(np.radians(hfov_deg) / 2.0)


def perspective_directions(h: int, w: int, hfov_deg: float, yaw_deg: float = 0.0, pitch_deg: float = 0.0) -> np.ndarray:
    """(H, W, 3) world directions of the pixel centres of a pinhole photo (module doc)."""
    f = focal_pixels(w, hfov_deg)
    xc = (np.arange(w) + 0.5 - w / 2.0) / f
    yc = -(np.arange(h) + 0.5 - h / 2.0) / f
    xc, yc = np.meshgrid(xc, yc)
    d = normalize(np.stack([xc, yc, -np.ones_like(xc)], axis=-1))
    return d @ rotation(yaw_deg, pitch_deg).T


def direction_to_perspective(
    d: np.ndarray, h: int, w: int, hfov_deg: float, yaw_deg: float = 0.0, pitch_deg: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World directions (..., 3) -> (column, row, inside) of the photo; inside is False behind or outside the frame."""
    dc = normalize(d) @ rotation(yaw_deg, pitch_deg)  # world -> camera (R^T applied to row vectors)
    f = focal_pixels(w, hfov_deg)
    front = dc[..., 2] < -1e-9
    zc = np.where(front, -dc[..., 2], 1.0)
    px = dc[..., 0] / zc * f + w / 2.0
    py = -dc[..., 1] / zc * f + h / 2.0
    inside = front & (px >= 0) & (px <= w) & (py >= 0) & (py <= h)
    return px, py, inside


def _rect_solid_angle(x0, y0, x1, y1):  # noqa: ANN001
    f = lambda x, y: np.arctan2(x * y, np.sqrt(1.0 + x * x + y * y))  # noqa: E731
    return f(x1, y1) - f(x0, y1) - f(x1, y0) + f(x0, y0)


def perspective_solid_angles(h: int, w: int, hfov_deg: float) -> np.ndarray:
    """(H, W) exact solid angle of each pixel of a pinhole photo (rectangle formula, module doc)."""
    f = focal_pixels(w, hfov_deg)
    xe = (np.arange(w + 1) - w / 2.0) / f
    ye = (np.arange(h + 1) - h / 2.0) / f
    return _rect_solid_angle(xe[None, :-1], ye[:-1, None], xe[None, 1:], ye[1:, None])


def hfov_from_exif(exif: dict, width: int, height: int) -> float | None:
    """Horizontal FOV in degrees from EXIF FocalLengthIn35mmFilm (35 mm-equivalent, diagonal 43.27 mm).

    The equivalent focal length is defined on the 36 x 24 mm frame's diagonal
    (CIPA DC-008 / Exif 2.3 'FocalLengthIn35mmFilm'); the image's own diagonal
    then gives diag_fov = 2 atan(43.27 / (2 f35)) and
    hfov = 2 atan(tan(diag_fov / 2) * W / hypot(W, H)).
    """
    from ..exposure import _as_float

    f35 = _as_float(exif.get("FocalLengthIn35mmFilm"))
    if not f35 or f35 <= 0:
        return None
    half_diag = np.hypot(36.0, 24.0) / (2.0 * f35)
    return float(np.degrees(2.0 * np.arctan(half_diag * width / np.hypot(width, height))))


def perspective_to_equirect(
    photo: np.ndarray, hfov_deg: float, yaw_deg: float, pitch_deg: float, width: int, ss: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Place a pinhole photo (H, W, C) into a (width / 2, width) equirect.  Returns (env, coverage in [0, 1])."""
    ph, pw, c = photo.shape
    oh = max(1, width // 2)
    if ss is None:
        # photo pixels per equirect pixel (centre of the photo vs equator)
        ratio = (np.radians(hfov_deg) / pw) / (2 * np.pi / width)
        ss = int(np.clip(np.ceil(1.0 / ratio), 1, 6))

    def lookup(d: np.ndarray) -> np.ndarray:
        px, py, inside = direction_to_perspective(d, ph, pw, hfov_deg, yaw_deg, pitch_deg)
        vals = sample_bilinear(photo, px, py)
        return np.concatenate([vals * inside[..., None], inside[..., None].astype(np.float64)], axis=-1)

    both = resample_to_equirect(lookup, oh, width, ss, c + 1)
    cov = both[..., c]
    env = np.where(cov[..., None] > 0, both[..., :c] / np.maximum(cov[..., None], 1e-12), 0.0)
    return env.astype(np.float32), cov.astype(np.float32)


# ----------------------------------------------------------------------------
# Cube maps

CUBE_FACES = ("px", "nx", "py", "ny", "pz", "nz")
# face -> (major axis, s axis, t axis): dir = major + sc * s_axis + tc * t_axis (OpenGL Table 8.19 inverted)
_CUBE_AXES = {
    "px": ((1, 0, 0), (0, 0, -1), (0, -1, 0)),
    "nx": ((-1, 0, 0), (0, 0, 1), (0, -1, 0)),
    "py": ((0, 1, 0), (1, 0, 0), (0, 0, 1)),
    "ny": ((0, -1, 0), (1, 0, 0), (0, 0, -1)),
    "pz": ((0, 0, 1), (1, 0, 0), (0, -1, 0)),
    "nz": ((0, 0, -1), (-1, 0, 0), (0, -1, 0)),
}


def cube_face_directions(face: str, size: int, offset: tuple[float, float] = (0.5, 0.5)) -> np.ndarray:
    """(size, size, 3) unit directions of a cube face's pixels (row = t, column = s; module doc)."""
    m, sa, ta = (np.array(v, dtype=np.float64) for v in _CUBE_AXES[face])
    sc = 2.0 * (np.arange(size) + offset[0]) / size - 1.0
    tc = 2.0 * (np.arange(size) + offset[1]) / size - 1.0
    d = m[None, None, :] + sc[None, :, None] * sa[None, None, :] + tc[:, None, None] * ta[None, None, :]
    return normalize(d)


def direction_to_cube(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directions (..., 3) -> (face index into CUBE_FACES, s, t) with s, t in [0, 1] (OpenGL Table 8.19)."""
    d = np.asarray(d, dtype=np.float64)
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    ax, ay, az = np.abs(x), np.abs(y), np.abs(z)
    face = np.where((ax >= ay) & (ax >= az), np.where(x >= 0, 0, 1), np.where(ay >= az, np.where(y >= 0, 2, 3), np.where(z >= 0, 4, 5)))
    sc = np.select([face == 0, face == 1, face == 2, face == 3, face == 4], [-z, z, x, x, x], -x)
    tc = np.select([face == 0, face == 1, face == 2, face == 3, face == 4], [-y, -y, z, -z, -y], -y)
    ma = np.select([face <= 1, face <= 3], [ax, ay], az)
    return face, 0.5 * (sc / ma + 1.0), 0.5 * (tc / ma + 1.0)


def cube_solid_angles(size: int) -> np.ndarray:
    """(size, size) exact solid angle of each pixel of one cube face (same for all six; rectangle formula)."""
    e = 2.0 * np.arange(size + 1) / size - 1.0
    return _rect_solid_angle(e[None, :-1], e[:-1, None], e[None, 1:], e[1:, None])


def equirect_to_cube(env: np.ndarray, size: int, ss: int = 2) -> dict[str, np.ndarray]:
    """Six (size, size, C) float32 faces {px, nx, py, ny, pz, nz} sampled from an equirect."""
    faces = {}
    offs = _subpixel_offsets(ss)
    for name in CUBE_FACES:
        acc = np.zeros((size, size, env.shape[2]))
        for ox, oy in offs:
            acc += sample_equirect(env, cube_face_directions(name, size, (ox, oy)))
        faces[name] = (acc / len(offs)).astype(np.float32)
    return faces


def cube_to_equirect(faces: dict[str, np.ndarray], width: int, ss: int = 2) -> np.ndarray:
    """Equirect (width / 2, width, C) from six cube faces (inverse of :func:`equirect_to_cube`)."""
    size = faces["px"].shape[0]
    stack = np.stack([faces[n] for n in CUBE_FACES])

    def lookup(d: np.ndarray) -> np.ndarray:
        f, s, t = direction_to_cube(d)
        out = np.zeros(d.shape[:-1] + (stack.shape[-1],))
        for i in range(6):
            sel = f == i
            if np.any(sel):
                out[sel] = sample_bilinear(stack[i], s[sel] * size, t[sel] * size)
        return out

    return resample_to_equirect(lookup, max(1, width // 2), width, ss, stack.shape[-1])
