"""Thin commands, one module per noun; all logic lives below `steward.cli`."""
