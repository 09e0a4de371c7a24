"""Fuzzing decode_image: any bytes give an RGB image or a user-facing ImageDecodeError, fast and in bounded memory."""

from __future__ import annotations

import io
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from engine import ImageDecodeError, decode_image
from tests.auxil.memory import peak_growth, reset_peak, resident

# Random bytes after a TIFF magic read as broken EXIF; PIL warns about each and then refuses or decodes.
pytestmark = pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")

FUZZ = settings.get_profile("fuzz")
DATA = Path(__file__).resolve().parent.parent / "data"
REAL = ("shoe.jpg", "shoe.webp", "rgba.png", "palette.gif", "gray16.png", "cmyk.jpg", "exif-rotated.jpg")
BLOBS = {name: (DATA / name).read_bytes() for name in REAL}
MAX_PIXELS = 40_000_000  # engine.preprocess.DEFAULT_MAX_PIXELS
MEMORY_LIMIT = 200_000_000
# What a user may be shown: whole sentences, never an exception's repr.
USER_TEXTS = ("The file is empty.", "The image is too large", "That file is not an image I can read",
              "The image is damaged or incomplete", "The image is too narrow")


def _decode(data: bytes, **kwargs: object) -> Image.Image | ImageDecodeError:
    """decode_image(data): RGB image or ImageDecodeError, within 1 s and 200 MB (Python heap and, on Linux, RSS)."""
    before = resident() if reset_peak() else None
    tracemalloc.start()
    start = time.perf_counter()
    try:
        outcome: Image.Image | ImageDecodeError = decode_image(data, **kwargs)  # type: ignore[arg-type]
    except ImageDecodeError as error:
        outcome = error
    finally:
        elapsed = time.perf_counter() - start
        python_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert elapsed < 1.0, f"decode took {elapsed:.2f} s on {len(data)} bytes"
    assert python_peak < MEMORY_LIMIT, f"Python heap peaked at {python_peak / 1e6:.0f} MB"
    after = resident()
    if before and after:  # pixel buffers are C allocations tracemalloc cannot see; the RSS peak does
        assert after[1] - before[0] < MEMORY_LIMIT, f"RSS peaked {(after[1] - before[0]) / 1e6:.0f} MB higher"
    if isinstance(outcome, ImageDecodeError):
        assert str(outcome).startswith(USER_TEXTS), repr(outcome)
    else:
        assert isinstance(outcome, Image.Image) and outcome.mode == "RGB"
        width, height = outcome.size
        assert width >= 1 and height >= 1 and width * height <= MAX_PIXELS
        outcome.getpixel((width - 1, height - 1))  # the pixels are there, not a lazy promise
    return outcome


# --- damaged real files ---------------------------------------------------------------------------

@settings(FUZZ, max_examples=200)
@given(name=st.sampled_from(REAL), data=st.data())
def test_truncated_real_images(name: str, data: st.DataObject) -> None:
    blob = BLOBS[name]
    _decode(blob[: data.draw(st.integers(0, len(blob) - 1), label="cut")])


@settings(FUZZ, max_examples=150)
@given(name=st.sampled_from(REAL), data=st.data())
def test_corrupted_real_images(name: str, data: st.DataObject) -> None:
    blob = bytearray(BLOBS[name])
    for _ in range(data.draw(st.integers(1, 8), label="flips")):
        blob[data.draw(st.integers(0, len(blob) - 1), label="at")] = data.draw(st.integers(0, 255), label="byte")
    _decode(bytes(blob))


def test_every_prefix_of_the_smallest_file() -> None:
    blob = BLOBS["shoe.webp"]
    for cut in range(len(blob)):
        _decode(blob[:cut])


# --- random bytes ---------------------------------------------------------------------------------

MAGIC = {
    "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "png": b"\x89PNG\r\n\x1a\n",
    "gif87": b"GIF87a",
    "gif89": b"GIF89a",
    "webp": b"RIFF\x00\x10\x00\x00WEBPVP8 ",
    "webp-lossless": b"RIFF\x00\x10\x00\x00WEBPVP8L",
    # Formats PIL also opens, which anyone can upload under a .jpg name.
    "tiff": b"II*\x00\x08\x00\x00\x00",
    "bmp": b"BM",
    "ico": b"\x00\x00\x01\x00",
    "psd": b"8BPS\x00\x01",
    "eps": b"%!PS-Adobe-3.0 EPSF-3.0\n",
    "jpeg2000": b"\x00\x00\x00\x0cjP  \r\n\x87\n",
    "qoi": b"qoif",
}


