"""Reviewing results without a GUI: side-by-side pictures of chosen frames before and after."""

from .compare import compare_png, frame_rgb, matching_frame

__all__ = ["compare_png", "frame_rgb", "matching_frame"]
