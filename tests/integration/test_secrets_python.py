"""The Python SDK's SecretClient (Debian azure-keyvault-secrets, sync and aio) against Coffre, on
SQLite and on PostgreSQL: every operation of the secrets API, the error cases Key Vault answers,
and the raw wire details the SDKs depend on."""

import asyncio
import datetime
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402
import pg_support  # noqa: E402

from azure.core.exceptions import (HttpResponseError, ResourceExistsError,  # noqa: E402
                                   ResourceNotFoundError)

UTC = datetime.timezone.utc
NINETY_DAYS = 90 * 86400
CONFLICT_TEXT = ("Secret %s is currently in a deleted but recoverable state, and its name cannot "
                 "be reused; in this state, the secret can only be recovered or purged.")


def utcnow():
    return datetime.datetime.now(UTC)


class SecretsMixin:
    """The tests; a subclass provides cls.server (started) and cls.client."""

    def sid_re(self, name):
        return r"^%s/secrets/%s/[0-9a-f]{32}$" % (re.escape(self.vault), re.escape(name))

    def delete(self, name):
        return self.client.begin_delete_secret(name).result()

    # ---- set / get / versions -------------------------------------------------------------

    def test_set_get_every_put_is_a_new_version(self):
        first = self.client.set_secret("pw-a", "one", content_type="text/plain",
                                       tags={"env": "test"})
        self.assertEqual(first.value, "one")
        self.assertEqual(first.name, "pw-a")
        self.assertRegex(first.id, self.sid_re("pw-a"))
        self.assertEqual(first.properties.content_type, "text/plain")
        self.assertEqual(first.properties.tags, {"env": "test"})
        self.assertIs(first.properties.enabled, True)
        self.assertEqual(first.properties.recovery_level, "Recoverable+Purgeable")
        self.assertEqual(first.properties.recoverable_days, 90)
        self.assertLess(abs((first.properties.created_on - utcnow()).total_seconds()), 120)
        self.assertIsNone(first.properties.managed)
        second = self.client.set_secret("pw-a", "two")
        self.assertNotEqual(first.properties.version, second.properties.version)
        self.assertRegex(second.properties.version, r"^[0-9a-f]{32}$")

        latest = self.client.get_secret("pw-a")
        self.assertEqual(latest.value, "two")
        self.assertEqual(latest.properties.version, second.properties.version)
        old = self.client.get_secret("pw-a", first.properties.version)
        self.assertEqual(old.value, "one")
        self.assertEqual(old.properties.content_type, "text/plain")
        # Names are case-insensitive.
        self.assertEqual(self.client.get_secret("PW-A").value, "two")

        versions = list(self.client.list_properties_of_secret_versions("pw-a"))
        self.assertEqual(sorted(v.version for v in versions),
                         sorted([first.properties.version, second.properties.version]))

    def test_unicode_and_empty_values_round_trip(self):
        value = "päss\u00e9 \u2603 \U0001F510 \"quoted\" \\ \n\t\x01"
        self.client.set_secret("unicode", value)
        self.assertEqual(self.client.get_secret("unicode").value, value)
        self.client.set_secret("empty", "")
        self.assertEqual(self.client.get_secret("empty").value, "")

    def test_max_value_and_content_type_limits(self):
        big = "x" * 25600
        self.assertEqual(self.client.set_secret("big", big).value, big)
        self.assertEqual(self.client.get_secret("big").value, big)
        with self.assertRaises(HttpResponseError) as cm:
            self.client.set_secret("too-big", "x" * 25601)
        self.assertEqual(cm.exception.status_code, 400)
        self.assertEqual(cm.exception.error.code, "BadParameter")
        with self.assertRaises(HttpResponseError) as cm:
            self.client.set_secret("ct", "v", content_type="c" * 256)
        self.assertEqual(cm.exception.status_code, 400)
        self.assertEqual(self.client.set_secret("ct", "v", content_type="c" * 255)
                         .properties.content_type, "c" * 255)

    def test_update_properties_never_changes_the_value(self):
        s = self.client.set_secret("upd", "keep-me")
        exp = utcnow().replace(microsecond=0) + datetime.timedelta(days=30)
        props = self.client.update_secret_properties(
            "upd", s.properties.version, content_type="application/json", tags={"a": "b"},
            expires_on=exp, enabled=True)
        self.assertEqual(props.content_type, "application/json")
        self.assertEqual(props.tags, {"a": "b"})
        self.assertEqual(props.expires_on, exp)
        self.assertEqual(props.version, s.properties.version)
        got = self.client.get_secret("upd")
        self.assertEqual(got.value, "keep-me")
        self.assertEqual(got.properties.content_type, "application/json")
        # Version-less update addresses the latest.
        props = self.client.update_secret_properties("upd", tags={"c": "d"})
        self.assertEqual(props.tags, {"c": "d"})

    def test_disabled_is_forbidden_and_expired_still_reads(self):
        past = utcnow() - datetime.timedelta(days=1)
        self.client.set_secret("expired", "still", expires_on=past)
        self.assertEqual(self.client.get_secret("expired").value, "still")
        self.client.set_secret("future", "soon",
                               not_before=utcnow() + datetime.timedelta(days=1))
        self.assertEqual(self.client.get_secret("future").value, "soon")

        self.client.set_secret("off", "hidden", enabled=False)
        with self.assertRaises(HttpResponseError) as cm:
            self.client.get_secret("off")
        self.assertEqual(cm.exception.status_code, 403)
        self.assertEqual(cm.exception.error.code, "Forbidden")
        self.assertEqual(cm.exception.error.message,
                         "Operation get is not allowed on a disabled secret.")
        r = self.server.api("GET", "/secrets/off")
        self.assertEqual(r.error["innererror"]["code"], "SecretDisabled")
        self.assertNotIn("hidden", r.body.decode())
        # Re-enable and read again.
        self.client.update_secret_properties("off", enabled=True)
        self.assertEqual(self.client.get_secret("off").value, "hidden")

    def test_not_found(self):
        with self.assertRaises(ResourceNotFoundError) as cm:
            self.client.get_secret("never-set")
        self.assertEqual(cm.exception.error.code, "SecretNotFound")
        self.assertTrue(cm.exception.error.message.startswith(
            "A secret with (name/id) never-set was not found in this key vault."))
        with self.assertRaises(ResourceNotFoundError):
            self.client.get_secret("never-set", "0" * 32)
        with self.assertRaises(ResourceNotFoundError):
            self.client.get_deleted_secret("never-set")
        with self.assertRaises(ResourceNotFoundError):
            self.client.begin_recover_deleted_secret("never-set").result()
        with self.assertRaises(ResourceNotFoundError):
            self.client.purge_deleted_secret("never-set")
        with self.assertRaises(ResourceNotFoundError):
            self.client.begin_delete_secret("never-set").result()

    # ---- lists ----------------------------------------------------------------------------

    def test_lists_page_and_never_carry_values(self):
        names = ["list-%02d" % i for i in range(30)]
        for n in names:
            self.client.set_secret(n, "value-of-" + n)
        listed = [p.name for p in self.client.list_properties_of_secrets()
                  if p.name.startswith("list-")]
        self.assertEqual(sorted(listed), names)
        for n in range(3):
            self.client.set_secret("list-00", "more-%d" % n)
        versions = list(self.client.list_properties_of_secret_versions("list-00"))
        self.assertEqual(len(versions), 4)

        # Raw pages: at most maxresults items, a nextLink that continues, no value anywhere.
        r = self.server.api("GET", "/secrets", query="maxresults=7")
        self.assertEqual(r.status, 200, r)
        page = r.json()
        self.assertEqual(len(page["value"]), 7)
        self.assertIn("$skiptoken=", page["nextLink"])
        for item in page["value"]:
            self.assertNotIn("value", item)
            self.assertRegex(item["id"], r"/secrets/[0-9A-Za-z-]+$")
            self.assertIn("attributes", item)
        seen = [i["id"] for i in page["value"]]
        while page["nextLink"]:
            r = self.server.follow(page["nextLink"])
            self.assertEqual(r.status, 200, r)
            page = r.json()
            self.assertLessEqual(len(page["value"]), 7)
            seen += [i["id"] for i in page["value"]]
        self.assertEqual(len(seen), len(set(seen)))
        self.assertNotIn(b"value-of-", r.body)
        r = self.server.api("GET", "/secrets/list-00/versions", query="maxresults=2")
        self.assertEqual(len(r.json()["value"]), 2)
        for item in r.json()["value"]:
            self.assertRegex(item["id"], self.sid_re("list-00"))
            self.assertNotIn("value", item)
        for bad in ("0", "26", "abc", "-1"):
            r = self.server.api("GET", "/secrets", query="maxresults=" + bad)
            self.assertJsonError(r, 400, "BadParameter")

    # ---- soft delete, recover, purge ------------------------------------------------------

    def test_delete_recover_purge_and_the_409(self):
        s = self.client.set_secret("del-me", "v1", tags={"t": "1"})
        deleted = self.delete("del-me")
        self.assertEqual(deleted.name, "del-me")
        self.assertEqual(deleted.recovery_id, self.vault + "/deletedsecrets/del-me")
        self.assertIsNotNone(deleted.deleted_date)
        self.assertAlmostEqual((deleted.scheduled_purge_date - deleted.deleted_date)
                               .total_seconds(), NINETY_DAYS, delta=2)
        self.assertEqual(deleted.properties.version, s.properties.version)

        with self.assertRaises(ResourceNotFoundError):
            self.client.get_secret("del-me")
        with self.assertRaises(ResourceExistsError) as cm:
            self.client.set_secret("del-me", "v2")
        self.assertEqual(cm.exception.status_code, 409)
        self.assertEqual(cm.exception.error.message, CONFLICT_TEXT % "del-me")

        got = self.client.get_deleted_secret("del-me")
        self.assertEqual(got.recovery_id, deleted.recovery_id)
        names = [d.name for d in self.client.list_deleted_secrets()]
        self.assertIn("del-me", names)
        r = self.server.api("GET", "/deletedsecrets/del-me")
        self.assertNotIn("value", r.json())

        recovered = self.client.begin_recover_deleted_secret("del-me").result()
        self.assertEqual(recovered.name, "del-me")
        self.assertEqual(self.client.get_secret("del-me").value, "v1")

        self.delete("del-me")
        self.assertIsNone(self.client.purge_deleted_secret("del-me"))
        with self.assertRaises(ResourceNotFoundError):
            self.client.get_deleted_secret("del-me")
        self.assertEqual(self.client.set_secret("del-me", "fresh").value, "fresh")

    def test_purge_protected_vault_refuses_purge(self):
        client = self.server.secret_client("locked")
        client.set_secret("kept", "v")
        client.begin_delete_secret("kept").result()
        with self.assertRaises(HttpResponseError) as cm:
            client.purge_deleted_secret("kept")
        self.assertEqual(cm.exception.status_code, 400)
        r = self.server.api("DELETE", "/deletedsecrets/kept", host=self.server.vault_host("locked"))
        err = self.assertJsonError(r, 400)
        self.assertEqual(err["innererror"]["code"], "NotSupported")
        self.assertIsNotNone(client.get_deleted_secret("kept"))

    # ---- backup / restore -----------------------------------------------------------------

    def test_backup_restore_and_its_errors(self):
        self.client.set_secret("bk", "first")
        self.client.set_secret("bk", "second", content_type="text/plain")
        blob = self.client.backup_secret("bk")
        self.assertIsInstance(blob, bytes)
        self.assertNotIn(b"first", blob)
        with self.assertRaises(ResourceExistsError) as cm:
            self.client.restore_secret_backup(blob)
        self.assertEqual(cm.exception.status_code, 409)

        other = self.server.secret_client("other")
        restored = other.restore_secret_backup(blob)
        self.assertEqual(restored.name, "bk")
        self.assertEqual(other.get_secret("bk").value, "second")
        self.assertEqual(len(list(other.list_properties_of_secret_versions("bk"))), 2)

        tampered = bytearray(blob)
        tampered[len(tampered) // 2] ^= 1
        with self.assertRaises(HttpResponseError) as cm:
            other.restore_secret_backup(bytes(tampered))
        self.assertEqual(cm.exception.status_code, 400)
        with self.assertRaises(HttpResponseError) as cm:
            other.restore_secret_backup(b"not a backup at all")
        self.assertEqual(cm.exception.status_code, 400)
        with self.assertRaises(ResourceNotFoundError):
            self.client.backup_secret("no-such-secret")

    # ---- wire -----------------------------------------------------------------------------

    def test_raw_bundle_shape(self):
        r = self.server.api("PUT", "/secrets/raw-shape",
                            body=json.dumps({"value": "v", "contentType": "ct",
                                             "attributes": {"enabled": True},
                                             "tags": {"k": "v"}}).encode(),
                            headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r)
        b = r.json()
        self.assertEqual(set(b), {"value", "contentType", "id", "attributes", "tags"})
        self.assertEqual(set(b["attributes"]),
                         {"enabled", "created", "updated", "recoveryLevel", "recoverableDays"})
        r = self.server.api("PATCH", "/secrets/raw-shape/",
                            body=json.dumps({"value": "ignored", "contentType": "x"}).encode(),
                            headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("value", r.json())
        self.assertEqual(self.client.get_secret("raw-shape").value, "v")
        r = self.server.api("DELETE", "/secrets/raw-shape")
        d = r.json()
        self.assertEqual(set(d) - {"tags"}, {"recoveryId", "deletedDate", "scheduledPurgeDate",
                                             "id", "attributes", "contentType"})

    def test_every_api_version_is_served(self):
        self.client.set_secret("versions-ok", "v")
        for version in ("7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01"):
            r = self.server.api("GET", "/secrets/versions-ok", api_version=version)
            self.assertEqual(r.status, 200, (version, r))
            self.assertEqual(r.json()["value"], "v")
        r = self.server.api("GET", "/secrets/versions-ok", api_version="1999-01-01")
        self.assertJsonError(r, 400, "BadParameter")

    # ---- aio ------------------------------------------------------------------------------

    def test_aio_client_every_operation(self):
        from azure.identity.aio import ManagedIdentityCredential
        from azure.keyvault.secrets.aio import SecretClient

        async def run():
            self.server.apply_env()
            async with ManagedIdentityCredential() as cred, \
                    SecretClient(self.vault, cred) as client:
                s = await client.set_secret("aio-one", "a1", content_type="text/plain")
                self.assertEqual(s.value, "a1")
                await client.set_secret("aio-one", "a2")
                self.assertEqual((await client.get_secret("aio-one")).value, "a2")
                self.assertEqual((await client.get_secret("aio-one", s.properties.version)).value,
                                 "a1")
                props = await client.update_secret_properties("aio-one", tags={"x": "y"})
                self.assertEqual(props.tags, {"x": "y"})
                names = [p.name async for p in client.list_properties_of_secrets()]
                self.assertIn("aio-one", names)
                versions = [p async for p in client.list_properties_of_secret_versions("aio-one")]
                self.assertEqual(len(versions), 2)
                blob = await client.backup_secret("aio-one")
                deleted = await client.delete_secret("aio-one")
                self.assertEqual(deleted.name, "aio-one")
                with self.assertRaises(ResourceExistsError):
                    await client.set_secret("aio-one", "again")
                self.assertEqual((await client.get_deleted_secret("aio-one")).name, "aio-one")
                dnames = [d.name async for d in client.list_deleted_secrets()]
                self.assertIn("aio-one", dnames)
                recovered = await client.recover_deleted_secret("aio-one")
                self.assertEqual(recovered.name, "aio-one")
                await client.delete_secret("aio-one")
                await client.purge_deleted_secret("aio-one")
                restored = await client.restore_secret_backup(blob)
                self.assertEqual(restored.name, "aio-one")
                self.assertEqual((await client.get_secret("aio-one")).value, "a2")
                with self.assertRaises(ResourceNotFoundError):
                    await client.get_secret("aio-missing")

        asyncio.run(run())


def add_secret_client(server):
    def secret_client(vault="dev", **kwargs):
        from azure.identity import ManagedIdentityCredential
        from azure.keyvault.secrets import SecretClient
        server.apply_env()
        return SecretClient(server.vault_url(vault), ManagedIdentityCredential(), **kwargs)
    server.secret_client = secret_client


class SqliteSecretsTest(SecretsMixin, h.ServerTestCase):
    VAULTS = ("other",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        add_secret_client(cls.server)
        cls.server.create_vault("locked", enablePurgeProtection=True)
        cls.client = cls.server.secret_client()
        cls.vault = cls.server.vault_url()


class PostgresSecretsTest(SecretsMixin, h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = pg_support.PostgresServer().start()
        cls.key_dir = tempfile.mkdtemp(prefix="coffre-it-key-")
        url = cls.pg.create_database()
        cls.server = h.Coffre(vaults=("other",), label=cls.__name__, extra_args=[
            "--storage", url, "--master-key-file", os.path.join(cls.key_dir, "master.key")])
        try:
            cls.server.start()
            add_secret_client(cls.server)
            cls.server.create_vault("locked", enablePurgeProtection=True)
        except Exception:
            cls.server.cleanup()
            cls.pg.stop()
            raise
        cls.client = cls.server.secret_client()
        cls.vault = cls.server.vault_url()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.pg.stop()
        shutil.rmtree(cls.key_dir, ignore_errors=True)


if __name__ == "__main__":
    h.main()
