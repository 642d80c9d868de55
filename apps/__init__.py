"""Training apps on needle: the course exercises, the seed demos and the needle-train CLI."""
