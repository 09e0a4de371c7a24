"""The tensor decode path (nvJPEG on CUDA, run here on the CPU) agrees with PIL and falls back safely."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine import ImageDecodeError, decode_image
from engine.tensor_decode import TensorPreprocess, decode_batch, jpeg_fast_path_ok

DEMO = Path(__file__).resolve().parent.parent.parent / "demo" / "images"


@pytest.fixture(scope="module")
def preprocess(engine) -> TensorPreprocess:
    return TensorPreprocess.from_data_config(engine.data_config)


def _big_jpeg(path: Path) -> bytes:
    image = Image.open(path).convert("RGB").resize((540, 720), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.mark.slow
def test_tensor_path_vectors_agree_with_pil(engine, preprocess):
    blobs = [path.read_bytes() for path in sorted(DEMO.glob("*.jpg"))[:12]]
    blobs += [_big_jpeg(path) for path in sorted(DEMO.glob("*.jpg"))[12:16]]
    reference = engine.preprocess([decode_image(blob) for blob in blobs])
    batch, errors = decode_batch(blobs, preprocess, device="cpu")
    assert errors == [None] * len(blobs) and batch.shape == reference.shape
    cosines = (engine.embed_tensors(reference) * engine.embed_tensors(batch)).sum(axis=1)
    assert cosines.min() > 0.98, cosines


def test_numpy_preprocessing_matches_timm_transform(engine, preprocess, test_data):
    image = decode_image((test_data / "shoe.jpg").read_bytes())
    expected = engine._transform(image).permute(1, 2, 0).numpy()
    np.testing.assert_allclose(preprocess.pil_to_array(image), expected, atol=1e-5)


def test_awkward_files_fall_back_to_pil_or_fail_alone(preprocess, test_data):
    names = ["shoe.jpg", "rgba.png", "cmyk.jpg", "exif-rotated.jpg", "truncated.jpg", "not-an-image.txt", "bomb.png"]
    blobs = [(test_data / name).read_bytes() for name in names]
    assert [jpeg_fast_path_ok(blob) for blob in blobs] == [True, False, False, False, True, False, False]
    batch, errors = decode_batch(blobs, preprocess, device=torch.device("cpu"))
    assert [error is None for error in errors] == [True, True, True, True, False, False, False]
    assert all(isinstance(error, ImageDecodeError) for error in errors[4:])
    assert batch.shape == (4, 3, *preprocess.size) and batch.is_contiguous(memory_format=torch.channels_last)
    # The sideways-stored JPEG is turned upright exactly as the PIL path does it.
    upright = torch.from_numpy(preprocess.pil_to_array(decode_image(blobs[3]))).permute(2, 0, 1)
    stored = Image.open(io.BytesIO(blobs[3])).convert("RGB")  # as stored, EXIF orientation ignored
    sideways = torch.from_numpy(preprocess.pil_to_array(stored)).permute(2, 0, 1)
    assert (batch[3] - upright).abs().mean() < 0.01 < (batch[3] - sideways).abs().mean()


def test_all_bad_gives_an_empty_batch(preprocess):
    batch, errors = decode_batch([b"", b"nope"], preprocess, device="cpu")
    assert batch.shape == (0, 3, *preprocess.size) and all(isinstance(e, ImageDecodeError) for e in errors)


def test_oversized_jpeg_takes_the_careful_path(test_data):
    blob = (test_data / "shoe.jpg").read_bytes()
    assert not jpeg_fast_path_ok(blob, max_pixels=60 * 80 - 1)


def test_draft_decoding_keeps_at_least_the_asked_size():
    out = io.BytesIO()
    Image.new("RGB", (1080, 1440), (120, 30, 200)).save(out, "JPEG")
    assert decode_image(out.getvalue(), draft_size=448).size == (540, 720)
    assert decode_image(out.getvalue()).size == (1080, 1440)


def test_engine_prepare_bytes_reports_each_blobs_fate(engine, test_data):
    blobs = [(test_data / "shoe.jpg").read_bytes(), b"junk", (test_data / "rgba.png").read_bytes()]
    batch, errors = engine.prepare_bytes(blobs)
    assert batch.shape[0] == 2 and errors[0] is None and isinstance(errors[1], ImageDecodeError)
    assert engine.decode_path == "pil"  # CPU default: PIL (measured faster there); CUDA takes the tensor path
