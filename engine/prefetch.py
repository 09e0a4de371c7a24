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
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from .preprocess import ImageDecodeError

if TYPE_CHECKING:
    from .runtime import EmbeddingEngine

Item = TypeVar("Item")
# Per chunk: its items, the preprocessed batch of those that decoded (the engine's kind: a torch tensor or a
# numpy array; None when none did), and per item its decode error.
Decoded = tuple[list[Item], Any, list[ImageDecodeError | None]]


def decode_ahead(engine: EmbeddingEngine, chunks: Iterable[Sequence[Item]], data: Callable[[Item], bytes], *,
                 workers: int | None = None) -> Iterator[Decoded]:
    """Per chunk: its items, the preprocessed batch of those that decoded, and per item its decode error.

    The next chunk is decoding while the caller embeds the current one. ``workers`` defaults to the engine's
    decode threads on the PIL path (they run no torch ops, so they do not oversubscribe the model's threads) and
    to one on the tensor path (the GPU decodes; one thread feeds it).
    """
    tensor_path = engine.decode_path == "tensor"
    stream = _side_stream(engine)
    threads = workers or (1 if tensor_path else engine.decode_threads)

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
                    import torch

                    batch.record_stream(torch.cuda.current_stream(stream.device))
                return chunk, batch, errors
            outcomes = [future.result() for future in pending]
            arrays = [outcome for outcome in outcomes if isinstance(outcome, np.ndarray)]
            batch = engine.stack_arrays(arrays) if arrays else None
            return chunk, batch, [outcome if isinstance(outcome, ImageDecodeError) else None for outcome in outcomes]

        ahead: deque = deque()
        for chunk in chunks:
            ahead.append(submit(chunk))
            if len(ahead) > 1:
                yield collect(*ahead.popleft())
        while ahead:
            yield collect(*ahead.popleft())


def _side_stream(engine: EmbeddingEngine) -> Any:
    """A CUDA stream of its own for the tensor path's decoding on a GPU; None elsewhere (and no torch import)."""
    device = getattr(engine, "device", None)  # a torch.device on the torch runtime
    if engine.runtime != "torch" or getattr(device, "type", None) != "cuda":
        return None
    import torch

    return torch.cuda.Stream(device)


def _array_or_error(engine: EmbeddingEngine, blob: bytes) -> np.ndarray | ImageDecodeError:
    try:
        return engine.prepare_array(blob)
    except ImageDecodeError as error:
        return error


def _decode_on_stream(engine: EmbeddingEngine, blobs: list[bytes],
                      stream: Any) -> tuple[Any, list[ImageDecodeError | None]]:
    """One batch through the tensor decoder; on CUDA on its own stream, finished before returning."""
    if stream is not None:
        import torch

        context: contextlib.AbstractContextManager = torch.cuda.stream(stream)
    else:
        context = contextlib.nullcontext()
    with context:
        batch, errors = engine.prepare_bytes(blobs)
        if stream is not None:
            stream.synchronize()
    return batch, errors
