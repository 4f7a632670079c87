"""A TCP proxy that adds a fixed one-way delay to every byte: an emulated network.

The PostgreSQL rows of the benchmarks run on one machine, where a round trip over the unix
socket costs some tens of microseconds; in a deployment the application and the database are
on different hosts, a round trip costs a millisecond or more, and the number of round trips
per booking is what counts. This proxy sits between the clients and the server::

    client --TCP--> 127.0.0.1:<port> (proxy) --TCP or unix socket--> server

and holds every chunk of bytes it receives for ``delay`` seconds before passing it on, in each
direction, so one round trip through it costs ``2 * delay`` more (plus the proxy's own hop,
some tens of microseconds). Each direction of each connection has a queue of chunks stamped
with their release time, *arrival + delay*; a chunk is sent when its time comes, after the
chunks before it. A chunk never waits for the one before it to be *delayed*, only to be sent:
the throughput is not serialised by the delay, and the order of the bytes is kept. The end of
a stream (a half-close) travels the same way. Every TCP socket has ``TCP_NODELAY`` (no Nagle),
like libpq's and the server's own.

One thread runs every connection: non-blocking sockets and ``select()``, whose timeout has a
microsecond resolution (``epoll``'s, which asyncio uses, is a millisecond: too coarse for
0.5 ms), with the thread's timer slack lowered to 1 ns on Linux (the default 50 µs would make
every release late). So there is no hand-off between threads and no lock on the way.
``select()`` limits it to file descriptors below 1024 (some 500 connections).

Two ways to run it:

* `LatencyProxy` — a background thread in this process (used by the tests);
* `spawn` — a separate ``python`` process running this file (used by the benchmarks, so that
  the proxy's work does not compete for the benchmark process's GIL). The child prints its
  address, and exits when its standard input closes (its parent ended, or
  `ProxyProcess.close`).

Standard library only: this file also runs as a script, ``python _latency_proxy.py --help``.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import select
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

__all__ = ["LatencyProxy", "ProxyProcess", "Upstream", "main", "spawn"]

#: Where the proxy forwards to: ``(host, port)`` over TCP, or the path of a unix socket.
Upstream = tuple[str, int] | str

_CHUNK = 65536


def _connect(upstream: Upstream, timeout: float) -> socket.socket:
    """A connected socket to ``upstream`` (TCP with ``TCP_NODELAY``, or a unix socket)."""
    if isinstance(upstream, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(upstream)
        except BaseException:
            sock.close()
            raise
    else:
        sock = socket.create_connection(upstream, timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _precise_timers() -> None:
    """Lower this thread's timer slack to 1 ns (Linux), so timeouts expire on time."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None).prctl(29, 1, 0, 0, 0)  # PR_SET_TIMERSLACK


class _Pipe:
    """One direction of one connection: chunks from ``src`` wait for their time, then ``dst``."""

    __slots__ = ("dst", "out", "queue", "reading", "shut", "src")

    def __init__(self, src: socket.socket, dst: socket.socket) -> None:
        self.src = src
        self.dst = dst
        #: Received chunks with their release times; ``None`` is the end of the stream.
        self.queue: deque[tuple[float, bytes | None]] = deque()
        #: Released bytes not sent yet (the peer's buffer was full).
        self.out = bytearray()
        self.reading = True  # ``src`` has not reached its end
        self.shut = False  # the end of the stream was passed on (``dst`` shut for writing)

    def release(self, now: float) -> float:
        """Send what is due (as much as ``dst`` takes); the next release time, or ``inf``.

        ``inf`` also when what is due waits for ``dst`` to take more (``out`` is not empty:
        the loop then waits for ``dst`` to be writable, not for a time).

        Raises:
            OSError: ``dst`` failed (the connection is to be dropped).
        """
        queue, out = self.queue, self.out
        while queue and queue[0][0] <= now:
            data = queue[0][1]
            if data is None:
                break
            queue.popleft()
            out += data
        if out:
            with contextlib.suppress(BlockingIOError):
                del out[: self.dst.send(out)]
        if not out and queue and queue[0][0] <= now:  # the end of the stream is due
            queue.clear()
            with contextlib.suppress(OSError):
                self.dst.shutdown(socket.SHUT_WR)  # a half-close is passed on as such
            self.shut = True
        return queue[0][0] if queue and queue[0][0] > now else math.inf


class _Link:
    """One proxied connection: two sockets, two pipes."""

    __slots__ = ("pipes", "socks")

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.socks = (client, server)
        self.pipes = (_Pipe(client, server), _Pipe(server, client))
        for sock in self.socks:
            sock.setblocking(False)

    @property
    def finished(self) -> bool:
        """Both ends passed on: nothing more can flow."""
        return all(p.shut for p in self.pipes)

    def close(self) -> None:
        """Close both sockets."""
        for sock in self.socks:
            sock.close()


