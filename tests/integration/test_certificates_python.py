"""The Python SDK's CertificateClient (Debian azure-keyvault-certificates, sync and aio) against
Coffre, on SQLite and on PostgreSQL: create with the default policy (completed at once), the key
and secret views of a certificate, an outside CA's merge, PFX and PEM imports, policy, issuers
(including the private CA) and contacts, delete/recover/purge, backup/restore, a TLS server
started with a downloaded PEM, and hostile inputs answered with clean Key Vault errors."""

import asyncio
import base64
import datetime
import json
import os
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coffre_harness as h  # noqa: E402
import pg_support  # noqa: E402

from azure.core.exceptions import (HttpResponseError, ResourceExistsError,  # noqa: E402
                                   ResourceNotFoundError)
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from cryptography.hazmat.primitives.serialization import pkcs12  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

UTC = datetime.timezone.utc


def utcnow():
    return datetime.datetime.now(UTC)


def make_ca(name="Test CA"):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(utcnow() - datetime.timedelta(minutes=5))
            .not_valid_after(utcnow() + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def issue(ca_key, ca_cert, public_key, subject, dns=()):
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(utcnow() - datetime.timedelta(minutes=5))
               .not_valid_after(utcnow() + datetime.timedelta(days=10)))
    if dns:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def leaf_with_chain(cn="imported"):
    ca_key, ca_cert = make_ca("Import CA")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    return key, issue(ca_key, ca_cert, key.public_key(), subject), ca_cert


def der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


