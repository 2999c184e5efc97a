"""The flows of Microsoft's Python Key Vault keys samples (azure-sdk-for-python,
sdk/keyvault/azure-keyvault-keys/samples: hello_world, list_operations, backup_restore_operations,
recover_purge_operations, key_rotation, and the CryptographyClient examples encrypt/decrypt,
wrap/unwrap, sign/verify), reproduced with the Debian SDK (azure-keyvault-keys 4.8.0b3,
azure-identity 1.13.0b2), sync and async (aiohttp), against COFFRE_VAULT_URL with
DefaultAzureCredential, plus checks of what each step returned.

The sleeps of the originals (time.sleep(10) / time.sleep(60)) are left out: Coffre completes
deletes and purges synchronously, and the SDK pollers finish at their first poll."""

import asyncio
import datetime
import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402

from azure.core.exceptions import ResourceNotFoundError  # noqa: E402
from azure.identity import DefaultAzureCredential  # noqa: E402
from azure.keyvault.keys import (KeyClient, KeyRotationLifetimeAction, KeyRotationPolicy,  # noqa: E402
                                 KeyRotationPolicyAction)
from azure.keyvault.keys.crypto import (CryptographyClient, EncryptionAlgorithm, KeyWrapAlgorithm,  # noqa: E402
                                        SignatureAlgorithm)

UTC = datetime.timezone.utc
# the key bytes used by the SDK's wrap/unwrap example
SAMPLE_KEY_BYTES = (b"5063e6aaa845f150200547944fd199679c98ed6f99da0a0b2dafeaf1f4684496fd532c1c229968cb9dee44957fcef"
                    b"7ccef59ceda0b362e56bcd78fd3faee5781c623c0bb22b35beabde0664fd30e0e824aba3dd1b0afffc4a3d955ede"
                    b"20cf6a854d52cfd")
POLLER_BUDGET = 1.9   # seconds a delete/recover poller may take against a synchronous server


def action_name(a):
    return getattr(a, "value", a)