@settings(FUZZ, max_examples=100)
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _decode(data)


@settings(FUZZ, max_examples=200)
@given(magic=st.sampled_from(sorted(MAGIC)), body=st.binary(max_size=2048))
def test_random_bytes_after_a_valid_magic(magic: str, body: bytes) -> None:
    _decode(MAGIC[magic] + body)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + kind + payload + zlib.crc32(kind + payload).to_bytes(4, "big")


@settings(FUZZ, max_examples=100)
@given(width=st.integers(0, 2**31 - 1), height=st.integers(0, 2**31 - 1), depth=st.sampled_from([1, 2, 4, 8, 16, 3]),
       colour=st.sampled_from([0, 2, 3, 4, 6, 5]), body=st.binary(max_size=256))
def test_png_headers_claiming_any_size(width: int, height: int, depth: int, colour: int, body: bytes) -> None:
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([depth, colour, 0, 0, 0])
    _decode(MAGIC["png"] + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(body)) + _chunk(b"IEND", b""))


# --- polyglots, animations, strips ----------------------------------------------------------------

@pytest.mark.parametrize(("name", "tail"), [
    ("rgba.png", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 200 + b"PK\x05\x06" + b"\x00" * 18),
    ("rgba.png", b"<html><script>alert(document.cookie)</script></html>"),
    ("shoe.jpg", b"<?php system($_GET['c']); ?>"),
    ("palette.gif", b"\n//<script>alert(1)</script>"),
])
def test_polyglots_decode_as_the_image_they_start_with(name: str, tail: bytes) -> None:
    image = _decode(BLOBS[name] + tail)
    assert isinstance(image, Image.Image) and image.size == (60, 80)


def test_gif_header_with_javascript_is_refused() -> None:
    # The classic GIF/JS polyglot: "GIF89a" then a script where the screen descriptor should be.
    outcome = _decode(b"GIF89a/*\x00\x00*/=1;alert(document.domain);//" + b"\x00" * 16)
    assert isinstance(outcome, ImageDecodeError)


