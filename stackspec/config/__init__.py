"""The validated config model, one module per service; :mod:`stackspec.config.stack` composes them
and reads a stack file."""
