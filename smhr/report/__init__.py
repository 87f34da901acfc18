"""The study's reports: metrics files -> tidy frames -> tables and figures (computation only).

Rooms, one concern each:

* :mod:`~smhr.report.load`: the metrics tree (``metrics/<method>/seed<S>/<bench>.json`` and the
  ``_pck.csv`` / ``_per_sample.csv`` beside it) as tidy pandas frames;
* :mod:`~smhr.report.aggregate`: mean +- std over seeds, paired deltas against a reference;
* :mod:`~smhr.report.metrics`: which metrics are headline metrics, their labels, units and formats;
* :mod:`~smhr.report.tables`: the results, ablation and efficiency tables;
* :mod:`~smhr.report.writers`: CSV, Markdown and LaTeX (booktabs) files;
* :mod:`~smhr.report.figures`: PCK, ablation and efficiency figures as byte-stable PNGs;
* :mod:`~smhr.report.efficiency`: ``reports/bench/model.json`` as a tidy frame;
* :mod:`~smhr.report.qualitative`: picking images by their per-sample error and drawing them;
* :mod:`~smhr.report.notebook`: executing a jupytext notebook with papermill (``smhr report``).

The notebooks in ``notebooks/`` only call these functions, show the results and save them.
"""
