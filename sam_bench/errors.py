"""Errors raised for bad user input, before any compute starts."""


class ConfigError(ValueError):
    """A config, recipe or data file is invalid; the message names the field, value and valid choices."""


class CheckpointError(ConfigError):
    """A checkpoint is missing, of an unknown format, or does not match the model."""
