// Placeholder until this suite's issue lands its tests.
