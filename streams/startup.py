"""Faust start-up without an idle second: a table manager that does not wait for tables it lacks.

Faust's `TableManager.on_start` sleeps one second before starting table recovery, so tables
declared late can still register. The worker declares no tables, and the app only reports
started (and only then joins its consumer group) after recovery started, so that second was a
fifth of a new worker's ready time. With tables present, upstream's start runs unchanged.
"""

import faust
from faust.tables import TableManager


class TablelessStartManager(TableManager):
    """Upstream's table manager, starting recovery at once when the app has no tables."""

    async def on_start(self) -> None:
        """Skip upstream's one-second wait for table registration when no table exists."""
        if self:  # a table is registered: keep upstream's wait for late ones
            await super().on_start()
            return
        if not self.should_stop:
            await self._update_channels()
            await self.recovery.start()


class TablelessApp(faust.App):
    """A Faust app that creates no data directory when it has no tables to keep there.

    Upstream makes `<app id>-data/v1/tables` in the working directory at first start, for table
    storage; the worker keeps no tables, so every worker start (and every test or benchmark with
    its own app id) would leave an empty directory behind wherever it was started.
    """

    def _create_directories(self) -> None:
        if self.tables:  # a table is registered: it may need upstream's directories
            super()._create_directories()
