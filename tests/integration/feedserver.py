"""A feed server for the integration tests.

A threaded HTTP server on 127.0.0.1 (port 0) that serves feeds the test
scripts per path, changing between polls.  Every request is recorded (path,
headers, arrival time, what was answered), so that a test can look at the
daemon's politeness: its conditional GETs, its User-Agent, the gaps between
its polls.

A path is answered from a script: a list of responses used one per request,
then a default response (set with serve()).  A response is a dict:
    status         HTTP status (default 200)
    body           the body (bytes; default empty)
    content_type   default application/rss+xml
    etag           sent as ETag; a request whose If-None-Match names it
                   gets 304 Not Modified
    last_modified  sent as Last-Modified; a request without If-None-Match
                   whose If-Modified-Since equals it gets 304
    gzip           True: the body goes gzip-compressed, with
                   Content-Encoding: gzip
    retry_after    value of a Retry-After header
    headers        more response headers (dict)
    delay          seconds to wait before answering
    hang           True: read the request, never answer (until the server
                   is closed or hang_for seconds have passed)
    hang_for       seconds a hang lasts at most (default 120)
    trickle        (nbytes, every): after the headers, send the body
                   nbytes at a time every `every` seconds
    endless        True: a chunked body that never ends (chunks of the
                   body, or of filler, as fast as the client reads), until
                   the client goes away or the server is closed
A path nobody scripted gets 404.
"""
import email.utils
import gzip
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Request:
    """One request as the feed server saw it."""

    def __init__(self, method, path, headers, arrived):
        self.method = method
        self.path = path
        self.headers = headers  # lower-case names -> value
        self.arrived = arrived  # time.monotonic() when the headers were read
        self.answered = None    # time.monotonic() when the answer was sent
        self.status = None      # what was answered (None: no answer)
        self.sent = 0           # body bytes written (after Content-Encoding)
        self.response = None    # the scripted response (dict) it got

    def __repr__(self):
        return '<%s %s status=%s at=%.3f>' % (self.method, self.path, self.status, self.arrived)


