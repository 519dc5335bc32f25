"""One small lifecycle for every model a worker serves, and a per-process cache.

A model is built cheaply, `load()`ed once (weights read, moved to the device), then
`predict()`ed many times. The cache keys models by identity so a worker process loads each
at most once, under a lock, however many threads ask.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from typing import Any, Generic, Protocol, TypeVar

import torch

T_in = TypeVar("T_in")
T_out = TypeVar("T_out")


class InferenceModel(ABC, Generic[T_in, T_out]):
    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._loaded = False
        self._load_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self) -> None:
        with self._load_lock:
            if not self._loaded:
                self._load()
                self._loaded = True

    def predict(self, inputs: T_in) -> T_out:
        self.load()
        with torch.inference_mode():
            return self._predict(inputs)

    @abstractmethod
    def _load(self) -> None: ...

    @abstractmethod
    def _predict(self, inputs: T_in) -> T_out: ...


class Loadable(Protocol):
    def load(self) -> None: ...


M = TypeVar("M", bound=Loadable)


class ModelCache:
    def __init__(self) -> None:
        self._models: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, factory: Callable[[], M]) -> M:
        with self._lock:
            model = self._models.get(key)
            if model is None:
                model = factory()
                model.load()
                self._models[key] = model
            return model  # type: ignore[no-any-return]

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


model_cache = ModelCache()
