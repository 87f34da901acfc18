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
# # Ablations: each variant against the main model
#
# Per seed, variant minus `main` (same seed), then mean ± std over the paired seeds; the CSV adds the
# 95 % t-interval. Negative deltas of errors (mm, px) and positive deltas of scores are improvements.

# %% tags=["parameters"]
metrics_root = "metrics"
models_root = "models"
bench_json = "reports/bench/model.json"
out_root = "reports"
reference = "main"
plot_metric = "pa_mpjpe_mm"

# %%
from smhr.report import aggregate, figures, load, tables, writers

frame = load.load_metrics(metrics_root)
deltas = aggregate.paired_deltas(frame, reference=reference)
table = tables.ablation_table(deltas, aggregate.aggregate(frame), reference=reference)
writers.write_table(table, out_root, "ablations")
writers.show(table)

# %%
fig = figures.ablation_figure(deltas, metric=plot_metric)
figures.save_figure(fig, f"{out_root}/figures/ablations_{plot_metric}.png")
