// The Key Vault secrets quickstart in C++, against Azure Key Vault or a Coffre server.
//
// Same flow and output as Microsoft's Python secrets quickstart (kv_secrets.py): ask for a secret
// name and value, set the secret, read it back, delete it. The vault is
// https://$KEY_VAULT_NAME.vault.azure.net unless $COFFRE_VAULT_URL names another URL. Credentials
// come from DefaultAzureCredential (environment, then managed identity).
#include <coffre/identity/default_azure_credential.h>
#include <coffre/secrets/secrets.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

int main() {
  using coffre::secrets::SecretClient;

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
    SecretClient client(kv_uri, credential);

    std::cout << "Input a name for your secret > " << std::flush;
    std::string secret_name;
    std::getline(std::cin, secret_name);
    std::cout << "Input a value for your secret > " << std::flush;
    std::string secret_value;
    std::getline(std::cin, secret_value);

    std::cout << "Creating a secret in " << key_vault_name << " called '" << secret_name
              << "' with the value '" << secret_value << "' ..." << std::endl;
    client.SetSecret(secret_name, secret_value);
    std::cout << " done." << std::endl;

    std::cout << "Retrieving your secret from " << key_vault_name << "." << std::endl;
    auto retrieved_secret = client.GetSecret(secret_name).Value;
    std::cout << "Your secret is '" << retrieved_secret.Value.ValueOr(std::string()) << "'."
              << std::endl;

    std::cout << "Deleting your secret from " << key_vault_name << " ..." << std::endl;
    auto operation = client.StartDeleteSecret(secret_name);
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
