// The Key Vault keys quickstart in C++, against Azure Key Vault or a Coffre server.
//
// Same flow and output as Microsoft's Python quickstart (kv_keys.py): ask for a key name, create
// an RSA key, read it back, delete it. The vault is https://$KEY_VAULT_NAME.vault.azure.net unless
// $COFFRE_VAULT_URL names another URL. Credentials come from DefaultAzureCredential (environment,
// then managed identity).
#include <coffre/identity/default_azure_credential.h>
#include <coffre/keys/keys.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

int main() {
  using coffre::keys::CreateRsaKeyOptions;
  using coffre::keys::KeyClient;

  const char* name_env = std::getenv("KEY_VAULT_NAME");
  if (name_env == nullptr || *name_env == '\0') {
    std::cerr << "Set KEY_VAULT_NAME to the name of your key vault." << std::endl;
    return 2;
  }
  const std::string key_vault_name = name_env;
  const char* url_env = std::getenv("COFFRE_VAULT_URL");
  const std::string kv_uri = (url_env != nullptr && *url_env != '\0')
                                 ? std::string(url_env)
                                 : "https://" + key_vault_name + ".vault.azure.net";

  try {
    auto credential = std::make_shared<coffre::identity::DefaultAzureCredential>();
    KeyClient client(kv_uri, credential);

    std::cout << "Input a name for your key > " << std::flush;
    std::string key_name;
    std::getline(std::cin, key_name);

    std::cout << "Creating a key in " << key_vault_name << " called '" << key_name << "' ..."
              << std::endl;
    CreateRsaKeyOptions rsa_key(key_name);
    rsa_key.KeySize = 2048;
    client.CreateRsaKey(rsa_key);
    std::cout << " done." << std::endl;

    std::cout << "Retrieving your key from " << key_vault_name << "." << std::endl;
    auto retrieved_key = client.GetKey(key_name).Value;
    std::cout << "Key with name '" << retrieved_key.Name() << "' was found." << std::endl;

    std::cout << "Deleting your key from " << key_vault_name << " ..." << std::endl;
    auto operation = client.StartDeleteKey(key_name);
    operation.PollUntilDone(std::chrono::seconds(2));
    std::cout << " done." << std::endl;
  } catch (const coffre::core::RequestFailedException& e) {
    std::cerr << "Key Vault request failed: " << e.what() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
