"""The integration tests: each function takes a Ctx (harness.py) and raises
Fail (or any exception) when the daemon does not do what DESIGN.md says.
TESTS lists them in the order they run."""
import base64
import configparser
import glob
import json
import os
import random
import re
import shutil
import signal
import subprocess
import threading
import time

from harness import (EML_DIR, WATCHLISTS, Fail, Skip, alert_id, article, check,
                     has_line, scaled, sha256_hex, wait_until, ws_norm)
from receiver import free_port

SECRET = 'whsec_' + base64.b64encode(b'watchlistd-integration-test-key!').decode()
RFC3339 = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$')

# A short document that fires `isis AND tag:coast` and `place:*`.
SHORT = ('Fighters of the Islamic State (ISIS) paraded through Sirte on the '
         'Libyan coast on Thursday, witnesses said. Report %s.\n')

ISIS_COAST = ('isis-coast', {'when': 'isis AND tag:coast', 'severity': 'high'})
ANY_PLACE = ('any-place', {'when': 'place:*', 'severity': 'low'})


def wh(url, **kw):
    """A webhook section with fast retries for tests."""
    d = {'url': url, 'format': 'json', 'secret': SECRET, 'timeout': '5s',
         'connect_timeout': '1s', 'backoff': '200ms', 'backoff_max': '1s',
         'retry_for': '1h'}
    d.update(kw)
    return {k: v for k, v in d.items() if v is not None}


def short_doc(tag):
    return (SHORT % tag).encode()


def article_variant(i):
    with open(article('000', 'txt'), 'rb') as f:
        return f.read() + ('\nUpdate %s.\n' % i).encode()


def watchlist_sections():
    c = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(';',),
                                  comment_prefixes=(';', '#'), strict=False)
    c.read(sorted(glob.glob(WATCHLISTS)), encoding='utf-8')
    return c


def first_alias(value):
    return value.replace('\n', ' ').split(',')[0].strip()


def run_tool(ctx, *args):
    r = subprocess.run([ctx.binary, '-c', ctx.conf] + list(args), capture_output=True,
                       timeout=scaled(30))
    return r


def json_lines(out):
    return [json.loads(l) for l in out.decode('utf-8').splitlines() if l.strip()]


def payloads(reqs):
    return [r.json() for r in reqs]


def rules_of(reqs):
    return sorted(r.json()['rule'] for r in reqs)


def quiet_period(seconds):
    """A short fixed wait, used only to show that something does NOT
    happen (no further attempt, no extra delivery)."""
    time.sleep(scaled(seconds))


# ---------------------------------------------------------------------------

def test_ready_status(ctx):
    ctx.write_config(rules=[ISIS_COAST])
    dm = ctx.daemon()
    msgs = ctx.notify.messages()
    check(any(has_line(m, 'READY=1') for _, m in msgs), 'no READY=1')
    i = ctx.notify.wait_for(lambda m: m.startswith('STATUS=') or '\nSTATUS=' in m, 5,
                            what='STATUS= message')
    status = [l for l in ctx.notify.messages()[i][1].split('\n') if l.startswith('STATUS=')][0]
    check(ctx.inbox in status, 'STATUS does not name the inbox: %r' % status)
    check(dm.alive(), 'daemon is not running')
    # The status follows what happens: a processed document is counted.
    mark = ctx.notify.mark()
    ctx.drop('a.txt', short_doc('status'))
    ctx.notify.wait_for(lambda m: 'STATUS=' in m and re.search(r'\b1 processed', m), 5,
                        after=mark, what='STATUS= counting 1 processed document')
    dm.wait_log(r'alert [0-9a-f]{32} rule isis-coast', 5)


def check_payload(ctx, req, data, name, expect_rule, parsed, matches, wl):
    p = req.json()
    check(p.get('id') == req.webhook_id, 'payload id %r != webhook-id %r' % (p.get('id'), req.webhook_id))
    want_id = alert_id(p['rule'], data)
    check(p['id'] == want_id, 'alert id %s, want sha256(rule\\0sha256(doc))[:32] = %s' % (p['id'], want_id))
    check(p['rule'] in expect_rule, 'unexpected rule %r' % p['rule'])
    check(p.get('severity') == expect_rule[p['rule']], 'rule %s severity %r, want %r' % (
        p['rule'], p.get('severity'), expect_rule[p['rule']]))
    check(RFC3339.match(p.get('time', '')), 'time %r is not RFC 3339' % p.get('time'))
    t = time.mktime(time.strptime(p['time'][:19], '%Y-%m-%dT%H:%M:%S')) - time.timezone
    check(abs(t - time.time()) < 300, 'time %r is not now' % p['time'])
    title = parsed['title']
    check(title and title in p.get('summary', ''), 'summary %r lacks the title %r' % (p.get('summary'), title))
    src = p.get('source', {})
    check(src.get('type') == 'inbox', 'source.type %r' % src.get('type'))
    check(src.get('name') == name, 'source.name %r, want %r' % (src.get('name'), name))
    check(src.get('path') == os.path.join(ctx.inbox, name), 'source.path %r' % src.get('path'))
    check(src.get('title') == title, 'source.title %r, want %r' % (src.get('title'), title))
    if parsed.get('link'):
        check(src.get('link') == parsed['link'], 'source.link %r' % src.get('link'))
    # terms and places: what `match --json` says fired, with its hit counts.
    rule_line = [o for o in matches if o['type'] == 'rule' and o['rule'] == p['rule']]
    check(rule_line, 'match --json has no rule line for %s' % p['rule'])
    entries = rule_line[0]['entries']
    counts = {}
    for o in matches:
        if o['type'] == 'hit':
            counts[o['entry']] = counts.get(o['entry'], 0) + 1
    got = {}
    for kind in ('terms', 'places'):
        check(isinstance(p.get(kind), list), '%s missing' % kind)
        for e in p[kind]:
            got[e['id']] = e
            sec = ('term:' if kind == 'terms' else 'place:') + e['id']
            check(sec in wl, '%s %r is not a %s in the watchlist' % (kind, e['id'], sec))
            check(e.get('count') == counts.get(e['id']), '%s count %r, match --json counts %r' % (
                e['id'], e.get('count'), counts.get(e['id'])))
            check(e.get('label') == first_alias(wl[sec]['match']), '%s label %r, want %r' % (
                e['id'], e.get('label'), first_alias(wl[sec]['match'])))
            if kind == 'places':
                check(abs(e.get('lat', 999) - float(wl[sec]['lat'])) < 1e-6 and
                      abs(e.get('lon', 999) - float(wl[sec]['lon'])) < 1e-6,
                      'place %s coordinates %r,%r' % (e['id'], e.get('lat'), e.get('lon')))
                check(e.get('country') == wl[sec]['country'], 'place %s country %r' % (e['id'], e.get('country')))
    check(sorted(got) == sorted(entries), 'terms+places %s, match --json says %s' % (sorted(got), sorted(entries)))
    # Excerpts come from the text and point at it.
    text = parsed['text'].encode('utf-8')
    norm_text = ws_norm(parsed['text'])
    ex = p.get('excerpts')
    check(isinstance(ex, list) and ex, 'no excerpts')
    for x in ex:
        body = x['text'].strip('\u2026').strip()
        check(body and ws_norm(body) in norm_text, 'excerpt %r is not in the article' % x['text'][:80])
        check(0 <= x['start'] < x['end'] <= len(text), 'excerpt offsets %r,%r' % (x['start'], x['end']))
        sl = ws_norm(text[x['start']:x['end']].decode('utf-8', 'replace'))
        check(sl == ws_norm(body), 'excerpt %r != text[%d:%d] %r' % (body[:60], x['start'], x['end'], sl[:60]))
    doc = p.get('document', {})
    check(doc.get('sha256') == sha256_hex(data), 'document.sha256 %r' % doc.get('sha256'))
    check(doc.get('bytes') == len(data), 'document.bytes %r, file has %d' % (doc.get('bytes'), len(data)))
    check('suppressed' not in p, 'suppressed on a first alert: %r' % p.get('suppressed'))


