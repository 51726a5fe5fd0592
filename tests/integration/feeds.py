"""Feed tests: the daemon polling [feed:ID] sections served by a test-owned
HTTP server on 127.0.0.1 (feedserver.py) whose answers change between
polls.  Every feed polls every second (interval = 1s, the minimum, with
+-10% jitter; the first poll comes within a tenth of the interval)."""
import os
import re
import time

from feedserver import SampleRSS, http_date
from harness import ROOT, article, check, scaled, wait_until

FEEDS = os.path.join(ROOT, 'tests', 'data', 'feeds')
RFC3339_UTC = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')

# Every sample article names a place: one alert per story.
ANY_PLACE = ('any-place', {'when': 'place:*', 'severity': 'low'})

# What the sample feeds say about their five articles (news.rss order).
ARTICLES = [
    ('Why Europe should worry about ISIS in Libya',
     'tag:news.example,2015-02-21:article-1', '2015-02-21T14:30:00Z'),
    ('Anti-ISIS summit highlights worries over newest stronghold',
     'tag:news.example,2016-02-02:article-2', '2016-02-02T17:05:00Z'),
    ('Report: 500 Islamic State Jihadis Fueling Resurgence on Europe\u2019s Doorstep, Libya',
     'tag:news.example,2017-09-19:article-3', '2017-09-19T09:12:00Z'),
    ('Islamic State Determined to Occupy European Port City',
     'tag:news.example,2016-01-24:article-4', '2016-01-24T10:00:00Z'),
    ('Libyan airstrikes against Islamic State as Threat To Europe Grows',
     'tag:news.example,2015-05-06:article-5', '2015-05-06T16:45:00Z'),
]
LINKS = ['https://news.example/a/%d' % i for i in range(1, 6)]

_rss = None


def rss():
    global _rss
    if _rss is None:
        _rss = SampleRSS(os.path.join(FEEDS, 'news.rss'))
    return _rss


def sample(name):
    with open(os.path.join(FEEDS, name), 'rb') as f:
        return f.read()


def feed(url, **kw):
    """A [feed:ID] section for tests: polled every second, on 127.0.0.1."""
    d = {'url': url, 'interval': '1s', 'allow_private': 'yes', 'first_fetch': 'skip'}
    d.update(kw)
    return {k: v for k, v in d.items() if v is not None}


def webhook(url):
    from cases import SECRET, wh
    return wh(url, secret=SECRET)


def receiver(ctx):
    from cases import SECRET
    return ctx.receiver(secret=SECRET)


def polls_after(srv, path, n, t, timeout, answered=False):
    """Wait for n requests for path that arrived after monotonic time t
    (and, if answered, were answered)."""
    def pick(rs):
        return [r for r in rs if r.arrived > t]

    def done(rs):
        rs = pick(rs)
        return len(rs) >= n and (not answered or all(r.status is not None for r in rs[:n]))
    got = srv.wait(done, scaled(timeout), path)
    check(got is not None, 'the daemon did not poll %s %d more times within %.1fs (%d requests in all)' % (
        path, n, scaled(timeout), srv.count(path)))
    return pick(got)[:n]


def alerts(r):
    return [q.json() for q in r.snapshot()]


def count_lines(dm, pattern):
    return len(re.findall(pattern, dm.log(), re.M))


def gaps(reqs):
    return [b.arrived - a.arrived for a, b in zip(reqs, reqs[1:])]


def fmt_gaps(g):
    return ', '.join('%.2fs' % x for x in g)


# ---------------------------------------------------------------------------

