// Placeholder until the auth layer lands.
