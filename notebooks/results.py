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
# # Results: every method on every benchmark
#
# Mean ± std over seeds of the headline metrics, read from `metrics/<method>/seed<S>/<benchmark>.json`
# (written by `smhr benchmark`), and the PCK curves beside them. Computation lives in `smhr.report`.

# %% tags=["parameters"]
metrics_root = "metrics"
models_root = "models"
bench_json = "reports/bench/model.json"
out_root = "reports"

# %%
from smhr.report import aggregate, figures, load, tables, writers

frame = load.load_metrics(metrics_root)
summary = aggregate.aggregate(frame)
table = tables.results_table(summary)
writers.write_table(table, out_root, "results")
writers.show(table)

# %% [markdown]
# PCK of the 3D joints against the threshold (mean over seeds; `n` seeds per method).

# %%
pck = load.load_pck(metrics_root)
fig = figures.pck_figure(pck)
figures.save_figure(fig, f"{out_root}/figures/results_pck.png")
