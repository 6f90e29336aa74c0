# The classic python3 template's contract (openfaas/templates-classic): handle(req) gets the request body as a
# string, and the response is what the call prints, then what handle returns (printed). As with the classic
# watchdog, every call runs in a process of its own, forked from this server once the handler is loaded (a handler
# that fails to load fails the start, not each call): its standard output is the response, its standard error
# goes to the function's log (into the response too with combine_output=true), and a call the gateway cuts short
# ends with its process and everything it started.
import os
import select
import signal
import socket
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ForkingMixIn

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "python_packages"))
sys.path.insert(0, here)
import secrets_shim  # noqa: E402,F401
from function import handler  # noqa: E402

COMBINE_OUTPUT = os.getenv("combine_output", "").lower() == "true"
CONTENT_TYPE = os.getenv("content_type", "")


def canonical(name):
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def read_body(request):
    if "chunked" in (request.headers.get("transfer-encoding") or "").lower():
        chunks = []
        while True:
            size = int(request.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while request.rfile.readline().strip():
                    pass
                return b"".join(chunks)
            chunks.append(request.rfile.read(size))
            request.rfile.readline()
    length = int(request.headers.get("content-length") or 0)
    return request.rfile.read(length) if length else b""


def cgi_environment(request):
    # The classic watchdog's cgi_headers: Http_<Header>, Http_Method, Http_Query, Http_Path.
    path, _, query = request.path.partition("?")
    env = {"Http_" + canonical(name).replace("-", "_"): value for name, value in request.headers.items()}
    env.update({"Http_Method": request.command, "Http_Path": path})
    if query:
        env["Http_Query"] = query
    return env


def caller_is_there(connection):
    try:
        return connection.recv(1, socket.MSG_PEEK) != b""
    except OSError:
        return False


def run_call(body, environment, output):
    """The call's process: never returns."""
    code = 0
    try:
        os.setpgid(0, 0)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(output, 1)
        if COMBINE_OUTPUT:
            os.dup2(output, 2)
        os.close(output)
        os.environ.update(environment)
        result = handler.handle(body.decode("utf-8", errors="replace"))
        if result is not None:
            print(result)
    except SystemExit as ended:
        code = ended.code if isinstance(ended.code, int) else (0 if ended.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, data, content_type=None):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def respond(self):
        if self.path == "/_/health":
            self.send_response(200)
            self.send_header("X-Faasline-Watchdog", "classic")
            self.end_headers()
            self.wfile.write(b"OK")
            return
        started = time.monotonic()
        body = read_body(self)
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(reader)
            run_call(body, cgi_environment(self), writer)
        os.close(writer)
        chunks, watched = [], [reader, self.connection]
        while True:
            ready, _, _ = select.select(watched, [], [])
            if reader in ready:
                data = os.read(reader, 65536)
                if not data:
                    break
                chunks.append(data)
            elif caller_is_there(self.connection):
                watched = [reader]
            else:
                # The gateway closed the call (its timeout): it ends here, with all it started.
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                os.close(reader)
                return
        os.close(reader)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        out = b"".join(chunks)
        if code != 0:
            ended = "exit status %d" % code if code > 0 else "signal: %s" % signal.Signals(-code).name
            return self.answer(500, ended.encode() + b"\n" + out, "text/plain; charset=utf-8")
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE or self.headers.get("content-type") or "text/plain; charset=utf-8")
        self.send_header("X-Duration-Seconds", "%f" % (time.monotonic() - started))
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = respond


class Server(ForkingMixIn, HTTPServer):
    # Connections are served in processes of their own (one call each), so a call never waits for another.
    max_children = 40


Server(("127.0.0.1", int(os.getenv("PORT", "5000"))), Handler).serve_forever()
