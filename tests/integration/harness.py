"""The integration tests' harness: a test's temporary directory and
configuration, the real daemon started with $NOTIFY_SOCKET on a socket the
test listens on, bounded waiting, and small helpers.

Everything that can take time is bounded by a deadline scaled by SLOW (2.5
under AddressSanitizer builds, or $WATCHLISTD_IT_SLOW), and every process the
harness starts is killed on exit.
"""
import atexit
import glob
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
NEWS = os.path.join(ROOT, 'tests', 'data', 'news')
EML_DIR = os.path.join(ROOT, 'tests', 'data', 'eml')
WATCHLISTS = os.path.join(ROOT, 'etc', 'watchlists.d', '*.ini')

SLOW = 1.0

# WATCHLISTD_IT_LONG=1: the long variants of the fault tests (20 x 10,000
# documents killed with -9, a 100,000-file backlog, 1,000 reloads, ...).
LONG = os.environ.get('WATCHLISTD_IT_LONG') == '1'


def long_or(short, long):
    """short normally, long under WATCHLISTD_IT_LONG=1."""
    return long if LONG else short


# What a sanitizer writes when it finds something (ASan, LSan, UBSan).
SANITIZER_REPORT = re.compile(
    r'^(==\d+==ERROR: (AddressSanitizer|LeakSanitizer)|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer'
    r'|\S+:\d+:\d+: runtime error: )', re.M)


def sanitizer_report(text):
    """The first line of a sanitizer report in a log, or None."""
    m = SANITIZER_REPORT.search(text)
    if m is None:
        return None
    end = text.find('\n', m.start())
    return text[m.start():end if end != -1 else len(text)][:300]


def vmrss_kb(pid):
    """The resident set size of a process, in kB (VmRSS), or None."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def set_slow(binary):
    """Scale deadlines for slow builds (sanitisers) or slow machines."""
    global SLOW
    env = os.environ.get('WATCHLISTD_IT_SLOW')
    if env:
        SLOW = float(env)
    elif '/san/' in binary or os.environ.get('ASAN_OPTIONS') is not None:
        SLOW = 2.5
    else:
        SLOW = 1.0


def scaled(seconds):
    return seconds * SLOW


class Skip(Exception):
    """The test cannot run here; the message says why."""


class Fail(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def wait_until(pred, timeout, interval=0.02, what='condition'):
    """Poll pred() until it returns something true; return that.  Raise Fail
    naming `what` (a string, or a function giving one) at the deadline
    (timeout is scaled)."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            if callable(what):
                what = what()
            raise Fail('timed out after %.1fs waiting for %s' % (scaled(timeout), what))
        time.sleep(interval)


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def alert_id(rule, data):
    """The alert id the daemon derives for rule firing on document bytes."""
    return hashlib.sha256(rule.encode() + b'\0' + sha256_hex(data).encode()).hexdigest()[:32]


def news(name):
    """Path of a sample article by prefix, e.g. news('000', 'html')."""
    return os.path.join(NEWS, name)


def article(prefix, ext):
    m = glob.glob(os.path.join(NEWS, prefix + '_*.' + ext))
    if len(m) != 1:
        raise Fail('sample article %s*.%s not found in %s' % (prefix, ext, NEWS))
    return m[0]


def ws_norm(s):
    return re.sub(r'\s+', ' ', s).strip()


# ---------------------------------------------------------------------------
# Processes the harness started: killed on exit whatever happens.

_live = set()
_live_lock = threading.Lock()


def _track(p):
    with _live_lock:
        _live.add(p)


def _untrack(p):
    with _live_lock:
        _live.discard(p)


def kill_all():
    with _live_lock:
        procs = list(_live)
        _live.clear()
    for p in procs:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(5)
            except Exception:
                pass


atexit.register(kill_all)


def _on_signal(sig, frame):
    kill_all()
    os._exit(128 + sig)


for _s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    try:
        signal.signal(_s, _on_signal)
    except (ValueError, OSError):
        pass


def spawn(argv, **kw):
    """Popen a helper process (a peer) that is killed on exit."""
    p = subprocess.Popen(argv, **kw)
    _track(p)
    return p


def reap(p, timeout=5):
    if p is None:
        return
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
    _untrack(p)


# ---------------------------------------------------------------------------
# sd_notify: a datagram socket the daemon sends to.

class NotifySocket:
    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.msgs = []  # (time.monotonic(), text)
        self.cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            with self.cond:
                self.msgs.append((time.monotonic(), data.decode('utf-8', 'replace')))
                self.cond.notify_all()

    def mark(self):
        """A position: wait_for(after=mark) looks only at later messages."""
        with self.cond:
            return len(self.msgs)

    def messages(self, after=0):
        with self.cond:
            return list(self.msgs[after:])

    def wait_for(self, pred, timeout, after=0, what='a notify message'):
        """The index of the first message from `after` on for which
        pred(text) holds; Fail at the deadline (timeout is scaled)."""
        deadline = time.monotonic() + scaled(timeout)
        with self.cond:
            while True:
                for i in range(after, len(self.msgs)):
                    if pred(self.msgs[i][1]):
                        return i
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Fail('no %s within %.1fs; got %r' % (
                        what, scaled(timeout), [m for _, m in self.msgs[after:]][-10:]))
                self.cond.wait(min(left, 0.1))

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.sock.close()


