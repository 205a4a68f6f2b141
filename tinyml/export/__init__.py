"""Export: bytes → C, ops → resolver, values → rendered files, files → a sketch folder."""
