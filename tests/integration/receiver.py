"""A webhook receiver for the integration tests.

A threaded HTTP server on 127.0.0.1 (port 0, or a given port so that a test
can bring a receiver "back" where the daemon expects it).  Every request is
recorded (headers, body, arrival and answer times, the Standard Webhooks
signature checked against the receiver's secret) and answered from a script:
a list of responses used one per request, then a default response.

A response is a dict:
    status       HTTP status (default 200)
    retry_after  value of a Retry-After header, or None
    headers      more response headers (dict)
    body         the response body (bytes)
    delay        seconds to wait before answering
    hang         True: never answer (until the receiver is closed, or
                 hang_for seconds have passed); the connection is then closed
    hang_for     seconds a hang lasts at most (default 60)
    body_size    answer with this many bytes of filler (Content-Length),
                 streamed, instead of body; stops when the client hangs up
    endless      True: a chunked body of filler that never ends (until the
                 client hangs up or the receiver is closed)
"""
import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Request:
    """One request as the receiver saw it."""

    def __init__(self, method, path, headers, body, arrived):
        self.method = method
        self.path = path
        self.headers = headers  # lower-case names -> value
        self.body = body
        self.arrived = arrived  # time.monotonic() when the body was read
        self.answered = None    # time.monotonic() when the answer went out
        self.status = None      # what was answered (None: no answer)
        self.sig_ok = None      # None: no secret to check against
        self.sig_detail = ''
        self.sent = 0           # body bytes of the answer written

    @property
    def webhook_id(self):
        return self.headers.get('webhook-id')

    def json(self):
        return json.loads(self.body.decode('utf-8'))

    def __repr__(self):
        return '<%s %s id=%s status=%s at=%.3f>' % (
            self.method, self.path, self.webhook_id, self.status, self.arrived)


def secret_key(secret):
    """The raw key of a whsec_ secret."""
    if secret.startswith('whsec_'):
        secret = secret[len('whsec_'):]
    return base64.b64decode(secret)


def sign(secret, msg_id, timestamp, body):
    """The Standard Webhooks signature value ("v1,<base64>")."""
    mac = hmac.new(secret_key(secret),
                   msg_id.encode() + b'.' + str(timestamp).encode() + b'.' + body,
                   hashlib.sha256).digest()
    return 'v1,' + base64.b64encode(mac).decode()


