# ---
# jupyter:
#   jupytext:
#     formats: py:percent,ipynb
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Qualitative: ground truth beside the prediction, failures included
#
# Images picked by their per-sample PA-MPJPE (`<benchmark>_per_sample.csv`): the worst ones, a few
# around the median and the best, then run through the method's final checkpoint. Left of each pair:
# the ground truth; right: the predicted meshes, keypoints, boxes, sides and scores.

# %% tags=["parameters"]
metrics_root = "metrics"
models_root = "models"
bench_json = "reports/bench/model.json"
out_root = "reports"
method = "main"
seed = 0
dataset_roots = {"synth": "data/synth/freihand", "composed": "data/composed"}
worst = 4
typical = 2
best = 2

# %%
from IPython.display import Image, display

from smhr.data.datasets.imageio import write_png
from smhr.benchmark.registry import BENCHMARKS
from smhr.report import load, qualitative
from smhr.report.metrics import label

checkpoint = qualitative.final_checkpoint(models_root, method, seed)
for benchmark, root in dataset_roots.items():
    picks = qualitative.load_picks(load.per_sample_path(metrics_root, method, seed, benchmark),
                                   worst=worst, typical=typical, best=best)
    dataset = qualitative.open_benchmark(benchmark, root) if picks and checkpoint else None
    if dataset is None:
        continue
    grid = qualitative.qualitative_grid(checkpoint, dataset, picks, label("pa_mpjpe_mm"),
                                        gt_camera=BENCHMARKS[benchmark].gt_camera)
    path = f"{out_root}/figures/qualitative_{benchmark}.png"
    write_png(path, grid)
    display(Image(filename=path))