@pytest.fixture(scope="module")
def animated_gif() -> bytes:
    """A 64×64 GIF of 2000 frames, each one pixel different, so none merge when saved."""
    frames = []
    for index in range(2000):
        frame = Image.new("L", (64, 64), 40)
        frame.putpixel((index % 64, index // 64 % 64), 255)
        frames.append(frame)
    frames[0].putpixel((63, 63), 200)
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=20, loop=0)
    return out.getvalue()


def test_animated_gif_gives_its_first_frame_quickly(animated_gif: bytes) -> None:
    assert Image.open(io.BytesIO(animated_gif)).n_frames == 2000
    image = _decode(animated_gif)
    assert isinstance(image, Image.Image) and image.size == (64, 64)
    assert image.getpixel((63, 63)) == (200, 200, 200) and image.getpixel((1, 0)) == (40, 40, 40)


def test_gif_claiming_a_huge_screen_is_refused() -> None:
    tiny = io.BytesIO()
    Image.new("L", (8, 8), 0).save(tiny, "GIF")
    blob = bytearray(tiny.getvalue())
    blob[6:10] = (65535).to_bytes(2, "little") * 2  # logical screen 65535×65535, frame still 8×8
    outcome = _decode(bytes(blob))
    assert isinstance(outcome, ImageDecodeError) and "too large" in str(outcome)


def strip(width: int, height: int, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (180, 40, 40)).save(out, fmt)
    return out.getvalue()


STRIPS = [
    pytest.param(1, 100_000, "PNG", id="1x100000-png"),
    pytest.param(100_000, 1, "PNG", id="100000x1-png"),
    pytest.param(1, 65_500, "JPEG", id="1x65500-jpeg"),
    pytest.param(65_535, 1, "GIF", id="65535x1-gif"),
    pytest.param(16_383, 1, "WEBP", id="16383x1-webp"),
]


@pytest.mark.parametrize(("width", "height", "fmt"), STRIPS)
def test_extreme_strips_are_decoded_or_refused_quickly(width: int, height: int, fmt: str) -> None:
    _decode(strip(width, height, fmt))
    _decode(strip(width, height, fmt), draft_size=448)


def test_zero_bytes() -> None:
    outcome = _decode(b"")
    assert isinstance(outcome, ImageDecodeError) and str(outcome) == "The file is empty."


@pytest.mark.slow
@pytest.mark.parametrize(("width", "height", "fmt"), STRIPS)
def test_extreme_strips_through_the_real_preprocessing(engine, width: int, height: int, fmt: str) -> None:
    start = time.perf_counter()
    batch, errors = engine.prepare_bytes([strip(width, height, fmt), BLOBS["shoe.jpg"]])
    assert time.perf_counter() - start < 2.0
    assert errors[1] is None
    assert batch.shape[0] == 2 - (errors[0] is not None)
    assert batch.isfinite().all()


# --- valid images as large as the pixel limit allows ----------------------------------------------

LIMIT = 2_000_000  # a scaled-down pixel limit: the same code path as 40 MP, twenty times cheaper to run
# On top of what PIL's own decoder needs: room for one RGBA step and the RGB result (PIL keeps both at 4
# bytes a pixel). Extra full-size copies, as a 4 KB palette PNG of 40 MP once cost (690 MB), fail this.
BYTES_PER_PIXEL = 8


class Encoded:
    """An encoded test image that prints as its description, not as megabytes of bytes."""

    def __init__(self, blob: bytes, pixels: int, label: str) -> None:
        self.blob, self.pixels, self.label = blob, pixels, label

    def __repr__(self) -> str:
        return f"<{self.label}, {len(self.blob)} bytes>"


@st.composite
def images_near_the_limit(draw: st.DrawFn) -> Encoded:
    """(an encoded image of up to LIMIT pixels, flat or with a few shapes, in an awkward mode; its pixels)."""
    mode, fmt = draw(st.sampled_from([("RGBA", "PNG"), ("LA", "PNG"), ("P", "PNG"), ("P+transparency", "PNG"),
                                      ("P", "GIF"), ("I;16", "PNG"), ("L", "PNG"), ("RGB", "PNG"), ("1", "PNG"),
                                      ("CMYK", "JPEG"), ("RGB", "JPEG"), ("RGBA", "WEBP"), ("RGB", "TIFF")]))
    limit = 16_383 if fmt == "WEBP" else 65_500 if fmt == "JPEG" else 100_000
    width = draw(st.integers(max(1, LIMIT // limit + 1), min(limit, LIMIT)))
    height = min(limit, LIMIT // width - draw(st.integers(0, 3)))
    image = Image.new(mode.split("+")[0], (width, height), 1)
    for _ in range(draw(st.integers(0, 3))):
        x, y = draw(st.integers(0, width - 1)), draw(st.integers(0, height - 1))
        image.paste(draw(st.integers(0, 255)), (x, y, min(width, x + 500), min(height, y + 500)))
    out = io.BytesIO()
    extra = {"transparency": 1} if mode.endswith("transparency") else {}
    if fmt in ("JPEG", "TIFF", "WEBP") and draw(st.booleans()):
        exif = Image.Exif()
        exif[0x0112] = draw(st.sampled_from([3, 6, 8]))  # stored rotated: decode turns it upright
        extra["exif"] = exif.tobytes()
    image.save(out, fmt, **extra, **{"PNG": {"compress_level": 1}, "WEBP": {"method": 0}}.get(fmt, {}))
    label = f"{fmt} {mode} {width}×{height}" + (f" with {', '.join(extra)}" if extra else "")
    return Encoded(out.getvalue(), width * height, label)


@settings(FUZZ, max_examples=30)
@given(images_near_the_limit())
def test_images_at_the_pixel_limit_decode_in_memory_proportional_to_pixels(case: Encoded) -> None:
    decoder = _peak_growth(lambda: Image.open(io.BytesIO(case.blob)).load())
    ours = _peak_growth(lambda: _decode(case.blob, max_pixels=LIMIT))
    if decoder is None or ours is None:
        pytest.skip("no /proc/self/clear_refs here to measure the resident peak")
    per_pixel = (ours - decoder) / case.pixels
    assert ours < decoder + BYTES_PER_PIXEL * case.pixels + 8_000_000, f"{per_pixel:.1f} bytes a pixel over PIL's own"


def _peak_growth(work: Callable[[], object]) -> int | None:
    """How far above the RSS before it the resident peak rose while ``work`` ran; None where unmeasurable."""
    outcome, growth = peak_growth(work)
    if isinstance(outcome, ImageDecodeError):
        raise AssertionError(f"a valid image was refused: {outcome}")
    return growth