def test_feed_new_entry_alerts_once(ctx):
    srv = ctx.feed_server()
    srv.serve('/news.rss', {'body': rss().feed([0, 1, 2, 3])})
    r = receiver(ctx)
    ctx.write_config(webhooks=[('a', webhook(r.url))], rules=[ANY_PLACE],
                     feeds=[('news', feed(srv.url('/news.rss')))])
    dm = ctx.daemon()
    dm.wait_log(r'feed news: first fetch: 4 entries taken as the baseline', 5)
    polls_after(srv, '/news.rss', 1, srv.snapshot()[0].arrived, 5)
    check(r.count() == 0, 'alerts for the baseline: %s' % [a['source'].get('link') for a in alerts(r)])
    # The fifth story appears.
    srv.serve('/news.rss', {'body': rss().feed()})
    t = time.monotonic()
    got = r.wait_count(1, scaled(5))
    check(got is not None, 'no alert for the new entry within %.1fs' % scaled(5))
    polls_after(srv, '/news.rss', 2, time.monotonic(), 5)
    got = alerts(r)
    check(len(got) == 1, '%d alerts, want exactly 1: %s' % (len(got), [a['source'].get('link') for a in got]))
    p = got[0]
    src = p.get('source', {})
    title, entry_id, published = ARTICLES[4]
    check(src.get('type') == 'feed', 'source.type %r' % src.get('type'))
    check(src.get('feed') == 'news', 'source.feed %r' % src.get('feed'))
    check(src.get('title') == title, 'source.title %r, want %r' % (src.get('title'), title))
    check(src.get('link') == LINKS[4], 'source.link %r, want %r' % (src.get('link'), LINKS[4]))
    check(src.get('entry_id') == entry_id, 'source.entry_id %r, want %r' % (src.get('entry_id'), entry_id))
    check(RFC3339_UTC.match(src.get('published') or ''), 'source.published %r is not RFC 3339 UTC' %
          src.get('published'))
    check(src.get('published') == published, 'source.published %r, want %r' % (src.get('published'), published))
    check(p.get('rule') == 'any-place', 'rule %r' % p.get('rule'))
    check(title in p.get('summary', ''), 'summary %r lacks the title' % p.get('summary'))
    check(r.snapshot()[0].sig_ok, 'signature: %s' % r.snapshot()[0].sig_detail)
    ctx.timing = 'alert %.2fs after the feed changed' % (r.snapshot()[0].arrived - t)


def test_feed_first_fetch(ctx):
    # Two feeds serving the same five stories: `quiet` takes them as its
    # baseline, `loud` (first_fetch = alert) alerts for each.
    srv = ctx.feed_server()
    body = sample('news.rss')
    srv.serve('/quiet.rss', {'body': body})
    srv.serve('/loud.rss', {'body': body})
    r = receiver(ctx)
    ctx.write_config(webhooks=[('a', webhook(r.url))], rules=[ANY_PLACE],
                     feeds=[('quiet', feed(srv.url('/quiet.rss'))),
                            ('loud', feed(srv.url('/loud.rss'), first_fetch='alert'))])
    dm = ctx.daemon()
    dm.wait_log(r'feed quiet: first fetch: 5 entries taken as the baseline', 5)
    got = r.wait_count(5, scaled(5))
    check(got is not None, '%d alerts with first_fetch = alert, want 5' % r.count())
    t = time.monotonic()
    polls_after(srv, '/quiet.rss', 2, t, 5)
    polls_after(srv, '/loud.rss', 2, t, 5)
    got = alerts(r)
    check(len(got) == 5, '%d alerts, want 5' % len(got))
    check(all(a['source'].get('feed') == 'loud' for a in got),
          'alerts from the skip feed: %s' % [a['source'].get('feed') for a in got])
    check(sorted(a['source'].get('link') for a in got) == LINKS,
          'alerted links %s' % sorted(a['source'].get('link') for a in got))
    check(count_lines(dm, r'feed loud: first fetch') == 0, 'first_fetch = alert took a baseline')


