"""The upload page and the county office's page (`nianbao web`)."""
