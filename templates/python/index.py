# The classic python3 template's contract (openfaas/templates-classic): handle(req) with the body as a string,
# whose return value is the response. The classic watchdog forked a process per request; this serves HTTP.
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "python_packages"))
sys.path.insert(0, here)
import secrets_shim  # noqa: E402,F401
from function import handler  # noqa: E402


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def respond(self):
        if self.path == "/_/health":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"OK")
            return
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        try:
            result = handler.handle(body)
            status, data = 200, ("" if result is None else str(result)).encode()
        except Exception as error:
            status, data = 500, str(error).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = respond


ThreadingHTTPServer(("127.0.0.1", int(os.getenv("PORT", "5000"))), Handler).serve_forever()
