"""Fault tests (issue 6): the real daemon killed with -9 at random moments,
a full disk, receivers that are down or hang, an inotify overflow and a
large backlog under signals and the watchdog, clock jumps, and many
reloads.  Each test says in its docstring what it checks, and checks it.

WATCHLISTD_IT_LONG=1 runs the long variants (20 x 10,000 documents killed
with -9, a 30,000-file overflow, a 100,000-file backlog, 1,000 reloads);
their figures go to the `ok` line.  Tests that need root (a tmpfs, the
inotify sysctl) are skipped with the reason otherwise.
"""
import errno
import os
import random
import re
import signal
import socket
import subprocess
import threading
import time

from harness import (Fail, Skip, alert_id, check, has_line, long_or, scaled,
                     vmrss_kb, wait_until)
from receiver import free_port

FAKETIME_LIBS = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
                 '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
                 '/usr/lib/faketime/libfaketime.so.1']


def _cases():
    import cases
    return cases


def isis_rule(**kw):
    d = {'when': 'isis', 'severity': 'high'}
    d.update(kw)
    return d


def fast_dir(ctx):
    """Put the inbox and state on /dev/shm when it is a tmpfs
    (WATCHLISTD_IT_TMPFS=0: no).  kill -9 and backlogs are about the
    process, not the disk: the page cache survives a killed process, so a
    tmpfs proves the same while sparing thousands of fsyncs."""
    if os.environ.get('WATCHLISTD_IT_TMPFS', '1') == '0':
        return 'disk'
    try:
        with open('/proc/mounts') as f:
            tmpfs = any(l.split()[1] == '/dev/shm' and l.split()[2] == 'tmpfs' for l in f)
    except OSError:
        tmpfs = False
    if not tmpfs or not os.access('/dev/shm', os.W_OK):
        return 'disk'
    ctx.use_dir('/dev/shm')
    return 'tmpfs'


def count_dir(path):
    try:
        with os.scandir(path) as it:
            return sum(1 for _ in it)
    except FileNotFoundError:
        return 0


def status_processed(ctx, mark):
    """Documents processed by the daemon started at notify mark, from its
    last STATUS= (sent at most once a second)."""
    for _, m in reversed(ctx.notify.messages(mark)):
        found = re.search(r'STATUS=.*?: (\d+) processed', m)
        if found:
            return int(found.group(1))
    return 0


def spool_ids(ctx):
    """Alert ids with a pending spool file."""
    return {n.split('.')[0] for n in ctx.listdir(ctx.spool) if n.endswith('.spool')}