def test_drop_by_rename(ctx):
    a = ctx.receiver(secret=SECRET)
    b = ctx.receiver(secret=None)
    ctx.write_config(
        webhooks=[('a', wh(a.url)), ('b', wh(b.url, secret=None))],
        rules=[ISIS_COAST, ('any-place', {'when': 'place:*', 'severity': 'low', 'notify': 'a'})])
    dm = ctx.daemon()
    src = article('000', 'html')
    name = 'story-000.html'
    data = ctx.drop_file(src, name)
    ra = a.wait_count(2, scaled(10))
    check(ra is not None, 'receiver a got %d deliveries, want 2' % a.count())
    rb = b.wait_count(1, scaled(10))
    check(rb is not None, 'receiver b got no delivery')
    quiet_period(0.5)
    ra, rb = a.snapshot(), b.snapshot()
    check(rules_of(ra) == ['any-place', 'isis-coast'], 'receiver a got %s' % rules_of(ra))
    check(rules_of(rb) == ['isis-coast'], 'receiver b got %s (notify = a only for any-place)' % rules_of(rb))
    for r in ra:
        check(r.sig_ok, 'signature: %s' % r.sig_detail)
        check(r.method == 'POST', 'method %s' % r.method)
        check(r.headers.get('content-type', '').startswith('application/json'),
              'content-type %r' % r.headers.get('content-type'))
    for r in rb:
        check('webhook-id' in r.headers and 'webhook-timestamp' in r.headers,
              'Standard Webhooks headers missing without a secret: %r' % r.headers)
        check('webhook-signature' not in r.headers, 'a signature without a secret')
    parsed = json_lines(run_tool(ctx, 'parse', '--json', src).stdout)[0]
    matches = json_lines(run_tool(ctx, 'match', '--json', src).stdout)
    wl = watchlist_sections()
    expect = {'isis-coast': 'high', 'any-place': 'low'}
    for r in ra + rb:
        check_payload(ctx, r, data, name, expect, parsed, matches, wl)
    check(ra[0].webhook_id != ra[1].webhook_id, 'two rules gave the same alert id')
    check(ctx.inbox_files() == [], 'inbox still holds %s' % ctx.inbox_files())
    check(ctx.listdir(ctx.work) == [], '.work/ still holds %s' % ctx.listdir(ctx.work))
    wait_until(lambda: os.path.exists(os.path.join(ctx.processed, name)), 5, what='processed/' + name)
    with open(os.path.join(ctx.processed, name), 'rb') as f:
        check(f.read() == data, 'processed/%s differs from what was dropped' % name)
    wait_until(lambda: ctx.spool_files() == [], 5, what='an empty spool')


