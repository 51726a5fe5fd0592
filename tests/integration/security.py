"""Security tests (`security-*`): secrets never reach the log, `check`'s
output or the state directory; configuration files holding secrets that
others can read are warned about; a feed that refuses private addresses
cannot reach one through a connection curl keeps open, nor through a proxy
from the environment; TLS certificates are always verified.

Every secret planted here is a string that appears nowhere else, so that a
plain substring search over everything the daemon wrote finds any leak."""
import base64
import os
import re
import signal
import ssl
import subprocess

from harness import Skip, check, has_line, scaled, wait_until
from receiver import free_port

# One alert per document, to every webhook.
ANY_ISIS = ('any-isis', {'when': 'isis', 'severity': 'high'})

DOC = (b'Fighters of the Islamic State (ISIS) paraded through Sirte on the '
       b'Libyan coast on Thursday, witnesses said.\n')


def key(tag):
    """A whsec_ secret whose base64 text is unique to this test."""
    raw = ('%s-key-for-security-tests!' % tag).encode()[:32].ljust(32, b'!')
    return 'whsec_' + base64.b64encode(raw).decode()


def wh(url, **kw):
    d = {'url': url, 'format': 'json', 'timeout': '5s', 'connect_timeout': '1s',
         'backoff': '200ms', 'backoff_max': '1s', 'retry_for': '1h'}
    d.update(kw)
    return {k: v for k, v in d.items() if v is not None}


def feed(url, **kw):
    d = {'url': url, 'interval': '1s', 'allow_private': 'yes', 'first_fetch': 'skip'}
    d.update(kw)
    return {k: v for k, v in d.items() if v is not None}


def run_check(ctx, conf=None):
    r = subprocess.run([ctx.binary, '-c', conf or ctx.conf, 'check'],
                       capture_output=True, timeout=scaled(30))
    return r.returncode, (r.stdout + r.stderr).decode('utf-8', 'replace')


def state_text(ctx):
    """Every file under the state directory, as one text."""
    out = []
    for d, _, names in os.walk(ctx.state):
        for n in names:
            try:
                with open(os.path.join(d, n), 'rb') as f:
                    out.append('== %s\n' % os.path.join(d, n))
                    out.append(f.read().decode('utf-8', 'replace'))
            except OSError:
                pass
    return '\n'.join(out)


def leaks(text, secrets):
    return [s for s in secrets if s in text]


def reload(ctx, dm):
    mark = ctx.notify.mark()
    dm.signal(signal.SIGHUP)
    ctx.notify.wait_for(lambda m: has_line(m, 'READY=1'), 10, after=mark,
                        what='READY=1 after SIGHUP')


# ---------------------------------------------------------------------------

