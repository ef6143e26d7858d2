#!/usr/bin/env python3
"""A tiny webhook receiver for trying BankHooks by hand: prints each request and answers 200.

    python3 scripts/receiver.py 9000
"""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        print(f"--- {self.command} {self.path}")
        for name, value in self.headers.items():
            print(f"{name}: {value}")
        print()
        print(body.decode("utf-8", "replace"), flush=True)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
print(f"receiving on http://127.0.0.1:{port}/", flush=True)
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
