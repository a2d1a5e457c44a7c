"""Ctrl-C during a search, stopped where it cannot harm the study.

Python raises ``KeyboardInterrupt`` wherever the main thread happens to be. Inside a trial's fits that is
what one wants: Optuna catches it, marks the trial failed and re-raises. Inside Optuna's own bookkeeping
(telling the storage a trial's result, asking for the next one) it is not: Optuna 5.0's ``_run_trial``
then fails with ``UnboundLocalError`` and leaves the trial "running", or SQLAlchemy finds its database
closed mid-statement. And scikit-learn's ``MLPClassifier`` catches ``KeyboardInterrupt`` itself, warns
"Training interrupted by user." and returns a half-trained model, so the search would go on.

:class:`Interrupt` replaces the SIGINT handler during a search: inside :meth:`Interrupt.fitting` the signal
interrupts at once (and again when the fit returns, should the fit have swallowed it); elsewhere it is
noted and raised at the next safe point: the start of the next fit, or the end of the current trial
(:meth:`Interrupt.after_trial`, an Optuna callback). A second Ctrl-C before then interrupts at once.
"""

from __future__ import annotations

import signal
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any


class Interrupt:
    """A SIGINT handler for the duration of a ``with`` block (the main thread only: elsewhere Python
    delivers no signal, and the block changes nothing)."""

    def __init__(self) -> None:
        self.pending = False
        self._fitting = 0
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> Interrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False
        if kind is None and self.pending:  # noted after the last safe point: still a stop, not a result
            raise KeyboardInterrupt

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        again = self.pending
        self.pending = True
        if self._fitting or again:
            raise KeyboardInterrupt

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if Ctrl-C was pressed since the block began."""
        if self.pending:
            raise KeyboardInterrupt

    @contextmanager
    def fitting(self) -> Iterator[None]:
        """A trial's fit: Ctrl-C interrupts it at once, and is raised when it returns if it swallowed it."""
        self.check()
        self._fitting += 1
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Training interrupted by user")  # MLP: raised below
                yield
        finally:
            self._fitting -= 1
        self.check()

    def after_trial(self, study: Any, trial: Any) -> None:
        """An Optuna callback: the trial is stored, so a Ctrl-C noted meanwhile stops the search here."""
        self.check()
