"""The server itself refuses an oversized upload, also one that bypasses the browser and its check.

A real ``streamlit run`` server: a session is opened over the websocket as the browser opens
it, then files are PUT straight to the upload endpoint (``/_stcore/upload_file/<session>/<file>``,
the route streamlit 1.67 serves), with a Content-Length and without one (chunked, so only the
server's streaming cap can stop it).
"""

from __future__ import annotations

import http.client
import re
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

from mnist_core.explain.inference import MAX_UPLOAD_BYTES

ROOT = Path(__file__).resolve().parent.parent
# tomllib is Python 3.11+; the project runs on 3.10 too, and the one setting is one line.
LIMIT_MB = int(re.search(r"^maxUploadSize\s*=\s*(\d+)", (ROOT / ".streamlit" / "config.toml").read_text(), re.M)[1])
BOUNDARY = "robust-upload-test"


def test_the_server_limit_is_the_pages_limit_and_small():
    assert LIMIT_MB * 2**20 == MAX_UPLOAD_BYTES and LIMIT_MB <= 20


class Session:
    """One browser-like session: its XSRF cookie and the session id the server gave its websocket."""

    def __init__(self, url: str, socket, cookie: str) -> None:
        self.host = urlparse(url).netloc
        self.cookie, self.token = cookie, cookie.split("=", 1)[1]
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        socket.send(rerun.SerializeToString())
        self.session_id = ""
        while not self.session_id:
            message = ForwardMsg()
            message.ParseFromString(socket.recv(timeout=60))
            if message.WhichOneof("type") == "new_session":
                self.session_id = message.new_session.initialize.session_id

    def put(self, size: int, chunked: bool = False) -> int | str:
        """PUT a file of ``size`` bytes; the HTTP status, or how the server cut the connection."""
        head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="digit.png"\r\n'
                "Content-Type: image/png\r\n\r\n").encode()
        tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        conn = http.client.HTTPConnection(self.host, timeout=120)
        conn.putrequest("PUT", f"/_stcore/upload_file/{self.session_id}/file-{size}-{chunked}")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
        conn.putheader("X-Xsrftoken", self.token)
        conn.putheader("Cookie", self.cookie)
        if chunked:
            conn.putheader("Transfer-Encoding", "chunked")
        else:
            conn.putheader("Content-Length", str(len(head) + size + len(tail)))
        conn.endheaders()
        pieces = [head, *[b"\0" * 2**20] * (size // 2**20), b"\0" * (size % 2**20), tail]
        try:
            for piece in filter(None, pieces):
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                conn.send(b"0\r\n\r\n")
        except (ConnectionResetError, BrokenPipeError):
            pass  # the server stopped reading: its answer (if any) says why
        try:
            return conn.getresponse().status
        except (ConnectionResetError, http.client.RemoteDisconnected) as exc:
            return exc.__class__.__name__
        finally:
            conn.close()


@pytest.fixture()
def session(fresh_app_url):
    answer = urllib.request.urlopen(f"{fresh_app_url}/_stcore/health", timeout=30)
    cookie = next(c for c in answer.headers.get_all("Set-Cookie") if c.startswith("_streamlit_xsrf=")).split(";")[0]
    host = urlparse(fresh_app_url).netloc
    with connect(f"ws://{host}/_stcore/stream", subprotocols=["streamlit", cookie.split("=", 1)[1]],
                 origin=fresh_app_url, additional_headers={"Cookie": cookie}) as socket:
        yield Session(fresh_app_url, socket, cookie)


def test_an_upload_under_the_limit_is_taken(session):
    assert session.put(1000) == 204  # the endpoint, session and token are right: a refusal below is the size
    assert session.put(1000, chunked=True) == 204


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_upload_over_the_limit_that_bypasses_the_browser_is_refused(session, chunked):
    answer = session.put(MAX_UPLOAD_BYTES + 2**20, chunked=chunked)
    assert answer in (413, "ConnectionResetError", "RemoteDisconnected"), answer
