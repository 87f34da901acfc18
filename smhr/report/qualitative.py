"""The qualitative grid: benchmark images picked by their per-sample error, truth beside prediction.

Picks come from ``<bench>_per_sample.csv`` (the failures with the worst PA-MPJPE, a few typical
ones around the median, the best), never chosen by eye. Each picked image is run through the
method's final checkpoint (letterboxed, with the image's ground-truth K mapped to the network
input, as the benchmark does) and drawn twice with :func:`smhr.viz.predictions.draw_predictions`:
the ground truth (meshes where the dataset has them, skeleton, box) and the prediction (rendered
meshes, skeleton, box, side and score), with a caption naming the pick and its error.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image, ImageDraw, ImageFont

from smhr.data.datasets.sample import Sample
from smhr.report.load import read_csv

log = logging.getLogger(__name__)

FINAL_STAGES: tuple[str, ...] = ("multi", "all")
"""A variant's final model: the last stage of its schedule (``multi``; ``all`` without stages)."""
CAPTION_PX = 14


@dataclass(frozen=True)
class Pick:
    """One picked benchmark image.

    Attributes:
        image: the per-sample CSV's ``image`` value.
        index: the image's index in the benchmark split.
        value: its error (the worst matched hand's, for multi-hand images), in the metric's unit;
            NaN when no hand of it was matched.
        tag: ``worst``, ``typical`` or ``best``.
        missed: labelled hands the method did not find (multi-hand images).
    """

    image: str
    index: int
    value: float
    tag: str
    missed: int = 0

    def caption(self, metric_label: str) -> str:
        """``2 hands missed, PA-MPJPE 12.3`` style text of the error."""
        parts = [f"{self.missed} hand{'s' * (self.missed != 1)} missed"] if self.missed else []
        if not np.isnan(self.value):
            parts.append(f"{metric_label} {self.value:.1f}")
        return ", ".join(parts) or "no error"


def image_index(image: object) -> int:
    """Index in the benchmark split of a per-sample ``image`` value (``"17"``, ``17`` or ``"17:1"``)."""
    return int(str(image).split(":")[0])


def pick_images(per_sample: pd.DataFrame, metric: str = "pa_mpjpe_mm", worst: int = 4, typical: int = 2,
                best: int = 2) -> list[Pick]:
    """Chooses images by their error: the ``worst`` highest, ``typical`` nearest the median, ``best`` lowest.

    Args:
        per_sample: a per-sample CSV (columns ``image`` and ``metric``; several rows per image are
            reduced to the worst one). Where a ``num_missed`` column exists (multi-hand images), an
            image with missed hands is worse than any without (the count first, then the error;
            its error is +inf when no hand of it was matched). Other rows with NaN are ignored.
        metric: the error column (higher is worse).
        worst, typical, best: how many of each.

    Returns:
        Distinct picks, worst first (decreasing error), then typical, then best (increasing);
        ties broken by image index, so the choice is deterministic.
    """
    if "image" not in per_sample.columns or (metric not in per_sample.columns and "num_missed" not in per_sample.columns):
        return []
    frame = per_sample[["image"]].copy()
    frame[metric] = per_sample[metric] if metric in per_sample.columns else np.nan  # no hand matched at all
    frame[metric] = pd.to_numeric(frame[metric], errors="coerce")
    missed = per_sample["num_missed"] if "num_missed" in per_sample.columns else pd.Series(0, index=frame.index)
    frame["missed"] = pd.to_numeric(missed, errors="coerce").fillna(0).astype(int)
    frame = frame[frame[metric].notna() | (frame["missed"] > 0)]
    frame = frame.assign(index=frame["image"].map(image_index))
    per_image = frame.groupby("index", sort=True).agg(
        image=("image", "first"), value=(metric, "max"), missed=("missed", "max")).reset_index()
    # worse = more hands missed, then a larger error (an image with nothing matched: error NaN -> +inf)
    per_image["rank_value"] = per_image["value"].fillna(np.inf)
    ranked = per_image.sort_values(["missed", "rank_value", "index"], ascending=[False, False, True], kind="mergesort")
    chosen: dict[int, Pick] = {}

    def take(rows: pd.DataFrame, tag: str, count: int) -> None:
        for rec in rows.itertuples(index=False):
            if count <= 0:
                return
            if rec.index not in chosen:
                chosen[rec.index] = Pick(str(rec.image), int(rec.index), float(rec.value), tag, int(rec.missed))
                count -= 1

    take(ranked, "worst", worst)
    clean = per_image[(per_image["missed"] == 0) & per_image["value"].notna()]
    median = float(clean["value"].median()) if len(clean) else 0.0
    near = clean.assign(gap=(clean["value"] - median).abs()).sort_values(["gap", "index"], kind="mergesort")
    take(near, "typical", typical)
    take(clean.sort_values(["value", "index"], kind="mergesort"), "best", best)
    return list(chosen.values())


