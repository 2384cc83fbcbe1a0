#!/usr/bin/python3
"""A real HTTP(S) server for tests that receives webhooks and keeps them.

Binds 127.0.0.1 on a free port and prints `listening PORT` once ready.
Each POST is written to DIR/NNNN.json as {"path", "headers", "body"}
(body as text; written to a temporary name first, then renamed, so a
reader never sees half a request), then answered.

  --fail N        answer the first N requests 503 (then 204)
  --status CODE   answer every request with CODE instead (e.g. 404, 302)
  --tls CERT KEY  HTTPS instead of HTTP
  --secret S      check X-Vto-Signature (sha256= HMAC of the body, Python's
                  own hmac module): recorded as "signature_ok"
"""
import argparse
import hashlib
import hmac
import itertools
import json
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def handler(directory, fail, status, secret):
    counter = itertools.count(1)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with lock:
                n = next(counter)
            record = {
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
            }
            if secret is not None:
                want = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                got = self.headers.get("X-Vto-Signature", "")
                record["signature_ok"] = hmac.compare_digest(want, got)
            tmp = os.path.join(directory, f".{n:04}.tmp")
            with open(tmp, "w") as f:
                json.dump(record, f)
            os.rename(tmp, os.path.join(directory, f"{n:04}.json"))
            code = status or (503 if n <= fail else 204)
            self.send_response(code)
            if 300 <= code < 400:
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--fail", type=int, default=0)
    p.add_argument("--status", type=int, default=0)
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--secret")
    a = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(a.dir, a.fail, a.status, a.secret))
    server.daemon_threads = True
    if a.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"listening {server.server_address[1]}", flush=True)
    # Ends with the test: the harness closes stdin.
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
