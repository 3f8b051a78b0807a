"""Bulk hand-off: Faust delivers each partition's fetched records to the agent as one message.

Faust (faust-streaming 0.15.3) turns every Kafka record into a `Message`, an `Event`, two tasks
(`Service.wait_first` per record in `Consumer._drain_messages`), a channel put, a stream step and
an ack: ~160 µs per record on this machine, whatever the agent does. This module carries a small
patch of the consumer, installed through the app's transport (no monkey-patching of Faust):

- `getmany()` yields one `RecordBatchMessage` per partition per fetch. Its `offset` is the last
  record's offset and `records` holds all of them, so Faust's flow control, channels, streams,
  rebalancing and commit machinery run unchanged, once per fetched batch instead of once per record.
- `ack()` of a batch message acknowledges every offset it covers, so Faust commits past a batch
  exactly when, and only when, the agent acknowledged it: the at-least-once contract of per-record
  acks, with the same redelivery after a crash.
- Offsets skipped between two fetches (compaction, transaction markers) become an acked gap, as
  upstream does for single records.
- While no partition is assigned, the fetch loop looks again every 50 ms instead of every second
  (a fifth of a new worker's ready time).
- The broker may hold a fetch `fetch_max_wait_ms` (INSIGHTS_FETCH_MAX_WAIT_S) instead of Faust's
  hard-coded 1.5 s. aiokafka keeps one fetch in flight per broker and leaves out partitions
  whose records the agent has not taken yet, so while logins are being processed the next fetch
  asks only for the quiet topics (plan changes, claims), the broker holds it for the whole wait,
  and the logins fetched behind it wait as long: up to 1.5 s idle between two login batches.
- Each look for fetched records waits at most GETMANY_WAIT_S instead of upstream's second (below).
- A stop or rebalance waits for the batches being written at most `batch_wait_s`
  (INSIGHTS_REDIS_TIMEOUT_S) instead of for ever (`RecordBatchConsumer.wait_empty`).
"""

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

from faust.transport.consumer import CONSUMER_FETCHING, CONSUMER_WAIT_EMPTY
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, ConsumerMessage, Message
from mode import Service

from streams.startup import TablelessApp


class RecordBatchMessage(ConsumerMessage):
    """One Faust message standing for a partition's run of fetched records, in offset order.

    It is born holding one reference, dropped only by the agent once the batch is processed
    (agents.batches): Faust acks a message on other paths too (a stream that skips it, or drains
    its queue after the agent stopped), and an ack reaching zero lets the offset be committed.
    Measured before this: a worker whose agent had failed went on acking the batches queued
    behind the failed one, and committed them unprocessed.
    """

    __slots__ = ("first_offset", "records")
    HELD_UNTIL_PROCESSED = True

    def __init__(self, tp: TP, records: Sequence[Any], generation_id: int | None) -> None:
        """Describe the batch by its last record (what Faust commits) and keep all of them."""
        last = records[-1]
        super().__init__(
            last.topic,
            last.partition,
            last.offset,
            (last.timestamp or 0) / 1000.0,
            last.timestamp_type,
            last.headers,
            last.key,
            last.value,
            last.checksum,
            sum(record.serialized_key_size for record in records),
            sum(record.serialized_value_size for record in records),
            tp,
            generation_id=generation_id,
        )
        self.records = records
        self.first_offset: int = records[0].offset
        self.refcount = 1  # the processing hold (see the class docstring)


# Upstream sleeps a whole second between looks while no partition is assigned, so a worker that
# just joined its group waited up to 1 s (0.5 s on average) before its first fetch.
UNASSIGNED_POLL_S = 0.05


# How long one look for fetched records may wait when none has arrived. Upstream waits a second,
# but the partitions it looks at are fixed when the look starts: when an agent's queue fills,
# Faust's flow control takes the queue's partitions out of the active set and puts them back once
# the agent drains it, usually within 50 ms. A look that started in between asks only for the
# other (often quiet) topics, and aiokafka neither returns nor fetches again a partition whose
# fetched records it still holds, so those logins sat until the look timed out: the freshness
# benchmark's one-second outliers (two of ~900 probes, each right after such a look that returned
# nothing after 1.0 s). An idle worker now looks ten times a second instead of once.
GETMANY_WAIT_S = 0.1


class ShortFetchWaitThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's consumer thread, with the app's fetch wait instead of a fixed 1.5 s."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Upstream passes fetch_max_wait_ms=1500 with no setting to change it; the consumer hands
        # this attribute to its Fetcher when it starts, which happens after this returns.
        consumer._fetch_max_wait_ms = cast(RecordBatchApp, self.app).fetch_max_wait_ms
        return consumer


class RecordBatchConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer, delivering fetched records per partition in bulk."""

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return ShortFetchWaitThread(self, loop=self.loop, beacon=self.beacon)

    async def _wait_next_records(self, timeout: float) -> Any:  # noqa: ASYNC109 - upstream's
        """Upstream's, but looking again every UNASSIGNED_POLL_S while nothing is assigned."""
        if self.flow_active and not self.app.client_only and not self._get_active_partitions():
            self.not_waiting_next_records.set()
            await self.sleep(UNASSIGNED_POLL_S)
            return {}, set()
        return await super()._wait_next_records(timeout)

    @Service.transitions_to(CONSUMER_WAIT_EMPTY)
    async def wait_empty(self) -> None:
        """Upstream's wait for the batches being processed to be acked, with a deadline.

        Faust waits for them before a stop or a rebalance with no limit (and its wait swallows
        cancellation, so it cannot be bounded from outside): a worker holding a batch through a
        Redis outage (agents.persistence retries until it lands) ignored SIGTERM and Ctrl-C, and
        held up its group's rebalance, for as long as the outage lasted. Waiting is a courtesy,
        not a guarantee: a batch is held until written (RecordBatchMessage), so one given up on
        here is never committed, and whoever owns it next writes it again.
        """
        wait_s = cast(RecordBatchApp, self.app).batch_wait_s
        deadline = time.monotonic() + wait_s
        while not self.should_stop and self._unacked_messages:
            gc.collect()  # upstream's: a message nothing refers to leaves the weak set
            await self.commit()
            if not self._unacked_messages:
                break
            if time.monotonic() >= deadline:
                self.log.warning(
                    "stopped waiting after %.1f s for %d fetched batches still being written "
                    "(is Redis reachable?); they stay uncommitted and will be processed again",
                    wait_s,
                    len(self._unacked_messages),
                )
                break
            await self._wait_for_ack(timeout=1.0)  # upstream's: woken by any ack
            self._clean_unacked_messages()
        await self.commit_and_end_transactions()

    def ack(self, message: Message) -> bool:
        """Ack a batch message, then every earlier offset it covers (once, like Faust's ack)."""
        acked = super().ack(message)
        if acked and isinstance(message, RecordBatchMessage):
            tp = message.tp
            committed = self._committed_offset[tp]
            first = message.first_offset
            earlier = range(first if committed is None else max(first, committed), message.offset)
            acked_index = self._acked_index[tp]
            fresh = [offset for offset in earlier if offset not in acked_index]
            acked_index.update(fresh)
            self._acked[tp].extend(fresh)
            self._n_acked += len(fresh)
        return acked

    async def getmany(
        self,
        timeout: float,  # noqa: ASYNC109 - upstream's signature
    ) -> AsyncIterator[tuple[TP, Message]]:
        """One `RecordBatchMessage` per partition that returned records in this fetch."""
        records, active_partitions = await self._wait_next_records(timeout)
        generation_id = self.app.consumer_generation_id
        if records is None or self.should_stop:
            return
        for tp, fetched in records.items():
            if not self.flow_active or self.app.consumer_generation_id != generation_id:
                break  # a rebalance started: these records are fetched again after it
            if not (
                active_partitions is None
                or tp in active_partitions
                or tp in self._buffered_partitions
            ):
                continue
            read_offset = self._read_offset[tp]
            if read_offset is not None and fetched and fetched[0].offset < read_offset:
                fetched = [record for record in fetched if record.offset >= read_offset]
            if fetched:
                self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
                yield tp, RecordBatchMessage(tp, fetched, generation_id)

    async def _drain_messages(self, fetcher: Any) -> None:  # pragma: no cover - needs a broker
        """Upstream's fetch loop, per batch message instead of per record."""
        callback = self.callback
        consumer_should_stop = cast(Any, self)._stopped.is_set
        fetcher_should_stop = cast(Any, fetcher)._stopped.is_set
        read_offsets = self._read_offset
        acks_enabled_for = self.app.topics.acks_enabled_for
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                self.diag.set_flag(CONSUMER_FETCHING)
                batches = self.getmany(timeout=GETMANY_WAIT_S)
                await self.sleep(0)  # getmany can return at once many times in a row
                if not self.should_stop:
                    async for tp, message in batches:
                        read_offset = read_offsets[tp]
                        first = cast(RecordBatchMessage, message).first_offset
                        if read_offset and first - read_offset > 1 and acks_enabled_for(tp.topic):
                            await self._add_gap(tp, read_offset + 1, first - 1)
                        commit_every = self._commit_every
                        if commit_every is not None and self._n_acked >= commit_every:
                            self._n_acked = 0
                            await self.commit()
                        await self.wait_first(callback(message), self.suspend_flow.wait())
                        read_offsets[tp] = message.offset
                self.diag.unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            self.diag.unset_flag(CONSUMER_FETCHING)


class RecordBatchTransport(faust_aiokafka.Transport):
    """The aiokafka transport with the bulk-delivering consumer."""

    Consumer = RecordBatchConsumer


class RecordBatchApp(TablelessApp):
    """A Faust app whose consumer hands fetched records to agents in bulk."""

    def __init__(
        self, *args: Any, fetch_max_wait_ms: int = 1500, batch_wait_s: float = 5.0, **options: Any
    ) -> None:
        """Faust's app, plus how long the broker may hold a fetch that finds no records, and how
        long a stop or rebalance waits for the batches being processed."""
        super().__init__(*args, **options)
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self.batch_wait_s = batch_wait_s

    def _new_transport(self) -> Any:
        return RecordBatchTransport(self.conf.broker_consumer, self)