def has_line(text, line):
    """Whether a notify message holds the line (e.g. "READY=1")."""
    return line in text.split('\n')


# ---------------------------------------------------------------------------
# The daemon.

class Daemon:
    def __init__(self, ctx, binary, conf, env=None):
        self.ctx = ctx
        self.binary = binary
        self.conf = conf
        self.extra_env = dict(env or {})
        self.proc = None
        self.log_path = os.path.join(ctx.dir, 'daemon.log')
        self.logf = None
        self.exit_code = None
        self.ready_mark = 0

    def start(self, wait_ready=True, timeout=10):
        env = dict(os.environ)
        for k in ('NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID',
                  'JOURNAL_STREAM', 'LISTEN_FDS', 'LISTEN_PID'):
            env.pop(k, None)
        env['NOTIFY_SOCKET'] = self.ctx.notify.path
        env.update(self.extra_env)
        for k, v in list(env.items()):
            if v is None:
                del env[k]
        self.logf = open(self.log_path, 'ab')
        self.logf.write(('---- start %s\n' % time.strftime('%H:%M:%S')).encode())
        self.logf.flush()
        mark = self.ctx.notify.mark()
        self.proc = subprocess.Popen([self.binary, '-c', self.conf, 'run'],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=self.logf,
                                     env=env, cwd=self.ctx.dir)
        _track(self.proc)
        self.exit_code = None
        if wait_ready:
            self.wait_ready(mark, timeout)
        return mark

    def wait_ready(self, mark, timeout=10):
        deadline = time.monotonic() + scaled(timeout)
        while True:
            msgs = self.ctx.notify.messages(mark)
            for i, (_, m) in enumerate(msgs):
                if has_line(m, 'READY=1'):
                    self.ready_mark = mark + i
                    return mark + i
            if self.proc.poll() is not None:
                raise Fail('daemon exited with %s before READY=1' % self.proc.returncode)
            if time.monotonic() >= deadline:
                raise Fail('no READY=1 within %.1fs' % scaled(timeout))
            time.sleep(0.02)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def pid(self):
        return self.proc.pid

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=15):
        """SIGTERM and wait; return (exit code, seconds taken)."""
        if self.proc is None:
            return None, 0
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(scaled(timeout))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            self._closed()
            raise Fail('daemon did not exit within %.1fs of SIGTERM' % scaled(timeout))
        self._closed()
        self.exit_code = rc
        return rc, time.monotonic() - t0

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._closed()

    def _closed(self):
        _untrack(self.proc)
        if self.logf is not None:
            self.logf.close()
            self.logf = None

    def log(self):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            return ''

    def wait_log(self, pattern, timeout, what=None, start=0):
        """Wait for a log line matching the regex; return the match."""
        rx = re.compile(pattern)

        def find():
            return rx.search(self.log(), start)
        return wait_until(find, timeout, 0.05, what or 'log line /%s/' % pattern)


# ---------------------------------------------------------------------------
# A test's world: a temporary directory, configuration, daemons, receivers.

