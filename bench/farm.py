"""A farm of synthetic feeds on loopback: N feeds of M items, English and Chinese,
optional latency, ETag / If-None-Match -> 304.

Feeds are spread over several loopback addresses (127.0.0.1, 127.0.0.2, …) so a
per-host limit sees several hosts, as it would on the web. A small asyncio
HTTP/1.1 server with keep-alive: it must not be the bottleneck it measures.

    python bench/farm.py --feeds 1000 --items 20 --latency 0.1 --hosts 16 --port 8800
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
from email.utils import formatdate

EN = (
    "Smart manufacturing training course on digital twins and MES",
    "Industry 4.0 workshop for plant engineers",
    "Quarterly results of a machine tool maker",
    "Seminar on industrial internet platforms",
)
ZH = ("智能制造培训班在苏州举办", "工业互联网平台研讨会", "数字化转型公开课", "机床企业季度业绩")
#: A fixed date so bodies (and ETags) are the same on every run.
PUBLISHED = 1717200000


def feed_path(n: int) -> str:
    return f"/feed/{n}.xml"


def feed_url(n: int, *, hosts: int, port: int) -> str:
    return f"http://127.0.0.{1 + n % hosts}:{port}{feed_path(n)}"


def feed_body(n: int, items: int) -> bytes:
    """Feed ``n``: half its items English, half Chinese; the same bytes every time."""
    parts = []
    for i in range(items):
        zh = i % 2 == 1
        title = (ZH if zh else EN)[(n + i) % 4] + f" #{n}-{i}"
        body = (
            f"{title}。本次培训于2024年6月5日至6日在上海举行，面向制造企业的工程师。"
            if zh
            else f"{title}. The course runs on June 5-6, 2024 in Shanghai, for factory engineers."
        )
        date = formatdate(PUBLISHED - (n * items + i) * 3600, usegmt=True)
        parts.append(
            f"<item><guid>https://farm.example/{n}/{i}</guid>"
            f"<link>https://farm.example/{n}/{i}</link><title>{title}</title>"
            f"<pubDate>{date}</pubDate><description>&lt;p&gt;{body}&lt;/p&gt;</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Farm feed {n}</title><link>https://farm.example/{n}/</link>"
        f"<description>Synthetic</description>{''.join(parts)}</channel></rss>"
    ).encode()


class Farm:
    def __init__(self, feeds: int, items: int, latency: float) -> None:
        self.latency = latency
        self.bodies = {feed_path(n): feed_body(n, items) for n in range(feeds)}
        self.etags = {
            p: '"' + hashlib.sha1(b).hexdigest()[:16] + '"' for p, b in self.bodies.items()
        }
        self.requests = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                self.requests += 1
                if self.latency:
                    await asyncio.sleep(self.latency)
                body = self.bodies.get(path)
                if body is None:
                    status, body, extra = "404 Not Found", b"not found", ""
                elif headers.get("if-none-match") == self.etags[path]:
                    status, body, extra = "304 Not Modified", b"", f"ETag: {self.etags[path]}\r\n"
                else:
                    status = "200 OK"
                    extra = f"ETag: {self.etags[path]}\r\nContent-Type: application/rss+xml\r\n"
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()


async def serve(feeds: int, items: int, latency: float, hosts: int, port: int) -> None:
    farm = Farm(feeds, items, latency)
    servers = [
        await asyncio.start_server(farm.handle, f"127.0.0.{h}", port, backlog=1024)
        for h in range(1, hosts + 1)
    ]
    print(f"ready {feeds} feeds on {hosts} hosts, port {port}", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per response")
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--port", type=int, default=8800)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.feeds, args.items, args.latency, args.hosts, args.port))


if __name__ == "__main__":
    main()
