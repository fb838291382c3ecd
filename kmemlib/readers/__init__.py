"""Readers and writers of the kernel's own text (/proc, /sys) and the shipped snapshots of it."""
