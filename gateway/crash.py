"""A gateway thread that dies ends the process with a non-zero status, so a supervisor restarts it.

Left alone, a dead writer or network thread leaves a process that looks alive and ingests nothing: the broker
keeps the messages, but nobody is told. The default ``on_crash`` logs the error and calls ``os._exit``, because
``sys.exit`` in a thread ends only that thread; with acknowledgement after commit nothing stored is lost, and
whatever was not acknowledged is redelivered to the next run.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

EXIT_WORKER_DIED = 70  # EX_SOFTWARE (sysexits.h)
OnCrash = Callable[[str, BaseException], None]


def exit_process(thread: str, exc: BaseException) -> None:
    """Log that ``thread`` died of ``exc`` and end the process at once with ``EXIT_WORKER_DIED``."""
    log.critical("thread %s died (%s); exiting with status %d so that a supervisor restarts the process",
                 thread, type(exc).__name__, EXIT_WORKER_DIED, exc_info=exc)
    logging.shutdown()
    os._exit(EXIT_WORKER_DIED)


def guarded_thread(target: Callable[[], None], *, name: str, on_crash: OnCrash) -> threading.Thread:
    """A daemon thread running ``target``; if ``target`` raises, ``on_crash(name, exc)`` runs on that thread."""

    def run() -> None:
        try:
            target()
        except BaseException as exc:
            on_crash(name, exc)

    return threading.Thread(target=run, name=name, daemon=True)
