"""Real peers: Debian's prometheus-alertmanager and webhook (adnanh/webhook),
started by the test on 127.0.0.1.  Installed with apt-get only when running
as root with CI=true or WATCHLISTD_IT_INSTALL=1; otherwise used if present,
and the test is skipped (with the reason) if not."""
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request

from harness import Fail, Skip, alert_id, check, reap, scaled, spawn, wait_until
from receiver import free_port

_tried = {}


def ensure(binary, package):
    """Path of binary, installing package if allowed; Skip if unavailable."""
    path = shutil.which(binary) or (os.path.exists('/usr/bin/' + binary) and '/usr/bin/' + binary)
    if path:
        return path
    allowed = os.environ.get('WATCHLISTD_IT_INSTALL') == '1' or (
        os.geteuid() == 0 and os.environ.get('CI') == 'true')
    if not allowed:
        raise Skip('%s not installed (Debian package %s; set WATCHLISTD_IT_INSTALL=1 '
                   'as root to install it)' % (binary, package))
    if os.geteuid() != 0:
        raise Skip('%s not installed and not root to install %s' % (binary, package))
    if package not in _tried:
        env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
        cmd = ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', package]
        r = subprocess.run(cmd, capture_output=True, env=env, timeout=300)
        if r.returncode != 0:
            subprocess.run(['apt-get', 'update', '-qq'], capture_output=True, env=env, timeout=300)
            r = subprocess.run(cmd, capture_output=True, env=env, timeout=300)
        _tried[package] = r
    path = shutil.which(binary)
    if not path:
        r = _tried[package]
        raise Skip('apt-get install %s failed: %s' % (
            package, (r.stderr or r.stdout).decode('utf-8', 'replace').strip().splitlines()[-1:]))
    return path


def http_get(url, timeout=2):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return resp.status, resp.read()


def port_open(port):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=0.5):
            return True
    except OSError:
        return False


SHORT = ('Fighters of the Islamic State (ISIS) paraded through Sirte on the '
         'Libyan coast on Thursday, witnesses said. Report %s.\n')


def test_alertmanager(ctx):
    am = ensure('prometheus-alertmanager', 'prometheus-alertmanager')
    port = free_port()
    cport = None
    amdir = os.path.join(ctx.dir, 'alertmanager')
    os.makedirs(os.path.join(amdir, 'data'))
    with open(os.path.join(amdir, 'am.yml'), 'w') as f:
        f.write('route:\n  receiver: blackhole\n  group_wait: 1h\nreceivers:\n  - name: blackhole\n')
    log = open(os.path.join(amdir, 'am.log'), 'wb')
    proc = spawn([am, '--config.file=' + os.path.join(amdir, 'am.yml'),
                  '--storage.path=' + os.path.join(amdir, 'data'),
                  '--web.listen-address=127.0.0.1:%d' % port,
                  '--cluster.listen-address='],
                 stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=amdir)
    ctx.cleanups.append(lambda: (reap(proc), log.close()))
    base = 'http://127.0.0.1:%d' % port

    def ready():
        if proc.poll() is not None:
            with open(os.path.join(amdir, 'am.log'), 'rb') as f:
                raise Fail('alertmanager exited %s: %s' % (proc.returncode, f.read()[-500:]))
        try:
            return http_get(base + '/-/ready')[0] == 200
        except OSError:
            return False
    wait_until(ready, 20, 0.1, 'alertmanager to be ready')
    ctx.write_config(webhooks=[('am', {'url': base + '/api/v2/alerts', 'format': 'alertmanager',
                                       'backoff': '200ms', 'backoff_max': '1s', 'timeout': '5s'})],
                     rules=[('isis-coast', {'when': 'isis AND tag:coast', 'severity': 'high'})])
    dm = ctx.daemon()
    data = ctx.drop('am.txt', (SHORT % 'alertmanager').encode())
    aid = alert_id('isis-coast', data)

    def ours():
        try:
            st, body = http_get(base + '/api/v2/alerts')
        except OSError:
            return None
        for a in json.loads(body):
            labels = a.get('labels', {})
            if 'isis-coast' in labels.values():
                return a
        return None
    a = wait_until(ours, 15, 0.2, 'the alert in GET /api/v2/alerts')
    labels = a['labels']
    check('high' in labels.values(), 'no severity label: %r' % labels)
    text = json.dumps(a)
    check('Sirte' in text, 'the alert does not say where: %r' % a)
    check(aid in text, 'the alert id %s is not in the alert: %r' % (aid, a))
    wait_until(lambda: ctx.spool_files() == [], 5, what='an empty spool (Alertmanager answered 2xx)')


def test_adnanh_webhook(ctx):
    wb = ensure('webhook', 'webhook')
    port = free_port()
    wdir = os.path.join(ctx.dir, 'webhook')
    out = os.path.join(wdir, 'out')
    os.makedirs(out)
    saver = os.path.join(wdir, 'save.sh')
    with open(saver, 'w') as f:
        f.write('#!/bin/sh\n# $1: webhook-id header, $2: the payload\n'
                'printf "%%s" "$2" > "%s/$1.tmp" && mv "%s/$1.tmp" "%s/$1.json"\n' % (out, out, out))
    os.chmod(saver, 0o755)
    hooks = [{
        'id': 'watchlistd',
        'execute-command': saver,
        'command-working-directory': wdir,
        'http-methods': ['POST'],
        'pass-arguments-to-command': [
            {'source': 'header', 'name': 'webhook-id'},
            {'source': 'entire-payload'},
        ],
        'trigger-rule': {'match': {'type': 'regex', 'regex': '^v1,',
                                   'parameter': {'source': 'header', 'name': 'webhook-signature'}}},
    }]
    with open(os.path.join(wdir, 'hooks.json'), 'w') as f:
        json.dump(hooks, f)
    log = open(os.path.join(wdir, 'webhook.log'), 'wb')
    proc = spawn([wb, '-hooks', os.path.join(wdir, 'hooks.json'), '-ip', '127.0.0.1',
                  '-port', str(port), '-verbose'],
                 stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=wdir)
    ctx.cleanups.append(lambda: (reap(proc), log.close()))

    def up():
        if proc.poll() is not None:
            with open(os.path.join(wdir, 'webhook.log'), 'rb') as f:
                raise Fail('webhook exited %s: %s' % (proc.returncode, f.read()[-500:]))
        return port_open(port)
    wait_until(up, 20, 0.1, 'webhook to listen')
    from cases import SECRET
    ctx.write_config(webhooks=[('wh', {'url': 'http://127.0.0.1:%d/hooks/watchlistd' % port,
                                       'format': 'json', 'secret': SECRET,
                                       'backoff': '200ms', 'backoff_max': '1s', 'timeout': '5s'})],
                     rules=[('isis-coast', {'when': 'isis AND tag:coast', 'severity': 'high'})])
    dm = ctx.daemon()
    data = ctx.drop('wh.txt', (SHORT % 'webhook').encode())
    aid = alert_id('isis-coast', data)
    path = os.path.join(out, aid + '.json')
    wait_until(lambda: os.path.exists(path), 15, 0.1, 'the hook to write %s' % path)
    with open(path) as f:
        p = json.load(f)
    check(p.get('id') == aid, 'payload id %r, webhook-id %s' % (p.get('id'), aid))
    check(p.get('rule') == 'isis-coast' and p.get('severity') == 'high', 'payload %r' % p)
    check(p.get('document', {}).get('bytes') == len(data), 'document.bytes %r' % p.get('document'))
    wait_until(lambda: ctx.spool_files() == [], 5, what='an empty spool (webhook answered 2xx)')
