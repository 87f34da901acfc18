"""The network: backbone, neck, heads, decoding, ``build_model(cfg)``, two-stage baseline, export.

Everything a decoder returns is a :class:`~smhr.model.outputs.HandPredictions`.
"""