class SamplesPythonTest(h.ServerTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.apply_env()
        assert os.environ.get("IDENTITY_ENDPOINT") and os.environ.get("IDENTITY_HEADER")
        cls.url = os.environ["COFFRE_VAULT_URL"]

    def client(self):
        return KeyClient(vault_url=self.url, credential=DefaultAzureCredential())

    def timed(self, fn, what):
        t0 = time.monotonic()
        out = fn()
        self.assertLess(time.monotonic() - t0, POLLER_BUDGET, "%s took too long (poller slept?)" % what)
        return out

    # ---- sync -----------------------------------------------------------------------------

    def test_hello_world(self):
        self.assertEqual(self.url, self.server.vault_url())
        client = self.client()
        key_ops = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]
        rsa_key = client.create_rsa_key("rsaKeyName", size=2048, key_operations=key_ops)
        self.assertEqual((rsa_key.name, rsa_key.key_type), ("rsaKeyName", "RSA"))
        self.assertEqual(len(rsa_key.key.n), 256)
        ec_key = client.create_ec_key("ECKeyName", curve="P-256")
        self.assertEqual((ec_key.name, ec_key.key_type, ec_key.key.crv), ("ECKeyName", "EC", "P-256"))
        got = client.get_key(rsa_key.name)
        self.assertEqual(got.id, rsa_key.id)
        self.assertEqual(sorted(got.key_operations), sorted(key_ops))
        expires = datetime.datetime.now(UTC) + datetime.timedelta(days=365)
        updated = client.update_key_properties(ec_key.name, ec_key.properties.version, expires_on=expires,
                                               enabled=False)
        self.assertIs(updated.properties.enabled, False)
        self.assertEqual(int(updated.properties.expires_on.timestamp()), int(expires.timestamp()))
        self.assertGreaterEqual(updated.properties.updated_on, ec_key.properties.created_on)
        d1 = client.begin_delete_key(ec_key.name)
        d2 = client.begin_delete_key(rsa_key.name)
        self.assertEqual(d1.result().name, ec_key.name)
        self.assertEqual(d2.result().id, rsa_key.id)
        self.timed(d1.wait, "delete poller")
        self.assertEqual(client.get_deleted_key(ec_key.name).properties.enabled, False)
        with self.assertRaises(ResourceNotFoundError):
            client.get_key(rsa_key.name)

    def test_list_operations(self):
        client = self.client()
        rsa_key = client.create_rsa_key("rsaKeyName-list")
        ec_key = client.create_ec_key("ecKeyName-list")
        self.assertEqual((rsa_key.key_type, ec_key.key_type), ("RSA", "EC"))
        seen = {}
        for key in client.list_properties_of_keys():
            retrieved = client.get_key(key.name)
            seen[retrieved.name] = retrieved.key_type
        self.assertEqual(seen.get("rsaKeyName-list"), "RSA")
        self.assertEqual(seen.get("ecKeyName-list"), "EC")
        new_key = client.create_rsa_key(rsa_key.name, size=3072)
        self.assertEqual(len(new_key.key.n), 384)
        versions = [k.version for k in client.list_properties_of_key_versions(rsa_key.name)]
        self.assertEqual(sorted(versions), sorted([rsa_key.properties.version, new_key.properties.version]))
        for key_name in (ec_key.name, rsa_key.name):
            self.timed(client.begin_delete_key(key_name).wait, "delete poller")
        deleted = {d.name: d for d in client.list_deleted_keys()}
        for key_name in (ec_key.name, rsa_key.name):
            self.assertIn(key_name, deleted)
            self.assertEqual(deleted[key_name].recovery_id, "%s/deletedkeys/%s" % (self.url, key_name))

    def test_backup_restore_operations(self):
        client = self.client()
        key = client.create_key("keyName", "RSA")
        self.assertEqual(key.key_type, "RSA")
        key_backup = client.backup_key(key.name)
        self.assertIsInstance(key_backup, bytes)
        delete_operation = client.begin_delete_key(key.name)
        deleted_key = delete_operation.result()
        self.assertEqual(deleted_key.name, key.name)
        self.timed(delete_operation.wait, "delete poller")
        client.purge_deleted_key(key.name)
        with self.assertRaises(ResourceNotFoundError):
            client.get_deleted_key(key.name)
        restored = client.restore_key_backup(key_backup)
        self.assertEqual(restored.name, key.name)
        self.assertEqual(restored.id, key.id)
        self.assertEqual(restored.key.n, key.key.n)

    def test_recover_purge_operations(self):
        client = self.client()
        rsa_key = client.create_rsa_key("rsaKeyName-rp")
        ec_key = client.create_ec_key("ecKeyName-rp")
        for key_name in (ec_key.name, rsa_key.name):
            self.timed(client.begin_delete_key(key_name).wait, "delete poller")
        recover_key_poller = client.begin_recover_deleted_key(rsa_key.name)
        recovered_key = recover_key_poller.result()
        self.timed(recover_key_poller.wait, "recover poller")
        self.assertEqual(recovered_key.id, rsa_key.id)
        self.assertEqual(client.get_key(rsa_key.name).id, rsa_key.id)
        self.timed(client.begin_delete_key(recovered_key.name).wait, "delete poller")
        for key_name in (ec_key.name, rsa_key.name):
            client.purge_deleted_key(key_name)
        deleted = [d.name for d in client.list_deleted_keys()]
        self.assertNotIn(ec_key.name, deleted)
        self.assertNotIn(rsa_key.name, deleted)

    def test_key_rotation(self):
        client = self.client()
        key_name = "rotation-sample-key"
        key = client.create_rsa_key(key_name)
        actions = [KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P2M")]
        # 4.8.0b3 takes the policy positionally; keyword arguments override its fields
        updated_policy = client.update_key_rotation_policy(key_name, KeyRotationPolicy(), lifetime_actions=actions)
        self.assertEqual(len(updated_policy.lifetime_actions), 1)
        a = updated_policy.lifetime_actions[0]
        self.assertEqual((action_name(a.action).lower(), a.time_after_create), ("rotate", "P2M"))
        current_policy = client.get_key_rotation_policy(key_name)
        a = current_policy.lifetime_actions[0]
        self.assertEqual((action_name(a.action).lower(), a.time_after_create), ("rotate", "P2M"))
        new_actions = [KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P30D")]
        new_policy = client.update_key_rotation_policy(key_name, KeyRotationPolicy(), expires_in="P90D",
                                                       lifetime_actions=new_actions)
        self.assertEqual(len(new_policy.lifetime_actions), 1)
        a = new_policy.lifetime_actions[0]
        self.assertEqual((action_name(a.action).lower(), a.time_before_expiry), ("notify", "P30D"))
        self.assertEqual(new_policy.expires_in, "P90D")
        rotated_key = client.rotate_key(key_name)
        self.assertNotEqual(rotated_key.properties.version, key.properties.version)
        self.assertEqual(rotated_key.key_type, "RSA")
        client.begin_delete_key(key_name)
        with self.assertRaises(ResourceNotFoundError):
            client.get_key(key_name)

    def test_crypto_examples(self):
        client = self.client()
        credential = DefaultAzureCredential()
        # encrypt / decrypt
        client.create_rsa_key("crypto-test-encrypt-key")
        key = client.get_key("crypto-test-encrypt-key")
        for crypto_client in (CryptographyClient(key, credential), CryptographyClient(key.id, credential)):
            result = crypto_client.encrypt(EncryptionAlgorithm.rsa_oaep, b"plaintext")
            self.assertEqual(result.key_id, key.id)
            self.assertEqual(result.algorithm, EncryptionAlgorithm.rsa_oaep)
            result = crypto_client.decrypt(EncryptionAlgorithm.rsa_oaep, result.ciphertext)
            self.assertEqual(result.plaintext, b"plaintext")
        # wrap / unwrap
        key = client.create_rsa_key("crypto-test-wrapping-key")
        crypto_client = CryptographyClient(key, credential)
        result = crypto_client.wrap_key(KeyWrapAlgorithm.rsa_oaep, SAMPLE_KEY_BYTES)
        self.assertEqual(result.key_id, key.id)
        result = crypto_client.unwrap_key(KeyWrapAlgorithm.rsa_oaep, result.encrypted_key)
        self.assertEqual(result.key, SAMPLE_KEY_BYTES)
        # sign / verify
        digest = hashlib.sha256(b"plaintext").digest()
        result = crypto_client.sign(SignatureAlgorithm.rs256, digest)
        self.assertEqual(result.key_id, key.id)
        self.assertEqual(result.algorithm, SignatureAlgorithm.rs256)
        self.assertTrue(crypto_client.verify(SignatureAlgorithm.rs256, digest, result.signature).is_valid)
        self.assertFalse(crypto_client.verify(SignatureAlgorithm.rs256, hashlib.sha256(b"x").digest(),
                                              result.signature).is_valid)
        # EC through KeyClient.get_cryptography_client
        ec_key = client.create_ec_key("crypto-test-ec-key", curve="P-384")
        cc = client.get_cryptography_client(ec_key.name, key_version=ec_key.properties.version)
        digest = hashlib.sha384(b"plaintext").digest()
        sig = cc.sign(SignatureAlgorithm.es384, digest).signature
        self.assertEqual(len(sig), 96)
        self.assertTrue(cc.verify(SignatureAlgorithm.es384, digest, sig).is_valid)

    # ---- async ----------------------------------------------------------------------------

    def run_async(self, coro_fn):
        from azure.identity.aio import DefaultAzureCredential as AioCredential
        from azure.keyvault.keys.aio import KeyClient as AioKeyClient

        async def runner():
            credential = AioCredential()
            async with credential:
                client = AioKeyClient(vault_url=self.url, credential=credential)
                async with client:
                    await asyncio.wait_for(coro_fn(client, credential), 120)
        asyncio.run(runner())

    def test_hello_world_async(self):
        async def flow(client, credential):
            rsa_key = await client.create_rsa_key("rsaKeyName-async", size=2048,
                                                  key_operations=["encrypt", "decrypt", "sign", "verify",
                                                                  "wrapKey", "unwrapKey"])
            self.assertEqual(rsa_key.key_type, "RSA")
            ec_key = await client.create_ec_key("ECKeyName-async", curve="P-256")
            self.assertEqual(ec_key.key.crv, "P-256")
            got = await client.get_key(rsa_key.name)
            self.assertEqual(got.id, rsa_key.id)
            expires = datetime.datetime.now(UTC) + datetime.timedelta(days=365)
            updated = await client.update_key_properties(ec_key.name, ec_key.properties.version,
                                                         expires_on=expires, enabled=False)
            self.assertIs(updated.properties.enabled, False)
            self.assertEqual(int(updated.properties.expires_on.timestamp()), int(expires.timestamp()))
            t0 = time.monotonic()
            deleted = await client.delete_key(ec_key.name)
            await client.delete_key(rsa_key.name)
            self.assertLess(time.monotonic() - t0, 2 * POLLER_BUDGET)
            self.assertEqual(deleted.recovery_id, "%s/deletedkeys/%s" % (self.url, ec_key.name))
            with self.assertRaises(ResourceNotFoundError):
                await client.get_key(rsa_key.name)
        self.run_async(flow)

    def test_list_operations_async(self):
        async def flow(client, credential):
            rsa_key = await client.create_rsa_key("rsaKeyName-alist")
            ec_key = await client.create_ec_key("ecKeyName-alist")
            seen = {}
            async for key in client.list_properties_of_keys():
                retrieved = await client.get_key(key.name)
                seen[retrieved.name] = retrieved.key_type
            self.assertEqual((seen.get(rsa_key.name), seen.get(ec_key.name)), ("RSA", "EC"))
            new_key = await client.create_rsa_key(rsa_key.name, size=3072)
            versions = [k.version async for k in client.list_properties_of_key_versions(rsa_key.name)]
            self.assertEqual(sorted(versions), sorted([rsa_key.properties.version, new_key.properties.version]))
            for key_name in (ec_key.name, rsa_key.name):
                await client.delete_key(key_name)
            deleted = {d.name: d.recovery_id async for d in client.list_deleted_keys()}
            self.assertEqual(deleted.get(rsa_key.name), "%s/deletedkeys/%s" % (self.url, rsa_key.name))
            self.assertIn(ec_key.name, deleted)
        self.run_async(flow)

    def test_backup_restore_operations_async(self):
        async def flow(client, credential):
            key = await client.create_key("keyName-async", "RSA")
            key_backup = await client.backup_key(key.name)
            deleted_key = await client.delete_key(key.name)
            self.assertEqual(deleted_key.name, key.name)
            await client.purge_deleted_key(key.name)
            restored = await client.restore_key_backup(key_backup)
            self.assertEqual(restored.id, key.id)
            self.assertEqual(restored.key.n, key.key.n)
        self.run_async(flow)

    def test_recover_purge_operations_async(self):
        async def flow(client, credential):
            rsa_key = await client.create_rsa_key("rsaKeyName-arp")
            ec_key = await client.create_ec_key("ecKeyName-arp")
            for key_name in (ec_key.name, rsa_key.name):
                await client.delete_key(key_name)
            recovered_key = await client.recover_deleted_key(rsa_key.name)
            self.assertEqual(recovered_key.id, rsa_key.id)
            await client.delete_key(recovered_key.name)
            for key_name in (ec_key.name, rsa_key.name):
                await client.purge_deleted_key(key_name)
            deleted = [d.name async for d in client.list_deleted_keys()]
            self.assertNotIn(rsa_key.name, deleted)
            self.assertNotIn(ec_key.name, deleted)
        self.run_async(flow)

    def test_key_rotation_async(self):
        async def flow(client, credential):
            key_name = "rotation-sample-key-async"
            key = await client.create_rsa_key(key_name)
            actions = [KeyRotationLifetimeAction(KeyRotationPolicyAction.rotate, time_after_create="P2M")]
            p = await client.update_key_rotation_policy(key_name, KeyRotationPolicy(), lifetime_actions=actions)
            self.assertEqual([(action_name(a.action).lower(), a.time_after_create) for a in p.lifetime_actions],
                             [("rotate", "P2M")])
            p = await client.get_key_rotation_policy(key_name)
            self.assertEqual(p.lifetime_actions[0].time_after_create, "P2M")
            new_actions = [KeyRotationLifetimeAction(KeyRotationPolicyAction.notify, time_before_expiry="P30D")]
            p = await client.update_key_rotation_policy(key_name, KeyRotationPolicy(), expires_in="P90D",
                                                        lifetime_actions=new_actions)
            self.assertEqual(p.expires_in, "P90D")
            self.assertEqual(p.lifetime_actions[0].time_before_expiry, "P30D")
            rotated = await client.rotate_key(key_name)
            self.assertNotEqual(rotated.properties.version, key.properties.version)
            await client.delete_key(key_name)
        self.run_async(flow)

    def test_crypto_examples_async(self):
        from azure.keyvault.keys.crypto.aio import CryptographyClient as AioCryptographyClient

        async def flow(client, credential):
            await client.create_rsa_key("crypto-test-encrypt-key-async")
            key = await client.get_key("crypto-test-encrypt-key-async")
            for crypto_client in (AioCryptographyClient(key, credential), AioCryptographyClient(key.id, credential)):
                async with crypto_client:
                    result = await crypto_client.encrypt(EncryptionAlgorithm.rsa_oaep, b"plaintext")
                    result = await crypto_client.decrypt(EncryptionAlgorithm.rsa_oaep, result.ciphertext)
                    self.assertEqual(result.plaintext, b"plaintext")
            key = await client.create_rsa_key("crypto-test-wrapping-key-async")
            async with AioCryptographyClient(key, credential) as crypto_client:
                result = await crypto_client.wrap_key(KeyWrapAlgorithm.rsa_oaep, SAMPLE_KEY_BYTES)
                result = await crypto_client.unwrap_key(KeyWrapAlgorithm.rsa_oaep, result.encrypted_key)
                self.assertEqual(result.key, SAMPLE_KEY_BYTES)
                digest = hashlib.sha256(b"plaintext").digest()
                result = await crypto_client.sign(SignatureAlgorithm.rs256, digest)
                self.assertEqual(result.key_id, key.id)
                verified = await crypto_client.verify(SignatureAlgorithm.rs256, digest, result.signature)
                self.assertTrue(verified.is_valid)
            ec_key = await client.create_ec_key("crypto-test-ec-key-async", curve="P-256")
            async with client.get_cryptography_client(ec_key.name) as cc:
                digest = hashlib.sha256(b"async ec").digest()
                sig = (await cc.sign(SignatureAlgorithm.es256, digest)).signature
                self.assertTrue((await cc.verify(SignatureAlgorithm.es256, digest, sig)).is_valid)
        self.run_async(flow)


if __name__ == "__main__":
    h.main()
