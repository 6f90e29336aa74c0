# The python3-http template's contract (openfaas/python-flask-template): handle(event, context) with
# event.body/headers/method/query/path, returning a dict of statusCode, body and headers (or a plain value).
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "python_packages"))
sys.path.insert(0, here)
import secrets_shim  # noqa: E402,F401  (routes /var/openfaas/secrets to the gateway's folder)
from function import handler  # noqa: E402


class Event:
    def __init__(self, request, body):
        url = urlparse(request.path)
        self.body = body
        self.headers = request.headers
        self.method = request.command
        self.query = {key: values[0] for key, values in parse_qs(url.query).items()}
        self.path = url.path


class Context:
    def __init__(self):
        self.hostname = os.getenv("HOSTNAME", "localhost")


def format_body(body):
    if isinstance(body, (dict, list)):
        return json.dumps(body).encode(), "application/json"
    if isinstance(body, bytes):
        return body, None
    return str(body if body is not None else "").encode(), None


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
        body = self.rfile.read(length) if length else b""
        try:
            result = handler.handle(Event(self, body), Context())
        except Exception as error:  # the function's own failure
            self.send_response(500)
            self.end_headers()
            self.wfile.write(str(error).encode())
            return
        status, headers, payload = 200, {}, result
        if isinstance(result, dict) and ("statusCode" in result or "body" in result):
            status = int(result.get("statusCode", 200))
            headers = result.get("headers") or {}
            payload = result.get("body")
        data, content_type = format_body(payload)
        self.send_response(status)
        if content_type and not any(k.lower() == "content-type" for k in headers):
            self.send_header("Content-Type", content_type)
        for key, value in headers.items():
            self.send_header(key, str(value))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = respond


ThreadingHTTPServer(("127.0.0.1", int(os.getenv("PORT", "5000"))), Handler).serve_forever()
