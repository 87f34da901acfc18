"""User-facing errors. Every message names the offending file (or value) and the fix."""

from __future__ import annotations


class SmhrError(Exception):
    """Base class of errors that the CLI prints as one line, without a traceback."""


class ModelFileError(SmhrError, ValueError):
    """A hand-model file is missing, unreadable, or not a MANO-format hand model."""


class DatasetError(SmhrError, ValueError):
    """A dataset file is missing, unreadable or malformed."""


class ConfigError(SmhrError, ValueError):
    """A ``params.yaml`` section is missing, has unknown keys, or has a value of the wrong type."""


class PredictionError(SmhrError, ValueError):
    """Predictions handed to an evaluation protocol have the wrong count, shape, axes or NaN."""


class UsageError(SmhrError, ValueError):
    """A command-line option has a value that cannot work (an output path that cannot be written,
    a count out of range); the CLI exits with status 2, like argparse."""


class TrainingDivergedError(SmhrError, FloatingPointError):
    """A training step produced a non-finite loss or gradient; the weights were not updated with it."""
