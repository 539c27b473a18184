"""Composition root: settings, command line, process wiring and the embedded demo."""
