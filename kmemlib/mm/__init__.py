"""The model of the kernel's mm/: one module per kernel file or subsystem. Imports nothing of kmemlib but
:mod:`kmemlib.errors`."""
