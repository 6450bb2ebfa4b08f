// Placeholder: the Catalog module is being built; see its issue.