class Ctx:
    def __init__(self, binary, name):
        self.binary = binary
        self.name = name
        self.dir = tempfile.mkdtemp(prefix='wlit-%s-' % name[:20])
        self.inbox = os.path.join(self.dir, 'inbox')
        self.state = os.path.join(self.dir, 'state')
        self.stage = os.path.join(self.dir, 'stage')  # same file system
        os.makedirs(self.stage)
        self.conf = os.path.join(self.dir, 'watchlistd.ini')
        self.notify = NotifySocket(os.path.join(self.dir, 'notify.sock'))
        self.daemons = []
        self.receivers = []
        self.cleanups = []
        self._n = 0

    # Paths.

    @property
    def spool(self):
        return os.path.join(self.state, 'spool')

    @property
    def dead(self):
        return os.path.join(self.state, 'spool', 'dead')

    @property
    def processed(self):
        return os.path.join(self.state, 'processed')

    @property
    def failed(self):
        return os.path.join(self.state, 'failed')

    @property
    def work(self):
        return os.path.join(self.inbox, '.work')

    def spool_files(self):
        return sorted(os.path.basename(p) for p in glob.glob(os.path.join(self.spool, '*.spool')))

    def dead_files(self):
        return sorted(os.path.basename(p) for p in glob.glob(os.path.join(self.dead, '*')))

    def listdir(self, d):
        try:
            return sorted(os.listdir(d))
        except FileNotFoundError:
            return []

    def inbox_files(self):
        """Names in the inbox apart from .work/ (dot-files included)."""
        return [n for n in self.listdir(self.inbox) if n != '.work']

    # Configuration.

    def write_config(self, webhooks=(), rules=(), daemon=None, extra='', path=None,
                     feeds=()):
        """webhooks: (id, {key: value}); rules: (id, {key: value}); feeds:
        (id, {key: value}) as [feed:ID] sections."""
        d = {
            'inbox': self.inbox,
            'state_dir': self.state,
            'watchlists': WATCHLISTS,
            'log_level': 'info',
            'shutdown_timeout': '5s',
        }
        d.update(daemon or {})
        lines = ['[daemon]']
        lines += ['%s = %s' % (k, v) for k, v in d.items() if v is not None]
        for wid, kv in webhooks:
            lines += ['', '[webhook:%s]' % wid]
            lines += ['%s = %s' % (k, v) for k, v in kv.items()]
        for rid, kv in rules:
            lines += ['', '[rule:%s]' % rid]
            lines += ['%s = %s' % (k, v) for k, v in kv.items()]
        for fid, kv in feeds:
            lines += ['', '[feed:%s]' % fid]
            lines += ['%s = %s' % (k, v) for k, v in kv.items()]
        text = '\n'.join(lines) + '\n' + extra
        path = path or self.conf
        tmp = path + '.tmp'
        with open(tmp, 'w') as f:
            f.write(text)
        os.rename(tmp, path)
        return path

    # Processes.

    def daemon(self, env=None, start=True, timeout=10):
        dm = Daemon(self, self.binary, self.conf, env)
        self.daemons.append(dm)
        if start:
            dm.start(timeout=timeout)
        return dm

    def daemon_refused(self, what, timeout=10):
        """Start a daemon that must not come up: it has to exit within
        timeout (scaled); returns it, exit_code set, for its log.  what
        says what should have stopped it."""
        dm = self.daemon(start=False)
        dm.start(wait_ready=False)
        try:
            dm.proc.wait(scaled(timeout))
        except subprocess.TimeoutExpired:
            raise Fail('started with %s' % what)
        dm._closed()
        dm.exit_code = dm.proc.returncode
        return dm

    def receiver(self, **kw):
        from receiver import Receiver
        r = Receiver(**kw)
        self.receivers.append(r)
        return r

    def feed_server(self):
        """A feed server (feedserver.py) closed with the test."""
        from feedserver import FeedServer
        s = FeedServer()
        self.receivers.append(s)
        return s

    # Documents.

    def drop(self, name, data):
        """Write under a dot-name in the inbox, then rename: the producer's
        protocol."""
        tmp = os.path.join(self.inbox, '.%s.tmp' % name)
        with open(tmp, 'wb') as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.inbox, name))
        return data

    def drop_file(self, src, name=None):
        name = name or os.path.basename(src)
        with open(src, 'rb') as f:
            data = f.read()
        return self.drop(name, data)

    def log_tail(self, n=30):
        out = []
        seen = set()
        for dm in self.daemons:
            if dm.log_path in seen:
                continue
            seen.add(dm.log_path)
            out += dm.log().splitlines()[-n:]
        return '\n'.join(out[-n:])

    def finish(self):
        """Stop every daemon still running with SIGTERM; Fail unless each
        exits 0 and said STOPPING=1."""
        errors = []
        for dm in self.daemons:
            if dm.proc is None or not dm.alive():
                if dm.proc is not None and dm.proc.returncode not in (0, -9) \
                        and dm.exit_code is None:
                    errors.append('daemon had exited with %s' % dm.proc.returncode)
                continue
            mark = self.notify.mark()
            try:
                rc, _ = dm.stop()
            except Fail as e:
                errors.append(str(e))
                continue
            if rc != 0:
                errors.append('daemon exited %s after SIGTERM' % rc)
            elif not any(has_line(m, 'STOPPING=1') for _, m in self.notify.messages(mark)):
                errors.append('no STOPPING=1 before exit')
        # A sanitizer's report (a leak found at exit, a UBSan runtime
        # error) fails the test whatever the exit status was.
        seen = set()
        for dm in self.daemons:
            if dm.log_path in seen:
                continue
            seen.add(dm.log_path)
            report = sanitizer_report(dm.log())
            if report is not None:
                errors.append('sanitizer report in the daemon log: %s' % report)
        return errors

    def use_dir(self, base):
        """Move the inbox, the state and the stage to a new directory under
        base (a tmpfs, say), removed with the test.  Call before
        write_config()."""
        d = tempfile.mkdtemp(prefix='wlit-%s-' % self.name[:20], dir=base)
        self.cleanups.append(lambda: shutil.rmtree(d, ignore_errors=True))
        self.inbox = os.path.join(d, 'inbox')
        self.state = os.path.join(d, 'state')
        self.stage = os.path.join(d, 'stage')
        os.makedirs(self.stage)
        return d

    def close(self, keep=False):
        for dm in self.daemons:
            if dm.alive():
                dm.proc.kill()
                dm.proc.wait(5)
            if dm.proc is not None:
                dm._closed()
        for r in self.receivers:
            try:
                r.close()
            except Exception:
                pass
        for fn in self.cleanups:
            try:
                fn()
            except Exception:
                pass
        self.notify.close()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)
