"""A bad rural link in front of the app: a throttling TCP proxy that every request of the browser goes through.

Shared by bench/bad_link.py (the delivery figure in docs/PERFORMANCE.md) and tests/browser/test_upriver.py
("three days upriver"): the proxy is the app's origin for the browser, so the page's and the service worker's
requests alike cross it. Each direction has its own rate and the same one-way delay (pipelined, as on a real
link: the delay is paid once per byte, not once per chunk); once `cutting` is on, every open connection is cut
without a goodbye every `cut_every_s` seconds (the signal going), and new connections are accepted again at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass

CHUNK = 4096


@dataclass(frozen=True)
class Link:
    """A link's shape: rates in bits per second, one-way delay in seconds, seconds between cuts (0: never)."""

    up_bps: int
    down_bps: int
    one_way_s: float
    cut_every_s: float = 0.0

    def describe(self) -> str:
        cuts = f", cut every {self.cut_every_s:g} s" if self.cut_every_s else ""
        return (
            f"{self.up_bps / 1000:g} kbps up, {self.down_bps / 1000:g} kbps down, "
            f"{self.one_way_s * 2000:g} ms RTT{cuts}"
        )


# The bench's link (issue 15): 250 kbps up, 1 Mbps down, 400 ms round trip, the signal gone every 20 s.
RURAL = Link(up_bps=250_000, down_bps=1_000_000, one_way_s=0.2, cut_every_s=20.0)
# Emulated 2G of the "three days upriver" test: 250 kbps each way, 800 ms round trip, gone every 20 s.
EDGE_2G = Link(up_bps=250_000, down_bps=250_000, one_way_s=0.4, cut_every_s=20.0)


class ThrottlingProxy:
    """127.0.0.1:<port> → 127.0.0.1:<upstream_port>, shaped as `link` (which may be swapped while it runs, e.g.
    from a good link to a bad one). `start()` runs it in a daemon thread."""

    def __init__(self, upstream_port: int, link: Link, cutting: bool = False):
        self.upstream_port = upstream_port
        self.link = link
        self.cutting = cutting
        self.up = self.down = self.cuts = self.connections = 0
        self.port: int | None = None
        self._writers: set = set()
        self._loop = asyncio.new_event_loop()
        self._server = None
        self._thread: threading.Thread | None = None

    def reset_counts(self) -> None:
        self.up = self.down = self.cuts = self.connections = 0

    async def _pipe(self, reader, writer, upstream: bool):
        """Read as fast as the sender gives, deliver each chunk when the link would: after its turn on the wire
        (the rate, shared by everything in flight that way) plus the one-way delay."""
        queue: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def deliver():
            try:
                while (entry := await queue.get()) is not None:
                    due, data = entry
                    await asyncio.sleep(max(0.0, due - loop.time()))
                    writer.write(data)
                    await writer.drain()
                    if upstream:
                        self.up += len(data)
                    else:
                        self.down += len(data)
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()

        delivering = asyncio.ensure_future(deliver())
        free_at = loop.time()
        try:
            while data := await reader.read(CHUNK):
                bps = self.link.up_bps if upstream else self.link.down_bps  # `link` may change while open
                free_at = max(free_at, loop.time()) + len(data) * 8 / bps
                await queue.put((free_at + self.link.one_way_s, data))
                # Do not read far ahead of the wire: the sender feels the link's rate (TCP back-pressure).
                await asyncio.sleep(max(0.0, free_at - loop.time() - 0.5))
        except (ConnectionError, OSError):
            pass
        await queue.put(None)
        await delivering

    async def _client(self, client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_writer.close()
            return
        self.connections += 1
        pair = {client_writer, server_writer}
        self._writers |= pair
        await asyncio.gather(
            self._pipe(client_reader, server_writer, upstream=True),
            self._pipe(server_reader, client_writer, upstream=False),
        )
        self._writers -= pair

    async def _cutter(self):
        while True:
            await asyncio.sleep(self.link.cut_every_s or 1.0)
            if self.cutting and self.link.cut_every_s and self._writers:
                self.cuts += len(self._writers) // 2
                for writer in list(self._writers):
                    transport = writer.transport
                    if transport is not None:
                        transport.abort()  # the signal is gone: no goodbye

    def start(self) -> ThrottlingProxy:
        async def serve():
            self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
            cutter = asyncio.ensure_future(self._cutter())
            try:
                async with self._server:
                    await self._server.serve_forever()
            except asyncio.CancelledError:
                pass
            finally:
                cutter.cancel()

        def run():
            with contextlib.suppress(RuntimeError):  # stopped while serving
                self._loop.run_until_complete(serve())

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while self.port is None:
            if time.monotonic() > deadline:
                raise RuntimeError("the throttling proxy did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Close the listening socket and every open connection."""

        def close():
            for writer in list(self._writers):
                if writer.transport is not None:
                    writer.transport.abort()
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()

        if self._loop.is_running():
            self._loop.call_soon_threadsafe(close)
        if self._thread is not None:
            self._thread.join(5)
