// Placeholder: the InboxService module is being built; see its issue.
