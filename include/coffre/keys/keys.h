// Everything of the keys client library: KeyClient, CryptographyClient and their models.
#pragma once

#include "coffre/core/exception.h"
#include "coffre/keys/cryptography/cryptography_client.h"
#include "coffre/keys/cryptography/cryptography_client_models.h"
#include "coffre/keys/key_client.h"
#include "coffre/keys/key_client_models.h"
#include "coffre/keys/key_client_options.h"
