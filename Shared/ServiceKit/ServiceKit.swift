// Placeholder: the ServiceKit module is being built; see its issue.
