// Everything of the secrets client library: SecretClient and its models.
#pragma once

#include "coffre/core/exception.h"
#include "coffre/secrets/secret_client.h"
#include "coffre/secrets/secret_client_models.h"
#include "coffre/secrets/secret_client_options.h"
