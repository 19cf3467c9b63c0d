"""Explicit bounds of the MoNO theorems (installs as ``mono.bounds``)."""