def test_feed_conditional_get(ctx):
    srv = ctx.feed_server()
    lm1 = http_date(1500000000)
    srv.serve('/news.rss', {'body': rss().feed([0, 1, 2, 3]), 'etag': '"v1"', 'last_modified': lm1})
    r = receiver(ctx)
    ctx.write_config(webhooks=[('a', webhook(r.url))], rules=[ANY_PLACE],
                     feeds=[('news', feed(srv.url('/news.rss')))])
    dm = ctx.daemon()
    reqs = polls_after(srv, '/news.rss', 3, 0, 6, answered=True)
    first = reqs[0]
    check(first.status == 200, 'first poll answered %s' % first.status)
    check('if-none-match' not in first.headers and 'if-modified-since' not in first.headers,
          'validators on the first poll: %r' % first.headers)
    for q in reqs:
        ua = q.headers.get('user-agent', '')
        check(ua.startswith('watchlistd/'), 'User-Agent %r' % ua)
    for q in reqs[1:3]:
        check(q.headers.get('if-none-match') == '"v1"', 'If-None-Match %r, want the ETag "v1"' %
              q.headers.get('if-none-match'))
        check(q.headers.get('if-modified-since') == lm1, 'If-Modified-Since %r, want %r' % (
            q.headers.get('if-modified-since'), lm1))
        check(q.status == 304, 'poll answered %s, want 304' % q.status)
    check(r.count() == 0, '%d alerts for 304 responses' % r.count())
    check(count_lines(dm, r'feed news: .*(failure|not a feed)') == 0, 'a 304 was taken as a failure')
    # A new version: a full 200 (one new story), then 304s on its validators.
    lm2 = http_date(1600000000)
    srv.serve('/news.rss', {'body': rss().feed(), 'etag': '"v2"', 'last_modified': lm2})
    got = r.wait_count(1, scaled(5))
    check(got is not None, 'no alert after the feed changed')

    def v2(rs):
        return [q for q in rs if q.response.get('etag') == '"v2"']
    later = srv.wait(lambda rs: len(v2(rs)) >= 3 and all(q.status is not None for q in v2(rs)[:3]),
                     scaled(6), '/news.rss')
    check(later is not None, 'fewer than 3 polls of the new version')
    later = v2(later)[:3]
    check([q.status for q in later] == [200, 304, 304], 'after the change: %s, want 200 304 304' %
          [q.status for q in later])
    check(later[1].headers.get('if-none-match') == '"v2"' and
          later[1].headers.get('if-modified-since') == lm2,
          'validators after the change: %r %r' % (later[1].headers.get('if-none-match'),
                                                  later[1].headers.get('if-modified-since')))
    check(r.count() == 1, '%d alerts, want 1' % r.count())
    check(r.snapshot()[0].json()['source'].get('link') == LINKS[4], 'alert for %r' %
          r.snapshot()[0].json()['source'].get('link'))
    ctx.timing = '%d requests, %d answered 304' % (srv.count(), len([q for q in srv.snapshot() if q.status == 304]))