def http_date(t):
    return email.utils.formatdate(t, usegmt=True)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        # A client that gives up (a cut-off body, a killed daemon) is part
        # of the tests; anything else is worth seeing.
        import sys
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class FeedServer:
    def __init__(self):
        self.requests = []
        self.cond = threading.Condition()
        self.closing = threading.Event()
        self._paths = {}  # path -> [script list, default dict]
        self._srv = _Server(('127.0.0.1', 0), self._handler_class())
        self.port = self._srv.server_address[1]
        self._thread = threading.Thread(target=self._srv.serve_forever,
                                        kwargs={'poll_interval': 0.05},
                                        daemon=True)
        self._thread.start()

    def url(self, path):
        return 'http://127.0.0.1:%d%s' % (self.port, path)

    def serve(self, path, default=None, script=None):
        """What path answers from now on: the script's responses one per
        request, then default (kept if None and path already served)."""
        with self.cond:
            old = self._paths.get(path)
            if default is None:
                default = old[1] if old else {'status': 404, 'body': b'not here\n'}
            self._paths[path] = [list(script or []), dict(default)]

    def _next_response(self, path):
        with self.cond:
            entry = self._paths.get(path)
            if entry is None:
                return {'status': 404, 'body': b'not here\n', 'content_type': 'text/plain'}
            if entry[0]:
                return dict(entry[0].pop(0))
            return dict(entry[1])

    def _handler_class(self):
        srv = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            # http.server writes each header line in its own send(); with
            # Nagle on, the client's delayed ACK adds ~40 ms per request.
            disable_nagle_algorithm = True

            def log_message(self, fmt, *args):
                pass

            def _send_head(self, status, resp, length=None, extra=()):
                self.send_response(status)
                if status != 304:
                    self.send_header('Content-Type', resp.get('content_type', 'application/rss+xml'))
                if length is not None:
                    self.send_header('Content-Length', str(length))
                for k, v in extra:
                    self.send_header(k, v)
                if resp.get('etag') is not None:
                    self.send_header('ETag', resp['etag'])
                if resp.get('last_modified') is not None:
                    self.send_header('Last-Modified', resp['last_modified'])
                if resp.get('retry_after') is not None:
                    self.send_header('Retry-After', str(resp['retry_after']))
                for k, v in resp.get('headers', {}).items():
                    self.send_header(k, v)
                self.end_headers()

            def _answered(self, req, status):
                with srv.cond:
                    req.status = status
                    req.answered = time.monotonic()
                    srv.cond.notify_all()

            def _write(self, req, data):
                self.wfile.write(data)
                self.wfile.flush()
                req.sent += len(data)

            def do_GET(self):
                headers = {k.lower(): v for k, v in self.headers.items()}
                req = Request(self.command, self.path, headers, time.monotonic())
                resp = srv._next_response(self.path)
                req.response = resp
                with srv.cond:
                    srv.requests.append(req)
                    srv.cond.notify_all()
                try:
                    self._answer(req, resp, headers)
                except OSError:
                    self.close_connection = True

            def _answer(self, req, resp, headers):
                if resp.get('hang'):
                    srv.closing.wait(resp.get('hang_for', 120))
                    self.close_connection = True
                    return
                if resp.get('delay') and srv.closing.wait(resp['delay']):
                    self.close_connection = True
                    return
                status = resp.get('status', 200)
                # Conditional GET (RFC 9110: If-None-Match wins).
                inm = headers.get('if-none-match')
                ims = headers.get('if-modified-since')
                if status == 200 and resp.get('etag') is not None and inm is not None:
                    if resp['etag'] in [t.strip() for t in inm.split(',')]:
                        status = 304
                elif status == 200 and resp.get('last_modified') is not None and ims is not None:
                    if ims == resp['last_modified']:
                        status = 304
                if status == 304:
                    self._send_head(304, resp)
                    self._answered(req, 304)
                    return
                body = resp.get('body', b'')
                extra = []
                if resp.get('gzip'):
                    body = gzip.compress(body)
                    extra.append(('Content-Encoding', 'gzip'))
                if resp.get('endless'):
                    extra.append(('Transfer-Encoding', 'chunked'))
                    self._send_head(status, resp, None, extra)
                    self._answered(req, status)
                    chunk = body or (b'<item><title>more</title></item>\n' * 500)
                    while not srv.closing.is_set():
                        self._write(req, b'%x\r\n%s\r\n' % (len(chunk), chunk))
                    self.close_connection = True
                    return
                if resp.get('trickle'):
                    n, every = resp['trickle']
                    self._send_head(status, resp, len(body), extra)
                    self._answered(req, status)
                    for i in range(0, len(body), n):
                        if srv.closing.wait(every):
                            break
                        self._write(req, body[i:i + n])
                    self.close_connection = True
                    return
                self._send_head(status, resp, len(body), extra)
                self._write(req, body)
                self._answered(req, status)

        return Handler

    # Looking at what came.

    def snapshot(self, path=None):
        with self.cond:
            return [r for r in self.requests if path is None or r.path == path]

    def count(self, path=None):
        return len(self.snapshot(path))

    def wait(self, pred, timeout, path=None):
        """Wait until pred(list of requests [for path]) is true; return the
        list, or None at the deadline."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                reqs = [r for r in self.requests if path is None or r.path == path]
                if pred(reqs):
                    return reqs
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.1))

    def wait_count(self, n, timeout, path=None):
        return self.wait(lambda r: len(r) >= n, timeout, path)

    def close(self):
        self.closing.set()
        self._srv.shutdown()
        self._srv.server_close()
        self._thread.join(5)


# ---------------------------------------------------------------------------
# Sample feeds cut into pieces, to serve a feed that changes between polls.

class SampleRSS:
    """tests/data/feeds/news.rss as head, items and tail."""

    def __init__(self, path):
        with open(path, 'rb') as f:
            data = f.read()
        items = list(re.finditer(rb'[ \t]*<item>.*?</item>\s*', data, re.S))
        if len(items) < 2:
            raise ValueError('%s: no <item>s' % path)
        self.head = data[:items[0].start()]
        self.items = [m.group(0) for m in items]
        self.tail = data[items[-1].end():]

    def feed(self, which=None, pad=0):
        """The feed with the items whose indexes are in which (all if None),
        and an XML comment of pad bytes to make it larger."""
        which = range(len(self.items)) if which is None else which
        body = self.head + b''.join(self.items[i] for i in which)
        if pad:
            body += b'<!-- ' + b'x' * pad + b' -->\n'
        return body + self.tail
