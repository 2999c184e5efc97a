// Per-credential header, named like the Azure SDK's, for code that includes one credential.
#pragma once

#include "coffre/identity/identity.h"
