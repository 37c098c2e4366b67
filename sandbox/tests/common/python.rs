//! Runs Python 3's smtplib (an independent SMTP client) against the sandbox.

use std::process::Command;

use serde_json::Value;

use super::Harness;

impl Harness {
    /// Runs a Python 3 script (after a prelude defining `E`, `ctx`, `rec`, `Raw`,
    /// `xoauth2`, ...) on a blocking thread, so the sandbox keeps serving, and returns
    /// the JSON list `out` that it printed.
    pub async fn python(&self, env: &[(&str, &str)], body: &str) -> Value {
        let script = format!("{PRELUDE}\n{body}\nprint(json.dumps(out))\n");
        let mut cmd = Command::new("python3");
        cmd.arg("-c")
            .arg(script)
            .env("SANDBOX", serde_json::to_string(self.ep()).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let output = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .expect("python3 runs");
        assert!(
            output.status.success(),
            "python failed: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            String::from_utf8_lossy(&output.stdout)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
            panic!("python printed {}", String::from_utf8_lossy(&output.stdout))
        })
    }
}

const PRELUDE: &str = r#"
import base64, json, os, re, smtplib, socket, ssl, time
E = json.loads(os.environ['SANDBOX'])
ctx = ssl.create_default_context(cafile=E['ca_cert'])
out = []
def norm(s):
    s = re.sub(r'[0-9a-f]{13}-[0-9a-f]{11}sm[0-9]{8}ad[.][0-9]+', '<sid>', s)
    return re.sub(r'OK  [0-9]+ <sid>', 'OK  <time> <sid>', s)
def rec(r):
    if isinstance(r, tuple):
        r = '%d %s' % (r[0], r[1].decode('utf-8', 'replace'))
    out.append(norm(r))
    return r
def xoauth2(user, token):
    return base64.b64encode(('user=%s\x01auth=Bearer %s\x01\x01' % (user, token)).encode()).decode()
def oauthbearer(user, token):
    raw = 'n,a=%s,\x01host=127.0.0.1\x01port=465\x01auth=Bearer %s\x01\x01' % (user, token)
    return base64.b64encode(raw.encode()).decode()
def smtps():
    return smtplib.SMTP_SSL(E['smtp_host'], E['smtp_tls_port'], context=ctx, timeout=20)
def submission():
    s = smtplib.SMTP(E['smtp_host'], E['smtp_starttls_port'], timeout=20)
    s.ehlo(); s.starttls(context=ctx); s.ehlo()
    return s
class Raw:
    """A byte-exact SMTP client: replies come back as the wire text (CRLF-joined)."""
    def __init__(self, implicit=True):
        port = E['smtp_tls_port'] if implicit else E['smtp_starttls_port']
        self.sock = socket.create_connection((E['smtp_host'], port), timeout=20)
        if implicit:
            self.sock = ctx.wrap_socket(self.sock, server_hostname=E['smtp_host'])
        self.buf = b''
        self.greeting = self.reply()
    def line(self):
        while b'\r\n' not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError('connection closed')
            self.buf += d
        l, self.buf = self.buf.split(b'\r\n', 1)
        return l.decode('utf-8', 'replace')
    def reply(self):
        lines = []
        while True:
            l = self.line()
            lines.append(l)
            if len(l) < 4 or l[3] != '-':
                return norm('\r\n'.join(lines))
    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())
    def cmd(self, c):
        self.send((c if isinstance(c, bytes) else c.encode()) + b'\r\n')
        return self.reply()
    def starttls(self):
        r = self.cmd('STARTTLS')
        self.sock = ctx.wrap_socket(self.sock, server_hostname=E['smtp_host'])
        return r
    def closed(self):
        """True when the server closes the connection (whatever it sends first)."""
        self.sock.settimeout(5)
        try:
            while self.sock.recv(4096) != b'':
                pass
            return True
        except socket.timeout:
            return False
        except (ConnectionError, ssl.SSLError, OSError):
            return True
"#;
