"""Progress people can follow: a live bar on a terminal (rich), plain lines in a CI log.

A long run (`drift` over a large spec, `contract`, a proxy taking traffic)
says how far it is and how many findings it has so far. On a terminal that
is one live line redrawn in place; anywhere else (a CI log, a pipe) it is a
plain line now and then, which a log keeps readable.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import IO, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

#: seconds between two plain lines
PLAIN_EVERY = 5.0


class Reporter:
    """`with Reporter("drift", total) as progress: progress.update(done, findings, what)`."""

    def __init__(self, title: str, total: int | None = None, stream: IO[str] | None = None) -> None:
        self.title = title
        self.total = total
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self._last = 0.0
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> Reporter:
        if self.live:
            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[findings]} finding(s)  {task.fields[what]}"),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.title, total=self.total, findings=0, what="")
        return self

    def update(self, done: int, findings: int, what: str = "") -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, findings=findings, what=what[:60])
            return
        now = time.monotonic()
        if now - self._last >= PLAIN_EVERY or (self.total is not None and done == self.total):
            self._last = now
            of = f"/{self.total}" if self.total is not None else ""
            print(f"{self.title}: {done}{of} done, {findings} finding(s) so far  {what}", file=self.stream, flush=True)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()


class PytestProgress:
    """A pytest plugin reporting a contract run's progress: tests done, contracts broken so far."""

    def __init__(self, title: str, stream: IO[str] | None = None) -> None:
        self.title = title
        self.stream = stream
        self.reporter: Reporter | None = None
        self.done = 0
        self.failed = 0

    def pytest_collection_finish(self, session: Any) -> None:
        self.reporter = Reporter(self.title, len(session.items), self.stream).__enter__()

    def pytest_runtest_logreport(self, report: Any) -> None:
        if self.reporter is None or (report.when != "call" and not report.failed):
            return  # setup and teardown count only when they fail
        self.done += report.when == "call"
        self.failed += bool(report.failed)
        self.reporter.update(self.done, self.failed, report.nodeid.rsplit("::", 1)[-1])

    def pytest_sessionfinish(self) -> None:
        if self.reporter is not None:
            self.reporter.__exit__(None, None, None)
