"""A PostgreSQL server for integration tests.

Reuses tests/support/postgres_test_server.sh (initdb in a temp dir, a free loopback port, trust
authentication for the user "coffre"). If $COFFRE_TEST_PG_URL_FILE names a file holding the URL
of a server that is already running (ctest's "postgres" fixture), that one is used and left
running; otherwise one is started here and stopped by stop() (and at exit).

Every test gets its own database: create_database() returns its URL.
"""

import atexit
import os
import shutil
import subprocess
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("COFFRE_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(SOURCE_DIR, "tests", "support", "postgres_test_server.sh")


class PgError(RuntimeError):
    pass


class PostgresServer:
    def __init__(self):
        self.base_url = None   # postgresql://coffre@127.0.0.1:PORT (no database)
        self._state = None     # our state dir; None when the server is not ours
        self._databases = []

    def start(self):
        shared = os.environ.get("COFFRE_TEST_PG_URL_FILE")
        if shared and os.path.isfile(shared):
            with open(shared) as f:
                self.base_url = f.read().strip()
            if self.base_url:
                return self
        self._state = tempfile.mkdtemp(prefix="coffre-it-pg-")
        atexit.register(self.stop)
        p = subprocess.run(["bash", SCRIPT, "start", self._state], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            self.stop()
            raise PgError("could not start PostgreSQL (%s): %s %s" % (p.returncode, p.stdout,
                                                                      p.stderr))
        with open(os.path.join(self._state, "url")) as f:
            self.base_url = f.read().strip()
        return self

    def stop(self):
        if self._state is None:
            # A shared server: drop what we created, leave it running.
            for name in self._databases:
                try:
                    self.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)
                except Exception:
                    pass
            self._databases = []
            return
        state, self._state = self._state, None
        subprocess.run(["bash", SCRIPT, "stop", state], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=60)
        shutil.rmtree(state, ignore_errors=True)

    def url(self, database):
        return "%s/%s" % (self.base_url, database)

    def psql(self, sql, database="postgres"):
        """Runs SQL with psql; returns the unaligned, tuples-only output."""
        p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-d", self.url(database), "-c", sql],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise PgError("psql failed (%s): %s" % (p.returncode, p.stderr.strip()))
        return p.stdout.strip()

    def create_database(self):
        name = "coffre_it_%d_%s" % (os.getpid(), uuid.uuid4().hex[:8])
        self.psql("CREATE DATABASE %s" % name)
        self._databases.append(name)
        return self.url(name)