def test_secrets_not_logged(ctx):
    """Webhook URLs with a token in their path and query, a password in a
    URL, secrets inline, in a file and in the environment, receivers that
    fail, a feed that fails, a feed URL that changes, a reload with bad
    values, `check` on them: none of the secrets shows anywhere."""
    k_inline, k_file, k_env = key('inline'), key('file'), key('env')
    secrets = [k_inline[6:], k_file[6:], k_env[6:],
               'TOKENSLACKPATH', 'TOKENSLACKQUERY', 'PASSWORDHOOK', 'TOKENHOOKQUERY',
               'TOKENTOPIC', 'TOKENNTFYAUTH', 'PASSWORDFEED', 'TOKENFEED',
               'PASSWORDFEEDTWO', 'TOKENFEEDTWO', 'TOKENBADURL', 'TOKENLOOSE']
    good = ctx.receiver(secret=k_inline)
    bad = ctx.receiver(default={'status': 500, 'body': b'receiver is down\n'})
    closed = free_port()
    fs = ctx.feed_server()
    fs.serve('/news.rss?token=TOKENFEED', {'status': 500, 'body': b'oops\n',
                                           'content_type': 'text/plain'})
    fs.serve('/two.rss?token=TOKENFEEDTWO', {'status': 500, 'body': b'oops\n',
                                             'content_type': 'text/plain'})
    sfile = os.path.join(ctx.dir, 'chat.secret')
    with open(os.open(sfile, os.O_WRONLY | os.O_CREAT, 0o600), 'w') as f:
        f.write(k_file + '\n')
    dying = {'retry_for': '1s'}
    hooks = [
        ('good', wh(good.url, secret=k_inline)),
        ('chat', wh('http://127.0.0.1:%d/services/T000/B000/TOKENSLACKPATH?token=TOKENSLACKQUERY'
                    % closed, format='slack', secret='file:' + sfile, **dying)),
        ('ops', wh('http://ops:PASSWORDHOOK@127.0.0.1:%d/hook?token=TOKENHOOKQUERY' % bad.port,
                   secret='env:WLIT_SECURITY_SECRET', **dying)),
        ('push', wh('http://127.0.0.1:%d/TOKENTOPIC?auth=TOKENNTFYAUTH' % closed,
                    format='ntfy', **dying)),
    ]
    feed_url = 'http://reader:PASSWORDFEED@127.0.0.1:%d/news.rss?token=TOKENFEED' % fs.port
    ctx.write_config(webhooks=hooks, rules=[ANY_ISIS],
                     feeds=[('news', feed(feed_url, health_after='1'))],
                     daemon={'log_level': 'debug'})
    dm = ctx.daemon(env={'WLIT_SECURITY_SECRET': k_env})
    ctx.drop('doc.txt', DOC)

    # Every webhook is tried; the failing ones give up into dead/.
    wait_until(lambda: len([n for n in ctx.dead_files() if n.endswith('.reason')]) >= 3, 15,
               what=lambda: 'three alerts in dead/ (have %s)' % ctx.dead_files())
    check(bad.count() >= 1, 'the failing receiver was never tried')
    # The feed fails, and its health alert reaches the good receiver with
    # the feed's URL less its password and query.
    dm.wait_log(r'feed news: .*HTTP status 500', 10)
    got = good.wait(lambda q: any(r.json().get('kind') == 'feed-health' for r in q), scaled(10))
    check(got is not None, 'no feed-health alert reached the good receiver')
    health = [r.json() for r in got if r.json().get('kind') == 'feed-health'][0]
    want_link = 'http://127.0.0.1:%d/news.rss' % fs.port
    check(health['source'].get('link') == want_link,
          'health alert link %r, want %r' % (health['source'].get('link'), want_link))
    check(all(r.sig_ok for r in got), 'a signature does not verify with the inline secret')

    # A reload that changes the feed's URL, then one with bad values.
    logpos = len(dm.log())
    feed2 = 'http://reader:PASSWORDFEEDTWO@127.0.0.1:%d/two.rss?token=TOKENFEEDTWO' % fs.port
    ctx.write_config(webhooks=hooks, rules=[ANY_ISIS],
                     feeds=[('news', feed(feed2, health_after='1'))],
                     daemon={'log_level': 'debug'})
    reload(ctx, dm)
    dm.wait_log(r'feed news: url changed: polling http://127\.0\.0\.1:%d/\.\.\.' % fs.port, 5,
                start=logpos)
    wait_until(lambda: fs.count('/two.rss?token=TOKENFEEDTWO') >= 1, 10, what='a poll of the new URL')
    bad_hooks = hooks + [('broken', wh('https://hooks.example.net/T0/TOKENBADURL x',
                                       format='slack'))]
    ctx.write_config(webhooks=bad_hooks, rules=[ANY_ISIS],
                     feeds=[('news', feed(feed2))],
                     extra='[webhook:loose]\nsecret whsec_TOKENLOOSE\n')
    logpos = len(dm.log())
    reload(ctx, dm)
    dm.wait_log(r'reload failed', 5, start=logpos)
    log = dm.log()
    check('contains a space or control character' in log[logpos:],
          'the bad url is not reported: %s' % log[logpos:][-800:])
    rc, out = run_check(ctx)
    check(rc == 1, '`check` on the bad configuration exits %d, want 1' % rc)
    check("'https://hooks.example.net/...' contains a space" in out, 'check says:\n' + out)
    check("not 'secret ...'" in out, 'check says:\n' + out)

    dm.stop()
    everything = {'the daemon log': dm.log(), '`check` output': out, 'the state directory': state_text(ctx)}
    for where, text in everything.items():
        found = leaks(text, secrets)
        check(not found, '%s holds %s' % (where, found))
    # The log still says which webhook failed and where it was going.
    check("webhook 'chat'" in everything['the daemon log'], 'no log line names webhook chat')


def test_config_mode_warning(ctx):
    """A configuration holding secrets, or a secret file, that others can
    read: `check` warns and passes; the daemon warns at start and at each
    reload while it lasts."""
    r = ctx.receiver(secret=key('mode'))
    ctx.write_config(webhooks=[('ops', wh(r.url, secret=key('mode')))], rules=[ANY_ISIS])
    os.chmod(ctx.conf, 0o604)
    want = ('warning: this file holds secrets ([webhook:ops] secret) but can be read by '
            'others (mode 0604): chmod 600 it')
    rc, out = run_check(ctx)
    check(rc == 0 and 'configuration OK' in out, '`check` exits %d:\n%s' % (rc, out))
    check('%s: %s' % (ctx.conf, want) in out, '`check` says:\n' + out)
    check(key('mode')[6:] not in out, 'the secret is in the warning')
    dm = ctx.daemon()
    dm.wait_log(re.escape('%s: %s' % (ctx.conf, want)), 5)

    # Owner only: no more warning, at reload as at `check`.
    os.chmod(ctx.conf, 0o600)
    logpos = len(dm.log())
    reload(ctx, dm)
    dm.wait_log(r'reloaded', 5, start=logpos)
    check('holds secrets' not in dm.log()[logpos:], 'warned about a file of mode 0600')
    rc, out = run_check(ctx)
    check(rc == 0 and 'warning' not in out, '`check` on a 0600 file says:\n' + out)

    # A secret file others can read, named at the webhook's line.
    sfile = os.path.join(ctx.dir, 'ops.secret')
    with open(sfile, 'w') as f:
        f.write(key('mode') + '\n')
    os.chmod(sfile, 0o604)
    ctx.write_config(webhooks=[('ops', wh(r.url, secret='file:' + sfile))], rules=[ANY_ISIS])
    logpos = len(dm.log())
    reload(ctx, dm)
    dm.wait_log(r'reloaded', 5, start=logpos)
    dm.wait_log(re.escape('[webhook:ops] secret file %s can be read by others (mode 0604)' % sfile),
                5, start=logpos)
    check(key('mode')[6:] not in dm.log(), 'the secret is in the log')