class LatencyProxy:
    """A TCP proxy on ``host:port`` to ``upstream`` that delays each direction by ``delay`` s.

    Use as a context manager, or call `start` and `close`::

        with LatencyProxy(("127.0.0.1", 5432), delay=0.0005) as proxy:
            psycopg.connect(f"host=127.0.0.1 port={proxy.port} ...")  # +1 ms per round trip

    Any number of connections (up to the ``select()`` limit), each forwarded independently.
    """

    def __init__(
        self,
        upstream: Upstream,
        delay: float,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        connect_timeout: float = 10.0,
    ) -> None:
        if not delay >= 0:
            raise ValueError(f"delay must be >= 0, not {delay}")
        self.upstream = upstream
        self.delay = delay
        self._connect_timeout = connect_timeout
        self._listener = socket.create_server((host, port), backlog=128)
        self._listener.setblocking(False)
        self.host, self.port = self._listener.getsockname()[:2]
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="qq-latency-proxy")

    def start(self) -> LatencyProxy:
        """Start forwarding (in a background thread); returns ``self``."""
        self._thread.start()
        return self

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` to connect to."""
        return self.host, self.port

    def close(self, timeout: float = 5.0) -> None:
        """Stop: close the listener and every connection."""
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread.is_alive():
            self._thread.join(timeout)
        else:
            self._listener.close()
        self._wake_w.close()
        self._wake_r.close()

    # the loop ---------------------------------------------------------------------------------

    def _serve(self) -> None:
        _precise_timers()
        links: list[_Link] = []
        try:
            self._loop(links)
        finally:
            for link in links:
                link.close()
            self._listener.close()

    def _loop(self, links: list[_Link]) -> None:
        listener, wake, delay = self._listener, self._wake_r, self.delay
        monotonic, sel = time.monotonic, select.select
        readers: dict[socket.socket, tuple[_Link, _Pipe]] = {}
        while True:
            # Release what is due; find the next release time.
            now = monotonic()
            soonest = math.inf
            for link in list(links):
                try:
                    for pipe in link.pipes:
                        soonest = min(soonest, pipe.release(now))
                except OSError:  # the peer is gone: drop the connection
                    self._drop(link, links, readers)
                    continue
                if link.finished:
                    self._drop(link, links, readers)
            rlist: list[socket.socket] = [listener, wake]
            wlist: list[socket.socket] = []
            for link in links:
                for pipe in link.pipes:
                    if pipe.reading:
                        rlist.append(pipe.src)
                    if pipe.out:
                        wlist.append(pipe.dst)
            timeout = None if soonest == math.inf else max(0.0, soonest - monotonic())
            readable, _, _ = sel(rlist, wlist, [], timeout)
            now = monotonic()  # the arrival time of what was read
            for sock in readable:
                if sock is wake:
                    return
                if sock is listener:
                    self._accept(links, readers)
                    continue
                entry = readers.get(sock)
                if entry is None:
                    continue
                link, pipe = entry
                try:
                    data = sock.recv(_CHUNK)
                except BlockingIOError:
                    continue
                except OSError:  # reset: drop the connection
                    self._drop(link, links, readers)
                    continue
                if data:
                    pipe.queue.append((now + delay, data))
                else:
                    pipe.reading = False
                    pipe.queue.append((now + delay, None))  # the end travels with the delay

    def _accept(
        self, links: list[_Link], readers: dict[socket.socket, tuple[_Link, _Pipe]]
    ) -> None:
        """Accept a client and connect it to the upstream (a local, quick connect)."""
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            server = _connect(self.upstream, self._connect_timeout)
        except OSError:
            client.close()  # the client sees the connection closed, as with no server
            return
        link = _Link(client, server)
        links.append(link)
        for pipe in link.pipes:
            readers[pipe.src] = (link, pipe)

    @staticmethod
    def _drop(
        link: _Link, links: list[_Link], readers: dict[socket.socket, tuple[_Link, _Pipe]]
    ) -> None:
        if link in links:
            links.remove(link)
        for sock in link.socks:
            readers.pop(sock, None)
        link.close()


class ProxyProcess:
    """A `LatencyProxy` running in a child ``python`` process (see `spawn`)."""

    def __init__(self, proc: subprocess.Popen[str], host: str, port: int, delay: float) -> None:
        self._proc = proc
        self.host = host
        self.port = port
        self.delay = delay

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        """The child's exit status, ``None`` while it runs."""
        return self._proc.poll()

    def __enter__(self) -> ProxyProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self, timeout: float = 10.0) -> None:
        """Close the child's standard input (it then exits); kill it if it does not."""
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout)
        if self._proc.stdout is not None:
            self._proc.stdout.close()


def spawn(upstream: Upstream, delay: float, *, timeout: float = 30.0) -> ProxyProcess:
    """Start a proxy in a child process; returns once it listens.

    Args:
        upstream: ``(host, port)`` or a unix socket path to forward to.
        delay: Seconds added in each direction (one round trip costs ``2 * delay`` more).
        timeout: Seconds to wait for the child to listen.

    Raises:
        RuntimeError: The child did not start.
    """
    target = upstream if isinstance(upstream, str) else f"{upstream[0]}:{upstream[1]}"
    proc = subprocess.Popen(
        [sys.executable, "-I", "-u", str(Path(__file__).resolve()), target, "--delay", repr(delay)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    out: IO[str] | None = proc.stdout
    assert out is not None
    stdout: IO[str] = out
    ready: list[str] = []
    reader = threading.Thread(target=lambda: ready.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    line = ready[0].split() if ready else []
    if len(line) != 3 or line[0] != "listening":
        proc.kill()
        proc.wait()
        raise RuntimeError(f"the latency proxy did not start (exit status {proc.poll()})")
    return ProxyProcess(proc, line[1], int(line[2]), delay)


def _parse_upstream(text: str) -> Upstream:
    if text.startswith("/"):
        return text
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT or /path/to/socket, not {text!r}")
    return host.strip("[]"), int(port)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a proxy until standard input closes; print ``listening HOST PORT`` when ready."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("upstream", type=_parse_upstream, help="HOST:PORT or a unix socket path")
    parser.add_argument(
        "--delay", type=float, default=0.0005, help="seconds each way (default 0.0005)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="listen address (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="listen port (default: a free one)")
    args = parser.parse_args(argv)
    with LatencyProxy(args.upstream, args.delay, host=args.host, port=args.port) as proxy:
        print(f"listening {proxy.host} {proxy.port}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            sys.stdin.read()  # until the parent closes the pipe, or ends
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
