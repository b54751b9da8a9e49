"""Colorization architectures: the embedded default net and DeOldify's generators."""
