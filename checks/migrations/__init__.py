"""Migration safety reviewers (level L5, rule ids `L5.migration-*`)."""
