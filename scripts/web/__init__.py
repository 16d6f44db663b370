"""The web edition: what the hosted site adds to the pages MkDocs and Material write."""