def load_picks(path: str | Path, **kwargs) -> list[Pick]:
    """:func:`pick_images` on a per-sample CSV file (``[]`` and one log line if it does not exist)."""
    path = Path(path)
    if not path.is_file():
        log.warning("%s: no per-sample errors, nothing to pick", path)
        return []
    return pick_images(read_csv(path, ("image",)), **kwargs)


def open_benchmark(benchmark: str, root: str | Path) -> Sequence[Sample] | None:
    """The benchmark's evaluated split as Samples, or None (one log line) for a benchmark not drawn here."""
    if benchmark in ("synth", "freihand"):
        from smhr.data.datasets.freihand import FreiHAND

        return FreiHAND(root, split="evaluation")
    if benchmark == "composed":
        from smhr.data.datasets.composed import ComposedDataset

        return ComposedDataset(root, split="benchmark")
    log.warning("benchmark %s: the qualitative grid draws synth, freihand and composed only; left out", benchmark)
    return None


def final_checkpoint(models_root: str | Path, method: str, seed: int) -> Path | None:
    """``<models_root>/<method>/seed<S>/<multi|all>/model.pt``, the first that exists, or None (one log line)."""
    for stage in FINAL_STAGES:
        path = Path(models_root) / method / f"seed{seed}" / stage / "model.pt"
        if path.is_file():
            return path
    log.warning("%s/%s/seed%d: no final checkpoint (%s); no qualitative grid for it", models_root, method, seed,
                " or ".join(f"{s}/model.pt" for s in FINAL_STAGES))
    return None


def camera_used(sample: Sample, gt_camera: bool, input_size: int) -> np.ndarray:
    """(3, 3) the camera the benchmark decoded ``sample`` with, in the sample's pixels.

    ``gt_camera`` (single-camera benchmarks): the first hand's labelled K; else (composed images)
    the model's default camera of its input, mapped back through the letterbox
    (:class:`smhr.benchmark.predictors.NetworkPredictor` applies the same rule).
    """
    from smhr.model.camera import default_intrinsics
    from smhr.predict.letterbox import Letterbox

    if gt_camera and sample.hands:
        return np.asarray(sample.hands[0].K, np.float64)
    default = default_intrinsics(input_size, 1, torch.float64)[0].numpy()
    return Letterbox.fit(sample.image.shape[:2], input_size).K_to_source(default)


def _caption(panel: np.ndarray, text: str) -> np.ndarray:
    strip = Image.new("RGB", (panel.shape[1], CAPTION_PX), (0, 0, 0))
    ImageDraw.Draw(strip).text((3, 1), text, fill=(255, 255, 255), font=ImageFont.load_default())
    return np.concatenate([np.asarray(strip), panel], axis=0)


def _fit(panel: np.ndarray, cell: int) -> np.ndarray:
    h, w = panel.shape[:2]
    s = cell / max(h, w)
    small = np.asarray(Image.fromarray(panel).resize((max(1, round(w * s)), max(1, round(h * s))), Image.BILINEAR))
    out = np.full((cell, cell, 3), 24, np.uint8)
    y, x = (cell - small.shape[0]) // 2, (cell - small.shape[1]) // 2
    out[y: y + small.shape[0], x: x + small.shape[1]] = small
    return out