def test_private_reused_connection(ctx):
    """Feed a may reach 127.0.0.1 (allow_private = yes), feed b on the same
    server may not: b never gets a byte from it, though curl keeps a's
    connections open for reuse."""
    fs = ctx.feed_server()
    from feeds import sample
    fs.serve('/a.rss', {'body': sample('news.rss')})
    fs.serve('/b.rss', {'body': sample('news.rss')})
    ctx.write_config(rules=[ANY_ISIS], feeds=[('a', feed(fs.url('/a.rss'))),
                                              ('b', feed(fs.url('/b.rss'), allow_private='no'))],
                     daemon={'log_level': 'debug'})
    dm = ctx.daemon()
    # b backs off (1 s, 2 s, ...): its third try comes about 3 s in.
    dm.wait_log(r'feed b: refused to connect to 127\.0\.0\.1.* again \(failure 3\)', 15)
    check(fs.count('/a.rss') >= 3, 'feed a was polled %d times' % fs.count('/a.rss'))
    check(fs.count('/b.rss') == 0, 'feed b (allow_private = no) reached 127.0.0.1 %d times '
          '(a connection of feed a reused?)' % fs.count('/b.rss'))
    check('works again' not in dm.log(), 'feed b "works again"')


def test_proxy_env_ignored(ctx):
    """http_proxy and friends in the environment are not used: a proxy would
    connect on the daemon's behalf, past the private-address checks."""
    proxy = ctx.receiver()
    r = ctx.receiver(secret=key('proxy'))
    purl = 'http://127.0.0.1:%d' % proxy.port
    env = {k: purl for k in ('http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY',
                             'all_proxy', 'ALL_PROXY')}
    env.update({'no_proxy': None, 'NO_PROXY': None})
    ctx.write_config(webhooks=[('a', wh(r.url, secret=key('proxy')))], rules=[ANY_ISIS])
    ctx.daemon(env=env)
    ctx.drop('proxy.txt', DOC)
    got = r.wait_count(1, scaled(10))
    check(got is not None and got[0].sig_ok, 'no signed delivery to the receiver itself')
    check(proxy.count() == 0, 'the proxy of the environment got %d requests' % proxy.count())


def make_cert(ctx):
    cert = os.path.join(ctx.dir, 'cert.pem')
    keyf = os.path.join(ctx.dir, 'key.pem')
    try:
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
                        '-keyout', keyf, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
                        '-addext', 'subjectAltName=IP:127.0.0.1'],
                       check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.CalledProcessError) as e:
        raise Skip('cannot make a certificate with openssl: %s' % e)
    return cert, keyf


def test_tls_verified(ctx):
    """A receiver with a self-signed certificate is refused, whatever the
    environment says (SSL_CERT_FILE, CURL_CA_BUNDLE point at it); its
    certificate as the webhook's ca_file makes it trusted."""
    cert, keyf = make_cert(ctx)
    r = ctx.receiver(secret=key('tls'))
    sslctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sslctx.load_cert_chain(cert, keyf)
    r._srv.socket = sslctx.wrap_socket(r._srv.socket, server_side=True)
    url = 'https://127.0.0.1:%d/hook' % r.port
    ctx.write_config(webhooks=[('tls', wh(url, secret=key('tls')))], rules=[ANY_ISIS])
    dm = ctx.daemon(env={'SSL_CERT_FILE': cert, 'SSL_CERT_DIR': ctx.dir,
                         'CURL_CA_BUNDLE': cert})
    ctx.drop('tls.txt', DOC)
    dm.wait_log(r"webhook 'tls': alert [0-9a-f]+: attempt 2 failed: .*(SSL|certificate)", 10)
    check(r.count() == 0, 'a request went to a receiver whose certificate is not trusted')
    ctx.write_config(webhooks=[('tls', wh(url, secret=key('tls'), ca_file=cert))], rules=[ANY_ISIS])
    reload(ctx, dm)
    got = r.wait_count(1, scaled(10))
    check(got is not None, 'nothing delivered with ca_file naming the certificate')
    check(got[0].sig_ok, got[0].sig_detail)


TESTS = [
    ('security-secrets-not-logged', test_secrets_not_logged),
    ('security-config-mode-warning', test_config_mode_warning),
    ('security-private-reused-connection', test_private_reused_connection),
    ('security-proxy-env-ignored', test_proxy_env_ignored),
    ('security-tls-verified', test_tls_verified),
]