class Pings:
    """The gaps between WATCHDOG=1 messages from a notify mark on."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.mark = ctx.notify.mark()
        self.t0 = time.monotonic()

    def times(self):
        return [t for t, m in self.ctx.notify.messages(self.mark) if has_line(m, 'WATCHDOG=1')]

    def max_gap(self):
        """The longest time without a ping from the mark until now."""
        ts = [self.t0] + self.times() + [time.monotonic()]
        return max(b - a for a, b in zip(ts, ts[1:]))


def reload_and_wait(ctx, dm, timeout=10):
    """SIGHUP, then READY=1; returns seconds to READY=1."""
    mark = ctx.notify.mark()
    t0 = time.monotonic()
    dm.signal(signal.SIGHUP)
    ctx.notify.wait_for(lambda m: has_line(m, 'READY=1'), timeout, after=mark,
                        what='READY=1 after SIGHUP')
    return time.monotonic() - t0


# ---------------------------------------------------------------------------

def test_kill9_random(ctx):
    """kill -9 at random moments while a burst of documents goes through
    (CI: 6 x 300; WATCHLISTD_IT_LONG=1: 20 x 10,000).  Pass: every expected
    alert id is delivered (200) at least once; every document ends in
    processed/ (none in failed/, none left in the inbox, .work/ or the
    spool, nothing in dead/); no alert id the documents do not make; and
    every id delivered more than once was in flight at a kill: spooled (or
    its document claimed but not released) when the process died, and
    already received by the receiver by then."""
    cycles, per = long_or((6, 300), (20, 10000))
    where = fast_dir(ctx)
    r = ctx.receiver(secret=_cases().SECRET, default={'status': 200})
    ctx.write_config(webhooks=[('a', _cases().wh(r.url, backoff='200ms', backoff_max='1s',
                                                 concurrency='8'))],
                     rules=[('isis', isis_rule())],
                     daemon={'spool_max_size': '1G', 'log_level': 'notice'})
    seed = os.environ.get('WATCHLISTD_IT_SEED') or str(random.randrange(1 << 30))
    rnd = random.Random(seed)
    docs = {}
    want = {}
    justified = set()
    kills = []
    t_all = time.monotonic()
    for cycle in range(cycles):
        dm = ctx.daemon(timeout=60)
        batch = {}
        for i in range(per):
            name = 'k%02d-%05d.txt' % (cycle, i)
            batch[name] = _cases().short_doc('kill %d/%d' % (cycle, i))
        docs.update(batch)
        for name, data in batch.items():
            want[alert_id('isis', data)] = name
        done_before = count_dir(ctx.processed)
        got_before = r.count()

        def produce(batch=batch):
            for name, data in batch.items():
                ctx.drop(name, data)
        th = threading.Thread(target=produce)
        th.start()
        # The kill lands at a random point of this cycle's work: while
        # files arrive, while they are processed, or while their alerts
        # are delivered.  (The daemon's STATUS= counts what it processed,
        # and the receiver what it got: no directory listing to poll.)
        mode = rnd.choice(['early', 'processed', 'delivered'])
        frac = rnd.random()
        if mode == 'early':
            time.sleep(frac * 1.5)
        elif mode == 'processed':
            target = int(frac * min(per, len(docs) - done_before))
            wait_until(lambda: status_processed(ctx, dm.ready_mark) >= target or not dm.alive(),
                       long_or(120, 900), 0.02, what='%d documents processed' % target)
            time.sleep(rnd.uniform(0, 1))
        else:
            target = got_before + int(frac * per)
            wait_until(lambda: r.count() >= target or not dm.alive(), long_or(120, 900), 0.005,
                       what='%d deliveries' % target)
            time.sleep(rnd.uniform(0, 0.02))
        check(dm.alive(), 'the daemon died by itself in cycle %d' % cycle)
        dm.kill9()
        # What was in flight: spooled, or claimed but not released.
        pending = spool_ids(ctx)
        for n in ctx.listdir(ctx.work):
            base = re.sub(r'\.\d+$', '', n)
            if base in docs:
                pending.add(alert_id('isis', docs[base]))
        th.join()
        # Answers the receiver was still writing at the kill.
        r.wait(lambda q: all(x.status is not None for x in q[-16:]), 1)
        received = {x.webhook_id for x in r.snapshot()}
        justified |= pending & received
        kills.append('%s %.0f%%' % (mode[0], frac * 100))
    dm = ctx.daemon(timeout=60)

    def delivered():
        return set(r.ids(status=200))

    def settled():
        return (len(delivered()) >= len(want) and count_dir(ctx.processed) >= len(docs)
                and not ctx.inbox_files() and not ctx.listdir(ctx.work) and not spool_ids(ctx))
    try:
        wait_until(settled, long_or(60, 3600), interval=long_or(0.2, 5),
                   what='every document processed and every alert delivered')
    except Fail as e:
        missing = set(want) - delivered()
        raise Fail('%s (seed %s): %d alerts undelivered (e.g. %s), inbox %d, .work %d, spool %d, '
                   'processed %d of %d' % (
                       e, seed, len(missing), [want[m] for m in list(missing)[:3]],
                       len(ctx.inbox_files()), len(ctx.listdir(ctx.work)), len(spool_ids(ctx)),
                       count_dir(ctx.processed), len(docs)))
    took = time.monotonic() - t_all
    processed = set(ctx.listdir(ctx.processed))
    lost = set(docs) - processed
    check(not lost, '%d documents lost (seed %s), e.g. %s' % (len(lost), seed, sorted(lost)[:3]))
    check(ctx.listdir(ctx.failed) == [], 'valid documents in failed/: %s' % ctx.listdir(ctx.failed)[:5])
    check(ctx.dead_files() == [], 'dead/: %s' % ctx.dead_files()[:3])
    ids = r.ids(status=200)
    stray = set(ids) - set(want)
    check(not stray, 'unexpected alert ids delivered: %s' % list(stray)[:3])
    counts = {}
    for i in ids:
        counts[i] = counts.get(i, 0) + 1
    dups = {i for i, n in counts.items() if n > 1}
    unexplained = dups - justified
    check(not unexplained, '%d ids delivered twice that were not in flight at a kill (seed %s), e.g. %s' % (
        len(unexplained), seed, [want[i] for i in list(unexplained)[:3]]))
    ndup = len(ids) - len(set(ids))
    ctx.timing = ('%d runs, %d documents, %d alerts, %d duplicate deliveries (%d ids), 0 lost, '
                  'in %.0fs on %s; seed %s; kills at %s' % (
                      cycles, len(docs), len(want), ndup, len(dups), took, where, seed, ', '.join(kills)))


def _mount_tmpfs(ctx, path, size):
    """Mount a tmpfs of size at path (root only); Skip with the reason
    when it cannot be done."""
    if os.geteuid() != 0:
        raise Skip('needs root to mount a small tmpfs for the state')
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=%s,mode=0755' % size, 'wlit', path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise Skip('cannot mount a tmpfs: %s' % (r.stderr.strip() or r.returncode))

    def umount():
        for _ in range(50):
            if subprocess.run(['umount', path], capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        subprocess.run(['umount', '-l', path], capture_output=True)
    ctx.cleanups.insert(0, umount)


def _fill(path, keep=0):
    """Write a file in path until the file system is full (leaving about
    keep bytes); returns its name."""
    filler = os.path.join(path, 'filler')
    with open(filler, 'wb', buffering=0) as f:
        block = b'\0' * 4096
        while True:
            try:
                f.write(block)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
    if keep:
        size = os.path.getsize(filler)
        os.truncate(filler, max(0, size - keep))
    return filler


def test_disk_full(ctx):
    """The state (spool, processed/, failed/, dedup) on a 4 MB tmpfs made by
    the test, the inbox elsewhere; the tmpfs is then filled up.  Pass: the
    daemon keeps running; it logs "No space left on device" naming what
    failed; it stops claiming inbox files (what it held when the disk
    filled stays in .work/, files that come later stay in the inbox through
    the next try, 5 s later; a log line per try, not more); a document
    whose alerts were spooled but
    that cannot be moved to processed/ is kept claimed and tried again,
    not left behind; once the filler is removed it resumes by itself, and
    every document ends in processed/ with every alert delivered, none in
    failed/ or dead/."""
    _mount_tmpfs(ctx, ctx.state, '4m')
    r = ctx.receiver(secret=_cases().SECRET)
    ctx.write_config(webhooks=[('a', _cases().wh(r.url))], rules=[('isis', isis_rule())])
    dm = ctx.daemon()
    t0 = time.monotonic()
    # Full: nothing can be spooled.
    filler = _fill(ctx.state)
    names = ['full-%02d.txt' % i for i in range(12)]
    docs = {}
    for n in names:
        docs[n] = ctx.drop(n, _cases().short_doc(n))
    m = dm.wait_log(r'(?m)^.*No space left on device.*$', 10, 'a log line saying the disk is full')
    line = m.group(0)
    check(ctx.state in line, 'the line does not say where: %r' % line)
    # Files that come once the disk is known to be full are left in the
    # inbox through the next try of those held (5 s later).
    held = ctx.listdir(ctx.work)
    late = ['late-%d.txt' % i for i in range(5)]
    for n in late:
        docs[n] = ctx.drop(n, _cases().short_doc(n))
    tries = r'(?s)No space left on device.*No space left on device'
    dm.wait_log(tries, 8, 'the next try on the full disk')
    time.sleep(scaled(0.3))
    check(set(late) <= set(ctx.inbox_files()), 'files claimed while the disk is full: %s' % (
        set(late) - set(ctx.inbox_files())))
    check(set(ctx.listdir(ctx.work)) <= set(held), 'more files claimed while the disk is full: %s' % (
        set(ctx.listdir(ctx.work)) - set(held)))
    check(ctx.spool_files() == [], 'spool files on a full disk: %s' % ctx.spool_files())
    check(ctx.listdir(ctx.failed) == [], 'failed/ on a full disk: %s' % ctx.listdir(ctx.failed))
    check(dm.alive(), 'the daemon died on a full disk')
    retries = len(re.findall(r'No space left on device', dm.log()))
    check(retries <= 3, '%d log lines about the full disk over two tries: one a try is enough' % retries)
    # Room for the spool, not for a copy of a 300 KB document into
    # processed/ (the inbox is on another file system): it must stay
    # claimed, to be moved later, not be left behind.
    os.unlink(filler)
    big = _cases().short_doc('big') + b'Filler line for a large document.\n' * 9000
    filler = _fill(ctx.state, keep=200 * 1024)
    docs['big.txt'] = ctx.drop('big.txt', big)
    dm.wait_log(r'big\.txt.*No space left on device', 8, 'a failed move of big.txt logged')
    check(ctx.listdir(ctx.failed) == [], 'failed/ on a full disk: %s' % ctx.listdir(ctx.failed))
    check(dm.alive(), 'the daemon died on a full disk')
    os.unlink(filler)
    t_free = time.monotonic()
    wait_until(lambda: set(docs) <= set(ctx.listdir(ctx.processed)), 15, 0.1,
               what=lambda: 'every document in processed/ after space was freed (inbox %s, .work %s, '
               'processed %s)' % (ctx.inbox_files(), ctx.listdir(ctx.work), ctx.listdir(ctx.processed)))
    resumed = time.monotonic() - t_free
    want = {alert_id('isis', d) for d in docs.values()}
    got = r.wait(lambda q: want <= {x.webhook_id for x in q if x.status == 200}, scaled(10))
    check(got is not None, 'alerts missing after the disk had room: %d of %d' % (
        len(want & set(r.ids(200))), len(want)))
    check(ctx.listdir(ctx.failed) == [], 'failed/: %s' % ctx.listdir(ctx.failed))
    check(ctx.dead_files() == [], 'dead/: %s' % ctx.dead_files())
    check(ctx.listdir(ctx.work) == [] and ctx.inbox_files() == [], 'left: .work %s, inbox %s' % (
        ctx.listdir(ctx.work), ctx.inbox_files()))
    with open(os.path.join(ctx.processed, 'big.txt'), 'rb') as f:
        check(f.read() == big, 'processed/big.txt is not the whole document')
    ctx.timing = 'resumed %.1fs after space was freed (%.1fs in all)' % (resumed, time.monotonic() - t0)


def test_receiver_down_past_retry_for(ctx):
    """A receiver that is down (connection refused) for longer than
    retry_for (2 s).  Pass: each of the 5 alerts is at every moment either
    pending in spool/ or in spool/dead/ (never silently gone); all end in
    spool/dead/ with a .reason naming the connection failure; each is
    logged as given up; the inbox documents are processed meanwhile."""
    port = free_port()
    ctx.write_config(webhooks=[('down', _cases().wh('http://127.0.0.1:%d/hook' % port, backoff='200ms',
                                                    backoff_max='500ms', retry_for='2s'))],
                     rules=[('isis', isis_rule())])
    dm = ctx.daemon()
    stems = []
    for i in range(5):
        data = ctx.drop('down-%d.txt' % i, _cases().short_doc('down %d' % i))
        stems.append('%s.down' % alert_id('isis', data))
    wait_until(lambda: len(ctx.spool_files()) + len(ctx.dead_files()) >= 5, 5, what='5 alerts spooled')
    deadline = time.monotonic() + scaled(12)
    while True:
        pend, dead = set(ctx.spool_files()), set(ctx.dead_files())
        for s in stems:
            check(s + '.spool' in pend or s + '.spool' in dead, 'alert %s vanished' % s)
        if all(s + '.spool' in dead for s in stems):
            break
        check(time.monotonic() < deadline, 'not all in dead/ %.0fs after retry_for (2 s): %d of 5' % (
            scaled(12), len([s for s in stems if s + '.spool' in dead])))
        time.sleep(0.05)
    for s in stems:
        wait_until(lambda: s + '.reason' in ctx.dead_files(), 2, what='%s.reason' % s)
        with open(os.path.join(ctx.dead, s + '.reason')) as f:
            reason = f.read()
        check(re.search(r'(?i)connect|refused', reason), '%s.reason does not say why: %r' % (s, reason))
        dm.wait_log(r'gave up alert %s for webhook down' % s.split('.')[0], 2,
                    'a log line saying alert %s was given up' % s.split('.')[0])
    check(len(ctx.listdir(ctx.processed)) == 5, 'processed/: %s' % ctx.listdir(ctx.processed))
    check(ctx.spool_files() == [], 'spool: %s' % ctx.spool_files())


def test_hanging_receiver_isolated(ctx):
    """Two webhooks that never answer (one reads the request and hangs, one
    is a socket that is never accepted) beside a working one.  Pass: the
    working webhook gets each of 10 alerts within 1.5 s of its document
    (scaled), while the others' deliveries stay open; SIGTERM then stops
    the daemon within shutdown_timeout (1 s) plus 1.5 s, keeping the
    unanswered deliveries in the spool."""
    hang = ctx.receiver(secret=_cases().SECRET, default={'hang': True, 'hang_for': 60})
    ok = ctx.receiver(secret=_cases().SECRET)
    mute = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    mute.bind(('127.0.0.1', 0))
    mute.listen(64)
    ctx.cleanups.append(mute.close)
    mute_url = 'http://127.0.0.1:%d/hook' % mute.getsockname()[1]
    wh = _cases().wh
    ctx.write_config(webhooks=[('hang', wh(hang.url, timeout='60s')), ('mute', wh(mute_url, timeout='60s')),
                               ('ok', wh(ok.url))],
                     rules=[('isis', isis_rule())], daemon={'shutdown_timeout': '1s'})
    dm = ctx.daemon()
    lat = []
    for i in range(10):
        t = time.monotonic()
        data = ctx.drop('iso-%d.txt' % i, _cases().short_doc('isolated %d' % i))
        want = alert_id('isis', data)
        got = ok.wait(lambda q: want in [x.webhook_id for x in q if x.status == 200], scaled(5))
        check(got is not None, 'alert %d not delivered to the working webhook' % i)
        lat.append([x.arrived for x in got if x.webhook_id == want][0] - t)
    check(max(lat) < scaled(1.5), 'deliveries to the working webhook took up to %.2fs beside hanging ones' %
          max(lat))
    check(hang.count() >= 1 and all(x.status is None for x in hang.snapshot()),
          'the hanging receiver answered or was never called')
    pend = ctx.spool_files()
    check(len([p for p in pend if p.endswith('.hang.spool')]) == 10 and
          len([p for p in pend if p.endswith('.mute.spool')]) == 10,
          'the unanswered deliveries are not all pending: %d' % len(pend))
    rc, took = dm.stop()
    check(rc == 0, 'exit %s' % rc)
    check(took < 1 + scaled(1.5), 'SIGTERM took %.1fs with hanging deliveries' % took)
    check(len(ctx.spool_files()) == 20, 'spool after stop: %d, want the 20 unanswered' % len(ctx.spool_files()))
    ctx.timing = 'latency to the working webhook %.0f-%.0f ms' % (min(lat) * 1000, max(lat) * 1000)


def _set_sysctl(ctx, path, value):
    """Write a /proc/sys value for the test, restored afterwards; Skip
    unless root and writable."""
    if os.geteuid() != 0:
        raise Skip('needs root to lower %s' % path)
    try:
        with open(path) as f:
            old = f.read().strip()
        with open(path, 'w') as f:
            f.write(str(value))
    except OSError as e:
        raise Skip('cannot write %s: %s' % (path, e))

    def restore():
        with open(path, 'w') as f:
            f.write(old)
    ctx.cleanups.insert(0, restore)
    return restore


def _drop_many(ctx, names, data_of):
    """Write each file in the stage, then rename them all into the inbox
    as fast as possible."""
    for n in names:
        with open(os.path.join(ctx.stage, n), 'wb') as f:
            f.write(data_of(n))
    for n in names:
        os.rename(os.path.join(ctx.stage, n), os.path.join(ctx.inbox, n))


def _work_under_signals(ctx, dm, n, pings, what):
    """Wait for n files in processed/, reloading on the way; returns
    (reloads, seconds)."""
    t0 = time.monotonic()
    reloads = 0
    while count_dir(ctx.processed) < n:
        check(time.monotonic() - t0 < scaled(long_or(120, 1800)), '%s: %d of %d processed after %.0fs' % (
            what, count_dir(ctx.processed), n, time.monotonic() - t0))
        if reloads < 3 and time.monotonic() - t0 > reloads * 0.7:
            took = reload_and_wait(ctx, dm, 5)
            check(took < scaled(2), '%s: SIGHUP answered after %.2fs' % (what, took))
            reloads += 1
        time.sleep(0.05)
    return reloads, time.monotonic() - t0


def test_inotify_overflow(ctx):
    """The inotify queue overflows (fs.inotify.max_queued_events lowered to
    64 while the daemon starts, then restored) as thousands of files
    arrive at once (CI: 5,000; long: 30,000).  Pass: the overflow is
    logged and followed by a rescan; every file ends in processed/; the
    daemon answers SIGHUP meanwhile (READY=1 within 2 s, "reloaded"
    logged); WATCHDOG=1 never stops for longer than WATCHDOG_USEC (2 s,
    scaled for sanitizer builds); SIGTERM at the end gives exit 0."""
    n = long_or(5000, 30000)
    wd = scaled(2.0)
    where = fast_dir(ctx)
    restore = _set_sysctl(ctx, '/proc/sys/fs/inotify/max_queued_events', 64)
    ctx.write_config(rules=[('isis', isis_rule())], daemon={'log_level': 'notice'})
    try:
        dm = ctx.daemon(env={'WATCHDOG_USEC': str(int(wd * 1e6))})
    finally:
        restore()
    pings = Pings(ctx)
    names = ['ov-%05d.txt' % i for i in range(n)]
    t0 = time.monotonic()
    _drop_many(ctx, names, lambda name: b'Nothing to see in %s.\n' % name.encode())
    dm.wait_log(r'inotify queue overflowed: rescanning', 10, 'the overflow logged')
    reloads, _ = _work_under_signals(ctx, dm, n, pings, 'overflow')
    took = time.monotonic() - t0
    check(sorted(ctx.listdir(ctx.processed)) == names, 'processed/ is not the %d files' % n)
    check(len(re.findall(r'reloaded', dm.log())) >= reloads, 'a reload not logged')
    gap = pings.max_gap()
    check(gap < wd, 'no WATCHDOG=1 for %.2fs (WATCHDOG_USEC %.1f s)' % (gap, wd))
    ctx.timing = '%d files in %.1fs on %s, %d reloads, longest watchdog gap %.2fs' % (n, took, where, reloads, gap)


def test_backlog_signals_watchdog(ctx):
    """A backlog present at start-up (CI: 30,000 files; long: 100,000).
    Pass: READY=1 comes at once; while the backlog is worked through the
    daemon answers SIGHUP (READY=1 within 2 s, "reloaded" logged) and
    WATCHDOG=1 never stops for longer than WATCHDOG_USEC (2 s, scaled for
    sanitizer builds, as systemd would judge it); SIGTERM in
    the middle stops it within 3 s with exit 0 and STOPPING=1; after a
    restart every file ends in processed/, none in failed/."""
    n = long_or(30000, 100000)
    where = fast_dir(ctx)
    ctx.write_config(rules=[('isis', isis_rule())], daemon={'log_level': 'notice'})
    os.makedirs(ctx.inbox, exist_ok=True)
    old = time.time() - 60
    names = ['bl-%06d.txt' % i for i in range(n)]
    for i, name in enumerate(names):
        p = os.path.join(ctx.inbox, name)
        with open(p, 'wb') as f:
            f.write(b'Nothing to see %d.\n' % i)
        os.utime(p, (old, old))
    wd = scaled(2.0)
    wd_env = {'WATCHDOG_USEC': str(int(wd * 1e6))}
    t0 = time.monotonic()
    dm = ctx.daemon(env=wd_env, timeout=30)
    ready = time.monotonic() - t0
    pings = Pings(ctx)
    # Half way (or after a few seconds), SIGTERM.
    wait_until(lambda: count_dir(ctx.processed) >= n // 3, long_or(120, 1800), 0.05,
               what='a third of the backlog processed')
    reloads = 0
    for _ in range(2):
        took = reload_and_wait(ctx, dm, 5)
        check(took < scaled(2), 'SIGHUP answered after %.2fs during the backlog' % took)
        reloads += 1
    left = n - count_dir(ctx.processed)
    check(left > 0, 'the backlog was done before the signals: raise n')
    gap1 = pings.max_gap()
    mark = ctx.notify.mark()
    rc, stop = dm.stop()
    check(rc == 0, 'exit %s after SIGTERM during the backlog' % rc)
    check(stop < scaled(3), 'SIGTERM took %.1fs during the backlog' % stop)
    check(any(has_line(m, 'STOPPING=1') for _, m in ctx.notify.messages(mark)), 'no STOPPING=1')
    dm = ctx.daemon(env=wd_env, timeout=30)
    pings2 = Pings(ctx)
    r2, _ = _work_under_signals(ctx, dm, n, pings2, 'backlog after restart')
    took = time.monotonic() - t0
    check(sorted(ctx.listdir(ctx.processed)) == names, 'processed/ is not the %d files' % n)
    check(ctx.listdir(ctx.failed) == [], 'failed/: %s' % ctx.listdir(ctx.failed)[:3])
    gap = max(gap1, pings2.max_gap())
    check(gap < wd, 'no WATCHDOG=1 for %.2fs (WATCHDOG_USEC %.1f s)' % (gap, wd))
    ctx.timing = ('%d files in %.1fs on %s (READY after %.2fs; SIGTERM with %d left took %.2fs), '
                  '%d reloads, longest watchdog gap %.2fs' % (n, took, where, ready, left, stop, reloads + r2, gap))


def faketime_lib():
    for p in FAKETIME_LIBS:
        if os.path.exists(p):
            return p
    return None


def test_clock_jumps(ctx):
    """The wall clock of the running daemon jumps back a day, then forward
    a day (libfaketime; Debian package faketime).  Pass: an alert whose
    receiver keeps answering 503 is retried at its backoff pace after each
    jump (no gap of more than 3 s, scaled: no stuck timer; at most 2
    attempts a second: no storm), and a forward jump does not bury it (retry_for 1h
    counts real time); a feed polled every second keeps its pace; a
    throttle window (4 s) neither sticks after the backward jump nor
    reopens at the forward one; WATCHDOG=1 keeps coming; and files whose
    mtime lies a day ahead of the daemon's clock (a backlog after the
    clock went back) are processed."""
    lib = faketime_lib()
    if lib is None:
        raise Skip('libfaketime not installed (Debian package faketime; tools/deps install test)')
    from feeds import feed, sample
    stamp = os.path.join(ctx.dir, 'faketime')
    with open(stamp, 'w') as f:
        f.write('+0\n')
    env = {'LD_PRELOAD': lib, 'FAKETIME_TIMESTAMP_FILE': stamp, 'FAKETIME_NO_CACHE': '1',
           'FAKETIME_DONT_FAKE_MONOTONIC': '1', 'NO_FAKE_STAT': '1', 'WATCHDOG_USEC': '2000000',
           'ASAN_OPTIONS': (os.environ.get('ASAN_OPTIONS', '') + ':verify_asan_link_order=0').lstrip(':')}

    def jump(offset):
        tmp = stamp + '.tmp'
        with open(tmp, 'w') as f:
            f.write(offset + '\n')
        os.rename(tmp, stamp)
    failing = ctx.receiver(default={'status': 503})
    ok = ctx.receiver()
    srv = ctx.feed_server()
    srv.serve('/news.rss', {'body': sample('news.rss')})
    wh = _cases().wh
    ctx.write_config(webhooks=[('failing', wh(failing.url, secret=None, backoff='500ms', backoff_max='1s',
                                              retry_for='1h')),
                               ('ok', wh(ok.url, secret=None))],
                     rules=[('thr', isis_rule(throttle='4s', notify='ok')),
                            ('rty', isis_rule(notify='failing'))],
                     feeds=[('news', feed(srv.url('/news.rss')))])
    dm = ctx.daemon(env=env)
    pings = Pings(ctx)
    ctx.drop('c1.txt', _cases().short_doc('clock 1'))
    first = ok.wait_count(1, scaled(5))
    check(first is not None, 'no first alert')
    t_thr = first[0].arrived
    check(failing.wait_count(2, scaled(5)) is not None, 'no retries before the jumps')

    def watch(what, seconds):
        """Retries and polls over the next seconds: gaps and rate."""
        t = time.monotonic()
        pending = {x.webhook_id for x in failing.snapshot()}
        time.sleep(seconds)
        end = time.monotonic()
        n = 0
        for i in pending:
            att = [x.arrived for x in failing.snapshot() if x.arrived > t and x.webhook_id == i]
            a = [t] + att + [end]
            agap = max(y - x for x, y in zip(a, a[1:]))
            check(agap < 1.0 + scaled(2.0), '%s: alert %s not retried for %.1fs (backoff_max 1 s): a stuck timer' % (
                what, i, agap))
            check(len(att) <= 2 * seconds + 1, '%s: alert %s retried %d times in %.0fs: a retry storm' % (
                what, i, len(att), seconds))
            n += len(att)
        polls = [x.arrived for x in srv.snapshot('/news.rss') if x.arrived > t]
        p = [t] + polls + [end]
        pgap = max(y - x for x, y in zip(p, p[1:]))
        check(pgap < 1.1 + scaled(0.9), '%s: the feed was not polled for %.1fs (interval 1 s)' % (what, pgap))
        check(len(polls) <= 2 * seconds, '%s: %d polls in %.0fs (interval 1 s)' % (what, len(polls), seconds))
        return '%s: %d retries of %d alerts, %d polls in %.0fs' % (what, n, len(pending), len(polls), seconds)
    notes = [watch('before', 3)]
    jump('-1d')
    notes.append(watch('after -1d', 4))
    # The throttle window of c1 (4 s) is over in real time: c2 alerts.
    left = t_thr + 4.3 - time.monotonic()
    if left > 0:
        time.sleep(left)
    d2 = ctx.drop('c2.txt', _cases().short_doc('clock 2'))
    got = ok.wait(lambda q: alert_id('thr', d2) in [x.webhook_id for x in q], scaled(5))
    check(got is not None, 'after the clock went back a day, the 4 s throttle window never ended')
    t_thr = [x.arrived for x in got if x.webhook_id == alert_id('thr', d2)][0]
    jump('+1d')
    # Still inside c2's window in real time: c3 is throttled.
    d3 = ctx.drop('c3.txt', _cases().short_doc('clock 3'))
    dm.wait_log(r'rule thr on inbox: throttled \(1 held', 5, 'c3 throttled after the forward jump')
    check(time.monotonic() - t_thr < 3.8, 'too slow to test the throttle window after the jump')
    check(alert_id('thr', d3) not in ok.ids(), 'a forward jump reopened the throttle window')
    notes.append(watch('after +1d', 3))
    check(ctx.dead_files() == [], 'a forward jump buried alerts (retry_for 1h): %s' % ctx.dead_files())
    gap = pings.max_gap()
    check(gap < 2.0, 'no WATCHDOG=1 for %.2fs across the jumps (WATCHDOG_USEC 2 s)' % gap)
    rc, _ = dm.stop()
    check(rc == 0, 'exit %s' % rc)
    # A backlog whose mtimes are a day ahead of the daemon's clock.
    jump('-1d')
    names = ['ahead-%d.txt' % i for i in range(5)]
    for nm in names:
        ctx.drop(nm, _cases().short_doc(nm))
    dm = ctx.daemon(env=env)
    wait_until(lambda: set(names) <= set(ctx.listdir(ctx.processed)), 8, 0.1,
               what=lambda: 'the files ahead of the clock processed (inbox %s)' % ctx.inbox_files())
    ctx.timing = '; '.join(notes)


def _big_watchlist(path, n):
    with open(path, 'w') as f:
        for i in range(n):
            f.write('[term:t%05d]\nmatch = alpha%05d, beta %05d gamma, delta%05d*\ntags = big\n\n' % (i, i, i, i))


def test_reload_rss(ctx):
    """Many SIGHUP reloads (CI: 100; long: 1,000) of a configuration with a
    3,000-term watchlist, every tenth one invalid.  Pass: each is answered
    (READY=1; "reloaded" or "reload failed" logged); the old rules keep
    working; VmRSS after the reloads is at most 2 MB or 5% above VmRSS
    after the first tenth (not checked under AddressSanitizer, whose
    quarantine holds freed memory); no sanitizer report at exit (the
    harness fails any test whose daemon log has one)."""
    n = long_or(100, 1000)
    wl = os.path.join(ctx.dir, 'big.ini')
    _big_watchlist(wl, 3000)
    with open(wl) as f:
        big = f.read()
    r = ctx.receiver(secret=_cases().SECRET)

    def write(valid):
        rules = [('isis', isis_rule()), ('big', {'when': 'tag:big', 'severity': 'low'})]
        if not valid:
            rules.append(('broken', {'when': 'isis AND nosuchentry'}))
        ctx.write_config(webhooks=[('a', _cases().wh(r.url))], rules=rules,
                         daemon={'log_level': 'notice'}, extra=big)
    write(True)
    dm = ctx.daemon(timeout=30)
    pid = dm.pid()
    asan = sanitized(ctx)
    rss = []
    t0 = time.monotonic()
    for i in range(n):
        valid = (i % 10) != 9
        write(valid)
        reload_and_wait(ctx, dm, 30)
        if i == n // 10 - 1:
            rss.append(vmrss_kb(pid))
    rss.append(vmrss_kb(pid))
    took = time.monotonic() - t0
    log = dm.log()
    ok_n = len(re.findall(r'notice: reloaded', log))
    bad_n = len(re.findall(r'reload failed', log))
    check(ok_n == n - n // 10 and bad_n == n // 10, '%d reloaded and %d failed logged, want %d and %d' % (
        ok_n, bad_n, n - n // 10, n // 10))
    data = ctx.drop('after.txt', _cases().short_doc('after reloads') + b' alpha00042\n')
    got = r.wait(lambda q: {alert_id('isis', data), alert_id('big', data)} <= set(x.webhook_id for x in q),
                 scaled(10))
    check(got is not None, 'the rules do not work after %d reloads' % n)
    start, end = rss
    grew = end - start
    if not asan:
        check(grew <= max(2048, start // 20), 'VmRSS grew from %d kB to %d kB over %d reloads' % (
            start, end, n - n // 10))
    ctx.timing = '%d reloads in %.1fs, VmRSS %d kB after %d, %d kB after %d (%+d kB)%s' % (
        n, took, start, n // 10, end, n, grew, ' (not checked under ASan)' if asan else '')


def sanitized(ctx):
    return '/san/' in ctx.binary or 'ASAN_OPTIONS' in os.environ


TESTS = [
    ('fault-kill9-random', test_kill9_random),
    ('fault-disk-full', test_disk_full),
    ('fault-receiver-down-past-retry-for', test_receiver_down_past_retry_for),
    ('fault-hanging-receiver-isolated', test_hanging_receiver_isolated),
    ('fault-inotify-overflow', test_inotify_overflow),
    ('fault-backlog-signals-watchdog', test_backlog_signals_watchdog),
    ('fault-clock-jumps', test_clock_jumps),
    ('fault-reload-rss', test_reload_rss),
]
