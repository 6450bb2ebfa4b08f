// Placeholder: the InboxCore module is being built; see its issue.
