"""Omron FINS: frames (bytes, no I/O) and commands."""
