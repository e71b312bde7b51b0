#!/usr/bin/env python3
"""A loopback mock of the balance service for examples/fetch-balance.

    python3 examples/fetch-balance/mock_server.py        # listens on 127.0.0.1:8787

GET /balance/<user id> with `Authorization: Bearer balance-secret-key`
answers {"balance": 0} for the user id "broke" and {"balance": 42} otherwise.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if not self.path.startswith("/balance/"):
            return self.answer(404, {"error": "not found"})
        if self.headers.get("Authorization") != "Bearer balance-secret-key":
            return self.answer(401, {"error": "unauthorized"})
        user = self.path.rsplit("/", 1)[-1]
        self.answer(200, {"balance": 0 if user == "broke" else 42})

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8787
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
