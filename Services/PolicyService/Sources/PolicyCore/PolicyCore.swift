// Placeholder: the PolicyCore module is being built; see its issue.
