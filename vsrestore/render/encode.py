"""Encoder settings for ffmpeg, as a typed dataclass with codec presets a restorer expects."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

__all__ = ["Codec", "EncodeSettings"]


class Codec(StrEnum):
    """Video codecs: X264/X265 for delivery, FFV1 for lossless archiving, PRORES for editing."""

    X264 = "x264"
    X265 = "x265"
    FFV1 = "ffv1"
    PRORES = "prores"


_FORMAT_BY_SUFFIX = {".mkv": "matroska", ".mp4": "mp4", ".mov": "mov", ".avi": "avi", ".webm": "webm"}
#: how the audio is written, by container: Matroska takes any codec (copied as it is); MP4/MOV need AAC (a WAV's
#: PCM cannot go into MP4 with ffmpeg before 6.1), WebM needs Opus, AVI gets PCM. Works with ffmpeg 5.1 or later.
_AUDIO_BY_SUFFIX: dict[str, tuple[str, ...]] = {
    ".mkv": ("-c:a", "copy"),
    ".mp4": ("-c:a", "aac", "-b:a", "192k"),
    ".mov": ("-c:a", "aac", "-b:a", "192k"),
    ".webm": ("-c:a", "libopus", "-b:a", "128k"),
    ".avi": ("-c:a", "pcm_s16le"),
}


@dataclass(frozen=True)
class EncodeSettings:
    """How ffmpeg encodes the video.

    :param codec: see :class:`Codec` (default x264).
    :param crf: quality for x264/x265 (lower is better; default 16 for x264, 18 for x265); ignored otherwise.
    :param preset: x264/x265 speed preset (default ``"medium"``).
    :param pix_fmt: output pixel format (default: as the script gives it).
    :param audio: a media file whose first audio stream goes into the output (None: no audio); copied into
        .mkv, AAC in .mp4/.mov, Opus in .webm, PCM in .avi (see :meth:`audio_args`).
    :param audio_start: where the audio starts in ``audio``, seconds (a render from frame N of a film as long as
        its transfer: N / fps).
    :param extra: more ffmpeg output options, appended as they are.
    """

    codec: Codec = Codec.X264
    crf: int | None = None
    preset: str | None = None
    pix_fmt: str | None = None
    audio: Path | None = None
    extra: tuple[str, ...] = ()
    audio_start: float = 0.0

    def __post_init__(self) -> None:
        if self.crf is not None and not 0 <= self.crf <= 51:
            raise ValueError(f"crf={self.crf} is out of range; use 0 (lossless) .. 51 (worst), e.g. 16")
        if self.audio is not None and not Path(self.audio).is_file():
            raise ValueError(f"audio source {str(self.audio)!r} does not exist")

    def video_args(self) -> list[str]:
        c = Codec(self.codec)
        if c == Codec.X264:
            args = ["-c:v", "libx264", "-crf", str(16 if self.crf is None else self.crf)]
            args += ["-preset", self.preset or "medium"]
        elif c == Codec.X265:
            args = ["-c:v", "libx265", "-crf", str(18 if self.crf is None else self.crf)]
            args += ["-preset", self.preset or "medium", "-x265-params", "log-level=error"]
        elif c == Codec.FFV1:
            args = ["-c:v", "ffv1", "-level", "3", "-g", "1", "-slicecrc", "1"]
        else:
            args = ["-c:v", "prores_ks", "-profile:v", "3"]
        if self.pix_fmt:
            args += ["-pix_fmt", self.pix_fmt]
        return args

    def output_args(self, output: Path) -> list[str]:
        """Everything after the inputs: maps, codecs, the container format (from the final name)."""
        fmt = _FORMAT_BY_SUFFIX.get(output.suffix.lower())
        if fmt is None:
            raise ValueError(
                f"output {str(output)!r}: unknown container {output.suffix!r}; use one of "
                f"{', '.join(sorted(_FORMAT_BY_SUFFIX))}"
            )
        args = ["-map", "0:v:0"]
        if self.audio is not None:
            args += ["-map", "1:a:0?", *self.audio_args(output), "-shortest"]
        args += self.video_args() + list(self.extra)
        return args + ["-f", fmt]

    def audio_input_args(self) -> list[str]:
        """ffmpeg's input options for the audio source (none without audio)."""
        if self.audio is None:
            return []
        seek = ["-ss", f"{self.audio_start:.6f}"] if self.audio_start > 0 else []
        return [*seek, "-i", str(self.audio)]

    @staticmethod
    def audio_args(output: Path) -> list[str]:
        """The audio codec options for the output's container."""
        return list(_AUDIO_BY_SUFFIX.get(output.suffix.lower(), ("-c:a", "copy")))
