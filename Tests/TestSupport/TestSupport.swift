// Placeholder: the TestSupport module is being built; see its issue.
