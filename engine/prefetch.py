"""Decoding one batch ahead of the model, so decoding overlaps the forward pass.

On the PIL path each image decodes on a thread pool; on the tensor path (CUDA) each batch decodes with
nvJPEG on a side stream of its own. Callers see batches ready for :meth:`Engine.embed_tensors`; streams,
pinned memory and worker threads stay in here.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import torch

from .embed import Engine
from .preprocess import ImageDecodeError

Item = TypeVar("Item")
Decoded = tuple[list[Item], torch.Tensor, list[ImageDecodeError | None]]


def decode_ahead(engine: Engine, chunks: Iterable[Sequence[Item]], data: Callable[[Item], bytes], *,
                 workers: int | None = None) -> Iterator[Decoded]:
    """Per chunk: its items, the preprocessed batch of those that decoded, and per item its decode error.

    The next chunk is decoding while the caller embeds the current one. ``workers`` defaults to the torch
    thread count on the PIL path (decode threads run no torch ops, so they do not oversubscribe the model's
    OpenMP team) and to one on the tensor path (the GPU decodes; one thread feeds it).
    """
    tensor_path = engine.decode_path == "tensor"
    stream = torch.cuda.Stream(engine.device) if engine.device.type == "cuda" else None
    threads = workers or (1 if tensor_path else max(1, torch.get_num_threads()))

    with ThreadPoolExecutor(threads, thread_name_prefix="decode") as pool:
        def submit(chunk: Sequence[Item]) -> tuple[list[Item], Future | list[Future]]:
            blobs = [data(item) for item in chunk]
            if tensor_path:
                return list(chunk), pool.submit(_decode_on_stream, engine, blobs, stream)
            return list(chunk), [pool.submit(_array_or_error, engine, blob) for blob in blobs]

        def collect(chunk: list[Item], pending: Future | list[Future]) -> Decoded:
            if isinstance(pending, Future):  # the tensor path: one future for the whole batch
                batch, errors = pending.result()
                if stream is not None:  # made on the side stream, used on the main one: keep its memory alive
                    batch.record_stream(torch.cuda.current_stream(engine.device))
                return chunk, batch, errors
            outcomes = [future.result() for future in pending]
            arrays = [outcome for outcome in outcomes if isinstance(outcome, np.ndarray)]
            batch = engine.stack_arrays(arrays) if arrays else torch.zeros(0)
            return chunk, batch, [outcome if isinstance(outcome, ImageDecodeError) else None for outcome in outcomes]

        ahead: deque = deque()
        for chunk in chunks:
            ahead.append(submit(chunk))
            if len(ahead) > 1:
                yield collect(*ahead.popleft())
        while ahead:
            yield collect(*ahead.popleft())


def _array_or_error(engine: Engine, blob: bytes) -> np.ndarray | ImageDecodeError:
    try:
        return engine.prepare_array(blob)
    except ImageDecodeError as error:
        return error


def _decode_on_stream(engine: Engine, blobs: list[bytes], stream: torch.cuda.Stream | None
                      ) -> tuple[torch.Tensor, list[ImageDecodeError | None]]:
    """One batch through the tensor decoder; on CUDA on its own stream, finished before returning."""
    with torch.cuda.stream(stream) if stream is not None else contextlib.nullcontext():
        batch, errors = engine.prepare_bytes(blobs)
        if stream is not None:
            stream.synchronize()
    return batch, errors