class CertificatesMixin:
    """The tests; a subclass provides cls.server (started), cls.client and cls.secrets."""

    def models(self):
        import azure.keyvault.certificates as m
        return m

    def create_self(self, name, **policy_kwargs):
        m = self.models()
        policy = (m.CertificatePolicy(issuer_name="Self", subject="CN=" + name, **policy_kwargs)
                  if policy_kwargs else m.CertificatePolicy.get_default())
        started = time.monotonic()
        cert = self.client.begin_create_certificate(name, policy=policy).result()
        # Completed in the create's answer: the SDK's poller never waits its 5 s.
        self.assertLess(time.monotonic() - started, 4.0)
        return cert

    # ---- create, get, list -------------------------------------------------------------------

    def test_create_with_default_policy_and_three_views(self):
        cert = self.create_self("web")
        self.assertEqual(cert.name, "web")
        self.assertRegex(cert.properties.version, r"^[0-9a-f]{32}$")
        parsed = x509.load_der_x509_certificate(bytes(cert.cer))
        self.assertEqual(parsed.subject.rfc4514_string(), "CN=DefaultPolicy")
        self.assertEqual(cert.properties.x509_thumbprint,
                         parsed.fingerprint(hashes.SHA1()))
        self.assertEqual(cert.policy.issuer_name, "Self")
        self.assertEqual(cert.policy.key_type, "RSA")
        self.assertEqual(cert.policy.key_size, 2048)
        self.assertEqual(cert.policy.validity_in_months, 12)
        self.assertTrue(cert.policy.exportable)
        self.assertEqual(cert.policy.content_type, "application/x-pkcs12")
        self.assertEqual(cert.key_id, "%s/keys/web/%s" % (self.vault, cert.properties.version))
        self.assertEqual(cert.secret_id,
                         "%s/secrets/web/%s" % (self.vault, cert.properties.version))
        # The secret holds the PFX with the private key; the key is the certificate's.
        secret = self.secrets.get_secret("web", cert.properties.version)
        self.assertTrue(secret.properties.managed)
        self.assertEqual(secret.properties.content_type, "application/x-pkcs12")
        self.assertEqual(secret.properties.key_id, cert.key_id)
        key, leaf, chain = pkcs12.load_key_and_certificates(base64.b64decode(secret.value), None)
        self.assertEqual(der(leaf), bytes(cert.cer))
        self.assertEqual(key.public_key().public_numbers(),
                         parsed.public_key().public_numbers())
        jwk = self.server.api("GET", "/keys/web/" + cert.properties.version)
        self.assertEqual(jwk.status, 200, jwk)
        self.assertEqual(jwk.json()["managed"] if "managed" in jwk.json() else True, True)
        n = int.from_bytes(h.b64url_decode(jwk.json()["key"]["n"]), "big")
        self.assertEqual(n, parsed.public_key().public_numbers().n)
        # The secrets API does not delete what the certificate manages.
        with self.assertRaises(HttpResponseError) as cm:
            self.secrets.begin_delete_secret("web").result()
        self.assertEqual(cm.exception.status_code, 403)

        got = self.client.get_certificate("web")
        self.assertEqual(got.properties.version, cert.properties.version)
        again = self.create_self("web")
        self.assertNotEqual(again.properties.version, cert.properties.version)
        old = self.client.get_certificate_version("web", cert.properties.version)
        self.assertEqual(bytes(old.cer), bytes(cert.cer))
        versions = {p.version for p in self.client.list_properties_of_certificate_versions("web")}
        self.assertEqual(versions, {cert.properties.version, again.properties.version})
        names = [p.name for p in self.client.list_properties_of_certificates()]
        self.assertIn("web", names)
        with self.assertRaises(ResourceNotFoundError):
            self.client.get_certificate("no-such-cert")

    def test_ec_pem_certificate_serves_tls_a_client_verifies(self):
        m = self.models()
        policy = m.CertificatePolicy(
            issuer_name="Self", subject="CN=localhost", san_dns_names=["localhost"],
            key_type="EC", key_curve_name="P-256", content_type="application/x-pem-file",
            validity_in_months=3)
        cert = self.client.begin_create_certificate("tls", policy=policy).result()
        self.assertEqual(cert.policy.key_curve_name, "P-256")
        pem = self.secrets.get_secret("tls").value
        self.assertIn("-----BEGIN PRIVATE KEY-----", pem)
        self.assertIn("-----BEGIN CERTIFICATE-----", pem)
        tmp = tempfile.mkdtemp(prefix="coffre-it-tls-")
        try:
            path = os.path.join(tmp, "server.pem")
            with open(path, "w") as f:
                f.write(pem)
            server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            server_ctx.load_cert_chain(path)
            listener = socket.create_server(("127.0.0.1", 0))
            listener.settimeout(10)
            port = listener.getsockname()[1]

            def serve():
                try:
                    conn, _ = listener.accept()
                    with server_ctx.wrap_socket(conn, server_side=True) as tls:
                        tls.sendall(b"hello over coffre tls")
                except OSError:
                    pass

            thread = threading.Thread(target=serve)
            thread.start()
            client_ctx = ssl.create_default_context(
                cadata=x509.load_der_x509_certificate(bytes(cert.cer)).public_bytes(
                    serialization.Encoding.PEM).decode())
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                with client_ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                    self.assertEqual(tls.recv(100), b"hello over coffre tls")
            thread.join(10)
            listener.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # ---- outside CA: pending operation and merge --------------------------------------------

    def test_unknown_issuer_pending_csr_and_merge(self):
        m = self.models()
        policy = m.CertificatePolicy(issuer_name="Unknown", subject="CN=ext.example",
                                     san_dns_names=["ext.example"])
        self.client.begin_create_certificate("ext", policy=policy)
        op = self.client.get_certificate_operation("ext")
        self.assertEqual(op.status, "inProgress")
        self.assertEqual(op.issuer_name, "Unknown")
        csr = x509.load_der_x509_csr(bytes(op.csr))
        self.assertTrue(csr.is_signature_valid)
        self.assertEqual(csr.subject.rfc4514_string(), "CN=ext.example")
        pending = self.client.get_certificate_operation("ext")
        self.assertEqual(pending.status, "inProgress")
        with self.assertRaises(ResourceNotFoundError):
            self.client.get_certificate("ext")

        ca_key, ca_cert = make_ca()
        # A certificate for another key is refused.
        other = ec.generate_private_key(ec.SECP256R1())
        foreign = issue(ca_key, ca_cert, other.public_key(), csr.subject)
        with self.assertRaises(HttpResponseError) as cm:
            self.client.merge_certificate("ext", [der(foreign)])
        self.assertEqual(cm.exception.status_code, 400)

        leaf = issue(ca_key, ca_cert, csr.public_key(), csr.subject, dns=["ext.example"])
        merged = self.client.merge_certificate("ext", [der(leaf), der(ca_cert)])
        self.assertEqual(bytes(merged.cer), der(leaf))
        self.assertEqual(self.client.get_certificate_operation("ext").status, "completed")
        secret = self.secrets.get_secret("ext")
        key, got_leaf, chain = pkcs12.load_key_and_certificates(
            base64.b64decode(secret.value), None)
        self.assertEqual(der(got_leaf), der(leaf))
        self.assertEqual([der(c) for c in chain], [der(ca_cert)])
        self.assertEqual(key.public_key().public_numbers(),
                         csr.public_key().public_numbers())

        # Cancel and delete of a pending operation.
        self.client.begin_create_certificate("ext2", policy=policy)
        cancelled = self.client.cancel_certificate_operation("ext2")
        self.assertTrue(cancelled.cancellation_requested)
        deleted = self.client.delete_certificate_operation("ext2")
        self.assertEqual(deleted.name, "ext2")
        with self.assertRaises(ResourceNotFoundError):
            self.client.get_certificate_operation("ext2")

    # ---- import --------------------------------------------------------------------------------

    def test_import_pfx_with_and_without_password_and_chain(self):
        key, leaf, ca = leaf_with_chain()
        for name, password in (("pfx-pw", "s3cret!"), ("pfx-nopw", None)):
            enc = (serialization.BestAvailableEncryption(password.encode()) if password
                   else serialization.NoEncryption())
            pfx = pkcs12.serialize_key_and_certificates(b"x", key, leaf, [ca], enc)
            cert = self.client.import_certificate(name, pfx, password=password)
            self.assertEqual(bytes(cert.cer), der(leaf))
            self.assertEqual(cert.policy.issuer_name, "Unknown")
            secret = self.secrets.get_secret(name)
            # The password is not kept: the stored PFX opens without one, chain and key intact.
            got_key, got_leaf, chain = pkcs12.load_key_and_certificates(
                base64.b64decode(secret.value), None)
            self.assertEqual(der(got_leaf), der(leaf))
            self.assertEqual([der(c) for c in chain], [der(ca)])
            self.assertEqual(got_key.private_numbers(), key.private_numbers())
        pfx = pkcs12.serialize_key_and_certificates(
            b"x", key, leaf, None, serialization.BestAvailableEncryption(b"right"))
        with self.assertRaises(HttpResponseError) as cm:
            self.client.import_certificate("pfx-bad", pfx, password="wrong")
        self.assertEqual(cm.exception.status_code, 400)

    def test_import_pem_with_key_and_chain(self):
        m = self.models()
        key, leaf, ca = leaf_with_chain("pem-import")
        pem = (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
               + leaf.public_bytes(serialization.Encoding.PEM)
               + ca.public_bytes(serialization.Encoding.PEM))
        policy = m.CertificatePolicy(issuer_name="Unknown", subject="CN=pem-import",
                                     content_type=m.CertificateContentType.pem)
        cert = self.client.import_certificate("pem-imp", pem, policy=policy)
        self.assertEqual(bytes(cert.cer), der(leaf))
        self.assertEqual(cert.policy.content_type, "application/x-pem-file")
        value = self.secrets.get_secret("pem-imp").value
        self.assertIn("PRIVATE KEY", value)
        self.assertEqual(value.count("BEGIN CERTIFICATE"), 2)
        # A PEM without its key is refused.
        with self.assertRaises(HttpResponseError) as cm:
            self.client.import_certificate("pem-nokey", leaf.public_bytes(serialization.Encoding.PEM),
                                           policy=policy)
        self.assertEqual(cm.exception.status_code, 400)

    # ---- policy, issuers, contacts -----------------------------------------------------------

    def test_policy_update(self):
        m = self.models()
        self.create_self("pol")
        policy = self.client.get_certificate_policy("pol")
        self.assertEqual(policy.subject, "CN=DefaultPolicy")
        updated = self.client.update_certificate_policy(
            "pol", m.CertificatePolicy(issuer_name="Self", subject="CN=changed",
                                       validity_in_months=6, key_size=3072))
        self.assertEqual(updated.subject, "CN=changed")
        self.assertEqual(updated.validity_in_months, 6)
        self.assertEqual(updated.key_size, 3072)
        renewed = self.client.begin_create_certificate(
            "pol", policy=self.client.get_certificate_policy("pol")).result()
        self.assertEqual(x509.load_der_x509_certificate(bytes(renewed.cer)).subject
                         .rfc4514_string(), "CN=changed")
        with self.assertRaises(HttpResponseError) as cm:
            self.client.update_certificate_policy(
                "pol", m.CertificatePolicy(issuer_name="Self", subject="CN=x",
                                           validity_in_months=1200))
        self.assertEqual(cm.exception.status_code, 400)

    def test_issuers_and_contacts(self):
        m = self.models()
        issuer = self.client.create_issuer(
            "digi", "DigiCert", account_id="acct", password="hunter2", organization_id="org",
            admin_contacts=[m.AdministratorContact(first_name="A", last_name="B",
                                                   email="a@b.example", phone="123")])
        self.assertEqual(issuer.name, "digi")
        self.assertEqual(issuer.provider, "DigiCert")
        self.assertEqual(issuer.account_id, "acct")
        self.assertIsNone(issuer.password)
        self.assertEqual(issuer.admin_contacts[0].email, "a@b.example")
        raw = self.server.api("GET", "/certificates/issuers/digi")
        self.assertNotIn("hunter2", json.dumps(raw.json()))
        updated = self.client.update_issuer("digi", account_id="acct2")
        self.assertEqual(updated.account_id, "acct2")
        self.assertEqual(updated.provider, "DigiCert")
        self.assertIn("digi", [i.name for i in self.client.list_properties_of_issuers()])
        # An outside CA's issuance fails cleanly.
        self.client.begin_create_certificate(
            "digi-cert", policy=m.CertificatePolicy(issuer_name="digi", subject="CN=d")).wait(30)
        op = self.client.get_certificate_operation("digi-cert")
        self.assertEqual(op.status, "failed")
        self.assertIn("cannot be reached", op.status_details)
        self.client.delete_issuer("digi")
        with self.assertRaises(ResourceNotFoundError):
            self.client.get_issuer("digi")
        with self.assertRaises(HttpResponseError) as cm:
            self.client.begin_create_certificate(
                "nope", policy=m.CertificatePolicy(issuer_name="digi", subject="CN=d")).result()
        self.assertEqual(cm.exception.status_code, 400)

        contacts = self.client.set_contacts([
            m.CertificateContact(email="ops@example.com", name="Ops", phone="555")])
        self.assertEqual(contacts[0].email, "ops@example.com")
        self.assertEqual(self.client.get_contacts()[0].name, "Ops")
        self.client.delete_contacts()
        with self.assertRaises(ResourceNotFoundError):
            self.client.get_contacts()

    def test_private_ca_issuer(self):
        m = self.models()
        self.client.create_issuer("internal", "Coffre")
        raw = self.server.api("GET", "/certificates/issuers/internal")
        self.assertEqual(raw.status, 200, raw)
        ca = x509.load_der_x509_certificate(base64.b64decode(raw.json()["ca_certificate"]))
        cert = self.client.begin_create_certificate("svc", policy=m.CertificatePolicy(
            issuer_name="internal", subject="CN=svc", san_dns_names=["svc.internal"])).result()
        leaf = x509.load_der_x509_certificate(bytes(cert.cer))
        self.assertEqual(leaf.issuer, ca.subject)
        ca.public_key().verify(leaf.signature, leaf.tbs_certificate_bytes,
                               ec.ECDSA(leaf.signature_hash_algorithm))

    # ---- delete, recover, purge, backup, restore ----------------------------------------------

    def test_delete_recover_purge_cascade(self):
        cert = self.create_self("gone")
        deleted = self.client.begin_delete_certificate("gone").result()
        self.assertEqual(deleted.name, "gone")
        self.assertEqual(deleted.recovery_id, self.vault + "/deletedcertificates/gone")
        self.assertIsNotNone(deleted.scheduled_purge_date)
        with self.assertRaises(ResourceNotFoundError):
            self.client.get_certificate("gone")
        with self.assertRaises(ResourceNotFoundError):
            self.secrets.get_secret("gone")
        self.assertEqual(self.client.get_deleted_certificate("gone").name, "gone")
        self.assertIn("gone", [d.name for d in self.client.list_deleted_certificates()])
        with self.assertRaises(ResourceExistsError):
            self.client.begin_create_certificate(
                "gone", policy=self.models().CertificatePolicy.get_default()).result()
        recovered = self.client.begin_recover_deleted_certificate("gone").result()
        self.assertEqual(recovered.properties.version, cert.properties.version)
        self.assertTrue(self.secrets.get_secret("gone").properties.managed)
        self.client.begin_delete_certificate("gone").result()
        self.client.purge_deleted_certificate("gone")
        with self.assertRaises(ResourceNotFoundError):
            self.client.get_deleted_certificate("gone")
        with self.assertRaises(ResourceNotFoundError):
            self.secrets.get_deleted_secret("gone")

    def test_backup_restore(self):
        cert = self.create_self("bak")
        blob = self.client.backup_certificate("bak")
        with self.assertRaises(ResourceExistsError):
            self.client.restore_certificate_backup(blob)
        self.client.begin_delete_certificate("bak").result()
        self.client.purge_deleted_certificate("bak")
        restored = self.client.restore_certificate_backup(blob)
        self.assertEqual(restored.properties.version, cert.properties.version)
        self.assertEqual(bytes(restored.cer), bytes(cert.cer))
        pfx = base64.b64decode(self.secrets.get_secret("bak").value)
        key, leaf, _ = pkcs12.load_key_and_certificates(pfx, None)
        self.assertEqual(der(leaf), bytes(cert.cer))

    def test_update_properties(self):
        cert = self.create_self("props")
        props = self.client.update_certificate_properties("props", cert.properties.version,
                                                          tags={"a": "b"}, enabled=False)
        self.assertEqual(props.properties.tags, {"a": "b"})
        self.assertFalse(props.properties.enabled)
        # The key and secret follow the certificate's attributes.
        with self.assertRaises(HttpResponseError) as cm:
            self.secrets.get_secret("props", cert.properties.version)
        self.assertEqual(cm.exception.status_code, 403)

    # ---- hostile inputs ---------------------------------------------------------------------------

    def test_hostile_inputs_get_clean_errors(self):
        self.create_self("hostile-ok")
        _, good_leaf, _ = leaf_with_chain("h")
        leaf_pem = good_leaf.public_bytes(serialization.Encoding.PEM).decode()
        other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        mismatched = (other_key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()).decode() + leaf_pem)
        b64 = lambda s: base64.b64encode(s.encode() if isinstance(s, str) else s).decode()  # noqa
        chain_of_11 = "".join([leaf_pem] * 11)
        cases = [
            ("POST", "/certificates/h1/import", b"not json"),
            ("POST", "/certificates/h1/import", []),
            ("POST", "/certificates/h1/import", {}),
            ("POST", "/certificates/h1/import", {"value": 5}),
            ("POST", "/certificates/h1/import", {"value": "!!!not-base64!!!"}),
            ("POST", "/certificates/h1/import", {"value": b64(b"\x30\x03\x02\x01\x03")}),
            ("POST", "/certificates/h1/import", {"value": b64(os.urandom(300))}),
            ("POST", "/certificates/h1/import", {"value": leaf_pem}),
            ("POST", "/certificates/h1/import", {"value": b64(mismatched)}),
            ("POST", "/certificates/h1/import", {"value": b64("-----BEGIN CERTIFICATE-----\n"
                                                              "AAAA\n-----END CERTIFICATE-----\n")}),
            ("POST", "/certificates/h1/import", {"value": b64(chain_of_11)}),
            ("POST", "/certificates/h1/import", {"value": "A" * 300000}),
            ("POST", "/certificates/h1/import", {"value": b64(leaf_pem), "pwd": 7}),
            ("POST", "/certificates/h1/create", {}),
            ("POST", "/certificates/h1/create", {"policy": "x"}),
            ("POST", "/certificates/h1/create", {"policy": {"issuer": {"name": "NoSuch"},
                                                            "x509_props": {"subject": "CN=a"}}}),
            ("POST", "/certificates/h1/create", {"policy": {"x509_props": {
                "subject": "CN=a", "validity_months": 0}}}),
            ("POST", "/certificates/h1/create", {"policy": {"x509_props": {
                "subject": "CN=a", "validity_months": 1200}}}),
            ("POST", "/certificates/h1/create", {"policy": {"key_props": {"kty": "RSA",
                                                                          "key_size": 1024}}}),
            ("POST", "/certificates/h1/create", {"policy": {"key_props": {"kty": "EC",
                                                                          "crv": "P-999"}}}),
            ("POST", "/certificates/h1/create", {"policy": {"key_props": {"kty": "oct"}}}),
            ("POST", "/certificates/h1/create", {"policy": {"secret_props": {
                "contentType": "text/plain"}}}),
            ("POST", "/certificates/h1/create", {"policy": {"x509_props": {
                "subject": "not a dn"}}}),
            ("POST", "/certificates/h1/create", {"policy": {"x509_props": {
                "subject": "CN=a", "key_usage": ["flying"]}}}),
            ("POST", "/certificates/h1/create", {"policy": {"lifetime_actions": [
                {"trigger": {"lifetime_percentage": 150}, "action": {"action_type": "AutoRenew"}}]}}),
            ("POST", "/certificates/bad_name!/create", {"policy": {}}),
            ("POST", "/certificates/hostile-ok/pending/merge", {"x5c": [b64(der(good_leaf))]}),
            ("POST", "/certificates/h1/pending/merge", {"x5c": "nope"}),
            ("POST", "/certificates/h1/pending/merge", {"x5c": []}),
            ("PATCH", "/certificates/hostile-ok/policy", {"x509_props": {"validity_months": -1}}),
            ("PATCH", "/certificates/hostile-ok/policy", {"issuer": {"name": "ghost"}}),
            ("POST", "/certificates/restore", {"value": "AAAA"}),
            ("POST", "/certificates/restore", {"value": 12}),
            ("PUT", "/certificates/issuers/i1", {}),
            ("PUT", "/certificates/issuers/i1", {"provider": "x", "org_details": "y"}),
            ("PUT", "/certificates/contacts", {"contacts": [{"name": "no email"}]}),
            ("PUT", "/certificates/contacts", {"contacts": "x"}),
            ("GET", "/certificates/hostile-ok/zzzz", None),
            ("DELETE", "/certificates/nothing-pending/pending", None),
            ("PUT", "/certificates/hostile-ok", {}),
        ]
        self.assertGreaterEqual(len(cases), 25)
        for method, path, body in cases:
            if isinstance(body, bytes):
                r = self.server.api(method, path, body=body)
            else:
                r = self.server.api(method, path,
                                    body=None if body is None else json.dumps(body).encode())
            self.assertIn(r.status, (400, 404, 405, 409), (method, path, r))
            self.assertIsNotNone(r.error, (method, path, r))
            self.assertIsInstance(r.error.get("code"), str, (method, path, r))
            self.assertIsInstance(r.error.get("message"), str, (method, path, r))
        self.assertTrue(self.server.running())
        self.assertEqual(self.client.get_certificate("hostile-ok").name, "hostile-ok")
        with self.assertRaises(ResourceNotFoundError):
            self.client.get_certificate("h1")

    # ---- aio -------------------------------------------------------------------------------------

    def test_aio_client(self):
        from azure.identity.aio import ManagedIdentityCredential
        from azure.keyvault.certificates.aio import CertificateClient
        m = self.models()

        async def run():
            self.server.apply_env()
            async with ManagedIdentityCredential() as cred, \
                    CertificateClient(self.vault, cred) as client:
                cert = await client.create_certificate("aio-c", m.CertificatePolicy.get_default())
                self.assertEqual(cert.name, "aio-c")
                got = await client.get_certificate("aio-c")
                self.assertEqual(got.properties.version, cert.properties.version)
                names = [p.name async for p in client.list_properties_of_certificates()]
                self.assertIn("aio-c", names)
                policy = await client.get_certificate_policy("aio-c")
                self.assertEqual(policy.issuer_name, "Self")
                blob = await client.backup_certificate("aio-c")
                await client.delete_certificate("aio-c")
                await client.purge_deleted_certificate("aio-c")
                restored = await client.restore_certificate_backup(blob)
                self.assertEqual(restored.name, "aio-c")
                with self.assertRaises(ResourceNotFoundError):
                    await client.get_certificate("aio-missing")

        asyncio.run(run())


def add_clients(cls):
    from azure.identity import ManagedIdentityCredential
    from azure.keyvault.certificates import CertificateClient
    from azure.keyvault.secrets import SecretClient
    cls.server.apply_env()
    cls.vault = cls.server.vault_url()
    cls.client = CertificateClient(cls.vault, ManagedIdentityCredential())
    cls.secrets = SecretClient(cls.vault, ManagedIdentityCredential())


class SqliteCertificatesTest(CertificatesMixin, h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        add_clients(cls)


class PostgresCertificatesTest(CertificatesMixin, h.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = pg_support.PostgresServer().start()
        cls.key_dir = tempfile.mkdtemp(prefix="coffre-it-key-")
        url = cls.pg.create_database()
        cls.server = h.Coffre(label=cls.__name__, extra_args=[
            "--storage", url, "--master-key-file", os.path.join(cls.key_dir, "master.key")])
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            cls.pg.stop()
            raise
        add_clients(cls)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.pg.stop()
        shutil.rmtree(cls.key_dir, ignore_errors=True)


if __name__ == "__main__":
    h.main()
