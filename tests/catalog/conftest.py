"""Catalog test fixtures: feed files written on the fly and a real local image server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from catalog_helpers import ImageServer, serving


@pytest.fixture
def write_feed(tmp_path: Path) -> Callable[..., Path]:
    """Write feed text (or bytes) as given, byte for byte, so line numbers in the test are the file's."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return write


@pytest.fixture
async def image_server() -> AsyncIterator[ImageServer]:
    images = ImageServer(cap=4096)
    async with serving(images.handle) as images.server:
        try:
            yield images
        finally:
            images.release.set()
