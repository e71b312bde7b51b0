"""A loopback authorization service for examples/loginradius-roles.

GET /permissions?user=ID&role=ROLE with `Authorization: Bearer example-token`
answers {"permissions": [...]} for the role. Listens on 127.0.0.1:8788.
"""
import json
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

PERMISSIONS = {
    "admin": ["read:reports", "write:reports", "manage:users"],
    "member": ["read:reports"],
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        if url.path != "/permissions":
            return self.answer(404, {"error": "not found"})
        if self.headers.get("Authorization") != "Bearer example-token":
            return self.answer(401, {"error": "unauthorized"})
        role = parse_qs(url.query).get("role", ["member"])[0]
        self.answer(200, {"permissions": PERMISSIONS.get(role, [])})

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", 8788), Handler).serve_forever()
