// Placeholder: the PolicyService module is being built; see its issue.
