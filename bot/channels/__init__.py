"""Channel adapters: one package per messenger, each the only importer of its library."""