def test_feed_gzip(ctx):
    srv = ctx.feed_server()
    body = sample('news.rss')
    srv.serve('/news.rss', {'body': body, 'gzip': True})
    r = receiver(ctx)
    ctx.write_config(webhooks=[('a', webhook(r.url))], rules=[ANY_PLACE],
                     feeds=[('news', feed(srv.url('/news.rss'), first_fetch='alert'))])
    dm = ctx.daemon()
    got = r.wait_count(5, scaled(5))
    check(got is not None, '%d alerts from a gzip-encoded feed, want 5' % r.count())
    q = srv.snapshot('/news.rss')[0]
    check('gzip' in q.headers.get('accept-encoding', ''), 'Accept-Encoding %r' % q.headers.get('accept-encoding'))
    check(q.sent < len(body) // 2, 'the body was not sent compressed (%d bytes)' % q.sent)
    check(sorted(a['source'].get('link') for a in alerts(r)) == LINKS, 'links %s' %
          sorted(a['source'].get('link') for a in alerts(r)))
    check(count_lines(dm, r'feed news: .*failure') == 0, 'a failure logged')
    ctx.timing = '%d bytes on the wire for %d' % (q.sent, len(body))


def _cut_off(ctx, resp, what):
    """A feed whose body runs past max_document_size (64K) is cut off, with
    a log line saying why; the daemon keeps running, polls again, and the
    feed works again once it is sane."""
    srv = ctx.feed_server()
    srv.serve('/news.rss', resp)
    r = receiver(ctx)
    ctx.write_config(webhooks=[('a', webhook(r.url))], rules=[ANY_PLACE],
                     daemon={'max_document_size': '64K'},
                     feeds=[('big', feed(srv.url('/news.rss'), first_fetch='alert'))])
    dm = ctx.daemon()
    m = dm.wait_log(r'feed big: (.*)\(failure 1; next try in', 5, 'the failure of the %s feed' % what)
    check('larger than 65536 bytes' in m.group(1), 'the log does not say why (%r)' % m.group(1))
    first = srv.snapshot('/news.rss')[0]
    check(dm.alive(), 'the daemon died')
    check(r.count() == 0, 'alerts from a cut-off feed')
    srv.serve('/news.rss', {'body': sample('news.rss')})
    polls_after(srv, '/news.rss', 1, first.arrived, 5)
    dm.wait_log(r'feed big: works again after 1 failure', 5)
    check(r.wait_count(5, scaled(5)) is not None, '%d alerts once the feed is sane, want 5' % r.count())
    return first


def test_feed_oversized(ctx):
    body = rss().feed(pad=200 * 1024)
    _cut_off(ctx, {'body': body}, 'oversized')


def test_feed_endless(ctx):
    first = _cut_off(ctx, {'endless': True}, 'endless')
    # The daemon hung up: the server's writing stopped with an error.
    ok = wait_until(lambda: first.status is not None and first.sent > 0, 2, what='the endless answer')
    check(ok, 'nothing sent')
    ctx.timing = '%d bytes written before the daemon hung up' % first.sent
    check(first.sent < 64 * 1024 * 1024, 'the daemon read %d bytes of an endless body' % first.sent)


def test_feed_slow_server(ctx):
    # POLLER_TIMEOUT_MS (60 s) and the low-speed limit (64 B/s for 30 s)
    # are too long for this suite's budget, so this does not wait for the
    # slow polls to fail: it shows instead that a feed that hangs and one
    # that trickles a byte a second do not delay another feed nor the
    # inbox, and that SIGTERM does not wait for them.
    slow = ctx.feed_server()
    slow.serve('/hang.rss', {'hang': True})
    slow.serve('/trickle.rss', {'body': sample('news.rss'), 'trickle': (1, 1.0)})
    fast = ctx.feed_server()
    fast.serve('/news.rss', {'body': sample('news.rss')})
    r = receiver(ctx)
    ctx.write_config(webhooks=[('a', webhook(r.url))], rules=[ANY_PLACE],
                     feeds=[('hang', feed(slow.url('/hang.rss'), first_fetch='alert')),
                            ('trickle', feed(slow.url('/trickle.rss'), first_fetch='alert')),
                            ('news', feed(fast.url('/news.rss'), first_fetch='alert'))])
    dm = ctx.daemon()
    check(slow.wait_count(1, scaled(5), '/hang.rss') is not None, 'the hanging feed was not polled')
    check(slow.wait_count(1, scaled(5), '/trickle.rss') is not None, 'the trickling feed was not polled')
    t0 = time.monotonic()
    from cases import short_doc
    ctx.drop('a.txt', short_doc('beside slow feeds'))
    got = r.wait_count(6, scaled(5))
    check(got is not None, '%d alerts beside slow feeds, want 5 from the fast feed and 1 from the inbox' %
          r.count())
    took = time.monotonic() - t0
    srcs = sorted(a['source']['type'] + ':' + (a['source'].get('feed') or '') for a in alerts(r))
    check(srcs == ['feed:news'] * 5 + ['inbox:'], 'alerts from %s' % srcs)
    # The fast feed keeps its pace.
    polls_after(fast, '/news.rss', 2, time.monotonic(), 4)
    check(slow.count('/hang.rss') == 1 and slow.count('/trickle.rss') == 1,
          'a slow feed was polled again while its request was open (%d, %d)' % (
              slow.count('/hang.rss'), slow.count('/trickle.rss')))
    check(slow.snapshot('/hang.rss')[0].status is None, 'the hanging feed got an answer')
    rc, stop = dm.stop()
    check(rc == 0, 'exit %s' % rc)
    check(stop < scaled(3), 'SIGTERM took %.1fs with slow feeds in flight' % stop)
    ctx.timing = 'alerts %.2fs beside slow feeds; stop in %.2fs' % (took, stop)


def test_feed_429_retry_after(ctx):
    srv = ctx.feed_server()
    body = sample('news.rss')
    srv.serve('/news.rss', {'body': body},
              script=[{'status': 429, 'retry_after': 3, 'body': b'slow down\n', 'content_type': 'text/plain'}])
    ctx.write_config(rules=[ANY_PLACE], feeds=[('news', feed(srv.url('/news.rss')))])
    dm = ctx.daemon()
    reqs = srv.wait_count(3, scaled(8), '/news.rss')
    check(reqs is not None, 'fewer than 3 polls (%d)' % srv.count())
    g = gaps(reqs[:3])
    check(reqs[0].status == 429, 'first answer %s' % reqs[0].status)
    check(g[0] >= 2.9, 'polled again %.2fs after a 429 with Retry-After: 3' % g[0])
    check(g[0] < 3 + scaled(1.5), 'polled again only %.2fs after Retry-After: 3' % g[0])
    check(0.8 < g[1] < 1.1 + scaled(0.4), 'after the 429 and a 200, the next poll came %.2fs later, not at the interval' % g[1])
    dm.wait_log(r'feed news: HTTP status 429 \(failure 1; next try in 3\.0 s\)', 2)
    dm.wait_log(r'feed news: works again after 1 failure', 2)
    ctx.timing = 'gaps %s' % fmt_gaps(g)


def test_feed_5xx_backoff(ctx):
    srv = ctx.feed_server()
    srv.serve('/news.rss', {'status': 500, 'body': b'oops\n', 'content_type': 'text/plain'})
    ctx.write_config(rules=[ANY_PLACE], feeds=[('news', feed(srv.url('/news.rss')))])
    dm = ctx.daemon()
    # 1 s, 2 s, 4 s (+-10%).
    reqs = srv.wait_count(4, scaled(10), '/news.rss')
    check(reqs is not None, 'fewer than 4 polls (%d)' % srv.count())
    g = gaps(reqs[:4])
    ctx.timing = 'gaps %s' % fmt_gaps(g)
    check(g[0] >= 0.85, 'first retry after %.2fs, before the interval' % g[0])
    check(g[1] > 1.4 * g[0] and g[2] > 1.4 * g[1], 'gaps do not grow: %s' % fmt_gaps(g))
    check(g[2] < 4 * 1.1 + scaled(0.5), 'gap %.2fs longer than the doubling allows' % g[2])
    n = count_lines(dm, r'feed news: HTTP status 500 \(failure')
    check(n == 1, 'the failure was logged %d times, want once' % n)


def test_feed_restart_no_duplicates(ctx):
    srv = ctx.feed_server()
    # No validators: after the restart the feed is fetched and parsed in
    # full, so only the seen entries in state_dir stop the alerts.
    srv.serve('/news.rss', {'body': sample('news.rss')})
    r = receiver(ctx)
    ctx.write_config(webhooks=[('a', webhook(r.url))], rules=[ANY_PLACE],
                     feeds=[('news', feed(srv.url('/news.rss'), first_fetch='alert'))])
    dm = ctx.daemon()
    check(r.wait_count(5, scaled(5)) is not None, '%d alerts, want 5' % r.count())
    rc, _ = dm.stop()
    check(rc == 0, 'exit %s after SIGTERM' % rc)
    dm2 = ctx.daemon()
    reqs = polls_after(srv, '/news.rss', 3, time.monotonic(), 6, answered=True)
    check(all(q.status == 200 for q in reqs), 'answers %s' % [q.status for q in reqs])
    check(r.count() == 5, '%d alerts after the restart, want still 5: %s' % (
        r.count(), [a['source'].get('link') for a in alerts(r)[5:]]))
    check(dm2.alive(), 'the restarted daemon died')


def test_feed_same_story_two_feeds(ctx):
    srv = ctx.feed_server()
    srv.serve('/news.rss', {'body': sample('news.rss')})
    srv.serve('/news.atom', {'body': sample('news.atom'), 'content_type': 'application/atom+xml'})
    srv.serve('/news.json', {'body': sample('news.json'), 'content_type': 'application/feed+json'})
    r = receiver(ctx)
    ctx.write_config(webhooks=[('a', webhook(r.url))], rules=[ANY_PLACE],
                     feeds=[('rss', feed(srv.url('/news.rss'), first_fetch='alert')),
                            ('atom', feed(srv.url('/news.atom'), first_fetch='alert')),
                            ('json', feed(srv.url('/news.json'), first_fetch='alert'))])
    dm = ctx.daemon()
    check(r.wait_count(5, scaled(5)) is not None, '%d alerts, want 5' % r.count())
    t = time.monotonic()
    for path in ('/news.rss', '/news.atom', '/news.json'):
        polls_after(srv, path, 1, t, 5)
    wait_until(lambda: count_lines(dm, r'feed:(rss|atom|json): the same story') >= 10, 5,
               what=lambda: '10 "same story" log lines (got %d)' % count_lines(dm, r'feed:\w+: the same story'))
    links = sorted(a['source'].get('link') for a in alerts(r))
    check(links == LINKS, 'alerted links %s, want each story once' % links)
    # The same article as an HTML page in the inbox: no new alert.
    name = 'story-1.html'
    ctx.drop_file(article('000', 'html'), name)
    wait_until(lambda: os.path.exists(os.path.join(ctx.processed, name)), 5, what='the HTML page processed')
    dm.wait_log(r'inbox: the same story \(same (link|text)\)', 2)
    time.sleep(scaled(0.3))
    check(r.count() == 5, '%d alerts after the inbox copy of a story, want 5' % r.count())


def test_feed_health(ctx):
    srv = ctx.feed_server()
    srv.serve('/news.rss', {'status': 500, 'body': b'oops\n', 'content_type': 'text/plain'})
    ctx.write_config(rules=[ANY_PLACE], feeds=[('sick', feed(srv.url('/news.rss')))])
    dm = ctx.daemon()
    # Failures at about 0, 1, 3, 7 and 15 s.
    dm.wait_log(r'feed sick: failing 5 times in a row: HTTP status 500', 20)
    check(srv.count('/news.rss') == 5, '"failing" logged after %d polls, want 5' % srv.count('/news.rss'))
    t5 = srv.snapshot('/news.rss')[-1].arrived
    srv.serve('/news.rss', {'body': sample('news.rss')})
    # The next try comes 16 s (+-10%) after the fifth.
    dm.wait_log(r'(?m)feed sick: works again$', 20)
    reqs = srv.snapshot('/news.rss')
    check(len(reqs) == 6, '%d polls, want 6' % len(reqs))
    n = count_lines(dm, r'feed sick: failing \d+ times in a row')
    check(n == 1, 'the "failing" line was logged %d times, want once' % n)
    n = count_lines(dm, r'(?m)feed sick: works again$')
    check(n == 1, 'the "works again" line was logged %d times, want once' % n)
    ctx.timing = 'recovered %.1fs after the fifth failure' % (reqs[-1].arrived - t5)


TESTS = [
    ('feed-new-entry-alerts-once', test_feed_new_entry_alerts_once),
    ('feed-first-fetch', test_feed_first_fetch),
    ('feed-conditional-get', test_feed_conditional_get),
    ('feed-gzip', test_feed_gzip),
    ('feed-oversized', test_feed_oversized),
    ('feed-endless', test_feed_endless),
    ('feed-slow-server', test_feed_slow_server),
    ('feed-429-retry-after', test_feed_429_retry_after),
    ('feed-5xx-backoff', test_feed_5xx_backoff),
    ('feed-restart-no-duplicates', test_feed_restart_no_duplicates),
    ('feed-same-story-two-feeds', test_feed_same_story_two_feeds),
    ('feed-health', test_feed_health),
]
