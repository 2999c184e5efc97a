"""Test harness for Coffre integration tests.

Starts `$COFFRE_BIN server --dev` on free loopback ports in a temporary data directory, waits for
the dev.env it writes, and offers helpers to talk to it: MSI tokens, raw HTTPS requests (optionally
through the server's CONNECT proxy), raw TLS byte exchanges, SDK clients, child-process
environments, stop/kill -9/restart.

Standard library only (plus Debian's python3-azure where a test asks for an SDK client).
All traffic goes to loopback; every wait loop is bounded in time and count.
"""

import atexit
import base64
import http.client
import json
import os
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("COFFRE_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
COFFRE_BIN = os.environ.get("COFFRE_BIN") or os.path.join(SOURCE_DIR, "build", "coffre")
PYTHON = "/usr/bin/python3"

START_TIMEOUT = 30.0      # seconds to wait for dev.env / readiness
STOP_TIMEOUT = 15.0       # seconds to wait after SIGTERM before SIGKILL
REQUEST_TIMEOUT = 30.0

DEFAULT_API_VERSION = "7.4"
JSON_CT = "application/json; charset=utf-8"

# Variables removed from every child environment (and from os.environ by apply_env): proxies,
# Azure credentials, other managed-identity flavours and CA overrides that dev.env replaces.
_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"}
_DROP_PREFIXES = ("AZURE_", "MSI_", "IDENTITY_")
_DROP_EXACT = {"IMDS_ENDPOINT", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE",
               "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS", "KEY_VAULT_NAME", "COFFRE_VAULT_URL",
               "NODE_OPTIONS", "NODE_TLS_REJECT_UNAUTHORIZED"}

REQUIRED_DEVENV = ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
                   "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "KEY_VAULT_NAME", "COFFRE_VAULT_URL")

_ALL_SERVERS = []         # every Coffre instance created in this process
_SAVED_LOGS = []          # (label, text) kept for dumping after a failed run


class HarnessError(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------
# small helpers

def b64url_decode(s):
    if s is None:
        return None
    s = s.replace("-", "+").replace("_", "/")
    return base64.b64decode(s + "=" * (-len(s) % 4))


def clean_env(base=None):
    """A copy of the environment without proxy, Azure credential and CA variables."""
    env = dict(os.environ if base is None else base)
    for k in list(env):
        if k.lower() in _PROXY_VARS or k.startswith(_DROP_PREFIXES) or k in _DROP_EXACT:
            del env[k]
    return env


def parse_env_file(text):
    """Parse `export K=V` lines (values possibly quoted); commented lines are ignored."""
    out = {}
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.startswith("export "):
            s = s[len("export "):].lstrip()
        key, sep, val = s.partition("=")
        key = key.strip()
        if not sep or not key:
            continue
        try:
            parts = shlex.split(val, posix=True)
            val = " ".join(parts)
        except ValueError:
            val = val.strip().strip("'\"")
        if key == "PATH":
            # dev.env prepends the coffre binary's directory: `export PATH="DIR:$PATH"`.
            val = val.replace("${PATH}", "$PATH").replace("$PATH", os.environ.get("PATH", ""))
        out[key] = val
    return out


def commented_env_lines(text):
    """Return {KEY: value} for lines like `# export KEY=value`."""
    out = {}
    for line in text.splitlines():
        s = line.strip()
        if not s.startswith("#"):
            continue
        s = s.lstrip("#").strip()
        if not s.startswith("export "):
            continue
        out.update(parse_env_file(s))
    return out


def _port_free_both(port):
    """True if `port` can be bound on 127.0.0.1 and (if IPv6 exists) on ::1."""
    s4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s4.bind(("127.0.0.1", port))
    except OSError:
        s4.close()
        return False
    try:
        if not socket.has_ipv6:
            return True
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s6.bind(("::1", port))
            return True
        except OSError as e:
            # No IPv6 loopback at all on this machine: accept the port.
            return e.errno in (97, 99)  # EAFNOSUPPORT, EADDRNOTAVAIL
        finally:
            s6.close()
    finally:
        s4.close()


def free_port(exclude=()):
    for _ in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port in exclude:
            continue
        if _port_free_both(port):
            return port
    raise HarnessError("could not find a free port bindable on 127.0.0.1 and ::1")


def closed_port():
    """A loopback port that nothing listens on (used as a black hole for IMDS guards)."""
    return free_port()


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers          # list of (name, value)
        self.body = body or b""
        self._json = None

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def json(self):
        if self._json is None:
            self._json = json.loads(self.body.decode("utf-8"))
        return self._json

    @property
    def error(self):
        try:
            j = self.json()
        except Exception:
            return None
        if isinstance(j, dict) and isinstance(j.get("error"), dict):
            return j["error"]
        return None

    @property
    def error_code(self):
        e = self.error
        return e.get("code") if e else None

    @property
    def error_message(self):
        e = self.error
        return e.get("message") if e else None

    def __repr__(self):
        body = self.body[:600]
        return "<Response %s %s %r>" % (self.status, self.reason, body)


def _read_http_response(sock, method):
    resp = http.client.HTTPResponse(sock, method=method)
    resp.begin()
    body = resp.read()
    return Response(resp.status, resp.reason, resp.getheaders(), body)


class _SockConnection(http.client.HTTPConnection):
    """HTTPConnection over a socket that the harness opened (TLS, tunnel, ...)."""

    def __init__(self, opener, timeout):
        super().__init__("placeholder", timeout=timeout)
        self._opener = opener

    def connect(self):
        self.sock = self._opener()


# --------------------------------------------------------------------------------------------

class Coffre:
    """One Coffre dev server in its own temporary directory."""

    def __init__(self, vaults=(), extra_args=(), label=None):
        self.vaults = list(vaults)
        self.extra_args = list(extra_args)
        self.label = label or "coffre"
        self.root = None
        self.data_dir = None
        self.log_path = None
        self.proc = None
        self.port = None
        self.http_port = None
        self.devenv = {}
        self.devenv_text = ""
        self._log_file = None
        self._tokens = {}
        self._starts = 0
        _ALL_SERVERS.append(self)

    # ---- lifecycle ------------------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def _args(self):
        args = [COFFRE_BIN, "server", "--dev", "--data-dir", self.data_dir,
                "--port", str(self.port), "--http-port", str(self.http_port)]
        for v in self.vaults:
            args += ["--vault", v]
        # The suites send many wrong credentials on purpose from one address; throttling has its
        # own test (test_hardening), which sets a low limit.
        if self.option("--max-failed-sign-ins") is None:
            args += ["--max-failed-sign-ins", "100000"]
        return args + self.extra_args

    def start(self, attempts=5):
        if not os.path.exists(COFFRE_BIN):
            raise HarnessError("coffre binary not found at %s (set COFFRE_BIN)" % COFFRE_BIN)
        if self.root is None:
            self.root = tempfile.mkdtemp(prefix="coffre-it-")
            self.data_dir = os.path.join(self.root, "data")
            os.mkdir(self.data_dir, 0o700)
            self.log_path = os.path.join(self.root, "server.log")
        last = None
        for attempt in range(attempts):
            self.port = free_port()
            self.http_port = free_port(exclude=(self.port,))
            try:
                self._launch_and_wait(first=True)
                return self
            except HarnessError as e:
                last = e
                self._kill_quietly()
                # A fresh start that failed may have left a half-initialised dir; start clean.
                shutil.rmtree(self.data_dir, ignore_errors=True)
                os.mkdir(self.data_dir, 0o700)
                if "exited" not in str(e):
                    break  # a timeout is not a port clash; do not retry
        raise HarnessError("server did not start: %s\n--- server log ---\n%s" % (last, self.log_tail()))

    def _launch_and_wait(self, first):
        self._starts += 1
        self._log_file = open(self.log_path, "ab")
        self._log_file.write(("\n===== start #%d: %s =====\n" % (
            self._starts, " ".join(self._args()))).encode())
        self._log_file.flush()
        old_mtime = None
        devenv_path = os.path.join(self.data_dir, "dev.env")
        if os.path.exists(devenv_path):
            old_mtime = os.stat(devenv_path).st_mtime_ns
        self.proc = subprocess.Popen(self._args(), stdin=subprocess.DEVNULL, stdout=self._log_file,
                                     stderr=subprocess.STDOUT, env=clean_env(), cwd=self.root,
                                     start_new_session=True)
        self._tokens = {}
        deadline = time.monotonic() + START_TIMEOUT
        last_err = "dev.env never appeared"
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise HarnessError("server exited with code %s during start-up" % rc)
            if os.path.exists(devenv_path):
                try:
                    with open(devenv_path) as f:
                        text = f.read()
                    env = parse_env_file(text)
                except OSError as e:
                    env, text = {}, ""
                    last_err = str(e)
                if all(k in env for k in REQUIRED_DEVENV):
                    self.devenv, self.devenv_text = env, text
                    ok, last_err = self._ready_check()
                    if ok:
                        return
            time.sleep(0.1)
        raise HarnessError("start-up timed out after %.0fs: %s" % (START_TIMEOUT, last_err))

    def _ready_check(self):
        try:
            r = self.http_get("/healthz", timeout=3)
            if r.status != 200:
                return False, "healthz answered %s" % r.status
            sock = self.tls_socket(sni="localhost", timeout=5)
            sock.close()
            r = self.msi_raw(resource=self.local_resource, timeout=5)
            if r.status != 200:
                return False, "MSI answered %s %r" % (r.status, r.body[:200])
            return True, ""
        except (OSError, http.client.HTTPException) as e:
            return False, "%s: %s" % (type(e).__name__, e)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, wait, SIGKILL fallback. Returns (exit code, graceful?)."""
        if self.proc is None:
            return None, True
        graceful = True
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                graceful = False
                self.proc.kill()
                self.proc.wait(10)
        rc = self.proc.returncode
        self._close_log()
        return rc, graceful

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._close_log()

    def _kill_quietly(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.kill()
                self.proc.wait(10)
            except Exception:
                pass
        self._close_log()

    def _close_log(self):
        if self._log_file is not None:
            try:
                self._log_file.close()
            except Exception:
                pass
            self._log_file = None

    def restart(self, kill=False):
        """Stop (SIGTERM, or SIGKILL with kill=True) and start again on the same data dir and,
        if possible, the same ports."""
        if kill:
            self.kill9()
        else:
            self.stop()
        last = None
        for attempt in range(4):
            try:
                self._launch_and_wait(first=False)
                return self
            except HarnessError as e:
                last = e
                self._kill_quietly()
                if "exited" not in str(e):
                    break
                time.sleep(1.0)
                if attempt == 2:   # ports taken by someone else meanwhile: move
                    self.port = free_port()
                    self.http_port = free_port(exclude=(self.port,))
        raise HarnessError("server did not restart: %s\n--- server log ---\n%s" % (last, self.log_tail()))

    def cleanup(self):
        if self.running():
            self.stop()
        self._close_log()
        if self.root and os.path.isdir(self.root):
            _SAVED_LOGS.append((self.label, self.log_tail()))
            shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def log_tail(self, n=20000):
        t = self.log_text()
        return t[-n:]

    # ---- addresses ------------------------------------------------------------------------

    @property
    def local_resource(self):
        return "https://localhost:%d" % self.port

    def vault_host(self, vault="dev"):
        return "%s.localhost:%d" % (vault, self.port)

    def vault_url(self, vault="dev"):
        return "https://" + self.vault_host(vault)

    @property
    def ca_pem(self):
        return os.path.join(self.data_dir, "ca.pem")

    @property
    def ca_bundle(self):
        return self.devenv.get("REQUESTS_CA_BUNDLE") or os.path.join(self.data_dir, "ca-bundle.pem")

    @property
    def proxy_url(self):
        return "http://127.0.0.1:%d" % self.http_port

    def ssl_context(self):
        ctx = ssl.create_default_context(cafile=self.ca_pem)
        return ctx

    # ---- environments ---------------------------------------------------------------------

    def env(self, **overrides):
        """Environment for a child process: clean, then dev.env, then overrides (None deletes)."""
        env = clean_env()
        env.update(self.devenv)
        for k, v in overrides.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        has_msi = env.get("IDENTITY_ENDPOINT") and env.get("IDENTITY_HEADER")
        has_sp = env.get("AZURE_CLIENT_ID") and env.get("AZURE_CLIENT_SECRET") and env.get("AZURE_TENANT_ID")
        if not (has_msi or has_sp):
            raise HarnessError("refusing to build a child env without any credential")
        if not has_msi:
            # Defence in depth: should the chain ever fall through to IMDS, send it to a dead
            # loopback port instead of 169.254.169.254.
            env.setdefault("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:%d" % closed_port())
        return env

    def adfs_env(self, principal, **overrides):
        env = self.env(IDENTITY_ENDPOINT=None, IDENTITY_HEADER=None,
                       AZURE_TENANT_ID="adfs", AZURE_CLIENT_ID=principal["appId"],
                       AZURE_CLIENT_SECRET=principal["password"],
                       AZURE_AUTHORITY_HOST=self.local_resource)
        env.update(overrides)
        return env

    def apply_env(self):
        """Make this process's os.environ match env() (for in-process SDK clients)."""
        target = self.env()
        for k in list(os.environ):
            if k not in target:
                del os.environ[k]
        os.environ.update(target)

    # ---- plain HTTP port ------------------------------------------------------------------

    def http_request(self, method, path, headers=None, body=None, timeout=REQUEST_TIMEOUT, family=4):
        host = "127.0.0.1" if family == 4 else "::1"
        conn = http.client.HTTPConnection(host, self.http_port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return Response(r.status, r.reason, r.getheaders(), r.read())
        finally:
            conn.close()

    def http_get(self, path, headers=None, timeout=REQUEST_TIMEOUT, family=4):
        return self.http_request("GET", path, headers=headers, timeout=timeout, family=family)

    def healthz(self):
        return self.http_get("/healthz", timeout=10)

    # ---- MSI ------------------------------------------------------------------------------

    def msi_raw(self, resource=None, header="default", query=None, extra_headers=None, https=False,
                timeout=REQUEST_TIMEOUT):
        if query is None:
            query = "api-version=2019-08-01"
            if resource is not None:
                query += "&resource=" + resource
        hdrs = {}
        if header == "default":
            hdrs["X-IDENTITY-HEADER"] = self.devenv["IDENTITY_HEADER"]
        elif header is not None:
            hdrs["X-IDENTITY-HEADER"] = header
        hdrs.update(extra_headers or {})
        path = urllib.parse.urlsplit(self.devenv["IDENTITY_ENDPOINT"]).path or "/msi/token"
        if https:
            return self.request("GET", path + "?" + query, headers=hdrs, token=None,
                                host="localhost:%d" % self.port)
        return self.http_get(path + "?" + query, headers=hdrs, timeout=timeout)

    def msi_token(self, resource=None):
        resource = resource or self.local_resource
        tok = self._tokens.get(resource)
        if tok and tok[1] > time.time() + 60:
            return tok[0]
        r = self.msi_raw(resource=resource)
        if r.status != 200:
            raise HarnessError("MSI token for %s failed: %r" % (resource, r))
        j = r.json()
        self._tokens[resource] = (j["access_token"], int(j["expires_on"]))
        return j["access_token"]

    def resource_for_host(self, host):
        hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host
        if hostname.endswith(".vault.azure.net"):
            return "https://vault.azure.net"
        return self.local_resource

    # ---- HTTPS ----------------------------------------------------------------------------

    def _connect_tcp(self, family, port, timeout):
        addr = ("127.0.0.1", port) if family == 4 else ("::1", port)
        return socket.create_connection(addr, timeout=timeout)

    def open_tunnel(self, target, timeout=REQUEST_TIMEOUT):
        """CONNECT `target` through the proxy on the HTTP port. Returns (socket, Response-ish
        status line, raw header bytes). The socket is positioned after the CONNECT response."""
        sock = self._connect_tcp(4, self.http_port, timeout)
        req = "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target)
        sock.sendall(req.encode())
        buf = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in buf and time.monotonic() < deadline and len(buf) < 65536:
            chunk = sock.recv(1)   # byte-wise so nothing past the header is consumed
            if not chunk:
                break
            buf += chunk
        line = buf.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split(" ", 2)
        status = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None
        return sock, status, buf

    def tls_socket(self, sni="dev.localhost", family=4, proxy_target=None, timeout=REQUEST_TIMEOUT,
                   context=None):
        ctx = context or self.ssl_context()
        if proxy_target:
            sock, status, raw = self.open_tunnel(proxy_target, timeout=timeout)
            if status != 200:
                sock.close()
                raise HarnessError("CONNECT %s answered %r" % (proxy_target, raw[:200]))
        else:
            sock = self._connect_tcp(family, self.port, timeout)
        try:
            return ctx.wrap_socket(sock, server_hostname=sni)
        except Exception:
            sock.close()
            raise

    def request(self, method, path, body=None, headers=None, host=None, token="auto", sni=None,
                proxy=False, family=4, timeout=REQUEST_TIMEOUT, content_type="application/json"):
        """One HTTPS request. `host` is the Host header (default dev.localhost:P); `token`: "auto"
        (MSI token for the host's resource), None (no Authorization), or a string. With
        proxy=True the request goes through CONNECT host:443 on the HTTP port."""
        host = host or self.vault_host("dev")
        hostname = host
        if hostname.startswith("["):
            hostname = hostname[1:hostname.index("]")]
        elif hostname.count(":") == 1:
            hostname = hostname.rsplit(":", 1)[0]
        sni = sni or hostname
        hdrs = {"Host": host}
        if token == "auto":
            hdrs["Authorization"] = "Bearer " + self.msi_token(self.resource_for_host(host))
        elif token is not None:
            hdrs["Authorization"] = token if " " in token else "Bearer " + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        if body is not None and content_type:
            hdrs["Content-Type"] = content_type
        hdrs.update(headers or {})
        target = None
        if proxy:
            target = "%s:443" % hostname
        conn = _SockConnection(lambda: self.tls_socket(sni=sni, family=family, proxy_target=target,
                                                       timeout=timeout), timeout)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            return Response(r.status, r.reason, r.getheaders(), r.read())
        finally:
            conn.close()

    def api(self, method, path, body=None, api_version=DEFAULT_API_VERSION, query=None, **kw):
        """Request with ?api-version=... appended (plus extra `query` string)."""
        q = []
        if api_version is not None:
            q.append("api-version=" + api_version)
        if query:
            q.append(query)
        sep = "&" if "?" in path else "?"
        full = path + (sep + "&".join(q) if q else "")
        return self.request(method, full, body=body, **kw)

    def follow(self, url, **kw):
        """GET an absolute URL (nextLink) as given, against this server."""
        u = urllib.parse.urlsplit(url)
        path = u.path + ("?" + u.query if u.query else "")
        return self.request("GET", path, host=u.netloc, **kw)

    def raw_tls(self, data, sni="dev.localhost", method="GET", timeout=20, shutdown=False):
        """Send raw bytes over TLS and parse one HTTP response (or None if the server closed
        without answering)."""
        s = self.tls_socket(sni=sni, timeout=timeout)
        try:
            try:
                s.sendall(data)
                if shutdown:
                    s.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass
            try:
                return _read_http_response(s, method)
            except (http.client.RemoteDisconnected, ConnectionResetError, ssl.SSLError,
                    http.client.IncompleteRead, http.client.BadStatusLine):
                return None
        finally:
            s.close()

    # ---- SDK ------------------------------------------------------------------------------

    def key_client(self, vault="dev", **kwargs):
        from azure.identity import ManagedIdentityCredential
        from azure.keyvault.keys import KeyClient
        self.apply_env()
        return KeyClient(self.vault_url(vault), ManagedIdentityCredential(), **kwargs)

    # ---- CLI ------------------------------------------------------------------------------

    def cli(self, *args, timeout=60):
        return subprocess.run([COFFRE_BIN] + list(args), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout, env=clean_env())

    # ---- admin API ------------------------------------------------------------------------

    @property
    def admin_token(self):
        return self.devenv.get("COFFRE_ADMIN_TOKEN", "")

    def admin(self, method, path, body=None, token="admin"):
        """Calls the admin API (/coffre-admin/v1/PATH) on localhost:PORT with the admin token."""
        headers = {}
        if token == "admin":
            token = self.admin_token
        if token:
            headers["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        return self.request(method, "/coffre-admin/v1/" + path.lstrip("/"), body=data,
                            headers=headers, host="localhost:%d" % self.port, token=None,
                            sni="localhost")

    def grant(self, object_id, keys, vault="dev"):
        """Sets an access policy: the object id gets these key permissions on the vault."""
        r = self.admin("PUT", "vaults/%s/accessPolicies/%s" % (vault, object_id),
                       {"permissions": {"keys": list(keys)}})
        if r.status != 200:
            raise HarnessError("set-policy failed: %r" % r)
        return r.json()

    def create_principal(self, name):
        p = self.cli("principal", "create", "--name", name, "--data-dir", self.data_dir)
        if p.returncode != 0:
            raise HarnessError("principal create failed (%s): %s %s" % (p.returncode, p.stdout, p.stderr))
        out = p.stdout.strip()
        try:
            return json.loads(out)
        except ValueError:
            start, end = out.find("{"), out.rfind("}")
            if start >= 0 and end > start:
                return json.loads(out[start:end + 1])
            raise HarnessError("principal create printed no JSON: %r" % out)

    # ---- admin API: vaults, principals, role assignments; audit files ----------------------

    def create_vault(self, name, **settings):
        """POST vaults {"name": name, **settings} (retentionDays, enablePurgeProtection,
        enableRbacAuthorization); returns the vault JSON."""
        r = self.admin("POST", "vaults", dict(settings, name=name))
        if r.status != 201:
            raise HarnessError("vault create %s failed: %r" % (name, r))
        return r.json()

    def admin_principal(self, name):
        """POST principals {"name"}: {appId, displayName, password, tenant, objectId}."""
        r = self.admin("POST", "principals", {"name": name})
        if r.status != 201:
            raise HarnessError("principal %s create failed: %r" % (name, r))
        return r.json()

    def principal_token(self, name, resource=None):
        """A data-plane token for a principal from POST principals/{name}/token."""
        r = self.admin("POST", "principals/%s/token" % name,
                       {"resource": resource or self.local_resource})
        if r.status != 200:
            raise HarnessError("token for %s failed: %r" % (name, r))
        return r.json()["accessToken"]

    def assign_role(self, role, principal_id, scope):
        r = self.admin("POST", "roleAssignments",
                       {"roleName": role, "principalId": principal_id, "scope": scope})
        if r.status != 201:
            raise HarnessError("role assignment %s/%s/%s failed: %r" % (role, principal_id, scope, r))
        return r.json()

    def principal_credential(self, principal):
        """ClientSecretCredential (ADFS route, tenant "adfs") for a principal."""
        from azure.identity import ClientSecretCredential
        self.apply_env()
        return ClientSecretCredential("adfs", principal["appId"], principal["password"],
                                      authority=self.local_resource)

    def principal_key_client(self, principal, vault="dev", **kwargs):
        from azure.keyvault.keys import KeyClient
        return KeyClient(self.vault_url(vault), self.principal_credential(principal), **kwargs)

    @staticmethod
    def token_claims(token):
        """The (unverified) JSON payload of a JWT."""
        return json.loads(b64url_decode(token.split(".")[1]))

    @property
    def audit_dir(self):
        return self.option("--audit-dir") or os.path.join(self.data_dir, "audit")

    def audit_files(self):
        d = self.audit_dir
        if not os.path.isdir(d):
            return []
        return sorted(os.path.join(d, n) for n in os.listdir(d)
                      if n.startswith("audit-") and n.endswith(".jsonl"))

    def audit_lines(self):
        """Every audit line, oldest first, parsed."""
        out = []
        for path in self.audit_files():
            with open(path, encoding="utf-8") as f:
                out.extend(json.loads(line) for line in f if line.strip())
        return out

    def audit_verify(self, files=None):
        """`coffre audit verify --data-dir D [--audit-dir, --storage, --master-key-file] FILES`
        (default: this server's audit files): the chain key and anchored head come from this
        server's data dir and store, whichever copies of the files are checked."""
        args = ["audit", "verify", "--data-dir", self.data_dir]
        for option in ("--audit-dir", "--storage", "--master-key-file"):
            value = self.option(option)
            if value is not None:
                args += [option, value]
        return self.cli(*args, *(files if files is not None else self.audit_files()))

    # ---- replicas, signals, the store check ------------------------------------------------

    # What a replica copies from the first server's data dir before it starts: the dev CA and
    # certificate, the token-signing key, the managed-identity header and the admin token, so
    # either server accepts what the other issued and clients trust both.
    REPLICA_FILES = ("ca.pem", "ca.key", "server.pem", "server.key", "token-signing-key.pem",
                     "identity-header", "admin.token")

    def start_replica_of(self, other, attempts=5):
        """Start this server as a replica of `other` (which must be running): the same dev CA,
        token-signing key, identity header and admin token. Both must name the same store and
        master key in extra_args (--storage, --master-key-file)."""
        if not os.path.exists(COFFRE_BIN):
            raise HarnessError("coffre binary not found at %s (set COFFRE_BIN)" % COFFRE_BIN)
        if self.root is None:
            self.root = tempfile.mkdtemp(prefix="coffre-it-")
            self.data_dir = os.path.join(self.root, "data")
            self.log_path = os.path.join(self.root, "server.log")
        last = None
        for attempt in range(attempts):
            shutil.rmtree(self.data_dir, ignore_errors=True)
            os.mkdir(self.data_dir, 0o700)
            for name in self.REPLICA_FILES:
                src = os.path.join(other.data_dir, name)
                if os.path.exists(src):
                    shutil.copy2(src, os.path.join(self.data_dir, name))
            self.port = free_port(exclude=(other.port, other.http_port))
            self.http_port = free_port(exclude=(self.port, other.port, other.http_port))
            try:
                self._launch_and_wait(first=True)
                return self
            except HarnessError as e:
                last = e
                self._kill_quietly()
                if "exited" not in str(e):
                    break
        raise HarnessError("replica did not start: %s\n--- server log ---\n%s" % (
            last, self.log_tail()))

    def option(self, name):
        """The value of an option given in extra_args (e.g. "--storage"), or None."""
        args = self.extra_args
        for i, a in enumerate(args):
            if a == name and i + 1 < len(args):
                return args[i + 1]
            if a.startswith(name + "="):
                return a[len(name) + 1:]
        return None

    def store_check(self, timeout=120):
        """`coffre store check` on this server's store (its --storage and --master-key-file, or
        the SQLite store and master key in the data dir)."""
        args = ["store", "check", "--data-dir", self.data_dir]
        for name in ("--storage", "--master-key-file"):
            value = self.option(name)
            if value is not None:
                args += [name, value]
        return self.cli(*args, timeout=timeout)

    def send_signal(self, sig):
        """Send a signal to the server process without waiting; returns time.monotonic()."""
        if self.proc is None or self.proc.poll() is not None:
            raise HarnessError("server is not running")
        self.proc.send_signal(sig)
        return time.monotonic()

    def wait_exit(self, timeout):
        """Wait up to `timeout` seconds for the process to exit; returns its exit code, or None
        if it is still running."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self._close_log()
        return rc


# --------------------------------------------------------------------------------------------

def _cleanup_all():
    for s in _ALL_SERVERS:
        try:
            s.cleanup()
        except Exception:
            pass


atexit.register(_cleanup_all)


def main():
    """Run the unittest main of the calling module; on failure print the server logs."""
    prog = unittest.main(module="__main__", exit=False, verbosity=2, warnings="ignore")
    result = prog.result
    ok = result.wasSuccessful()
    if result.skipped:
        for test, reason in result.skipped:
            print("SKIPPED %s: %s" % (test, reason), file=sys.stderr)
    for s in list(_ALL_SERVERS):
        try:
            s.cleanup()
        except Exception:
            pass
    if not ok:
        for label, text in _SAVED_LOGS:
            print("\n===== server log (%s, last %d chars) =====\n%s" % (label, len(text), text),
                  file=sys.stderr)
    sys.exit(0 if ok else 1)


class ServerTestCase(unittest.TestCase):
    """One server per test class (setUpClass); subclasses set VAULTS."""

    VAULTS = ()
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = Coffre(vaults=cls.VAULTS, label=cls.__name__)
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.server is not None:
            cls.server.cleanup()

    # assertion helpers
    def assertJsonError(self, r, status, code=None, message=None, message_prefix=None,
                        message_contains=None):
        self.assertEqual(r.status, status, "expected %s, got %r" % (status, r))
        self.assertContentTypeJson(r)
        err = r.error
        self.assertIsNotNone(err, "no {error:{code,message}} body: %r" % r)
        self.assertIsInstance(err.get("code"), str, r)
        self.assertIsInstance(err.get("message"), str, r)
        if code is not None:
            self.assertEqual(err["code"], code, r)
        if message is not None:
            self.assertEqual(err["message"], message, r)
        if message_prefix is not None:
            self.assertTrue(err["message"].startswith(message_prefix),
                            "message %r does not start with %r" % (err["message"], message_prefix))
        if message_contains is not None:
            self.assertIn(message_contains, err["message"])
        return err

    def assertContentTypeJson(self, r):
        ct = (r.header("Content-Type") or "").replace(" ", "").lower()
        self.assertEqual(ct, JSON_CT.replace(" ", ""), "Content-Type %r on %r" % (
            r.header("Content-Type"), r))

    def assertOk(self, r, status=200):
        self.assertEqual(r.status, status, r)
        if status != 204:
            self.assertContentTypeJson(r)
        return r.json() if status != 204 else None


def key_not_found_message(name):
    return ("A key with (name/id) %s was not found in this key vault. If you recently deleted this "
            "key you may be able to recover it using the correct recovery command. For help resolving "
            "this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182" % name)


def conflict_message(name):
    return ("Key %s is currently in a deleted but recoverable state, and its name cannot be reused; "
            "in this state, the key can only be recovered or purged." % name)
