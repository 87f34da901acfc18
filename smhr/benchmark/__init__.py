"""``smhr benchmark``: a model (or the mean-hand baseline) on every benchmark, through the official protocols.

Rooms: :mod:`~smhr.benchmark.config` (the ``benchmark`` section of ``params.yaml``),
:mod:`~smhr.benchmark.registry` (one small dataclass per benchmark: dataset, ground truth, protocol),
:mod:`~smhr.benchmark.predictors` (a network or the mean hand over a dataset, in batches, in the
images' own pixels), :mod:`~smhr.benchmark.predfiles` (predictions -> each protocol's prediction file),
:mod:`~smhr.benchmark.tables` (PCK and per-image CSV rows) and :mod:`~smhr.benchmark.run` (one benchmark
end to end: predict, write the prediction file, score it with :func:`smhr.eval.protocols.evaluate_files`,
write the outputs together).
"""
