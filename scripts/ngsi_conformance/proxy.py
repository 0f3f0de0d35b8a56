"""A key-adding reverse proxy for running an outside NGSI-LD client (ETSI's conformance suite)
against `aicity serve`: every request is forwarded unchanged with `Authorization: Bearer KEY`
added, and the answer is passed back unchanged. A test harness only: never part of the package.

    python scripts/ngsi_conformance/proxy.py --listen 127.0.0.1:9090 --upstream http://127.0.0.1:8000 \
        --key-file /tmp/ngsi-conf/key
"""

from __future__ import annotations

import argparse
import http.client
import http.server
from pathlib import Path
from urllib.parse import urlsplit

HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
       "transfer-encoding", "upgrade", "authorization", "content-length"}


def handler(upstream: str, key: str) -> type[http.server.BaseHTTPRequestHandler]:
    target = urlsplit(upstream)

    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            headers["Authorization"] = f"Bearer {key}"
            conn = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=60)
            try:  # the Host header is kept: the server builds its links (@context) for the proxy's address
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
            finally:
                conn.close()
            self.send_response_only(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's signature
            pass

    return Proxy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:9090")
    parser.add_argument("--upstream", default="http://127.0.0.1:8000")
    parser.add_argument("--key-file", type=Path, required=True, help="a file holding the operator key")
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)
    key = args.key_file.read_text(encoding="utf-8").strip()
    server = http.server.ThreadingHTTPServer((host, int(port)), handler(args.upstream, key))
    server.serve_forever()


if __name__ == "__main__":
    main()
