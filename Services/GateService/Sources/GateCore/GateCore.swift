// Placeholder: the GateCore module is being built; see its issue.
