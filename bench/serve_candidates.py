"""Which HTTP server library serves the feeds best: the measurement the choice rests on.

Each candidate serves the same ``atom.xml`` (50 entries) from memory with the
same logic (strong ETag, 304 on ``If-None-Match``), in one process with one
event loop, as ``worker run`` would host it; ``wrk`` loads each in turn with
1,000 connections, 304s then full GETs, and nginx (one worker process)
serving the file from disk gives the reference in the same run.

    .venv/bin/pip install 'uvicorn[standard]' starlette aiohttp granian   # the candidates
    apt-get install wrk nginx-light
    .venv/bin/python bench/serve_candidates.py [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.wrk import Nginx, WrkResult, free_port, run_wrk, wait_for_port  # noqa: E402

CANDIDATES = ("uvicorn+starlette", "uvicorn+asgi", "aiohttp", "granian+starlette",
              "granian+asgi")


def feed_bytes() -> bytes:
    from tests.publish_samples import sample_entries
    from worker.config import PublishSettings
    from worker.publish import Snapshot, render_all

    entries = sample_entries() * 10  # 50 entries, like the default window
    return render_all(Snapshot(window=tuple(entries)), PublishSettings())["atom.xml"]


def starlette_app(body: bytes):  # type: ignore[no-untyped-def]
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'

    async def atom(request: Request) -> Response:
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, media_type="application/atom+xml", headers={"ETag": etag})

    return Starlette(routes=[Route("/feeds/atom.xml", atom, methods=["GET", "HEAD"])])


def plain_asgi_app(body: bytes):  # type: ignore[no-untyped-def]
    """The same logic as a bare ASGI callable: no framework between the server and the bytes."""
    etag = ('"' + hashlib.sha256(body).hexdigest()[:32] + '"').encode()
    full = [(b"content-type", b"application/atom+xml"), (b"etag", etag),
            (b"content-length", str(len(body)).encode())]  # fmt: skip

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        inm = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
        if inm == etag:
            await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", etag)]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": full})
        await send({"type": "http.response.body", "body": body})

    return app


def serve(name: str, port: int, path: Path) -> None:
    body = path.read_bytes()
    make_app = plain_asgi_app if name.endswith("+asgi") else starlette_app
    if name.startswith("uvicorn"):
        import uvicorn

        uvicorn.run(make_app(body), host="127.0.0.1", port=port, log_level="warning",
                    access_log=False, backlog=4096, http="httptools", loop="uvloop")  # fmt: skip
    elif name.startswith("granian"):
        import asyncio

        from granian.constants import Interfaces
        from granian.server.embed import Server

        server = Server(make_app(body), address="127.0.0.1", port=port,
                        interface=Interfaces.ASGI, backlog=4096)  # fmt: skip
        asyncio.run(server.serve())
    elif name == "aiohttp":
        from aiohttp import web

        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'

        async def atom(request: web.Request) -> web.Response:
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers={"ETag": etag})
            return web.Response(body=body, content_type="application/atom+xml",
                                headers={"ETag": etag})  # fmt: skip

        app = web.Application()
        app.router.add_get("/feeds/atom.xml", atom)
        web.run_app(app, host="127.0.0.1", port=port, backlog=4096, access_log=None,
                    print=None)  # fmt: skip
    else:
        raise SystemExit(f"unknown candidate {name}")


def load(base: str, etag: str, seconds: float) -> tuple[WrkResult, WrkResult]:
    url = base + "/feeds/atom.xml"
    cond = run_wrk(url, connections=1000, seconds=seconds, headers={"If-None-Match": etag})
    full = run_wrk(url, connections=1000, seconds=seconds)
    return cond, full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.file)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        body = feed_bytes()
        (root / "atom.xml").write_bytes(body)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        print(f"atom.xml: {len(body)} bytes; 1,000 connections, {args.seconds:.0f} s per load")
        results: dict[str, list[tuple[WrkResult, WrkResult]]] = {}
        for _ in range(args.rounds):
            nginx = Nginx(root)
            try:
                nginx_etag = subprocess.run(
                    ["curl", "-sI", f"http://127.0.0.1:{nginx.port}/feeds/atom.xml"],
                    capture_output=True, text=True, check=True,
                ).stdout.split("ETag: ")[1].split()[0]  # fmt: skip
                results.setdefault("nginx", []).append(
                    load(f"http://127.0.0.1:{nginx.port}", nginx_etag, args.seconds)
                )
            finally:
                nginx.close()
            for name in CANDIDATES:
                port = free_port()
                process = subprocess.Popen(
                    [sys.executable, __file__, "--serve", name, "--port", str(port),
                     "--file", str(root / "atom.xml")]  # fmt: skip
                )
                try:
                    wait_for_port(port)
                    results.setdefault(name, []).append(
                        load(f"http://127.0.0.1:{port}", etag, args.seconds)
                    )
                finally:
                    process.terminate()
                    process.wait(timeout=10)
        report(results)


def report(results: dict[str, list[tuple[WrkResult, WrkResult]]]) -> None:
    def med(runs: list[WrkResult], field: str) -> float:
        return statistics.median(getattr(r, field) for r in runs)

    ref304 = med([c for c, _ in results["nginx"]], "per_second")
    ref200 = med([f for _, f in results["nginx"]], "per_second")
    print(f"{'server':<20} {'304 req/s':>10} {'ratio':>6} {'p99 ms':>8} {'errors':>7}"
          f" {'200 req/s':>10} {'ratio':>6} {'p99 ms':>8} {'errors':>7}")  # fmt: skip
    for name, runs in results.items():
        cond = [c for c, _ in runs]
        full = [f for _, f in runs]
        print(
            f"{name:<20} {med(cond, 'per_second'):>10.0f} {med(cond, 'per_second') / ref304:>6.2f}"
            f" {med(cond, 'p99_ms'):>8.1f} {max(r.errors for r in cond):>7}"
            f" {med(full, 'per_second'):>10.0f} {med(full, 'per_second') / ref200:>6.2f}"
            f" {med(full, 'p99_ms'):>8.1f} {max(r.errors for r in full):>7}"
        )


if __name__ == "__main__":
    main()