def test_drop_by_copy(ctx):
    r = ctx.receiver(secret=SECRET)
    ctx.write_config(webhooks=[('a', wh(r.url))], rules=[ISIS_COAST])
    dm = ctx.daemon()
    # cp: the file is created in the inbox and written; taken once closed.
    src = article('001', 'txt')
    with open(src, 'rb') as f:
        data = f.read()
    dst = os.path.join(ctx.inbox, 'copied.txt')
    with open(dst, 'wb') as f:
        f.write(data[:len(data) // 2])
        f.flush()
        os.fsync(f.fileno())
        time.sleep(scaled(0.4))
        check(os.path.exists(dst), 'a file still being written was taken from the inbox')
        check(r.count() == 0, 'an alert for a half-written file')
        f.write(data[len(data) // 2:])
    got = r.wait_count(1, scaled(10))
    check(got is not None, 'no alert for the copied file')
    p = got[0].json()
    check(p['document']['bytes'] == len(data) and p['document']['sha256'] == sha256_hex(data),
          'the alert is for %r bytes, the file has %d (taken before it was closed?)' % (
              p['document']['bytes'], len(data)))
    check(p['id'] == alert_id('isis-coast', data), 'alert id')
    wait_until(lambda: os.path.exists(os.path.join(ctx.processed, 'copied.txt')), 5,
               what='processed/copied.txt')
    # And shutil.copyfile, as cp does it.
    src2 = article('002', 'txt')
    shutil.copyfile(src2, os.path.join(ctx.inbox, 'copied2.txt'))
    with open(src2, 'rb') as f:
        data2 = f.read()
    got = r.wait(lambda q: alert_id('isis-coast', data2) in [x.webhook_id for x in q], scaled(10))
    check(got is not None, 'no alert for the second copied file')
    wait_until(lambda: os.path.exists(os.path.join(ctx.processed, 'copied2.txt')), 5,
               what='processed/copied2.txt')
    with open(os.path.join(ctx.processed, 'copied.txt'), 'rb') as f:
        check(f.read() == data, 'processed/copied.txt is not the whole file')
    quiet_period(0.3)
    check(r.count() == 2, 'each copied file alerts once: got %d deliveries' % r.count())
    check(ctx.inbox_files() == [], 'inbox still holds %s' % ctx.inbox_files())


def test_routing(ctx):
    hi = ctx.receiver(secret=SECRET)
    al = ctx.receiver(secret=SECRET)
    ctx.write_config(
        webhooks=[('hi', wh(hi.url, min_severity='high')), ('all', wh(al.url, min_severity='low'))],
        rules=[
            ('r-high', {'when': 'isis AND tag:coast', 'severity': 'high'}),
            ('r-low', {'when': 'place:*', 'severity': 'low'}),
            ('r-crit-all', {'when': 'isis', 'severity': 'critical', 'notify': 'all'}),
            ('r-low-hi', {'when': 'tag:libya', 'severity': 'low', 'notify': 'hi'}),
            ('r-med-both', {'when': 'sirte', 'severity': 'medium', 'notify': 'hi, all'}),
        ])
    dm = ctx.daemon()
    ctx.drop('route.txt', short_doc('routing'))
    want_hi = ['r-high']
    want_all = ['r-crit-all', 'r-high', 'r-low', 'r-med-both']
    check(hi.wait_count(len(want_hi), scaled(10)) is not None, 'webhook hi got nothing')
    check(al.wait_count(len(want_all), scaled(10)) is not None,
          'webhook all got %s, want %s' % (rules_of(al.snapshot()), want_all))
    dm.wait_log(r'r-low-hi.*goes to no webhook', 5, 'a log line that r-low-hi goes nowhere')
    quiet_period(0.5)
    check(rules_of(hi.snapshot()) == want_hi, 'webhook hi (min_severity high) got %s, want %s' % (
        rules_of(hi.snapshot()), want_hi))
    check(rules_of(al.snapshot()) == want_all, 'webhook all got %s, want %s' % (
        rules_of(al.snapshot()), want_all))
    for r in hi.snapshot() + al.snapshot():
        check(r.sig_ok, r.sig_detail)


def test_receiver_down_then_up(ctx):
    port = free_port()
    url = 'http://127.0.0.1:%d/hook' % port
    ctx.write_config(webhooks=[('late', wh(url))], rules=[ISIS_COAST])
    dm = ctx.daemon()
    data = ctx.drop('down.txt', short_doc('down'))
    want = alert_id('isis-coast', data)
    files = wait_until(ctx.spool_files, 10, what='a spool file')
    check(files == ['%s.late.spool' % want], 'spool holds %s, want %s.late.spool' % (files, want))
    with open(os.path.join(ctx.spool, files[0]), 'rb') as f:
        content = f.read()
    header, _, body = content.partition(b'\n')
    check(want.encode() in header, 'spool header %r does not name the alert' % header)
    check(json.loads(body)['id'] == want, 'spooled body is not the alert')
    # The document is released once its alert is durable, delivered or not.
    wait_until(lambda: os.path.exists(os.path.join(ctx.processed, 'down.txt')), 5,
               what='processed/down.txt while the receiver is down')
    dm.wait_log(r'(?i)(refused|connect|couldn|retry|fail)', 5, 'a log line about the failed delivery')
    quiet_period(0.6)  # a few failed attempts
    check(ctx.spool_files() == files, 'spool changed while the receiver was down: %s' % ctx.spool_files())
    r = ctx.receiver(port=port, secret=SECRET)
    got = r.wait_count(1, scaled(10))
    check(got is not None, 'nothing delivered after the receiver came up')
    check(got[0].webhook_id == want, 'webhook-id %s, spool file says %s' % (got[0].webhook_id, want))
    check(got[0].body == body, 'the body delivered is not the spooled body')
    check(got[0].sig_ok, got[0].sig_detail)
    wait_until(lambda: ctx.spool_files() == [], 5, what='an empty spool after delivery')
    quiet_period(0.3)
    check(r.count() == 1, 'delivered %d times' % r.count())


def test_retry_500(ctx):
    r = ctx.receiver(secret=SECRET, script=[{'status': 500}] * 3, default={'status': 200})
    ctx.write_config(webhooks=[('a', wh(r.url, backoff='200ms', backoff_max='10s'))], rules=[ISIS_COAST])
    dm = ctx.daemon()
    data = ctx.drop('r500.txt', short_doc('500'))
    got = r.wait_count(4, scaled(10))
    check(got is not None, 'only %d attempts' % r.count())
    wait_until(lambda: ctx.spool_files() == [], 5, what='an empty spool after the 200')
    quiet_period(0.5)
    got = r.snapshot()
    check(len(got) == 4, '%d attempts, want 4 (500, 500, 500, 200)' % len(got))
    check([x.status for x in got] == [500, 500, 500, 200], 'statuses %s' % [x.status for x in got])
    ids = {x.webhook_id for x in got}
    check(ids == {alert_id('isis-coast', data)}, 'webhook-ids across retries: %s' % ids)
    check(len({x.body for x in got}) == 1, 'the body changed between retries')
    for x in got:
        check(x.sig_ok, x.sig_detail)
    gaps = [got[i + 1].arrived - got[i].answered for i in range(3)]
    g = ', '.join('%.3fs' % x for x in gaps)
    # backoff 200ms doubling, with jitter in [0.5, 1): 100-200ms, 200-400ms,
    # 400-800ms (plus the loop's latency).
    check(gaps[0] >= 0.08, 'first retry after %s: backoff is 200ms (jitter >= 0.5)' % g)
    check(gaps[1] >= 0.18 and gaps[2] >= 0.38, 'retries not doubling: gaps %s' % g)
    check(gaps[1] > gaps[0] - 0.03 and gaps[2] > gaps[1] - 0.03, 'gaps do not grow: %s' % g)
    check(gaps[2] < scaled(3), 'retries far too late: %s' % g)
    ctx.timing = 'gaps ' + g


def test_retry_after_429(ctx):
    r = ctx.receiver(secret=SECRET, script=[{'status': 429, 'retry_after': 2}], default={'status': 200})
    ctx.write_config(webhooks=[('a', wh(r.url, backoff='200ms'))], rules=[ISIS_COAST])
    dm = ctx.daemon()
    ctx.drop('r429.txt', short_doc('429'))
    got = r.wait_count(2, scaled(10))
    check(got is not None, 'no second attempt after 429 (%d)' % r.count())
    gap = got[1].arrived - got[0].answered
    check(gap >= 1.9, 'retried %.2fs after 429 with Retry-After: 2' % gap)
    check(gap < 2 + scaled(3), 'retried only %.2fs after Retry-After: 2' % gap)
    check(got[0].webhook_id == got[1].webhook_id, 'webhook-id changed')
    wait_until(lambda: ctx.spool_files() == [], 5, what='an empty spool after the 200')


def test_gone_410(ctx):
    r = ctx.receiver(secret=SECRET, default={'status': 410})
    ctx.write_config(webhooks=[('gone', wh(r.url, backoff='200ms'))],
                     rules=[('isis', {'when': 'isis', 'severity': 'high'})])
    dm = ctx.daemon()
    data = ctx.drop('r410.txt', short_doc('410'))
    want = alert_id('isis', data)
    check(r.wait_count(1, scaled(10)) is not None, 'no delivery attempt')
    dm.wait_log(r'(?i)gone.*disabl|disabl.*(gone|410)|410.*disabl', 5,
                'a log line that webhook gone is disabled')
    quiet_period(1.2)  # backoff is 200ms: a retry would have come by now
    check(r.count() == 1, '%d attempts after 410, want 1' % r.count())
    check(ctx.spool_files() == ['%s.gone.spool' % want], 'spool %s after 410' % ctx.spool_files())
    check(ctx.dead_files() == [], '410 buried the alert: %s' % ctx.dead_files())
    # A second alert to the disabled webhook waits too.
    data2 = ctx.drop('r410b.txt', short_doc('410b'))
    want2 = alert_id('isis', data2)
    wait_until(lambda: len(ctx.spool_files()) == 2, 5, what='the second alert in the spool')
    quiet_period(0.4)
    check(r.count() == 1, 'a disabled webhook was sent to (%d attempts)' % r.count())
    r.set_script(default={'status': 200})
    mark = ctx.notify.mark()
    dm.signal(signal.SIGHUP)
    ctx.notify.wait_for(lambda m: has_line(m, 'READY=1'), 10, after=mark, what='READY=1 after SIGHUP')
    got = r.wait(lambda q: {want, want2} <= set(x.webhook_id for x in q if x.status == 200), scaled(10))
    check(got is not None, 'not delivered after the reload: %s' % r.snapshot())
    wait_until(lambda: ctx.spool_files() == [], 5, what='an empty spool')


def test_final_400(ctx):
    r = ctx.receiver(secret=SECRET, default={'status': 400})
    ctx.write_config(webhooks=[('bad', wh(r.url, backoff='200ms'))],
                     rules=[('isis', {'when': 'isis', 'severity': 'high'})])
    dm = ctx.daemon()
    data = ctx.drop('r400.txt', short_doc('400'))
    want = alert_id('isis', data)
    check(r.wait_count(1, scaled(10)) is not None, 'no delivery attempt')
    stem = '%s.bad' % want
    wait_until(lambda: stem + '.spool' in ctx.dead_files() and stem + '.reason' in ctx.dead_files(),
               5, what='spool/dead/%s.spool and .reason' % stem)
    with open(os.path.join(ctx.dead, stem + '.reason')) as f:
        reason = f.read()
    check('400' in reason, 'the reason does not say 400: %r' % reason)
    check(ctx.spool_files() == [], 'still pending: %s' % ctx.spool_files())
    dm.wait_log(r'400', 5, 'a log line about the 400')
    quiet_period(1.0)
    check(r.count() == 1, '%d attempts after a 400, want 1' % r.count())


def test_retry_for_expiry(ctx):
    r = ctx.receiver(secret=SECRET, default={'status': 503})
    ctx.write_config(webhooks=[('slow', wh(r.url, backoff='200ms', backoff_max='500ms', retry_for='2s'))],
                     rules=[('isis', {'when': 'isis', 'severity': 'high'})])
    dm = ctx.daemon()
    data = ctx.drop('expire.txt', short_doc('expire'))
    stem = '%s.slow' % alert_id('isis', data)
    wait_until(lambda: ctx.spool_files() or ctx.dead_files(), 5, what='the alert in the spool')
    deadline = time.monotonic() + scaled(12)
    while True:
        pending = stem + '.spool' in ctx.spool_files()
        dead = stem + '.spool' in ctx.dead_files()
        check(pending or dead, 'the alert vanished: neither in spool/ nor in spool/dead/')
        if dead and not pending:
            break
        check(time.monotonic() < deadline, 'not in spool/dead/ after %.0fs (retry_for 2s)' % scaled(12))
        time.sleep(0.05)
    wait_until(lambda: stem + '.reason' in ctx.dead_files(), 2, what='%s.reason' % stem)
    with open(os.path.join(ctx.dead, stem + '.reason')) as f:
        reason = f.read()
    check(reason.strip(), 'empty reason file')
    check(r.count() >= 2, 'only %d attempts before giving up' % r.count())
    n = r.count()
    dm.wait_log(r'(?i)dead', 5, 'a log line about spool/dead/')
    quiet_period(0.6)
    check(r.count() == n, 'attempts went on after the alert was buried')


def test_bad_files(ctx):
    ctx.write_config(rules=[ISIS_COAST], daemon={'max_document_size': '4K'})
    dm = ctx.daemon()
    target = os.path.join(ctx.dir, 'target.txt')
    with open(target, 'wb') as f:
        f.write(short_doc('via a symlink'))
    bad = {}
    # A binary file with an unknown extension.
    bad['blob.bin'] = 'UTF-8'
    ctx.drop('blob.bin', bytes([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28]) * 200)
    # Larger than max_document_size.
    bad['big.txt'] = 'max_document_size'
    ctx.drop('big.txt', short_doc('big') * 60)
    # A symbolic link, renamed in.
    bad['link.txt'] = 'link'
    os.symlink(target, os.path.join(ctx.stage, 'link.txt'))
    os.rename(os.path.join(ctx.stage, 'link.txt'), os.path.join(ctx.inbox, 'link.txt'))
    # A FIFO, renamed in.
    bad['pipe.txt'] = 'regular'
    os.mkfifo(os.path.join(ctx.stage, 'pipe.txt'))
    os.rename(os.path.join(ctx.stage, 'pipe.txt'), os.path.join(ctx.inbox, 'pipe.txt'))
    # An empty file is a document with nothing in it: processed.
    ctx.drop('empty.txt', b'')
    for name, word in bad.items():
        wait_until(lambda: os.path.lexists(os.path.join(ctx.failed, name + '.reason')), 10,
                   what='failed/%s.reason' % name)
        check(os.path.lexists(os.path.join(ctx.failed, name)), 'failed/%s missing' % name)
        with open(os.path.join(ctx.failed, name + '.reason')) as f:
            reason = f.read()
        check(word.lower() in reason.lower(), 'failed/%s.reason %r does not mention %r' % (name, reason, word))
    check(os.path.islink(os.path.join(ctx.failed, 'link.txt')), 'the symlink was not kept as it is')
    with open(target, 'rb') as f:
        check(f.read() == short_doc('via a symlink'), 'the symlink target was touched')
    wait_until(lambda: os.path.exists(os.path.join(ctx.processed, 'empty.txt')), 10, what='processed/empty.txt')
    check(not os.path.exists(os.path.join(ctx.failed, 'empty.txt')), 'empty.txt failed')
    check(ctx.inbox_files() == [], 'inbox still holds %s' % ctx.inbox_files())
    check(ctx.listdir(ctx.work) == [], '.work/ holds %s' % ctx.listdir(ctx.work))
    log = dm.log()
    for name in bad:
        check(name in log, 'no log line names %s' % name)
    # Still alive and working.
    check(dm.alive(), 'the daemon died')
    data = ctx.drop('good.txt', short_doc('after bad files'))
    dm.wait_log(r'alert %s rule isis-coast' % alert_id('isis-coast', data), 10,
                'an alert for a good file after the bad ones')


def test_sighup(ctx):
    r = ctx.receiver(secret=SECRET)
    hooks = [('a', wh(r.url))]
    ctx.write_config(webhooks=hooks, rules=[ISIS_COAST])
    dm = ctx.daemon()
    d1 = ctx.drop('one.txt', article_variant(1))
    check(r.wait(lambda q: alert_id('isis-coast', d1) in [x.webhook_id for x in q], scaled(10)),
          'no alert before the reload')
    # A valid new configuration with a new rule.
    ctx.write_config(webhooks=hooks, rules=[ISIS_COAST, ('attacks', {'when': 'attack', 'severity': 'medium'})])
    mark = ctx.notify.mark()
    dm.signal(signal.SIGHUP)
    i = ctx.notify.wait_for(lambda m: has_line(m, 'RELOADING=1'), 10, after=mark, what='RELOADING=1')
    msg = ctx.notify.messages()[i][1]
    check(re.search(r'(^|\n)MONOTONIC_USEC=\d+', msg), 'RELOADING=1 without MONOTONIC_USEC: %r' % msg)
    ctx.notify.wait_for(lambda m: has_line(m, 'READY=1'), 10, after=i + 1, what='READY=1 after RELOADING=1')
    dm.wait_log(r'reloaded', 5)
    d2 = ctx.drop('two.txt', article_variant(2))
    want = {alert_id('isis-coast', d2), alert_id('attacks', d2)}
    got = r.wait(lambda q: want <= set(x.webhook_id for x in q), scaled(10))
    check(got is not None, 'the new rule did not fire after the reload: %s' % rules_of(r.snapshot()))
    # An invalid configuration: refused, the old one keeps working.
    logpos = len(dm.log())
    ctx.write_config(webhooks=hooks, rules=[ISIS_COAST, ('attacks', {'when': 'attack', 'severity': 'medium'}),
                                            ('broken', {'when': 'isis AND nosuchentry'})])
    mark = ctx.notify.mark()
    dm.signal(signal.SIGHUP)
    ctx.notify.wait_for(lambda m: has_line(m, 'READY=1'), 10, after=mark, what='READY=1 after a failed reload')
    m = dm.wait_log(r'reload failed', 5, start=logpos)
    after = dm.log()[logpos:]
    check('nosuchentry' in after, 'the log does not say what is wrong: %r' % after[-600:])
    check(re.search(re.escape(os.path.basename(ctx.conf)) + r':\d+', after),
          'the log does not name file:line: %r' % after[-600:])
    check(dm.alive(), 'the daemon died on an invalid configuration')
    d3 = ctx.drop('three.txt', article_variant(3))
    want = {alert_id('isis-coast', d3), alert_id('attacks', d3)}
    got = r.wait(lambda q: want <= set(x.webhook_id for x in q), scaled(10))
    check(got is not None, 'after a refused reload the old rules stopped: %s' % rules_of(r.snapshot()))
    check(not any(x.json()['rule'] == 'broken' for x in r.snapshot()), 'the broken rule fired')


def test_backlog_at_startup(ctx):
    ctx.write_config(rules=[('isis', {'when': 'isis', 'severity': 'high'})])
    os.makedirs(ctx.work)
    docs = {}
    old = time.time() - 60
    n = 300
    for i in range(n):
        name = 'backlog-%03d.txt' % i
        data = short_doc('backlog %d' % i)
        p = os.path.join(ctx.inbox, name)
        with open(p, 'wb') as f:
            f.write(data)
        if i < n - 10:  # the last few are fresh, as if just written
            os.utime(p, (old, old))
        docs[name] = data
    # A crash left one claimed.
    data = short_doc('left claimed')
    with open(os.path.join(ctx.work, 'crashed.txt'), 'wb') as f:
        f.write(data)
    docs['crashed.txt'] = data
    t0 = time.monotonic()
    dm = ctx.daemon(timeout=20)
    wait_until(lambda: len(ctx.listdir(ctx.processed)) >= len(docs), 30,
               interval=0.1, what=lambda: '%d files in processed/ (have %d; inbox %d, .work/ %s)' % (
                   len(docs), len(ctx.listdir(ctx.processed)), len(ctx.inbox_files()),
                   ctx.listdir(ctx.work)[:3]))
    took = time.monotonic() - t0
    check(sorted(ctx.listdir(ctx.processed)) == sorted(docs), 'processed/ differs: %s' % (
        sorted(set(ctx.listdir(ctx.processed)) ^ set(docs))[:10]))
    check(ctx.inbox_files() == [] and ctx.listdir(ctx.work) == [], 'left: %s %s' % (
        ctx.inbox_files()[:5], ctx.listdir(ctx.work)))
    check(ctx.listdir(ctx.failed) == [], 'failed: %s' % ctx.listdir(ctx.failed)[:5])
    want = {alert_id('isis', d) for d in docs.values()}

    def logged():
        return set(re.findall(r'alert ([0-9a-f]{32}) rule isis', dm.log()))
    wait_until(lambda: want <= logged(), 5, what='an alert line for every file')
    check(re.search(r'claimed but not finished', dm.log()), 'no log line about the file left in .work/')
    ctx.timing = '%d files in %.1fs' % (len(docs), took)


def test_signals_during_backlog(ctx):
    """A large backlog is worked through in batches: the loop still answers
    signals meanwhile (a batch that re-arms itself must not starve the
    poll that delivers them)."""
    ctx.write_config(rules=[('isis', {'when': 'isis', 'severity': 'high'})])
    old = time.time() - 60
    n = 20000
    os.makedirs(ctx.inbox, exist_ok=True)
    for i in range(n):
        p = os.path.join(ctx.inbox, 'b%05d.txt' % i)
        with open(p, 'wb') as f:
            f.write(b'Nothing to see %d.\n' % i)
        os.utime(p, (old, old))
    dm = ctx.daemon(timeout=scaled(20))
    mark = ctx.notify.mark()
    t0 = time.monotonic()
    dm.signal(signal.SIGHUP)
    ctx.notify.wait_for(lambda m: has_line(m, 'READY=1'), scaled(2), after=mark,
                        what='READY=1 after a SIGHUP sent during the backlog')
    answered = time.monotonic() - t0
    left = len(ctx.inbox_files())
    check(left > 0, 'the backlog was already done: the test proves nothing (raise n)')
    wait_until(lambda: len(ctx.listdir(ctx.processed)) >= n, scaled(60), interval=0.2,
               what='%d files in processed/' % n)
    ctx.timing = 'SIGHUP answered in %.2fs with %d of %d files still waiting' % (answered, left, n)


def test_kill9_burst(ctx):
    r = ctx.receiver(secret=SECRET, default={'status': 200, 'delay': 0.01})
    ctx.write_config(webhooks=[('a', wh(r.url, backoff='200ms', backoff_max='1s'))],
                     rules=[('isis', {'when': 'isis', 'severity': 'high'})])
    rnd = random.Random(os.environ.get('WATCHLISTD_IT_SEED') or None)
    docs = {}
    kills = []
    for cycle in range(3):
        dm = ctx.daemon(timeout=20)
        # A producer drops a burst of 100 while the daemon works; the kill
        # lands at a random moment, during intake or during delivery.
        batch = {}
        for i in range(100):
            name = 'burst-%d-%03d.txt' % (cycle, i)
            batch[name] = short_doc('burst %d/%d' % (cycle, i))
        docs.update(batch)

        def produce(batch=batch):
            for name, data in batch.items():
                ctx.drop(name, data)
                time.sleep(0.002)
        th = threading.Thread(target=produce)
        th.start()
        delay = rnd.uniform(0.02, 0.6)
        time.sleep(scaled(delay))
        dm.kill9()
        kills.append('%.2fs (%d processed, %d claimed, %d spooled)' % (
            delay, len(ctx.listdir(ctx.processed)), len(ctx.listdir(ctx.work)), len(ctx.spool_files())))
        th.join()
    dm = ctx.daemon(timeout=20)
    want = {alert_id('isis', d): n for n, d in docs.items()}

    def delivered():
        return set(r.ids(status=200))

    def settled():
        done = set(ctx.listdir(ctx.processed)) | set(ctx.listdir(ctx.failed))
        return (set(docs) <= done and ctx.inbox_files() == [] and ctx.listdir(ctx.work) == []
                and set(want) <= delivered() and ctx.spool_files() == [])
    try:
        wait_until(settled, 40, interval=0.1, what='every document handled and every alert delivered')
    except Fail as e:
        missing = set(want) - delivered()
        raise Fail('%s (kills at %s): %d alerts undelivered (e.g. %s), inbox %d, .work %d, spool %d, processed %d' % (
            e, kills, len(missing), [want[m] for m in list(missing)[:3]], len(ctx.inbox_files()),
            len(ctx.listdir(ctx.work)), len(ctx.spool_files()), len(ctx.listdir(ctx.processed))))
    failed = [n for n in ctx.listdir(ctx.failed) if not n.endswith('.reason')]
    check(not failed, 'valid documents in failed/: %s' % failed[:5])
    stray = delivered() - set(want)
    check(not stray, 'unexpected alert ids delivered: %s' % list(stray)[:3])
    for x in r.snapshot():
        check(x.sig_ok, x.sig_detail)
    ids = r.ids(status=200)
    dups = len(ids) - len(set(ids))
    # Duplicates only for deliveries in flight at a kill (concurrency 4),
    # and for the one document between its spooling and its release.
    check(dups <= 3 * (4 + 2), '%d duplicate deliveries for 3 kills' % dups)
    ctx.timing = 'kills at %s; %d duplicates' % ('; '.join(kills), dups)


def test_sigterm_inflight(ctx):
    r = ctx.receiver(secret=SECRET, default={'status': 200, 'delay': 1.0})
    ctx.write_config(webhooks=[('a', wh(r.url, timeout='30s'))],
                     rules=[('isis', {'when': 'isis', 'severity': 'high'})],
                     daemon={'shutdown_timeout': '5s'})
    dm = ctx.daemon()
    data = ctx.drop('term1.txt', short_doc('sigterm 1'))
    check(r.wait_count(1, scaled(10)) is not None, 'no delivery started')
    mark = ctx.notify.mark()
    rc, took = dm.stop(timeout=10)
    check(rc == 0, 'exit code %s' % rc)
    check(any(has_line(m, 'STOPPING=1') for _, m in ctx.notify.messages(mark)), 'no STOPPING=1')
    req = (r.wait(lambda q: q[0].status is not None, 2) or r.snapshot())[0]
    check(req.status == 200, 'the delivery in flight was not completed (answered %s)' % req.status)
    check(ctx.spool_files() == [], 'delivered but still in the spool: %s' % ctx.spool_files())
    check(took < scaled(5) + 1.5, 'took %.1fs to stop, shutdown_timeout is 5s' % took)
    # A receiver that hangs longer than shutdown_timeout: stop anyway, keep it.
    r.set_script(default={'hang': True, 'hang_for': 60})
    ctx.write_config(webhooks=[('a', wh(r.url, timeout='60s'))],
                     rules=[('isis', {'when': 'isis', 'severity': 'high'})],
                     daemon={'shutdown_timeout': '1s'})
    dm = ctx.daemon()
    data = ctx.drop('term2.txt', short_doc('sigterm 2'))
    want = alert_id('isis', data)
    check(r.wait_count(2, scaled(10)) is not None, 'no delivery started (second run)')
    mark = ctx.notify.mark()
    rc, took = dm.stop(timeout=15)
    check(rc == 0, 'exit code %s with a hanging delivery' % rc)
    check(any(has_line(m, 'STOPPING=1') for _, m in ctx.notify.messages(mark)), 'no STOPPING=1')
    check(took < 1 + scaled(2.5), 'took %.1fs to stop with shutdown_timeout 1s' % took)
    check(ctx.spool_files() == ['%s.a.spool' % want], 'the unfinished delivery is not in the spool: %s' %
          ctx.spool_files())
    ctx.timing = 'stop with a hanging receiver: %.2fs' % took


def test_log_without_webhook(ctx):
    ctx.write_config(rules=[ISIS_COAST])
    dm = ctx.daemon()
    dm.wait_log(r'alerts go to this log', 5, 'the start-up line saying alerts go to the log')
    src = article('000', 'txt')
    data = ctx.drop_file(src, 'logged.txt')
    want = alert_id('isis-coast', data)
    m = dm.wait_log(r'[^\n]*alert %s rule isis-coast \(high\)[^\n]*' % want, 10)
    line = m.group(0)
    check('logged.txt' in line, 'the line does not name the file: %r' % line)
    check('isis' in line and 'Sirte' in line, 'the line does not say what hit: %r' % line)
    check(re.match(r'^\S', line) and re.search(r'\d\d:\d\d:\d\d', line), 'no timestamp: %r' % line)
    check(len(re.findall(want, dm.log())) == 1, 'the alert is logged more than once')


def test_throttle(ctx):
    r = ctx.receiver(secret=SECRET)
    ctx.write_config(webhooks=[('a', wh(r.url))],
                     rules=[('isis', {'when': 'isis', 'severity': 'high', 'throttle': '3s'})])
    dm = ctx.daemon()
    d1 = ctx.drop('t1.txt', short_doc('throttle 1'))
    d2 = ctx.drop('t2.txt', short_doc('throttle 2'))
    got = r.wait_count(1, scaled(10))
    check(got is not None, 'no alert')
    t_first = got[0].arrived
    wait_until(lambda: os.path.exists(os.path.join(ctx.processed, 't2.txt')), 5, what='processed/t2.txt')
    dm.wait_log(r'throttled', 5)
    quiet_period(0.3)
    check(r.count() == 1, '%d alerts for two documents within the throttle window' % r.count())
    check(got[0].webhook_id in (alert_id('isis', d1), alert_id('isis', d2)), 'unexpected id')
    check('suppressed' not in got[0].json(), 'first alert carries suppressed')
    left = t_first + 3.3 - time.monotonic()
    if left > 0:
        time.sleep(left)
    d3 = ctx.drop('t3.txt', short_doc('throttle 3'))
    got = r.wait_count(2, scaled(10))
    check(got is not None, 'no alert after the throttle window')
    p = got[1].json()
    check(p['id'] == alert_id('isis', d3), 'the second alert is not for the third document')
    check(p.get('suppressed') == 1, '"suppressed" is %r, want 1' % p.get('suppressed'))


def test_watchdog(ctx):
    ctx.write_config(rules=[ISIS_COAST])
    dm = ctx.daemon(env={'WATCHDOG_USEC': '1000000'})
    mark = ctx.notify.mark()
    time.sleep(2.3)
    pings = [t for t, m in ctx.notify.messages(mark) if has_line(m, 'WATCHDOG=1')]
    check(len(pings) >= 3, '%d WATCHDOG=1 in 2.3s with WATCHDOG_USEC=1s' % len(pings))
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    avg = sum(gaps) / len(gaps)
    check(0.35 <= avg <= 0.7, 'WATCHDOG=1 every %.2fs on average, want ~0.5s' % avg)
    rc, _ = dm.stop()
    check(rc == 0, 'exit %s' % rc)
    # WATCHDOG_PID names another process: not ours to ping.
    dm = ctx.daemon(env={'WATCHDOG_USEC': '1000000', 'WATCHDOG_PID': '1'})
    mark = ctx.notify.mark()
    time.sleep(1.2)
    check(not any(has_line(m, 'WATCHDOG=1') for _, m in ctx.notify.messages(mark)),
          'WATCHDOG=1 sent although WATCHDOG_PID is another process')


def eml_simple():
    body = ('Good morning,\n\nFighters of the Islamic State (ISIS) were seen again '
            'in Sirte today, on the Libyan coast.\n\n-- \nThe morning desk\n')
    b64 = base64.encodebytes(body.encode()).decode()
    return ('From: Morning Desk <desk@news.example>\r\n'
            'To: analysts@example.org\r\n'
            'Subject: Morning brief: ISIS in Sirte\r\n'
            'Date: Sat, 21 Nov 2026 07:00:00 +0000\r\n'
            'Message-ID: <brief-1@news.example>\r\n'
            'MIME-Version: 1.0\r\n'
            'Content-Type: text/plain; charset=utf-8\r\n'
            'Content-Transfer-Encoding: base64\r\n'
            '\r\n' + b64.replace('\n', '\r\n')).encode()


def eml_encoded():
    return ('From: =?UTF-8?Q?Bureau_de_Tripoli?= <tripoli@news.example>\r\n'
            'Subject: =?UTF-8?Q?Br=C3=A8ve_:_l=E2=80=99?= =?UTF-8?Q?EI_=C3=A0_Syrte?=\r\n'
            'Date: Sat, 21 Nov 2026 08:00:00 +0000\r\n'
            'MIME-Version: 1.0\r\n'
            'Content-Type: text/plain; charset=iso-8859-1\r\n'
            'Content-Transfer-Encoding: quoted-printable\r\n'
            '\r\n'
            'Des combattants de l=27Etat islamique (ISIS) ont =E9t=E9 vus =E0 Sirte,=\r\n'
            ' sur la c=F4te libyenne.\r\n').encode('ascii')


def test_email(ctx):
    r = ctx.receiver(secret=SECRET)
    ctx.write_config(webhooks=[('a', wh(r.url))], rules=[ISIS_COAST])
    dm = ctx.daemon()
    cases = [('brief.eml', eml_simple(), 'Morning brief: ISIS in Sirte'),
             ('encoded.eml', eml_encoded(), 'Br\u00e8ve : l\u2019EI \u00e0 Syrte')]
    # A sample from tests/data/eml/ when there is one that fires the rule.
    for p in sorted(glob.glob(os.path.join(EML_DIR, '*.eml'))):
        out = run_tool(ctx, 'match', '--json', p)
        if b'"rule":"isis-coast"' not in out.stdout:
            continue
        parsed = json_lines(run_tool(ctx, 'parse', '--json', p).stdout)
        with open(p, 'rb') as f:
            data = f.read()
        import email
        import email.header
        import email.policy
        msg = email.message_from_bytes(data, policy=email.policy.default)
        cases.append(('sample-' + os.path.basename(p), data, str(msg['subject'])))
        break
    for name, data, _ in cases:
        ctx.drop(name, data)
    for name, data, subject in cases:
        want = alert_id('isis-coast', data)
        got = r.wait(lambda q: want in [x.webhook_id for x in q], scaled(10))
        check(got is not None, 'no alert for %s' % name)
        p = [x.json() for x in got if x.webhook_id == want][0]
        check(p['source'].get('title') == subject, '%s: source.title %r, want the Subject %r' % (
            name, p['source'].get('title'), subject))
        check(subject in p.get('summary', ''), '%s: summary %r lacks the Subject' % (name, p.get('summary')))
        check(p['source'].get('name') == name, '%s: source.name %r' % (name, p['source'].get('name')))
        for x in p.get('excerpts', []):
            check('=E9' not in x['text'] and '=\r' not in x['text'], '%s: excerpt not decoded: %r' % (
                name, x['text']))



# ---------------------------------------------------------------------------
# Beyond the list: more of DESIGN.md's guarantees.

def test_processed_delete(ctx):
    r = ctx.receiver(secret=SECRET)
    ctx.write_config(webhooks=[('a', wh(r.url))], rules=[ISIS_COAST], daemon={'processed': 'delete'})
    dm = ctx.daemon()
    data = ctx.drop('gone.txt', short_doc('delete'))
    got = r.wait_count(1, scaled(10))
    check(got is not None and got[0].webhook_id == alert_id('isis-coast', data), 'no alert')
    wait_until(lambda: ctx.inbox_files() == [] and ctx.listdir(ctx.work) == [], 5, what='the file to be taken')
    check(ctx.listdir(ctx.processed) == [], 'processed = delete kept %s' % ctx.listdir(ctx.processed))
    check(ctx.listdir(ctx.failed) == [], 'failed/: %s' % ctx.listdir(ctx.failed))


def test_restart_retries_at_once(ctx):
    # The first attempt fails and the next is far away (backoff 30s); after
    # a restart the spooled alert goes out at once.
    r = ctx.receiver(secret=SECRET, script=[{'status': 503}], default={'status': 200})
    ctx.write_config(webhooks=[('a', wh(r.url, backoff='30s', backoff_max='1h'))], rules=[ISIS_COAST])
    dm = ctx.daemon()
    data = ctx.drop('later.txt', short_doc('restart'))
    want = alert_id('isis-coast', data)
    check(r.wait_count(1, scaled(10)) is not None, 'no first attempt')
    quiet_period(0.3)
    check(ctx.spool_files() == ['%s.a.spool' % want], 'spool: %s' % ctx.spool_files())
    rc, _ = dm.stop()
    check(rc == 0, 'exit %s' % rc)
    t0 = time.monotonic()
    dm = ctx.daemon()
    got = r.wait(lambda q: len(q) >= 2 and q[1].status is not None, scaled(5))
    check(got is not None, 'the spooled alert was not retried at once after the restart')
    check(got[1].webhook_id == want and got[1].status == 200, 'second attempt %r' % got[1])
    check(got[0].body == got[1].body, 'the body changed across the restart')
    wait_until(lambda: ctx.spool_files() == [], 5, what='an empty spool')
    dm.wait_log(r'from before', 2, 'a log line about the alerts from before')
    ctx.timing = 'redelivered %.2fs after the restart' % (got[1].arrived - t0)


def test_secret_sources(ctx):
    key = base64.b64encode(b'another-key-for-file-env-creds!!').decode()
    secret = 'whsec_' + key
    rf = ctx.receiver(secret=secret)
    re_ = ctx.receiver(secret=secret)
    rc_ = ctx.receiver(secret=secret)
    sfile = os.path.join(ctx.dir, 'hook.secret')
    with open(sfile, 'w') as f:
        f.write(secret + '\n')
    creds = os.path.join(ctx.dir, 'creds')
    os.makedirs(creds)
    with open(os.path.join(creds, 'hook-secret'), 'w') as f:
        f.write(secret)
    ctx.write_config(webhooks=[('f', wh(rf.url, secret='file:' + sfile)),
                               ('e', wh(re_.url, secret='env:WLIT_SECRET')),
                               ('c', wh(rc_.url, secret='credential:hook-secret'))],
                     rules=[ISIS_COAST], daemon={'log_level': 'debug'})
    dm = ctx.daemon(env={'WLIT_SECRET': secret, 'CREDENTIALS_DIRECTORY': creds})
    ctx.drop('signed.txt', short_doc('secrets'))
    for name, r in (('file:', rf), ('env:', re_), ('credential:', rc_)):
        got = r.wait_count(1, scaled(10))
        check(got is not None, 'nothing delivered to the webhook with a %s secret' % name)
        check(got[0].sig_ok, '%s secret: %s' % (name, got[0].sig_detail))
    log = dm.log()
    check(key not in log and key[:16] not in log, 'the secret appears in the log')
    # A secret that cannot be loaded: the daemon says so and does not start.
    ctx.write_config(webhooks=[('e', wh(re_.url, secret='env:WLIT_NO_SUCH_SECRET'))], rules=[ISIS_COAST])
    rc, _ = dm.stop()
    check(rc == 0, 'exit %s' % rc)
    dm2 = ctx.daemon_refused('a secret that cannot be loaded')
    check(dm2.exit_code != 0, 'exit 0 with a missing secret')
    check('WLIT_NO_SUCH_SECRET' in dm2.log(), 'the log does not say which secret is missing')


def test_redirect_not_followed(ctx):
    target = ctx.receiver(secret=SECRET)
    r = ctx.receiver(secret=SECRET, default={'status': 302, 'body': b''})
    orig = r._next_response

    def redirect():
        resp = orig()
        resp['headers'] = {'Location': target.url}
        return resp
    r._next_response = redirect
    ctx.write_config(webhooks=[('a', wh(r.url))], rules=[('isis', {'when': 'isis', 'severity': 'high'})])
    dm = ctx.daemon()
    data = ctx.drop('redir.txt', short_doc('redirect'))
    stem = '%s.a' % alert_id('isis', data)
    check(r.wait_count(1, scaled(10)) is not None, 'no attempt')
    wait_until(lambda: stem + '.reason' in ctx.dead_files(), 5, what='spool/dead/%s.reason' % stem)
    quiet_period(0.5)
    check(target.count() == 0, 'the redirect was followed')
    with open(os.path.join(ctx.dead, stem + '.reason')) as f:
        reason = f.read()
    check('302' in reason, 'reason %r' % reason)


def test_journal_prefixes(ctx):
    ctx.write_config(rules=[ISIS_COAST])
    st = os.fstat(2)
    dm = ctx.daemon(env={'JOURNAL_STREAM': '%d:%d' % (st.st_dev, st.st_ino)})
    data = ctx.drop('j.txt', short_doc('journal'))
    m = dm.wait_log(r'(?m)^.*alert %s rule.*$' % alert_id('isis-coast', data), 10)
    check(re.match(r'^<5>', m.group(0)), 'an alert line under journald is %r, want a <5> (notice) prefix' %
          m.group(0)[:60])
    lines = [l for l in dm.log().splitlines() if l and not l.startswith('----')]
    check(all(re.match(r'^<[0-7]>', l) for l in lines), 'lines without a <N> prefix: %r' % [
        l for l in lines if not re.match(r'^<[0-7]>', l)][:2])


def test_spool_backpressure(ctx):
    # Nobody answers; each document makes 12 alerts for 3 webhooks: the
    # 1M spool fills within a few dozen documents.
    port = free_port()
    url = 'http://127.0.0.1:%d/hook' % port
    rules = [('r%02d' % i, {'when': 'isis AND tag:coast', 'severity': 'high'}) for i in range(12)]
    ctx.write_config(webhooks=[(h, wh(url + '/' + h, backoff='200ms', backoff_max='1s')) for h in 'xyz'],
                     rules=rules, daemon={'spool_max_size': '1M'})
    dm = ctx.daemon()
    n = 0
    deadline = time.monotonic() + scaled(30)
    while 'spool full' not in dm.log():
        check(time.monotonic() < deadline, 'no "spool full" after %d documents (%d spool files)' % (
            n, len(ctx.spool_files())))
        for _ in range(5):
            ctx.drop('fill-%03d.html' % n, article_variant('fill %d' % n))
            n += 1
        time.sleep(0.2)
    mark = ctx.notify.mark()
    ctx.notify.wait_for(lambda m: 'paused: spool full' in m, 5, after=0, what='STATUS= saying the inbox is paused')
    quiet_period(0.5)
    waiting = ['wait-%d.txt' % i for i in range(3)]
    for w in waiting:
        ctx.drop(w, short_doc(w))
    quiet_period(1.0)
    check(set(waiting) <= set(ctx.inbox_files()), 'files taken although the spool is full: %s' % (
        set(waiting) - set(ctx.inbox_files())))
    pending = len(ctx.spool_files())
    r = ctx.receiver(port=port, secret=SECRET)
    wait_until(lambda: ctx.inbox_files() == [] and ctx.listdir(ctx.work) == [], 30, 0.1,
               what=lambda: 'the inbox to drain (left %s; spool %d)' % (ctx.inbox_files()[:3], len(ctx.spool_files())))
    wait_until(lambda: ctx.spool_files() == [], 30, 0.1, what=lambda: 'an empty spool (%d left)' % len(ctx.spool_files()))
    check(sorted(ctx.listdir(ctx.processed)) == sorted(['fill-%03d.html' % i for i in range(n)] + waiting),
          'not every document was processed')
    check(ctx.dead_files() == [], 'dead: %s' % ctx.dead_files()[:3])
    dm.wait_log(r'room again', 5)
    ctx.timing = '%d documents filled it (%d deliveries pending), %d delivered' % (n, pending, r.count())


def test_concurrency_limit(ctx):
    r = ctx.receiver(secret=SECRET, default={'status': 200, 'delay': 0.3})
    ctx.write_config(webhooks=[('a', wh(r.url, concurrency='2'))],
                     rules=[('isis', {'when': 'isis', 'severity': 'high'})])
    dm = ctx.daemon()
    for i in range(6):
        ctx.drop('c%d.txt' % i, short_doc('concurrency %d' % i))
    got = r.wait(lambda q: len([x for x in q if x.status == 200]) >= 6, scaled(15))
    check(got is not None, 'only %d of 6 delivered' % len(r.ids(200)))
    events = sorted([(x.arrived, 1) for x in got] + [(x.answered, -1) for x in got], key=lambda e: (e[0], e[1]))
    cur = peak = 0
    for _, d in events:
        cur += d
        peak = max(peak, cur)
    check(peak <= 2, '%d deliveries in flight at once with concurrency = 2' % peak)
    check(peak == 2, 'deliveries never overlapped (peak %d): no concurrency at all' % peak)


def test_slow_receiver_does_not_block(ctx):
    r = ctx.receiver(secret=SECRET, default={'hang': True, 'hang_for': 30})
    ctx.write_config(webhooks=[('a', wh(r.url, concurrency='1', timeout='30s'))],
                     rules=[('isis', {'when': 'isis', 'severity': 'high'})],
                     daemon={'shutdown_timeout': '1s'})
    dm = ctx.daemon()
    ctx.drop('first.txt', short_doc('hang first'))
    check(r.wait_count(1, scaled(10)) is not None, 'no delivery started')
    t0 = time.monotonic()
    names = ['then-%02d.txt' % i for i in range(20)]
    for n in names:
        ctx.drop(n, short_doc(n))
    wait_until(lambda: set(names) <= set(ctx.listdir(ctx.processed)), 5,
               what='documents processed while a delivery hangs')
    mark = ctx.notify.mark()
    dm.signal(signal.SIGHUP)
    ctx.notify.wait_for(lambda m: has_line(m, 'READY=1'), 5, after=mark, what='READY=1 after SIGHUP while a delivery hangs')
    check(len(ctx.spool_files()) == 21, '%d spooled, want 21' % len(ctx.spool_files()))
    check(r.count() == 1, '%d requests with concurrency 1 and a hanging receiver' % r.count())
    ctx.timing = '20 documents and a reload in %.2fs beside a hanging delivery' % (time.monotonic() - t0)


def test_untrusted_names(ctx):
    r = ctx.receiver(secret=SECRET)
    ctx.write_config(webhooks=[('a', wh(r.url))], rules=[ISIS_COAST])
    dm = ctx.daemon()
    name = 'odd\nname \u00fc "q" \x1b[31m.txt'
    data = ctx.drop(name, short_doc('odd name'))
    got = r.wait_count(1, scaled(10))
    check(got is not None, 'no alert for a file with an odd name')
    p = got[0].json()
    check(p['source']['name'] == name, 'source.name %r, want %r' % (p['source']['name'], name))
    wait_until(lambda: os.path.exists(os.path.join(ctx.processed, name)), 5, what='the odd file in processed/')
    # A file that fails is named in the log: escaped, on one line.
    bad = 'bad\nname \x1b[31m.bin'
    ctx.drop(bad, b'\xff\xfe\x00' * 50)
    wait_until(lambda: os.path.exists(os.path.join(ctx.failed, bad + '.reason')), 5, what='the odd bad file in failed/')
    dm.wait_log(r'bad.*name.*UTF-8', 5, 'a log line naming the failed file')
    log = dm.log()
    check('\x1b' not in log, 'an escape character reached the log')
    check(not any(l.startswith('name ') for l in log.splitlines()), 'a file name broke a log line in two')


def test_spool_recovery(ctx):
    # Left by an earlier run: a damaged spool file, a half-written one in
    # tmp/, and a sound entry for a webhook that is no longer configured.
    r = ctx.receiver(secret=SECRET)
    os.makedirs(os.path.join(ctx.spool, 'tmp'))
    bogus = 'a' * 32 + '.a.spool'
    with open(os.path.join(ctx.spool, bogus), 'wb') as f:
        f.write(b'this is not a spool file\n{}')
    with open(os.path.join(ctx.spool, 'tmp', 'half-written'), 'wb') as f:
        f.write(b'watchlistd-spool 1 a ')
    ctx.write_config(webhooks=[('a', wh(r.url))], rules=[ISIS_COAST])
    dm = ctx.daemon()
    wait_until(lambda: bogus in ctx.dead_files() and bogus[:-6] + '.reason' in ctx.dead_files(), 5,
               what='the damaged spool file in dead/ with a reason')
    check(ctx.listdir(os.path.join(ctx.spool, 'tmp')) == [], 'tmp/ not emptied: %s' %
          ctx.listdir(os.path.join(ctx.spool, 'tmp')))
    check(r.count() == 0, 'a damaged spool file was sent')
    check(dm.alive(), 'died on a damaged spool file')
    # An alert pending for webhook b, then b is dropped by a reload.
    port = free_port()
    ctx.write_config(webhooks=[('a', wh(r.url, min_severity='critical')),
                               ('b', wh('http://127.0.0.1:%d/' % port, backoff='1s'))], rules=[ISIS_COAST])
    mark = ctx.notify.mark()
    dm.signal(signal.SIGHUP)
    ctx.notify.wait_for(lambda m: has_line(m, 'READY=1'), 10, after=mark, what='READY=1')
    data = ctx.drop('orphan.txt', short_doc('orphan'))
    stem = '%s.b' % alert_id('isis-coast', data)
    wait_until(lambda: stem + '.spool' in ctx.spool_files(), 5, what='the alert spooled for b')
    ctx.write_config(webhooks=[('a', wh(r.url))], rules=[ISIS_COAST])
    mark = ctx.notify.mark()
    dm.signal(signal.SIGHUP)
    ctx.notify.wait_for(lambda m: has_line(m, 'READY=1'), 10, after=mark, what='READY=1')
    wait_until(lambda: stem + '.spool' in ctx.dead_files() and stem + '.reason' in ctx.dead_files(), 5,
               what='the entry of a removed webhook in dead/ (never silently dropped)')
    check(r.count() == 0, 'the alert for b went to a')

from peers import test_alertmanager, test_adnanh_webhook  # noqa: E402
from feeds import TESTS as FEED_TESTS  # noqa: E402
from security import TESTS as SECURITY_TESTS  # noqa: E402
from faults import TESTS as FAULT_TESTS  # noqa: E402
from hostile import TESTS as HOSTILE_TESTS  # noqa: E402

TESTS = [
    ('ready-status', test_ready_status),
    ('drop-by-rename', test_drop_by_rename),
    ('drop-by-copy', test_drop_by_copy),
    ('routing', test_routing),
    ('receiver-down-then-up', test_receiver_down_then_up),
    ('retry-500', test_retry_500),
    ('retry-after-429', test_retry_after_429),
    ('gone-410', test_gone_410),
    ('final-400', test_final_400),
    ('retry-for-expiry', test_retry_for_expiry),
    ('bad-files', test_bad_files),
    ('sighup', test_sighup),
    ('backlog-at-startup', test_backlog_at_startup),
    ('signals-during-backlog', test_signals_during_backlog),
    ('kill9-burst', test_kill9_burst),
    ('sigterm-inflight', test_sigterm_inflight),
    ('log-without-webhook', test_log_without_webhook),
    ('throttle', test_throttle),
    ('watchdog', test_watchdog),
    ('email', test_email),
    ('processed-delete', test_processed_delete),
    ('restart-retries-at-once', test_restart_retries_at_once),
    ('secret-sources', test_secret_sources),
    ('redirect-not-followed', test_redirect_not_followed),
    ('journal-prefixes', test_journal_prefixes),
    ('spool-backpressure', test_spool_backpressure),
    ('concurrency-limit', test_concurrency_limit),
    ('slow-receiver-does-not-block', test_slow_receiver_does_not_block),
    ('untrusted-names', test_untrusted_names),
    ('spool-recovery', test_spool_recovery),
] + FEED_TESTS + SECURITY_TESTS + FAULT_TESTS + HOSTILE_TESTS + [
    ('alertmanager', test_alertmanager),
    ('adnanh-webhook', test_adnanh_webhook),
]
