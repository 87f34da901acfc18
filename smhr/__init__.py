"""smhr: single-stage multi-hand 3D hand mesh reconstruction from one RGB image.

A reproducible benchmark and study of the SMHR method (Ren, Zhu, Zhang, arXiv 2204.08154).
Subpackages: ``hand`` (hand model), ``geometry``, ``render`` (differentiable renderer),
``data`` (datasets and the sample contract), ``eval`` (official metrics), ``viz``.
"""

__version__ = "0.1.0"
