"""Serves a folder of JSON-LD @context documents (`application/ld+json`) on the loopback: the
"city network" copy of the contexts ETSI's conformance suite names, since the broker may fetch
user contexts only from hosts on `egress_allow`. A test harness only.

    python scripts/ngsi_conformance/contexts.py --listen 127.0.0.1:9091 --dir /tmp/etsi-suite/resources/jsonld-contexts
"""

from __future__ import annotations

import argparse
import functools
import http.server


class Contexts(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".jsonld": "application/ld+json"}

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's signature
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:9091")
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)
    server = http.server.ThreadingHTTPServer((host, int(port)), functools.partial(Contexts, directory=args.dir))
    server.serve_forever()


if __name__ == "__main__":
    main()
