"""Tiled rasteriser: which faces matter at which pixel (no gradients), memory-bounded.

Faces of all hands of all images are flattened into one list of G = B * H * F faces.
Each face's screen bounding box (grown by the blur radius) is binned into square tiles, minus
the tiles a separating-axis test on its edge functions rules out; tiles are processed in
chunks of at most ``max_pairs_per_chunk`` (pixel, candidate face) pairs, so no pixels x faces
tensor is ever built. Per chunk, one batched matrix product evaluates, for every pixel and
candidate face, the three signed edge distances and the inverse depth (affine in the pixel
coordinates); the distance inside the face's box, which is separable in x and y, is
evaluated per tile row and column and broadcast; ``topk`` keeps the ``k`` best faces.

Ranking per pixel: the faces whose triangle contains the pixel centre come first, nearest
first, so slot 0 holds the z-buffer face when there is one; then the faces within the blur
radius, ranked by a lower bound of their signed distance (the smallest of the edge-line and
box distances, exact inside a face), i.e. the faces with the largest SoftRas coverage.

Pixel coordinates follow :mod:`smhr.geometry.camera`: the centre of pixel (row y, column x)
is at (u, v) = (x, y).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from smhr.geometry.camera import project

_N_AFFINE = 4  # 3 edge distances, depth key


class ScreenMesh(NamedTuple):
    """All faces of a batch, flattened, in screen space.

    Attributes:
        uv: (B*H*V, 2) pixel coordinates of every vertex (differentiable).
        inv_z: (B*H*V,) inverse depth 1/z of every vertex (differentiable).
        face_verts: (G, 3) long, rows of ``uv`` of each face's corners, G = B*H*F.
        face_valid: (G,) bool, False for padded hand slots and faces crossing ``znear``.
        face_image: (G,) long, image index b of each face.
        face_hand: (G,) long, hand slot h of each face.
    """

    uv: torch.Tensor
    inv_z: torch.Tensor
    face_verts: torch.Tensor
    face_valid: torch.Tensor
    face_image: torch.Tensor
    face_hand: torch.Tensor


class PixelFaces(NamedTuple):
    """Rasteriser result for the pixels that have at least one candidate face.

    Attributes:
        pixel: (N,) long flat pixel index ``(b * h + y) * w + x``.
        face: (N, k) long face index into :class:`ScreenMesh` rows, -1 for empty slots.
        covered: (N,) bool, the pixel centre is inside face ``face[:, 0]`` (z-buffer hit).
    """

    pixel: torch.Tensor
    face: torch.Tensor
    covered: torch.Tensor


def screen_mesh(verts: torch.Tensor, faces: torch.Tensor, K: torch.Tensor, hand_mask: torch.Tensor, znear: float) -> ScreenMesh:
    """Projects every hand with its own camera and flattens faces over images and hands.

    Args:
        verts: (B, H, V, 3) camera-frame vertices (metres, OpenCV axes).
        faces: (F, 3) long shared faces, or (B, H, F, 3) per hand slot.
        K: (B, H, 3, 3) intrinsics.
        hand_mask: (B, H) bool, False for padded slots.
        znear: faces with a corner at z < znear are culled.

    Returns:
        The flattened :class:`ScreenMesh`.
    """
    B, H, V, _ = verts.shape
    uv = project(verts, K).reshape(B * H * V, 2)
    z = verts[..., 2].reshape(B * H * V)
    inv_z = 1.0 / z.clamp(min=znear)
    if faces.dim() == 2:
        faces = faces.expand(B, H, *faces.shape)
    F = faces.shape[2]
    offset = (torch.arange(B * H, device=verts.device) * V).view(B, H, 1, 1)
    face_verts = (faces + offset).reshape(B * H * F, 3)
    slot = torch.arange(B * H, device=verts.device).repeat_interleave(F)
    face_valid = hand_mask.reshape(B * H)[slot] & (z.detach()[face_verts] >= znear).all(-1)
    return ScreenMesh(uv, inv_z, face_verts, face_valid, slot // H, slot % H)


def _affine_coefficients(xy: torch.Tensor, inv_z: torch.Tensor, valid: torch.Tensor, radius: float, znear: float) -> torch.Tensor:
    """Per-face coefficients (a, b, c) of the 4 affine functions ``a * x + b * y + c``.

    Functions 0-2 are the signed distances to the edge lines (positive inside) as ``1 +
    distance / radius`` (``1 + distance`` when ``radius`` is 0): the pixel centre is covered
    when the smallest of them is >= 1, and within the blur radius of the three edge lines when
    it is >= 0. Function 3 is ``2 + znear / z`` (in (2, 3] in front of the near plane), the
    ranking key of covering faces: nearer is larger, and every covering face outranks every
    face that does not cover the pixel.

    Args:
        xy: (G, 3, 2) corners in pixels.
        inv_z: (G, 3) corner inverse depths.
        valid: (G,) bool; invalid and degenerate faces get functions that never select them.
        radius: blur radius (px).
        znear: scales inverse depth into (0, 1].

    Returns:
        (G + 1, 3, 4): rows [a, b, c]; the extra last face is an always-rejected dummy.
    """
    x, y = xy[..., 0], xy[..., 1]
    xj, yj = x.roll(-1, 1), y.roll(-1, 1)  # corner i+1
    xk, yk = x.roll(-2, 1), y.roll(-2, 1)  # corner i+2
    abc = torch.stack([yj - yk, xk - xj, xj * yk - yj * xk], 1)  # (G, 3 abc, 3 corners)
    area2 = abc[:, 2].sum(1)  # twice the signed area
    valid = valid & (area2.abs() > 1e-12)
    scale = 1.0 / radius if radius > 0 else 1.0
    sign = torch.where(area2 < 0, -scale, scale).to(xy.dtype)
    length = torch.sqrt(abc[:, 0] ** 2 + abc[:, 1] ** 2).clamp(min=1e-12)
    edge = abc * (sign[:, None] / length)[:, None, :]
    safe_area = torch.where(valid, area2, torch.ones_like(area2))
    iz = (abc * inv_z[:, None, :]).sum(2) / safe_area[:, None] * znear  # (G, 3)
    coef = torch.cat([edge, iz[:, :, None]], 2)
    coef[:, 2, :3] += 1.0
    coef[:, 2, 3] += 2.0
    coef = torch.cat([coef, torch.zeros_like(coef[:1])], 0)
    rejected = torch.cat([~valid, valid.new_ones(1)])
    coef[rejected] = 0.0
    coef[rejected, 2, :3] = -1.0  # never within reach
    return coef


def _box_distance(coord: torch.Tensor, limits: torch.Tensor, scale: float) -> torch.Tensor:
    """``1 + scale * (distance inside the interval [lo, hi])`` along one axis.

    Args:
        coord: (n, t) pixel coordinates of a tile's columns (or rows).
        limits: (n, 1, kc, 2) each candidate face's [lo, hi] along that axis.
        scale: 1 / blur radius.

    Returns:
        (n, t, kc), negative outside the interval grown by the blur radius.
    """
    c = coord[:, :, None]
    return 1.0 + scale * torch.minimum(c - limits[..., 0], limits[..., 1] - c)


def _bin_faces(lo: torch.Tensor, hi: torch.Tensor, image: torch.Tensor, valid: torch.Tensor, tiles_y: int, tiles_x: int, tile: int,
               edges: torch.Tensor, reach: float):
    """Lists (tile, face) pairs whose face can reach a pixel centre of the tile, sorted by tile.

    A face is listed in the tiles its grown bounding box ``[lo, hi]`` overlaps, minus the
    tiles that one of its edge functions rules out: separating-axis test of the square hull
    of the tile's pixel centres against the region where all three edge functions are at
    least ``reach`` (its maximum over the square is at a corner).

    Args:
        lo, hi: (G, 2) grown bounding boxes (px).
        image: (G,) image index of each face.
        valid: (G,) bool.
        tiles_y, tiles_x, tile: tile grid and side (px).
        edges: (G + 1, 3, 3) rows [a, b, c] of each face's three edge functions.
        reach: smallest edge-function value a listed face must be able to reach.

    Returns:
        (tile_ids (T,), starts (T,), counts (T,), faces_sorted (P,)) for the non-empty tiles.
    """
    tx0 = torch.div(lo[:, 0] + 0.5, tile, rounding_mode="floor").clamp(0, tiles_x - 1).long()
    ty0 = torch.div(lo[:, 1] + 0.5, tile, rounding_mode="floor").clamp(0, tiles_y - 1).long()
    tx1 = torch.div(hi[:, 0] + 0.5, tile, rounding_mode="floor").clamp(0, tiles_x - 1).long()
    ty1 = torch.div(hi[:, 1] + 0.5, tile, rounding_mode="floor").clamp(0, tiles_y - 1).long()
    inside = valid & (hi[:, 0] >= -0.5) & (hi[:, 1] >= -0.5)
    inside &= (lo[:, 0] <= tiles_x * tile - 0.5) & (lo[:, 1] <= tiles_y * tile - 0.5)
    width = tx1 - tx0 + 1
    count = torch.where(inside, width * (ty1 - ty0 + 1), torch.zeros_like(width))
    face = torch.repeat_interleave(torch.arange(len(count), device=lo.device), count)
    first = torch.cumsum(count, 0) - count
    local = torch.arange(len(face), device=lo.device) - first[face]
    tx = tx0[face] + local % width[face]
    ty = ty0[face] + torch.div(local, width[face], rounding_mode="floor")
    e = edges[face]  # (P, 3 abc, 3 edges)
    x0, y0 = (tx * tile).to(e.dtype)[:, None], (ty * tile).to(e.dtype)[:, None]
    a, b = e[:, 0], e[:, 1]
    top = e[:, 2] + torch.maximum(a * x0, a * (x0 + tile - 1)) + torch.maximum(b * y0, b * (y0 + tile - 1))
    reachable = (top >= reach).all(1)
    face, tx, ty = face[reachable], tx[reachable], ty[reachable]
    tile_id = (image[face] * tiles_y + ty) * tiles_x + tx
    tile_id, order = torch.sort(tile_id, stable=True)
    tiles, counts = torch.unique_consecutive(tile_id, return_counts=True)
    starts = torch.cumsum(counts, 0) - counts
    return tiles, starts, counts, face[order]


def rasterize(mesh: ScreenMesh, size: tuple[int, int], k: int, radius: float, znear: float, tile: int, max_pairs: int) -> PixelFaces:
    """Finds the ``k`` best faces of every pixel (see the module docstring for the ranking).

    Args:
        mesh: flattened faces in screen space.
        size: (h, w) in pixels.
        k: faces kept per pixel.
        radius: blur radius in px; 0 keeps only faces covering the pixel centre.
        znear: near plane in metres (scales the depth key).
        tile: tile side in pixels.
        max_pairs: memory bound, (pixel, face) pairs per chunk.

    Returns:
        :class:`PixelFaces` of the pixels with at least one face.
    """
    h, w = size
    device = mesh.uv.device
    with torch.no_grad():
        xy = mesh.uv.detach()[mesh.face_verts]
        coef = _affine_coefficients(xy, mesh.inv_z.detach()[mesh.face_verts], mesh.face_valid, radius, znear)
        tiles_y, tiles_x = -(-h // tile), -(-w // tile)
        face_lo, face_hi = xy.amin(1), xy.amax(1)
        tiles, starts, counts, faces_sorted = _bin_faces(face_lo - radius, face_hi + radius, mesh.face_image, mesh.face_valid,
                                                         tiles_y, tiles_x, tile, coef[:, :, :3], 0.0 if k > 1 else 1.0)
        dummy = coef.shape[0] - 1
        scale = 1.0 / radius if radius > 0 else 1.0
        box = torch.cat([torch.stack([face_lo[:, 0], face_hi[:, 0], face_lo[:, 1], face_hi[:, 1]], 1),
                         face_lo.new_tensor([[0.0, -1.0, 0.0, -1.0]])])  # (G + 1, 4) face boxes in px, dummy empty
        table = torch.cat([coef.reshape(-1, 3 * _N_AFFINE), box], 1)
        order = torch.argsort(counts)
        tiles, starts, counts = tiles[order], starts[order], counts[order]
        ly, lx = torch.meshgrid(torch.arange(tile, device=device), torch.arange(tile, device=device), indexing="ij")
        ly, lx = ly.reshape(-1), lx.reshape(-1)
        out_pixel, out_face, out_key = [], [], []
        counts_list = counts.tolist()
        begin = 0
        while begin < len(counts_list):
            # Largest run of (count-sorted) tiles whose padded pair count fits the budget.
            end = begin + 1
            while end < len(counts_list) and (end + 1 - begin) * tile * tile * counts_list[end] <= max_pairs:
                end += 1
            kc = counts_list[end - 1]
            slot = torch.arange(kc, device=device)
            idx = starts[begin:end, None] + slot
            fid = torch.where(slot < counts[begin:end, None], faces_sorted[idx.clamp(max=len(faces_sorted) - 1)], dummy)
            t = tiles[begin:end]
            b, rest = torch.div(t, tiles_y * tiles_x, rounding_mode="floor"), t % (tiles_y * tiles_x)
            y0, x0 = torch.div(rest, tiles_x, rounding_mode="floor") * tile, (rest % tiles_x) * tile  # tile origins
            y, x = y0[:, None] + ly, x0[:, None] + lx
            pix = torch.stack([x, y, torch.ones_like(x)], 2).to(coef.dtype)  # (n, P, 3)
            rows = table[fid]  # (n, kc, 3 * _N_AFFINE + 4): affine coefficients, then the face box
            c = rows[..., :3 * _N_AFFINE].view(len(t), kc, 3, _N_AFFINE).permute(0, 2, 3, 1).reshape(len(t), 3, _N_AFFINE * kc)
            val = torch.bmm(pix, c).view(len(t), tile * tile, _N_AFFINE, kc)
            edge = torch.minimum(torch.minimum(val[:, :, 0], val[:, :, 1]), val[:, :, 2])
            if k > 1:
                # Outside a face, also bound by its box: edge lines alone reach far past thin corners.
                step = torch.arange(tile, device=device)
                bx = _box_distance((x0[:, None] + step).to(coef.dtype), rows[:, None, :, -4:-2], scale)
                by = _box_distance((y0[:, None] + step).to(coef.dtype), rows[:, None, :, -2:], scale)
                near = torch.minimum(by[:, :, None, :], bx[:, None, :, :]).view(len(t), tile * tile, kc)
                edge_or_box = torch.minimum(edge, near)
            else:
                edge_or_box = edge
            key = torch.where(edge >= 1.0, val[:, :, 3], edge_or_box)  # covering: (2, 3] by depth
            best, arg = key.topk(min(k, kc), dim=-1) if k > 1 else key.max(-1, keepdim=True)
            kk = best.shape[-1]
            keep = (best[..., 0] >= (0.0 if k > 1 else 2.0)) & (y < h) & (x < w)
            face = torch.where(best >= 0, torch.gather(fid[:, None, :].expand(-1, tile * tile, -1), 2, arg), -1)
            out_pixel.append(((b[:, None] * h + y) * w + x)[keep])
            out_face.append(torch.nn.functional.pad(face[keep], (0, k - kk), value=-1))
            out_key.append(best[..., 0][keep])
            begin = end
        if not out_pixel:
            empty = torch.zeros(0, dtype=torch.long, device=device)
            return PixelFaces(empty, empty.view(0, 1).expand(0, k), empty.bool())
        pixel = torch.cat(out_pixel)
        order = torch.argsort(pixel)
        return PixelFaces(pixel[order], torch.cat(out_face)[order], (torch.cat(out_key) >= 2.0)[order])
