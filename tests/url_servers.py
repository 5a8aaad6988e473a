"""Local stand-ins for remote addresses (tests never reach the internet): a
server that accepts connections and never answers, an address that refuses
them, and a small HTTP server of files given in memory."""
import socket
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Iterator


@contextmanager
def stalled_server() -> Iterator[str]:
    """``http://127.0.0.1:PORT``: the kernel completes the connection
    (listen backlog) but nothing ever reads the request or answers."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    sock.listen(16)
    try:
        yield f'http://127.0.0.1:{sock.getsockname()[1]}'
    finally:
        sock.close()


def refused_url() -> str:
    """``http://127.0.0.1:PORT`` of a port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    return f'http://127.0.0.1:{port}'


@contextmanager
def file_server(files: Dict[str, bytes]) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` serving ``files`` (URL path -> content;
    404 for any other path); ``files`` may change while it runs."""

    class Handler(BaseHTTPRequestHandler):
        def _head(self) -> bytes:
            body = files.get(self.path)
            if body is None:
                self.send_error(404)
                return b''
            self.send_response(200)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            return body

        def do_HEAD(self):  # noqa: N802 (http.server's name)
            self._head()

        def do_GET(self):  # noqa: N802
            body = self._head()
            if body:
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()
