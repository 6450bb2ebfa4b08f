// Placeholder: the Wire module is being built; see its issue.
