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
# # Efficiency: single stage against two stages
#
# Latency per image (batch 1) against the number of hands in the image, size and cost, from
# `reports/bench/model.json` (`smhr bench model`). A single-stage network's cost should hardly grow
# with the number of hands (t8/t1 near 1); a two-stage pipeline runs its regressor once per hand.

# %% tags=["parameters"]
metrics_root = "metrics"
models_root = "models"
bench_json = "reports/bench/model.json"
out_root = "reports"

# %%
from smhr.report import efficiency, figures, tables, writers

data = efficiency.read_bench(bench_json)
if data is not None:
    summary = efficiency.summary(data)
    table = tables.efficiency_table(summary)
    writers.write_table(table, out_root, "efficiency")
    fig = figures.efficiency_figure(efficiency.latency(data), summary)
    figures.save_figure(fig, f"{out_root}/figures/efficiency_latency.png")
    display(writers.show(table))  # noqa: F821 - IPython's display