def draw_pair(sample: Sample, predicted: list, K: np.ndarray, faces: dict[str, np.ndarray], caption: str,
              cell: int = 256) -> np.ndarray:
    """Ground truth (left) beside the prediction (right), one caption above both.

    Args:
        sample: the image and its ground-truth hands (each drawn through its own K).
        predicted: the predicted hands (:class:`~smhr.model.outputs.PredictedHand`, sample pixels).
        K: (3, 3) camera of the predictions.
        faces: side -> (F, 3) outward faces of that side's hand model.
        caption: text above the pair.
        cell: side of each panel, pixels.

    Returns:
        (CAPTION_PX + cell, 2 * cell, 3) uint8.
    """
    from smhr.viz.predictions import OverlayHand, draw_predictions

    truth = sample.image
    for hand in sample.hands:  # one K per hand (composed images paste hands from several cameras)
        n_verts = int(faces[hand.side].max()) + 1  # a mesh of another hand model (real MANO's 778) is not drawn
        verts = hand.verts3d if hand.verts3d is not None and len(hand.verts3d) == n_verts else None
        truth = draw_predictions(truth, [OverlayHand(hand.side, 1.0, hand.bbox, hand.joints2d, verts,
                                                     faces[hand.side] if verts is not None else None)], hand.K)
    hands = [OverlayHand(h.side, h.score, h.box, h.joints2d, h.vertices, faces[h.side]) for h in predicted]
    pred = draw_predictions(sample.image, hands, K)
    return _caption(np.concatenate([_fit(truth, cell), _fit(pred, cell)], axis=1), caption)


def qualitative_grid(checkpoint: str | Path, dataset: Sequence[Sample], picks: list[Pick], metric_label: str,
                     cell: int = 256, columns: int = 2, gt_camera: bool = True) -> np.ndarray:
    """Runs ``checkpoint`` on the picked images and draws ``truth | prediction`` pairs into one grid.

    Args:
        checkpoint: the method's final ``model.pt``.
        dataset: the benchmark split the per-sample CSV indexes.
        picks: :func:`pick_images` output.
        metric_label: the error's name and unit for the captions, e.g. ``"PA-MPJPE [mm]"``.
        cell: panel side in pixels.
        columns: pairs per grid row.
        gt_camera: decode with the labelled K, as the benchmark did
            (:attr:`smhr.benchmark.registry.Benchmark.gt_camera`): the predictions drawn are the
            ones it scored (the model's threshold and top-K, through the same predictor).

    Returns:
        (rows * (CAPTION_PX + cell), columns * 2 * cell, 3) uint8; empty picks give a (0, 0, 3) array.
    """
    from smhr.benchmark.predictors import NetworkPredictor
    from smhr.model.checkpoint import load_checkpoint
    from smhr.viz.mesh import outward_faces

    if not picks:
        return np.zeros((0, 0, 3), np.uint8)
    model, _ = load_checkpoint(checkpoint, map_location="cpu")
    predictor = NetworkPredictor(model, Path(checkpoint))
    faces = {hm.side: outward_faces(hm.v_template.cpu().numpy(), hm.faces.cpu().numpy()) for hm in model.hand_models}
    pairs = []
    for rank, pick in enumerate(picks):
        sample = dataset[pick.index]
        hands = predictor([sample], gt_camera)[0].hands
        K = camera_used(sample, gt_camera, predictor.size)
        text = f"{pick.tag} #{rank + 1}: image {pick.image}, {pick.caption(metric_label)} (truth | prediction)"
        pairs.append(draw_pair(sample, hands, K, faces, text, cell))
    rows = -(-len(pairs) // columns)
    grid = np.zeros((rows * pairs[0].shape[0], columns * pairs[0].shape[1], 3), np.uint8)
    for k, pair in enumerate(pairs):
        r, c = divmod(k, columns)
        grid[r * pair.shape[0]: (r + 1) * pair.shape[0], c * pair.shape[1]: (c + 1) * pair.shape[1]] = pair
    return grid
