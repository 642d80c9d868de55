"""The course's apps and the seed demos, run from the repository and importing from needle."""