def verify(secret, headers, body):
    """(ok, detail): whether the request carries a valid signature."""
    msg_id = headers.get('webhook-id')
    ts = headers.get('webhook-timestamp')
    sig = headers.get('webhook-signature')
    if not msg_id or not ts or not sig:
        return False, 'missing webhook-id/-timestamp/-signature header'
    try:
        ts_int = int(ts)
    except ValueError:
        return False, 'webhook-timestamp %r is not an integer' % ts
    if abs(time.time() - ts_int) > 300:
        return False, 'webhook-timestamp %d is more than 5 min off' % ts_int
    want = sign(secret, msg_id, ts_int, body)
    # The header may carry several space-separated signatures.
    for s in sig.split():
        if hmac.compare_digest(s, want):
            return True, ''
    return False, 'signature %r does not verify (want %r)' % (sig, want)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that went away (a killed daemon, a timeout) is part of
        # the tests; anything else is worth seeing.
        import sys
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class Receiver:
    def __init__(self, port=0, secret=None, script=None, default=None):
        self.secret = secret
        self.requests = []
        self.cond = threading.Condition()
        self.closing = threading.Event()
        self._script = list(script or [])
        self._default = dict(default or {'status': 200})
        self._srv = _Server(('127.0.0.1', port), self._handler_class())
        self.port = self._srv.server_address[1]
        self._thread = threading.Thread(target=self._srv.serve_forever,
                                        kwargs={'poll_interval': 0.05},
                                        daemon=True)
        self._thread.start()

    @property
    def url(self):
        return 'http://127.0.0.1:%d/hook' % self.port

    def set_script(self, script=None, default=None):
        """Replace what the next requests are answered."""
        with self.cond:
            self._script = list(script or [])
            if default is not None:
                self._default = dict(default)

    def _next_response(self):
        with self.cond:
            if self._script:
                return dict(self._script.pop(0))
            return dict(self._default)

    def _handler_class(self):
        rcv = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            # http.server writes each header line in its own send(); with
            # Nagle on, the client's delayed ACK adds ~40 ms per request.
            disable_nagle_algorithm = True

            def log_message(self, fmt, *args):
                pass

            def _handle(self):
                n = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(n) if n > 0 else b''
                headers = {k.lower(): v for k, v in self.headers.items()}
                req = Request(self.command, self.path, headers, body,
                              time.monotonic())
                if rcv.secret is not None:
                    req.sig_ok, req.sig_detail = verify(rcv.secret, headers, body)
                resp = rcv._next_response()
                with rcv.cond:
                    rcv.requests.append(req)
                    rcv.cond.notify_all()
                if resp.get('hang'):
                    rcv.closing.wait(resp.get('hang_for', 60))
                    self.close_connection = True
                    return
                if resp.get('delay'):
                    if rcv.closing.wait(resp['delay']):
                        self.close_connection = True
                        return
                status = resp.get('status', 200)
                if resp.get('body_size') or resp.get('endless'):
                    self._stream(req, status, resp)
                    return
                out = resp.get('body', b'{"ok":true}\n' if status < 300 else b'no\n')
                try:
                    self.send_response(status)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(out)))
                    for k, v in resp.get('headers', {}).items():
                        self.send_header(k, v)
                    if resp.get('retry_after') is not None:
                        self.send_header('Retry-After', str(resp['retry_after']))
                    self.end_headers()
                    self.wfile.write(out)
                    self.wfile.flush()
                except OSError:
                    return
                with rcv.cond:
                    req.status = status
                    req.answered = time.monotonic()
                    rcv.cond.notify_all()

            def _stream(self, req, status, resp):
                """A huge or endless answer, written as fast as the client
                reads it; the status counts as answered once the headers
                are out."""
                chunk = b'{"filler":"' + b'x' * 65500 + b'"}\n'
                size = resp.get('body_size')
                try:
                    self.send_response(status)
                    self.send_header('Content-Type', 'application/json')
                    if size:
                        self.send_header('Content-Length', str(size))
                    else:
                        self.send_header('Transfer-Encoding', 'chunked')
                    self.end_headers()
                    self.wfile.flush()
                    with rcv.cond:
                        req.status = status
                        req.answered = time.monotonic()
                        rcv.cond.notify_all()
                    left = size
                    while not rcv.closing.is_set() and (not size or left > 0):
                        part = chunk if not size else chunk[:min(len(chunk), left)]
                        if size:
                            self.wfile.write(part)
                            left -= len(part)
                        else:
                            self.wfile.write(b'%x\r\n%s\r\n' % (len(part), part))
                        with rcv.cond:
                            req.sent += len(part)
                    self.wfile.flush()
                except OSError:
                    pass
                self.close_connection = True

            do_POST = _handle
            do_PUT = _handle
            do_GET = _handle

        return Handler

    # Looking at what came.

    def snapshot(self):
        with self.cond:
            return list(self.requests)

    def count(self):
        with self.cond:
            return len(self.requests)

    def wait(self, pred, timeout):
        """Wait until pred(list of requests) is true; return the list, or
        None at the deadline."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                reqs = list(self.requests)
                if pred(reqs):
                    return reqs
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.1))

    def wait_count(self, n, timeout):
        return self.wait(lambda r: len(r) >= n, timeout)

    def ids(self, status=None):
        """webhook-ids seen (answered with status, if given)."""
        return [r.webhook_id for r in self.snapshot()
                if status is None or r.status == status]

    def close(self):
        self.closing.set()
        self._srv.shutdown()
        self._srv.server_close()
        self._thread.join(5)


def free_port():
    """A port that nothing listens on right now (for a receiver that comes
    later)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port
