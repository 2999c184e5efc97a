"""The Key Vault keys quickstart, pointed at Coffre.

The shape of Microsoft's Python quickstart for keys (ask for a name, create an RSA key, read it
back, delete it), with one change: the vault URL comes from $COFFRE_VAULT_URL, which a Coffre
server's dev.env sets (https://dev.localhost:8443 by default). Against Azure, leave it unset and
the URL is https://$KEY_VAULT_NAME.vault.azure.net.

    . ./coffre-data/dev.env
    /usr/bin/python3 examples/python/kv_keys.py

Credentials come from DefaultAzureCredential: dev.env's managed identity, or AZURE_TENANT_ID /
AZURE_CLIENT_ID / AZURE_CLIENT_SECRET / AZURE_AUTHORITY_HOST as `coffre principal create` prints.
"""

import os

from azure.identity import DefaultAzureCredential
from azure.keyvault.keys import KeyClient

vault_name = os.environ["KEY_VAULT_NAME"]
vault_url = os.environ.get("COFFRE_VAULT_URL") or f"https://{vault_name}.vault.azure.net"

client = KeyClient(vault_url=vault_url, credential=DefaultAzureCredential())

key_name = input("Input a name for your key > ")

print(f"Creating a key in {vault_name} called '{key_name}' ...")
client.create_rsa_key(key_name, size=2048)
print(" done.")

print(f"Retrieving your key from {vault_name}.")
key = client.get_key(key_name)
print(f"Key with name '{key.name}' was found.")

print(f"Deleting your key from {vault_name} ...")
client.begin_delete_key(key_name).result()
print(" done.")
