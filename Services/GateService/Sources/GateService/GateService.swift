// Placeholder: the GateService module is being built; see its issue.
