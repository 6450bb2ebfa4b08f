// Placeholder: the Storage module is being built; see its issue.
