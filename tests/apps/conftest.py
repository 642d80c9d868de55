"""Fixtures for the apps tests: the real MNIST folder (skipped when absent) and a local HTTP mirror."""
import functools
import http.server
import threading

import pytest

from apps.download import TEST_FILES
from needle.data import default_mnist_dir


@pytest.fixture(scope="session")
def mnist_dir():
    """The folder holding the real 10,000-image MNIST test set (t10k files)."""
    folder = default_mnist_dir()
    missing = [name for name in TEST_FILES if not (folder / name).is_file()]
    if missing:
        pytest.skip(f"MNIST test set not found in {folder} ({', '.join(missing)}); set NEEDLE_MNIST_DIR")
    return folder


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        """Requests are not logged to stderr."""


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A client that hangs up early (the download size limit does) is not reported."""


@pytest.fixture
def serve():
    """serve(folder) → base URL of an HTTP server on 127.0.0.1 for `folder`, stopped after the test."""
    servers = []

    def start(folder):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = _QuietServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
